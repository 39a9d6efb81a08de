/*
 * The producers of records (report.h, record.h): status, workers, drops and ENIs, each the one
 * place where its field names, types and metrics are written down.
 * gwlbctl (show status, show workers, show drops, show enis, show eni) and
 * the health port (text, JSON, /metrics) all call these.  Field names are
 * part of the interface (scripts read them with gwlbctl -j, dashboards
 * scrape /metrics): change them only by adding new ones.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"
#include "clock.h"
#include "ctl_server.h"
#include "eni_table.h"
#include "event.h"
#include "route.h"
#include "state.h"
#include "worker.h"
#include "hook.h"
#include "name.h"
#include "nh_table.h"
#include "nl_cache.h"
#include "report.h"
#include "stats.h"
#include "tun.h"

/* A worker whose loop has not turned for this long makes the daemon unhealthy. */

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
	M_BUILD_INFO, M_START_TIME, M_HOOKS_STARTED, M_HOOKS_OK, M_HOOKS_FAILED,
	M_FLOWS, M_FLOWS_CAPACITY, M_RP_REVERTS, M_LINKS_LOST,
	M_DRAINING, M_ENI_UP, M_ENI_FLOWS_CAPACITY,
	M_HOOK_DUR, M_HOOK_DUR_BUCKET, M_HOOK_DUR_SUM, M_HOOK_DUR_COUNT,
	M_ENI_DROPS_BY_REASON, M_GRO_REFUSED_BY_REASON,
	M_USO_SUPER, M_USO_SEGMENTS, M_USO_FALLBACK, M_USO_FALLBACK_BY_REASON,
	M_HC_SERVED, M_HC_EVICTED, M_HC_TIMED_OUT, M_HC_ACCEPT_ERRORS,
	M_CTL_BAD, M_CTL_REFUSED,
	M_MIRROR_OBJECTS, M_MIRROR_OVERFLOWS,
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
	[M_BUILD_INFO] = { "gwlbtun_build_info", "gauge",
	    "Always 1; the label says which gwlbtund answers.", { { "version", "version" } } },
	[M_START_TIME] = { "gwlbtun_start_time_seconds", "gauge",
	    "When gwlbtund started, seconds since the Unix epoch.", { { NULL, NULL } } },
	[M_HOOKS_STARTED] = { "gwlbtun_hooks_started_total", "counter",
	    "Hook runs started (CREATE and DESTROY).", { { NULL, NULL } } },
	[M_HOOKS_OK] = { "gwlbtun_hooks_ok_total", "counter",
	    "Hook runs that exited 0.", { { NULL, NULL } } },
	[M_HOOKS_FAILED] = { "gwlbtun_hooks_failed_total", "counter",
	    "Hook runs that failed: exit status not 0, killed, or not started.",
	    { { NULL, NULL } } },
	[M_FLOWS] = { "gwlbtun_flows", "gauge",
	    "Flows in the flow tables of every ENI.", { { NULL, NULL } } },
	[M_FLOWS_CAPACITY] = { "gwlbtun_flows_capacity", "gauge",
	    "Flows the ENIs' tables can hold together (ENIs x --max-flows).",
	    { { NULL, NULL } } },
	[M_RP_REVERTS] = { "gwlbtun_rp_filter_reverts_total", "counter",
	    "rp_filter found turned on on a link of ours and set back to 0.",
	    { { NULL, NULL } } },
	[M_LINKS_LOST] = { "gwlbtun_links_lost_total", "counter",
	    "Links of ours deleted behind our back (their ENI is recreated).",
	    { { NULL, NULL } } },
	[M_DRAINING] = { "gwlbtun_draining", "gauge",
	    "1 after gwlbctl drain: the health check answers 503, traffic flows on.",
	    { { NULL, NULL } } },
	[M_ENI_UP] = { "gwlbtun_eni_up", "gauge",
	    "1 when this ENI is up and its gwi- link is up.", ENI_LABELS },
	[M_ENI_FLOWS_CAPACITY] = { "gwlbtun_eni_flows_capacity", "gauge",
	    "Flows this ENI's flow table can hold (--max-flows).", ENI_LABELS },
	[M_HOOK_DUR] = { "gwlbtun_hook_duration_seconds", "histogram",
	    "How long hook runs took, start to exit or kill.", { { NULL, NULL } } },
	[M_HOOK_DUR_BUCKET] = { "gwlbtun_hook_duration_seconds_bucket", NULL, NULL,
	    { { "le", "le" } } },
	[M_HOOK_DUR_SUM] = { "gwlbtun_hook_duration_seconds_sum", NULL, NULL,
	    { { NULL, NULL } } },
	[M_HOOK_DUR_COUNT] = { "gwlbtun_hook_duration_seconds_count", NULL, NULL,
	    { { NULL, NULL } } },
	[M_ENI_DROPS_BY_REASON] = { "gwlbtun_eni_drops_by_reason_total", "counter",
	    "Packets of this ENI dropped, by reason (the reasons this ENI has had).",
	    { { "eni", "eni" }, { "reason", "reason" } } },
	[M_GRO_REFUSED_BY_REASON] = { "gwlbtun_gro_refused_by_reason_total", "counter",
	    "Inner packets not merged with the one before them (--offload), by reason.",
	    { { "reason", "reason" } } },
	[M_USO_SUPER] = { "gwlbtun_uso_super_packets_total", "counter",
	    "Super-packets sent back to GWLB in one packet socket write (--offload).",
	    { { NULL, NULL } } },
	[M_USO_SEGMENTS] = { "gwlbtun_uso_segments_total", "counter",
	    "The segments they carried, one GENEVE datagram each on the wire.",
	    { { NULL, NULL } } },
	[M_USO_FALLBACK] = { "gwlbtun_uso_fallback_total", "counter",
	    "Super-packets sent by the raw socket instead, one datagram per segment.",
	    { { NULL, NULL } } },
	[M_USO_FALLBACK_BY_REASON] = { "gwlbtun_uso_fallback_by_reason_total", "counter",
	    "Super-packets sent by the raw socket instead, by reason.",
	    { { "reason", "reason" } } },
	[M_HC_SERVED] = { "gwlbtun_health_served_total", "counter",
	    "Health check and /metrics requests answered.", { { NULL, NULL } } },
	[M_HC_EVICTED] = { "gwlbtun_health_evicted_total", "counter",
	    "Health check connections closed to make room for a new one.", { { NULL, NULL } } },
	[M_HC_TIMED_OUT] = { "gwlbtun_health_timed_out_total", "counter",
	    "Health check connections closed at their deadline.", { { NULL, NULL } } },
	[M_HC_ACCEPT_ERRORS] = { "gwlbtun_health_accept_errors_total", "counter",
	    "Health check accept() failures (out of descriptors or memory).",
	    { { NULL, NULL } } },
	[M_CTL_BAD] = { "gwlbtun_control_bad_messages_total", "counter",
	    "Control socket messages refused as malformed, oversized or unknown.",
	    { { NULL, NULL } } },
	[M_CTL_REFUSED] = { "gwlbtun_control_refused_total", "counter",
	    "Control clients or commands refused: too many clients, or no permission.",
	    { { NULL, NULL } } },
	[M_MIRROR_OBJECTS] = { "gwlbtun_mirror_objects", "gauge",
	    "Links, addresses, routes and rules in the kernel's mirror (at most --max-mirror).",
	    { { NULL, NULL } } },
	[M_MIRROR_OVERFLOWS] = { "gwlbtun_mirror_overflows_total", "counter",
	    "Times the kernel's mirror went past --max-mirror and was turned off.",
	    { { NULL, NULL } } },
};
_Static_assert(sizeof(report_metrics) / sizeof(report_metrics[0]) == M__MAX, "report_metrics");
const size_t report_metrics_count = M__MAX;

