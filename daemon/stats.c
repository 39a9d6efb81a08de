/*
 * Counter sums.  Each thread writes only its own counters; these readers
 * add them up with relaxed loads, so a sum is a moment's view, never torn
 * per counter.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "flow.h"
#include "clock.h"
#include "eni_table.h"
#include "state.h"
#include "worker.h"
#include "stats.h"

static void
stats_raw(const struct thread_stats *ts, struct stats_snap *out)
{
	memset(out, 0, sizeof(*out));
	out->packets = STAT_GET(ts->packets);
	out->bytes = STAT_GET(ts->bytes);
	out->batches = STAT_GET(ts->batches);
	out->delivered = STAT_GET(ts->delivered);
	out->delivered_bytes = STAT_GET(ts->delivered_bytes);
	out->kernel_drops = STAT_GET(ts->kernel_drops);
	out->gso_super = STAT_GET(ts->gso_super);
	out->gso_segments = STAT_GET(ts->gso_segments);
	out->uso_super = STAT_GET(ts->uso_super);
	out->uso_segments = STAT_GET(ts->uso_segments);
	for (int i = 0; i < USO_FB__MAX; i++)
		out->uso_fallback[i] = STAT_GET(ts->uso_fallback[i]);
	gro_snap_read(&ts->gro, &out->gro);
	for (int i = 0; i < DROP__MAX; i++) {
		out->drop[i] = STAT_GET(ts->drops[i]);
		out->drops += out->drop[i];
	}
}

void
stats_thread(const struct thread_stats *ts, const struct stats_snap *base,
    struct stats_snap *out)
{
	struct stats_snap r;

	stats_raw(ts, &r);
	out->packets += r.packets - base->packets;
	out->bytes += r.bytes - base->bytes;
	out->batches += r.batches - base->batches;
	out->delivered += r.delivered - base->delivered;
	out->delivered_bytes += r.delivered_bytes - base->delivered_bytes;
	out->kernel_drops += r.kernel_drops - base->kernel_drops;
	out->gso_super += r.gso_super - base->gso_super;
	out->gso_segments += r.gso_segments - base->gso_segments;
	out->uso_super += r.uso_super - base->uso_super;
	out->uso_segments += r.uso_segments - base->uso_segments;
	for (int i = 0; i < USO_FB__MAX; i++)
		out->uso_fallback[i] += r.uso_fallback[i] - base->uso_fallback[i];
	out->drops += r.drops - base->drops;
	gro_snap_add(&out->gro, &r.gro, &base->gro);
	for (int i = 0; i < DROP__MAX; i++)
		out->drop[i] += r.drop[i] - base->drop[i];
}

/* raw: as counted, a reset ignored (the health port, /metrics). */
static const struct stats_snap no_base;

void
stats_worker(const struct worker *w, bool raw, struct stats_snap *out)
{
	stats_thread(&w->stats, raw ? &no_base : &w->base, out);
}

static void
eni_reset_one(struct eni *e, void *arg)
{
	struct eni_stats cur;

	(void)arg;
	/* The new base is the raw sums: the old base plus what is counted
	 * since.  Never zeroed on the way: readers walk the table without
	 * a lock (eni_foreach) and would see the raw sums for a moment. */
	eni_stats_sum(e, false, &cur);
	STAT_ADD(e->base.pkts_in, STAT_GET(cur.pkts_in));
	STAT_ADD(e->base.bytes_in, STAT_GET(cur.bytes_in));
	STAT_ADD(e->base.pkts_out, STAT_GET(cur.pkts_out));
	STAT_ADD(e->base.bytes_out, STAT_GET(cur.bytes_out));
	STAT_ADD(e->base.drops, STAT_GET(cur.drops));
}

void
stats_reset(void)
{
	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++)
		stats_raw(&D.workers[i].stats, &D.workers[i].base);
	stats_raw(&D.mgr_stats, &D.mgr_base);
	eni_foreach(eni_reset_one, NULL);
}

void
stats_kind(int kind, bool raw, struct stats_snap *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++)
		if (kind < 0 || (int)D.workers[i].kind == kind)
			stats_worker(&D.workers[i], raw, out);
	if (kind < 0)
		stats_thread(&D.mgr_stats, raw ? &no_base : &D.mgr_base, out);
}

unsigned
stats_stuck_workers(uint64_t now, uint64_t limit_ns)
{
	unsigned n = 0;

	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++) {
		uint64_t hb = STAT_GET(D.workers[i].heartbeat_ns);

		if (hb && now > hb && now - hb > limit_ns)
			n++;
	}
	return n;
}

