/*
 * The ENI table: the lock-free map the workers look endpoints up in, the
 * backlog a new ENI's first packets wait in, and the queues through which
 * workers and gwlbctl hand work to the manager (ENIs to create, ENIs to
 * destroy), each waking it through D.wake_fd.  It never calls up into the
 * manager: the manager takes what the queues hold.
 *
 * The table is open addressing over atomic pointers, sized at twice
 * --max-enis.  Workers read it with acquire loads and no lock; only inserts
 * (a worker meeting an unknown ENI: rare) and removals (the manager) take
 * tbl_lock.  A removed slot becomes a tombstone, so probe chains stay
 * intact for concurrent readers; once tombstones fill a quarter of the
 * table, the writer rebuilds it without them under tbl_lock and publishes
 * the copy, and the old array is freed after a QSBR grace period.  So a
 * lookup of an unknown ENI reads a few slots, however many ENIs came and
 * went.  Memory a worker might still be using is freed only after a QSBR
 * grace period (qsbr.h).
 *
 * No lock here is held for slow work: a packet of an unknown ENI over
 * --max-enis is dropped without one, and eni_foreach() walks the table
 * with none (as a QSBR reader), so gwlbctl, flow expiry or netlink work
 * in its callback never stalls a worker.
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

/* One array of slots: replaced whole when rebuilt without tombstones. */
struct eni_slots {
	unsigned	mask;
	_Atomic(struct eni *) s[];
};

static _Atomic(struct eni_slots *) tab;
static pthread_mutex_t tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned n_live;		/* written under tbl_lock, read without */
static unsigned n_tomb;			/* tbl_lock */
static struct eni tombstone;
#define TOMB (&tombstone)

_Static_assert(QSBR_MAX_READERS - QSBR_WALKERS >= MAX_WORKERS,
    "a QSBR reader slot for every worker besides the walk slots");

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

static struct eni_slots *
slots_new(unsigned n)
{
	struct eni_slots *t = calloc(1, sizeof(*t) + n * sizeof(t->s[0]));

	if (t)
		t->mask = n - 1;
	return t;
}

int
eni_table_init(unsigned max_enis)
{
	unsigned n = 16;
	struct eni_slots *t;

	while (n < max_enis * 2)
		n <<= 1;
	if (!(t = slots_new(n)))
		return -ENOMEM;
	atomic_store(&tab, t);
	n_tomb = 0;
	atomic_store(&n_live, 0);
	return 0;
}

/* The ENI of id in t or NULL; *probes (if asked): the slots read. */
static inline struct eni *
slots_find(const struct eni_slots *t, uint64_t id, unsigned *probes)
{
	unsigned h = (unsigned)mix64(id), i;
	struct eni *e = NULL;

	for (i = 0; i <= t->mask; i++) {
		e = atomic_load_explicit(&t->s[(h + i) & t->mask], memory_order_acquire);
		if (!e || (e != TOMB && e->id == id))
			break;
		e = NULL;
	}
	if (probes)
		*probes = i <= t->mask ? i + 1 : i;
	return e;
}

struct eni *
eni_lookup(uint64_t id)
{
	return slots_find(atomic_load_explicit(&tab, memory_order_acquire), id, NULL);
}

unsigned
eni_lookup_probes(uint64_t id)
{
	unsigned n;

	slots_find(atomic_load_explicit(&tab, memory_order_acquire), id, &n);
	return n;
}

unsigned
eni_count(void)
{
	return atomic_load_explicit(&n_live, memory_order_relaxed);
}

/*
 * tbl_lock held: a copy of the table without tombstones replaces it;
 * readers still in the old one find what it held until their next
 * quiescent point, after which it is freed.  Out of memory: the
 * tombstones stay (lookups stay right, only longer) until the next try.
 */
