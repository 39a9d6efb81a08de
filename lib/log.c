/*
 * The log: sections and levels as upstream gwlbtun has them, a line written
 * with a single write(2) (timestamped on a terminal or file; "<N>" syslog
 * priority first when stderr is the journal) or sent to syslog(3), and a
 * lock-free rate limit for anything a packet can trigger.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log_syslog.h"

_Atomic enum log_level log_levels[LOG_SECTION__MAX] = {
	[LOG_CORE] = LOG_INFO,
	[LOG_UDP] = LOG_INFO,
	[LOG_GENEVE] = LOG_INFO,
	[LOG_TUNNEL] = LOG_INFO,
	[LOG_HEALTH] = LOG_INFO,
	[LOG_HOOK] = LOG_INFO,
	[LOG_NETLINK] = LOG_INFO,
	[LOG_CONTROL] = LOG_INFO,
};

static const char *const section_names[] = {
	[LOG_CORE] = "core",
	[LOG_UDP] = "udp",
	[LOG_GENEVE] = "geneve",
	[LOG_TUNNEL] = "tunnel",
	[LOG_HEALTH] = "healthcheck",
	[LOG_HOOK] = "hook",
	[LOG_NETLINK] = "netlink",
	[LOG_CONTROL] = "control",
};
_Static_assert(sizeof(section_names) / sizeof(section_names[0]) == LOG_SECTION__MAX,
    "section names");

static const char *const level_names[] = {
	[LOG_CRITICAL] = "critical",
	[LOG_IMPORTANT] = "important",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
	[LOG_DEBUGDETAIL] = "debugdetail",
};
_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == LOG_LEVEL__MAX,
    "level names");

static const char *log_ident = "gwlbtun";
static enum log_target target = LOG_TO_STDERR;

/* Syslog priorities (syslog.h's, which log.h's names keep us from including). */
enum { PRIO_CRIT = 2, PRIO_WARNING = 4, PRIO_NOTICE = 5, PRIO_INFO = 6, PRIO_DEBUG = 7 };

static const int level_prio[] = {
	[LOG_CRITICAL] = PRIO_CRIT,
	[LOG_IMPORTANT] = PRIO_WARNING,
	[LOG_INFO] = PRIO_INFO,
	[LOG_DEBUG] = PRIO_DEBUG,
	[LOG_DEBUGDETAIL] = PRIO_DEBUG,
};
_Static_assert(sizeof(level_prio) / sizeof(level_prio[0]) == LOG_LEVEL__MAX,
    "level priorities");

int
log_level_priority(enum log_level l)
{
	return (unsigned)l < LOG_LEVEL__MAX ? level_prio[l] : PRIO_DEBUG;
}

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected: stderr's? */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!js || sscanf(js, "%llu:%llu%n", &dev, &ino, &n) != 2 || js[n] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident)
{
	log_ident = ident;
	target = stderr_is_journal() ? LOG_TO_JOURNAL : LOG_TO_STDERR;
}

void
log_use_syslog(void)
{
	log_syslog_open(log_ident);
	target = LOG_TO_SYSLOG;
}

enum log_target
log_target_get(void)
{
	return target;
}

const char *
log_section_str(enum log_section s)
{
	return (unsigned)s < LOG_SECTION__MAX ? section_names[s] : "?";
}

const char *
log_level_str(enum log_level l)
{
	return (unsigned)l < LOG_LEVEL__MAX ? level_names[l] : "?";
}

