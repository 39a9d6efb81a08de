/*
 * The ENI life cycle, driven by the manager (manager.c), which calls it
 * from its event loop: new ENIs the workers queued, the periodic tick,
 * netlink events, shutdown.
 *
 * PENDING (a worker created it; its packets wait in a bounded backlog) ->
 * links made (gwi-X, and gwo-X: MTU, up, rp_filter 0), routes and rules
 * installed, CREATE hook run -> UP (backlog flushed in order, first).
 * Idle (-t), `eni destroy`, a link deleted behind our back, or shutdown ->
 * CLOSING (unpublished) -> DESTROY hook -> after the grace period routes
 * and links are removed; a deleted link's ENI is made again at once (its
 * twin waits until the old one is gone).  Links that cannot be made ->
 * FAILED, and the next packet after a pause tries again.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "eni_table.h"
#include "event.h"
#include "hook.h"
#include "lifecycle.h"
#include "link.h"
#include "log.h"
#include "nl.h"
#include "qsbr.h"
#include "route.h"
#include "state.h"

#define FAILED_RETRY_NS	(5ull * 1000000000ull)

/* Manager-only lists. */
static struct eni *deferred;	/* creates waiting for an older twin to go */
static struct eni *closing;	/* unpublished, on their way out */
static struct eni *dead;	/* shutdown: done but for their links */
static bool shutting_down;

/* A hook of e's that waited for a place under --max-hooks starts. */
static void
hook_started(void *arg)
{
	struct eni *e = arg;

	ENI_SET(e->hook_state, HOOK_RUNNING);
}

static void
hook_args_fill(struct hook_args *a, struct eni *e, const char *path,
    const char *action, char *att)
{
	name_hex(e->attachment, att);
	*a = (struct hook_args){
		.started = hook_started,
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
	ENI_SET(e->hook_runs, e->hook_runs + 1);
	/* Queued until it starts (hook_started, maybe at once). */
	ENI_SET(e->hook_state, HOOK_QUEUED);
	err = hook_run(&a, conf.hook_timeout_s, done, e);
	if (err < 0) {
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s %s: cannot run %s: %s", action,
		    e->if_in, path, strerror(-err));
		ENI_SET(e->hook_state, HOOK_FAILED);
		ENI_SET(e->hook_failures, e->hook_failures + 1);
	}
	return err;
}

static void eni_destroy_hook(struct eni *e);

static void
create_hook_done(void *arg, enum hook_state res)
{
	struct eni *e = arg;

	ENI_SET(e->hook_state, res);
	e->create_running = false;
	if (res != HOOK_OK)
		ENI_SET(e->hook_failures, e->hook_failures + 1);
	if (atomic_load(&e->state) == ENI_PENDING)
		eni_backlog_flush(e);
	else if (atomic_load(&e->state) == ENI_CLOSING)
		eni_destroy_hook(e);	/* torn down while CREATE ran */
}

