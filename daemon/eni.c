/*
 * ENIs: the lock-free table the workers look endpoints up in, and their
 * life cycle, driven by the manager thread.
 *
 * The table is open addressing over atomic pointers, sized at twice
 * --max-enis and never resized.  Workers read it with acquire loads and no
 * lock; only inserts (a worker meeting an unknown ENI: rare) and removals
 * (the manager) take tbl_lock.  A removed slot becomes a tombstone, so
 * probe chains stay intact for concurrent readers.
 *
 * Memory a worker might still be using is freed only after a grace period
 * (QSBR): every worker bumps its counter to odd when it starts on a batch
 * and back to even when it is done, so once each worker has been seen even
 * or has moved on since the snapshot, nobody holds the old pointer.
 *
 * Life cycle: PENDING (a worker created it; its packets wait in a bounded
 * backlog) -> the manager creates gwi-X (and gwo-X), sets MTU, up and
 * rp_filter through netlink, runs the CREATE hook -> UP (backlog flushed in
 * order, first).  Idle (-t), `eni destroy` or shutdown -> CLOSING
 * (unpublished) -> DESTROY hook -> after the grace period the queues are
 * closed, which removes the links.  Links that cannot be made -> FAILED,
 * and the next packet after a pause tries again.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "flow.h"
#include "gwlbtund.h"
#include "hook.h"
#include "log.h"
#include "nl.h"
#include "reply.h"
#include "route.h"
#include "tun.h"

#define FAILED_RETRY_NS	(5ull * 1000000000ull)

static _Atomic(struct eni *) *slots;
static unsigned slot_mask;
static pthread_mutex_t tbl_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_live;
static struct eni tombstone;
#define TOMB (&tombstone)

/* Manager queues: created by workers, consumed by the manager (tbl_lock). */
static struct eni *create_q;
/* Manager-only lists. */
static struct eni *deferred;	/* creates waiting for an older twin to go */
static struct eni *closing;	/* unpublished, on their way out */
static struct eni *dead;	/* shutdown: done but for their links */
static bool shutting_down;
static _Atomic uint64_t destroy_req[64];	/* ids asked by `eni destroy` */
static unsigned n_destroy_req;
static pthread_mutex_t destroy_lock = PTHREAD_MUTEX_INITIALIZER;

static struct log_rl rl_limit = LOG_RL_INIT(10, 3);

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

