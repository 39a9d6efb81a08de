/*
 * Unit tests for lib/flow.c, the per-ENI flow table of the return path,
 * written against the contract in flow.h.  Time is whatever the tests pass
 * as `now`.  Everything the table unlinks goes to a retire callback that
 * only records the pointer (under a mutex) and frees it when the test ends,
 * so a reader can never touch freed memory, and each pointer retired twice
 * or never shows up in the bookkeeping.  malloc is wrapped
 * (-Wl,--wrap=malloc) to count the table's allocations, to make one fail on
 * purpose, and to measure what one entry costs.
 *
 * Every GENEVE header handed to the table lives in a heap block of exactly
 * offsetof(geneve) + len bytes, so under --enable-sanitizers a read past
 * the caller's header is an ASan report.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow.h"

#define S		1000000000ull		/* ns per second */
#define T0		(1000 * S)		/* an arbitrary start time */
#define GLEN		40			/* GWLB's GENEVE header length */
#define GWLB_PORT	6081

/* --- malloc wrapper ---------------------------------------------------- */

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);

static _Atomic unsigned long malloc_calls;	/* while counting */
static _Atomic bool malloc_counting;
static _Atomic int malloc_fail_in;		/* n > 0: the nth call fails */
#define NREC 8
static size_t rec_size[NREC];			/* sizes, while counting */
static void *rec_ptr[NREC];

void *
__wrap_malloc(size_t size)
{
	int f = atomic_load(&malloc_fail_in);
	unsigned long n;
	void *p;

	if (f > 0 && atomic_fetch_sub(&malloc_fail_in, 1) == 1)
		return NULL;
	p = __real_malloc(size);
	if (atomic_load(&malloc_counting)) {
		n = atomic_fetch_add(&malloc_calls, 1);
		if (n < NREC) {
			rec_size[n] = size;
			rec_ptr[n] = p;
		}
	}
	return p;
}

static void
count_start(void)
{
	atomic_store(&malloc_calls, 0);
	atomic_store(&malloc_counting, true);
}

static unsigned long
count_stop(void)
{
	atomic_store(&malloc_counting, false);
	return atomic_load(&malloc_calls);
}

/* --- retire recorder ---------------------------------------------------- */

static pthread_mutex_t ret_lock = PTHREAD_MUTEX_INITIALIZER;
static void **retired;
static size_t nretired, cap_retired;

static void
rec_retire(void *p)
{
	pthread_mutex_lock(&ret_lock);
	if (nretired == cap_retired) {
		size_t cap = cap_retired ? cap_retired * 2 : 256;
		/* realloc is not wrapped: the counts above stay the table's own. */
		void **n = realloc(retired, cap * sizeof(*n));

		if (!n)
			abort();
		retired = n;
		cap_retired = cap;
	}
	retired[nretired++] = p;
	pthread_mutex_unlock(&ret_lock);
}

static size_t
retired_n(void)
{
	size_t n;

	pthread_mutex_lock(&ret_lock);
	n = nretired;
	pthread_mutex_unlock(&ret_lock);
	return n;
}

static size_t
retired_times(const void *p)
{
	size_t n = 0;

	pthread_mutex_lock(&ret_lock);
	for (size_t i = 0; i < nretired; i++)
		n += retired[i] == p;
	pthread_mutex_unlock(&ret_lock);
	return n;
}

static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/* True when no pointer was retired twice. */
static bool
retired_unique(void)
{
	bool ok = true;

	pthread_mutex_lock(&ret_lock);
	qsort(retired, nretired, sizeof(*retired), ptr_cmp);
	for (size_t i = 1; i < nretired; i++)
		if (retired[i] == retired[i - 1])
			ok = false;
	pthread_mutex_unlock(&ret_lock);
	return ok;
}

static void
retired_free(void)
{
	pthread_mutex_lock(&ret_lock);
	for (size_t i = 0; i < nretired; i++)
		free(retired[i]);
	free(retired);
	retired = NULL;
	nretired = cap_retired = 0;
	pthread_mutex_unlock(&ret_lock);
}

static int
setup(void **state)
{
	(void)state;
	flow_set_retire(rec_retire);
	flow_set_timeouts(350 * S, 120 * S);
	atomic_store(&malloc_fail_in, 0);
	atomic_store(&malloc_counting, false);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	retired_free();
	return 0;
}

/* --- keys and headers --------------------------------------------------- */

static struct pkt_key
key4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto)
{
	struct pkt_key k;
	uint32_t s = htonl(src), d = htonl(dst);

	memset(&k, 0, sizeof(k));
	memcpy(k.src, &s, 4);
	memcpy(k.dst, &d, 4);
	k.sport = sport;
	k.dport = dport;
	k.family = 4;
	k.proto = proto;
	return k;
}

/* 2001:db8:<hi>::<lo> */
static void
addr6(uint8_t *a, uint16_t hi, uint32_t lo)
{
	uint32_t l = htonl(lo);

	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = (uint8_t)(hi >> 8);
	a[5] = (uint8_t)hi;
	memcpy(a + 12, &l, 4);
}

static struct pkt_key
key6(uint16_t shi, uint32_t slo, uint16_t dhi, uint32_t dlo, uint16_t sport,
    uint16_t dport, uint8_t proto)
{
	struct pkt_key k;

	memset(&k, 0, sizeof(k));
	addr6(k.src, shi, slo);
	addr6(k.dst, dhi, dlo);
	k.sport = sport;
	k.dport = dport;
	k.family = 6;
	k.proto = proto;
	return k;
}

static struct pkt_key
key_rev(const struct pkt_key *k)
{
	struct pkt_key r = *k;

	memcpy(r.src, k->dst, 16);
	memcpy(r.dst, k->src, 16);
	r.sport = k->dport;
	r.dport = k->sport;
	return r;
}

