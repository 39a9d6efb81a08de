/*
 * The ENI table (eni_table.c): struct eni, the lock-free lookup the workers
 * use, the backlog of ENIs coming up, and the request queues the manager
 * takes work from.
 */
#ifndef GWLBTUND_ENI_TABLE_H
#define GWLBTUND_ENI_TABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "counters.h"
#include "name.h"
#include "qsbr.h"

#define ENI_BACKLOG_MAX	1024	/* packets an ENI holds while its links come up */
/* And bytes: all ENIs together at most --backlog-bytes, one ENI at most
 * this fraction of it (1/8), so that one cannot hold up all the others. */
#define ENI_BACKLOG_SHARE	8

enum eni_state {
	ENI_PENDING = 0,	/* links being created, CREATE hook running */
	ENI_UP,
	ENI_FAILED,		/* links could not be made: drop until retry */
	ENI_CLOSING,		/* unpublished, DESTROY hook and removal under way */
};

/* What a reply worker's epoll reports: one queue of one ENI's link. */
struct tunq {
	struct eni	*eni;
	int		fd;
	bool		out;		/* gwo- rather than gwi- */
};

struct flow_table;

/* The rates of show enis (stats.c): an ENI's counters, sampled about once
 * a second; a rate is the growth since the oldest sample (or since the
 * ENI appeared). */
#define ENI_RATE_SAMPLES	5

struct eni_rate_sample {
	uint64_t	ns, pkts_in, bytes_in, pkts_out, bytes_out;
};

struct backlog_pkt {
	uint16_t	len;
	uint8_t		data[];
};

/* A field the manager writes and reports read concurrently (see struct eni). */
#define ENI_SET(field, v)	__atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define ENI_GET(field)		__atomic_load_n(&(field), __ATOMIC_RELAXED)

struct eni {
	uint64_t	id;
	uint64_t	attachment;
	_Atomic int	state;
	char		if_in[NAME_IF_MAX];
	char		if_out[NAME_IF_MAX];
	char		hex[NAME_HEX_MAX];
	/* ifindex_*, offloads, hook_*, rp_reverts: written by the manager
	 * only, read by the reports (show eni, the health page) on other
	 * threads while they walk the table without a lock: through ENI_SET
	 * and ENI_GET, relaxed atomics. */
	int		ifindex_in;
	int		ifindex_out;
	int		*qfd_in;	/* one queue per worker slot */
	int		*qfd_out;
	unsigned	nqueues;
	bool		vnet;		/* queues carry a virtio_net_hdr (--offload) */
	unsigned	offloads;	/* TUN_F_* the kernel may hand us on them */
	struct tunq	*tq;		/* epoll tags of the queues, in then out */
	struct flow_table *flows;	/* NULL with --no-return */

	pthread_mutex_t	bl_lock;	/* backlog, and PENDING -> UP */
	struct backlog_pkt *bl[ENI_BACKLOG_MAX];
	unsigned	bl_len;		/* these two: written under bl_lock with */
	size_t		bl_bytes;	/* __atomic stores, read by reports without
					 * it; bl_bytes is what bl[] holds, as
					 * counted in the total */

	struct eni_stats *stats;	/* [nthreads] */
	struct eni_stats base;		/* counters reset: subtracted on read */
	/* Its drops by reason, for /metrics: shared by the threads (a drop is
	 * rare; an array per thread would cost 29 words per thread and ENI). */
	_Atomic uint64_t drop_by[DROP__MAX];
	_Atomic bool	broken;		/* a queue write said the link is gone */
	/* gwi-X set down (IFF_UP off) by someone: written by the manager from
	 * the link's netlink events, once per change, read by the reports. */
	_Atomic bool	link_down;
	uint64_t	created_ns;
	time_t		created_wall;
	uint64_t	retry_ns;	/* ENI_FAILED: removed after this */
	/* Written by the manager, read by the reports: under stats.c's
	 * rate_lock (the table walks take no lock). */
	struct eni_rate_sample rate[ENI_RATE_SAMPLES];
	unsigned	rate_next;	/* where the next sample goes */
	unsigned	rate_n;		/* samples taken, at most ENI_RATE_SAMPLES */

	/* manager-only */
	int		hook_state;	/* enum hook_state in hook.h */
	unsigned	hook_runs;
	unsigned	hook_failures;
	struct eni	*mgr_next;	/* create queue / closing list */
	uint64_t	qsbr_snap[QSBR_MAX_READERS];
	bool		destroy_done;
	bool		create_running;	/* CREATE hook not finished */
	bool		links_made;
	bool		recreate;	/* made again once gone (--max-enis was reached) */
	unsigned	rp_reverts;	/* rp_filter set back to 0 */
};

