/*
 * The hook runner (daemon/hook.c) with real processes (/bin/sh scripts in
 * a temporary directory) and an event loop like the manager's: at most
 * --max-hooks at once, the rest started in order; the timeout kills the
 * whole process group; output of any size is read and bounded in the log;
 * a hook that crashes or leaves a child behind, one that cannot be run.
 * Every case runs twice: with pidfds, and with pidfd_open failing (ENOSYS,
 * as under seccomp or before Linux 5.3: syscall() is wrapped, -Wl,--wrap),
 * where the exits are polled.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "hook.h"

#define NS	1000000000ull

struct config conf;

/* ---- pidfd_open made to fail ---------------------------------------------- */

static bool no_pidfd;
static unsigned pidfd_calls;

long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...);

long
__wrap_syscall(long nr, ...)
{
	va_list ap;
	long a, b;

	va_start(ap, nr);
	a = va_arg(ap, long);
	b = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_pidfd_open) {
		pidfd_calls++;
		if (no_pidfd) {
			errno = ENOSYS;
			return -1;
		}
	}
	return __real_syscall(nr, a, b);
}

/* ---- the loop --------------------------------------------------------------- */

static int epfd = -1;
static char dir[64];

#define MAX_DONE	64

static struct {
	int		id;
	enum hook_state	res;
	uint64_t	at_ns;
} done_log[MAX_DONE];
static unsigned n_done;
static unsigned max_running;

static void
on_done(void *arg, enum hook_state res)
{
	assert_true(n_done < MAX_DONE);
	done_log[n_done].id = (int)(intptr_t)arg;
	done_log[n_done].res = res;
	done_log[n_done].at_ns = now_ns();
	n_done++;
}

/* The manager's loop, until n hooks are done or secs pass. */
static void
loop_until(unsigned n, unsigned secs)
{
	uint64_t end = now_ns() + secs * NS;

	while (n_done < n && now_ns() < end) {
		struct epoll_event evs[16];
		int k = epoll_wait(epfd, evs, 16, 50);

		for (int i = 0; i < k; i++) {
			hook_event(evs[i].data.ptr, evs[i].events);
			break;	/* as the manager: a job may be gone */
		}
		hook_tick(now_ns());
		if (hook_running() > max_running)
			max_running = hook_running();
	}
}

static const char *
script(const char *name, const char *body)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static int
run(const char *path, int id, unsigned timeout_s)
{
	char n[16];
	const char *args[] = { n, NULL };
	const char *facts[] = { "GWLB_TEST=1", NULL };

	snprintf(n, sizeof(n), "%d", id);
	return hook_run_argv(path, args, facts, "TEST", timeout_s, on_done,
	    (void *)(intptr_t)id);
}

static int
setup_mode(bool polled)
{
	memset(&conf, 0, sizeof(conf));
	conf.max_hooks = 8;
	conf.hook_timeout_s = 30;
	no_pidfd = polled;
	pidfd_calls = 0;
	n_done = max_running = 0;
	snprintf(dir, sizeof(dir), "/tmp/test_hook.XXXXXX");
	assert_non_null(mkdtemp(dir));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(epfd >= 0);
	hook_init(epfd);
	return 0;
}

static int setup_pidfd(void **state) { (void)state; return setup_mode(false); }
static int setup_polled(void **state) { (void)state; return setup_mode(true); }

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	assert_int_equal(hook_running(), 0);
	assert_int_equal(hook_queued(), 0);
	close(epfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static unsigned
lines_of(const char *file)
{
	char path[128], buf[256];
	unsigned n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(buf, sizeof(buf), f))
		n++;
	fclose(f);
	return n;
}

/* Processes of group pg that are not zombies (those wait for init). */
static unsigned
group_alive(int pg)
{
	unsigned n = 0;
	char path[300], buf[512];
	struct dirent *d;
	DIR *proc = opendir("/proc");

	assert_non_null(proc);
	while ((d = readdir(proc))) {
		FILE *f;
		char *p, st;
		int pgrp;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!p || !(p = strrchr(buf, ')')))
			continue;
		if (sscanf(p + 1, " %c %*d %d", &st, &pgrp) == 2 && pgrp == pg && st != 'Z')
			n++;
	}
	closedir(proc);
	return n;
}

/* ---- tests ---------------------------------------------------------------- */

/* Ten hooks at --max-hooks 3: never more than 3 at once, all run; then ten
 * at --max-hooks 1, where the order they run in shows: the order asked. */
