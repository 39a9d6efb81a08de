/*
 * The hook runner.  Upstream ran hooks with system() on the packet thread,
 * so a slow hook stalled traffic and a hanging one stalled it forever.  Here
 * a hook is a child process the manager watches through a pidfd and a pipe
 * in its epoll set; its output is logged line by line, its exit status is
 * logged, and past the timeout its whole process group is killed.  Where
 * pidfd_open fails (kernels before 5.3, valgrind), an eventfd stands in for
 * the pidfd: hook_tick writes it once the hook has exited.
 *
 * At most --max-hooks run at once (upstream had no limit: one per ENI, and
 * an ENI's DESTROY hook besides); the others wait in a queue and start in
 * the order they were asked for, their timeout counted from their start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "event.h"
#include "hook.h"
#include "log.h"

extern char **environ;

struct hook_ev {
	enum ev_kind	kind;
	struct hook_job	*job;
};

struct hook_job {
	struct hook_ev	ev_pid;
	struct hook_ev	ev_out;
	pid_t		pid;
	int		pidfd;		/* or the eventfd hook_tick writes (polled) */
	bool		polled;		/* no pidfd: hook_tick looks for the exit */
	bool		exited;		/* polled: the eventfd was written */
	int		outfd;
	uint64_t	started_ns;
	uint64_t	deadline_ns;
	bool		killed;
	hook_done_fn	done;
	void		(*started)(void *arg);	/* optional: it started */
	void		*arg;
	char		tag[80];	/* "CREATE gwi-X" for the log */
	bool		has_eni;	/* an ENI's hook: its id, for events */
	uint64_t	eni;
	char		line[512];
	size_t		line_len;
	unsigned long	lines;		/* output lines so far */
	struct hook_job	*next;
	/* What to start, kept while it waits in the queue. */
	char		*path;
	char		*args[HOOK_ARGS_MAX + 1];
	char		**facts;
	unsigned	timeout_s;
};

static const char *const hook_state_names[] = {
	[HOOK_NONE] = "none",
	[HOOK_QUEUED] = "queued",
	[HOOK_RUNNING] = "running",
	[HOOK_OK] = "ok",
	[HOOK_FAILED] = "failed",
	[HOOK_TIMEOUT] = "timeout",
};
_Static_assert(sizeof(hook_state_names) / sizeof(hook_state_names[0]) ==
    HOOK_STATE__MAX, "hook_state_names");

#define HOOK_LOG_LINES	200	/* output lines of one run that are logged */

static int hook_epfd = -1;

static void hook_finish(struct hook_job *j, int status, bool have_status);
static struct hook_job *jobs;		/* running */
static unsigned n_jobs;
static struct hook_job *queue_head, **queue_tail = &queue_head;	/* waiting, FIFO */

/* For the control thread's reports (hook_counts). */
static _Atomic uint64_t c_running, c_queued, c_waited, c_started, c_ok, c_failed,
    c_timed_out, c_unlogged;
/* Run times (/metrics' gwlbtun_hook_duration_seconds): fixed bounds from
 * a quick `ip link set` to --hook-timeout's range. */
const double hook_duration_le[HOOK_DUR_BUCKETS] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
static _Atomic uint64_t c_dur[HOOK_DUR_BUCKETS + 1], c_dur_sum_ns;

const char *
hook_state_str(enum hook_state s)
{
	return (unsigned)s < HOOK_STATE__MAX ? hook_state_names[s] : "?";
}

void
hook_init(int epfd)
{
	hook_epfd = epfd;
}

unsigned
hook_running(void)
{
	return n_jobs;
}

unsigned
hook_queued(void)
{
	return (unsigned)atomic_load_explicit(&c_queued, memory_order_relaxed);
}