static void
eni_free(struct eni *e)
{
	for (unsigned i = 0; i < e->bl_len; i++)
		free(e->bl[i]);
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
	if (n_live >= conf.max_enis) {
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
	{
		uint64_t one = 1;

		(void)!write(D.wake_fd, &one, sizeof(one));
	}
out:
	pthread_mutex_unlock(&tbl_lock);
	(void)slot;
	return e;
}

static void
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
eni_foreach_manager(void (*fn)(struct eni *))
{
	struct eni *list[1024];
	unsigned n = 0;

	/* Collect under the lock, call without it: fn may do netlink work. */
	pthread_mutex_lock(&tbl_lock);
	for (unsigned i = 0; i <= slot_mask && n < 1024; i++) {
		struct eni *e = atomic_load_explicit(&slots[i], memory_order_relaxed);

		if (e && e != TOMB && atomic_load(&e->state) == ENI_UP)
			list[n++] = e;
	}
	pthread_mutex_unlock(&tbl_lock);
	for (unsigned i = 0; i < n; i++)
		fn(list[i]);
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

void
eni_backlog_or_deliver(struct eni *e, unsigned slot, unsigned queue, const uint8_t *p,
    size_t len, struct thread_stats *ts)
{
	struct backlog_pkt *b;
	int state;

	pthread_mutex_lock(&e->bl_lock);
	state = atomic_load_explicit(&e->state, memory_order_acquire);
	if (state == ENI_UP) {
		/* The queue descriptors are only sure to be there once UP was
		 * seen (under bl_lock, where the manager set it). */
		int fd = e->qfd_in[queue];

		pthread_mutex_unlock(&e->bl_lock);
		worker_deliver(e, slot, fd, p, len, ts);
		return;
	}
	if (state != ENI_PENDING || e->bl_len == ENI_BACKLOG_MAX ||
	    !(b = malloc(sizeof(*b) + len))) {
		pthread_mutex_unlock(&e->bl_lock);
		STAT_ADD(ts->drops[state == ENI_PENDING ? DROP_BACKLOG_FULL :
		    state == ENI_FAILED ? DROP_ENI_FAILED : DROP_ENI_CLOSING], 1);
		STAT_ADD(e->stats[slot].drops, 1);
		return;
	}
	b->len = (uint16_t)len;
	memcpy(b->data, p, len);
	e->bl[e->bl_len++] = b;
	pthread_mutex_unlock(&e->bl_lock);
}

/* ---- manager ------------------------------------------------------------ */

static void
eni_flush_backlog(struct eni *e)
{
	pthread_mutex_lock(&e->bl_lock);
	for (unsigned i = 0; i < e->bl_len; i++) {
		worker_deliver(e, D.mgr_slot, e->qfd_in[0], e->bl[i]->data,
		    e->bl[i]->len, &D.mgr_stats);
		free(e->bl[i]);
	}
	if (e->bl_len)
		log_msg(LOG_TUNNEL, LOG_DEBUG, "%s: delivered %u packets held while it came up",
		    e->if_in, e->bl_len);
	e->bl_len = 0;
	atomic_store_explicit(&e->state, ENI_UP, memory_order_release);
	pthread_mutex_unlock(&e->bl_lock);
}

static void
eni_drop_backlog(struct eni *e, enum drop_reason why)
{
	pthread_mutex_lock(&e->bl_lock);
	for (unsigned i = 0; i < e->bl_len; i++)
		free(e->bl[i]);
	STAT_ADD(D.mgr_stats.drops[why], e->bl_len);
	STAT_ADD(e->stats[D.mgr_slot].drops, e->bl_len);
	e->bl_len = 0;
	pthread_mutex_unlock(&e->bl_lock);
}

static void
hook_args_fill(struct hook_args *a, struct eni *e, const char *path,
    const char *action, char *att)
{
	name_hex(e->attachment, att);
	*a = (struct hook_args){
		.path = path,
		.action = action,
		.if_in = e->if_in,
		.if_out = e->if_out,
		.eni_hex = e->hex,
		.attachment_hex = att,
		.mode = conf.no_return ? "no-return" : "return",
	};
}

/* Start a CREATE/DESTROY hook for e; -errno (logged, counted) if it could not. */
static int
eni_run_hook(struct eni *e, const char *path, const char *action, hook_done_fn done)
{
	struct hook_args a;
	char att[NAME_HEX_MAX];
	int err;

	hook_args_fill(&a, e, path, action, att);
	e->hook_runs++;
	e->hook_state = HOOK_RUNNING;
	err = hook_run(&a, conf.hook_timeout_s, done, e);
	if (err < 0) {
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s %s: cannot run %s: %s", action,
		    e->if_in, path, strerror(-err));
		e->hook_state = HOOK_FAILED;
		e->hook_failures++;
	}
	return err;
}

static void eni_destroy_hook(struct eni *e);

static void
create_hook_done(void *arg, enum hook_state res)
{
	struct eni *e = arg;

	e->hook_state = res;
	e->create_running = false;
	if (res != HOOK_OK)
		e->hook_failures++;
	if (atomic_load(&e->state) == ENI_PENDING)
		eni_flush_backlog(e);
	else if (atomic_load(&e->state) == ENI_CLOSING)
		eni_destroy_hook(e);	/* torn down while CREATE ran */
}

static void
eni_watch_queues(struct eni *e, bool on)
{
	if (conf.no_return || D.n_tun == 0)
		return;
	for (unsigned q = 0; q < e->nqueues; q++) {
		struct worker *w = &D.workers[D.n_rx + q % D.n_tun];

		for (int dir = 0; dir < 2; dir++) {
			struct tunq *t = &e->tq[dir * e->nqueues + q];
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = t };

			t->eni = e;
			t->fd = dir ? e->qfd_out[q] : e->qfd_in[q];
			t->out = dir;
			if (t->fd < 0)
				continue;
			if (on)
				epoll_ctl(w->fd, EPOLL_CTL_ADD, t->fd, &ev);
			else
				epoll_ctl(w->fd, EPOLL_CTL_DEL, t->fd, NULL);
		}
	}
}