int eni_table_init(unsigned max_enis);
/* Free the table and every ENI still in it (tests; the daemon exits). */
void eni_table_fini(void);
/* Lock-free: workers, inside their QSBR online section. */
struct eni *eni_lookup(uint64_t id);
/* Slots eni_lookup(id) reads (tests: probe chains stay short). */
unsigned eni_lookup_probes(uint64_t id);
/* A worker met an unknown ENI: publish it PENDING and queue it for the
 * manager; NULL (counted in ts) at --max-enis (eni_held) or out of memory.
 * ts NULL: the manager makes an ENI again (no packet is lost): NULL at the
 * limit or out of memory, counted nowhere and not logged. */
struct eni *eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts);
/* Manager: free old (unpublished, its links gone) and publish a new ENI of
 * its id and attachment in its place under --max-enis, which no worker can
 * take in between; NULL (nothing counted) out of memory. */
struct eni *eni_remake(struct eni *old);
/* Write one inner packet to a queue of e's gwi- link, counted in ts. */
int eni_deliver(struct eni *e, unsigned slot, int fd, const uint8_t *p,
    size_t len, struct thread_stats *ts);
/* eni_deliver for a packet with TUN_VNET_HDR_LEN bytes before p that the
 * caller gives up (they may be overwritten): the receive path's, whose
 * GENEVE header is no longer needed once the packet is written. */
int eni_deliver_room(struct eni *e, unsigned slot, int fd, uint8_t *p,
    size_t len, struct thread_stats *ts);
/* Write one super-packet (iov: the virtio_net_hdr, the headers, the
 * payloads) to a vnet queue of e's gwi- link; it stands for nsegs inner
 * packets of seg_bytes in all, counted as such in ts. */
struct iovec;
int eni_deliver_gso(struct eni *e, unsigned slot, int fd, const struct iovec *iov,
    unsigned iovcnt, unsigned nsegs, size_t seg_bytes, struct thread_stats *ts);
/* A PENDING ENI: hold the packet (bounded); UP by now: deliver it. */
void eni_backlog_or_deliver(struct eni *e, unsigned slot, unsigned queue,
    const uint8_t *p, size_t len, struct thread_stats *ts);
/* Manager: deliver what the backlog holds, in order, and mark e UP. */
void eni_backlog_flush(struct eni *e);
/* Manager: drop what the backlog holds, counted as why. */
void eni_backlog_drop(struct eni *e, enum drop_reason why);
/* Published ENIs (the table's). */
unsigned eni_count(void);
/* ENIs that count towards --max-enis: every one allocated and not yet
 * freed, published or on its way out (DESTROY hook, links being removed). */
unsigned eni_held(void);
/* Bytes the backlogs of all ENIs hold (each packet with its header). */
uint64_t eni_backlog_bytes(void);
/* Call fn on every published ENI, holding no lock: the walk is a QSBR
 * reader (what it sees stays allocated until it ends), so fn may be slow. */
void eni_foreach(void (*fn)(struct eni *, void *), void *arg);
/* Up to max published ENIs, collected under the lock, used without it. */
unsigned eni_collect(struct eni **list, unsigned max);
/* Ask the manager to tear one ENI down; -ENOENT if there is none. */
int eni_request_destroy(uint64_t id);
/* Manager: the ids asked for since the last call. */
unsigned eni_take_destroy_requests(uint64_t *ids, unsigned max);
/* Manager: the ENIs workers created since the last call, oldest first,
 * linked through mgr_next. */
struct eni *eni_take_creates(void);
/* Manager: take e out of the table (its memory stays until eni_free). */
void eni_unpublish(struct eni *e);
void eni_free(struct eni *e);
/* Sum of one ENI's per-thread counters; less the base of the last
 * `counters reset` unless raw (raw sums only grow: rates, /metrics). */
void eni_stats_sum(const struct eni *e, bool raw, struct eni_stats *out);

/* n packets of e dropped for why, as well as in its per-thread drops. */
static inline void
eni_drop_count(struct eni *e, enum drop_reason why, uint64_t n)
{
	atomic_fetch_add_explicit(&e->drop_by[why], n, memory_order_relaxed);
}
uint64_t eni_idle_ns(const struct eni *e, uint64_t now);

#endif
