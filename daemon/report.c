/*
 * The producers of records (report.h, record.h): status, workers, drops and ENIs, each the one
 * place where its field names, types and metrics are written down.
 * gwlbctl (show status, show workers, show drops, show enis, show eni) and
 * the health port (text, JSON, /metrics) all call these.  Field names are
 * part of the interface (scripts read them with gwlbctl -j, dashboards
 * scrape /metrics): change them only by adding new ones.
 */
#include "config.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"
#include "clock.h"
#include "eni_table.h"
#include "route.h"
#include "state.h"
#include "worker.h"
#include "hook.h"
#include "name.h"
#include "report.h"
#include "stats.h"
#include "tun.h"

/* A worker whose loop has not turned for this long makes the daemon unhealthy. */
#define STUCK_NS	(5ull * 1000000000ull)

enum {
	M_HEALTHY, M_UPTIME, M_ENIS, M_GSO_SUPER, M_GSO_SEGMENTS,
	M_WORKER_PACKETS, M_WORKER_BYTES, M_WORKER_DELIVERED, M_WORKER_KERNEL_DROPS,
	M_DROPS,
	M_ENI_PACKETS_IN, M_ENI_BYTES_IN, M_ENI_PACKETS_OUT, M_ENI_BYTES_OUT, M_ENI_DROPS,
	M_ENI_FLOWS, M_ENI_FLOW_EVICTIONS,
	M_GRO_BUFFERS, M_GRO_COALESCED, M_GRO_SUPER, M_GRO_REFUSED,
	M_ROUTES_RESTORED, M_RULES_RESTORED, M_NL_RESYNCS,
	M_ENIS_HELD, M_BACKLOG_BYTES, M_HOOKS_RUNNING, M_HOOKS_QUEUED, M_HOOKS_WAITED,
	M_HOOKS_TIMED_OUT,
	M__MAX
};

#define WORKER_LABELS	{ { "worker", "id" }, { "kind", "kind" } }
#define ENI_LABELS	{ { "eni", "eni" }, { "interface", "if_in" } }