static void
eni_bring_up(struct eni *e)
{
	int err;

	err = link_make(e);
	if (err) {
		e->retry_ns = now_ns() + FAILED_RETRY_NS;
		atomic_store(&e->state, ENI_FAILED);
		eni_backlog_drop(e, DROP_ENI_FAILED);
		return;
	}
	e->links_made = true;
	link_watch_queues(e, true);
	{
		struct route_eni re = { .id = e->id, .ifindex_in = e->ifindex_in,
		    .ifindex_out = e->ifindex_out };

		memcpy(re.hex, e->hex, sizeof(re.hex));
		memcpy(re.if_in, e->if_in, sizeof(re.if_in));
		memcpy(re.if_out, e->if_out, sizeof(re.if_out));
		route_eni_up(&re);
	}
	/* Upstream's words, which operators alert on. */
	log_notice(LOG_CORE, "New interface %s and %s for ENI ID %s created.", e->if_in,
	    conf.no_return ? "none" : e->if_out, e->hex);
	log_msg(LOG_CORE, LOG_INFO, "ENI %s: %s%s%s up (attachment %017llx)",
	    e->hex, e->if_in, conf.no_return ? "" : " and ",
	    conf.no_return ? "" : e->if_out, (unsigned long long)e->attachment);
	{
		struct event ev;
		char att[NAME_HEX_MAX];

		name_hex(e->attachment, att);
		event_init(&ev, EVENT_ENI_UP, true, e->id);
		event_str(&ev, "link_in", e->if_in);
		event_str(&ev, "link_out", conf.no_return ? "none" : e->if_out);
		event_str(&ev, "attachment", att);
		event_post(&ev);
	}
	if (!conf.create_hook) {
		eni_backlog_flush(e);
		return;
	}
	e->create_running = true;
	if (eni_run_hook(e, conf.create_hook, "CREATE", create_hook_done) < 0) {
		e->create_running = false;
		eni_backlog_flush(e);
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

	ENI_SET(e->hook_state, res);
	if (res != HOOK_OK)
		ENI_SET(e->hook_failures, e->hook_failures + 1);
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
	link_watch_queues(e, false);
	qsbr_snapshot_into(e->qsbr_snap);
	qsbr_kick();
	if (e->links_made) {
		struct event ev;

		/* Upstream's words, which operators alert on. */
		log_notice(LOG_CORE, "Removing interface %s and %s for ENI ID %s.", e->if_in,
		    conf.no_return ? "none" : e->if_out, e->hex);
		log_msg(LOG_CORE, LOG_INFO, "ENI %s: tearing %s down (%s)", e->hex, e->if_in,
		    why);
		event_init(&ev, EVENT_ENI_DOWN, true, e->id);
		event_str(&ev, "link_in", e->if_in);
		event_str(&ev, "reason", why);
		event_post(&ev);
	}
	if (e->create_running)
		e->destroy_done = false;	/* DESTROY follows when CREATE ends */
	else
		eni_destroy_hook(e);
	e->mgr_next = closing;
	closing = e;
}

/* The end of an ENI: its links, its queues, what its backlog still held, its
 * memory; again: a new one of the same id takes its place (eni_remake). */
static void
eni_remove(struct eni *e, bool del_links, bool again)
{
	link_remove(e, del_links);
	eni_backlog_drop(e, DROP_ENI_CLOSING);
	log_msg(LOG_TUNNEL, LOG_DEBUG, "ENI %s: links removed", e->hex);
	if (again)
		eni_remake(e);
	else
		eni_free(e);
}

/* Free what has finished its way out; start deferred creates. */
void
lifecycle_reap(void)
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
			/* recreate (at --max-enis when its link was lost):
			 * made again in its own place, which no worker can
			 * take in between (a twin its traffic made is found). */
			eni_remove(e, e->links_made, e->recreate && !shutting_down);
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

void
lifecycle_take_creates(void)
{
	struct eni *q, *next;

	for (q = eni_take_creates(); q; q = next) {
		next = q->mgr_next;
		if (eni_has_twin(q->id)) {
			q->mgr_next = deferred;
			deferred = q;
		} else {
			eni_bring_up(q);
		}
	}
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
		struct event ev;

		/* Counted here, once per teardown, not on RTM_DELLINK: writes to
		 * the deleted link fail as soon as the kernel closes it, and a
		 * tick can tear the ENI down before the event (sent at the end
		 * of an unregister that takes 20-500 ms) finds it published. */
		atomic_fetch_add(&D.links_lost, 1);
		/* Posted here, once per loss: an eni-down and, once the links
		 * are made again, an eni-up follow. */
		event_init(&ev, EVENT_LINK_RECREATED, true, e->id);
		event_str(&ev, "link_in", e->if_in);
		event_str(&ev, "link_out", conf.no_return ? "none" : e->if_out);
		event_post(&ev);
		c->why[c->n] = "its link was deleted or broke; it is made again";
		c->recreate[c->n] = true;
		c->list[c->n++] = e;
	} else if (state == ENI_UP && conf.idle_teardown_s &&
	    eni_idle_ns(e, c->now) >= (uint64_t)conf.idle_teardown_s * 1000000000ull) {
		c->why[c->n] = "idle";
		c->list[c->n++] = e;
	}
}