void
hook_counts(struct hook_counts *c)
{
	c->running = atomic_load_explicit(&c_running, memory_order_relaxed);
	c->queued = atomic_load_explicit(&c_queued, memory_order_relaxed);
	c->waited = atomic_load_explicit(&c_waited, memory_order_relaxed);
	c->started = atomic_load_explicit(&c_started, memory_order_relaxed);
	c->ok = atomic_load_explicit(&c_ok, memory_order_relaxed);
	c->failed = atomic_load_explicit(&c_failed, memory_order_relaxed);
	c->timed_out = atomic_load_explicit(&c_timed_out, memory_order_relaxed);
	c->lines_unlogged = atomic_load_explicit(&c_unlogged, memory_order_relaxed);
	for (int i = 0; i <= HOOK_DUR_BUCKETS; i++)
		c->dur_bucket[i] = atomic_load_explicit(&c_dur[i], memory_order_relaxed);
	c->dur_sum_ns = atomic_load_explicit(&c_dur_sum_ns, memory_order_relaxed);
}

static void
cnt_add(_Atomic uint64_t *c, int64_t v)
{
	atomic_fetch_add_explicit(c, (uint64_t)v, memory_order_relaxed);
}

static int
pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* environ plus our GWLB_* facts (NULL-terminated "K=V" strings). */
static char **
hook_env(const char *const *facts)
{
	size_t n = 0, k = 0, nf = 0;
	char **env;

	while (environ && environ[n])
		n++;
	while (facts && facts[nf])
		nf++;
	env = calloc(n + nf + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "GWLB_", 5) == 0)
			continue;	/* ours win over inherited ones */
		env[k++] = environ[i];
	}
	for (size_t i = 0; i < nf; i++)
		env[k++] = (char *)(uintptr_t)facts[i];
	env[k] = NULL;
	return env;
}

static void
job_free(struct hook_job *j)
{
	free(j->path);
	for (size_t i = 0; j->args[i]; i++)
		free(j->args[i]);
	for (size_t i = 0; j->facts && j->facts[i]; i++)
		free(j->facts[i]);
	free(j->facts);
	free(j);
}

