/*
 * The ENI table (daemon/eni_table.c) on its own, with the real QSBR: probe
 * chains stay short however many ENIs came and went (tombstones are
 * reclaimed), the path of a packet for an unknown ENI over --max-enis takes
 * no lock, and a slow walk of the table (`show flows`, flow expiry, a
 * netlink resync) holds nothing a worker needs, while what it looks at
 * stays allocated until it is done.
 *
 * pthread_mutex_lock is wrapped (-Wl,--wrap) to count the locks this
 * thread takes.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "eni_table.h"
#include "qsbr.h"
#include "state.h"
#include "daemon_fixture.h"

struct config conf;

static _Thread_local unsigned locks_taken;

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m);

int
__wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
	locks_taken++;
	return __real_pthread_mutex_lock(m);
}

static struct thread_stats rx_stats;

static int
setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.max_enis = 64;
	conf.no_return = true;
	fixture_daemon_state(1, 1);
	memset(&rx_stats, 0, sizeof(rx_stats));
	assert_int_equal(eni_table_init(conf.max_enis), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	eni_table_fini();
	qsbr_reclaim();		/* no reader left: frees what was retired */
	close(D.wake_fd);
	return 0;
}

static double
secs_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* An ENI's whole life as the manager ends it (no reader: freed at once). */
static void
eni_gone(struct eni *e)
{
	eni_unpublish(e);
	eni_free(e);
}

/* ---- tests ---------------------------------------------------------------- */

/*
 * 100 000 ENI lifetimes beside 32 that stay: a lookup of an id that is not
 * there still ends after a few slots (it read the whole table of 128 when
 * removed ENIs left tombstones for good), and the 32 are still found.
 */
static void
test_tombstones_reclaimed(void **state)
{
	struct eni *keep[32];
	unsigned max = 0, sum = 0;

	(void)state;
	for (unsigned i = 0; i < 32; i++)
		assert_non_null(keep[i] = eni_get_or_create(1 + i, 0, 0, &rx_stats));
	for (unsigned i = 0; i < 100000; i++) {
		struct eni *e = eni_get_or_create(0x100000ull + i * 7919ull, 0, 0, &rx_stats);

		assert_non_null(e);
		eni_gone(e);
		if (i % 1000 == 0)
			qsbr_reclaim();		/* the manager's tick */
	}
	assert_int_equal(eni_count(), 32);
	for (unsigned i = 0; i < 32; i++)
		assert_ptr_equal(eni_lookup(1 + i), keep[i]);
	for (unsigned j = 0; j < 1000; j++) {
		uint64_t id = 0x7700000000ull + j;
		unsigned p = eni_lookup_probes(id);

		assert_null(eni_lookup(id));
		sum += p;
		if (p > max)
			max = p;
	}
	print_message("unknown id: %.2f slots on average, %u at most (table of 128)\n",
	    sum / 1000.0, max);
	assert_true(max <= 64);
	assert_true(sum <= 1000 * 8);
	for (unsigned i = 0; i < 32; i++)
		eni_gone(keep[i]);
}

/*
 * At --max-enis, a packet for an unknown ENI is dropped and counted
 * without taking any lock (a flood of such packets must not serialise
 * the workers on the table lock).
 */
static void
test_over_limit_takes_no_lock(void **state)
{
	(void)state;
	conf.max_enis = 4;
	for (unsigned i = 0; i < 4; i++)
		assert_non_null(eni_get_or_create(1 + i, 0, 0, &rx_stats));
	locks_taken = 0;
	for (unsigned i = 0; i < 1000; i++)
		assert_null(eni_get_or_create(1000 + i, 0, 0, &rx_stats));
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_ENI_LIMIT]), 1000);
	assert_int_equal(locks_taken, 0);
	/* A known one is still found at the limit. */
	assert_non_null(eni_get_or_create(2, 0, 0, &rx_stats));
	assert_int_equal(eni_count(), 4);
}

/* A walker whose callback takes its time, as `show flows` at 1 M flows. */
static struct {
	sem_t		inside;
	sem_t		release;
	bool		timed_out;
	unsigned	seen;
} walk;

static void
slow_one(struct eni *e, void *arg)
{
	struct timespec dl;

	(void)e;
	(void)arg;
	if (walk.seen++)
		return;
	sem_post(&walk.inside);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 3;
	while (sem_timedwait(&walk.release, &dl) < 0 && errno == EINTR)
		;
	if (errno == ETIMEDOUT)
		walk.timed_out = true;
}

static void *
walker(void *arg)
{
	(void)arg;
	eni_foreach(slow_one, NULL);
	return NULL;
}

/*
 * While a walk of the table is in its callback: a worker creates a new
 * ENI, drops one over the limit and the manager removes one, each at
 * once; the removed ENI's memory waits for the walk to end (its grace
 * period covers the walker).
 */
static void
test_slow_walk_holds_no_lock(void **state)
{
	struct eni *a, *b;
	uint64_t snap[QSBR_MAX_READERS];
	struct timespec t0;
	pthread_t th;
	double t_new, t_over, t_rm;

	(void)state;
	conf.max_enis = 3;
	memset(&walk, 0, sizeof(walk));
	sem_init(&walk.inside, 0, 0);
	sem_init(&walk.release, 0, 0);
	assert_non_null(a = eni_get_or_create(1, 0, 0, &rx_stats));
	assert_non_null(eni_get_or_create(2, 0, 0, &rx_stats));
	assert_int_equal(pthread_create(&th, NULL, walker, NULL), 0);
	sem_wait(&walk.inside);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	b = eni_get_or_create(3, 0, 0, &rx_stats);
	t_new = secs_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_null(eni_get_or_create(4, 0, 0, &rx_stats));
	t_over = secs_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	eni_unpublish(a);		/* as eni_teardown */
	qsbr_snapshot_into(snap);
	t_rm = secs_since(&t0);
	/* The walk is still in its callback: a's grace period has not passed. */
	assert_false(walk.timed_out);
	assert_false(qsbr_passed_since(snap));

	sem_post(&walk.release);
	pthread_join(th, NULL);
	print_message("during a walk: create %.3f s, over-limit drop %.3f s, "
	    "unpublish %.3f s\n", t_new, t_over, t_rm);
	assert_false(walk.timed_out);
	assert_non_null(b);
	assert_true(t_new < 1.0);
	assert_true(t_over < 1.0);
	assert_true(t_rm < 1.0);
	assert_true(qsbr_passed_since(snap));
	eni_free(a);
	sem_destroy(&walk.inside);
	sem_destroy(&walk.release);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tombstones_reclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_over_limit_takes_no_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_walk_holds_no_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
