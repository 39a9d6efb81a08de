/*
 * User hooks, called exactly as upstream gwlbtun calls them:
 *   HOOK CREATE|DESTROY gwi-X gwo-X|none ENI17HEX
 * with the same facts in the environment (GWLB_*).  They run with
 * posix_spawn in their own process group, asynchronously: the manager's
 * epoll sees their output and their exit, and a hook past its timeout is
 * killed with its children.  A hook never blocks traffic.
 */
#ifndef GWLBTUND_HOOK_H
#define GWLBTUND_HOOK_H

#include <stdint.h>

enum hook_state {
	HOOK_NONE = 0,		/* no hook configured or not run yet */
	HOOK_QUEUED,		/* waiting for a place under --max-hooks */
	HOOK_RUNNING,
	HOOK_OK,
	HOOK_FAILED,		/* could not start, or non-zero exit */
	HOOK_TIMEOUT,		/* killed after --hook-timeout */
	HOOK_STATE__MAX
};

const char *hook_state_str(enum hook_state s);

struct hook_job;

/* Called once when the hook has finished, failed to start late, or was killed. */
typedef void (*hook_done_fn)(void *arg, enum hook_state result);

struct hook_args {
	const char	*path;
	const char	*action;	/* "CREATE" or "DESTROY" */
	const char	*if_in;
	const char	*if_out;	/* "none" without return traffic */
	const char	*eni_hex;
	const char	*attachment_hex;
	const char	*mode;		/* "return" or "no-return" */
	/* If set, called with hook_run's arg when the hook starts: from
	 * hook_run itself, or later, when it leaves the --max-hooks queue. */
	void		(*started)(void *arg);
};

/* The manager's epoll set; jobs register their descriptors in it. */
void hook_init(int epfd);
/*
 * Start a hook, or queue it behind others at --max-hooks.  Returns 0 when
 * it runs or waits (done() will be called exactly once: HOOK_FAILED if it
 * cannot be started when its turn comes), or -errno when it could not be
 * started (done() is not called).
 */
int hook_run(const struct hook_args *a, unsigned timeout_s, hook_done_fn done, void *arg);
/*
 * The general form: path with args (NULL-terminated, at most
 * HOOK_ARGS_MAX), facts "K=V" added to the environment, tag for the log.
 */
#define HOOK_ARGS_MAX	8
int hook_run_argv(const char *path, const char *const *args, const char *const *facts,
    const char *tag, unsigned timeout_s, hook_done_fn done, void *arg);
/* epoll said something about one of a job's descriptors. */
void hook_event(void *tag, uint32_t events);
/* Kill hooks past their deadline, and (without pidfds) collect the hooks
 * that exited; call a few times a second. */
void hook_tick(uint64_t now_ns);
/* Hooks running now, and waiting for one of the --max-hooks places. */
unsigned hook_running(void);
unsigned hook_queued(void);

/* For reports, from any thread. */
#define HOOK_DUR_BUCKETS	9
struct hook_counts {
	uint64_t	running, queued;	/* now */
	uint64_t	waited;		/* started from the queue, or still in it */
	uint64_t	started, ok, failed, timed_out;	/* since start */
	uint64_t	lines_unlogged;	/* output lines past the 200 logged per run */
	/* How long the runs that started took, up to their exit or kill:
	 * runs of at most hook_duration_le[i] seconds (not cumulative; the
	 * last, HOOK_DUR_BUCKETS, past every bound), and their sum. */
	uint64_t	dur_bucket[HOOK_DUR_BUCKETS + 1];
	uint64_t	dur_sum_ns;
};
extern const double hook_duration_le[HOOK_DUR_BUCKETS];
void hook_counts(struct hook_counts *c);
/* Shutdown giving up on hooks: kill what still runs (they are not waited for). */
void hook_kill_all(void);

/* Tag at the head of every epoll data.ptr the manager dispatches. */
enum ev_kind { EV_WAKE = 1, EV_TIMER, EV_SIGNAL, EV_HOOK_PID, EV_HOOK_OUT, EV_NETLINK,
    EV_KSTATE };

#endif
