/*
 * The ENI table: the lock-free map the workers look endpoints up in, the
 * backlog a new ENI's first packets wait in, and the queues through which
 * workers and gwlbctl hand work to the manager (ENIs to create, ENIs to
 * destroy), each waking it through D.wake_fd.  It never calls up into the
 * manager: the manager takes what the queues hold.
 *
 * The table is open addressing over atomic pointers, sized at twice
 * --max-enis and never resized.  Workers read it with acquire loads and no
 * lock; only inserts (a worker meeting an unknown ENI: rare) and removals
 * (the manager) take tbl_lock.  A removed slot becomes a tombstone, so
 * probe chains stay intact for concurrent readers.  Memory a worker might
 * still be using is freed only after a QSBR grace period (qsbr.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bytes.h"
#include "clock.h"
#include "eni_table.h"
#include "flow.h"
#include "log.h"
#include "state.h"
#include "tun.h"

static _Atomic(struct eni *) *slots;
static unsigned slot_mask;
static pthread_mutex_t tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_live;
static struct eni tombstone;
#define TOMB (&tombstone)

/* Created by workers, taken by the manager (tbl_lock). */
static struct eni *create_q;
static _Atomic uint64_t destroy_req[64];	/* ids asked by `eni destroy` */
static unsigned n_destroy_req;
static pthread_mutex_t destroy_lock = PTHREAD_MUTEX_INITIALIZER;

/* Allocated and not yet freed: what --max-enis bounds (eni_held). */
static _Atomic unsigned n_held;
/* Bytes in all backlogs: workers add, the manager takes away (flush, drop). */
static _Atomic uint64_t bl_total;

static struct log_rl rl_limit = LOG_RL_INIT(10, 3);
static struct log_rl rl_tun_write = LOG_RL_INIT(10, 5);

static void
wake_manager(void)
{
	uint64_t one = 1;

	(void)!write(D.wake_fd, &one, sizeof(one));
}

int
eni_table_init(unsigned max_enis)
{
	unsigned n = 16;

	while (n < max_enis * 2)
		n <<= 1;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	slot_mask = n - 1;
	return 0;
}

struct eni *
eni_lookup(uint64_t id)
{
	unsigned h = (unsigned)mix64(id);

	for (unsigned i = 0; i <= slot_mask; i++) {
		struct eni *e = atomic_load_explicit(&slots[(h + i) & slot_mask],
		    memory_order_acquire);

		if (!e)
			return NULL;
		if (e != TOMB && e->id == id)
			return e;
	}
	return NULL;
}

unsigned
eni_count(void)
{
	unsigned n;

	pthread_mutex_lock(&tbl_lock);
	n = n_live;
	pthread_mutex_unlock(&tbl_lock);
	return n;
}

unsigned
eni_held(void)
{
	return atomic_load_explicit(&n_held, memory_order_relaxed);
}

uint64_t
eni_backlog_bytes(void)
{
	return atomic_load_explicit(&bl_total, memory_order_relaxed);
}

void
eni_free(struct eni *e)
{
	for (unsigned i = 0; i < e->bl_len; i++)
		free(e->bl[i]);
	atomic_fetch_sub_explicit(&bl_total, e->bl_bytes, memory_order_relaxed);
	atomic_fetch_sub_explicit(&n_held, 1, memory_order_relaxed);
	if (e->flows)
		flow_table_free(e->flows);
	pthread_mutex_destroy(&e->bl_lock);
	free(e->tq);
	free(e->qfd_in);
	free(e->qfd_out);
	free(e->stats);
	free(e);
}

static struct eni *
eni_alloc(uint64_t id, uint64_t attachment)
{
	struct eni *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	atomic_fetch_add_explicit(&n_held, 1, memory_order_relaxed);	/* eni_free takes it */
	e->id = id;
	e->attachment = attachment;
	e->nqueues = D.n_rx > D.n_tun ? D.n_rx : D.n_tun;
	e->qfd_in = malloc(sizeof(int) * e->nqueues);
	e->qfd_out = malloc(sizeof(int) * e->nqueues);
	e->tq = calloc(2 * e->nqueues, sizeof(*e->tq));
	e->stats = aligned_alloc(CACHELINE, sizeof(struct eni_stats) * D.nthreads);
	if (!conf.no_return)
		e->flows = flow_table_new(conf.max_flows_per_eni);
	if (!e->qfd_in || !e->qfd_out || !e->tq || !e->stats ||
	    (!conf.no_return && !e->flows)) {
		eni_free(e);
		return NULL;
	}
	memset(e->stats, 0, sizeof(struct eni_stats) * D.nthreads);
	for (unsigned i = 0; i < e->nqueues; i++)
		e->qfd_in[i] = e->qfd_out[i] = -1;
	for (unsigned i = 0; i < 2 * e->nqueues; i++)
		e->tq[i].fd = -1;	/* not watched until link_watch_queues */
	pthread_mutex_init(&e->bl_lock, NULL);
	name_ifname(id, NAME_IN, e->if_in);
	if (conf.no_return)
		strcpy(e->if_out, "none");
	else
		name_ifname(id, NAME_OUT, e->if_out);
	name_hex(id, e->hex);
	e->created_ns = now_ns();
	e->created_wall = time(NULL);
	atomic_store(&e->state, ENI_PENDING);
	return e;
}