static void
slots_rebuild(void)
{
	struct eni_slots *old = atomic_load_explicit(&tab, memory_order_relaxed);
	struct eni_slots *t = slots_new(old->mask + 1);

	if (!t)
		return;
	for (unsigned i = 0; i <= old->mask; i++) {
		struct eni *e = atomic_load_explicit(&old->s[i], memory_order_relaxed);
		unsigned h, k;

		if (!e || e == TOMB)
			continue;
		h = (unsigned)mix64(e->id);
		for (k = 0; atomic_load_explicit(&t->s[(h + k) & t->mask],
		    memory_order_relaxed); k++)
			;
		atomic_init(&t->s[(h + k) & t->mask], e);
	}
	atomic_store_explicit(&tab, t, memory_order_seq_cst);
	n_tomb = 0;
	qsbr_retire(old);
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

static void backlog_clear(struct eni *e);

/* e's memory; its place under --max-enis stays taken (the caller's). */
static void
eni_free_keep_place(struct eni *e)
{
	backlog_clear(e);	/* no other thread holds e any more */
	if (e->flows)
		flow_table_free(e->flows);
	pthread_mutex_destroy(&e->bl_lock);
	free(e->tq);
	free(e->qfd_in);
	free(e->qfd_out);
	free(e->stats);
	free(e);
}

void
eni_free(struct eni *e)
{
	eni_free_keep_place(e);
	atomic_fetch_sub_explicit(&n_held, 1, memory_order_relaxed);
}

/* A place under --max-enis (closing ENIs count too: their links and
 * DESTROY hooks are still there), taken without a lock; eni_free gives it
 * back. */
static bool
held_take(void)
{
	unsigned n = atomic_load_explicit(&n_held, memory_order_relaxed);

	while (n < conf.max_enis)
		if (atomic_compare_exchange_weak_explicit(&n_held, &n, n + 1,
		    memory_order_relaxed, memory_order_relaxed))
			return true;
	return false;
}

/* With a place taken (held_take), which it gives back if it fails. */
static struct eni *
eni_alloc(uint64_t id, uint64_t attachment)
{
	struct eni *e = calloc(1, sizeof(*e));

	if (!e) {
		atomic_fetch_sub_explicit(&n_held, 1, memory_order_relaxed);
		return NULL;
	}
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

static struct eni *eni_insert(uint64_t id, uint64_t attachment, struct thread_stats *ts);

struct eni *
eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts)
{
	struct eni *e;

	(void)slot;
	/*
	 * A place under --max-enis first, without a lock: at the limit (a
	 * flood of new ENIs) a packet costs one short lookup and no lock.
	 * (The lookup again: another worker may have made this one just now.
	 * Two racing for the last place on one new ENI may drop a packet.)
	 */
	if (!held_take()) {
		if ((e = eni_lookup(id)))
			return e;
		if (!ts)
			return NULL;
		STAT_ADD(ts->drops[DROP_ENI_LIMIT], 1);
		log_rl(&rl_limit, LOG_CORE, LOG_IMPORTANT,
		    "ENI %017llx dropped: --max-enis %u reached",
		    (unsigned long long)id, conf.max_enis);
		return NULL;
	}
	return eni_insert(id, attachment, ts);
}

struct eni *
eni_remake(struct eni *old)
{
	uint64_t id = old->id, att = old->attachment;

	eni_free_keep_place(old);
	return eni_insert(id, att, NULL);
}

/* With a place taken: publish a new ENI (or find the one a worker made
 * meanwhile, giving the place back). */
static struct eni *
eni_insert(uint64_t id, uint64_t attachment, struct thread_stats *ts)
{
	struct eni_slots *t;
	struct eni *e, *fresh;
	unsigned h, i, free_slot = ~0u;

	/* Allocated before the lock: others' inserts do not wait for it. */
	if (!(fresh = eni_alloc(id, attachment))) {	/* (its place given back) */
		if (!ts)
			return NULL;
		STAT_ADD(ts->drops[DROP_ENI_LIMIT], 1);
		log_rl(&rl_limit, LOG_CORE, LOG_IMPORTANT,
		    "ENI %017llx dropped: out of memory", (unsigned long long)id);
		return NULL;
	}
	pthread_mutex_lock(&tbl_lock);
	t = atomic_load_explicit(&tab, memory_order_relaxed);
	e = slots_find(t, id, NULL);
	if (e) {
		pthread_mutex_unlock(&tbl_lock);
		eni_free(fresh);	/* never published; gives its place back */
		return e;
	}
	/* Every published ENI holds a place: at most --max-enis, half the
	 * slots, are live, and a quarter at most are tombstones. */
	h = (unsigned)mix64(id);
	for (i = 0; free_slot == ~0u; i++) {
		struct eni *o = atomic_load_explicit(&t->s[(h + i) & t->mask],
		    memory_order_relaxed);

		if (!o || o == TOMB) {
			free_slot = (h + i) & t->mask;
			if (o == TOMB)
				n_tomb--;
		}
	}
	e = fresh;
	atomic_store_explicit(&t->s[free_slot], e, memory_order_release);
	atomic_fetch_add_explicit(&n_live, 1, memory_order_relaxed);
	e->mgr_next = create_q;
	create_q = e;
	wake_manager();
	pthread_mutex_unlock(&tbl_lock);
	return e;
}

void
eni_unpublish(struct eni *e)
{
	unsigned h = (unsigned)mix64(e->id);
	struct eni_slots *t;

	pthread_mutex_lock(&tbl_lock);
	t = atomic_load_explicit(&tab, memory_order_relaxed);
	for (unsigned i = 0; i <= t->mask; i++) {
		unsigned k = (h + i) & t->mask;

		if (atomic_load_explicit(&t->s[k], memory_order_relaxed) == e) {
			/* A tombstone keeps the probe chains through it whole
			 * for readers; enough of them and the table is rebuilt. */
			atomic_store_explicit(&t->s[k], TOMB, memory_order_release);
			atomic_fetch_sub_explicit(&n_live, 1, memory_order_relaxed);
			if (++n_tomb > (t->mask + 1) / 4)
				slots_rebuild();
			break;
		}
	}
	pthread_mutex_unlock(&tbl_lock);
}

/*
 * No lock: the walk is a QSBR reader, so what it finds (the slot array,
 * each ENI, each ENI's flows) stays allocated until it ends, and fn may
 * take its time (gwlbctl's output, flow expiry, netlink) without holding
 * up a worker or the manager.  An ENI published or removed meanwhile may
 * or may not be seen; one removed may still be seen, CLOSING.
 */
void
eni_foreach(void (*fn)(struct eni *, void *), void *arg)
{
	unsigned r = qsbr_walk_begin();
	struct eni_slots *t = atomic_load_explicit(&tab, memory_order_acquire);

	for (unsigned i = 0; i <= t->mask; i++) {
		struct eni *e = atomic_load_explicit(&t->s[i], memory_order_acquire);

		if (e && e != TOMB)
			fn(e, arg);
	}
	qsbr_walk_end(r);
}

void
eni_stats_sum(const struct eni *e, bool raw, struct eni_stats *out)
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
	if (!raw) {
		STAT_ADD(out->pkts_in, -STAT_GET(e->base.pkts_in));
		STAT_ADD(out->bytes_in, -STAT_GET(e->base.bytes_in));
		STAT_ADD(out->pkts_out, -STAT_GET(e->base.pkts_out));
		STAT_ADD(out->bytes_out, -STAT_GET(e->base.bytes_out));
		STAT_ADD(out->drops, -STAT_GET(e->base.drops));
	}
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
	return ns_since(now, last);
}