static int
eni_make_link(struct eni *e, const char *name, int *fds, int *ifindex)
{
	int err;

	err = tun_open_queues(name, fds, e->nqueues);
	if (err < 0) {
		log_msg(LOG_TUNNEL, LOG_CRITICAL, "%s: cannot create TUN link: %s",
		    name, strerror(-err));
		return err;
	}
	err = nl_link_index(name);
	if (err < 0) {
		log_msg(LOG_NETLINK, LOG_CRITICAL, "%s: cannot find the new link: %s",
		    name, strerror(-err));
		return err;
	}
	*ifindex = err;
	err = nl_link_setup(*ifindex, name, conf.mtu, conf.txqueuelen, D.link_group);
	if (err < 0) {
		log_msg(LOG_NETLINK, LOG_CRITICAL, "%s: cannot set MTU %u, up, rp_filter 0: %s",
		    name, conf.mtu, strerror(-err));
		return err;
	}
	return 0;
}

static void
eni_bring_up(struct eni *e)
{
	int err;

	err = eni_make_link(e, e->if_in, e->qfd_in, &e->ifindex_in);
	if (!err && !conf.no_return)
		err = eni_make_link(e, e->if_out, e->qfd_out, &e->ifindex_out);
	if (err) {
		tun_close_queues(e->qfd_in, e->nqueues);
		tun_close_queues(e->qfd_out, e->nqueues);
		e->retry_ns = now_ns() + FAILED_RETRY_NS;
		atomic_store(&e->state, ENI_FAILED);
		eni_drop_backlog(e, DROP_ENI_FAILED);
		return;
	}
	e->links_made = true;
	eni_watch_queues(e, true);
	{
		struct route_eni re = { .id = e->id, .ifindex_in = e->ifindex_in,
		    .ifindex_out = e->ifindex_out };

		memcpy(re.hex, e->hex, sizeof(re.hex));
		memcpy(re.if_in, e->if_in, sizeof(re.if_in));
		memcpy(re.if_out, e->if_out, sizeof(re.if_out));
		route_eni_up(&re);
	}
	log_msg(LOG_CORE, LOG_INFO, "ENI %s: %s%s%s up (attachment %017llx)",
	    e->hex, e->if_in, conf.no_return ? "" : " and ",
	    conf.no_return ? "" : e->if_out, (unsigned long long)e->attachment);
	if (!conf.create_hook) {
		eni_flush_backlog(e);
		return;
	}
	e->create_running = true;
	if (eni_run_hook(e, conf.create_hook, "CREATE", create_hook_done) < 0) {
		e->create_running = false;
		eni_flush_backlog(e);
	}
}

static bool
eni_has_twin(uint64_t id)
{
	for (struct eni *c = closing; c; c = c->mgr_next)
		if (c->id == id)
			return true;
	return false;
}

static void
destroy_hook_done(void *arg, enum hook_state res)
{
	struct eni *e = arg;

	e->hook_state = res;
	if (res != HOOK_OK)
		e->hook_failures++;
	e->destroy_done = true;
}

static void
eni_destroy_hook(struct eni *e)
{
	e->destroy_done = true;
	if (!conf.destroy_hook || !e->links_made)
		return;
	e->destroy_done = false;
	if (eni_run_hook(e, conf.destroy_hook, "DESTROY", destroy_hook_done) < 0)
		e->destroy_done = true;
}

static void
eni_undefer(struct eni *e)
{
	for (struct eni **pp = &deferred; *pp; pp = &(*pp)->mgr_next) {
		if (*pp == e) {
			*pp = e->mgr_next;
			return;
		}
	}
}