/* gwlbctl drain: the health check says 503 so GWLB moves new flows away,
 * while everything else goes on. */
static atomic_bool draining;

bool
report_drain(bool on)
{
	return atomic_exchange(&draining, on);
}

bool
report_draining(void)
{
	return atomic_load(&draining);
}

struct down_walk {
	char	*why;
	size_t	 len;
	bool	 found;
};

static void
down_walk(struct eni *e, void *arg)
{
	struct down_walk *w = arg;

	if (w->found || !stats_eni_link_down(e))
		return;
	w->found = true;
	snprintf(w->why, w->len, "eni %s: link %s down", e->hex, e->if_in);
}

bool
report_healthy(uint64_t now, const char **why)
{
	/* The reason names an ENI: the caller's thread's own buffer. */
	static _Thread_local char buf[96];
	struct down_walk dw = { buf, sizeof(buf), false };
	const char *w = "ok";
	bool ok = true;

	if (atomic_load(&D.stopping)) {
		w = "shutting down";
		ok = false;
	} else if (stats_stuck_workers(now, STATS_STUCK_NS)) {
		w = "a worker has stopped turning";
		ok = false;
	} else if (atomic_load(&draining)) {
		w = "draining";
		ok = false;
	} else {
		eni_foreach(down_walk, &dw);
		if (dw.found) {
			w = buf;
			ok = false;
		}
	}
	if (why)
		*why = w;
	return ok;
}