static bool
key_same(const struct pkt_key *a, const struct pkt_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
gwlb_addr_of(uint32_t tag)
{
	return htonl(0xc6120000u | (tag & 0xffff));	/* 198.18.x.y */
}

/*
 * A GWLB header (ENI id, attachment id, cookie) in a block of exactly its
 * size.  The tag, which names the flow, goes into the ENI and attachment
 * ids and the outer address, the cookie into the cookie option.  Other
 * lengths than 40 get the same fixed part followed by a pattern.
 */
static struct flow_hdr *
hdr_new(uint32_t tag, uint32_t cookie, uint16_t len)
{
	struct flow_hdr *h = malloc(offsetof(struct flow_hdr, geneve) + len);
	uint8_t *g;

	assert_non_null(h);
	g = h->geneve;
	h->gwlb_addr = gwlb_addr_of(tag);
	h->local_addr = htonl(0xc6130001u);		/* 198.19.0.1 */
	h->gwlb_port = htons((uint16_t)(40000 + tag % 20000));
	h->local_port = htons(GWLB_PORT);
	h->len = len;
	for (unsigned i = 0; i < len; i++)
		g[i] = (uint8_t)(tag * 7 + i);
	if (len < GLEN)
		return h;
	/* Ver 0, option length in words, protocol IPv4, VNI 0. */
	put32(g, (uint32_t)((len - 8) / 4) << 24 | 0x0800);
	put32(g + 4, 0);
	put32(g + 8, 0x01080102);		/* class 0x0108 type 1 (ENI) */
	put32(g + 12, 0x076bc493);
	put32(g + 16, tag);
	put32(g + 20, 0x01080202);		/* type 2 (attachment) */
	put32(g + 24, 0x01234567);
	put32(g + 28, tag);
	put32(g + 32, 0x01080301);		/* type 3 (cookie) */
	put32(g + 36, cookie);
	return h;
}

static uint32_t
hdr_tag(const struct flow_hdr *h)
{
	return get32(h->geneve + 16);
}

static uint32_t
hdr_cookie(const struct flow_hdr *h)
{
	return get32(h->geneve + 36);
}

/* A whole, untorn GWLB header of flow `tag`. */
static bool
hdr_ok(const struct flow_hdr *h, uint32_t tag)
{
	const uint8_t *g = h->geneve;

	return h->len == GLEN && h->gwlb_addr == gwlb_addr_of(tag) &&
	    h->local_addr == htonl(0xc6130001u) &&
	    h->gwlb_port == htons((uint16_t)(40000 + tag % 20000)) &&
	    h->local_port == htons(GWLB_PORT) &&
	    get32(g) == (8u << 24 | 0x0800) && get32(g + 8) == 0x01080102 &&
	    get32(g + 12) == 0x076bc493 && get32(g + 16) == tag &&
	    get32(g + 20) == 0x01080202 && get32(g + 28) == tag &&
	    get32(g + 32) == 0x01080301;
}

static bool
hdr_eq(const struct flow_hdr *a, const struct flow_hdr *b)
{
	return a->len == b->len && a->gwlb_addr == b->gwlb_addr &&
	    a->local_addr == b->local_addr && a->gwlb_port == b->gwlb_port &&
	    a->local_port == b->local_port &&
	    memcmp(a->geneve, b->geneve, a->len) == 0;
}

/* Learn k with a fresh header of (tag, cookie); the table copies it. */
static int
learn(struct flow_table *t, const struct pkt_key *k, uint32_t tag, uint32_t cookie,
    uint64_t now)
{
	struct flow_hdr *h = hdr_new(tag, cookie, GLEN);
	int r = flow_learn(t, k, h, now);

	free(h);
	return r;
}

/* The tag lookup finds for k, or -1. */
static long
found(struct flow_table *t, const struct pkt_key *k, uint64_t now)
{
	const struct flow_hdr *h = flow_lookup(t, k, now);

	return h ? (long)hdr_tag(h) : -1;
}

static struct flow_stats
stats(const struct flow_table *t)
{
	struct flow_stats s;

	flow_table_stats(t, &s);
	return s;
}

/* 192.0.2.x and 198.51.100.x */
#define A(x)	(0xc0000200u | (x))
#define B(x)	(0xc6336400u | (x))

/* --- learn and lookup --------------------------------------------------- */

/* Echo keys carry the id as both ports (pkt.h). */
static const struct {
	const char	*name;
	uint8_t		 family, proto;
	uint16_t	 sport, dport;
} orient_vec[] = {
	{ "v4 tcp", 4, IPPROTO_TCP, 40000, 443 },
	{ "v4 udp", 4, IPPROTO_UDP, 5353, 53 },
	{ "v4 sctp", 4, IPPROTO_SCTP, 2905, 2905 },
	{ "v4 icmp echo", 4, IPPROTO_ICMP, 0x1234, 0x1234 },
	{ "v4 gre (no ports)", 4, IPPROTO_GRE, 0, 0 },
	{ "v6 tcp", 6, IPPROTO_TCP, 40000, 443 },
	{ "v6 udp", 6, IPPROTO_UDP, 5353, 53 },
	{ "v6 icmpv6 echo", 6, IPPROTO_ICMPV6, 0x4321, 0x4321 },
	{ "v6 esp (no ports)", 6, IPPROTO_ESP, 0, 0 },
};

static void
test_orientations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(orient_vec) / sizeof(orient_vec[0]); i++) {
		struct flow_table *t = flow_table_new(16);
		struct pkt_key k = orient_vec[i].family == 4 ?
		    key4(A(1), B(2), orient_vec[i].sport, orient_vec[i].dport, orient_vec[i].proto) :
		    key6(1, 1, 2, 2, orient_vec[i].sport, orient_vec[i].dport, orient_vec[i].proto);
		struct pkt_key r = key_rev(&k), o;
		const struct flow_hdr *h;

		print_message("  %s\n", orient_vec[i].name);
		assert_non_null(t);
		assert_null(flow_lookup(t, &k, T0));
		assert_int_equal(learn(t, &k, (uint32_t)i, 7, T0), 1);
		assert_int_equal(learn(t, &k, (uint32_t)i, 7, T0), 0);
		h = flow_lookup(t, &k, T0 + 1);
		assert_non_null(h);
		assert_true(hdr_ok(h, (uint32_t)i));
		assert_int_equal(hdr_cookie(h), 7);
		/* The reply: its reversed tuple finds the same header. */
		assert_ptr_equal(flow_lookup(t, &r, T0 + 2), h);

		/* Near misses find nothing. */
		o = k;
		o.sport++;
		assert_null(flow_lookup(t, &o, T0));
		o = k;
		o.dport ^= 0x100;
		assert_null(flow_lookup(t, &o, T0));
		o = k;
		o.proto = k.proto == IPPROTO_UDP ? IPPROTO_TCP : IPPROTO_UDP;
		assert_null(flow_lookup(t, &o, T0));
		o = k;
		o.family = k.family == 4 ? 6 : 4;
		assert_null(flow_lookup(t, &o, T0));
		o = k;
		o.src[3] ^= 1;
		assert_null(flow_lookup(t, &o, T0));
		o = r;
		o.dst[15] ^= 0x80;
		assert_null(flow_lookup(t, &o, T0));
		/* Addresses reversed but not the ports (and vice versa). */
		if (k.sport != k.dport) {
			o = k;
			o.sport = k.dport;
			o.dport = k.sport;
			assert_null(flow_lookup(t, &o, T0));
			o = r;
			o.sport = k.sport;
			o.dport = k.dport;
			assert_null(flow_lookup(t, &o, T0));
		}

		assert_int_equal(stats(t).entries, 1);
		assert_int_equal(stats(t).inserts, 1);
		assert_int_equal(retired_n(), 0);
		flow_table_free(t);
	}
}

