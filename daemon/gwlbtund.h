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

struct ctl_cmd_args;

#define CACHELINE	64
#define MAX_WORKERS	256
#define MAX_ORIGINS	32
#define ENI_BACKLOG_MAX	1024	/* packets an ENI holds while its links come up */

/* Every reason a packet is dropped; each has a counter per thread. */
enum drop_reason {
	DROP_TRUNCATED = 0,	/* datagram larger than the receive buffer */
	DROP_ORIGIN,		/* outer source not in --allowed-origin */
	DROP_NOT_IPV4,		/* outer not IPv4 (GWLB always sends IPv4) */
	DROP_GENEVE,		/* first of GENEVE_ERR__MAX - 1 decoder reasons */
	DROP_ENI_LIMIT = DROP_GENEVE + GENEVE_ERR__MAX - 1,	/* --max-enis reached */
	DROP_BACKLOG_FULL,	/* ENI still coming up and its backlog is full */
	DROP_ENI_FAILED,	/* the ENI's links could not be created */
	DROP_ENI_CLOSING,	/* the ENI is being torn down */
	DROP_TUN_WRITE,		/* write to the TUN queue failed */
	DROP_TUN_READ,		/* reading a reply from a TUN queue failed */
	DROP_NO_FLOW,		/* reply with no flow to return it on */
	DROP_LINK_LOCAL,	/* the kernel's own link-local traffic (MLD, RS): no flow can carry it */
	DROP_TOO_BIG,		/* reply larger than GWLB's MTU (it would lose it) */
	DROP_REPLY_BAD,		/* reply not a parsable IPv4/IPv6 packet */
	DROP_SEND,		/* sending the reply to GWLB failed */
	DROP__MAX
};

const char *drop_str(enum drop_reason r);

static inline enum drop_reason
drop_from_geneve(enum geneve_err e)
{
	return (enum drop_reason)(DROP_GENEVE + (int)e - 1);
}

struct origin {
	uint32_t	addr;	/* network order */
	uint32_t	mask;	/* network order */
};

struct config {
	const char	*create_hook;		/* -c */
	const char	*destroy_hook;		/* -r */
	unsigned	idle_teardown_s;	/* -t, 0 = never */
	unsigned	tcp_idle_s;		/* -i */
	unsigned	udp_idle_s;		/* --udp-idle */
	unsigned	health_port;		/* -p, 0 = off */
	bool		health_json;		/* -j */
	bool		health_status_only;	/* -s */
	unsigned	rx_threads;
	cpu_set_t	rx_cpus;
	bool		rx_pinned;
	unsigned	tun_threads;
	cpu_set_t	tun_cpus;
	bool		tun_pinned;
	bool		no_return;
	unsigned	geneve_port;
	struct in_addr	bind_addr;
	unsigned	batch;
	unsigned	rcvbuf;
	unsigned	busy_poll_us;
	struct origin	origins[MAX_ORIGINS];
	unsigned	n_origins;
	unsigned	max_enis;
	unsigned	mtu;
	unsigned	txqueuelen;
	unsigned	hook_timeout_s;
	unsigned	max_flows_per_eni;
	const char	*control_path;
	gid_t		control_gid;	/* (gid_t)-1: root only */
	const char	*logging;
	const char	*config_file;		/* --config */
	const char	*route_hook;		/* --route-hook */
	uint32_t	table_lo, table_hi;	/* --table-range */
	bool		forwarding;		/* --forwarding */
	struct ctl_cmd_args *cfg_routes;	/* route/rule lines of the config */
	unsigned	n_cfg_routes;
};

extern struct config conf;

/* Statistics a thread keeps for itself; summed on read. */
struct thread_stats {
	_Atomic uint64_t packets;	/* rx: datagrams received; tun: replies read */
	_Atomic uint64_t bytes;
	_Atomic uint64_t batches;	/* recvmmsg / read rounds that returned data */
	_Atomic uint64_t delivered;	/* rx: written to a gwi- link; tun: sent to GWLB */
	_Atomic uint64_t delivered_bytes; /* their inner bytes */
	_Atomic uint64_t drops[DROP__MAX];
	_Atomic uint64_t kernel_drops;	/* SO_RXQ_OVFL: the socket's own drops */
} __attribute__((aligned(CACHELINE)));

/* A sum of thread counters (stats.c). */
struct stats_snap {
	uint64_t	packets, bytes, batches, delivered, delivered_bytes, kernel_drops, drops;
	uint64_t	drop[DROP__MAX];
};

/* Per-ENI counters, one slot per thread. */
struct eni_stats {
	_Atomic uint64_t pkts_in;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t pkts_out;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t drops;
	_Atomic uint64_t last_ns;	/* monotonic, last packet either way */
} __attribute__((aligned(CACHELINE)));

#define STAT_ADD(field, v) \
	atomic_store_explicit(&(field), atomic_load_explicit(&(field), \
	    memory_order_relaxed) + (v), memory_order_relaxed)
#define STAT_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

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
	_Atomic uint32_t table;		/* its own routing table, 0 = none */
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

uint64_t now_ns(void);

/* conf.c */
int conf_parse(int argc, char **argv);
/* Read the configuration file into conf (routes in cfg_routes). 0, or -1
 * with a "file:line: reason" message printed to stderr / logged. */
int conf_load_file(const char *path, bool at_start);

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

/* Adds ts minus its `counters reset` baseline to out. */
/* stats.c: sums for gwlbctl and the health page */
void stats_thread(const struct thread_stats *ts, const struct stats_snap *base,
    struct stats_snap *out);
void stats_worker(const struct worker *w, struct stats_snap *out);
/* One ENI as gwlbctl and the health page show it. */
struct eni_view {
	const char	*state;
	uint64_t	pkts_in, bytes_in, pkts_out, bytes_out, drops;
	uint64_t	flows, flow_inserts, flow_evictions, flow_expired, flow_refused;
	uint64_t	idle_ns;
};
void eni_view(const struct eni *e, uint64_t now, struct eni_view *v);
/* `gwlbctl counters reset`: what is counted now becomes the new zero. */
void stats_reset(void);
/* Sums over every thread of a kind (WORKER_RX, WORKER_REPLY) or all (-1). */
void stats_kind(int kind, struct stats_snap *out);
/* Workers whose loop has not turned for too long (0 = healthy). */
unsigned stats_stuck_workers(uint64_t now, uint64_t limit_ns);

/* health.c */
int health_start(void);
void health_stop(void);

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
