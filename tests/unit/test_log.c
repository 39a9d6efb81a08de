/*
 * Unit tests for the log (lib/log.c): upstream's --logging syntax, level
 * filtering, the line format's promises (one line, one write), errno kept
 * across every call, and the rate limit.  Output is captured by pointing
 * fd 2 at a temporary file for the duration of a test step; the cmocka
 * assertions run only after fd 2 is restored, so failures stay visible.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define NVEC(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- stderr capture ----------------------------------------------------- */

struct capture {
	FILE	*f;
	int	saved;
};

static void
cap_start(struct capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	assert_non_null(c->f);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), STDERR_FILENO) >= 0);
}

/* Restore fd 2 and return what was written (malloc'd, NUL-terminated). */
static char *
cap_end(struct capture *c)
{
	struct stat st;
	char *s;
	ssize_t n;

	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	assert_int_equal(fstat(fileno(c->f), &st), 0);
	s = malloc((size_t)st.st_size + 1);
	assert_non_null(s);
	n = pread(fileno(c->f), s, (size_t)st.st_size, 0);
	assert_int_equal(n, st.st_size);
	s[n] = '\0';
	fclose(c->f);
	return s;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int
setup(void **state)
{
	(void)state;
	log_set_all(LOG_INFO);
	return 0;
}

/* ---- configuration ------------------------------------------------------ */

static void
set_all(enum log_level *lv, enum log_level l)
{
	for (int i = 0; i < LOG_SECTION__MAX; i++)
		lv[i] = l;
}

static void
test_config_good(void **state)
{
	enum log_level lv[LOG_SECTION__MAX], want[LOG_SECTION__MAX];
	char err[256];

	(void)state;

	set_all(lv, LOG_INFO);
	set_all(want, LOG_INFO);
	want[LOG_CORE] = LOG_INFO;
	want[LOG_UDP] = LOG_DEBUG;
	assert_int_equal(log_config_parse("core=info,udp=debug", lv, err,
	    sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));

	set_all(lv, LOG_INFO);
	set_all(want, LOG_DEBUG);
	assert_int_equal(log_config_parse("all=debug", lv, err, sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));

	set_all(lv, LOG_INFO);
	assert_int_equal(log_config_parse("ALL=DEBUG", lv, err, sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));

	set_all(lv, LOG_INFO);
	set_all(want, LOG_INFO);
	want[LOG_CORE] = LOG_DEBUGDETAIL;
	want[LOG_UDP] = LOG_CRITICAL;
	assert_int_equal(log_config_parse("Core=DebugDetail,UDP=Critical", lv,
	    err, sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));

	/* Items apply left to right. */
	set_all(lv, LOG_INFO);
	set_all(want, LOG_CRITICAL);
	want[LOG_GENEVE] = LOG_DEBUG;
	assert_int_equal(log_config_parse("all=critical,geneve=debug", lv, err,
	    sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));
	set_all(lv, LOG_INFO);
	set_all(want, LOG_CRITICAL);
	assert_int_equal(log_config_parse("geneve=debug,all=critical", lv, err,
	    sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));
	set_all(lv, LOG_INFO);
	set_all(want, LOG_INFO);
	want[LOG_CORE] = LOG_CRITICAL;
	assert_int_equal(log_config_parse("core=debug,core=critical", lv, err,
	    sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));

	/* Every upstream section and level by name. */
	set_all(lv, LOG_INFO);
	set_all(want, LOG_INFO);
	want[LOG_CORE] = LOG_CRITICAL;
	want[LOG_UDP] = LOG_IMPORTANT;
	want[LOG_GENEVE] = LOG_INFO;
	want[LOG_TUNNEL] = LOG_DEBUG;
	want[LOG_HEALTH] = LOG_DEBUGDETAIL;
	want[LOG_HOOK] = LOG_DEBUG;
	want[LOG_NETLINK] = LOG_IMPORTANT;
	want[LOG_CONTROL] = LOG_CRITICAL;
	assert_int_equal(log_config_parse("core=critical,udp=important,"
	    "geneve=info,tunnel=debug,healthcheck=debugdetail,hook=debug,"
	    "netlink=important,control=critical", lv, err, sizeof(err)), 0);
	assert_memory_equal(lv, want, sizeof(lv));
}

static void
test_config_bad(void **state)
{
	static char toolong[700];
	static const struct {
		const char	*spec;
		const char	*want;	/* the message names this */
	} bad[] = {
		{ "bogus=info", "bogus" },
		{ "core=loud", "loud" },
		{ "core", "core" },
		{ "core:info", "core:info" },
		{ "=info", "section" },
		{ "core=", "level" },
		{ "", "empty" },
		{ ",", "empty" },
		{ "core=info,", "empty" },
		{ ",core=info", "empty" },
		{ "core=info,,udp=debug", "empty" },
		{ "core=debug,bogus=debug", "bogus" },
		{ "udp=debug,core=verbose", "verbose" },
		{ "core=info=debug", "info=debug" },
		{ "core =info", "core " },
		{ "all", "all" },
		{ "healthchecks=info", "healthchecks" },
		{ "core=debug2", "debug2" },
		{ toolong, "long" },
	};
	enum log_level lv[LOG_SECTION__MAX], before[LOG_SECTION__MAX];

	(void)state;
	memset(toolong, 'a', sizeof(toolong) - 1);
	memcpy(toolong, "all=debug,", 10);
	for (size_t i = 0; i < NVEC(bad); i++) {
		char err[256] = "";
		int r;

		for (int s = 0; s < LOG_SECTION__MAX; s++)
			before[s] = lv[s] = (enum log_level)(s % LOG_LEVEL__MAX);
		r = log_config_parse(bad[i].spec, lv, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, bad[i].want))
			print_error("'%.40s' gave %d \"%s\"\n", bad[i].spec, r,
			    err);
		assert_int_equal(r, -EINVAL);
		assert_non_null(strstr(err, bad[i].want));
		assert_null(strchr(err, '\n'));
		/* Nothing applied, not even the good items before the bad one. */
		assert_memory_equal(lv, before, sizeof(lv));
	}
}