void
lifecycle_tick(uint64_t now, bool full)
{
	struct scan_ctx c = { .now = now };
	uint64_t ids[64];
	unsigned n;

	if (full) {
		/* Collect first, act after the walk (teardown changes the table). */
		eni_foreach(scan_one, &c);
		for (unsigned i = 0; i < c.n; i++) {
			uint64_t id = c.list[i]->id, att = c.list[i]->attachment;

			eni_teardown(c.list[i], c.why[i]);
			/* Self-healing: the same links, routes, rules and CREATE
			 * hook again as soon as the old ones are gone, traffic or
			 * not (its packets wait in the new one's backlog). */
			if (!c.recreate[i])
				continue;
			/* At --max-enis the old one still counts: it is made
			 * again once it is gone (lifecycle_reap).  One try,
			 * no look at eni_held() first: a worker may take the
			 * last place between the look and the create. */
			if (!eni_get_or_create(id, att, D.mgr_slot, NULL))
				c.list[i]->recreate = true;
		}
	}

	n = eni_take_destroy_requests(ids, 64);
	for (unsigned i = 0; i < n; i++) {
		struct eni *e = eni_lookup(ids[i]);

		if (e && atomic_load(&e->state) != ENI_CLOSING)
			eni_teardown(e, "destroyed by gwlbctl");
	}
	lifecycle_reap();
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

/* An ENI whose links are made (its gwi- link is ifindex). */
static void
find_ifindex_in(struct eni *e, void *arg)
{
	struct ifx_ctx *c = arg;
	int state = atomic_load(&e->state);

	if ((state == ENI_UP || state == ENI_PENDING) && e->links_made &&
	    e->ifindex_in == c->ifindex)
		c->e = e;
}

/* gwi-X set up or down by someone: kept for the reports (show enis, the
 * health check), which so ask the kernel nothing. */
static void
link_updown(struct eni *e, bool up)
{
	if (atomic_exchange(&e->link_down, !up) == !up)
		return;
	log_msg(LOG_NETLINK, LOG_IMPORTANT, "ENI %s: %s is %s", e->hex, e->if_in,
	    up ? "up again" : "down (set down behind our back): the health check fails");
}

static void
resync_one(struct eni *e, void *arg)
{
	bool up = true;

	(void)arg;
	if (atomic_load(&e->state) != ENI_UP)
		return;
	if (nl_link_state(e->if_in, &up) != e->ifindex_in ||
	    (!conf.no_return && nl_link_index(e->if_out) != e->ifindex_out)) {
		atomic_store(&e->broken, true);
		return;
	}
	link_updown(e, up);
	nl_link_rp_filter_off(e->ifindex_in, e->if_in);
	if (!conf.no_return)
		nl_link_rp_filter_off(e->ifindex_out, e->if_out);
}

/* The manager's share of the netlink events: rp_filter guard, lost links. */
void
lifecycle_nl_event(const struct nl_event *ev, void *arg)
{
	struct ifx_ctx c = { .ifindex = ev->ifindex };
	const char *name;

	(void)arg;
	if (ev->kind == NL_EV_RESYNC) {
		atomic_fetch_add(&D.nl_resyncs, 1);
		eni_foreach(resync_one, NULL);
		return;
	}
	if (ev->kind == NL_EV_LINK_UPDOWN) {
		eni_foreach(find_ifindex_in, &c);
		if (c.e)
			link_updown(c.e, ev->value != 0);
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
		struct event rev;

		ENI_SET(c.e->rp_reverts, c.e->rp_reverts + 1);
		atomic_fetch_add(&D.rp_reverts, 1);
		event_init(&rev, EVENT_RP_FILTER_REVERTED, true, c.e->id);
		event_str(&rev, "link", name);
		event_u64(&rev, "value", (uint64_t)ev->value);
		event_post(&rev);
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "rp_filter on %s was set to %d behind our "
		    "back (systemd-sysctl does this to new links); set back to 0",
		    name, ev->value);
	}
}

static void
eni_teardown_all(void)
{
	struct eni *list[64];
	unsigned n;

	while ((n = eni_collect(list, 64)) > 0)
		for (unsigned i = 0; i < n; i++)
			eni_teardown(list[i], "shutdown");
}

/* Shutdown: every link of ours in one RTM_DELLINK (their link group), then
 * the descriptors, which are cheap to close once the links are gone. */
void
lifecycle_bury(void)
{
	struct eni *e, *next;
	unsigned n = 0;
	uint64_t t0 = now_ns();
	int err = 0;

	for (e = dead; e; e = e->mgr_next)
		n++;
	if (n)
		err = link_remove_group();
	for (e = dead; e; e = next) {
		next = e->mgr_next;
		eni_remove(e, err < 0, false);	/* the batch failed: one by one */
	}
	dead = NULL;
	if (n)
		log_msg(LOG_TUNNEL, LOG_INFO, "links of %u ENIs removed in %llu ms", n,
		    (unsigned long long)((now_ns() - t0) / 1000000));
}


void
lifecycle_shutdown(void)
{
	shutting_down = true;
	eni_teardown_all();
	lifecycle_reap();
}

bool
lifecycle_idle(void)
{
	return !closing && !deferred;
}

void
lifecycle_give_up(void)
{
	/* Their hooks were killed: the ENIs still lose their routes and rules,
	 * and (lifecycle_bury) their links. */
	for (struct eni *c = closing; c; c = c->mgr_next)
		if (c->links_made)
			route_eni_down(c->id);
}
