/*
 * The ENI life cycle (daemon/lifecycle.c) with the ENI table, QSBR and the
 * counters it really uses, and fakes for what needs root: links (pipes
 * stand in for TUN queues, so delivered packets can be read back), routes,
 * hooks (recorded; the test ends them), netlink, and the clock (injected).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "eni_table.h"
#include "hook.h"
#include "lifecycle.h"
#include "link.h"
#include "nl.h"
#include "qsbr.h"
#include "route.h"
#include "state.h"
#include "daemon_fixture.h"

#define NS	1000000000ull

struct config conf;

/* ---- fakes ---------------------------------------------------------------- */

static uint64_t fake_now = 1000 * NS;

uint64_t
now_ns(void)
{
	return fake_now;
}

uint64_t
coarse_ns(void)
{
	return fake_now;
}

#define MAX_LINKS	16

static struct {
	int		make_err;	/* link_make fails with this */
	unsigned	made, removed, removed_del, group_removed;
	int		next_ifindex;
	int		rd[MAX_LINKS];	/* read ends, by ifindex_in */
	int		ifindex_now[2 * MAX_LINKS];	/* what the kernel says a name has */
} lk;

int
link_make(struct eni *e)
{
	int p[2];

	if (lk.make_err)
		return lk.make_err;
	lk.made++;
	for (unsigned q = 0; q < e->nqueues; q++) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC | O_DIRECT) < 0)	/* packet mode, as a TUN queue */
			return -errno;
		e->qfd_in[q] = p[1];
		if (q == 0) {
			e->ifindex_in = ++lk.next_ifindex;
			assert_true(e->ifindex_in < MAX_LINKS);
			lk.rd[e->ifindex_in] = p[0];
		} else {
			close(p[0]);
		}
		e->qfd_out[q] = -1;
	}
	e->ifindex_out = 100 + e->ifindex_in;
	return 0;
}

void
link_watch_queues(struct eni *e, bool on)
{
	(void)e;
	(void)on;
}

void
link_remove(struct eni *e, bool del_links)
{
	lk.removed++;
	lk.removed_del += del_links;
	for (unsigned q = 0; q < e->nqueues; q++)
		if (e->qfd_in[q] >= 0)
			close(e->qfd_in[q]);
}

int
link_remove_group(void)
{
	lk.group_removed++;
	return 0;
}

static unsigned routes_up, routes_down;

void
route_eni_up(const struct route_eni *e)
{
	/* What the route module gets: the ENI's names and links. */
	assert_string_equal(e->if_in + 4, e->if_out + 4);
	assert_int_equal(e->ifindex_out, 100 + e->ifindex_in);
	routes_up++;
}

void
route_eni_down(uint64_t id)
{
	(void)id;
	routes_down++;
}

#define MAX_HOOKS	32

static struct hook_call {
	char		action[16];
	char		if_in[NAME_IF_MAX];
	char		if_out[NAME_IF_MAX];
	char		eni[NAME_HEX_MAX];
	hook_done_fn	done;
	void		(*started)(void *arg);
	void		*arg;
	bool		ended;
} hooks[MAX_HOOKS];
static unsigned n_hooks;
static bool hooks_wait;		/* --max-hooks reached: hooks wait to start */

int
hook_run(const struct hook_args *a, unsigned timeout_s, hook_done_fn done, void *arg)
{
	struct hook_call *h;

	(void)timeout_s;
	assert_true(n_hooks < MAX_HOOKS);
	h = &hooks[n_hooks++];
	snprintf(h->action, sizeof(h->action), "%s", a->action);
	snprintf(h->if_in, sizeof(h->if_in), "%s", a->if_in);
	snprintf(h->if_out, sizeof(h->if_out), "%s", a->if_out);
	snprintf(h->eni, sizeof(h->eni), "%s", a->eni_hex);
	h->done = done;
	h->started = a->started;
	h->arg = arg;
	if (!hooks_wait && h->started)
		h->started(arg);
	return 0;
}