/*
 * Keys that differ in one field only, none the reverse of another: each
 * finds its own header, as is and reversed.
 */
static void
test_confusable(void **state)
{
	const struct pkt_key keys[] = {
		key4(A(1), B(2), 1000, 2000, IPPROTO_TCP),
		key4(A(1), B(2), 2000, 1000, IPPROTO_TCP),	/* ports swapped */
		key4(A(1), B(2), 1000, 2000, IPPROTO_UDP),
		key4(A(1), B(2), 1000, 2000, IPPROTO_SCTP),
		key4(A(1), B(3), 1000, 2000, IPPROTO_TCP),
		key4(A(3), B(2), 1000, 2000, IPPROTO_TCP),
		key4(A(1), B(2), 1000, 2001, IPPROTO_TCP),
		key4(A(1), A(2), 1000, 2000, IPPROTO_TCP),
		key4(A(1), B(2), 7, 7, IPPROTO_ICMP),
		key4(A(1), B(2), 8, 8, IPPROTO_ICMP),
		key4(A(1), B(2), 7, 7, IPPROTO_UDP),
		key6(1, 1, 2, 2, 1000, 2000, IPPROTO_TCP),
		key6(1, 1, 2, 2, 2000, 1000, IPPROTO_TCP),
		key6(1, 1, 3, 2, 1000, 2000, IPPROTO_TCP),
		key6(1, 1, 2, 2, 7, 7, IPPROTO_ICMPV6),
		key6(1, 1, 2, 2, 7, 7, IPPROTO_ICMP),		/* proto differs only */
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	struct flow_table *t = flow_table_new(64);
	struct pkt_key v4as6;

	(void)state;
	/* An IPv4 key whose address bytes an IPv6 key shares but for family. */
	v4as6 = keys[0];
	v4as6.family = 6;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			struct pkt_key r = key_rev(&keys[j]);

			assert_false(key_same(&keys[i], &r));
		}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(learn(t, &keys[i], (uint32_t)i, 1, T0), 1);
	for (size_t i = 0; i < n; i++) {
		struct pkt_key r = key_rev(&keys[i]);

		assert_int_equal(found(t, &keys[i], T0), (long)i);
		assert_int_equal(found(t, &r, T0), (long)i);
	}
	assert_int_equal(found(t, &v4as6, T0), -1);
	assert_int_equal(stats(t).entries, n);
	flow_table_free(t);
}

/* Both orientations learned: the as-is entry wins, in either insert order. */
static void
test_as_is_wins(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		struct flow_table *t = flow_table_new(16);
		struct pkt_key k = key4(A(1), B(2), 40000, 80, IPPROTO_UDP), r = key_rev(&k);

		if (order == 0) {
			assert_int_equal(learn(t, &k, 1, 0, T0), 1);
			assert_int_equal(learn(t, &r, 2, 0, T0), 1);
		} else {
			assert_int_equal(learn(t, &r, 2, 0, T0), 1);
			assert_int_equal(learn(t, &k, 1, 0, T0), 1);
		}
		assert_int_equal(found(t, &k, T0 + 1), 1);
		assert_int_equal(found(t, &r, T0 + 1), 2);
		assert_int_equal(stats(t).entries, 2);

		/*
		 * k idles out while r stays in use: k's packets now match r
		 * reversed rather than nothing (expired entries not yet
		 * unlinked must not hide a live one).
		 */
		for (uint64_t now = T0 + 60 * S; now <= T0 + 180 * S; now += 60 * S)
			assert_int_equal(found(t, &r, now), 2);
		assert_int_equal(found(t, &k, T0 + 181 * S), 2);
		/* That lookup refreshed r, not k: k is still gone. */
		assert_int_equal(flow_expire(t, T0 + 181 * S, UINT_MAX), 1);
		assert_int_equal(found(t, &r, T0 + 182 * S), 2);
		flow_table_free(t);
	}
}

/* --- refresh ------------------------------------------------------------ */

enum hchange { HC_NONE, HC_COOKIE, HC_GWLB_ADDR, HC_GWLB_PORT, HC_LOCAL_ADDR,
    HC_LOCAL_PORT, HC_LEN_SHORTER, HC_LEN_LONGER };

static const struct {
	const char	*name;
	enum hchange	 change;
} refresh_vec[] = {
	{ "identical header", HC_NONE },
	{ "new cookie", HC_COOKIE },
	{ "other GWLB address", HC_GWLB_ADDR },
	{ "other GWLB port", HC_GWLB_PORT },
	{ "other local address", HC_LOCAL_ADDR },
	{ "other local port", HC_LOCAL_PORT },
	{ "shorter header", HC_LEN_SHORTER },
	{ "longer header", HC_LEN_LONGER },
};

static struct flow_hdr *
hdr_changed(enum hchange c)
{
	uint16_t len = c == HC_LEN_SHORTER ? 32 : c == HC_LEN_LONGER ? 48 : GLEN;
	struct flow_hdr *h = hdr_new(5, c == HC_COOKIE ? 0xc00c1e02 : 0xc00c1e01, len);

	switch (c) {
	case HC_GWLB_ADDR:
		h->gwlb_addr ^= htonl(1);
		break;
	case HC_GWLB_PORT:
		h->gwlb_port ^= htons(1);
		break;
	case HC_LOCAL_ADDR:
		h->local_addr ^= htonl(1);
		break;
	case HC_LOCAL_PORT:
		h->local_port ^= htons(1);
		break;
	default:
		break;
	}
	return h;
}