/* What a write of one inner packet to e's gwi- link came to, counted. */
static int
deliver_done(struct eni *e, unsigned slot, ssize_t r, size_t len, struct thread_stats *ts)
{
	if (r < 0) {
		/* EBADFD: the link was deleted behind our back.  (EIO is a link
		 * an operator set down: counted, left as the operator wants.) */
		if (errno == EBADFD || errno == ENODEV)
			atomic_store_explicit(&e->broken, true, memory_order_relaxed);
		STAT_ADD(ts->drops[DROP_TUN_WRITE], 1);
		STAT_ADD(e->stats[slot].drops, 1);
		eni_drop_count(e, DROP_TUN_WRITE, 1);
		log_rl(&rl_tun_write, LOG_TUNNEL, LOG_IMPORTANT,
		    "write to %s: %s", e->if_in, strerror(errno));
		return -1;
	}
	STAT_ADD(ts->delivered, 1);
	STAT_ADD(ts->delivered_bytes, len);
	return 0;
}

int
eni_deliver(struct eni *e, unsigned slot, int fd, const uint8_t *p, size_t len,
    struct thread_stats *ts)
{
	/* A plain packet on a vnet queue: an empty header (no GSO, checksums
	 * complete) in front of it. */
	static const uint8_t no_vnet[TUN_VNET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)no_vnet, .iov_len = sizeof(no_vnet) },
		{ .iov_base = (void *)(uintptr_t)p, .iov_len = len },
	};

	return deliver_done(e, slot, e->vnet ? writev(fd, iov, 2) : write(fd, p, len), len, ts);
}

int
eni_deliver_room(struct eni *e, unsigned slot, int fd, uint8_t *p, size_t len,
    struct thread_stats *ts)
{
	/* The empty vnet header written over the bytes before the packet:
	 * one buffer, so a write() where eni_deliver needs a writev() (the
	 * kernel's iovec import and a second copy call per packet). */
	if (e->vnet) {
		memset(p - TUN_VNET_HDR_LEN, 0, TUN_VNET_HDR_LEN);
		return deliver_done(e, slot, write(fd, p - TUN_VNET_HDR_LEN,
		    len + TUN_VNET_HDR_LEN), len, ts);
	}
	return deliver_done(e, slot, write(fd, p, len), len, ts);
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
		eni_drop_count(e, DROP_TUN_WRITE, nsegs);
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
		eni_drop_count(e, why, 1);
		return;
	}
	b->len = (uint16_t)len;
	memcpy(b->data, p, len);
	e->bl[e->bl_len] = b;
	/* Changed under bl_lock; stored atomically because show eni and the
	 * health page read them without it (a lock-free walk). */
	__atomic_store_n(&e->bl_len, e->bl_len + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->bl_bytes, e->bl_bytes + size, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&e->bl_lock);
}

/* Manager, bl_lock held (or e unreachable): the backlog is empty again. */
static void
backlog_clear(struct eni *e)
{
	for (unsigned i = 0; i < e->bl_len; i++)
		free(e->bl[i]);
	atomic_fetch_sub_explicit(&bl_total, e->bl_bytes, memory_order_relaxed);
	__atomic_store_n(&e->bl_bytes, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&e->bl_len, 0, __ATOMIC_RELAXED);
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
	eni_drop_count(e, why, e->bl_len);
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
	struct eni_slots *t;

	pthread_mutex_lock(&tbl_lock);
	t = atomic_load_explicit(&tab, memory_order_relaxed);
	for (unsigned i = 0; i <= t->mask && n < max; i++) {
		struct eni *e = atomic_load(&t->s[i]);

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
	free(atomic_load(&tab));
	atomic_store(&tab, NULL);
}