const struct rec_metric report_metrics[] = {
	[M_HEALTHY] = { "gwlbtun_healthy", "gauge",
	    "1 when the health check answers 200.", { { NULL, NULL } } },
	[M_UPTIME] = { "gwlbtun_uptime_seconds", "gauge",
	    "Seconds since gwlbtund started.", { { NULL, NULL } } },
	[M_ENIS] = { "gwlbtun_enis", "gauge",
	    "ENIs the daemon holds.", { { NULL, NULL } } },
	[M_GSO_SUPER] = { "gwlbtun_gso_super_packets_total", "counter",
	    "Super-packets (TCP/UDP segmentation offload) read from the links.",
	    { { NULL, NULL } } },
	[M_GSO_SEGMENTS] = { "gwlbtun_gso_segments_total", "counter",
	    "Their segments sent back to GWLB, one datagram each.", { { NULL, NULL } } },
	[M_WORKER_PACKETS] = { "gwlbtun_worker_packets_total", "counter",
	    "Packets received (rx) or read from links (tun), per worker.", WORKER_LABELS },
	[M_WORKER_BYTES] = { "gwlbtun_worker_bytes_total", "counter",
	    "Bytes received (rx) or read from links (tun), per worker.", WORKER_LABELS },
	[M_WORKER_DELIVERED] = { "gwlbtun_worker_delivered_total", "counter",
	    "Packets delivered to a gwi- link (rx) or sent back to GWLB (tun), per worker.",
	    WORKER_LABELS },
	[M_WORKER_KERNEL_DROPS] = { "gwlbtun_worker_kernel_drops_total", "counter",
	    "Datagrams the kernel dropped on a receive worker's socket.", WORKER_LABELS },
	[M_DROPS] = { "gwlbtun_drops_total", "counter",
	    "Packets dropped, by reason.", { { "reason", "reason" } } },
	[M_ENI_PACKETS_IN] = { "gwlbtun_eni_packets_in_total", "counter",
	    "Packets from GWLB for this ENI.", ENI_LABELS },
	[M_ENI_BYTES_IN] = { "gwlbtun_eni_bytes_in_total", "counter",
	    "Inner bytes from GWLB for this ENI.", ENI_LABELS },
	[M_ENI_PACKETS_OUT] = { "gwlbtun_eni_packets_out_total", "counter",
	    "Packets sent back to GWLB for this ENI.", ENI_LABELS },
	[M_ENI_BYTES_OUT] = { "gwlbtun_eni_bytes_out_total", "counter",
	    "Inner bytes sent back to GWLB for this ENI.", ENI_LABELS },
	[M_ENI_DROPS] = { "gwlbtun_eni_drops_total", "counter",
	    "Packets of this ENI dropped.", ENI_LABELS },
	[M_ENI_FLOWS] = { "gwlbtun_eni_flows", "gauge",
	    "Flows in this ENI's flow table.", ENI_LABELS },
	[M_ENI_FLOW_EVICTIONS] = { "gwlbtun_eni_flow_evictions_total", "counter",
	    "Flows evicted from a full flow table of this ENI.", ENI_LABELS },
	[M_GRO_BUFFERS] = { "gwlbtun_gro_buffers_total", "counter",
	    "UDP GRO buffers received: several GENEVE datagrams in one read.",
	    { { NULL, NULL } } },
	[M_GRO_COALESCED] = { "gwlbtun_gro_segments_coalesced_total", "counter",
	    "Inner TCP segments written to gwi- links inside super-packets.",
	    { { NULL, NULL } } },
	[M_GRO_SUPER] = { "gwlbtun_gro_super_packets_total", "counter",
	    "Super-packets (GSO) written to gwi- links.", { { NULL, NULL } } },
	[M_GRO_REFUSED] = { "gwlbtun_gro_refused_total", "counter",
	    "Inner packets not merged with the one before them (status has the reasons).",
	    { { NULL, NULL } } },
	[M_ROUTES_RESTORED] = { "gwlbtun_routes_restored_total", "counter",
	    "Routes of ours deleted or changed behind our back and put back.",
	    { { NULL, NULL } } },
	[M_RULES_RESTORED] = { "gwlbtun_rules_restored_total", "counter",
	    "Rules of ours deleted behind our back and put back.", { { NULL, NULL } } },
	[M_NL_RESYNCS] = { "gwlbtun_netlink_resyncs_total", "counter",
	    "Netlink event sockets that overflowed (ENOBUFS): the kernel's state read again.",
	    { { NULL, NULL } } },
	[M_ENIS_HELD] = { "gwlbtun_enis_held", "gauge",
	    "ENIs that count towards --max-enis, those on their way out included.",
	    { { NULL, NULL } } },
	[M_BACKLOG_BYTES] = { "gwlbtun_backlog_bytes", "gauge",
	    "Bytes held for ENIs coming up, all together (at most --backlog-bytes).",
	    { { NULL, NULL } } },
	[M_HOOKS_RUNNING] = { "gwlbtun_hooks_running", "gauge",
	    "Hooks running (at most --max-hooks).", { { NULL, NULL } } },
	[M_HOOKS_QUEUED] = { "gwlbtun_hooks_queued", "gauge",
	    "Hooks waiting for one of the --max-hooks places.", { { NULL, NULL } } },
	[M_HOOKS_WAITED] = { "gwlbtun_hooks_waited_total", "counter",
	    "Hooks that had to wait for a place.", { { NULL, NULL } } },
	[M_HOOKS_TIMED_OUT] = { "gwlbtun_hooks_timed_out_total", "counter",
	    "Hooks killed after --hook-timeout.", { { NULL, NULL } } },
};
_Static_assert(sizeof(report_metrics) / sizeof(report_metrics[0]) == M__MAX, "report_metrics");
const size_t report_metrics_count = M__MAX;

bool
report_healthy(uint64_t now, const char **why)
{
	const char *w = "ok";
	bool ok = true;

	if (atomic_load(&D.stopping)) {
		w = "shutting down";
		ok = false;
	} else if (stats_stuck_workers(now, STUCK_NS)) {
		w = "a worker has stopped turning";
		ok = false;
	}
	if (why)
		*why = w;
	return ok;
}