/* The hook number i, which waited, starts. */
static void
hook_start(unsigned i)
{
	assert_true(i < n_hooks);
	assert_non_null(hooks[i].started);
	hooks[i].started(hooks[i].arg);
}

/* The hook number i ends with res. */
static void
hook_end(unsigned i, enum hook_state res)
{
	assert_true(i < n_hooks);
	assert_false(hooks[i].ended);
	hooks[i].ended = true;
	hooks[i].done(hooks[i].arg, res);
}

static unsigned n_index_asked, n_rp_off;
static int rp_off_ifindex;

int
nl_link_index(const char *name)
{
	n_index_asked++;
	(void)name;
	return -ENODEV;	/* resync: every link is gone */
}

/* What the fake kernel says of gwi- links: gone (resync), or there with
 * this ifindex and up or not. */
static int link_state_ifindex;
static bool link_state_up;

int
nl_link_state(const char *name, bool *up)
{
	(void)name;
	n_index_asked++;
	*up = link_state_up;
	return link_state_ifindex ? link_state_ifindex : -ENODEV;
}

int
nl_link_rp_filter_off(int ifindex, const char *name)
{
	(void)name;
	n_rp_off++;
	rp_off_ifindex = ifindex;
	return 0;
}

/*
 * A receive worker that meets a new ENI just before the manager's own
 * eni_get_or_create (-Wl,--wrap): the interleaving of a worker taking the
 * last place under --max-enis between the manager's look and its create.
 */
static uint64_t worker_first_id;	/* 0: no worker interleaves */
static struct thread_stats worker_stats;

struct eni *__real_eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts);
struct eni *__wrap_eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts);

struct eni *
__wrap_eni_get_or_create(uint64_t id, uint64_t attachment, unsigned slot,
    struct thread_stats *ts)
{
	if (worker_first_id && slot == D.mgr_slot) {
		uint64_t w = worker_first_id;

		worker_first_id = 0;
		assert_non_null(__real_eni_get_or_create(w, 0x77, 0, &worker_stats));
	}
	return __real_eni_get_or_create(id, attachment, slot, ts);
}

/* ---- helpers ---------------------------------------------------------------- */

#define ENI_A	0x5eedull
#define ENI_B	0x0a1b2c3d4e5f6071ull

static struct thread_stats rx_stats;

static int
setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.max_enis = 8;
	conf.no_return = false;
	conf.max_flows_per_eni = 64;
	conf.backlog_bytes = 32u << 20;
	conf.max_hooks = 8;
	conf.hook_timeout_s = 30;
	conf.create_hook = "/hook";
	conf.destroy_hook = "/hook";
	fixture_daemon_state(1, 1);
	memset(&lk, 0, sizeof(lk));
	memset(hooks, 0, sizeof(hooks));
	memset(&rx_stats, 0, sizeof(rx_stats));
	memset(&worker_stats, 0, sizeof(worker_stats));
	worker_first_id = 0;
	n_hooks = routes_up = routes_down = n_index_asked = n_rp_off = 0;
	hooks_wait = false;
	link_state_ifindex = 0;
	link_state_up = true;
	assert_int_equal(eni_table_init(conf.max_enis), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_true(lifecycle_idle());
	eni_table_fini();
	/* Every ENI freed, every backlog byte given back: exact accounting. */
	assert_int_equal(eni_held(), 0);
	assert_int_equal(eni_backlog_bytes(), 0);
	close(D.wake_fd);
	for (int i = 1; i <= lk.next_ifindex; i++)
		close(lk.rd[i]);
	return 0;
}

/* A packet from the rx worker (slot 0) for ENI id: what rx_one does. */
static struct eni *
rx(uint64_t id, const char *payload)
{
	struct eni *e = eni_lookup(id);

	if (!e)
		e = eni_get_or_create(id, 0x77, 0, &rx_stats);
	assert_non_null(e);
	if (atomic_load(&e->state) == ENI_UP)
		eni_deliver(e, 0, e->qfd_in[0], (const uint8_t *)payload, strlen(payload),
		    &rx_stats);
	else
		eni_backlog_or_deliver(e, 0, 0, (const uint8_t *)payload, strlen(payload),
		    &rx_stats);
	return e;
}

