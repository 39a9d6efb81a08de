/*
 * Flow table (see flow.h for the concurrency contract).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "flow.h"

#define FLOW_STRIPES	64
#define EVICT_SAMPLE	8	/* non-empty buckets looked at for a victim */
#define EVICT_SCAN	64	/* buckets looked at, at most */

struct flow {
	_Atomic(struct flow *) next;
	_Atomic(struct flow_hdr *) hdr;
	_Atomic uint64_t last_ns;
	struct pkt_key	key;
};

struct flow_table {
	_Atomic(struct flow *) *buckets;
	unsigned	mask;
	unsigned	max;
	_Atomic unsigned count;
	_Atomic uint64_t inserts;
	_Atomic uint64_t evictions;
	_Atomic uint64_t expired;
	_Atomic uint64_t refused;
	unsigned	cursor;		/* expiry position (one caller at a time) */
	pthread_mutex_t	stripes[FLOW_STRIPES];
};

static void (*flow_retire)(void *);
static uint64_t tcp_idle_ns = 350ull * 1000000000ull;
static uint64_t other_idle_ns = 120ull * 1000000000ull;

void
flow_set_retire(void (*retire)(void *ptr))
{
	flow_retire = retire;
}

void
flow_set_timeouts(uint64_t tcp_ns, uint64_t other_ns)
{
	tcp_idle_ns = tcp_ns;
	other_idle_ns = other_ns;
}

static void
retire(void *p)
{
	if (flow_retire)
		flow_retire(p);
	else
		free(p);
}

unsigned
flow_buckets_for(unsigned max_entries)
{
	unsigned n = 64;

	/* Chains of about four at the bound: memory matters more than a hop. */
	while (n < max_entries / 4 && n < (1u << 28))
		n <<= 1;
	return n;
}

struct flow_table *
flow_table_new(unsigned max_entries)
{
	struct flow_table *t = calloc(1, sizeof(*t));
	unsigned n = flow_buckets_for(max_entries ? max_entries : 1);

	if (!t)
		return NULL;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->max = max_entries;
	for (int i = 0; i < FLOW_STRIPES; i++)
		pthread_mutex_init(&t->stripes[i], NULL);
	return t;
}

void
flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	for (unsigned b = 0; b <= t->mask; b++) {
		struct flow *f = atomic_load_explicit(&t->buckets[b], memory_order_relaxed), *n;

		for (; f; f = n) {
			n = atomic_load_explicit(&f->next, memory_order_relaxed);
			free(atomic_load_explicit(&f->hdr, memory_order_relaxed));
			free(f);
		}
	}
	for (int i = 0; i < FLOW_STRIPES; i++)
		pthread_mutex_destroy(&t->stripes[i]);
	free(t->buckets);
	free(t);
}

static inline uint64_t
end_hash(const uint8_t *a, uint16_t port)
{
	uint64_t lo, hi;

	memcpy(&lo, a, 8);
	memcpy(&hi, a + 8, 8);
	return mix64(lo ^ mix64(hi ^ port));
}

/* Symmetric: a key and its reverse land in the same bucket. */
static inline unsigned
flow_bucket(const struct flow_table *t, const struct pkt_key *k)
{
	uint64_t h = end_hash(k->src, k->sport) + end_hash(k->dst, k->dport);

	return (unsigned)mix64(h ^ ((uint64_t)k->proto << 8 | k->family)) & t->mask;
}

static inline pthread_mutex_t *
flow_stripe(struct flow_table *t, unsigned b)
{
	return &t->stripes[b % FLOW_STRIPES];
}