/* Receive-side coalescing (--offload): what was merged, and why not. */
static void
report_gro(struct rec_sink *s, const struct gro_snap *g)
{
	uint64_t refused = 0;

	rec_u64m(s, "gro_buffers", g->buffers, &report_metrics[M_GRO_BUFFERS]);
	rec_u64m(s, "gro_coalesced", g->coalesced, &report_metrics[M_GRO_COALESCED]);
	rec_u64m(s, "gro_super_packets", g->super, &report_metrics[M_GRO_SUPER]);
	for (int r = 0; r < GRO_R__MAX; r++)
		refused += g->refused[r];
	rec_u64m(s, "gro_refused", refused, &report_metrics[M_GRO_REFUSED]);
	for (int r = 0; r < GRO_R__MAX; r++) {
		char key[64];

		/* gro_refused_seq_gap: a field name, not a reason string */
		snprintf(key, sizeof(key), "gro_refused_%s", gro_refuse_str((enum gro_refuse)r));
		for (char *c = key; *c; c++)
			if (*c == '-')
				*c = '_';
		rec_u64(s, key, g->refused[r]);
	}
}

/* The bounds of what outside traffic can make us spend, and their use. */
static void
report_limits(struct rec_sink *s)
{
	struct hook_counts h;

	hook_counts(&h);
	rec_u64(s, "max_enis", conf.max_enis);
	rec_u64m(s, "enis_held", eni_held(), &report_metrics[M_ENIS_HELD]);
	rec_u64(s, "backlog_bytes_max", conf.backlog_bytes);
	rec_u64m(s, "backlog_bytes", eni_backlog_bytes(), &report_metrics[M_BACKLOG_BYTES]);
	rec_u64(s, "max_hooks", conf.max_hooks);
	rec_u64m(s, "hooks_running", h.running, &report_metrics[M_HOOKS_RUNNING]);
	rec_u64m(s, "hooks_queued", h.queued, &report_metrics[M_HOOKS_QUEUED]);
	rec_u64m(s, "hooks_waited", h.waited, &report_metrics[M_HOOKS_WAITED]);
	rec_u64(s, "hooks_started", h.started);
	rec_u64(s, "hooks_ok", h.ok);
	rec_u64(s, "hooks_failed", h.failed);
	rec_u64m(s, "hooks_timed_out", h.timed_out, &report_metrics[M_HOOKS_TIMED_OUT]);
	rec_u64(s, "hook_lines_unlogged", h.lines_unlogged);
	rec_u64(s, "fds_needed", D.fd_need);
	rec_u64(s, "fds_limit", D.fd_limit);
}

void
report_status(struct rec_sink *s, uint64_t now)
{
	struct stats_snap rx, tun, all;

	stats_kind(WORKER_RX, &rx);
	stats_kind(WORKER_REPLY, &tun);
	stats_kind(-1, &all);
	rec_begin(s, "status");
	rec_str(s, "version", PACKAGE_VERSION);
	rec_u64(s, "pid", (uint64_t)getpid());
	rec_u64m(s, "uptime_s", (now - D.started_ns) / 1000000000ull, &report_metrics[M_UPTIME]);
	rec_str(s, "mode", conf.no_return ? "no-return" : "return");
	rec_u64(s, "rx_workers", D.n_rx);
	rec_u64(s, "tun_workers", D.n_tun);
	rec_u64(s, "port", conf.geneve_port);
	rec_u64(s, "rcvbuf_bytes", D.n_rx ? (uint64_t)D.workers[0].rcvbuf_granted : 0);
	rec_u64(s, "busy_poll_us", D.n_rx ? (uint64_t)D.workers[0].busy_poll_granted : 0);
	rec_u64m(s, "enis", eni_count(), &report_metrics[M_ENIS]);
	rec_u64(s, "packets_in", rx.packets);
	rec_u64(s, "bytes_in", rx.bytes);
	/* In: GENEVE datagrams as they arrived; delivered: their inner packets
	 * on gwi- links (a new ENI's backlog is delivered by the manager, not a
	 * worker); out: replies sent to GWLB, inner bytes, like the ENIs'. */
	rec_u64(s, "delivered", rx.delivered + STAT_GET(D.mgr_stats.delivered));
	rec_u64(s, "packets_out", tun.delivered);
	rec_u64(s, "bytes_out", tun.delivered_bytes);
	rec_u64(s, "drops", all.drops);
	rec_u64(s, "kernel_drops", all.kernel_drops);
	report_gro(s, &rx.gro);
	rec_u64(s, "rp_filter_reverts", atomic_load(&D.rp_reverts));
	rec_u64(s, "links_lost", atomic_load(&D.links_lost));
	rec_u64m(s, "netlink_resyncs", atomic_load(&D.nl_resyncs), &report_metrics[M_NL_RESYNCS]);
	rec_u64m(s, "routes_restored", atomic_load(&D.routes_restored),
	    &report_metrics[M_ROUTES_RESTORED]);
	rec_u64m(s, "rules_restored", atomic_load(&D.rules_restored),
	    &report_metrics[M_RULES_RESTORED]);
	report_limits(s);
	/* --offload: the links' virtio_net_hdr and TUN offloads (show eni has
	 * what each link's kernel took); super-packets read, segments sent. */
	rec_bool(s, "offload", conf.offload);
	rec_u64m(s, "gso_super_packets", tun.gso_super, &report_metrics[M_GSO_SUPER]);
	rec_u64m(s, "gso_segments", tun.gso_segments, &report_metrics[M_GSO_SEGMENTS]);
	rec_boolm(s, "healthy", report_healthy(now, NULL), &report_metrics[M_HEALTHY]);
	rec_end(s);
}