struct eni *
eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts)
{
	struct eni *e;
	unsigned h, i, free_slot = ~0u;

	pthread_mutex_lock(&tbl_lock);
	e = eni_lookup(id);
	if (e)
		goto out;
	/* Closing ENIs count too: their links and DESTROY hooks are still there. */
	if (eni_held() >= conf.max_enis) {
		pthread_mutex_unlock(&tbl_lock);
		STAT_ADD(ts->drops[DROP_ENI_LIMIT], 1);
		log_rl(&rl_limit, LOG_CORE, LOG_IMPORTANT,
		    "ENI %017llx dropped: --max-enis %u reached",
		    (unsigned long long)id, conf.max_enis);
		return NULL;
	}
	h = (unsigned)mix64(id);
	for (i = 0; i <= slot_mask; i++) {
		struct eni *s = atomic_load_explicit(&slots[(h + i) & slot_mask],
		    memory_order_relaxed);

		if (!s || s == TOMB) {
			free_slot = (h + i) & slot_mask;
			break;
		}
	}
	e = free_slot == ~0u ? NULL : eni_alloc(id, attachment);
	if (!e) {
		pthread_mutex_unlock(&tbl_lock);
		STAT_ADD(ts->drops[DROP_ENI_LIMIT], 1);
		log_rl(&rl_limit, LOG_CORE, LOG_IMPORTANT,
		    "ENI %017llx dropped: out of memory", (unsigned long long)id);
		return NULL;
	}
	atomic_store_explicit(&slots[free_slot], e, memory_order_release);
	n_live++;
	e->mgr_next = create_q;
	create_q = e;
	wake_manager();
out:
	pthread_mutex_unlock(&tbl_lock);
	(void)slot;
	return e;
}

void
eni_unpublish(struct eni *e)
{
	unsigned h = (unsigned)mix64(e->id);

	pthread_mutex_lock(&tbl_lock);
	for (unsigned i = 0; i <= slot_mask; i++) {
		unsigned k = (h + i) & slot_mask;

		if (atomic_load_explicit(&slots[k], memory_order_relaxed) == e) {
			/* A tombstone followed by an empty slot could be emptied,
			 * but a probe chain through it may belong to another id. */
			atomic_store_explicit(&slots[k], TOMB, memory_order_release);
			n_live--;
			break;
		}
	}
	pthread_mutex_unlock(&tbl_lock);
}

void
eni_foreach(void (*fn)(struct eni *, void *), void *arg)
{
	pthread_mutex_lock(&tbl_lock);
	for (unsigned i = 0; i <= slot_mask; i++) {
		struct eni *e = atomic_load_explicit(&slots[i], memory_order_relaxed);

		if (e && e != TOMB)
			fn(e, arg);
	}
	pthread_mutex_unlock(&tbl_lock);
}

void
eni_stats_sum(const struct eni *e, struct eni_stats *out)
{
	uint64_t last = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < D.nthreads; i++) {
		const struct eni_stats *s = &e->stats[i];
		uint64_t l = STAT_GET(s->last_ns);

		STAT_ADD(out->pkts_in, STAT_GET(s->pkts_in));
		STAT_ADD(out->bytes_in, STAT_GET(s->bytes_in));
		STAT_ADD(out->pkts_out, STAT_GET(s->pkts_out));
		STAT_ADD(out->bytes_out, STAT_GET(s->bytes_out));
		STAT_ADD(out->drops, STAT_GET(s->drops));
		if (l > last)
			last = l;
	}
	STAT_ADD(out->pkts_in, -STAT_GET(e->base.pkts_in));
	STAT_ADD(out->bytes_in, -STAT_GET(e->base.bytes_in));
	STAT_ADD(out->pkts_out, -STAT_GET(e->base.pkts_out));
	STAT_ADD(out->bytes_out, -STAT_GET(e->base.bytes_out));
	STAT_ADD(out->drops, -STAT_GET(e->base.drops));
	atomic_store(&out->last_ns, last);
}