/* Unpublish and start the way out: DESTROY hook, then (reap) removal. */
static void
eni_teardown(struct eni *e, const char *why)
{
	atomic_store(&e->state, ENI_CLOSING);
	eni_unpublish(e);
	eni_undefer(e);
	eni_watch_queues(e, false);
	qsbr_snapshot_into(e->qsbr_snap);
	qsbr_kick();
	if (e->links_made)
		log_msg(LOG_CORE, LOG_INFO, "ENI %s: tearing %s down (%s)", e->hex, e->if_in, why);
	if (e->create_running)
		e->destroy_done = false;	/* DESTROY follows when CREATE ends */
	else
		eni_destroy_hook(e);
	e->mgr_next = closing;
	closing = e;
}

/* The end of an ENI: its links (deleted first when del_links: one
 * unregister per link is much faster than detaching its queues one close at
 * a time), its queues, what its backlog still held, its memory. */
static void
eni_remove(struct eni *e, bool del_links)
{
	if (del_links) {
		nl_link_del(e->ifindex_in);
		if (!conf.no_return)
			nl_link_del(e->ifindex_out);
	}
	tun_close_queues(e->qfd_in, e->nqueues);
	tun_close_queues(e->qfd_out, e->nqueues);
	eni_drop_backlog(e, DROP_ENI_CLOSING);
	log_msg(LOG_TUNNEL, LOG_DEBUG, "ENI %s: links removed", e->hex);
	eni_free(e);
}

/* Free what has finished its way out; start deferred creates. */
static void
eni_reap(void)
{
	struct eni **pp = &closing;

	while (*pp) {
		struct eni *e = *pp;

		/* A CREATE hook still running owns e until it reports. */
		if (e->destroy_done && !e->create_running && qsbr_passed_since(e->qsbr_snap)) {
			*pp = e->mgr_next;
			if (e->links_made)
				route_eni_down(e->id);
			if (e->links_made && shutting_down) {
				/* Shutdown: the links go together, in one batch. */
				e->mgr_next = dead;
				dead = e;
				continue;
			}
			eni_remove(e, e->links_made);
		} else {
			pp = &e->mgr_next;
		}
	}
	pp = &deferred;
	while (*pp) {
		struct eni *e = *pp;

		if (!eni_has_twin(e->id)) {
			*pp = e->mgr_next;
			if (atomic_load(&e->state) == ENI_PENDING)
				eni_bring_up(e);
		} else {
			pp = &e->mgr_next;
		}
	}
}

static void
eni_take_creates(void)
{
	struct eni *q, *next;

	pthread_mutex_lock(&tbl_lock);
	q = create_q;
	create_q = NULL;
	pthread_mutex_unlock(&tbl_lock);
	/* The queue is newest first: bring them up in arrival order. */
	{
		struct eni *rev = NULL;

		for (; q; q = next) {
			next = q->mgr_next;
			q->mgr_next = rev;
			rev = q;
		}
		q = rev;
	}
	for (; q; q = next) {
		next = q->mgr_next;
		if (eni_has_twin(q->id)) {
			q->mgr_next = deferred;
			deferred = q;
		} else {
			eni_bring_up(q);
		}
	}
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
	if (!ret) {
		uint64_t one = 1;

		(void)!write(D.wake_fd, &one, sizeof(one));
	}
	return ret;
}

struct scan_ctx {
	uint64_t	now;
	struct eni	*list[64];
	const char	*why[64];
	bool		recreate[64];
	unsigned	n;
};

static void
scan_one(struct eni *e, void *arg)
{
	struct scan_ctx *c = arg;
	int state = atomic_load(&e->state);

	if (c->n == 64)
		return;
	if (state == ENI_FAILED && c->now >= e->retry_ns) {
		c->why[c->n] = "retry after failure";
		c->list[c->n++] = e;
	} else if (state == ENI_UP && atomic_load(&e->broken)) {
		/* Counted here, once per teardown, not on RTM_DELLINK: writes to
		 * the deleted link fail as soon as the kernel closes it, and a
		 * tick can tear the ENI down before the event (sent at the end
		 * of an unregister that takes 20-500 ms) finds it published. */
		atomic_fetch_add(&D.links_lost, 1);
		c->why[c->n] = "its link was deleted or broke; it is made again";
		c->recreate[c->n] = true;
		c->list[c->n++] = e;
	} else if (state == ENI_UP && conf.idle_teardown_s &&
	    eni_idle_ns(e, c->now) >= (uint64_t)conf.idle_teardown_s * 1000000000ull) {
		c->why[c->n] = "idle";
		c->list[c->n++] = e;
	}
}