void
report_workers(struct rec_sink *s, uint64_t now)
{
	rec_list_begin(s, "worker");
	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++) {
		struct worker *w = &D.workers[i];
		struct stats_snap st = { 0 };
		uint64_t hb = STAT_GET(w->heartbeat_ns);
		bool rx = w->kind == WORKER_RX;

		stats_worker(w, &st);
		rec_begin(s, "worker");
		rec_u64(s, "id", w->kidx);
		rec_str(s, "kind", rx ? "rx" : "tun");
		rec_s64(s, "cpu", w->cpu);
		rec_u64(s, "tid", (uint64_t)atomic_load_explicit(&w->tid, memory_order_relaxed));
		rec_u64m(s, "packets", st.packets, &report_metrics[M_WORKER_PACKETS]);
		rec_u64m(s, "bytes", st.bytes, &report_metrics[M_WORKER_BYTES]);
		rec_u64(s, "batches", st.batches);
		rec_u64m(s, "delivered", st.delivered, &report_metrics[M_WORKER_DELIVERED]);
		rec_u64(s, "drops", st.drops);
		/* Only a receive worker has a socket the kernel can drop on. */
		rec_u64m(s, "kernel_drops", st.kernel_drops,
		    rx ? &report_metrics[M_WORKER_KERNEL_DROPS] : NULL);
		/* Since its loop last turned: what makes a worker "stuck". */
		rec_u64(s, "idle_ms", hb && now > hb ? (now - hb) / 1000000 : 0);
		rec_end(s);
	}
	rec_list_end(s, "worker");
}

static void
drop_rec(struct rec_sink *s, const char *reason, const char *side, const char *worker,
    uint64_t count, const struct rec_metric *m)
{
	rec_begin(s, "drop");
	rec_str(s, "reason", reason);
	rec_str(s, "side", side);
	rec_str(s, "worker", worker);
	rec_u64m(s, "count", count, m);
	rec_end(s);
}

void
report_drops(struct rec_sink *s)
{
	struct stats_snap all, per[MAX_WORKERS];
	unsigned total = D.n_rx + D.n_tun;

	stats_kind(-1, &all);
	for (unsigned i = 0; i < total; i++) {
		memset(&per[i], 0, sizeof(per[i]));
		stats_worker(&D.workers[i], &per[i]);
	}
	rec_list_begin(s, "drop");
	for (int d = 0; d < DROP__MAX; d++) {
		const char *reason = drop_str((enum drop_reason)d);
		const char *side = drop_side_str(drop_side((enum drop_reason)d));

		drop_rec(s, reason, side, "all", all.drop[d], &report_metrics[M_DROPS]);
		for (unsigned i = 0; i < total; i++) {
			char wname[16];

			if (!per[i].drop[d])
				continue;
			snprintf(wname, sizeof(wname), "%s%u",
			    D.workers[i].kind == WORKER_RX ? "rx" : "tun", D.workers[i].kidx);
			drop_rec(s, reason, side, wname, per[i].drop[d], NULL);
		}
	}
	/* Not a packet we dropped: not in gwlbtun_drops_total (see the
	 * workers' gwlbtun_worker_kernel_drops_total). */
	drop_rec(s, "kernel-receive-queue", drop_side_str(DROP_SIDE_RECEIVE), "all",
	    all.kernel_drops, NULL);
	rec_list_end(s, "drop");
}