static void
test_limit_fifo(void **state)
{
	struct hook_counts c0, c;
	char body[256], path[128], buf[64];
	FILE *f;
	const char *p;

	(void)state;
	conf.max_hooks = 3;
	hook_counts(&c0);
	snprintf(body, sizeof(body), "echo $1 >>%s/started; sleep 0.3", dir);
	p = script("slow", body);
	for (int i = 0; i < 10; i++)
		assert_int_equal(run(p, i, 30), 0);
	assert_int_equal(hook_running(), 3);
	assert_int_equal(hook_queued(), 7);
	hook_counts(&c);
	assert_int_equal(c.queued, 7);
	assert_int_equal(c.waited - c0.waited, 7);
	loop_until(10, 20);
	assert_int_equal(n_done, 10);
	assert_int_equal(max_running, 3);
	assert_int_equal(lines_of("started"), 10);

	snprintf(path, sizeof(path), "%s/started", dir);
	assert_int_equal(unlink(path), 0);
	conf.max_hooks = 1;
	n_done = 0;
	snprintf(body, sizeof(body), "echo $1 >>%s/started; sleep 0.05", dir);
	p = script("quick", body);
	for (int i = 0; i < 10; i++)
		assert_int_equal(run(p, i, 30), 0);
	loop_until(10, 20);
	assert_int_equal(n_done, 10);
	f = fopen(path, "r");
	assert_non_null(f);
	for (int i = 0; i < 10; i++) {
		assert_non_null(fgets(buf, sizeof(buf), f));
		assert_int_equal(atoi(buf), i);
		assert_int_equal(done_log[i].res, HOOK_OK);
	}
	fclose(f);
	hook_counts(&c);
	assert_int_equal(c.ok - c0.ok, 20);
	assert_int_equal(c.waited - c0.waited, 7 + 9);
	assert_int_equal(c.queued, 0);
	assert_int_equal(pidfd_calls, 20);
}

/* A hook that hangs, with a child holding its output pipe: killed with its
 * process group after the timeout, whether exits come by pidfd or polling. */
static void
test_timeout_kills_group(void **state)
{
	struct hook_counts c0, c;
	char body[256], path[128];
	uint64_t t0 = now_ns();
	FILE *f;
	int pg = 0;

	(void)state;
	hook_counts(&c0);
	snprintf(body, sizeof(body), "echo $$ >%s/pg; sleep 60 & sleep 60", dir);
	assert_int_equal(run(script("hang", body), 1, 1), 0);
	loop_until(1, 5);
	assert_int_equal(n_done, 1);
	assert_int_equal(done_log[0].res, HOOK_TIMEOUT);
	assert_true(done_log[0].at_ns - t0 >= 1 * NS);
	assert_true(done_log[0].at_ns - t0 < 2 * NS);
	snprintf(path, sizeof(path), "%s/pg", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pg), 1);
	fclose(f);
	/* Its group's sleeps are gone (or going: SIGKILL was sent). */
	for (int i = 0; i < 20 && group_alive(pg); i++)
		usleep(50000);
	assert_int_equal(group_alive(pg), 0);
	hook_counts(&c);
	assert_int_equal(c.timed_out - c0.timed_out, 1);
}

/* Megabytes of output: read as they come (the hook never blocks on a full
 * pipe), at most 200 lines logged, the rest counted. */
static void
test_output_bounded(void **state)
{
	struct hook_counts c0, c;

	(void)state;
	hook_counts(&c0);
	/* 100000 lines of 40 bytes: 4 MB. */
	assert_int_equal(run(script("chatty", "yes 0123456789012345678901234567890123456789 "
	    "| head -n 100000"), 1, 10), 0);
	loop_until(1, 10);
	assert_int_equal(n_done, 1);
	assert_int_equal(done_log[0].res, HOOK_OK);
	hook_counts(&c);
	assert_int_equal(c.lines_unlogged - c0.lines_unlogged, 100000 - 200);
}

/* A crash, a child left behind, a file that is not executable. */
static void
test_faults(void **state)
{
	struct hook_counts c0, c;
	char body[256];
	uint64_t t0;

	(void)state;
	hook_counts(&c0);
	assert_int_equal(run(script("segv", "kill -SEGV $$"), 1, 10), 0);
	loop_until(1, 5);
	assert_int_equal(n_done, 1);
	assert_int_equal(done_log[0].res, HOOK_FAILED);

	/* Its child keeps the output pipe open: the hook is done when it exits. */
	snprintf(body, sizeof(body), "sleep 30 & echo $! >%s/child; exit 0", dir);
	t0 = now_ns();
	assert_int_equal(run(script("forks", body), 2, 10), 0);
	loop_until(2, 5);
	assert_int_equal(n_done, 2);
	assert_int_equal(done_log[1].res, HOOK_OK);
	assert_true(done_log[1].at_ns - t0 < 2 * NS);
	assert_int_equal(lines_of("child"), 1);
	assert_int_equal(system("kill $(cat /tmp/test_hook.*/child) 2>/dev/null; true"), 0);

	script("noexec", "exit 0");
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/noexec", dir);
		assert_int_equal(chmod(path, 0644), 0);
		assert_int_equal(run(path, 3, 10), -EACCES);
	}
	hook_counts(&c);
	assert_int_equal(c.failed - c0.failed, 2);
	assert_int_equal(c.ok - c0.ok, 1);
}

