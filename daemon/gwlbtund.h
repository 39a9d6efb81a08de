/*
 * gwlbtund: types shared by the daemon's modules.  The hot path (worker.c)
 * touches struct worker, struct eni and its per-thread counters only; the
 * manager thread (main.c) owns everything that is slow: links, hooks,
 * netlink, teardown.
 */
#ifndef GWLBTUND_H
#define GWLBTUND_H

#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "geneve.h"
#include "name.h"

#include "clock.h"
#include "conf.h"
#include "counters.h"

#define ENI_BACKLOG_MAX	1024	/* packets an ENI holds while its links come up */

enum eni_state {
	ENI_PENDING = 0,	/* links being created, CREATE hook running */
	ENI_UP,
	ENI_FAILED,		/* links could not be made: drop until retry */
	ENI_CLOSING,		/* unpublished, DESTROY hook and removal under way */
};

/* What a tun worker's epoll reports: one queue of one ENI's link. */
struct tunq {
	struct eni	*eni;
	int		fd;
	bool		out;		/* gwo- rather than gwi- */
};

struct flow_table;

struct backlog_pkt {
	uint16_t	len;
	uint8_t		data[];
};

struct eni {
	uint64_t	id;
	uint64_t	attachment;
	_Atomic int	state;
	char		if_in[NAME_IF_MAX];
	char		if_out[NAME_IF_MAX];
	char		hex[NAME_HEX_MAX];
	int		ifindex_in;
	int		ifindex_out;
	int		*qfd_in;	/* one queue per worker slot */
	int		*qfd_out;
	unsigned	nqueues;
	struct tunq	*tq;		/* epoll tags of the queues, in then out */
	struct flow_table *flows;	/* NULL with --no-return */

	pthread_mutex_t	bl_lock;	/* backlog, and PENDING -> UP */
	struct backlog_pkt *bl[ENI_BACKLOG_MAX];
	unsigned	bl_len;

	struct eni_stats *stats;	/* [nthreads] */
	struct eni_stats base;		/* counters reset: subtracted on read */
	_Atomic bool	broken;		/* a queue write said the link is gone */
	uint64_t	created_ns;
	time_t		created_wall;
	uint64_t	retry_ns;	/* ENI_FAILED: removed after this */

	/* manager-only */
	int		hook_state;	/* enum hook_state in hook.h */
	unsigned	hook_runs;
	unsigned	hook_failures;
	struct eni	*mgr_next;	/* create queue / closing list */
	uint64_t	qsbr_snap[MAX_WORKERS];
	bool		destroy_done;
	bool		create_running;	/* CREATE hook not finished */
	bool		links_made;
	unsigned	rp_reverts;	/* rp_filter set back to 0 */
};

/* Threads of the data path. */
enum worker_kind { WORKER_RX, WORKER_REPLY };

struct worker {
	struct thread_stats stats;
	_Atomic uint64_t qsbr __attribute__((aligned(CACHELINE)));	/* odd = online */
	_Atomic uint64_t heartbeat_ns;	/* each loop round: a stuck worker shows */
	unsigned	idx;		/* slot in eni->stats and the QSBR array */
	unsigned	kidx;		/* index among its kind */
	enum worker_kind kind;
	int		cpu;		/* pinned CPU or -1 */
	pid_t		tid;
	pthread_t	thread;
	int		fd;		/* rx: the UDP socket; tun: epoll */
	int		kick_fd;	/* tun: eventfd in the epoll set (qsbr_kick) */
	int		rcvbuf_granted;
	int		busy_poll_granted;
	void		*reply;		/* return-path state of a reply worker */
	struct stats_snap base;		/* counters reset: subtracted on read */
};

struct daemon_state {
	struct worker	*workers;	/* rx first, then tun */
	unsigned	n_rx;
	unsigned	n_tun;
	unsigned	nthreads;	/* workers + the manager's slot */
	unsigned	mgr_slot;	/* eni->stats index the manager uses */
	struct thread_stats mgr_stats;
	struct stats_snap mgr_base;
	_Atomic bool	stopping;
	int		wake_fd;	/* eventfd: ENI creation requests */
	uint32_t	link_group;	/* IFLA_GROUP of our links: ours alone */
	_Atomic uint64_t rp_reverts;	/* rp_filter flipped on a link of ours and set back */
	_Atomic uint64_t links_lost;	/* links of ours deleted behind our back */
	_Atomic uint64_t nl_resyncs;	/* event socket overflows */
	time_t		started_wall;
	uint64_t	started_ns;
};

extern struct daemon_state D;

/* worker.c */
int worker_start_all(void);
void worker_stop_all(void);
int worker_deliver(struct eni *e, unsigned slot, int fd, const uint8_t *p,
    size_t len, struct thread_stats *ts);

/* eni.c: the table and the ENI life cycle */
int eni_table_init(unsigned max_enis);
struct eni *eni_lookup(uint64_t id);
struct eni *eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts);
void eni_backlog_or_deliver(struct eni *e, unsigned slot, unsigned queue,
    const uint8_t *p, size_t len, struct thread_stats *ts);
unsigned eni_count(void);
/* The manager loop: returns after SIGTERM/SIGINT once every ENI is gone. */
int eni_manager_run(void);
/* Call fn on every published ENI with the table locked (for readers). */
void eni_foreach(void (*fn)(struct eni *, void *), void *arg);
/* Manager only: fn on every UP ENI, without the table lock held. */
void eni_foreach_manager(void (*fn)(struct eni *));
/* Ask the manager to tear one ENI down; -ENOENT if there is none. */
int eni_request_destroy(uint64_t id);
/* Sum of one ENI's per-thread counters. */
void eni_stats_sum(const struct eni *e, struct eni_stats *out);
uint64_t eni_idle_ns(const struct eni *e, uint64_t now);

void qsbr_snapshot_into(uint64_t *snap);
/* Wake the tun workers so a grace period started now ends soon. */
void qsbr_kick(void);
bool qsbr_passed_since(const uint64_t *snap);

/* QSBR: a grace period lets the manager free what workers may still use. */
static inline void
qsbr_online(struct worker *w)
{
	atomic_fetch_add(&w->qsbr, 1);	/* becomes odd */
}

static inline void
qsbr_offline(struct worker *w)
{
	atomic_fetch_add(&w->qsbr, 1);	/* becomes even */
}

#endif
