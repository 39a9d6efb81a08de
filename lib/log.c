/*
 * The log: sections and levels as upstream gwlbtun has them, a timestamped
 * line on stderr written with a single write(2), and a lock-free rate limit
 * for anything a packet can trigger.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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

void
log_init(const char *ident)
{
	log_ident = ident;
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
static void log_emit(enum log_section, enum log_level, const char *, va_list,
    const char *) __attribute__((format(printf, 3, 0)));

static void
log_emit(enum log_section s, enum log_level l, const char *fmt, va_list ap,
    const char *suffix)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident, (int)getpid(),
	    log_level_str(l), log_section_str(s));
	if (n < 0)
		return;
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
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_vmsg(enum log_section s, enum log_level l, const char *fmt, va_list ap)
{
	int saved = errno;

	if (log_enabled(s, l))
		log_emit(s, l, fmt, ap, NULL);
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
log_warn(const char *fmt, ...)
{
	int saved = errno;
	char ebuf[128];
	va_list ap;

	if (!log_enabled(LOG_CORE, LOG_IMPORTANT))
		return;
	snprintf(ebuf, sizeof(ebuf), "%s", strerror(saved));
	va_start(ap, fmt);
	log_emit(LOG_CORE, LOG_IMPORTANT, fmt, ap, ebuf);
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
	log_emit(LOG_CORE, LOG_CRITICAL, fmt, ap, ebuf);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CORE, LOG_CRITICAL, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
log_rl(struct log_rl *rl, enum log_section s, enum log_level l,
    const char *fmt, ...)
{
	struct timespec ts;
	uint64_t now, win;
	uint32_t supp;
	va_list ap;
	int saved;

	if (!log_enabled(s, l))
		return;
	saved = errno;	/* the write in log_emit can change it */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec;
	win = __atomic_load_n(&rl->window, __ATOMIC_RELAXED);
	if (now - win >= rl->interval_s &&
	    __atomic_compare_exchange_n(&rl->window, &win, now, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		__atomic_store_n(&rl->count, 0, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&rl->count, 1, __ATOMIC_RELAXED) >= rl->burst) {
		__atomic_fetch_add(&rl->suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	supp = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	if (supp) {
		char sbuf[64];

		snprintf(sbuf, sizeof(sbuf), "(%u similar messages suppressed)", supp);
		log_emit(s, l, fmt, ap, sbuf);
	} else {
		log_emit(s, l, fmt, ap, NULL);
	}
	va_end(ap);
	errno = saved;
}
