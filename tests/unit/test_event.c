/*
 * daemon/event.c: the ring `gwlbctl monitor` reads.  Readers hold only a
 * cursor; one that falls behind by more than the ring loses exactly the
 * overwritten events, is told how many, and goes on from the oldest one
 * still held; a reader that keeps up loses nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "event.h"

static void
post_n(struct event_ring *r, unsigned first, unsigned n)
{
	struct event ev;

	for (unsigned i = first; i < first + n; i++) {
		event_init(&ev, EVENT_HOOK_FINISHED, true, 0x1000 + i);
		event_u64(&ev, "i", i);
		assert_int_equal(event_ring_post(r, &ev), (uint64_t)i + 1);
	}
}

static void
test_fields(void **state)
{
	struct event ev;
	char big[200];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	event_init(&ev, EVENT_ENI_DOWN, true, 0xabc);
	event_str(&ev, "reason", big);
	assert_int_equal(strlen(ev.f[0].v.str), EVENT_STR_MAX - 1);
	event_str(&ev, "null", NULL);
	assert_string_equal(ev.f[1].v.str, "");
	for (int i = 0; i < 10; i++)
		event_u64(&ev, "n", (uint64_t)i);
	assert_int_equal(ev.nfields, EVENT_FIELDS_MAX);
	assert_string_equal(event_type_str(EVENT_RP_FILTER_REVERTED),
	    "rp-filter-reverted");
	assert_string_equal(event_type_str(EVENT__MAX), "unknown");
}

static void
test_in_order_nothing_lost(void **state)
{
	struct event_ring *r = event_ring_new(8);
	struct event out;
	uint64_t cur, lost;

	(void)state;
	cur = event_ring_next(r);
	assert_int_equal(cur, 1);
	assert_false(event_ring_read(r, &cur, &out, &lost));
	assert_int_equal(lost, 0);
	/* A reader that keeps up, many times around the ring. */
	for (unsigned i = 0; i < 100; i++) {
		post_n(r, i, 1);
		assert_true(event_ring_read(r, &cur, &out, &lost));
		assert_int_equal(lost, 0);
		assert_int_equal(out.seq, i + 1);
		assert_int_equal(out.eni, 0x1000 + i);
		assert_int_equal(out.f[0].v.u64, i);
		assert_true(out.time_us > 0);
	}
	assert_false(event_ring_read(r, &cur, &out, &lost));
	event_ring_free(r);
}

static void
test_slow_reader_loses_oldest_counted(void **state)
{
	struct event_ring *r = event_ring_new(5);	/* rounded up to 8 */
	struct event out;
	uint64_t slow = 1, fast = 1, lost;

	(void)state;
	post_n(r, 0, 3);
	for (int i = 0; i < 3; i++)
		assert_true(event_ring_read(r, &fast, &out, &lost));
	/* 20 more: the ring holds the last 8 (seqs 16..23). */
	post_n(r, 3, 20);
	assert_true(event_ring_read(r, &slow, &out, &lost));
	assert_int_equal(lost, 15);
	assert_int_equal(out.seq, 16);
	assert_int_equal(out.f[0].v.u64, 15);
	for (unsigned s = 17; s <= 23; s++) {
		assert_true(event_ring_read(r, &slow, &out, &lost));
		assert_int_equal(lost, 0);
		assert_int_equal(out.seq, s);
	}
	assert_false(event_ring_read(r, &slow, &out, &lost));
	/* The other reader, behind by exactly 20, loses 12 of them. */
	assert_true(event_ring_read(r, &fast, &out, &lost));
	assert_int_equal(lost, 12);
	assert_int_equal(out.seq, 16);
	event_ring_free(r);
}

static void
test_exactly_full_loses_nothing(void **state)
{
	struct event_ring *r = event_ring_new(8);
	struct event out;
	uint64_t cur = 1, lost;

	(void)state;
	post_n(r, 0, 8);
	for (unsigned s = 1; s <= 8; s++) {
		assert_true(event_ring_read(r, &cur, &out, &lost));
		assert_int_equal(lost, 0);
		assert_int_equal(out.seq, s);
	}
	event_ring_free(r);
}

static void
test_daemon_ring(void **state)
{
	struct event ev, out;
	uint64_t cur, lost, n;

	(void)state;
	/* Before event_open: posting is a no-op, reading finds nothing. */
	event_init(&ev, EVENT_RELOAD, false, 0);
	event_post(&ev);
	cur = event_next();
	assert_false(event_read(&cur, &out, &lost));
	assert_int_equal(event_fd(), -1);

	assert_int_equal(event_open(16), 0);
	cur = event_next();
	event_route_restored(true, 0x42, "198.51.100.0/24 dev gwi-x");
	/* The eventfd says so. */
	assert_int_equal(read(event_fd(), &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1);
	assert_true(event_read(&cur, &out, &lost));
	assert_int_equal(out.type, EVENT_ROUTE_RESTORED);
	assert_true(out.has_eni);
	assert_int_equal(out.eni, 0x42);
	assert_string_equal(out.f[0].name, "route");
	assert_string_equal(out.f[0].v.str, "198.51.100.0/24 dev gwi-x");
	assert_int_equal(event_posted(), 1);
	event_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_in_order_nothing_lost),
		cmocka_unit_test(test_slow_reader_loses_oldest_counted),
		cmocka_unit_test(test_exactly_full_loses_nothing),
		cmocka_unit_test(test_daemon_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