static void
test_names(void **state)
{
	static const char *const sections[] = {
		"core", "udp", "geneve", "tunnel", "healthcheck",
	};
	static const char *const levels[] = {
		"critical", "important", "info", "debug", "debugdetail",
	};
	enum log_section sec;
	enum log_level lvl;

	(void)state;
	for (int i = 0; i < LOG_SECTION__MAX; i++) {
		const char *n = log_section_str((enum log_section)i);

		assert_int_equal(log_section_parse(n, &sec), 0);
		assert_int_equal(sec, i);
	}
	for (size_t i = 0; i < NVEC(sections); i++) {
		assert_int_equal(log_section_parse(sections[i], &sec), 0);
		assert_string_equal(log_section_str(sec), sections[i]);
	}
	for (int i = 0; i < LOG_LEVEL__MAX; i++) {
		assert_int_equal(log_level_parse(levels[i], &lvl), 0);
		assert_int_equal(lvl, i);
		assert_string_equal(log_level_str(lvl), levels[i]);
	}
	assert_int_equal(log_section_parse("all", &sec), 0);
	assert_int_equal(sec, LOG_SECTION__MAX);
	assert_int_equal(log_section_parse("All", &sec), 0);
	assert_int_equal(log_section_parse("", &sec), -EINVAL);
	assert_int_equal(log_section_parse("cor", &sec), -EINVAL);
	assert_int_equal(log_level_parse("", &lvl), -EINVAL);
	assert_int_equal(log_level_parse("warn", &lvl), -EINVAL);
	assert_int_equal(log_level_parse("DEBUG", &lvl), 0);
	assert_int_equal(lvl, LOG_DEBUG);
	assert_string_equal(log_section_str(LOG_SECTION__MAX), "?");
	assert_string_equal(log_level_str(LOG_LEVEL__MAX), "?");
}

/* ---- output ------------------------------------------------------------- */