static void
test_refresh(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refresh_vec) / sizeof(refresh_vec[0]); i++) {
		struct flow_table *t = flow_table_new(16);
		struct pkt_key k = key4(A(1), B(2), 40000, 443, IPPROTO_TCP), r = key_rev(&k);
		struct flow_hdr *h1 = hdr_new(5, 0xc00c1e01, GLEN);
		struct flow_hdr *h2 = hdr_changed(refresh_vec[i].change);
		const struct flow_hdr *old, *cur;
		bool same = refresh_vec[i].change == HC_NONE;

		print_message("  %s\n", refresh_vec[i].name);
		assert_int_equal(flow_learn(t, &k, h1, T0), 1);
		old = flow_lookup(t, &r, T0);
		assert_non_null(old);
		assert_true(hdr_eq(old, h1));
		assert_ptr_not_equal(old, h1);		/* a copy */

		assert_int_equal(flow_learn(t, &k, h2, T0 + S), 0);
		cur = flow_lookup(t, &r, T0 + S);
		assert_non_null(cur);
		assert_true(hdr_eq(cur, h2));
		if (same) {
			assert_ptr_equal(cur, old);
			assert_int_equal(retired_n(), 0);
		} else {
			assert_ptr_not_equal(cur, old);
			assert_int_equal(retired_n(), 1);
			assert_int_equal(retired_times(old), 1);
		}
		/* Learning the new header again changes nothing more. */
		assert_int_equal(flow_learn(t, &k, h2, T0 + 2 * S), 0);
		assert_ptr_equal(flow_lookup(t, &k, T0 + 2 * S), cur);
		assert_int_equal(retired_n(), same ? 0 : 1);
		assert_int_equal(stats(t).entries, 1);
		assert_int_equal(stats(t).inserts, 1);

		/* Unlinking the entry retires the current header, once. */
		assert_int_equal(flow_flush(t), 1);
		assert_int_equal(retired_times(cur), 1);
		assert_int_equal(retired_n(), same ? 2 : 3);
		assert_true(retired_unique());
		free(h1);
		free(h2);
		flow_table_free(t);
		retired_free();
	}
}

/* --- timeouts ----------------------------------------------------------- */

static const struct {
	const char	*name;
	uint8_t		 proto;
	bool		 tcp;
} timeout_vec[] = {
	{ "tcp", IPPROTO_TCP, true },
	{ "udp", IPPROTO_UDP, false },
	{ "icmp", IPPROTO_ICMP, false },
	{ "sctp", IPPROTO_SCTP, false },
	{ "esp", IPPROTO_ESP, false },
};

static void
test_timeouts(void **state)
{
	const uint64_t tcp = 350 * S, other = 120 * S;

	(void)state;
	flow_set_timeouts(tcp, other);
	for (size_t i = 0; i < sizeof(timeout_vec) / sizeof(timeout_vec[0]); i++) {
		uint64_t to = timeout_vec[i].tcp ? tcp : other;
		struct pkt_key k = key4(A(1), B(2), 1, 2, timeout_vec[i].proto);
		struct pkt_key r = key_rev(&k);
		struct flow_table *t = flow_table_new(16);
		uint64_t now;

		print_message("  %s\n", timeout_vec[i].name);
		/* Exactly at the boundary the entry is gone, in both orientations. */
		assert_int_equal(learn(t, &k, 1, 0, T0), 1);
		assert_int_equal(found(t, &k, T0 + to), -1);
		assert_int_equal(found(t, &r, T0 + to), -1);
		assert_int_equal(found(t, &k, T0 + to + 1), -1);
		/* The other protocol class's timeout does not apply. */
		if (!timeout_vec[i].tcp)
			assert_int_equal(found(t, &k, T0 + tcp - 1), -1);
		flow_table_free(t);

		/* One ns before, it is found, and the lookup refreshes it. */
		t = flow_table_new(16);
		assert_int_equal(learn(t, &k, 1, 0, T0), 1);
		now = T0 + to - 1;
		assert_int_equal(found(t, &r, now), 1);
		now += to - 1;
		assert_int_equal(found(t, &k, now), 1);
		if (timeout_vec[i].tcp)		/* longer than the other timeout */
			assert_int_equal(found(t, &k, now + other + 1), 1);
		flow_table_free(t);

		/* Learning refreshes it too. */
		t = flow_table_new(16);
		assert_int_equal(learn(t, &k, 1, 0, T0), 1);
		assert_int_equal(learn(t, &k, 1, 0, T0 + to / 2), 0);
		assert_int_equal(found(t, &k, T0 + to + 1), 1);
		assert_int_equal(found(t, &k, T0 + to + 1 + to), -1);
		/* ...and revives an expired entry flow_expire has not reached. */
		assert_int_equal(learn(t, &k, 1, 0, T0 + 3 * to), 0);
		assert_int_equal(found(t, &k, T0 + 3 * to + 1), 1);
		flow_table_free(t);
	}
	assert_int_equal(retired_n(), 0);
}

struct visit {
	unsigned	 n;
	unsigned	 stop_after;	/* 0: never stop */
	uint64_t	 now;
	uint8_t		 seen[512];	/* by tag */
	uint64_t	 idle[512];
	bool		 bad;
};

static bool
visit_fn(const struct pkt_key *k, const struct flow_hdr *h, uint64_t idle_ns, void *arg)
{
	struct visit *v = arg;
	uint32_t tag = hdr_tag(h);

	(void)k;
	if (tag >= 512 || !hdr_ok(h, tag))
		v->bad = true;
	else {
		v->seen[tag]++;
		v->idle[tag] = idle_ns;
	}
	v->n++;
	return v->stop_after == 0 || v->n < v->stop_after;
}

/* Flow i of the expiry tests: every third is TCP. */
static struct pkt_key
xkey(unsigned i)
{
	return key4(A(1 + i % 200), B(1 + i / 200), (uint16_t)(1000 + i), 53,
	    i % 3 == 0 ? IPPROTO_TCP : IPPROTO_UDP);
}

static void
test_expire(void **state)
{
	enum { N = 300 };
	const uint64_t tcp = 10 * S, other = 5 * S;
	const struct flow_hdr *hdrs[N];
	struct flow_table *t = flow_table_new(1024);
	unsigned ntcp = 0;
	struct flow_stats st;
	struct visit *v = calloc(1, sizeof(*v));
	uint64_t now = T0 + other;

	(void)state;
	assert_non_null(v);
	flow_set_timeouts(tcp, other);
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = xkey(i);

		assert_int_equal(learn(t, &k, i, 0, T0), 1);
		hdrs[i] = flow_lookup(t, &k, T0);
		ntcp += i % 3 == 0;
	}
	/* UDP flow 1 was seen 1 ns ago; UDP flow 2 expires 1 ns from now. */
	{
		struct pkt_key k1 = xkey(1), k2 = xkey(2);

		assert_int_equal(found(t, &k1, now - 1), 1);
		assert_int_equal(learn(t, &k2, 2, 0, T0 + 1), 0);
	}
	assert_int_equal(flow_expire(t, now, 0), 0);
	assert_int_equal(flow_expire(t, now, UINT_MAX), N - ntcp - 2);
	st = stats(t);
	assert_int_equal(st.expired, N - ntcp - 2);
	assert_int_equal(st.entries, ntcp + 2);
	/* Both the entry and its header were retired, each once. */
	assert_int_equal(retired_n(), 2 * (N - ntcp - 2));
	assert_true(retired_unique());
	for (unsigned i = 0; i < N; i++) {
		bool live = i % 3 == 0 || i == 1 || i == 2;

		assert_int_equal(retired_times(hdrs[i]), live ? 0 : 1);
	}
	/* foreach sees the live entries only, with their idle times. */
	flow_foreach(t, now, visit_fn, v);
	assert_false(v->bad);
	assert_int_equal(v->n, ntcp + 2);
	for (unsigned i = 0; i < N; i++) {
		bool live = i % 3 == 0 || i == 1 || i == 2;

		assert_int_equal(v->seen[i], live);
		if (live)
			assert_int_equal(v->idle[i], i == 1 ? 1 : i == 2 ? other - 1 : other);
	}
	assert_int_equal(flow_expire(t, now + 1, UINT_MAX), 1);

	/* foreach skips an expired entry that flow_expire has not unlinked. */
	memset(v, 0, sizeof(*v));
	flow_foreach(t, T0 + tcp - 1, visit_fn, v);
	assert_int_equal(v->n, ntcp);
	assert_int_equal(v->seen[1], 0);
	assert_int_equal(stats(t).entries, ntcp + 1);
	assert_int_equal(flow_expire(t, T0 + tcp - 1, UINT_MAX), 1);
	assert_int_equal(flow_expire(t, T0 + tcp, UINT_MAX), ntcp);
	assert_int_equal(stats(t).entries, 0);
	assert_int_equal(stats(t).expired, N);
	assert_int_equal(retired_n(), 2 * N);
	assert_true(retired_unique());
	free(v);
	flow_table_free(t);
}