/* What the link's queue got, packets joined by '|'. */
static void
read_link(const struct eni *e, char *out, size_t len)
{
	char buf[256];
	ssize_t r;

	out[0] = '\0';
	while ((r = read(lk.rd[e->ifindex_in], buf, sizeof(buf) - 1)) > 0) {
		buf[r] = '\0';
		if (out[0])
			strncat(out, "|", len - strlen(out) - 1);
		strncat(out, buf, len - strlen(out) - 1);
	}
}

static void
quiesce(void)
{
	for (int i = 0; i < 4; i++) {
		lifecycle_tick(fake_now, false);
		lifecycle_take_creates();
	}
}

/* ENI_A up: its first packet, its links, its CREATE hook (the first) done. */
static struct eni *
a_up(void)
{
	struct eni *e = rx(ENI_A, "x");

	lifecycle_take_creates();
	hook_end(0, HOOK_OK);
	return e;
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_up_after_create_hook_backlog_in_order(void **state)
{
	struct eni *e;
	char got[256];

	(void)state;
	rx(ENI_A, "p1");
	rx(ENI_A, "p2");
	e = rx(ENI_A, "p3");
	assert_int_equal(eni_count(), 1);
	assert_int_equal(atomic_load(&e->state), ENI_PENDING);
	lifecycle_take_creates();
	assert_int_equal(lk.made, 1);
	assert_int_equal(routes_up, 1);
	assert_int_equal(n_hooks, 1);
	assert_string_equal(hooks[0].action, "CREATE");
	assert_string_equal(hooks[0].if_in, "gwi-6J1");
	assert_string_equal(hooks[0].if_out, "gwo-6J1");
	assert_string_equal(hooks[0].eni, "00000000000005eed");
	/* The hook still runs: packets keep waiting, nothing reached the link. */
	assert_int_equal(atomic_load(&e->state), ENI_PENDING);
	rx(ENI_A, "p4");
	read_link(e, got, sizeof(got));
	assert_string_equal(got, "");
	hook_end(0, HOOK_OK);
	assert_int_equal(atomic_load(&e->state), ENI_UP);
	read_link(e, got, sizeof(got));
	assert_string_equal(got, "p1|p2|p3|p4");
	rx(ENI_A, "p5");
	read_link(e, got, sizeof(got));
	assert_string_equal(got, "p5");
	assert_int_equal(e->hook_runs, 1);
	assert_int_equal(e->hook_failures, 0);
}

/* show eni's hook_state: queued while the hook waits for a place under
 * --max-hooks, running once it started, then its result. */
static void
test_hook_state_queued_then_running(void **state)
{
	struct eni *e;

	(void)state;
	e = rx(ENI_A, "x");
	hooks_wait = true;
	lifecycle_take_creates();
	assert_int_equal(n_hooks, 1);
	assert_int_equal(ENI_GET(e->hook_state), HOOK_QUEUED);
	assert_int_equal(e->hook_runs, 1);
	hook_start(0);
	assert_int_equal(ENI_GET(e->hook_state), HOOK_RUNNING);
	hook_end(0, HOOK_OK);
	assert_int_equal(ENI_GET(e->hook_state), HOOK_OK);
	/* With room, running at once. */
	hooks_wait = false;
	assert_int_equal(eni_request_destroy(ENI_A), 0);
	lifecycle_tick(fake_now, false);
	assert_string_equal(hooks[1].action, "DESTROY");
	assert_int_equal(ENI_GET(e->hook_state), HOOK_RUNNING);
	hook_end(1, HOOK_OK);
	lifecycle_reap();
}

static void
test_no_create_hook_up_at_once(void **state)
{
	struct eni *e;
	char got[64];

	(void)state;
	conf.create_hook = NULL;
	e = rx(ENI_A, "x");
	lifecycle_take_creates();
	assert_int_equal(n_hooks, 0);
	assert_int_equal(atomic_load(&e->state), ENI_UP);
	read_link(e, got, sizeof(got));
	assert_string_equal(got, "x");
}

static void
test_failing_create_hook_still_up(void **state)
{
	struct eni *e;

	(void)state;
	e = rx(ENI_A, "x");
	lifecycle_take_creates();
	hook_end(0, HOOK_FAILED);
	assert_int_equal(atomic_load(&e->state), ENI_UP);
	assert_int_equal(e->hook_failures, 1);
}

static void
test_backlog_bounded_and_counted(void **state)
{
	struct eni *e = NULL;

	(void)state;
	for (unsigned i = 0; i < ENI_BACKLOG_MAX + 5; i++)
		e = rx(ENI_A, "b");
	assert_int_equal(e->bl_len, ENI_BACKLOG_MAX);
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_BACKLOG_FULL]), 5);
}