static void
test_filter_and_format(void **state)
{
	struct capture c;
	char *out, *nl;

	(void)state;
	log_init("testlog");
	log_set_all(LOG_INFO);
	assert_true(log_enabled(LOG_UDP, LOG_CRITICAL));
	assert_true(log_enabled(LOG_UDP, LOG_INFO));
	assert_false(log_enabled(LOG_UDP, LOG_DEBUG));

	cap_start(&c);
	log_msg(LOG_UDP, LOG_INFO, "hello %d", 42);
	log_msg(LOG_UDP, LOG_DEBUG, "hidden %d", 1);
	log_at(LOG_GENEVE, LOG_DEBUG, "hidden %d", 2);
	log_debug("hidden %d", 3);
	log_at(LOG_GENEVE, LOG_IMPORTANT, "shown %s", "x");
	log_info("%s", "%n%s%x");	/* packet text is data, not a format */
	out = cap_end(&c);

	assert_int_equal(count_lines(out), 3);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(strstr(out, "hidden"));
	nl = strchr(out, '\n');
	*nl = '\0';
	assert_non_null(strstr(out, "hello 42"));
	assert_non_null(strstr(out, "udp"));
	assert_non_null(strstr(out, "info"));
	assert_non_null(strstr(out, "testlog["));
	assert_non_null(strstr(nl + 1, "shown x"));
	assert_non_null(strstr(nl + 1, "geneve"));
	assert_non_null(strstr(nl + 1, "important"));
	assert_non_null(strstr(nl + 1, "%n%s%x"));
	free(out);

	/* Raising one section leaves the others alone. */
	log_level_set(LOG_TUNNEL, LOG_DEBUGDETAIL);
	cap_start(&c);
	log_msg(LOG_TUNNEL, LOG_DEBUGDETAIL, "detail");
	log_msg(LOG_UDP, LOG_DEBUG, "hidden");
	out = cap_end(&c);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "detail"));
	free(out);
}

static void
test_warn_strerror(void **state)
{
	struct capture c;
	char *out, want[256];

	(void)state;
	snprintf(want, sizeof(want), "open /nonexistent: %s", strerror(ENOENT));
	cap_start(&c);
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	log_warnx("no strerror %d", 7);
	out = cap_end(&c);
	assert_int_equal(count_lines(out), 2);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "no strerror 7\n"));
	free(out);
}

/* A message longer than the line buffer is cut, still one line. */
static void
test_long_line(void **state)
{
	static char big[6000];
	struct capture c;
	char *out;

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	cap_start(&c);
	log_info("%s", big);
	errno = EIO;
	log_warn("%s", big);
	out = cap_end(&c);
	assert_int_equal(count_lines(out), 2);
	assert_true(strlen(out) <= 2 * 2048);
	assert_true(strlen(out) > 2 * 1000);
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
}

/*
 * errno is the same after every call, including when the write fails:
 * fd 2 is a pipe nobody reads, so write(2) returns EPIPE.
 */
