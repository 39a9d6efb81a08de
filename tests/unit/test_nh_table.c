/*
 * Unit tests for the reply workers' next-hop table (daemon/nh_table.c),
 * included here so that a test can play a writer in the middle of a
 * write.  The kernel's answers (nl_nexthop.h) are faked: each pair
 * resolves to a next hop made from its addresses, or fails as a test says.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../daemon/nh_table.c"
#include "daemon_fixture.h"

#define SEC	1000000000ull

/* --- the fake kernel ------------------------------------------------------------ */

struct nl_nh_sock { int unused; };
static struct nl_nh_sock fake_sock;
static unsigned n_open, n_resolve;
static int resolve_err;			/* != 0: every answer fails so */
static uint32_t last_daddr;

struct nl_nh_sock *
nl_nh_open(void)
{
	n_open++;
	return &fake_sock;
}

void
nl_nh_close(struct nl_nh_sock *s)
{
	assert_true(s == NULL || s == &fake_sock);
}

/* A next hop whose every field says which pair and which answer it is. */
static void
fake_nh(uint32_t daddr, uint32_t saddr, unsigned gen, struct nl_nexthop *out)
{
	*out = (struct nl_nexthop){ .ifindex = (int)(daddr & 0xffff), .mtu = 1500 + gen,
	    .gso_max_size = 65536 - gen, .gso_max_segs = gen };
	memset(out->src_mac, (int)(saddr & 0xff), 6);
	memset(out->dst_mac, (int)(gen & 0xff), 6);
}

int
nl_nh_resolve(struct nl_nh_sock *s, uint32_t daddr, uint32_t saddr, struct nl_nexthop *out)
{
	assert_ptr_equal(s, &fake_sock);
	n_resolve++;
	last_daddr = daddr;
	if (resolve_err)
		return resolve_err;
	fake_nh(daddr, saddr, n_resolve, out);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	nh_table_fini();
	n_open = n_resolve = 0;
	resolve_err = 0;
	(void)fixture_wakes();
	return 0;
}

/*
 * A worker misses, the pair is asked for and the manager woken once; the
 * manager's tick resolves it on its own socket; the worker then finds it.
 */
static void
test_ask_resolve_find(void **state)
{
	struct nl_nexthop nh, want;

	(void)state;
	assert_int_equal(nh_table_get(0x0a000001, 0x0a000002, 5 * SEC, &nh), -EAGAIN);
	assert_int_equal(nh_table_get(0x0a000001, 0x0a000002, 5 * SEC, &nh), -EAGAIN);
	assert_int_equal(fixture_wakes(), 1);		/* one new ask: one wake */
	assert_int_equal(n_resolve, 0);		/* the worker asked nobody */
	nh_table_tick(5 * SEC);
	assert_int_equal(n_open, 1);
	assert_int_equal(n_resolve, 1);
	assert_int_equal(last_daddr, 0x0a000001);
	assert_int_equal(nh_table_in_use(), 1);
	assert_int_equal(nh_table_get(0x0a000001, 0x0a000002, 5 * SEC, &nh), 0);
	fake_nh(0x0a000001, 0x0a000002, 1, &want);
	assert_memory_equal(&nh, &want, sizeof(nh));
	/* Another pair (same GWLB, another local address) is another entry. */
	assert_int_equal(nh_table_get(0x0a000001, 0x0a000003, 5 * SEC, &nh), -EAGAIN);
	nh_table_tick(5 * SEC);
	assert_int_equal(n_resolve, 2);
	assert_int_equal(nh_table_in_use(), 2);
	assert_int_equal(n_open, 1);		/* one socket for all */
}

/* A failed answer is what the worker gets (e.g. not Ethernet), asked again a second later. */
static void
test_error_kept(void **state)
{
	struct nl_nexthop nh;

	(void)state;
	resolve_err = -EPFNOSUPPORT;
	(void)nh_table_get(1, 2, SEC, &nh);
	nh_table_tick(SEC);
	assert_int_equal(nh_table_get(1, 2, SEC, &nh), -EPFNOSUPPORT);
	assert_int_equal(n_resolve, 1);
	resolve_err = 0;
	nh_table_tick(SEC + SEC / 2);
	assert_int_equal(n_resolve, 1);
	nh_table_tick(2 * SEC);
	assert_int_equal(n_resolve, 2);
	assert_int_equal(nh_table_get(1, 2, 2 * SEC, &nh), 0);
}

/*
 * An entry in use is refreshed once a second, no more often however often
 * the manager ticks; one the packet socket refused (stale) after 100 ms;
 * one unused for 60 s is dropped.
 */