uint64_t
eni_idle_ns(const struct eni *e, uint64_t now)
{
	uint64_t last = e->created_ns;

	for (unsigned i = 0; i < D.nthreads; i++) {
		uint64_t l = STAT_GET(e->stats[i].last_ns);

		if (l > last)
			last = l;
	}
	return now > last ? now - last : 0;
}

int
eni_deliver(struct eni *e, unsigned slot, int fd, const uint8_t *p, size_t len,
    struct thread_stats *ts)
{
	struct eni_stats *es = &e->stats[slot];
	/* A plain packet on a vnet queue: an empty header (no GSO, checksums
	 * complete) in front of it. */
	static const uint8_t no_vnet[TUN_VNET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)no_vnet, .iov_len = sizeof(no_vnet) },
		{ .iov_base = (void *)(uintptr_t)p, .iov_len = len },
	};
	ssize_t r = e->vnet ? writev(fd, iov, 2) : write(fd, p, len);

	if (r < 0) {
		/* EBADFD: the link was deleted behind our back.  (EIO is a link
		 * an operator set down: counted, left as the operator wants.) */
		if (errno == EBADFD || errno == ENODEV)
			atomic_store_explicit(&e->broken, true, memory_order_relaxed);
		STAT_ADD(ts->drops[DROP_TUN_WRITE], 1);
		STAT_ADD(es->drops, 1);
		log_rl(&rl_tun_write, LOG_TUNNEL, LOG_IMPORTANT,
		    "write to %s: %s", e->if_in, strerror(errno));
		return -1;
	}
	STAT_ADD(ts->delivered, 1);
	STAT_ADD(ts->delivered_bytes, len);
	return 0;
}

int
eni_deliver_gso(struct eni *e, unsigned slot, int fd, const struct iovec *iov,
    unsigned iovcnt, unsigned nsegs, size_t seg_bytes, struct thread_stats *ts)
{
	struct eni_stats *es = &e->stats[slot];

	/* TUN takes a GSO packet from us whatever TUNSETOFFLOAD allowed: the
	 * offloads say what it may hand us, not what we may give it. */
	if (writev(fd, iov, (int)iovcnt) < 0) {
		if (errno == EBADFD || errno == ENODEV)
			atomic_store_explicit(&e->broken, true, memory_order_relaxed);
		STAT_ADD(ts->drops[DROP_TUN_WRITE], nsegs);
		STAT_ADD(es->drops, nsegs);
		log_rl(&rl_tun_write, LOG_TUNNEL, LOG_IMPORTANT,
		    "write of %u coalesced segments to %s: %s", nsegs, e->if_in,
		    strerror(errno));
		return -1;
	}
	STAT_ADD(ts->delivered, nsegs);
	STAT_ADD(ts->delivered_bytes, seg_bytes);
	return 0;
}

void
eni_backlog_or_deliver(struct eni *e, unsigned slot, unsigned queue, const uint8_t *p,
    size_t len, struct thread_stats *ts)
{
	size_t size = sizeof(struct backlog_pkt) + len;
	struct backlog_pkt *b = NULL;
	enum drop_reason why;
	int state;

	pthread_mutex_lock(&e->bl_lock);
	state = atomic_load_explicit(&e->state, memory_order_acquire);
	if (state == ENI_UP) {
		/* The queue descriptors are only sure to be there once UP was
		 * seen (under bl_lock, where the manager set it). */
		int fd = e->qfd_in[queue];

		pthread_mutex_unlock(&e->bl_lock);
		eni_deliver(e, slot, fd, p, len, ts);
		return;
	}
	why = state == ENI_FAILED ? DROP_ENI_FAILED : DROP_ENI_CLOSING;
	if (state == ENI_PENDING) {
		why = DROP_BACKLOG_FULL;
		/* The total is reserved before the packet is copied, so that
		 * concurrent workers never hold more than --backlog-bytes. */
		if (e->bl_len < ENI_BACKLOG_MAX &&
		    e->bl_bytes + size <= conf.backlog_bytes / ENI_BACKLOG_SHARE) {
			why = DROP_BACKLOG_BYTES;
			if (atomic_fetch_add_explicit(&bl_total, size, memory_order_relaxed) +
			    size > conf.backlog_bytes ||
			    !(b = malloc(size)))
				atomic_fetch_sub_explicit(&bl_total, size, memory_order_relaxed);
		}
	}
	if (!b) {
		pthread_mutex_unlock(&e->bl_lock);
		STAT_ADD(ts->drops[why], 1);
		STAT_ADD(e->stats[slot].drops, 1);
		return;
	}
	b->len = (uint16_t)len;
	memcpy(b->data, p, len);
	e->bl[e->bl_len++] = b;
	e->bl_bytes += size;
	pthread_mutex_unlock(&e->bl_lock);
}