static void
test_errno(void **state)
{
	struct log_rl rl = LOG_RL_INIT(3600, 1);
	struct sigaction sa, old;
	int p[2], saved;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	/* Check that the write does fail, or this test tests nothing. */
	errno = 0;
	assert_int_equal(write(p[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(p[1], STDERR_FILENO) >= 0);
	log_set_all(LOG_DEBUG);

#define KEEPS(call) do {						\
	errno = EHOSTUNREACH;						\
	call;								\
	if (errno != EHOSTUNREACH) {					\
		int e_ = errno;						\
		dup2(saved, STDERR_FILENO);				\
		print_error("%s changed errno to %d\n", #call, e_);	\
		fail();							\
	}								\
} while (0)

	KEEPS(log_msg(LOG_CORE, LOG_INFO, "m"));
	KEEPS(log_msg(LOG_CORE, LOG_DEBUGDETAIL, "m"));	/* filtered */
	KEEPS(log_at(LOG_UDP, LOG_DEBUG, "m"));
	KEEPS(log_warn("m"));
	KEEPS(log_warnx("m"));
	KEEPS(log_info("m"));
	KEEPS(log_debug("m"));
	KEEPS(log_rl(&rl, LOG_UDP, LOG_INFO, "m"));	/* gets through */
	KEEPS(log_rl(&rl, LOG_UDP, LOG_INFO, "m"));	/* suppressed */
	rl.window -= rl.interval_s;
	KEEPS(log_rl(&rl, LOG_UDP, LOG_INFO, "m"));	/* with the count */
	log_set_all(LOG_CRITICAL);
	KEEPS(log_warn("m"));				/* filtered */
	KEEPS(log_rl(&rl, LOG_UDP, LOG_INFO, "m"));	/* filtered */
#undef KEEPS

	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
}

/* ---- rate limit --------------------------------------------------------- */

static void
test_rl(void **state)
{
	struct log_rl rl = LOG_RL_INIT(3600, 3);
	struct capture c;
	char *out, *second;

	(void)state;
	cap_start(&c);
	for (int i = 0; i < 10; i++)
		log_rl(&rl, LOG_UDP, LOG_INFO, "drop %d", i);
	log_rl(&rl, LOG_UDP, LOG_DEBUG, "filtered");
	out = cap_end(&c);
	assert_int_equal(count_lines(out), 3);
	assert_non_null(strstr(out, "drop 0"));
	assert_non_null(strstr(out, "drop 1"));
	assert_non_null(strstr(out, "drop 2"));
	assert_null(strstr(out, "drop 3"));
	assert_null(strstr(out, "suppressed"));
	free(out);

	/* A window later: the next message reports the 7 held back. */
	rl.window -= rl.interval_s;
	cap_start(&c);
	for (int i = 0; i < 5; i++)
		log_rl(&rl, LOG_UDP, LOG_INFO, "later %d", i);
	out = cap_end(&c);
	assert_int_equal(count_lines(out), 3);
	second = strchr(out, '\n') + 1;
	assert_non_null(strstr(out, "later 0"));
	assert_true(strstr(out, "7 similar messages suppressed") != NULL &&
	    strstr(out, "7 similar messages suppressed") < second);
	assert_null(strstr(second, "suppressed"));
	assert_non_null(strstr(out, "later 2"));
	assert_null(strstr(out, "later 3"));
	free(out);
}

struct rl_arg {
	struct log_rl	*rl;
	int		n;
};

static void *
rl_thread(void *a)
{
	struct rl_arg *arg = a;

	for (int i = 0; i < arg->n; i++)
		log_rl(arg->rl, LOG_UDP, LOG_INFO, "storm %d", i);
	return NULL;
}

/* Four threads in a storm: a handful of lines, not thousands. */
static void
test_rl_threads(void **state)
{
	struct log_rl rl = LOG_RL_INIT(3600, 5);
	struct rl_arg arg = { &rl, 20000 };
	pthread_t t[4];
	struct capture c;
	char *out;
	int lines, reported;

	(void)state;
	cap_start(&c);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, rl_thread, &arg), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	out = cap_end(&c);
	lines = count_lines(out);
	/* The window's first moment may let one extra line per thread in. */
	assert_true(lines >= 5 && lines <= 5 + 4);
	/* Every call is either a line or counted, and no count is lost. */
	reported = 0;
	for (const char *q = out; (q = strstr(q, "storm ")) != NULL; q++) {
		const char *r = strchr(q, '(');

		if (r && r < strchr(q, '\n'))
			reported += atoi(r + 1);
	}
	assert_int_equal(lines + reported + (int)rl.suppressed, 4 * 20000);
	free(out);
}

/* ---- fatal -------------------------------------------------------------- */

static void
run_fatal(int use_errno, const char *want)
{
	struct capture c;
	char *out;
	pid_t pid;
	int st;

	cap_start(&c);
	fflush(NULL);	/* or the child's exit() prints cmocka's output again */
	pid = fork();
	if (pid == 0) {
		errno = EACCES;
		if (use_errno)
			fatal("cannot %s", "go on");
		else
			fatalx("cannot %s", "go on");
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	out = cap_end(&c);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "critical"));
	free(out);
}

static void
test_fatal(void **state)
{
	char want[256];

	(void)state;
	snprintf(want, sizeof(want), "cannot go on: %s\n", strerror(EACCES));
	run_fatal(1, want);
	run_fatal(0, "cannot go on\n");
	/* fatal is never filtered */
	log_set_all(LOG_CRITICAL);
	run_fatal(0, "cannot go on\n");
}

