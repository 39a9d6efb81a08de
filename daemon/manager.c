/*
 * The manager: the main thread's event loop, on top of every subsystem.
 * It owns signals (SIGTERM/SIGINT: shutdown, SIGHUP: reload), the timer,
 * netlink events and hook events, and drives the ENI life cycle
 * (lifecycle.c).  Subsystems never call it: workers and gwlbctl queue
 * requests in the ENI table (or the route module) and wake it through
 * D.wake_fd; hooks report through the callbacks they were given.
 */
#include "config.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "eni_table.h"
#include "hook.h"
#include "lifecycle.h"
#include "event.h"
#include "log.h"
#include "manager.h"
#include "nh_table.h"
#include "nl.h"
#include "nl_cache.h"
#include "notify.h"
#include "reply.h"
#include "route.h"
#include "state.h"
#include "stats.h"
#include "worker.h"

/* The kernel's mirror changed: route_reconcile() once its events are read. */
static bool kstate_dirty;

static void
manager_kstate_event(enum nlc_event ev, void *arg)
{
	(void)arg;
	if (ev == NLC_EV_RESYNC)
		atomic_fetch_add(&D.nl_resyncs, 1);
	kstate_dirty = true;
}

/*
 * The service manager (notify.c): READY=1 once the event loop runs, with
 * the workers, the sockets and netlink up; RELOADING=1 around SIGHUP;
 * STOPPING=1 at shutdown; WATCHDOG=1 at half of WATCHDOG_USEC while no
 * worker is stuck (the health page's test); STATUS= every few seconds.
 */
#define STATUS_NS	(5ull * 1000000000ull)

static struct {
	uint64_t	status_at, wd_at, pkts_in, pkts_out, drops;
	bool		wd_withheld;
} nt;

static void
notify_status(const char *what, uint64_t now)
{
	struct stats_snap in, out;
	double dt = nt.status_at && now > nt.status_at ?
	    (double)(now - nt.status_at) / 1e9 : 0;

	stats_kind(WORKER_RX, true, &in);	/* raw: a counters reset is no negative rate */
	stats_kind(WORKER_REPLY, true, &out);
	if (dt > 0)
		notify_send("%sSTATUS=%u ENIs, %u hooks running; in %.0f pkt/s, out %.0f pkt/s, "
		    "drops %.0f/s", what, eni_count(), hook_running(),
		    (double)(in.packets - nt.pkts_in) / dt, (double)(out.packets - nt.pkts_out) / dt,
		    (double)(in.drops + out.drops - nt.drops) / dt);
	else
		notify_send("%sSTATUS=%u ENIs, %u hooks running; %llu packets in, %llu out",
		    what, eni_count(), hook_running(), (unsigned long long)in.packets,
		    (unsigned long long)out.packets);
	nt.status_at = now;
	nt.pkts_in = in.packets;
	nt.pkts_out = out.packets;
	nt.drops = in.drops + out.drops;
}

/* The timer's turn: the watchdog and the status line. */
static void
notify_tick(uint64_t now, bool stopping)
{
	uint64_t wd = notify_watchdog_ns();
	unsigned stuck;

	if (wd && !stopping && now - nt.wd_at >= wd / 2) {
		stuck = stats_stuck_workers(now, STATS_STUCK_NS);
		if (stuck == 0) {
			notify_send("WATCHDOG=1");
			nt.wd_at = now;
			nt.wd_withheld = false;
		} else if (!nt.wd_withheld) {
			log_msg(LOG_CORE, LOG_CRITICAL, "%u workers have stopped turning: "
			    "no WATCHDOG=1 to the service manager while they are stuck", stuck);
			nt.wd_withheld = true;
		}
	}
	if (!stopping && now - nt.status_at >= STATUS_NS)
		notify_status("", now);
}

/*
 * Reload the --config file (SIGHUP, or gwlbctl reload through
 * conf_reload_request): its reloadable settings and its routes and rules.
 * rep says what changed, or why nothing did.
 */
static void manager_reload_file(const char *by, struct conf_report *rep);

static void
reload_event(const char *by, const struct conf_report *rep)
{
	static const char *const result[] = {
		[CONF_RELOADED] = "ok", [CONF_UNCHANGED] = "ok",
		[CONF_RELOAD_FAILED] = "error", [CONF_NO_FILE] = "nothing",
	};
	struct event e;

	event_init(&e, EVENT_RELOAD, false, 0);
	event_str(&e, "result", result[rep->status]);
	event_str(&e, "by", by);
	if (conf.config_file)
		event_str(&e, "config", conf.config_file);
	if (rep->status == CONF_RELOADED || rep->status == CONF_UNCHANGED) {
		event_u64(&e, "routes", conf.n_cfg_routes);
		event_u64(&e, "routes_added", rep->routes_added);
		event_u64(&e, "routes_removed", rep->routes_removed);
	}
	event_post(&e);
}

static void
manager_reload(const char *by, struct conf_report *rep)
{
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)(now_ns() / 1000));
	manager_reload_file(by, rep);
	reload_event(by, rep);
	notify_status("READY=1\n", now_ns());
}

static void
manager_reload_file(const char *by, struct conf_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (!conf.config_file) {
		rep->status = CONF_NO_FILE;
		log_msg(LOG_CORE, LOG_INFO, "%s: nothing to reload (no --config)", by);
		return;
	}
	if (conf_load_file_report(conf.config_file, false, rep) < 0) {
		rep->status = CONF_RELOAD_FAILED;
		log_msg(LOG_CORE, LOG_IMPORTANT, "%s: %s not reloaded: it has errors; "
		    "the running configuration stays", by, conf.config_file);
		return;
	}
	route_reload_count(conf.cfg_routes, conf.n_cfg_routes, &rep->routes_added,
	    &rep->routes_removed);
	rep->status = rep->changed[0] || rep->routes_added || rep->routes_removed ?
	    CONF_RELOADED : CONF_UNCHANGED;
	log_msg(LOG_CORE, LOG_INFO, "%s: %s reloaded (%u routes and rules); %u added, "
	    "%u removed; options changed: %s%s%s", by, conf.config_file,
	    conf.n_cfg_routes, rep->routes_added, rep->routes_removed,
	    rep->changed[0] ? rep->changed : "none",
	    rep->restart[0] ? "; need a restart: " : "", rep->restart);
}