int
log_section_parse(const char *s, enum log_section *out)
{
	if (strcasecmp(s, "all") == 0) {
		*out = LOG_SECTION__MAX;
		return 0;
	}
	for (int i = 0; i < LOG_SECTION__MAX; i++) {
		if (strcasecmp(s, section_names[i]) == 0) {
			*out = (enum log_section)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < LOG_LEVEL__MAX; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
log_config_parse(const char *spec, enum log_level levels[LOG_SECTION__MAX],
    char *err, size_t errlen)
{
	char buf[512], *next, *item;
	enum log_level tmp[LOG_SECTION__MAX];

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "logging configuration too long");
		return -EINVAL;
	}
	memcpy(tmp, levels, sizeof(tmp));
	strcpy(buf, spec);
	if (buf[0] == '\0') {
		snprintf(err, errlen, "empty logging configuration");
		return -EINVAL;
	}
	/*
	 * strsep, not strtok: strtok skips empty items, so "," or "core=info,"
	 * would pass as a valid configuration that sets nothing.
	 */
	for (next = buf; (item = strsep(&next, ",")) != NULL; ) {
		char *eq = strchr(item, '=');
		enum log_section sec;
		enum log_level lvl;

		if (*item == '\0') {
			snprintf(err, errlen, "'%s': empty item in logging "
			    "configuration", spec);
			return -EINVAL;
		}
		if (!eq) {
			snprintf(err, errlen, "'%s': expected SECTION=LEVEL", item);
			return -EINVAL;
		}
		*eq = '\0';
		if (log_section_parse(item, &sec) < 0) {
			snprintf(err, errlen, "unknown log section '%s' (core, udp, geneve, "
			    "tunnel, healthcheck, hook, netlink, control, all)", item);
			return -EINVAL;
		}
		if (log_level_parse(eq + 1, &lvl) < 0) {
			snprintf(err, errlen, "unknown log level '%s' (critical, important, "
			    "info, debug, debugdetail)", eq + 1);
			return -EINVAL;
		}
		if (sec == LOG_SECTION__MAX) {
			for (int i = 0; i < LOG_SECTION__MAX; i++)
				tmp[i] = lvl;
		} else {
			tmp[sec] = lvl;
		}
	}
	memcpy(levels, tmp, sizeof(tmp));
	return 0;
}

void
log_level_set(enum log_section s, enum log_level l)
{
	atomic_store_explicit(&log_levels[s], l, memory_order_relaxed);
}

void
log_levels_read(enum log_level out[LOG_SECTION__MAX])
{
	for (int i = 0; i < LOG_SECTION__MAX; i++)
		out[i] = log_level_get((enum log_section)i);
}

void
log_levels_write(const enum log_level in[LOG_SECTION__MAX])
{
	for (int i = 0; i < LOG_SECTION__MAX; i++)
		log_level_set((enum log_section)i, in[i]);
}

void
log_set_all(enum log_level lvl)
{
	for (int i = 0; i < LOG_SECTION__MAX; i++)
		log_level_set((enum log_section)i, lvl);
}

/* The attribute keeps clang's -Wformat-nonliteral quiet and checks callers. */
static void log_emit(enum log_section, enum log_level, int, const char *, va_list,
    const char *) __attribute__((format(printf, 4, 0)));

/* prio < 0: the level's own. */
static void
log_emit(enum log_section s, enum log_level l, int prio, const char *fmt, va_list ap,
    const char *suffix)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n, m, hdr;

	if (prio < 0)
		prio = log_level_priority(l);
	switch (target) {
	case LOG_TO_JOURNAL:
		n = snprintf(line, sizeof(line), "<%d>%s %s: ", prio, log_level_str(l),
		    log_section_str(s));
		break;
	case LOG_TO_SYSLOG:
		n = snprintf(line, sizeof(line), "%s %s: ", log_level_str(l),
		    log_section_str(s));
		break;
	default:
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s %s: ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident, (int)getpid(),
		    log_level_str(l), log_section_str(s));
		break;
	}
	if (n < 0)
		return;
	hdr = n;
	if ((size_t)n < sizeof(line)) {
		m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		if (m > 0)
			n += m;
	}
	if (suffix && (size_t)n < sizeof(line)) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", suffix);
		if (m > 0)
			n += m;
	}
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	/* One line: a newline in a message would start a journal entry
	 * without its priority. */
	for (int i = hdr; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (target == LOG_TO_SYSLOG) {
		line[n] = '\0';
		log_syslog_write(prio, line);
		return;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_vmsg(enum log_section s, enum log_level l, const char *fmt, va_list ap)
{
	int saved = errno;

	if (log_enabled(s, l))
		log_emit(s, l, -1, fmt, ap, NULL);
	errno = saved;
}

void
log_msg(enum log_section s, enum log_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(s, l, fmt, ap);
	va_end(ap);
}

void
log_notice(enum log_section s, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!log_enabled(s, LOG_IMPORTANT))
		return;
	va_start(ap, fmt);
	log_emit(s, LOG_IMPORTANT, PRIO_NOTICE, fmt, ap, NULL);
	va_end(ap);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	char ebuf[128];
	va_list ap;

	if (!log_enabled(LOG_CORE, LOG_IMPORTANT))
		return;
	snprintf(ebuf, sizeof(ebuf), "%s", strerror(saved));
	va_start(ap, fmt);
	log_emit(LOG_CORE, LOG_IMPORTANT, -1, fmt, ap, ebuf);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CORE, LOG_IMPORTANT, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CORE, LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CORE, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	char ebuf[128];
	va_list ap;

	snprintf(ebuf, sizeof(ebuf), "%s", strerror(saved));
	va_start(ap, fmt);
	log_emit(LOG_CORE, LOG_CRITICAL, -1, fmt, ap, ebuf);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CORE, LOG_CRITICAL, -1, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/*
 * May a rate-limited message go out now?  *supp: how many were held back
 * since the last one that went (reported with this one).
 */
static bool
rl_pass(struct log_rl *rl, uint32_t *supp)
{
	struct timespec ts;
	uint64_t now, win;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec;
	win = __atomic_load_n(&rl->window, __ATOMIC_RELAXED);
	if (now - win >= rl->interval_s &&
	    __atomic_compare_exchange_n(&rl->window, &win, now, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		__atomic_store_n(&rl->count, 0, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&rl->count, 1, __ATOMIC_RELAXED) >= rl->burst) {
		__atomic_fetch_add(&rl->suppressed, 1, __ATOMIC_RELAXED);
		return false;
	}
	*supp = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
	return true;
}

void
log_rl(struct log_rl *rl, enum log_section s, enum log_level l,
    const char *fmt, ...)
{
	uint32_t supp;
	va_list ap;
	int saved;

	if (!log_enabled(s, l))
		return;
	saved = errno;	/* the write in log_emit can change it */
	if (!rl_pass(rl, &supp))
		return;
	va_start(ap, fmt);
	if (supp) {
		char sbuf[64];

		snprintf(sbuf, sizeof(sbuf), "(%u similar messages suppressed)", supp);
		log_emit(s, l, -1, fmt, ap, sbuf);
	} else {
		log_emit(s, l, -1, fmt, ap, NULL);
	}
	va_end(ap);
	errno = saved;
}

/* Through log_emit, which wants a va_list. */
static void log_line(enum log_section, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_line(enum log_section s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(s, LOG_DEBUGDETAIL, -1, fmt, ap, NULL);
	va_end(ap);
}

void
log_hexdump(struct log_rl *rl, enum log_section s, const char *title,
    const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t show = len < LOG_HEXDUMP_MAX ? len : LOG_HEXDUMP_MAX;
	uint32_t supp;
	int saved;

	if (!log_enabled(s, LOG_DEBUGDETAIL))
		return;
	saved = errno;
	if (!rl_pass(rl, &supp))
		return;
	if (supp)
		log_line(s, "%s: %zu bytes (%u similar dumps suppressed)", title, len, supp);
	else
		log_line(s, "%s: %zu bytes", title, len);
	for (size_t off = 0; off < show; off += 32) {
		char hex[32 * 3 + 1], asc[33];
		size_t k, n = show - off < 32 ? show - off : 32;

		for (k = 0; k < n; k++) {
			snprintf(hex + 3 * k, 4, " %02x", p[off + k]);
			asc[k] = isprint(p[off + k]) ? (char)p[off + k] : '.';
		}
		hex[3 * n] = '\0';
		asc[n] = '\0';
		log_line(s, "%s %04zx:%-96s | %s", title, off, hex, asc);
	}
	if (show < len)
		log_line(s, "%s: %zu more bytes not shown", title, len - show);
	errno = saved;
}