/* A hook that cannot be started when its turn comes reports HOOK_FAILED
 * through done(), once, and the queue goes on. */
static void
test_queued_fails_late(void **state)
{
	char path[128], ok[128];

	(void)state;
	conf.max_hooks = 1;
	snprintf(ok, sizeof(ok), "%s", script("quick", "sleep 0.2"));
	script("gone", "exit 0");
	snprintf(path, sizeof(path), "%s/gone", dir);
	assert_int_equal(run(ok, 1, 10), 0);
	assert_int_equal(run(path, 2, 10), 0);	/* waits */
	assert_int_equal(run(ok, 3, 10), 0);	/* waits */
	assert_int_equal(unlink(path), 0);
	loop_until(3, 10);
	assert_int_equal(n_done, 3);
	assert_int_equal(done_log[0].id, 1);
	assert_int_equal(done_log[0].res, HOOK_OK);
	assert_int_equal(done_log[1].id, 2);
	assert_int_equal(done_log[1].res, HOOK_FAILED);
	assert_int_equal(done_log[2].id, 3);
	assert_int_equal(done_log[2].res, HOOK_OK);
}

/* An ENI's hook (hook_run) that waits for a place under --max-hooks is
 * said to have started only when it starts (show eni: queued, then running):
 * started() comes at once for a hook with room, and for one that waited,
 * only after the hook before it ended, and before its own done(). */
static unsigned n_started;
static int started_id[8];
static unsigned started_after_done[8];	/* n_done when it started */

static void
on_started(void *arg)
{
	assert_true(n_started < 8);
	started_id[n_started] = (int)(intptr_t)arg;
	started_after_done[n_started++] = n_done;
}

static void
test_eni_hook_started_when_it_leaves_queue(void **state)
{
	struct hook_args a = { .action = "CREATE", .if_in = "gwi-1", .if_out = "gwo-1",
	    .eni_hex = "00000000000000001", .attachment_hex = "00000000000000002",
	    .mode = "return", .started = on_started };

	(void)state;
	n_started = 0;
	conf.max_hooks = 1;
	assert_string_equal(hook_state_str(HOOK_QUEUED), "queued");
	assert_string_equal(hook_state_str(HOOK_RUNNING), "running");
	a.path = script("slow", "sleep 0.3");
	assert_int_equal(hook_run(&a, 10, on_done, (void *)(intptr_t)1), 0);
	assert_int_equal(n_started, 1);			/* room: at once */
	assert_int_equal(started_id[0], 1);
	assert_int_equal(hook_run(&a, 10, on_done, (void *)(intptr_t)2), 0);
	assert_int_equal(hook_queued(), 1);
	assert_int_equal(n_started, 1);			/* waits: not started */
	loop_until(1, 10);
	assert_int_equal(n_started, 2);			/* its turn came */
	assert_int_equal(started_id[1], 2);
	assert_int_equal(started_after_done[1], 1);
	loop_until(2, 10);
	assert_int_equal(n_done, 2);
	assert_int_equal(done_log[1].id, 2);
	assert_int_equal(done_log[1].res, HOOK_OK);
	/* The general form (route hooks) has no started(): none is called. */
	assert_int_equal(run(script("quick", "exit 0"), 3, 10), 0);
	loop_until(3, 10);
	assert_int_equal(n_started, 2);
}

/* Shutdown giving up: what waits never starts, what runs is killed. */
static void
test_kill_all_drops_queue(void **state)
{
	char body[256];

	(void)state;
	conf.max_hooks = 1;
	snprintf(body, sizeof(body), "echo >%s/ran", dir);
	assert_int_equal(run(script("long", "sleep 30"), 1, 30), 0);
	assert_int_equal(run(script("never", body), 2, 30), 0);
	assert_int_equal(hook_queued(), 1);
	hook_kill_all();
	assert_int_equal(hook_queued(), 0);
	loop_until(1, 5);
	assert_int_equal(n_done, 1);
	assert_int_equal(done_log[0].res, HOOK_FAILED);	/* killed, not by the timeout */
	assert_int_equal(lines_of("ran"), 0);
}

#define BOTH(t) \
	cmocka_unit_test_setup_teardown(t, setup_pidfd, teardown), \
	cmocka_unit_test_setup_teardown(t, setup_polled, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_limit_fifo),
		BOTH(test_timeout_kills_group),
		BOTH(test_output_bounded),
		BOTH(test_faults),
		BOTH(test_queued_fails_late),
		BOTH(test_kill_all_drops_queue),
		BOTH(test_eni_hook_started_when_it_leaves_queue),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