/* Whoever asked main.c's namespace lock who holds it has read our pid at
 * connect (SO_PEERCRED): their connections only need closing. */
static void
lock_answer(void)
{
	int c;

	while ((c = accept4(D.lock_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

int
manager_run(void)
{
	struct epoll_event evs[32];
	enum ev_kind k_wake = EV_WAKE, k_timer = EV_TIMER, k_sig = EV_SIGNAL,
	    k_nl = EV_NETLINK, k_kstate = EV_KSTATE;
	int nlfd, kfd;
	struct itimerspec its = { { 0, 250000000 }, { 0, 250000000 } };
	int epfd, tfd, sfd;
	sigset_t mask;
	bool stopping = false;
	uint64_t deadline = 0, now;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || sfd < 0)
		fatal("manager: cannot set up its event loop");
	timerfd_settime(tfd, 0, &its, NULL);
	hook_init(epfd);
	epoll_ctl(epfd, EPOLL_CTL_ADD, D.wake_fd,
	    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &k_wake });
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd,
	    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &k_timer });
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd,
	    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &k_sig });
	nlfd = nl_events_open();
	if (nlfd < 0)
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "no netlink events (%s): rp_filter "
		    "changes and deleted links are noticed later", strerror(-nlfd));
	else
		epoll_ctl(epfd, EPOLL_CTL_ADD, nlfd,
		    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &k_nl });
	kfd = nlc_open(manager_kstate_event, NULL, conf.max_mirror);
	if (kfd < 0)
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "no mirror of the kernel's routes (%s): "
		    "routes and rules deleted behind our back are not put back",
		    strerror(-kfd));
	else
		epoll_ctl(epfd, EPOLL_CTL_ADD, kfd,
		    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &k_kstate });
	now = now_ns();
	nt.wd_at = now;
	notify_status("READY=1\n", now);

	for (;;) {
		int n = epoll_wait(epfd, evs, 32, 1000);

		for (int i = 0; i < n; i++) {
			enum ev_kind *k = evs[i].data.ptr;
			uint64_t v;

			switch (*k) {
			case EV_WAKE:
				(void)!read(D.wake_fd, &v, sizeof(v));
				route_serve();
				if (conf_reload_pending()) {
					struct conf_report rep;

					manager_reload("gwlbctl reload", &rep);
					conf_reload_answer(&rep);
				}
				if (!stopping)
					lifecycle_take_creates();
				lifecycle_tick(now_ns(), false);
				/* A reply worker asked for a next hop. */
				if (conf.offload && !conf.no_return)
					nh_table_tick(now_ns());
				break;
			case EV_TIMER:
				(void)!read(tfd, &v, sizeof(v));
				now = now_ns();
				hook_tick(now);
				lock_answer();
				lifecycle_tick(now, true);
				stats_rates_tick(now);
				notify_tick(now, stopping);
				if (!conf.no_return)
					reply_expire(now);
				else
					qsbr_reclaim();	/* ENI slot arrays */
				/* Past --max-mirror: a dump now and then. */
				nlc_tick(now);
				if (kstate_dirty) {
					kstate_dirty = false;
					route_reconcile();
				}
				nlc_release();
				route_retry();
				break;
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						struct conf_report rep;

						manager_reload("SIGHUP", &rep);
						continue;
					}
					if (stopping)
						continue;
					log_msg(LOG_CORE, LOG_INFO, "%s: shutting down",
					    strsignal((int)si.ssi_signo));
					stopping = true;
					notify_send("STOPPING=1\nSTATUS=shutting down (%s)",
					    strsignal((int)si.ssi_signo));
					worker_stop_all();
					/* Creates that raced the stop never come up: they
					 * are still published, so the shutdown takes them. */
					(void)eni_take_creates();
					deadline = now_ns() + ((uint64_t)conf.hook_timeout_s + 2) *
					    1000000000ull;
					lifecycle_shutdown();
				}
				break;
			}
			case EV_NETLINK:
				nl_events_read(lifecycle_nl_event, NULL);
				break;
			case EV_KSTATE:
				nlc_read();
				if (kstate_dirty) {
					kstate_dirty = false;
					route_reconcile();
				}
				nlc_release();
				break;
			case EV_HOOK_PID:
			case EV_HOOK_OUT:
				hook_event(k, evs[i].events);
				lifecycle_reap();
				/* A finished hook's job is freed, and its other
				 * descriptor may still be in evs[]: end this batch
				 * (every fd here is level-triggered, so the rest
				 * comes back with the next epoll_wait). */
				n = i + 1;
				break;
			}
		}
		if (stopping) {
			hook_tick(now_ns());
			lifecycle_reap();
			if (lifecycle_idle() && hook_running() == 0)
				break;
			if (now_ns() > deadline) {
				log_msg(LOG_CORE, LOG_IMPORTANT, "shutdown: giving up on %u hooks: "
				    "killed", hook_running());
				hook_kill_all();
				lifecycle_give_up();
				break;
			}
		}
	}
	lifecycle_bury();
	nlc_close();
	close(sfd);
	close(tfd);
	close(epfd);
	return 0;
}