/* A job with its own copies of what hook_start needs, to wait in the queue. */
static struct hook_job *
job_new(const char *path, const char *const *args, const char *const *facts,
    const char *tag, unsigned timeout_s, hook_done_fn done, void *arg)
{
	struct hook_job *j = calloc(1, sizeof(*j));
	size_t nf = 0;
	bool ok;

	if (!j)
		return NULL;
	snprintf(j->tag, sizeof(j->tag), "%s", tag);
	j->timeout_s = timeout_s;
	j->done = done;
	j->arg = arg;
	ok = (j->path = strdup(path)) != NULL;
	for (size_t i = 0; ok && args[i] && i < HOOK_ARGS_MAX; i++)
		ok = (j->args[i] = strdup(args[i])) != NULL;
	while (facts && facts[nf])
		nf++;
	ok = ok && (j->facts = calloc(nf + 1, sizeof(*j->facts))) != NULL;
	for (size_t i = 0; ok && i < nf; i++)
		ok = (j->facts[i] = strdup(facts[i])) != NULL;
	if (!ok) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* Start j's hook: 0, or -errno with j as it was (the caller frees it). */
static int
hook_start(struct hook_job *j)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct epoll_event ev;
	char *argv[HOOK_ARGS_MAX + 3], **env;
	const char *path = j->path;
	int pipefd[2], err;
	size_t na = 0;
	pid_t pid;

	/* Only our end is non-blocking: the hook's stdout must block like
	 * any pipe, or a chatty hook fails half-way with EAGAIN. */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(pipefd[0], F_SETFL, O_NONBLOCK) < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	/* argv[0] is left for "/bin/sh" should the hook need it (below). */
	argv[1] = (char *)(uintptr_t)path;
	for (; j->args[na]; na++)
		argv[2 + na] = j->args[na];
	argv[2 + na] = NULL;
	env = hook_env((const char *const *)j->facts);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
	posix_spawnattr_init(&attr);
	/* Own process group, so a timeout kills the hook's children too. */
	posix_spawnattr_setpgroup(&attr, 0);
	{
		sigset_t none, all;

		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
	}
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	if (strpbrk(path, " \t") && access(path, X_OK) != 0) {
		/* "-c 'script --flag'": upstream ran hooks through system(), so a
		 * command line with arguments worked; keep it working, through sh,
		 * with our arguments appended as "$@". */
		char cmd[1024], *shargv[HOOK_ARGS_MAX + 5];
		size_t k = 0;

		snprintf(cmd, sizeof(cmd), "%s \"$@\"", path);
		shargv[k++] = "/bin/sh";
		shargv[k++] = "-c";
		shargv[k++] = cmd;
		shargv[k++] = "gwlbtun-hook";
		for (size_t i = 0; i < na; i++)
			shargv[k++] = argv[2 + i];
		shargv[k] = NULL;
		err = posix_spawn(&pid, "/bin/sh", &fa, &attr, shargv, env ? env : environ);
	} else {
		err = posix_spawn(&pid, path, &fa, &attr, argv + 1, env ? env : environ);
	}
	if (err == ENOEXEC) {
		/* No #! line: upstream's system() ran such scripts with sh. */
		argv[0] = "/bin/sh";
		err = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env ? env : environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return -err;
	}

	j->pid = pid;
	j->outfd = pipefd[0];
	j->pidfd = pidfd_open_(pid);
	if (j->pidfd < 0) {
		/* Not waited for here: that would stall the manager with no
		 * timeout, and for good once the hook's output fills the pipe. */
		static bool said;

		if (!said)
			log_msg(LOG_HOOK, LOG_IMPORTANT, "pidfd_open: %s: polling for "
			    "the exits of hooks", strerror(errno));
		said = true;
		j->polled = true;
		if ((j->pidfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			err = -errno;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			close(pipefd[0]);
			return err;
		}
	}
	j->started_ns = now_ns();
	j->deadline_ns = j->started_ns + (uint64_t)j->timeout_s * 1000000000ull;
	j->ev_pid = (struct hook_ev){ EV_HOOK_PID, j };
	j->ev_out = (struct hook_ev){ EV_HOOK_OUT, j };
	ev.events = EPOLLIN;
	ev.data.ptr = &j->ev_pid;
	epoll_ctl(hook_epfd, EPOLL_CTL_ADD, j->pidfd, &ev);
	ev.events = EPOLLIN;
	ev.data.ptr = &j->ev_out;
	epoll_ctl(hook_epfd, EPOLL_CTL_ADD, j->outfd, &ev);
	j->next = jobs;
	jobs = j;
	n_jobs++;
	cnt_add(&c_running, 1);
	cnt_add(&c_started, 1);
	log_msg(LOG_HOOK, LOG_DEBUG, "%s: started %s (pid %d)", j->tag, path, (int)pid);
	{
		struct event e;

		event_init(&e, EVENT_HOOK_STARTED, j->has_eni, j->eni);
		event_str(&e, "hook", j->tag);
		event_str(&e, "path", path);
		event_u64(&e, "pid", (uint64_t)pid);
		event_post(&e);
	}
	if (j->started)
		j->started(j->arg);
	return 0;
}

/* For gwlbctl monitor: a hook that could not be started at all. */
static void
event_not_started(const struct hook_job *j, int err)
{
	struct event e;

	event_init(&e, EVENT_HOOK_FINISHED, j->has_eni, j->eni);
	event_str(&e, "hook", j->tag);
	event_str(&e, "result", hook_state_str(HOOK_FAILED));
	event_str(&e, "error", strerror(-err));
	event_u64(&e, "duration_ms", 0);
	event_post(&e);
}

/* Start what waits, oldest first, while there is room. */
static void
hook_start_queued(void)
{
	while (queue_head && n_jobs < conf.max_hooks) {
		struct hook_job *j = queue_head;
		int err;

		if (!(queue_head = j->next))
			queue_tail = &queue_head;
		j->next = NULL;
		cnt_add(&c_queued, -1);
		err = hook_start(j);
		if (err) {
			log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: cannot run %s: %s", j->tag,
			    j->path, strerror(-err));
			event_not_started(j, err);
			cnt_add(&c_failed, 1);
			j->done(j->arg, HOOK_FAILED);
			job_free(j);
		}
	}
}

