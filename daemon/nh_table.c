/*
 * The reply workers' next hops, kept by the manager (nh_table.h).
 *
 * Each entry is written by the manager alone, under a sequence counter (a
 * seqlock of atomic words, as reply.c's pinned headers): a worker that
 * meets a write in progress, or whose copy changed under it, takes it as
 * a miss.  Workers write only two words of an entry, atomically: when
 * they last used it and that the packet socket refused what it gave.  A
 * miss leaves the pair in a small array of wants (a compare-and-swap into
 * a free cell; all full: dropped, asked again at the next miss); a new
 * want wakes the manager (once a millisecond at most), which resolves at
 * once rather than at its next second.  A want the table has no room for
 * stays in its cell until a slot frees, so its misses neither wake the
 * manager nor ask again; the manager's asking is bounded in time a tick.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "nh_table.h"
#include "state.h"

#define NH_WORDS	((sizeof(struct nl_nexthop) + 7) / 8)

struct nh_slot {
	_Atomic uint32_t seq;		/* odd while written */
	_Atomic uint64_t key;		/* daddr << 32 | saddr; 0: free */
	_Atomic int64_t	err;		/* 0: nh usable */
	_Atomic uint64_t nh[NH_WORDS];	/* struct nl_nexthop */
	/* written by workers */
	_Atomic uint64_t used_ns;
	_Atomic bool	stale;
	/* the manager's own */
	uint64_t	resolved_ns;
};

static struct nh_slot slots[NH_TABLE_SLOTS];
static _Atomic uint64_t wants[NH_TABLE_WANTS];
static _Atomic uint64_t last_wake_ns;	/* workers' wakes: one a millisecond at most */
static struct nl_nh_sock *nl;		/* the manager's */

static uint64_t
key_of(uint32_t daddr, uint32_t saddr)
{
	return (uint64_t)daddr << 32 | saddr;
}

/* Slot s as the manager writes it: key, err and the next hop at once. */
static void
publish(struct nh_slot *s, uint64_t key, int err, const struct nl_nexthop *nh)
{
	uint64_t w[NH_WORDS] = { 0 };
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if (nh)
		memcpy(w, nh, sizeof(*nh));
	/* No fences (ThreadSanitizer has none): the words are stored with
	 * release, so a reader whose acquire load sees one of them also sees
	 * the odd count stored before it, and finds the count changed. */
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_store_explicit(&s->key, key, memory_order_release);
	atomic_store_explicit(&s->err, err, memory_order_release);
	for (size_t j = 0; j < NH_WORDS; j++)
		atomic_store_explicit(&s->nh[j], w[j], memory_order_release);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/*
 * Slot s read for key: 1 and *err, *out when it holds key (out only when
 * *err is 0), 0 when it does not, -1 when torn (written meanwhile).
 */
static int
slot_read(struct nh_slot *s, uint64_t key, int *err, struct nl_nexthop *out)
{
	uint64_t w[NH_WORDS];
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);

	if (seq & 1)
		return -1;
	if (atomic_load_explicit(&s->key, memory_order_acquire) != key)
		return 0;
	*err = (int)atomic_load_explicit(&s->err, memory_order_acquire);
	for (size_t j = 0; j < NH_WORDS; j++)
		w[j] = atomic_load_explicit(&s->nh[j], memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
		return -1;
	memcpy(out, w, sizeof(*out));
	return 1;
}

/* Ask the manager for key; a new ask wakes it, at most once a
 * millisecond (the manager takes every cell at each wake and second). */
static void
want(uint64_t key, uint64_t now)
{
	for (unsigned i = 0; i < NH_TABLE_WANTS; i++) {
		unsigned c = (unsigned)(key ^ key >> 32 ^ i) % NH_TABLE_WANTS;
		uint64_t x = atomic_load_explicit(&wants[c], memory_order_relaxed);

		if (x == key)
			return;
		if (!x && atomic_compare_exchange_strong(&wants[c], &x, key)) {
			uint64_t one = 1, last = atomic_load(&last_wake_ns);

			if (D.wake_fd >= 0 && ns_since(now, last) >= 1000000 &&
			    atomic_compare_exchange_strong(&last_wake_ns, &last, now))
				(void)!write(D.wake_fd, &one, sizeof(one));
			return;
		}
	}
}

int
nh_table_get(uint32_t daddr, uint32_t saddr, uint64_t now, struct nl_nexthop *out)
{
	uint64_t key = key_of(daddr, saddr);
	bool torn = false;

	for (unsigned i = 0; i < NH_TABLE_SLOTS; i++) {
		struct nh_slot *s = &slots[i];
		int err, r = slot_read(s, key, &err, out);

		if (r < 0)
			torn = true;	/* being written: perhaps ours */
		if (r <= 0)
			continue;
		if (atomic_load_explicit(&s->used_ns, memory_order_relaxed) != now)
			atomic_store_explicit(&s->used_ns, now, memory_order_relaxed);
		return err;
	}
	if (!torn)
		want(key, now);
	return -EAGAIN;		/* (torn: being refreshed, raw this once) */
}

void
nh_table_stale(uint32_t daddr, uint32_t saddr)
{
	uint64_t key = key_of(daddr, saddr);

	for (unsigned i = 0; i < NH_TABLE_SLOTS; i++)
		if (atomic_load_explicit(&slots[i].key, memory_order_relaxed) == key)
			atomic_store_explicit(&slots[i].stale, true, memory_order_relaxed);
}

/* The kernel's answer for slot s (the manager's socket opened first). */
static void
resolve(struct nh_slot *s, uint64_t key, uint64_t now)
{
	struct nl_nexthop nh;
	int err;

	/* Cleared first: a refusal seen during the answer marks it again. */
	atomic_store_explicit(&s->stale, false, memory_order_relaxed);
	if (!nl && !(nl = nl_nh_open()))
		err = errno ? -errno : -ENOMEM;
	else
		err = nl_nh_resolve(nl, (uint32_t)(key >> 32), (uint32_t)key, &nh);
	s->resolved_ns = now;
	publish(s, key, err, err ? NULL : &nh);
}

/* A slot for key: its own, a free one, else the least recently used one
 * unused for NH_REFRESH_NS; NULL when all are in use. */
static struct nh_slot *
slot_for(uint64_t key, uint64_t now)
{
	struct nh_slot *lru = NULL;

	for (unsigned i = 0; i < NH_TABLE_SLOTS; i++) {
		struct nh_slot *s = &slots[i];
		uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);

		if (k == key || !k)
			return s;
		if (!lru || atomic_load_explicit(&s->used_ns, memory_order_relaxed) <
		    atomic_load_explicit(&lru->used_ns, memory_order_relaxed))
			lru = s;
	}
	if (ns_since(now, atomic_load_explicit(&lru->used_ns, memory_order_relaxed)) < NH_REFRESH_NS)
		return NULL;
	return lru;
}