static void
test_link_failure_then_retry(void **state)
{
	struct eni *e;

	(void)state;
	lk.make_err = -EPERM;
	rx(ENI_A, "a");
	e = rx(ENI_A, "b");
	lifecycle_take_creates();
	assert_int_equal(atomic_load(&e->state), ENI_FAILED);
	assert_int_equal(routes_up, 0);
	assert_int_equal(n_hooks, 0);
	assert_int_equal(STAT_GET(D.mgr_stats.drops[DROP_ENI_FAILED]), 2);
	rx(ENI_A, "c");
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_ENI_FAILED]), 1);
	/* Not before the pause: */
	fake_now += 4 * NS;
	lifecycle_tick(fake_now, true);
	assert_ptr_equal(eni_lookup(ENI_A), e);
	/* After it, the ENI goes (no DESTROY: it never had links) ... */
	fake_now += 2 * NS;
	lifecycle_tick(fake_now, true);
	assert_null(eni_lookup(ENI_A));
	assert_int_equal(n_hooks, 0);
	assert_int_equal(eni_count(), 0);
	/* ... and the next packet tries again. */
	lk.make_err = 0;
	e = rx(ENI_A, "d");
	lifecycle_take_creates();
	assert_int_equal(lk.made, 1);
	hook_end(0, HOOK_OK);
	assert_int_equal(atomic_load(&e->state), ENI_UP);
}

static void
test_idle_teardown_destroy_hook_then_routes_links(void **state)
{
	struct eni *e;

	(void)state;
	conf.idle_teardown_s = 10;
	e = a_up();
	fake_now += 9 * NS;
	lifecycle_tick(fake_now, true);
	assert_ptr_equal(eni_lookup(ENI_A), e);
	fake_now += 2 * NS;
	lifecycle_tick(fake_now, true);
	/* Unpublished at once; DESTROY runs; routes and links wait for it. */
	assert_null(eni_lookup(ENI_A));
	assert_int_equal(eni_count(), 0);
	assert_int_equal(n_hooks, 2);
	assert_string_equal(hooks[1].action, "DESTROY");
	assert_string_equal(hooks[1].if_in, "gwi-6J1");
	quiesce();
	assert_int_equal(routes_down, 0);
	assert_int_equal(lk.removed, 0);
	hook_end(1, HOOK_OK);
	lifecycle_reap();
	assert_int_equal(routes_down, 1);
	assert_int_equal(lk.removed, 1);
	assert_int_equal(lk.removed_del, 1);
	assert_true(lifecycle_idle());
}

static void
test_grace_period_holds_the_memory(void **state)
{
	(void)state;
	conf.destroy_hook = NULL;
	rx(ENI_A, "x");
	lifecycle_take_creates();
	hook_end(0, HOOK_OK);
	qsbr_online(0);		/* the rx worker is inside a batch */
	assert_int_equal(eni_request_destroy(ENI_A), 0);
	lifecycle_tick(fake_now, false);
	assert_null(eni_lookup(ENI_A));
	assert_int_equal(lk.removed, 0);
	assert_false(lifecycle_idle());
	qsbr_offline(0);
	lifecycle_reap();
	assert_int_equal(lk.removed, 1);
	assert_true(lifecycle_idle());
	assert_int_equal(eni_request_destroy(ENI_A), -ENOENT);
}