void
report_eni(struct rec_sink *s, struct eni *e, uint64_t now, bool detail)
{
	struct eni_view v;

	eni_view(e, now, &v);
	rec_begin(s, "eni");
	rec_str(s, "eni", e->hex);
	/* The same id as AWS names the GWLB endpoint. */
	rec_strf(s, "vpce", "vpce-%s", e->hex);
	rec_str(s, "if_in", e->if_in);
	rec_str(s, "if_out", e->if_out);
	rec_str(s, "state", v.state);
	/* Rates over the last few seconds (stats.c); not for /metrics, whose
	 * readers compute their own from the counters. */
	rec_u64(s, "pps_in", v.pps_in);
	rec_u64(s, "bps_in", v.bps_in);
	rec_u64(s, "pps_out", v.pps_out);
	rec_u64(s, "bps_out", v.bps_out);
	rec_u64m(s, "packets_in", v.pkts_in, &report_metrics[M_ENI_PACKETS_IN]);
	rec_u64m(s, "bytes_in", v.bytes_in, &report_metrics[M_ENI_BYTES_IN]);
	rec_u64m(s, "packets_out", v.pkts_out, &report_metrics[M_ENI_PACKETS_OUT]);
	rec_u64m(s, "bytes_out", v.bytes_out, &report_metrics[M_ENI_BYTES_OUT]);
	rec_u64m(s, "drops", v.drops, &report_metrics[M_ENI_DROPS]);
	rec_u64m(s, "flows", v.flows, &report_metrics[M_ENI_FLOWS]);
	rec_u64(s, "table", route_eni_table(e->id));
	rec_u64(s, "idle_s", v.idle_ns / 1000000000ull);
	if (detail) {
		char att[NAME_HEX_MAX], created[32], offl[64];
		struct tm tm;

		name_hex(e->attachment, att);
		gmtime_r(&e->created_wall, &tm);
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
		rec_str(s, "attachment", att);
		rec_str(s, "created", created);
		rec_u64(s, "ifindex_in", (uint64_t)e->ifindex_in);
		rec_u64(s, "ifindex_out", (uint64_t)e->ifindex_out);
		rec_u64(s, "queues", e->nqueues);
		rec_str(s, "hook_state", hook_state_str((enum hook_state)e->hook_state));
		rec_u64(s, "hook_runs", e->hook_runs);
		rec_u64(s, "hook_failures", e->hook_failures);
		rec_u64(s, "backlog", e->bl_len);
		rec_u64(s, "backlog_bytes", e->bl_bytes);
		rec_u64(s, "rp_filter_reverts", e->rp_reverts);
		rec_u64(s, "flow_inserts", v.flow_inserts);
		rec_u64m(s, "flow_evictions", v.flow_evictions,
		    &report_metrics[M_ENI_FLOW_EVICTIONS]);
		rec_u64(s, "flow_expired", v.flow_expired);
		rec_u64(s, "flow_refused", v.flow_refused);
		rec_str(s, "offloads", tun_offloads_str(e->offloads, offl, sizeof(offl)));
	}
	rec_end(s);
}

struct eni_walk {
	struct rec_sink	*s;
	uint64_t	 now;
	bool		 detail;
};

static void
eni_walk(struct eni *e, void *arg)
{
	struct eni_walk *w = arg;

	report_eni(w->s, e, w->now, w->detail);
}

void
report_enis(struct rec_sink *s, uint64_t now, bool detail)
{
	struct eni_walk w = { s, now, detail };

	rec_list_begin(s, "eni");
	eni_foreach(eni_walk, &w);
	rec_list_end(s, "eni");
}