/* The kernel may hold its lock for a while (a link being deleted): the
 * manager spends at most this much a tick asking, the rest waits for the
 * next tick. */
#define NH_TICK_BUDGET_NS	20000000ull

void
nh_table_tick(uint64_t now)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < NH_TABLE_WANTS; i++) {
		uint64_t key = atomic_load(&wants[i]);
		struct nh_slot *s;

		if (!key)
			continue;
		if (ns_since(now_ns(), t0) >= NH_TICK_BUDGET_NS)
			return;		/* the wants stay for the next tick */
		/* No slot (all used within NH_REFRESH_NS): the pair stays
		 * wanted, so its next misses neither wake nor ask again. */
		if (!(s = slot_for(key, now)))
			continue;
		atomic_store(&wants[i], 0);
		if (atomic_load_explicit(&s->key, memory_order_relaxed) == key)
			continue;	/* taken already: refreshed below */
		atomic_store_explicit(&s->used_ns, now, memory_order_relaxed);
		resolve(s, key, now);
	}
	for (unsigned i = 0; i < NH_TABLE_SLOTS; i++) {
		struct nh_slot *s = &slots[i];
		uint64_t key = atomic_load_explicit(&s->key, memory_order_relaxed);
		uint64_t age = ns_since(now, s->resolved_ns);

		if (!key)
			continue;
		if (ns_since(now, atomic_load_explicit(&s->used_ns, memory_order_relaxed)) >= NH_IDLE_NS)
			publish(s, 0, -EAGAIN, NULL);
		else if ((age >= NH_REFRESH_NS ||
		    (age >= NH_STALE_GAP_NS && atomic_load_explicit(&s->stale, memory_order_relaxed))) &&
		    ns_since(now_ns(), t0) < NH_TICK_BUDGET_NS)
			resolve(s, key, now);
	}
}

unsigned
nh_table_in_use(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NH_TABLE_SLOTS; i++)
		n += atomic_load_explicit(&slots[i].key, memory_order_relaxed) != 0;
	return n;
}

void
nh_table_fini(void)
{
	for (unsigned i = 0; i < NH_TABLE_SLOTS; i++) {
		publish(&slots[i], 0, -EAGAIN, NULL);
		atomic_store_explicit(&slots[i].used_ns, 0, memory_order_relaxed);
		atomic_store_explicit(&slots[i].stale, false, memory_order_relaxed);
		slots[i].resolved_ns = 0;
	}
	for (unsigned i = 0; i < NH_TABLE_WANTS; i++)
		atomic_store_explicit(&wants[i], 0, memory_order_relaxed);
	atomic_store(&last_wake_ns, 0);
	nl_nh_close(nl);
	nl = NULL;
}