static void
eni_tick(uint64_t now, bool full)
{
	struct scan_ctx c = { .now = now };
	uint64_t ids[64];
	unsigned n;

	if (full) {
		hook_tick(now);
		/* Collect under the table lock, act without it (teardown takes it). */
		eni_foreach(scan_one, &c);
		for (unsigned i = 0; i < c.n; i++) {
			uint64_t id = c.list[i]->id, att = c.list[i]->attachment;

			eni_teardown(c.list[i], c.why[i]);
			/* Self-healing: the same links, routes, rules and CREATE
			 * hook again as soon as the old ones are gone, traffic or
			 * not (its packets wait in the new one's backlog). */
			if (c.recreate[i])
				eni_get_or_create(id, att, D.mgr_slot, &D.mgr_stats);
		}
		if (!conf.no_return)
			reply_expire(now);
	}

	pthread_mutex_lock(&destroy_lock);
	n = n_destroy_req;
	memcpy(ids, destroy_req, sizeof(ids[0]) * n);
	n_destroy_req = 0;
	pthread_mutex_unlock(&destroy_lock);
	for (unsigned i = 0; i < n; i++) {
		struct eni *e = eni_lookup(ids[i]);

		if (e && atomic_load(&e->state) != ENI_CLOSING)
			eni_teardown(e, "destroyed by gwlbctl");
	}
	eni_reap();
}

struct ifx_ctx {
	int		ifindex;
	struct eni	*e;
};

static void
find_ifindex(struct eni *e, void *arg)
{
	struct ifx_ctx *c = arg;

	if (atomic_load(&e->state) == ENI_UP &&
	    (e->ifindex_in == c->ifindex || e->ifindex_out == c->ifindex))
		c->e = e;
}

static void
resync_one(struct eni *e, void *arg)
{
	(void)arg;
	if (atomic_load(&e->state) != ENI_UP)
		return;
	if (nl_link_index(e->if_in) != e->ifindex_in ||
	    (!conf.no_return && nl_link_index(e->if_out) != e->ifindex_out)) {
		atomic_store(&e->broken, true);
		return;
	}
	nl_link_rp_filter_off(e->ifindex_in, e->if_in);
	if (!conf.no_return)
		nl_link_rp_filter_off(e->ifindex_out, e->if_out);
}

/* The manager's share of the netlink events: rp_filter guard, lost links. */
static void
eni_nl_event(const struct nl_event *ev, void *arg)
{
	struct ifx_ctx c = { .ifindex = ev->ifindex };
	const char *name;

	(void)arg;
	if (ev->kind == NL_EV_RESYNC) {
		atomic_fetch_add(&D.nl_resyncs, 1);
		eni_foreach(resync_one, NULL);
		return;
	}
	eni_foreach(find_ifindex, &c);
	if (!c.e)
		return;
	name = c.e->ifindex_in == ev->ifindex ? c.e->if_in : c.e->if_out;
	if (ev->kind == NL_EV_LINK_GONE) {
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "ENI %s: %s was deleted behind our back; "
		    "making its links again", c.e->hex, name);
		atomic_store(&c.e->broken, true);
		return;
	}
	if (ev->value == 0)
		return;
	if (nl_link_rp_filter_off(ev->ifindex, name) == 0) {
		c.e->rp_reverts++;
		atomic_fetch_add(&D.rp_reverts, 1);
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "rp_filter on %s was set to %d behind our "
		    "back (systemd-sysctl does this to new links); set back to 0",
		    name, ev->value);
	}
}

static void
eni_teardown_all(void)
{
	struct scan_ctx c;

	do {
		c = (struct scan_ctx){ .now = now_ns() };
		pthread_mutex_lock(&tbl_lock);
		for (unsigned i = 0; i <= slot_mask && c.n < 64; i++) {
			struct eni *e = atomic_load(&slots[i]);

			if (e && e != TOMB)
				c.list[c.n++] = e;
		}
		pthread_mutex_unlock(&tbl_lock);
		for (unsigned i = 0; i < c.n; i++)
			eni_teardown(c.list[i], "shutdown");
	} while (c.n);
}