/*
 * gwlbctl log and SIGHUP change levels while every thread asks
 * log_enabled(): under ThreadSanitizer (tests/run's TSan pass) a plain
 * array here is a reported race.  The reader sees only levels that were set.
 */
static void *
level_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		log_level_set(LOG_TUNNEL, i & 1 ? LOG_DEBUG : LOG_CRITICAL);
		log_set_all(i & 1 ? LOG_INFO : LOG_IMPORTANT);
	}
	return NULL;
}

static void
test_levels_threads(void **state)
{
	enum log_level lv[LOG_SECTION__MAX];
	pthread_t t;
	unsigned on = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, level_writer, NULL), 0);
	for (int i = 0; i < 20000; i++) {
		enum log_level l = log_level_get(LOG_TUNNEL);

		assert_true(l == LOG_INFO || l == LOG_IMPORTANT || l == LOG_DEBUG ||
		    l == LOG_CRITICAL);
		on += log_enabled(LOG_UDP, LOG_INFO);
	}
	pthread_join(t, NULL);
	(void)on;
	log_levels_read(lv);
	for (int i = 0; i < LOG_SECTION__MAX; i++)
		assert_int_equal(lv[i], LOG_INFO);	/* the last set_all */
	lv[LOG_HOOK] = LOG_DEBUGDETAIL;
	log_levels_write(lv);
	assert_int_equal(log_level_get(LOG_HOOK), LOG_DEBUGDETAIL);
	assert_true(log_enabled(LOG_HOOK, LOG_DEBUGDETAIL));
	assert_false(log_enabled(LOG_CORE, LOG_DEBUG));
}


/* ---- journal, priorities, dumps ------------------------------------------ */

/* Lines of out, as an array (out is cut in place). */
static int
split_lines(char *out, char **lines, int max)
{
	int n = 0;

	for (char *p = out, *nl; n < max && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		lines[n++] = p;
	}
	return n;
}

/* JOURNAL_STREAM naming fd 2's device and inode: "<N>" first, no time, no pid. */
static void
test_journal_prefix(void **state)
{
	struct capture c;
	struct stat st;
	char js[64], *out, *l[16];

	(void)state;
	log_set_all(LOG_DEBUG);
	cap_start(&c);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("testlog");
	log_msg(LOG_CORE, LOG_CRITICAL, "crit %d", 1);
	log_msg(LOG_NETLINK, LOG_IMPORTANT, "warn %d", 2);
	log_notice(LOG_CORE, "New interface %s and %s for ENI ID %s created.", "gwi-a",
	    "gwo-a", "00000000000000001");
	log_msg(LOG_UDP, LOG_INFO, "info %d", 3);
	log_msg(LOG_HOOK, LOG_DEBUG, "debug\nsecond half");	/* stays one line */
	out = cap_end(&c);
	assert_int_equal(log_target_get(), LOG_TO_JOURNAL);
	assert_int_equal(split_lines(out, l, 16), 5);
	assert_string_equal(l[0], "<2>critical core: crit 1");
	assert_string_equal(l[1], "<4>important netlink: warn 2");
	assert_string_equal(l[2], "<5>important core: New interface gwi-a and gwo-a for "
	    "ENI ID 00000000000000001 created.");
	assert_string_equal(l[3], "<6>info udp: info 3");
	assert_string_equal(l[4], "<7>debug hook: debug second half");
	free(out);

	/* Another stream's dev:ino (stderr was redirected): today's format. */
	cap_start(&c);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("testlog");
	log_msg(LOG_CORE, LOG_IMPORTANT, "plain");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init("testlog");
	log_msg(LOG_CORE, LOG_IMPORTANT, "plain too");
	out = cap_end(&c);
	assert_int_equal(split_lines(out, l, 16), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_not_equal(l[i][0], '<');
		assert_non_null(strstr(l[i], "Z testlog["));
		assert_non_null(strstr(l[i], "] important core: plain"));
	}
	free(out);
	unsetenv("JOURNAL_STREAM");
	log_init("testlog");
	assert_int_equal(log_target_get(), LOG_TO_STDERR);
}