static int
run_job(const char *path, const char *const *args, const char *const *facts,
    const char *tag, unsigned timeout_s, hook_done_fn done, void (*started)(void *),
    void *arg, bool has_eni, uint64_t eni)
{
	struct hook_job *j = job_new(path, args, facts, tag, timeout_s, done, arg);
	int err;

	if (!j)
		return -ENOMEM;
	j->started = started;
	j->has_eni = has_eni;
	j->eni = eni;
	/* Behind those already waiting, even with room now: in order. */
	if (queue_head || n_jobs >= conf.max_hooks) {
		*queue_tail = j;
		queue_tail = &j->next;
		cnt_add(&c_queued, 1);
		cnt_add(&c_waited, 1);
		log_msg(LOG_HOOK, LOG_DEBUG, "%s: waits, %u hooks running (--max-hooks)",
		    j->tag, n_jobs);
		return 0;
	}
	err = hook_start(j);
	if (err) {
		cnt_add(&c_failed, 1);
		event_not_started(j, err);
		job_free(j);
	}
	return err;
}

int
hook_run_argv(const char *path, const char *const *args, const char *const *facts,
    const char *tag, unsigned timeout_s, hook_done_fn done, void *arg)
{
	return run_job(path, args, facts, tag, timeout_s, done, NULL, arg, false, 0);
}

int
hook_run(const struct hook_args *a, unsigned timeout_s, hook_done_fn done, void *arg)
{
	char f_action[64], f_eni[64], f_in[64], f_out[64], f_att[64], f_mode[64], tag[80];
	const char *args[] = { a->action, a->if_in, a->if_out, a->eni_hex, NULL };
	const char *facts[] = { f_action, f_eni, f_in, f_out, f_att, f_mode, NULL };

	snprintf(f_action, sizeof(f_action), "GWLB_ACTION=%s", a->action);
	snprintf(f_eni, sizeof(f_eni), "GWLB_ENI=%s", a->eni_hex);
	snprintf(f_in, sizeof(f_in), "GWLB_IFACE_IN=%s", a->if_in);
	snprintf(f_out, sizeof(f_out), "GWLB_IFACE_OUT=%s", a->if_out);
	snprintf(f_att, sizeof(f_att), "GWLB_ATTACHMENT=%s", a->attachment_hex);
	snprintf(f_mode, sizeof(f_mode), "GWLB_MODE=%s", a->mode);
	snprintf(tag, sizeof(tag), "%s %s", a->action, a->if_in);
	return run_job(a->path, args, facts, tag, timeout_s, done, a->started, arg, true,
	    strtoull(a->eni_hex, NULL, 16));
}

static void
hook_log_line(struct hook_job *j)
{
	j->line[j->line_len] = '\0';
	j->line_len = 0;
	if (j->lines++ < HOOK_LOG_LINES)
		log_msg(LOG_HOOK, LOG_INFO, "%s: %s", j->tag, j->line);
}

/*
 * A bounded amount per call: the descriptor is level-triggered, so what is
 * left comes back in the manager's next round, after its timers, and a hook
 * that never stops writing cannot hold the manager (or escape its timeout).
 * At most HOOK_LOG_LINES lines of a run are logged; the rest are counted.
 */
static void
hook_read_output(struct hook_job *j, unsigned max_reads)
{
	char buf[4096];
	ssize_t n;

	while (max_reads-- && (n = read(j->outfd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];

			if (c == '\n' || j->line_len == sizeof(j->line) - 1) {
				hook_log_line(j);
				if (c == '\n')
					continue;
			}
			j->line[j->line_len++] = c;
		}
	}
}