static void
test_refresh_stale_idle(void **state)
{
	struct nl_nexthop nh;
	uint64_t t = 10 * SEC;

	(void)state;
	(void)nh_table_get(1, 2, t, &nh);
	nh_table_tick(t);
	assert_int_equal(n_resolve, 1);
	for (unsigned i = 1; i < 10; i++)
		nh_table_tick(t + i * SEC / 10);
	assert_int_equal(n_resolve, 1);
	nh_table_tick(t + SEC);
	assert_int_equal(n_resolve, 2);
	assert_int_equal(nh_table_get(1, 2, t + SEC, &nh), 0);
	assert_int_equal(nh.gso_max_segs, 2);	/* the second answer */

	nh_table_stale(1, 2);
	nh_table_tick(t + SEC + SEC / 20);	/* too soon */
	assert_int_equal(n_resolve, 2);
	nh_table_tick(t + SEC + SEC / 10);
	assert_int_equal(n_resolve, 3);
	nh_table_tick(t + SEC + SEC / 5);	/* stale no more */
	assert_int_equal(n_resolve, 3);

	/* Last used at t + SEC: gone at t + 61 s, not before. */
	nh_table_tick(t + 60 * SEC);
	assert_int_equal(nh_table_in_use(), 1);
	nh_table_tick(t + 61 * SEC);
	assert_int_equal(nh_table_in_use(), 0);
	assert_int_equal(nh_table_get(1, 2, t + 61 * SEC, &nh), -EAGAIN);
}

/*
 * Full: a new pair takes the least recently used entry if that was
 * unused for a second; with all 32 in use it is not taken (its replies
 * go raw) until one is idle, asked again by its next miss.
 */
static void
test_full(void **state)
{
	struct nl_nexthop nh;
	uint64_t t = 100 * SEC;

	(void)state;
	for (uint32_t i = 0; i < NH_TABLE_SLOTS; i++) {
		(void)nh_table_get(100 + i, 2, t, &nh);
		nh_table_tick(t);
	}
	assert_int_equal(nh_table_in_use(), NH_TABLE_SLOTS);
	/* All used within the second: the newcomer waits. */
	t += SEC / 2;
	for (uint32_t i = 0; i < NH_TABLE_SLOTS; i++)
		assert_int_equal(nh_table_get(100 + i, 2, t + i, &nh), 0);
	assert_int_equal(nh_table_get(999, 2, t, &nh), -EAGAIN);
	nh_table_tick(t + SEC / 2);
	assert_int_equal(nh_table_get(999, 2, t + SEC / 2, &nh), -EAGAIN);
	/* All but entry 100 used again; a second later 100 is the idle one. */
	t += 2 * SEC;
	for (uint32_t i = 1; i < NH_TABLE_SLOTS; i++)
		assert_int_equal(nh_table_get(100 + i, 2, t, &nh), 0);
	assert_int_equal(nh_table_get(999, 2, t, &nh), -EAGAIN);
	nh_table_tick(t);
	assert_int_equal(nh_table_get(999, 2, t, &nh), 0);
	assert_int_equal(nh.ifindex, 999);
	assert_int_equal(nh_table_get(100, 2, t, &nh), -EAGAIN);	/* evicted */
	for (uint32_t i = 1; i < NH_TABLE_SLOTS; i++)
		assert_int_equal(nh_table_get(100 + i, 2, t, &nh), 0);
	assert_int_equal(nh_table_in_use(), NH_TABLE_SLOTS);
}

/*
 * The workers stamp their use with the coarse clock and the manager's now
 * was read earlier in its loop: a use stamped after the manager's now is
 * recent, never 2^64 ns old (an entry in use was dropped once a second).
 */
static void
test_use_after_now(void **state)
{
	struct nl_nexthop nh;
	uint64_t t = 100 * SEC;

	(void)state;
	(void)nh_table_get(7, 9, t, &nh);
	nh_table_tick(t);
	assert_int_equal(nh_table_get(7, 9, t + 2 * SEC + 3000000, &nh), 0);
	nh_table_tick(t + 2 * SEC);		/* its now: 3 ms before the use */
	assert_int_equal(nh_table_in_use(), 1);
	assert_int_equal(nh_table_get(7, 9, t + 2 * SEC + 4000000, &nh), 0);
	/* Nor is it evicted for a newcomer as the least recently used. */
	for (uint32_t i = 1; i < NH_TABLE_SLOTS; i++) {
		(void)nh_table_get(100 + i, 2, t + 2 * SEC, &nh);
		nh_table_tick(t + 2 * SEC);
	}
	assert_int_equal(nh_table_get(7, 9, t + 3 * SEC + 3000000, &nh), 0);
	(void)nh_table_get(999, 2, t + 3 * SEC, &nh);
	nh_table_tick(t + 3 * SEC);
	assert_int_equal(nh_table_get(7, 9, t + 3 * SEC + 4000000, &nh), 0);
}