static void
test_destroy_waits_for_create_hook(void **state)
{
	(void)state;
	rx(ENI_A, "x");
	lifecycle_take_creates();
	assert_int_equal(eni_request_destroy(ENI_A), 0);
	lifecycle_tick(fake_now, false);
	assert_int_equal(n_hooks, 1);		/* no DESTROY while CREATE runs */
	hook_end(0, HOOK_OK);
	assert_int_equal(n_hooks, 2);
	assert_string_equal(hooks[1].action, "DESTROY");
	hook_end(1, HOOK_OK);
	lifecycle_reap();
	assert_int_equal(lk.removed, 1);
	assert_true(lifecycle_idle());
}

/* A link deleted behind our back: the ENI goes and comes back with the same
 * names, its routes and CREATE hook again, only once the old one is gone. */
static void
test_link_deleted_made_again(void **state)
{
	struct eni *e, *e2;
	struct nl_event ev;
	char got[64];

	(void)state;
	e = rx(ENI_A, "x");
	rx(ENI_B, "y");
	lifecycle_take_creates();
	hook_end(0, HOOK_OK);
	hook_end(1, HOOK_OK);
	ev = (struct nl_event){ .kind = NL_EV_LINK_GONE, .ifindex = e->ifindex_in };
	lifecycle_nl_event(&ev, NULL);
	assert_true(atomic_load(&e->broken));
	lifecycle_tick(fake_now, true);
	assert_int_equal(atomic_load(&D.links_lost), 1);
	/* The twin is published (its packets wait), not brought up yet. */
	e2 = eni_lookup(ENI_A);
	assert_non_null(e2);
	assert_ptr_not_equal(e2, e);
	rx(ENI_A, "z");
	quiesce();
	assert_int_equal(lk.made, 2);
	assert_int_equal(n_hooks, 3);
	assert_string_equal(hooks[2].action, "DESTROY");
	hook_end(2, HOOK_OK);
	lifecycle_reap();
	assert_int_equal(routes_down, 1);
	assert_int_equal(lk.made, 3);
	assert_int_equal(routes_up, 3);
	assert_string_equal(hooks[3].action, "CREATE");
	assert_string_equal(hooks[3].if_in, "gwi-6J1");
	hook_end(3, HOOK_OK);
	assert_int_equal(atomic_load(&e2->state), ENI_UP);
	read_link(e2, got, sizeof(got));
	assert_string_equal(got, "z");
	/* The bystander was never touched. */
	assert_int_equal(atomic_load(&eni_lookup(ENI_B)->state), ENI_UP);
}

static void
test_rp_filter_put_back_on_ours_only(void **state)
{
	struct eni *e;
	struct nl_event ev;

	(void)state;
	e = a_up();
	ev = (struct nl_event){ .kind = NL_EV_RP_FILTER, .ifindex = 999, .value = 1 };
	lifecycle_nl_event(&ev, NULL);
	assert_int_equal(n_rp_off, 0);
	ev.ifindex = e->ifindex_out;
	ev.value = 0;
	lifecycle_nl_event(&ev, NULL);
	assert_int_equal(n_rp_off, 0);
	ev.value = 2;
	lifecycle_nl_event(&ev, NULL);
	assert_int_equal(n_rp_off, 1);
	assert_int_equal(rp_off_ifindex, e->ifindex_out);
	assert_int_equal(e->rp_reverts, 1);
	assert_int_equal(atomic_load(&D.rp_reverts), 1);
}