/* flow_expire looks at no more than `budget` buckets per call. */
static void
test_expire_budget(void **state)
{
	enum { N = 400, MAX = 256 };
	struct flow_table *t = flow_table_new(MAX * 4);
	unsigned nb = flow_buckets_for(MAX * 4), total = 0, calls = 0;
	unsigned per[1024];

	(void)state;
	assert_true(nb <= 1024);
	flow_set_timeouts(10 * S, 10 * S);
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = xkey(i);

		assert_int_equal(learn(t, &k, i, 0, T0), 1);
	}
	/* Nothing is expired yet: a full pass unlinks nothing. */
	assert_int_equal(flow_expire(t, T0 + 10 * S - 1, UINT_MAX), 0);
	for (unsigned i = 0; i < nb; i++) {
		per[i] = flow_expire(t, T0 + 10 * S, 1);
		total += per[i];
		calls++;
		if (i == nb / 2 - 1)
			/* Half a pass cannot have reached every bucket. */
			assert_true(total < N);
	}
	/* One pass of single buckets covers the table exactly once. */
	assert_int_equal(total, N);
	assert_int_equal(calls, nb);
	assert_int_equal(stats(t).entries, 0);
	assert_int_equal(stats(t).expired, N);
	assert_int_equal(retired_n(), 2 * N);
	/* A budget of one bucket never took a lot at once. */
	for (unsigned i = 0; i < nb; i++)
		assert_true(per[i] < N / 4);
	assert_int_equal(flow_expire(t, T0 + 100 * S, UINT_MAX), 0);
	flow_table_free(t);
}

/* --- size bound --------------------------------------------------------- */

/*
 * With at most 8 entries every non-empty bucket is in the eviction sample,
 * so the victim is the least recently seen entry of the whole table.
 */
static void
test_evict_lru(void **state)
{
	enum { MAX = 8 };
	struct flow_table *t = flow_table_new(MAX);
	const struct flow_hdr *h[64];
	uint64_t now = T0;

	(void)state;
	for (unsigned i = 0; i < MAX; i++) {
		struct pkt_key k = xkey(i);

		assert_int_equal(learn(t, &k, i, 0, now++), 1);
		h[i] = flow_lookup(t, &k, now++);
	}
	/* Seen again: 0 by a lookup (reversed), 1 by learning. */
	{
		struct pkt_key k0 = xkey(0), r0 = key_rev(&k0), k1 = xkey(1);

		assert_int_equal(found(t, &r0, now++), 0);
		assert_int_equal(learn(t, &k1, 1, 0, now++), 0);
	}
	/* Now 2, 3, ... are the oldest, in that order. */
	for (unsigned i = MAX; i < MAX + 4; i++) {
		struct pkt_key k = xkey(i), gone = xkey(i - MAX + 2);
		struct flow_stats st;

		assert_int_equal(learn(t, &k, i, 0, now++), 1);
		h[i] = flow_lookup(t, &k, now++);
		st = stats(t);
		assert_int_equal(st.entries, MAX);
		assert_int_equal(st.evictions, i - MAX + 1);
		assert_int_equal(st.refused, 0);
		assert_int_equal(found(t, &gone, now), -1);
		assert_int_equal(retired_times(h[i - MAX + 2]), 1);
	}
	assert_int_equal(retired_n(), 2 * 4);
	for (unsigned i = 0; i < MAX + 4; i++) {
		struct pkt_key k = xkey(i);
		bool live = i < 2 || i >= 6;

		assert_int_equal(found(t, &k, now), live ? (long)i : -1);
	}
	flow_table_free(t);
}

static void
test_bound(void **state)
{
	enum { MAX = 1000, N = 5000 };
	struct flow_table *t = flow_table_new(MAX);
	struct flow_stats st;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = key6(1, i, 2, 1, (uint16_t)i, 80, IPPROTO_TCP);

		assert_int_equal(learn(t, &k, i, 0, T0 + i), 1);
		st = stats(t);
		assert_true(st.entries <= MAX);
		/* The entry just made survives its own insert. */
		assert_int_equal(found(t, &k, T0 + i), (long)i);
	}
	st = stats(t);
	assert_int_equal(st.entries, MAX);
	assert_int_equal(st.inserts, N);
	assert_int_equal(st.evictions, N - MAX);
	assert_int_equal(st.refused, 0);
	assert_int_equal(retired_n(), 2 * (N - MAX));
	assert_true(retired_unique());
	/*
	 * Evictions took old entries: nothing of the oldest 3000 is left,
	 * nearly all of the newest 500 are (each sample holds some 30).
	 */
	{
		unsigned old = 0, recent = 0;

		for (unsigned i = 0; i < N; i++) {
			struct pkt_key k = key6(1, i, 2, 1, (uint16_t)i, 80, IPPROTO_TCP);
			bool there = found(t, &k, T0 + N) == (long)i;

			old += there && i < N - 2 * MAX;
			recent += there && i >= N - MAX / 2;
		}
		print_message("  survivors: %u of the oldest %u, %u of the newest %u\n",
		    old, N - 2 * MAX, recent, MAX / 2);
		assert_int_equal(old, 0);
		assert_true(recent >= MAX / 2 * 95 / 100);
	}
	flow_table_free(t);

	/* A table of no entries refuses. */
	t = flow_table_new(0);
	{
		struct pkt_key k = xkey(0);

		assert_int_equal(learn(t, &k, 0, 0, T0), -ENOMEM);
		assert_int_equal(stats(t).refused, 1);
		assert_int_equal(stats(t).entries, 0);
		assert_int_equal(found(t, &k, T0), -1);
	}
	flow_table_free(t);
}