static void
hook_finish(struct hook_job *j, int status, bool have_status)
{
	enum hook_state res;
	struct hook_job **pp;

	hook_read_output(j, 16);
	if (j->line_len)
		hook_log_line(j);
	if (j->lines > HOOK_LOG_LINES) {
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: %lu more lines of output not logged",
		    j->tag, (unsigned long)(j->lines - HOOK_LOG_LINES));
		cnt_add(&c_unlogged, (int64_t)(j->lines - HOOK_LOG_LINES));
	}
	epoll_ctl(hook_epfd, EPOLL_CTL_DEL, j->outfd, NULL);
	close(j->outfd);
	epoll_ctl(hook_epfd, EPOLL_CTL_DEL, j->pidfd, NULL);
	close(j->pidfd);
	if (j->killed) {
		res = HOOK_TIMEOUT;
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: killed after %u s (--hook-timeout)",
		    j->tag, j->timeout_s);
	} else if (!have_status) {
		res = HOOK_FAILED;
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: exit status lost", j->tag);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		res = HOOK_OK;
		log_msg(LOG_HOOK, LOG_INFO, "%s: exited 0", j->tag);
	} else if (WIFEXITED(status)) {
		res = HOOK_FAILED;
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: exited with status %d",
		    j->tag, WEXITSTATUS(status));
	} else {
		res = HOOK_FAILED;
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: killed by signal %d",
		    j->tag, WTERMSIG(status));
	}
	for (pp = &jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	n_jobs--;
	cnt_add(&c_running, -1);
	cnt_add(res == HOOK_OK ? &c_ok : res == HOOK_TIMEOUT ? &c_timed_out : &c_failed, 1);
	{
		uint64_t ns = now_ns() - j->started_ns;
		struct event e;
		int b = 0;

		while (b < HOOK_DUR_BUCKETS && (double)ns > hook_duration_le[b] * 1e9)
			b++;
		cnt_add(&c_dur[b], 1);
		cnt_add(&c_dur_sum_ns, (int64_t)ns);
		event_init(&e, EVENT_HOOK_FINISHED, j->has_eni, j->eni);
		event_str(&e, "hook", j->tag);
		event_str(&e, "result", hook_state_str(res));
		/* The exit code, or minus the signal that ended it. */
		if (have_status && WIFEXITED(status))
			event_s64(&e, "exit_status", WEXITSTATUS(status));
		else if (have_status && WIFSIGNALED(status))
			event_s64(&e, "exit_status", -(int64_t)WTERMSIG(status));
		event_u64(&e, "duration_ms", ns / 1000000);
		event_post(&e);
	}
	j->done(j->arg, res);
	job_free(j);
	hook_start_queued();
}

/*
 * A polled job: once its hook has exited (still a zombie: WNOWAIT), make its
 * eventfd readable, so that the exit is handled in hook_event like a pidfd's.
 * Finishing the job here instead would free it while an event of its pipe
 * may still wait in the manager's current batch.
 */
static void
hook_poll_exit(struct hook_job *j)
{
	siginfo_t si;
	int r;

	if (!j->polled || j->exited)
		return;
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	if (r < 0 && errno != ECHILD)
		return;		/* EINTR: next tick */
	if (r == 0 && si.si_pid == 0)
		return;		/* still running */
	/* Exited, or (ECHILD) gone: hook_event reaps it or says so. */
	j->exited = true;
	eventfd_write(j->pidfd, 1);
}

void
hook_event(void *tag, uint32_t events)
{
	struct hook_ev *ev = tag;
	struct hook_job *j = ev->job;
	int status = 0;
	pid_t r;

	if (ev->kind == EV_HOOK_OUT) {
		hook_read_output(j, 4);
		if (events & (EPOLLHUP | EPOLLERR)) {
			/* All writers gone; the exit comes through the pidfd
			 * (polled: it is most likely there already). */
			epoll_ctl(hook_epfd, EPOLL_CTL_DEL, j->outfd, NULL);
			hook_poll_exit(j);
		}
		return;
	}
	if (j->polled) {
		eventfd_t v;

		(void)eventfd_read(j->pidfd, &v);
	}
	do {
		r = waitpid(j->pid, &status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		j->exited = false;	/* polled: look again next tick */
		return;		/* not yet */
	}
	hook_finish(j, status, r == j->pid);
}

void
hook_kill_all(void)
{
	struct hook_job *j, *next;

	for (j = jobs; j; j = j->next) {
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
	}
	/* Those still waiting never start. */
	for (j = queue_head; j; j = next) {
		next = j->next;
		job_free(j);
	}
	queue_head = NULL;
	queue_tail = &queue_head;
	atomic_store(&c_queued, 0);
}

void
hook_tick(uint64_t now)
{
	for (struct hook_job *j = jobs; j; j = j->next) {
		if (!j->killed && now >= j->deadline_ns) {
			j->killed = true;
			kill(-j->pid, SIGKILL);
			kill(j->pid, SIGKILL);
		}
		hook_poll_exit(j);
	}
}
