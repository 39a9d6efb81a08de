/*
 * Logging with upstream gwlbtun's sections and levels, so "--logging
 * udp=debug,core=info" carries over.  One line per message, written with
 * one write(2) so threads never interleave.  errno is preserved.
 */
#ifndef GWLB_LOG_H
#define GWLB_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_section {
	LOG_CORE = 0,
	LOG_UDP,
	LOG_GENEVE,
	LOG_TUNNEL,
	LOG_HEALTH,
	LOG_HOOK,
	LOG_NETLINK,
	LOG_CONTROL,
	LOG_SECTION__MAX
};

enum log_level {
	LOG_CRITICAL = 0,
	LOG_IMPORTANT,
	LOG_INFO,
	LOG_DEBUG,
	LOG_DEBUGDETAIL,
	LOG_LEVEL__MAX
};

/*
 * The level of each section in force.  gwlbctl log (control thread),
 * --logging on SIGHUP (manager) and every thread's log_enabled() use them at
 * once, so each is atomic; relaxed, since a level orders nothing else.
 * Use the accessors below, not the array.
 */
extern _Atomic enum log_level log_levels[LOG_SECTION__MAX];

static inline enum log_level
log_level_get(enum log_section s)
{
	return atomic_load_explicit(&log_levels[s], memory_order_relaxed);
}

void log_level_set(enum log_section s, enum log_level l);
/* Every section's level, read into out or set from in. */
void log_levels_read(enum log_level out[LOG_SECTION__MAX]);
void log_levels_write(const enum log_level in[LOG_SECTION__MAX]);

/*
 * Where lines go.  log_init() picks the journal when stderr is it
 * (JOURNAL_STREAM names stderr's device and inode, as sd-daemon(3) says):
 * each line then starts with its syslog priority, "<4>", and carries no
 * timestamp, ident or pid, which journald adds.  Otherwise stderr gets
 * today's timestamped lines.  log_use_syslog() sends them through
 * syslog(3) (facility daemon) instead.
 */
enum log_target {
	LOG_TO_STDERR = 0,
	LOG_TO_JOURNAL,
	LOG_TO_SYSLOG,
};

void log_init(const char *ident);
void log_use_syslog(void);
enum log_target log_target_get(void);
/*
 * The syslog priority of a level: critical 2 (crit), important 4
 * (warning), info 6, debug and debugdetail 7.  log_notice() lines are
 * important ones with priority 5 (notice): events, not trouble.
 */
int log_level_priority(enum log_level l);
const char *log_section_str(enum log_section s);
const char *log_level_str(enum log_level l);
int log_section_parse(const char *s, enum log_section *out);	/* "all" -> LOG_SECTION__MAX */
int log_level_parse(const char *s, enum log_level *out);
/* "core=info,udp=debug,all=important"; -EINVAL with a reason in err. */
int log_config_parse(const char *spec, enum log_level levels[LOG_SECTION__MAX],
    char *err, size_t errlen);
void log_set_all(enum log_level lvl);

static inline bool
log_enabled(enum log_section s, enum log_level l)
{
	return l <= log_level_get(s);
}

void log_msg(enum log_section s, enum log_level l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_section s, enum log_level l, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define log_at(sec, lvl, ...) do {					\
	if (log_enabled((sec), (lvl)))					\
		log_msg((sec), (lvl), __VA_ARGS__);			\
} while (0)

/* An event an operator alerts on (an ENI's links created or removed): shown
 * at level important, with syslog priority notice. */
void log_notice(enum log_section s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Convenience forms for the core section, as in OpenBSD's log.h. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Rate limit for messages that an attacker or a packet storm could repeat:
 * at most `burst` per `interval_s` seconds; the suppressed count is reported
 * with the next message that gets through.  Thread-safe, lock-free.
 */
struct log_rl {
	uint64_t	window;		/* start of the current window, seconds */
	uint32_t	count;
	uint32_t	suppressed;
	uint32_t	interval_s;
	uint32_t	burst;
};
#define LOG_RL_INIT(interval, n) { 0, 0, 0, (interval), (n) }

void log_rl(struct log_rl *rl, enum log_section s, enum log_level l,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * debugdetail's packet dumps, as upstream's: "TITLE 0000: 45 00 ... | E..."
 * lines of 32 bytes, at most LOG_HEXDUMP_MAX bytes of a packet, one dump
 * per packet rate-limited by rl (a dump counts once).  Call it only when
 * log_enabled(s, LOG_DEBUGDETAIL): the packet paths test that first.
 */
#define LOG_HEXDUMP_MAX	256
void log_hexdump(struct log_rl *rl, enum log_section s, const char *title,
    const void *buf, size_t len);

#endif