static void
test_priorities(void **state)
{
	(void)state;
	assert_int_equal(log_level_priority(LOG_CRITICAL), 2);
	assert_int_equal(log_level_priority(LOG_IMPORTANT), 4);
	assert_int_equal(log_level_priority(LOG_INFO), 6);
	assert_int_equal(log_level_priority(LOG_DEBUG), 7);
	assert_int_equal(log_level_priority(LOG_DEBUGDETAIL), 7);
}

/* --syslog: nothing on stderr any more (syslog(3) has it). */
static void
test_syslog_target(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	cap_start(&c);
	log_use_syslog();
	log_msg(LOG_CORE, LOG_IMPORTANT, "to syslog");
	out = cap_end(&c);
	assert_int_equal(log_target_get(), LOG_TO_SYSLOG);
	assert_string_equal(out, "");
	free(out);
	log_init("testlog");
	assert_int_equal(log_target_get(), LOG_TO_STDERR);
}

/* debugdetail dumps: upstream's layout, a cap per packet, rate limited. */
static void
test_hexdump(void **state)
{
	struct log_rl rl = LOG_RL_INIT(60, 2);
	unsigned char pkt[1000];
	struct capture c;
	char *out, *l[64];
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)i;
	memcpy(pkt, "GET / HTTP/1.1", 14);
	log_init("testlog");
	log_set_all(LOG_DEBUG);
	cap_start(&c);
	log_hexdump(&rl, LOG_GENEVE, "GWLB packet", pkt, 40);	/* below debugdetail */
	log_level_set(LOG_GENEVE, LOG_DEBUGDETAIL);
	log_hexdump(&rl, LOG_GENEVE, "GWLB packet", pkt, 40);
	log_hexdump(&rl, LOG_GENEVE, "GWLB packet", pkt, sizeof(pkt));
	log_hexdump(&rl, LOG_GENEVE, "GWLB packet", pkt, 40);	/* third: held back */
	log_hexdump(&rl, LOG_GENEVE, "GWLB packet", pkt, 40);	/* fourth */
	rl.window = 0;		/* the window reopens */
	log_hexdump(&rl, LOG_GENEVE, "GWLB packet", pkt, 8);
	out = cap_end(&c);
	n = split_lines(out, l, 64);
	/* 40 bytes: header + 2 lines; 1000: header + 8 lines + "more";
	 * after the window: header (with the count) + 1 line. */
	assert_int_equal(n, 3 + 10 + 2);
	assert_non_null(strstr(l[0], "debugdetail geneve: GWLB packet: 40 bytes"));
	assert_non_null(strstr(l[1], "GWLB packet 0000: 47 45 54 20 2f 20 48 54 54 50 2f "
	    "31 2e 31 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f | "
	    "GET / HTTP/1.1.................."));
	assert_non_null(strstr(l[2], "GWLB packet 0020: 20 21 22 23 24 25 26 27"));
	assert_non_null(strstr(l[2], "|  !\"#$%&'"));
	assert_non_null(strstr(l[3], "GWLB packet: 1000 bytes"));
	assert_non_null(strstr(l[11], "GWLB packet 00e0: "));
	assert_non_null(strstr(l[12], "GWLB packet: 744 more bytes not shown"));
	assert_non_null(strstr(l[13], "GWLB packet: 8 bytes (2 similar dumps suppressed)"));
	assert_non_null(strstr(l[14], "GWLB packet 0000: 47 45 54 20 2f 20 48 54"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config_good, setup),
		cmocka_unit_test_setup(test_config_bad, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_filter_and_format, setup),
		cmocka_unit_test_setup(test_warn_strerror, setup),
		cmocka_unit_test_setup(test_long_line, setup),
		cmocka_unit_test_setup(test_errno, setup),
		cmocka_unit_test_setup(test_rl, setup),
		cmocka_unit_test_setup(test_rl_threads, setup),
		cmocka_unit_test_setup(test_fatal, setup),
		cmocka_unit_test_setup(test_levels_threads, setup),
		cmocka_unit_test_setup(test_journal_prefix, setup),
		cmocka_unit_test_setup(test_priorities, setup),
		cmocka_unit_test_setup(test_syslog_target, setup),
		cmocka_unit_test_setup(test_hexdump, setup),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