static void
eni_reload(void)
{
	if (!conf.config_file) {
		log_msg(LOG_CORE, LOG_INFO, "SIGHUP: nothing to reload (no --config)");
		return;
	}
	if (conf_load_file(conf.config_file, false) < 0) {
		log_msg(LOG_CORE, LOG_IMPORTANT, "SIGHUP: %s not reloaded: it has errors; "
		    "the running configuration stays", conf.config_file);
		return;
	}
	route_reload(conf.cfg_routes, conf.n_cfg_routes);
	log_msg(LOG_CORE, LOG_INFO, "SIGHUP: %s reloaded (%u routes and rules)",
	    conf.config_file, conf.n_cfg_routes);
}

/* Shutdown: every link of ours in one RTM_DELLINK (their link group), then
 * the descriptors, which are cheap to close once the links are gone. */
static void
eni_bury_dead(void)
{
	struct eni *e, *next;
	unsigned n = 0;
	uint64_t t0 = now_ns();
	int err = 0;

	for (e = dead; e; e = e->mgr_next)
		n++;
	if (n)
		err = nl_link_del_group(D.link_group);
	for (e = dead; e; e = next) {
		next = e->mgr_next;
		eni_remove(e, err < 0);		/* the batch failed: one by one */
	}
	dead = NULL;
	if (n)
		log_msg(LOG_TUNNEL, LOG_INFO, "links of %u ENIs removed in %llu ms", n,
		    (unsigned long long)((now_ns() - t0) / 1000000));
}

int
eni_manager_run(void)
{
	struct epoll_event evs[32];
	enum ev_kind k_wake = EV_WAKE, k_timer = EV_TIMER, k_sig = EV_SIGNAL,
	    k_nl = EV_NETLINK;
	int nlfd;
	struct itimerspec its = { { 0, 250000000 }, { 0, 250000000 } };
	int epfd, tfd, sfd;
	sigset_t mask;
	bool stopping = false;
	uint64_t deadline = 0;

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

	for (;;) {
		int n = epoll_wait(epfd, evs, 32, 1000);

		for (int i = 0; i < n; i++) {
			enum ev_kind *k = evs[i].data.ptr;
			uint64_t v;

			switch (*k) {
			case EV_WAKE:
				(void)!read(D.wake_fd, &v, sizeof(v));
				route_serve();
				if (!stopping)
					eni_take_creates();
				eni_tick(now_ns(), false);
				break;
			case EV_TIMER:
				(void)!read(tfd, &v, sizeof(v));
				eni_tick(now_ns(), true);
				break;
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						eni_reload();
						continue;
					}
					if (stopping)
						continue;
					log_msg(LOG_CORE, LOG_INFO, "%s: shutting down",
					    strsignal((int)si.ssi_signo));
					stopping = true;
					shutting_down = true;
					worker_stop_all();
					/* Creates that raced the stop never come up: they
					 * are still published, so teardown_all takes them. */
					pthread_mutex_lock(&tbl_lock);
					create_q = NULL;
					pthread_mutex_unlock(&tbl_lock);
					eni_teardown_all();
					deadline = now_ns() + ((uint64_t)conf.hook_timeout_s + 2) *
					    1000000000ull;
					eni_reap();
				}
				break;
			}
			case EV_NETLINK:
				nl_events_read(eni_nl_event, NULL);
				break;
			case EV_HOOK_PID:
			case EV_HOOK_OUT:
				hook_event(k, evs[i].events);
				eni_reap();
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
			eni_reap();
			if (!closing && !deferred && hook_running() == 0)
				break;
			if (now_ns() > deadline) {
				log_msg(LOG_CORE, LOG_IMPORTANT, "shutdown: giving up on %u hooks: "
				    "killed", hook_running());
				hook_kill_all();
				/* Their ENIs still lose their routes and rules, and
				 * (below) their links. */
				for (struct eni *c = closing; c; c = c->mgr_next)
					if (c->links_made)
						route_eni_down(c->id);
				break;
			}
		}
	}
	eni_bury_dead();
	close(sfd);
	close(tfd);
	close(epfd);
	return 0;
}