static void
test_resync_finds_lost_links(void **state)
{
	struct eni *e;
	struct nl_event ev = { .kind = NL_EV_RESYNC };

	(void)state;
	e = a_up();
	lifecycle_nl_event(&ev, NULL);
	assert_int_equal(atomic_load(&D.nl_resyncs), 1);
	assert_true(n_index_asked >= 1);
	assert_true(atomic_load(&e->broken));	/* the fake kernel has no such link */
}

/* Someone sets gwi-X down and up again: the ENI's flag follows the link's
 * events (the reports read it: no question to the kernel per report); an
 * event of another link, or of a flag other than up, changes nothing; a
 * resync reads it again. */
static void
test_link_set_down_followed(void **state)
{
	struct eni *e;
	struct nl_event ev;

	(void)state;
	e = a_up();
	assert_false(atomic_load(&e->link_down));
	ev = (struct nl_event){ .kind = NL_EV_LINK_UPDOWN, .ifindex = e->ifindex_in, .value = 0 };
	lifecycle_nl_event(&ev, NULL);
	assert_true(atomic_load(&e->link_down));
	ev.ifindex = 999;
	ev.value = 1;
	lifecycle_nl_event(&ev, NULL);
	assert_true(atomic_load(&e->link_down));
	ev.ifindex = e->ifindex_in;
	lifecycle_nl_event(&ev, NULL);
	assert_false(atomic_load(&e->link_down));
	/* Events were lost: the resync asks (the link is there, down). */
	link_state_ifindex = e->ifindex_in;
	link_state_up = false;
	conf.no_return = true;	/* (the fake knows only gwi-) */
	ev = (struct nl_event){ .kind = NL_EV_RESYNC };
	lifecycle_nl_event(&ev, NULL);
	assert_false(atomic_load(&e->broken));
	assert_true(atomic_load(&e->link_down));
	conf.no_return = false;
}

static void
test_shutdown_removes_links_in_one_batch(void **state)
{
	(void)state;
	rx(ENI_A, "x");
	rx(ENI_B, "y");
	lifecycle_take_creates();
	hook_end(0, HOOK_OK);
	hook_end(1, HOOK_OK);
	lifecycle_shutdown();
	assert_int_equal(eni_count(), 0);
	assert_int_equal(n_hooks, 4);
	assert_false(lifecycle_idle());
	hook_end(2, HOOK_OK);
	hook_end(3, HOOK_OK);
	lifecycle_reap();
	assert_true(lifecycle_idle());
	assert_int_equal(routes_down, 2);
	assert_int_equal(lk.removed, 0);	/* kept for the batch */
	lifecycle_bury();
	assert_int_equal(lk.group_removed, 1);
	assert_int_equal(lk.removed, 2);
	assert_int_equal(lk.removed_del, 0);	/* the group went in one request */
}

static void
test_eni_limit(void **state)
{
	(void)state;
	conf.max_enis = 2;
	rx(1, "a");
	rx(2, "b");
	assert_null(eni_get_or_create(3, 0, 0, &rx_stats));
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_ENI_LIMIT]), 1);
	assert_int_equal(eni_count(), 2);
}

/* An ENI on its way out (its DESTROY hook running) still counts towards
 * --max-enis: no new ENI's links and hooks until it is gone (issue 12: with
 * --max-enis 32, 516 links and 248 hooks). */
static void
test_closing_counts_towards_limit(void **state)
{
	(void)state;
	conf.max_enis = 2;
	rx(1, "a");
	rx(2, "b");
	lifecycle_take_creates();
	hook_end(0, HOOK_OK);
	hook_end(1, HOOK_OK);
	assert_int_equal(eni_request_destroy(1), 0);
	lifecycle_tick(fake_now, false);
	assert_string_equal(hooks[2].action, "DESTROY");
	assert_int_equal(eni_count(), 1);
	assert_int_equal(eni_held(), 2);
	assert_null(eni_get_or_create(3, 0, 0, &rx_stats));
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_ENI_LIMIT]), 1);
	assert_int_equal(lk.made, 2);
	hook_end(2, HOOK_OK);
	lifecycle_reap();
	assert_int_equal(eni_held(), 1);
	rx(3, "c");
	lifecycle_take_creates();
	assert_int_equal(lk.made, 3);
	hook_end(3, HOOK_OK);
}