static void
test_flush_foreach(void **state)
{
	enum { N = 50 };
	struct flow_table *t = flow_table_new(256);
	struct visit *v = calloc(1, sizeof(*v));
	const uint64_t other = 100 * S;

	(void)state;
	assert_non_null(v);
	flow_set_timeouts(1000 * S, other);
	/* Flow i learned at T0 + i s; the UDP ones among i < 20 will idle out. */
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = xkey(i);

		assert_int_equal(learn(t, &k, i, 0, T0 + i * S), 1);
	}
	flow_foreach(t, T0 + 119 * S, visit_fn, v);
	assert_false(v->bad);
	for (unsigned i = 0; i < N; i++) {
		bool live = i % 3 == 0 || i >= 20;

		assert_int_equal(v->seen[i], live);
		if (live)
			assert_int_equal(v->idle[i], (119 - i) * S);
	}
	assert_int_equal(v->n, N - 13);		/* 13 UDP flows below 20 */
	/* foreach refreshes nothing and unlinks nothing. */
	assert_int_equal(stats(t).entries, N);
	assert_int_equal(flow_expire(t, T0 + 119 * S, UINT_MAX), 13);

	/* Stopping early: exactly as many visits as the callback allowed. */
	for (unsigned stop = 1; stop <= 5; stop++) {
		memset(v, 0, sizeof(*v));
		v->stop_after = stop;
		flow_foreach(t, T0 + 119 * S, visit_fn, v);
		assert_int_equal(v->n, stop);
	}

	assert_int_equal(flow_flush(t), N - 13);
	assert_int_equal(stats(t).entries, 0);
	assert_int_equal(retired_n(), 2 * N);
	assert_true(retired_unique());
	memset(v, 0, sizeof(*v));
	flow_foreach(t, T0 + 119 * S, visit_fn, v);
	assert_int_equal(v->n, 0);
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = xkey(i);

		assert_int_equal(found(t, &k, T0 + 119 * S), -1);
	}
	assert_int_equal(flow_flush(t), 0);
	/* The table works after a flush. */
	{
		struct pkt_key k = xkey(7);

		assert_int_equal(learn(t, &k, 7, 0, T0), 1);
		assert_int_equal(found(t, &k, T0), 7);
	}
	free(v);
	flow_table_free(t);
}

/* --- many flows --------------------------------------------------------- */

/* Flow i of 50 000: v4 and v6, four protocols, no key the reverse of another. */
static struct pkt_key
bigkey(unsigned i)
{
	static const uint8_t protos[2][4] = {
		{ IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_SCTP },
		{ IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6, IPPROTO_SCTP },
	};
	unsigned v6 = i & 1;
	uint8_t proto = protos[v6][(i >> 1) & 3];
	uint32_t s = 1 + i % 200, d = 1 + (i / 200) % 200;
	uint16_t sport = (uint16_t)(1000 + i / 7);
	uint16_t dport = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? sport : 443;

	return v6 ? key6(1, s, 2, d, sport, dport, proto) :
	    key4(A(s), B(d), sport, dport, proto);
}

static void
test_50k(void **state)
{
	enum { N = 50000 };
	struct flow_table *t = flow_table_new(N);
	struct flow_stats st;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = bigkey(i);

		assert_int_equal(learn(t, &k, i, i ^ 0x5a5a, T0), 1);
	}
	for (unsigned i = 0; i < N; i++) {
		struct pkt_key k = bigkey(i), r = key_rev(&k);
		const struct flow_hdr *h = flow_lookup(t, &k, T0 + 1);

		assert_non_null(h);
		assert_true(hdr_ok(h, i));
		assert_int_equal(hdr_cookie(h), i ^ 0x5a5a);
		assert_ptr_equal(flow_lookup(t, &r, T0 + 1), h);
	}
	/* Keys next to learned ones are not found. */
	for (unsigned i = 0; i < N; i += 97) {
		struct pkt_key k = bigkey(i);

		k.dport ^= 0x8000;
		assert_null(flow_lookup(t, &k, T0 + 1));
	}
	st = stats(t);
	assert_int_equal(st.entries, N);
	assert_int_equal(st.inserts, N);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.refused, 0);
	assert_int_equal(flow_flush(t), N);
	assert_int_equal(retired_n(), 2 * N);
	flow_table_free(t);
}

/* --- memory ------------------------------------------------------------- */

static void
test_enomem(void **state)
{
	struct flow_table *t = flow_table_new(4);
	struct pkt_key k = xkey(0);
	struct flow_hdr *h1 = hdr_new(0, 1, GLEN), *h2 = hdr_new(0, 2, GLEN);

	(void)state;
	/* No memory for a new entry (header, then entry): refused, not there. */
	for (int n = 1; n <= 2; n++) {
		atomic_store(&malloc_fail_in, n);
		assert_int_equal(flow_learn(t, &k, h1, T0), -ENOMEM);
		atomic_store(&malloc_fail_in, 0);
	}
	assert_int_equal(stats(t).refused, 2);
	assert_int_equal(stats(t).entries, 0);
	assert_int_equal(found(t, &k, T0), -1);
	assert_int_equal(retired_n(), 0);

	/* At the bound: a failed malloc must not cost an entry. */
	for (unsigned i = 0; i < 4; i++) {
		struct pkt_key ki = xkey(i);

		assert_int_equal(learn(t, &ki, i, 1, T0 + i), 1);
	}
	for (int n = 1; n <= 2; n++) {
		struct pkt_key k9 = xkey(9);
		struct flow_hdr *h = hdr_new(9, 1, GLEN);

		atomic_store(&malloc_fail_in, n);
		assert_int_equal(flow_learn(t, &k9, h, T0 + 10), -ENOMEM);
		atomic_store(&malloc_fail_in, 0);
		free(h);
	}
	assert_int_equal(stats(t).refused, 4);
	assert_int_equal(stats(t).evictions, 0);
	assert_int_equal(stats(t).entries, 4);
	assert_int_equal(found(t, &k, T0 + 11), 0);

	/* No memory for a new header: the old one stays. */
	atomic_store(&malloc_fail_in, 1);
	assert_int_equal(flow_learn(t, &k, h2, T0 + 12), -ENOMEM);
	atomic_store(&malloc_fail_in, 0);
	assert_int_equal(hdr_cookie(flow_lookup(t, &k, T0 + 12)), 1);
	assert_int_equal(flow_learn(t, &k, h2, T0 + 13), 0);
	assert_int_equal(hdr_cookie(flow_lookup(t, &k, T0 + 13)), 2);
	assert_int_equal(retired_n(), 1);
	free(h1);
	free(h2);
	flow_table_free(t);
}