/* An operator's `ip link set gwi-X down`: the flag the manager keeps from
 * the link's netlink events (lifecycle.c), once per change, not a question
 * to the kernel per ENI and report (the health check walks every ENI). */
bool
stats_eni_link_down(const struct eni *e)
{
	return atomic_load(&e->state) == ENI_UP && atomic_load(&e->link_down);
}

/* The samples: the manager writes them while gwlbctl and the health page
 * read them (walks of the table take no lock).  One lock for all ENIs: a
 * sample is a few words, taken once a second. */
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

/* An ENI's counters as counted, whatever a reset did: they only grow (the
 * base is never read, so a reset at the same moment cannot skew them). */
static void
rate_sample(const struct eni *e, uint64_t now, struct eni_rate_sample *out)
{
	struct eni_stats s;

	eni_stats_sum(e, true, &s);
	out->ns = now;
	out->pkts_in = STAT_GET(s.pkts_in);
	out->bytes_in = STAT_GET(s.bytes_in);
	out->pkts_out = STAT_GET(s.pkts_out);
	out->bytes_out = STAT_GET(s.bytes_out);
}

static void
rate_take(struct eni *e, void *arg)
{
	struct eni_rate_sample smp;

	rate_sample(e, *(const uint64_t *)arg, &smp);
	pthread_mutex_lock(&rate_lock);
	e->rate[e->rate_next] = smp;
	e->rate_next = (e->rate_next + 1) % ENI_RATE_SAMPLES;
	if (e->rate_n < ENI_RATE_SAMPLES)
		e->rate_n++;
	pthread_mutex_unlock(&rate_lock);
}

void
stats_rates_tick(uint64_t now)
{
	static uint64_t last;

	if (last && now - last < STATS_RATE_STEP_NS)
		return;
	last = now;
	eni_foreach(rate_take, &now);
}

static uint64_t
per_s(uint64_t delta, uint64_t ns)
{
	return (uint64_t)((double)delta * 1e9 / (double)ns + 0.5);
}

/* Since the oldest sample; since the ENI appeared (when all its counters
 * were 0) before the first. */
static void
rates(const struct eni *e, uint64_t now, struct eni_view *v)
{
	struct eni_rate_sample old = { .ns = e->created_ns }, cur;
	uint64_t dt;

	pthread_mutex_lock(&rate_lock);
	if (e->rate_n > 0)
		old = e->rate[e->rate_n < ENI_RATE_SAMPLES ? 0 : e->rate_next];
	pthread_mutex_unlock(&rate_lock);
	rate_sample(e, now, &cur);
	if (now <= old.ns)
		return;
	dt = now - old.ns;
	v->pps_in = per_s(cur.pkts_in - old.pkts_in, dt);
	v->bps_in = per_s((cur.bytes_in - old.bytes_in) * 8, dt);
	v->pps_out = per_s(cur.pkts_out - old.pkts_out, dt);
	v->bps_out = per_s((cur.bytes_out - old.bytes_out) * 8, dt);
}

void
eni_view(const struct eni *e, uint64_t now, bool raw, struct eni_view *v)
{
	static const char *const states[] = {
		[ENI_PENDING] = "pending", [ENI_UP] = "up", [ENI_FAILED] = "failed",
		[ENI_CLOSING] = "closing",
	};
	struct flow_stats fs = { 0 };
	struct eni_stats s;
	int st = atomic_load(&e->state);

	eni_stats_sum(e, raw, &s);	/* raw: /metrics, counters never go down */
	if (e->flows)
		flow_table_stats(e->flows, &fs);
	v->state = (unsigned)st < sizeof(states) / sizeof(states[0]) ? states[st] : "?";
	if (st == ENI_UP && stats_eni_link_down(e))
		v->state = "down";
	v->pkts_in = STAT_GET(s.pkts_in);
	v->bytes_in = STAT_GET(s.bytes_in);
	v->pkts_out = STAT_GET(s.pkts_out);
	v->bytes_out = STAT_GET(s.bytes_out);
	v->drops = STAT_GET(s.drops);
	v->flows = fs.entries;
	v->flow_inserts = fs.inserts;
	v->flow_evictions = fs.evictions;
	v->flow_expired = fs.expired;
	v->flow_refused = fs.refused;
	v->idle_ns = eni_idle_ns(e, now);
	v->pps_in = v->bps_in = v->pps_out = v->bps_out = 0;
	rates(e, now, v);
}
