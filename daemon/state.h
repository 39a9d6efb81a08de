/*
 * What every module of the daemon may read about the running daemon:
 * its workers, the manager's counter slot and wake-up descriptor, the link
 * group of our links and daemon-wide counters.  Filled by main() before
 * any thread starts.  A leaf: it depends only on counters.h.
 */
#ifndef GWLBTUND_STATE_H
#define GWLBTUND_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "counters.h"

struct worker;
struct ctl_server;

struct daemon_state {
	struct worker	*workers;	/* rx first, then reply */
	unsigned	n_rx;
	unsigned	n_tun;
	unsigned	nthreads;	/* workers + the manager's slot */
	unsigned	mgr_slot;	/* eni->stats index the manager uses */
	struct thread_stats mgr_stats;
	struct stats_snap mgr_base;
	_Atomic bool	stopping;
	int		wake_fd;	/* eventfd: ENI creation requests */
	int		lock_fd;	/* the namespace lock (main.c), listening */
	_Atomic uint64_t rp_reverts;	/* rp_filter flipped on a link of ours and set back */
	_Atomic uint64_t links_lost;	/* links of ours deleted behind our back */
	_Atomic uint64_t nl_resyncs;	/* event socket overflows */
	_Atomic uint64_t routes_restored;	/* ours, deleted or changed by hand, put back */
	_Atomic uint64_t rules_restored;
	/* The control server while it runs (ctl_handlers.c), for its counters. */
	struct ctl_server *_Atomic ctl;
	struct {			/* the health check (health.c) */
		_Atomic uint64_t served;	/* answered 200/503 */
		_Atomic uint64_t bad_requests;	/* answered 400/405/431 */
		_Atomic uint64_t evicted;	/* closed to make room for a new one */
		_Atomic uint64_t timed_out;	/* closed at their deadline */
		_Atomic uint64_t refused;	/* closed at accept: out of memory */
		_Atomic uint64_t accept_errors;	/* EMFILE and the like: accepting paused */
	} health;
	unsigned	fd_need;	/* descriptors the limits can use (main.c) */
	unsigned	fd_limit;	/* RLIMIT_NOFILE's soft limit in force */
	time_t		started_wall;
	uint64_t	started_ns;
};

extern struct daemon_state D;

#endif