/*
 * What one entry costs: the allocations one new flow makes, as requested
 * and as glibc rounds them, plus the bucket array's share at the bound.
 */
static void
test_memory(void **state)
{
	struct flow_table *t = flow_table_new(1u << 20);
	struct flow_hdr *h = hdr_new(1, 1, GLEN);
	struct pkt_key k = xkey(1);
	size_t req = 0, usable = 0, hsize = sizeof(struct flow_hdr) + GLEN;
	size_t fsize = 0;
	unsigned long n;

	(void)state;
	count_start();
	assert_int_equal(flow_learn(t, &k, h, T0), 1);
	n = count_stop();
	assert_int_equal(n, 2);			/* the entry and its header */
	for (unsigned i = 0; i < n; i++) {
		req += rec_size[i];
		usable += malloc_usable_size(rec_ptr[i]);
		if (rec_size[i] != hsize)
			fsize = rec_size[i];
	}
	assert_true(rec_size[0] == hsize || rec_size[1] == hsize);
	/* A refresh with the same header allocates nothing. */
	count_start();
	assert_int_equal(flow_learn(t, &k, h, T0 + 1), 0);
	assert_int_equal(count_stop(), 0);

	print_message("  sizeof(struct pkt_key) %zu, sizeof(struct flow_hdr) %zu,"
	    " struct flow %zu\n", sizeof(struct pkt_key), sizeof(struct flow_hdr), fsize);
	print_message("  one entry with a %d-byte GENEVE header: %zu bytes requested,"
	    " %zu usable (malloc chunk overhead not counted)\n", GLEN, req, usable);
	for (unsigned max = 1000; max <= 10000000; max *= 10)
		print_message("  buckets at max %u: %u (%.1f bytes per entry)\n", max,
		    flow_buckets_for(max), 8.0 * flow_buckets_for(max) / max);
	assert_int_equal(fsize, 64);	/* as flow.c reads: 3 pointers/u64 + key */
	free(h);
	flow_table_free(t);
}

/* --- concurrency -------------------------------------------------------- */

#define CK		2048		/* keys */
#define CMAX		1024		/* table bound: forces evictions */
#define CCOOKIES	4
#define CWORKERS	3
#define CITER		120000

struct cshared {
	struct flow_table	*t;
	struct pkt_key		 keys[CK];
	struct flow_hdr		*hdrs[CK][CCOOKIES];
	_Atomic uint64_t	 clock;
	_Atomic bool		 stop, expiring;
	_Atomic uint64_t	 hits, misses, bad, learned, refused_ret, over_max;
	_Atomic uint64_t	 expired_ret;
};