static inline bool
key_eq(const struct pkt_key *a, const struct pkt_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline bool
key_eq_rev(const struct pkt_key *a, const struct pkt_key *b)
{
	return a->family == b->family && a->proto == b->proto &&
	    a->sport == b->dport && a->dport == b->sport &&
	    memcmp(a->src, b->dst, 16) == 0 && memcmp(a->dst, b->src, 16) == 0;
}

static inline uint64_t
flow_timeout(const struct flow *f)
{
	return f->key.proto == IPPROTO_TCP ? tcp_idle_ns : other_idle_ns;
}

static inline bool
flow_expired(const struct flow *f, uint64_t now)
{
	uint64_t last = atomic_load_explicit(&f->last_ns, memory_order_relaxed);

	return now > last && now - last >= flow_timeout(f);
}

static inline bool
hdr_same(const struct flow_hdr *a, const struct flow_hdr *b)
{
	return a->len == b->len && a->gwlb_addr == b->gwlb_addr &&
	    a->gwlb_port == b->gwlb_port && a->local_addr == b->local_addr &&
	    a->local_port == b->local_port && memcmp(a->geneve, b->geneve, a->len) == 0;
}

/*
 * The caller's header need only hold offsetof(geneve) + len bytes (the
 * flexible array starts inside sizeof's tail padding), so read no more than
 * that.  The copy is allocated sizeof + len, tail zeroed, because readers
 * copy a stored header out as sizeof(*h) + h->len.
 */
static struct flow_hdr *
hdr_dup(const struct flow_hdr *h)
{
	size_t used = offsetof(struct flow_hdr, geneve) + h->len;
	struct flow_hdr *c = malloc(sizeof(*c) + h->len);

	if (c) {
		memcpy(c, h, used);
		memset((uint8_t *)c + used, 0, sizeof(*c) + h->len - used);
	}
	return c;
}

static struct flow *
bucket_find(struct flow_table *t, unsigned b, const struct pkt_key *k)
{
	struct flow *f = atomic_load_explicit(&t->buckets[b], memory_order_acquire);

	for (; f; f = atomic_load_explicit(&f->next, memory_order_acquire))
		if (key_eq(&f->key, k))
			return f;
	return NULL;
}

/*
 * Unlink f from bucket b; the bucket's stripe lock is held.  With keep_slot
 * its place in the count passes to the caller's insert (eviction), so that
 * no other writer can take it in between.
 */
static bool
bucket_unlink(struct flow_table *t, unsigned b, struct flow *f, bool keep_slot)
{
	_Atomic(struct flow *) *pp = &t->buckets[b];
	struct flow *cur;

	while ((cur = atomic_load_explicit(pp, memory_order_relaxed))) {
		if (cur == f) {
			atomic_store_explicit(pp, atomic_load_explicit(&f->next,
			    memory_order_relaxed), memory_order_release);
			if (!keep_slot)
				atomic_fetch_sub(&t->count, 1);
			retire(atomic_load_explicit(&f->hdr, memory_order_relaxed));
			retire(f);
			return true;
		}
		pp = &cur->next;
	}
	return false;
}

/*
 * Take a place in the count without going past max.  A check of the count
 * followed by an increment would let writers of different stripes overshoot
 * it together.
 */
static bool
slot_take(struct flow_table *t)
{
	unsigned c = atomic_load(&t->count);

	while (c < t->max)
		if (atomic_compare_exchange_weak(&t->count, &c, c + 1))
			return true;
	return false;
}

/*
 * Evict the least recently seen of a sample near bucket `from`; on success
 * the victim's place in the count is the caller's.  The oldest entry of
 * each sampled bucket is a candidate, tried oldest first: a candidate whose
 * stripe another writer holds is passed over (never wait for a second
 * stripe: that could deadlock), as is one unlinked since it was seen, so
 * that contention alone does not refuse an insert.
 */
static bool
flow_evict(struct flow_table *t, unsigned from, pthread_mutex_t *held)
{
	struct {
		struct flow	*f;
		unsigned	 b;
		uint64_t	 last;
	} cand[EVICT_SAMPLE];
	unsigned n = 0;

	for (unsigned i = 0; i < EVICT_SCAN && n < EVICT_SAMPLE; i++) {
		unsigned b = (from + i) & t->mask;
		struct flow *f = atomic_load_explicit(&t->buckets[b], memory_order_acquire);

		if (!f)
			continue;
		cand[n].f = NULL;
		cand[n].b = b;
		cand[n].last = UINT64_MAX;
		for (; f; f = atomic_load_explicit(&f->next, memory_order_acquire)) {
			uint64_t l = atomic_load_explicit(&f->last_ns, memory_order_relaxed);

			if (!cand[n].f || l < cand[n].last) {
				cand[n].f = f;
				cand[n].last = l;
			}
		}
		n++;
	}
	while (n > 0) {
		pthread_mutex_t *lock;
		unsigned o = 0;
		bool ok;

		for (unsigned i = 1; i < n; i++)
			if (cand[i].last < cand[o].last)
				o = i;
		lock = flow_stripe(t, cand[o].b);
		if (lock == held)
			ok = bucket_unlink(t, cand[o].b, cand[o].f, true);
		else if (pthread_mutex_trylock(lock) == 0) {
			ok = bucket_unlink(t, cand[o].b, cand[o].f, true);
			pthread_mutex_unlock(lock);
		} else
			ok = false;
		if (ok) {
			atomic_fetch_add(&t->evictions, 1);
			return true;
		}
		cand[o] = cand[--n];
	}
	return false;
}

int
flow_learn(struct flow_table *t, const struct pkt_key *k,
    const struct flow_hdr *h, uint64_t now)
{
	unsigned b = flow_bucket(t, k);
	pthread_mutex_t *lock;
	struct flow *f;
	int ret = 0;

	f = bucket_find(t, b, k);
	if (f) {
		struct flow_hdr *cur = atomic_load_explicit(&f->hdr, memory_order_acquire);

		atomic_store_explicit(&f->last_ns, now, memory_order_relaxed);
		if (hdr_same(cur, h))
			return 0;	/* the common case: nothing to write */
	}

	lock = flow_stripe(t, b);
	pthread_mutex_lock(lock);
	f = bucket_find(t, b, k);
	if (f) {
		struct flow_hdr *cur = atomic_load_explicit(&f->hdr, memory_order_relaxed);

		if (!hdr_same(cur, h)) {
			struct flow_hdr *n = hdr_dup(h);

			if (!n) {
				ret = -ENOMEM;
				goto out;
			}
			atomic_store_explicit(&f->hdr, n, memory_order_release);
			retire(cur);
		}
		atomic_store_explicit(&f->last_ns, now, memory_order_relaxed);
		goto out;
	}
	{
		/* Allocate first: a failed malloc must not have evicted anyone. */
		struct flow_hdr *nh = hdr_dup(h);

		f = malloc(sizeof(*f));
		if (!f || !nh || (!slot_take(t) && !flow_evict(t, b, lock))) {
			free(f);
			free(nh);
			atomic_fetch_add(&t->refused, 1);
			ret = -ENOMEM;
			goto out;
		}
		atomic_init(&f->hdr, nh);
	}
	/* The count already holds this entry (slot_take or flow_evict). */
	f->key = *k;
	atomic_init(&f->last_ns, now);
	atomic_init(&f->next, atomic_load_explicit(&t->buckets[b], memory_order_relaxed));
	atomic_store_explicit(&t->buckets[b], f, memory_order_release);
	atomic_fetch_add(&t->inserts, 1);
	ret = 1;
out:
	pthread_mutex_unlock(lock);
	return ret;
}

const struct flow_hdr *
flow_lookup(struct flow_table *t, const struct pkt_key *k, uint64_t now)
{
	unsigned b = flow_bucket(t, k);
	struct flow *f = atomic_load_explicit(&t->buckets[b], memory_order_acquire);
	struct flow *rev = NULL;

	/*
	 * An expired entry is as good as gone: it must not hide a live one of
	 * the other orientation that flow_expire has not reached yet.
	 */
	for (; f; f = atomic_load_explicit(&f->next, memory_order_acquire)) {
		if (key_eq(&f->key, k)) {
			if (!flow_expired(f, now))
				break;
		} else if (!rev && key_eq_rev(&f->key, k) && !flow_expired(f, now))
			rev = f;
	}
	/* A flow forwarded as is wins over one that only matches reversed. */
	if (!f)
		f = rev;
	if (!f)
		return NULL;
	atomic_store_explicit(&f->last_ns, now, memory_order_relaxed);
	return atomic_load_explicit(&f->hdr, memory_order_acquire);
}

unsigned
flow_expire(struct flow_table *t, uint64_t now, unsigned budget)
{
	unsigned n = 0;

	if (budget > t->mask + 1)
		budget = t->mask + 1;
	for (unsigned i = 0; i < budget; i++) {
		unsigned b = t->cursor++ & t->mask;
		struct flow *f, *next;

		if (!atomic_load_explicit(&t->buckets[b], memory_order_relaxed))
			continue;
		pthread_mutex_lock(flow_stripe(t, b));
		for (f = atomic_load_explicit(&t->buckets[b], memory_order_relaxed); f; f = next) {
			next = atomic_load_explicit(&f->next, memory_order_relaxed);
			if (flow_expired(f, now) && bucket_unlink(t, b, f, false))
				n++;
		}
		pthread_mutex_unlock(flow_stripe(t, b));
	}
	atomic_fetch_add(&t->expired, n);
	return n;
}

unsigned
flow_flush(struct flow_table *t)
{
	unsigned n = 0;

	for (unsigned b = 0; b <= t->mask; b++) {
		struct flow *f;

		if (!atomic_load_explicit(&t->buckets[b], memory_order_relaxed))
			continue;
		pthread_mutex_lock(flow_stripe(t, b));
		while ((f = atomic_load_explicit(&t->buckets[b], memory_order_relaxed)))
			n += bucket_unlink(t, b, f, false);
		pthread_mutex_unlock(flow_stripe(t, b));
	}
	return n;
}

void
flow_table_stats(const struct flow_table *t, struct flow_stats *out)
{
	out->entries = atomic_load(&t->count);
	out->inserts = atomic_load(&t->inserts);
	out->evictions = atomic_load(&t->evictions);
	out->expired = atomic_load(&t->expired);
	out->refused = atomic_load(&t->refused);
}

void
flow_foreach(struct flow_table *t, uint64_t now,
    bool (*fn)(const struct pkt_key *k, const struct flow_hdr *h,
    uint64_t idle_ns, void *arg), void *arg)
{
	/* No stripe lock: fn may be slow (gwlbctl formats each entry) and a
	 * worker learning a flow of the bucket must not wait for it. */
	for (unsigned b = 0; b <= t->mask; b++) {
		struct flow *f;

		for (f = atomic_load_explicit(&t->buckets[b], memory_order_acquire);
		    f; f = atomic_load_explicit(&f->next, memory_order_acquire)) {
			uint64_t last = atomic_load_explicit(&f->last_ns, memory_order_relaxed);

			if (flow_expired(f, now))
				continue;
			if (!fn(&f->key, atomic_load_explicit(&f->hdr, memory_order_acquire),
			    now > last ? now - last : 0, arg))
				return;
		}
	}
}