/* ENI_A up (its CREATE hook done), then its gwi- link deleted behind our back. */
static struct eni *
a_up_link_gone(void)
{
	struct eni *e = a_up();
	struct nl_event ev;

	ev = (struct nl_event){ .kind = NL_EV_LINK_GONE, .ifindex = e->ifindex_in };
	lifecycle_nl_event(&ev, NULL);
	return e;
}

/* ENI_A published again after its old self went (held: ENIs held then),
 * its links made, its CREATE hook (number hook) run and ended: up. */
static void
a_made_again(unsigned held, unsigned hook)
{
	struct eni *e2 = eni_lookup(ENI_A);

	assert_non_null(e2);
	assert_int_equal(eni_held(), held);
	lifecycle_take_creates();
	assert_string_equal(hooks[hook].action, "CREATE");
	assert_string_equal(hooks[hook].if_in, "gwi-6J1");
	hook_end(hook, HOOK_OK);
	assert_int_equal(atomic_load(&e2->state), ENI_UP);
}

/* At --max-enis, a link deleted behind our back: the old ENI still counts
 * until it is gone, then the ENI is made again (no twin in between). */
static void
test_link_deleted_at_limit_made_again(void **state)
{
	(void)state;
	conf.max_enis = 1;
	a_up_link_gone();
	lifecycle_tick(fake_now, true);
	assert_null(eni_lookup(ENI_A));
	assert_int_equal(eni_held(), 1);
	assert_int_equal(STAT_GET(D.mgr_stats.drops[DROP_ENI_LIMIT]), 0);
	assert_string_equal(hooks[1].action, "DESTROY");
	hook_end(1, HOOK_OK);
	lifecycle_reap();
	a_made_again(1, 2);
	assert_int_equal(lk.made, 2);
}

/* A link deleted one place below --max-enis, and a worker takes that last
 * place just before the manager makes the ENI again: no packet was dropped,
 * so no eni-limit drop is counted, and the ENI is made again once the old
 * one is gone (not left to the next packet). */
static void
test_link_deleted_worker_takes_last_place(void **state)
{
	struct eni *e;

	(void)state;
	conf.max_enis = 2;
	e = a_up_link_gone();
	worker_first_id = ENI_B;
	lifecycle_tick(fake_now, true);
	assert_int_equal(worker_first_id, 0);	/* the worker did come in between */
	assert_non_null(eni_lookup(ENI_B));
	assert_null(eni_lookup(ENI_A));
	assert_int_equal(eni_held(), 2);
	assert_int_equal(STAT_GET(D.mgr_stats.drops[DROP_ENI_LIMIT]), 0);
	assert_int_equal(STAT_GET(worker_stats.drops[DROP_ENI_LIMIT]), 0);
	assert_true(e->recreate);
	lifecycle_take_creates();		/* B comes up */
	assert_string_equal(hooks[1].action, "DESTROY");
	assert_string_equal(hooks[2].action, "CREATE");
	assert_string_equal(hooks[2].if_in, "gwi-1cfDAkrTKzt");
	hook_end(2, HOOK_OK);
	hook_end(1, HOOK_OK);			/* A's DESTROY ends: A is made again */
	lifecycle_reap();
	a_made_again(2, 3);
}

/* At --max-enis, a link deleted behind our back, and a worker meets a new
 * ENI just as the old one is gone: the place goes to the ENI made again
 * (it was asked first), not to the newcomer, whose packet is refused and
 * counted as at any time at the limit. */