struct cworker {
	struct cshared	*c;
	uint64_t	 seed;
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *
cworker_run(void *arg)
{
	struct cworker *w = arg;
	struct cshared *c = w->c;
	uint64_t s = w->seed;

	/* Start once the expirer runs, so that the two overlap. */
	while (!atomic_load(&c->expiring))
		sched_yield();
	for (unsigned it = 0; it < CITER; it++) {
		uint64_t r = xorshift(&s);
		unsigned i = (unsigned)(r % CK);
		uint64_t now = atomic_fetch_add(&c->clock, 1) + 1;
		struct pkt_key k = c->keys[i];
		const struct flow_hdr *h;
		int ret;

		if ((r >> 32) & 1)
			k = key_rev(&k);
		switch ((r >> 40) & 3) {
		case 0:
			ret = flow_learn(c->t, &k, c->hdrs[i][(r >> 48) % CCOOKIES], now);
			if (ret == 1)
				atomic_fetch_add(&c->learned, 1);
			else if (ret == -ENOMEM)
				atomic_fetch_add(&c->refused_ret, 1);
			else if (ret != 0)
				atomic_fetch_add(&c->bad, 1);
			break;
		default:
			h = flow_lookup(c->t, &k, now);
			if (!h) {
				atomic_fetch_add(&c->misses, 1);
				break;
			}
			atomic_fetch_add(&c->hits, 1);
			/* The header is whole and belongs to this flow. */
			if (!hdr_ok(h, i) || hdr_cookie(h) >= CCOOKIES)
				atomic_fetch_add(&c->bad, 1);
			break;
		}
	}
	return NULL;
}

static bool
cvisit(const struct pkt_key *k, const struct flow_hdr *h, uint64_t idle_ns, void *arg)
{
	struct cshared *c = arg;
	uint32_t tag = hdr_tag(h);

	(void)idle_ns;
	if (tag >= CK || !hdr_ok(h, tag))
		atomic_fetch_add(&c->bad, 1);
	else {
		struct pkt_key r = key_rev(&c->keys[tag]);

		if (!key_same(k, &c->keys[tag]) && !key_same(k, &r))
			atomic_fetch_add(&c->bad, 1);
	}
	return true;
}

static void *
cexpirer_run(void *arg)
{
	struct cshared *c = arg;

	atomic_store(&c->expiring, true);
	while (!atomic_load(&c->stop)) {
		uint64_t now = atomic_load(&c->clock);
		struct flow_stats st;

		atomic_fetch_add(&c->expired_ret, flow_expire(c->t, now, 16));
		flow_table_stats(c->t, &st);
		if (st.entries > CMAX)
			atomic_fetch_add(&c->over_max, 1);
		if ((now & 0xff) == 0)
			flow_foreach(c->t, now, cvisit, c);
	}
	return NULL;
}

/* Entries per (key, orientation), to find duplicates. */
struct cdup {
	struct cshared	*c;
	uint8_t		 n[CK][2];
	unsigned	 total;
};

static bool
cdup_fn(const struct pkt_key *k, const struct flow_hdr *h, uint64_t idle_ns, void *arg)
{
	struct cdup *d = arg;
	uint32_t tag = hdr_tag(h);

	(void)idle_ns;
	d->total++;
	if (tag < CK)
		d->n[tag][!key_same(k, &d->c->keys[tag])]++;
	return true;
}

static void
test_concurrency(void **state)
{
	struct cshared *c = calloc(1, sizeof(*c));
	struct cworker w[CWORKERS];
	pthread_t th[CWORKERS], ex;
	struct flow_stats st;
	struct cdup *d = calloc(1, sizeof(*d));
	unsigned long allocs;
	unsigned flushed;

	(void)state;
	assert_non_null(c);
	assert_non_null(d);
	/* Ticks of the shared clock: short enough that entries idle out. */
	flow_set_timeouts(6000, 1500);
	c->t = flow_table_new(CMAX);
	assert_non_null(c->t);
	for (unsigned i = 0; i < CK; i++) {
		c->keys[i] = i & 1 ? key6(1, i, 2, i / 3, (uint16_t)i, 443, IPPROTO_TCP) :
		    key4(A(i % 250), B(i / 250), (uint16_t)i, 53, IPPROTO_UDP);
		for (unsigned j = 0; j < CCOOKIES; j++)
			c->hdrs[i][j] = hdr_new(i, j, GLEN);
	}

	count_start();
	for (int i = 0; i < CWORKERS; i++) {
		w[i].c = c;
		w[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		assert_int_equal(pthread_create(&th[i], NULL, cworker_run, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&ex, NULL, cexpirer_run, c), 0);
	for (int i = 0; i < CWORKERS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&c->stop, true);
	pthread_join(ex, NULL);

	st = stats(c->t);
	print_message("  %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " inserts, "
	    "%" PRIu64 " evictions, %" PRIu64 " expired, %" PRIu64 " refused, "
	    "%" PRIu64 " entries\n", (uint64_t)c->hits, (uint64_t)c->misses,
	    st.inserts, st.evictions, st.expired, st.refused, st.entries);
	assert_int_equal(c->bad, 0);
	assert_int_equal(c->over_max, 0);
	assert_true(c->hits > 0 && c->misses > 0);
	assert_true(st.evictions > 0);
	/*
	 * Eviction passes over candidates whose stripe is busy; with three
	 * other lock holders at most, one of eight candidates is always free.
	 */
	assert_int_equal(st.refused, 0);
	assert_int_equal(st.inserts, c->learned);
	assert_int_equal(st.refused, c->refused_ret);
	assert_int_equal(st.expired, c->expired_ret);
	assert_int_equal(st.entries, st.inserts - st.evictions - st.expired);
	assert_true(st.entries <= CMAX);

	/* With no timeout in force, foreach sees every entry, none twice. */
	flow_set_timeouts(UINT64_MAX, UINT64_MAX);
	d->c = c;
	flow_foreach(c->t, atomic_load(&c->clock), cdup_fn, d);
	assert_int_equal(d->total, st.entries);
	for (unsigned i = 0; i < CK; i++)
		assert_true(d->n[i][0] <= 1 && d->n[i][1] <= 1);
	flow_foreach(c->t, atomic_load(&c->clock), cvisit, c);
	assert_int_equal(c->bad, 0);

	/* Everything idles out at last. */
	flow_set_timeouts(6000, 1500);
	assert_int_equal(flow_expire(c->t, atomic_load(&c->clock) + 6000, UINT_MAX),
	    st.entries);
	assert_int_equal(stats(c->t).expired, st.expired + st.entries);

	/*
	 * Everything the table allocated was retired exactly once, except
	 * what a refused insert freed at once (an entry and a header each).
	 */
	flushed = flow_flush(c->t);
	allocs = count_stop();
	assert_int_equal(flushed, 0);
	assert_int_equal(stats(c->t).entries, 0);
	assert_true(retired_unique());
	assert_int_equal(retired_n() + 2 * st.refused, allocs);
	assert_true(retired_n() >= 2 * st.inserts);

	flow_table_free(c->t);
	for (unsigned i = 0; i < CK; i++)
		for (unsigned j = 0; j < CCOOKIES; j++)
			free(c->hdrs[i][j]);
	free(c);
	free(d);
}

/*
 * A walk whose callback takes its time (gwlbctl formatting entries to a
 * slow client) holds up no writer: while it waits in its first entry,
 * 1024 new flows, some of them in its bucket's stripe, are learnt at once.
 */
static struct {
	struct flow_table *t;
	sem_t		inside, release;
	_Atomic bool	timed_out;
	unsigned	seen;
} sw;

static bool
slow_visit(const struct pkt_key *k, const struct flow_hdr *h, uint64_t idle_ns, void *arg)
{
	struct timespec dl;

	(void)k;
	(void)h;
	(void)idle_ns;
	(void)arg;
	if (sw.seen++)
		return true;
	sem_post(&sw.inside);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 3;
	while (sem_timedwait(&sw.release, &dl) < 0 && errno == EINTR)
		;
	if (errno == ETIMEDOUT)
		atomic_store(&sw.timed_out, true);
	return true;
}

static void *
slow_walker(void *arg)
{
	(void)arg;
	flow_foreach(sw.t, T0, slow_visit, NULL);
	return NULL;
}

static void
test_slow_foreach_blocks_no_writer(void **state)
{
	struct flow_hdr *h = hdr_new(1, 1, GLEN);
	struct timespec t0, t1;
	pthread_t th;
	double secs;

	(void)state;
	memset(&sw, 0, sizeof(sw));
	sem_init(&sw.inside, 0, 0);
	sem_init(&sw.release, 0, 0);
	sw.t = flow_table_new(4096);	/* 1024 buckets over 64 stripes */
	assert_non_null(sw.t);
	for (unsigned i = 0; i < 64; i++) {
		struct pkt_key k = key4(A(1), B(1), (uint16_t)(1000 + i), 80, IPPROTO_TCP);

		assert_int_equal(flow_learn(sw.t, &k, h, T0), 1);
	}
	assert_int_equal(pthread_create(&th, NULL, slow_walker, NULL), 0);
	sem_wait(&sw.inside);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < 1024; i++) {
		struct pkt_key k = key4(A(2), B(2), (uint16_t)(2000 + i), 443, IPPROTO_TCP);

		assert_int_equal(flow_learn(sw.t, &k, h, T0), 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	sem_post(&sw.release);
	pthread_join(th, NULL);
	print_message("  1024 flows learnt in %.3f s during a walk\n", secs);
	assert_false(atomic_load(&sw.timed_out));
	assert_true(secs < 1.0);
	flow_table_free(sw.t);
	free(h);
	sem_destroy(&sw.inside);
	sem_destroy(&sw.release);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_orientations),
		T(test_confusable),
		T(test_as_is_wins),
		T(test_refresh),
		T(test_timeouts),
		T(test_expire),
		T(test_expire_budget),
		T(test_evict_lru),
		T(test_bound),
		T(test_flush_foreach),
		T(test_50k),
		T(test_enomem),
		T(test_memory),
		T(test_concurrency),
		T(test_slow_foreach_blocks_no_writer),
#undef T
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