/*
 * A pair the full table has no room for stays asked for: its misses
 * neither wake the manager again nor are forgotten, and it gets the
 * first slot that frees.  Wakes come at most once a millisecond.
 */
static void
test_refused_waits_quietly(void **state)
{
	struct nl_nexthop nh;
	uint64_t t = 100 * SEC;

	(void)state;
	for (uint32_t i = 0; i < NH_TABLE_SLOTS; i++) {
		(void)nh_table_get(100 + i, 2, t + i * 2000000, &nh);
		nh_table_tick(t + i * 2000000);
	}
	(void)fixture_wakes();
	t += SEC / 2;
	for (uint32_t i = 0; i < NH_TABLE_SLOTS; i++)
		(void)nh_table_get(100 + i, 2, t, &nh);
	assert_int_equal(nh_table_get(999, 2, t, &nh), -EAGAIN);
	assert_int_equal(fixture_wakes(), 1);
	nh_table_tick(t);			/* no room: 999 stays asked for */
	for (unsigned k = 1; k <= 100; k++)
		assert_int_equal(nh_table_get(999, 2, t + k * 2000000, &nh), -EAGAIN);
	assert_int_equal(fixture_wakes(), 0);	/* 100 misses, no wake */
	/* A second later, with 100 idle, the manager's timer gives it 100's slot. */
	t += 2 * SEC;
	for (uint32_t i = 1; i < NH_TABLE_SLOTS; i++)
		(void)nh_table_get(100 + i, 2, t, &nh);
	nh_table_tick(t);
	assert_int_equal(nh_table_get(999, 2, t, &nh), 0);
	/* Two new pairs within a millisecond: one wake. */
	t += 2 * SEC;
	for (uint32_t i = 1; i < NH_TABLE_SLOTS; i++)
		(void)nh_table_get(100 + i, 2, t, &nh);
	(void)fixture_wakes();
	(void)nh_table_get(1001, 2, t, &nh);
	(void)nh_table_get(1002, 2, t + 500000, &nh);
	assert_int_equal(fixture_wakes(), 1);
}

/* A reader that meets a write in progress misses; it never takes it as the entry. */
static void
test_write_in_progress(void **state)
{
	struct nl_nexthop nh;
	uint32_t seq;

	(void)state;
	(void)nh_table_get(1, 2, SEC, &nh);
	nh_table_tick(SEC);
	assert_int_equal(nh_table_get(1, 2, SEC, &nh), 0);
	seq = atomic_load(&slots[0].seq);
	atomic_store(&slots[0].seq, seq + 1);	/* the writer is in the middle */
	assert_int_equal(nh_table_get(1, 2, SEC, &nh), -EAGAIN);
	atomic_store(&slots[0].seq, seq + 2);
	assert_int_equal(nh_table_get(1, 2, SEC, &nh), 0);
}

/*
 * A writer thread publishes, as fast as it can, next hops whose fields
 * all carry the same generation number; readers must only ever see a
 * whole one (every field of one generation) or a miss.
 */
static _Atomic bool stop;

static void *
writer(void *arg)
{
	struct nl_nexthop nh;
	unsigned gen = 1;

	(void)arg;
	while (!atomic_load(&stop)) {
		gen = gen % 200 + 1;
		fake_nh(7, 9, gen, &nh);
		publish(&slots[0], key_of(7, 9), 0, &nh);
	}
	return NULL;
}

static void
test_no_torn_reads(void **state)
{
	pthread_t t;
	unsigned hits = 0, misses = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	for (unsigned i = 0; i < 2000000 && (hits < 1000 || misses < 10 || i < 200000); i++) {
		struct nl_nexthop nh, want;
		int r = nh_table_get(7, 9, SEC, &nh);

		if (r) {
			assert_int_equal(r, -EAGAIN);
			misses++;
			continue;
		}
		hits++;
		fake_nh(7, 9, nh.gso_max_segs, &want);
		assert_memory_equal(&nh, &want, sizeof(nh));
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	assert_true(hits > 0);
	print_message("torn-read test: %u whole reads, %u misses\n", hits, misses);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ask_resolve_find, setup),
		cmocka_unit_test_setup(test_error_kept, setup),
		cmocka_unit_test_setup(test_refresh_stale_idle, setup),
		cmocka_unit_test_setup(test_full, setup),
		cmocka_unit_test_setup(test_use_after_now, setup),
		cmocka_unit_test_setup(test_refused_waits_quietly, setup),
		cmocka_unit_test_setup(test_write_in_progress, setup),
		cmocka_unit_test_setup(test_no_torn_reads, setup),
	};

	D.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (D.wake_fd < 0)
		return 1;
	return cmocka_run_group_tests_name("nh_table", tests, NULL, NULL);
}