static void
test_link_deleted_at_limit_place_handed_over(void **state)
{
	(void)state;
	conf.max_enis = 1;
	a_up_link_gone();
	lifecycle_tick(fake_now, true);
	assert_string_equal(hooks[1].action, "DESTROY");
	hook_end(1, HOOK_OK);
	worker_first_id = ENI_B;	/* comes in when the manager makes one */
	lifecycle_reap();
	if (worker_first_id) {		/* it found no gap: it comes now */
		worker_first_id = 0;
		assert_null(__real_eni_get_or_create(ENI_B, 0x77, 0, &worker_stats));
	}
	assert_null(eni_lookup(ENI_B));
	assert_int_equal(STAT_GET(worker_stats.drops[DROP_ENI_LIMIT]), 1);
	assert_int_equal(STAT_GET(D.mgr_stats.drops[DROP_ENI_LIMIT]), 0);
	a_made_again(1, 2);
}

/* The backlogs by bytes: one ENI at most an eighth of --backlog-bytes
 * (backlog-full), all together at most --backlog-bytes (backlog-bytes), and
 * the total exact through flush, drop and free. */
static void
test_backlog_bytes(void **state)
{
	static char pkt[1001];
	const size_t size = sizeof(struct backlog_pkt) + 1000;
	const unsigned per = (1u << 20) / 8 / size;	/* packets an ENI may hold */
	struct eni *e[10];
	uint64_t total;

	(void)state;
	memset(pkt, 'p', 1000);
	conf.backlog_bytes = 1u << 20;
	conf.max_enis = 10;
	for (unsigned i = 0; i < per + 3; i++)
		e[0] = rx(100, pkt);
	assert_int_equal(e[0]->bl_len, per);
	assert_int_equal(e[0]->bl_bytes, per * size);
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_BACKLOG_FULL]), 3);
	assert_int_equal(eni_backlog_bytes(), per * size);
	/* Nine more ENIs: the eighth fills the total, the ninth gets nothing. */
	for (unsigned k = 1; k < 10; k++)
		for (unsigned i = 0; i < per; i++)
			e[k] = rx(100 + k, pkt);
	total = eni_backlog_bytes();
	assert_true(total <= conf.backlog_bytes);
	assert_true(total > conf.backlog_bytes - size);
	assert_int_equal(e[9]->bl_len, 0);
	assert_int_equal(STAT_GET(rx_stats.drops[DROP_BACKLOG_BYTES]),
	    10 * per - total / size);
	/* Flushed (the CREATE hook ends): its bytes are free again. */
	lifecycle_take_creates();
	hook_end(0, HOOK_OK);
	assert_int_equal(atomic_load(&e[0]->state), ENI_UP);
	assert_int_equal(eni_backlog_bytes(), total - per * size);
	/* Torn down while coming up: dropped, counted, freed. */
	{
		size_t b1 = e[1]->bl_bytes;
		unsigned n1 = e[1]->bl_len;

		total = eni_backlog_bytes();
		assert_int_equal(eni_request_destroy(101), 0);
		lifecycle_tick(fake_now, false);
		hook_end(1, HOOK_OK);	/* its CREATE ends: DESTROY follows */
		assert_string_equal(hooks[10].action, "DESTROY");
		hook_end(10, HOOK_OK);
		lifecycle_reap();
		assert_int_equal(eni_backlog_bytes(), total - b1);
		assert_int_equal(STAT_GET(D.mgr_stats.drops[DROP_ENI_CLOSING]), n1);
	}
	for (unsigned i = 2; i < 10; i++)
		hook_end(i, HOOK_OK);
	assert_int_equal(eni_backlog_bytes(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_up_after_create_hook_backlog_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_create_hook_up_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_state_queued_then_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_create_hook_still_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_bounded_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_failure_then_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_teardown_destroy_hook_then_routes_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grace_period_holds_the_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_waits_for_create_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_deleted_made_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rp_filter_put_back_on_ours_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_finds_lost_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eni_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closing_counts_towards_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_deleted_at_limit_made_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_deleted_worker_takes_last_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_deleted_at_limit_place_handed_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_set_down_followed, setup, teardown),
		/* Last: a daemon shuts down once. */
		cmocka_unit_test_setup_teardown(test_shutdown_removes_links_in_one_batch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
