/*
 * Counter sums.  Each thread writes only its own counters; these readers
 * add them up with relaxed loads, so a sum is a moment's view, never torn
 * per counter.
 */
#include "config.h"

#include <string.h>

#include "gwlbtund.h"

void
stats_thread(const struct thread_stats *ts, struct stats_snap *out)
{
	out->packets += STAT_GET(ts->packets);
	out->bytes += STAT_GET(ts->bytes);
	out->batches += STAT_GET(ts->batches);
	out->delivered += STAT_GET(ts->delivered);
	out->kernel_drops += STAT_GET(ts->kernel_drops);
	for (int i = 0; i < DROP__MAX; i++) {
		uint64_t v = STAT_GET(ts->drops[i]);

		out->drop[i] += v;
		out->drops += v;
	}
}

void
stats_kind(int kind, struct stats_snap *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++)
		if (kind < 0 || (int)D.workers[i].kind == kind)
			stats_thread(&D.workers[i].stats, out);
	if (kind < 0)
		stats_thread(&D.mgr_stats, out);
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