struct flow_sum {
	uint64_t	entries, tables;
};

static void
flow_sum(struct eni *e, void *arg)
{
	struct flow_stats fs = { 0 };
	struct flow_sum *sum = arg;

	if (!e->flows)
		return;
	flow_table_stats(e->flows, &fs);
	sum->entries += fs.entries;
	sum->tables++;
}

/* The flow tables together (each ENI's are in its record).  Evictions are
 * per ENI only: a sum over the ENIs there are would go down when one goes. */
static void
report_flows(struct rec_sink *s)
{
	struct flow_sum sum = { 0 };

	eni_foreach(flow_sum, &sum);
	rec_u64m(s, "flows", sum.entries, &report_metrics[M_FLOWS]);
	rec_u64m(s, "flows_capacity", sum.tables * conf.max_flows_per_eni,
	    &report_metrics[M_FLOWS_CAPACITY]);
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

/* The return path's packet socket (--offload): what it sent, why not, its next hops. */
static void
report_uso(struct rec_sink *s, const struct stats_snap *tun)
{
	uint64_t fb = 0;

	rec_u64m(s, "uso_super_packets", tun->uso_super, &report_metrics[M_USO_SUPER]);
	rec_u64m(s, "uso_segments", tun->uso_segments, &report_metrics[M_USO_SEGMENTS]);
	for (int r = 0; r < USO_FB__MAX; r++)
		fb += tun->uso_fallback[r];
	rec_u64m(s, "uso_fallback", fb, &report_metrics[M_USO_FALLBACK]);
	for (int r = 0; r < USO_FB__MAX; r++) {
		char key[64];

		snprintf(key, sizeof(key), "uso_fallback_%s", uso_fallback_name(r));
		for (char *c = key; *c; c++)
			if (*c == '-')
				*c = '_';
		rec_u64(s, key, tun->uso_fallback[r]);
	}
	rec_u64(s, "uso_nexthops", nh_table_in_use());
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
	rec_u64m(s, "hooks_started", h.started, &report_metrics[M_HOOKS_STARTED]);
	rec_u64m(s, "hooks_ok", h.ok, &report_metrics[M_HOOKS_OK]);
	rec_u64m(s, "hooks_failed", h.failed, &report_metrics[M_HOOKS_FAILED]);
	rec_u64m(s, "hooks_timed_out", h.timed_out, &report_metrics[M_HOOKS_TIMED_OUT]);
	rec_u64(s, "hook_lines_unlogged", h.lines_unlogged);
	rec_u64(s, "fds_needed", D.fd_need);
	rec_u64(s, "fds_limit", D.fd_limit);
}

/*
 * The health check's connections and the control socket's clients
 * (gwlbtund(8), RESOURCE LIMITS): records of their own after status (a
 * record holds at most 64 fields), at the top level of the JSON page.
 */
/*
 * The kernel's mirror (nl_cache.h; gwlbtund(8), RESOURCE LIMITS): on, or
 * off past --max-mirror (or none: it could not be opened).
 */
static void
report_mirror(struct rec_sink *s)
{
	struct nlc_status m;

	nlc_status(&m);
	rec_begin(s, "mirror");
	rec_str(s, "mirror_state", !m.open ? "none" : m.on ? "on" : "off");
	rec_u64(s, "max_mirror", conf.max_mirror);
	rec_u64m(s, "mirror_objects", m.objects, &report_metrics[M_MIRROR_OBJECTS]);
	rec_u64m(s, "mirror_overflows", m.overflows, &report_metrics[M_MIRROR_OVERFLOWS]);
	rec_u64(s, "mirror_dumps", m.dumps);
	rec_end(s);
}

static void
report_health_conns(struct rec_sink *s)
{
	rec_begin(s, "health");
	rec_u64m(s, "health_served", atomic_load(&D.health.served), &report_metrics[M_HC_SERVED]);
	rec_u64(s, "health_bad_requests", atomic_load(&D.health.bad_requests));
	rec_u64m(s, "health_evicted", atomic_load(&D.health.evicted), &report_metrics[M_HC_EVICTED]);
	rec_u64m(s, "health_timed_out", atomic_load(&D.health.timed_out),
	    &report_metrics[M_HC_TIMED_OUT]);
	rec_u64(s, "health_refused", atomic_load(&D.health.refused));
	rec_u64m(s, "health_accept_errors", atomic_load(&D.health.accept_errors),
	    &report_metrics[M_HC_ACCEPT_ERRORS]);
	rec_end(s);
}

/* Zeros before the control server runs. */
static void
report_control(struct rec_sink *s)
{
	struct ctl_server *srv = atomic_load(&D.ctl);
	struct ctl_server_stats cs = { 0 };

	if (srv)
		ctl_server_stats(srv, &cs);
	rec_begin(s, "control");
	rec_u64(s, "control_clients", cs.clients);
	rec_u64(s, "control_accepted", cs.accepted);
	rec_u64(s, "control_commands", cs.commands);
	rec_u64(s, "control_errors", cs.errors);
	rec_u64m(s, "control_bad_messages", cs.bad_messages, &report_metrics[M_CTL_BAD]);
	rec_u64m(s, "control_refused", cs.refused, &report_metrics[M_CTL_REFUSED]);
	rec_u64(s, "control_dropped", cs.dropped);
	rec_u64(s, "control_overflows", cs.overflows);
	/* gwlbctl monitor: its subscribers, the events posted, and those lost
	 * to subscribers that fell a ring behind. */
	rec_u64(s, "monitor_subscribers", cs.subscribers);
	rec_u64(s, "events_posted", event_posted());
	rec_u64(s, "events_lost", cs.events_lost);
	rec_end(s);
}

void
report_status(struct rec_sink *s, uint64_t now)
{
	struct stats_snap rx, tun, all;
	const char *why;

	stats_kind(WORKER_RX, s->raw, &rx);
	stats_kind(WORKER_REPLY, s->raw, &tun);
	stats_kind(-1, s->raw, &all);
	rec_begin(s, "status");
	rec_str(s, "version", PACKAGE_VERSION);
	rec_metric_only(s, "build_info", 1, &report_metrics[M_BUILD_INFO]);
	rec_u64(s, "pid", (uint64_t)getpid());
	rec_u64m(s, "start_time_s", (uint64_t)D.started_wall, &report_metrics[M_START_TIME]);
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
	rec_u64m(s, "rp_filter_reverts", atomic_load(&D.rp_reverts),
	    &report_metrics[M_RP_REVERTS]);
	rec_u64m(s, "links_lost", atomic_load(&D.links_lost), &report_metrics[M_LINKS_LOST]);
	rec_u64m(s, "netlink_resyncs", atomic_load(&D.nl_resyncs), &report_metrics[M_NL_RESYNCS]);
	rec_u64m(s, "routes_restored", atomic_load(&D.routes_restored),
	    &report_metrics[M_ROUTES_RESTORED]);
	rec_u64m(s, "rules_restored", atomic_load(&D.rules_restored),
	    &report_metrics[M_RULES_RESTORED]);
	report_flows(s);
	report_limits(s);
	/* --offload: the links' virtio_net_hdr and TUN offloads (show eni has
	 * what each link's kernel took); super-packets read, segments sent. */
	rec_bool(s, "offload", conf.offload);
	rec_u64m(s, "gso_super_packets", tun.gso_super, &report_metrics[M_GSO_SUPER]);
	rec_u64m(s, "gso_segments", tun.gso_segments, &report_metrics[M_GSO_SEGMENTS]);
	report_uso(s, &tun);
	rec_boolm(s, "draining", report_draining(), &report_metrics[M_DRAINING]);
	rec_boolm(s, "healthy", report_healthy(now, &why), &report_metrics[M_HEALTHY]);
	rec_str(s, "health_reason", why);
	rec_end(s);
	report_health_conns(s);
	report_control(s);
	report_mirror(s);
}

void
report_hook_durations(struct rec_sink *s)
{
	struct hook_counts h;
	uint64_t cum = 0;
	char le[32];

	hook_counts(&h);
	for (int b = 0; b <= HOOK_DUR_BUCKETS; b++) {
		cum += h.dur_bucket[b];
		if (b < HOOK_DUR_BUCKETS)
			snprintf(le, sizeof(le), "%g", hook_duration_le[b]);
		else
			snprintf(le, sizeof(le), "+Inf");
		rec_begin(s, "hook_duration");
		rec_str(s, "le", le);
		rec_metric_only(s, "count", cum, &report_metrics[M_HOOK_DUR_BUCKET]);
		rec_end(s);
	}
	rec_begin(s, "hook_duration");
	snprintf(le, sizeof(le), "%.6f", (double)h.dur_sum_ns / 1e9);
	s->ops->field(s, &(struct rec_field){ "sum", REC_STR, { .str = le },
	    &report_metrics[M_HOOK_DUR_SUM], true });
	rec_metric_only(s, "count", cum, &report_metrics[M_HOOK_DUR_COUNT]);
	rec_end(s);
}

static void
eni_drops_walk(struct eni *e, void *arg)
{
	struct rec_sink *s = arg;

	for (int d = 0; d < DROP__MAX; d++) {
		uint64_t n = atomic_load_explicit(&e->drop_by[d], memory_order_relaxed);

		if (!n)
			continue;
		rec_begin(s, "eni_drop");
		rec_str(s, "eni", e->hex);
		rec_str(s, "reason", drop_str((enum drop_reason)d));
		rec_metric_only(s, "count", n, &report_metrics[M_ENI_DROPS_BY_REASON]);
		rec_end(s);
	}
}

void
report_eni_drops(struct rec_sink *s)
{
	eni_foreach(eni_drops_walk, s);
}

void
report_gro_refused(struct rec_sink *s)
{
	struct stats_snap rx;

	stats_kind(WORKER_RX, s->raw, &rx);
	for (int r = 0; r < GRO_R__MAX; r++) {
		rec_begin(s, "gro_refused");
		rec_str(s, "reason", gro_refuse_str((enum gro_refuse)r));
		rec_metric_only(s, "count", rx.gro.refused[r],
		    &report_metrics[M_GRO_REFUSED_BY_REASON]);
		rec_end(s);
	}
}

void
report_uso_fallback(struct rec_sink *s)
{
	struct stats_snap tun;

	stats_kind(WORKER_REPLY, s->raw, &tun);
	for (int r = 0; r < USO_FB__MAX; r++) {
		rec_begin(s, "uso_fallback");
		rec_str(s, "reason", uso_fallback_name(r));
		rec_metric_only(s, "count", tun.uso_fallback[r],
		    &report_metrics[M_USO_FALLBACK_BY_REASON]);
		rec_end(s);
	}
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

		stats_worker(w, s->raw, &st);
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

	stats_kind(-1, s->raw, &all);
	for (unsigned i = 0; i < total; i++) {
		memset(&per[i], 0, sizeof(per[i]));
		stats_worker(&D.workers[i], s->raw, &per[i]);
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

	eni_view(e, now, s->raw, &v);
	rec_begin(s, "eni");
	rec_str(s, "eni", e->hex);
	/* The same id as AWS names the GWLB endpoint. */
	rec_strf(s, "vpce", "vpce-%s", e->hex);
	rec_str(s, "if_in", e->if_in);
	rec_str(s, "if_out", e->if_out);
	rec_str(s, "state", v.state);
	rec_metric_only(s, "up", strcmp(v.state, "up") == 0, &report_metrics[M_ENI_UP]);
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
	if (e->flows)
		rec_metric_only(s, "flows_capacity", conf.max_flows_per_eni,
		    &report_metrics[M_ENI_FLOWS_CAPACITY]);
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
		rec_u64(s, "ifindex_in", (uint64_t)ENI_GET(e->ifindex_in));
		rec_u64(s, "ifindex_out", (uint64_t)ENI_GET(e->ifindex_out));
		rec_u64(s, "queues", e->nqueues);
		rec_str(s, "hook_state", hook_state_str((enum hook_state)ENI_GET(e->hook_state)));
		rec_u64(s, "hook_runs", ENI_GET(e->hook_runs));
		rec_u64(s, "hook_failures", ENI_GET(e->hook_failures));
		rec_u64(s, "backlog", __atomic_load_n(&e->bl_len, __ATOMIC_RELAXED));
		rec_u64(s, "backlog_bytes", __atomic_load_n(&e->bl_bytes, __ATOMIC_RELAXED));
		rec_u64(s, "rp_filter_reverts", ENI_GET(e->rp_reverts));
		rec_u64(s, "flow_inserts", v.flow_inserts);
		rec_u64m(s, "flow_evictions", v.flow_evictions,
		    &report_metrics[M_ENI_FLOW_EVICTIONS]);
		rec_u64(s, "flow_expired", v.flow_expired);
		rec_u64(s, "flow_refused", v.flow_refused);
		rec_str(s, "offloads", tun_offloads_str(ENI_GET(e->offloads), offl, sizeof(offl)));
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

/* --- gwlbctl doctor ------------------------------------------------------ */

/*
 * The facts `gwlbctl doctor` judges, gathered here because the daemon
 * is in the right network namespace: rp_filter and forwarding are per
 * namespace, and so are the links.  A sysctl that cannot be read is left
 * out (gwlbctl says so), never reported as 0.
 */
static void
rec_sysctl(struct rec_sink *s, const char *key, const char *path)
{
	char buf[64];
	long long v;
	FILE *f;

	if (!(f = fopen(path, "re")))
		return;
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%lld", &v) == 1)
		rec_s64(s, key, v);
	fclose(f);
}

static void
doctor_link(struct rec_sink *s, struct eni *e, const char *link, const char *side)
{
	char path[128], offl[128];

	rec_begin(s, "link");
	rec_str(s, "link", link);
	rec_str(s, "side", side);
	rec_str(s, "eni", e->hex);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", link);
	rec_sysctl(s, "rp_filter", path);
	rec_str(s, "offloads", tun_offloads_str(ENI_GET(e->offloads), offl, sizeof(offl)));
	rec_end(s);
}

static void
doctor_walk(struct eni *e, void *arg)
{
	struct rec_sink *s = arg;

	if (atomic_load(&e->state) != ENI_UP)
		return;
	doctor_link(s, e, e->if_in, "in");
	if (!conf.no_return)
		doctor_link(s, e, e->if_out, "out");
}

void
report_doctor(struct rec_sink *s)
{
	struct stats_snap all;

	stats_kind(-1, true, &all);	/* raw: a counters reset between two looks is no drop */
	rec_begin(s, "doctor");
	rec_u64(s, "pid", (uint64_t)getpid());
	rec_str(s, "mode", conf.no_return ? "no-return" : "return");
	rec_u64(s, "rcvbuf_asked", conf.rcvbuf);
	rec_u64(s, "rcvbuf_granted", D.n_rx ? (uint64_t)D.workers[0].rcvbuf_granted : 0);
	rec_u64(s, "busy_poll_asked", conf.busy_poll_us);
	rec_u64(s, "busy_poll_granted", D.n_rx ? (uint64_t)D.workers[0].busy_poll_granted : 0);
	rec_u64(s, "rx_workers", D.n_rx);
	rec_u64(s, "kernel_drops", all.kernel_drops);
	rec_u64(s, "max_enis", conf.max_enis);
	rec_u64(s, "fds_needed", D.fd_need);
	rec_u64(s, "fds_limit", D.fd_limit);
	rec_bool(s, "offload", conf.offload);
	rec_sysctl(s, "net.core.rmem_max", "/proc/sys/net/core/rmem_max");
	rec_sysctl(s, "net.core.rmem_default", "/proc/sys/net/core/rmem_default");
	rec_sysctl(s, "net.core.netdev_max_backlog", "/proc/sys/net/core/netdev_max_backlog");
	rec_sysctl(s, "net.core.busy_read", "/proc/sys/net/core/busy_read");
	rec_sysctl(s, "net.core.busy_poll", "/proc/sys/net/core/busy_poll");
	rec_sysctl(s, "net.ipv4.conf.all.rp_filter", "/proc/sys/net/ipv4/conf/all/rp_filter");
	rec_sysctl(s, "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward");
	rec_sysctl(s, "net.ipv6.conf.all.forwarding", "/proc/sys/net/ipv6/conf/all/forwarding");
	rec_end(s);
	rec_list_begin(s, "link");
	eni_foreach(doctor_walk, s);
	rec_list_end(s, "link");
}