/* Manager, bl_lock held: the backlog is empty again. */
static void
backlog_clear(struct eni *e)
{
	for (unsigned i = 0; i < e->bl_len; i++)
		free(e->bl[i]);
	atomic_fetch_sub_explicit(&bl_total, e->bl_bytes, memory_order_relaxed);
	e->bl_bytes = 0;
	e->bl_len = 0;
}

void
eni_backlog_flush(struct eni *e)
{
	pthread_mutex_lock(&e->bl_lock);
	for (unsigned i = 0; i < e->bl_len; i++)
		eni_deliver(e, D.mgr_slot, e->qfd_in[0], e->bl[i]->data,
		    e->bl[i]->len, &D.mgr_stats);
	if (e->bl_len)
		log_msg(LOG_TUNNEL, LOG_DEBUG, "%s: delivered %u packets held while it came up",
		    e->if_in, e->bl_len);
	backlog_clear(e);
	atomic_store_explicit(&e->state, ENI_UP, memory_order_release);
	pthread_mutex_unlock(&e->bl_lock);
}

void
eni_backlog_drop(struct eni *e, enum drop_reason why)
{
	pthread_mutex_lock(&e->bl_lock);
	STAT_ADD(D.mgr_stats.drops[why], e->bl_len);
	STAT_ADD(e->stats[D.mgr_slot].drops, e->bl_len);
	backlog_clear(e);
	pthread_mutex_unlock(&e->bl_lock);
}

int
eni_request_destroy(uint64_t id)
{
	int ret = 0;
	bool found;

	/* Under the table lock: this thread is no QSBR reader. */
	pthread_mutex_lock(&tbl_lock);
	found = eni_lookup(id) != NULL;
	pthread_mutex_unlock(&tbl_lock);
	if (!found)
		return -ENOENT;
	pthread_mutex_lock(&destroy_lock);
	if (n_destroy_req == sizeof(destroy_req) / sizeof(destroy_req[0]))
		ret = -EBUSY;
	else
		destroy_req[n_destroy_req++] = id;
	pthread_mutex_unlock(&destroy_lock);
	if (!ret)
		wake_manager();
	return ret;
}

unsigned
eni_take_destroy_requests(uint64_t *ids, unsigned max)
{
	unsigned n;

	pthread_mutex_lock(&destroy_lock);
	n = n_destroy_req < max ? n_destroy_req : max;
	for (unsigned i = 0; i < n; i++)
		ids[i] = atomic_load(&destroy_req[i]);
	n_destroy_req = 0;
	pthread_mutex_unlock(&destroy_lock);
	return n;
}

struct eni *
eni_take_creates(void)
{
	struct eni *q, *next, *rev = NULL;

	pthread_mutex_lock(&tbl_lock);
	q = create_q;
	create_q = NULL;
	pthread_mutex_unlock(&tbl_lock);
	/* The queue is newest first: hand them over in arrival order. */
	for (; q; q = next) {
		next = q->mgr_next;
		q->mgr_next = rev;
		rev = q;
	}
	return rev;
}

unsigned
eni_collect(struct eni **list, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&tbl_lock);
	for (unsigned i = 0; i <= slot_mask && n < max; i++) {
		struct eni *e = atomic_load(&slots[i]);

		if (e && e != TOMB)
			list[n++] = e;
	}
	pthread_mutex_unlock(&tbl_lock);
	return n;
}

void
eni_table_fini(void)
{
	struct eni *list[64];
	unsigned n;

	/* Nothing runs any more: no grace period to wait for. */
	while ((n = eni_collect(list, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			eni_unpublish(list[i]);
			eni_free(list[i]);
		}
	}
	create_q = NULL;
	n_destroy_req = 0;
	free(slots);
	slots = NULL;
	slot_mask = 0;
}
