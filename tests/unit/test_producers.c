/*
 * Unit tests for the producers of daemon/report.c, linked with the real
 * sums (stats.c), drop names (drop.c) and sinks (record.c) over a
 * fake daemon: two workers and one ENI, no sockets, no root.
 *
 * They pin what scripts and dashboards read: the control records' types
 * and field names in order, the /metrics family names and labels, and
 * that the health page's JSON, text and /metrics show the values the
 * control records carry (idle_s in whole seconds everywhere).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eni_table.h"
#include "flow.h"
#include "hook.h"
#include "nl_cache.h"
#include "record.h"
#include "report.h"
#include "route.h"
#include "state.h"
#include "stats.h"
#include "worker.h"

/* --- the fake daemon --------------------------------------------------------- */

struct daemon_state D;
struct config conf;

static struct worker workers[2];
static struct eni eni0;
static struct eni_stats eni0_stats;
static unsigned n_enis;

#define NOW	(1000ull * 1000000000ull)

unsigned
eni_count(void)
{
	return n_enis;
}

unsigned
eni_held(void)
{
	return n_enis + 1;	/* one on its way out */
}

uint64_t
eni_backlog_bytes(void)
{
	return 12345;
}

void
hook_counts(struct hook_counts *c)
{
	*c = (struct hook_counts){ .running = 8, .queued = 3, .waited = 11, .started = 20,
	    .ok = 17, .failed = 1, .timed_out = 2, .lines_unlogged = 0,
	    /* 12 runs: 0.05 s or less, 3 up to 0.1 s, ..., 2 past 30 s */
	    .dur_bucket = { 5, 3, 0, 0, 1, 0, 1, 0, 0, 2 }, .dur_sum_ns = 123456789012ull };
}

void
nlc_status(struct nlc_status *st)
{
	*st = (struct nlc_status){ .open = true, .on = false, .objects = 4321, .max = 4000,
	    .overflows = 2, .dumps = 5 };
}

const double hook_duration_le[HOOK_DUR_BUCKETS] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

void
eni_foreach(void (*fn)(struct eni *, void *), void *arg)
{
	if (n_enis)
		fn(&eni0, arg);
}

void
eni_stats_sum(const struct eni *e, bool raw, struct eni_stats *out)
{
	/* As the real one: the counters, less the base of the last reset
	 * unless raw. */
	uint64_t k = raw ? 0 : 1;

	memset(out, 0, sizeof(*out));
	atomic_store(&out->pkts_in, STAT_GET(eni0_stats.pkts_in) - k * STAT_GET(e->base.pkts_in));
	atomic_store(&out->bytes_in, STAT_GET(eni0_stats.bytes_in) - k * STAT_GET(e->base.bytes_in));
	atomic_store(&out->pkts_out, STAT_GET(eni0_stats.pkts_out) - k * STAT_GET(e->base.pkts_out));
	atomic_store(&out->bytes_out, STAT_GET(eni0_stats.bytes_out) -
	    k * STAT_GET(e->base.bytes_out));
	atomic_store(&out->drops, STAT_GET(eni0_stats.drops) - k * STAT_GET(e->base.drops));
}

uint64_t
eni_idle_ns(const struct eni *e, uint64_t now)
{
	(void)e;
	(void)now;
	return 3700000000ull;	/* 3.7 s: shown as 3 everywhere */
}

uint32_t
route_eni_table(uint64_t id)
{
	(void)id;
	return 0;
}

/* The reports ask the kernel nothing per ENI (-Wl,--wrap=ioctl): a link's
 * up or down comes from netlink events, once per change. */
static unsigned n_ioctl;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int
__wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *p;

	va_start(ap, req);
	p = va_arg(ap, void *);
	va_end(ap);
	n_ioctl++;
	return __real_ioctl(fd, req, p);
}

const char *
hook_state_str(enum hook_state s)
{
	return s == HOOK_OK ? "ok" : "other";
}

static int
setup(void **state)
{
	(void)state;
	memset(&D, 0, sizeof(D));
	memset(&conf, 0, sizeof(conf));
	memset(workers, 0, sizeof(workers));
	D.workers = workers;
	D.n_rx = 1;
	D.n_tun = 1;
	D.started_ns = NOW - 42ull * 1000000000ull;
	D.started_wall = 1700000000;
	atomic_store(&D.nl_resyncs, 2);
	atomic_store(&D.routes_restored, 6);
	atomic_store(&D.rules_restored, 3);
	conf.geneve_port = 6081;
	conf.max_flows_per_eni = 16;
	report_drain(false);
	workers[0].kind = WORKER_RX;
	workers[0].cpu = 2;
	workers[0].tid = 1001;
	workers[1].kind = WORKER_REPLY;
	workers[1].cpu = -1;
	workers[1].tid = 1002;
	STAT_ADD(workers[0].stats.packets, 100);
	STAT_ADD(workers[0].stats.bytes, 15000);
	STAT_ADD(workers[0].stats.delivered, 97);
	STAT_ADD(workers[0].stats.kernel_drops, 5);
	STAT_ADD(workers[0].stats.drops[DROP_TRUNCATED], 3);
	STAT_ADD(workers[0].stats.gro.buffers, 4);
	STAT_ADD(workers[0].stats.gro.coalesced, 60);
	STAT_ADD(workers[0].stats.gro.super, 7);
	STAT_ADD(workers[0].stats.gro.refused[GRO_R_SEQ], 2);
	STAT_ADD(workers[0].stats.gro.refused[GRO_R_TAG], 1);
	STAT_ADD(workers[1].stats.packets, 40);
	STAT_ADD(workers[1].stats.delivered, 38);
	STAT_ADD(workers[1].stats.drops[DROP_NO_FLOW], 2);
	STAT_ADD(workers[1].stats.uso_super, 3);
	STAT_ADD(workers[1].stats.uso_segments, 90);
	STAT_ADD(workers[1].stats.uso_fallback[USO_FB_UNRESOLVED], 4);
	STAT_ADD(workers[1].stats.uso_fallback[USO_FB_SEND], 1);

	memset(&eni0, 0, sizeof(eni0));
	memset(&eni0_stats, 0, sizeof(eni0_stats));
	eni0.id = 0xa1;
	snprintf(eni0.hex, sizeof(eni0.hex), "%017x", 0xa1);
	snprintf(eni0.if_in, sizeof(eni0.if_in), "gwi-2Z");
	snprintf(eni0.if_out, sizeof(eni0.if_out), "gwo-2Z");
	atomic_store(&eni0.state, ENI_UP);
	eni0.hook_state = HOOK_OK;
	STAT_ADD(eni0_stats.pkts_in, 97);
	STAT_ADD(eni0_stats.pkts_out, 38);
	atomic_store(&eni0.drop_by[DROP_TUN_WRITE], 4);
	atomic_store(&eni0.drop_by[DROP_ENI_CLOSING], 1);
	eni0.flows = flow_table_new(conf.max_flows_per_eni);
	assert_non_null(eni0.flows);
	n_enis = 1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	flow_table_free(eni0.flows);
	eni0.flows = NULL;
	return 0;
}

/* --- a sink that keeps the shape: "type: key key ..." per record --------- */

struct shape {
	struct rec_sink	 s;
	char		 out[8192];
	size_t		 len;
	int		 lists;		/* open lists */
};

static void
sh_list_begin(struct rec_sink *s, const char *type)
{
	(void)type;
	((struct shape *)(void *)s)->lists++;
}

static void
sh_list_end(struct rec_sink *s, const char *type)
{
	(void)type;
	((struct shape *)(void *)s)->lists--;
}

static void
sh_add(struct shape *sh, const char *text)
{
	size_t n = strlen(text);

	assert_true(sh->len + n < sizeof(sh->out));
	memcpy(sh->out + sh->len, text, n + 1);
	sh->len += n;
}

static void
sh_begin(struct rec_sink *s, const char *type)
{
	struct shape *sh = (struct shape *)(void *)s;

	sh_add(sh, type);
	sh_add(sh, ":");
}

static void
sh_field(struct rec_sink *s, const struct rec_field *f)
{
	static const char *const t[] = { "u", "s", "str", "b" };
	struct shape *sh = (struct shape *)(void *)s;

	if (f->metric_only)
		return;		/* as the control sink: /metrics only */
	sh_add(sh, " ");
	sh_add(sh, f->key);
	sh_add(sh, "/");
	sh_add(sh, t[f->type]);
}

static void
sh_end(struct rec_sink *s)
{
	sh_add((struct shape *)(void *)s, "\n");
}

static int
sh_finish(struct rec_sink *s)
{
	(void)s;
	return 0;
}

static const struct rec_sink_ops shape_ops = {
	sh_list_begin, sh_list_end, sh_begin, sh_field, sh_end, sh_finish,
};

static void
test_control_record_shapes(void **state)
{
	struct shape sh = { .s = { &shape_ops } };

	(void)state;
	report_status(&sh.s, NOW);
	report_workers(&sh.s, NOW);
	report_eni(&sh.s, &eni0, NOW, false);
	report_eni(&sh.s, &eni0, NOW, true);
	assert_int_equal(sh.lists, 0);
	assert_string_equal(sh.out,
	    "status: version/str pid/u start_time_s/u uptime_s/u mode/str rx_workers/u tun_workers/u port/u "
	    "rcvbuf_bytes/u busy_poll_us/u enis/u packets_in/u bytes_in/u delivered/u "
	    "packets_out/u bytes_out/u drops/u kernel_drops/u gro_buffers/u gro_coalesced/u "
	    "gro_super_packets/u gro_refused/u gro_refused_not_tcp/u gro_refused_ip_options/u "
	    "gro_refused_fragment/u gro_refused_malformed/u gro_refused_tcp_flags/u "
	    "gro_refused_no_payload/u gro_refused_bad_checksum/u gro_refused_geneve_header/u "
	    "gro_refused_header_differs/u gro_refused_seq_gap/u gro_refused_ip_id/u "
	    "gro_refused_psh/u gro_refused_segment_size/u gro_refused_full/u "
	    "rp_filter_reverts/u links_lost/u netlink_resyncs/u routes_restored/u "
	    "rules_restored/u flows/u flows_capacity/u max_enis/u enis_held/u "
	    "backlog_bytes_max/u backlog_bytes/u max_hooks/u hooks_running/u hooks_queued/u "
	    "hooks_waited/u hooks_started/u hooks_ok/u hooks_failed/u hooks_timed_out/u "
	    "hook_lines_unlogged/u fds_needed/u fds_limit/u offload/b gso_super_packets/u "
	    "gso_segments/u uso_super_packets/u uso_segments/u uso_fallback/u "
	    "uso_fallback_unresolved/u uso_fallback_not_ethernet/u uso_fallback_too_big/u "
	    "uso_fallback_one_segment/u uso_fallback_partial/u uso_fallback_send_error/u "
	    "uso_fallback_no_kernel_uso/u uso_nexthops/u "
	    "draining/b healthy/b health_reason/str\n"
	    "health: health_served/u health_bad_requests/u health_evicted/u "
	    "health_timed_out/u health_refused/u health_accept_errors/u\n"
	    "control: control_clients/u control_accepted/u control_commands/u "
	    "control_errors/u control_bad_messages/u control_refused/u control_dropped/u "
	    "control_overflows/u monitor_subscribers/u events_posted/u events_lost/u\n"
	    "mirror: mirror_state/str max_mirror/u mirror_objects/u mirror_overflows/u "
	    "mirror_dumps/u\n"
	    "worker: id/u kind/str cpu/s tid/u packets/u bytes/u batches/u delivered/u "
	    "drops/u kernel_drops/u idle_ms/u\n"
	    "worker: id/u kind/str cpu/s tid/u packets/u bytes/u batches/u delivered/u "
	    "drops/u kernel_drops/u idle_ms/u\n"
	    "eni: eni/str vpce/str if_in/str if_out/str state/str pps_in/u bps_in/u "
	    "pps_out/u bps_out/u packets_in/u bytes_in/u "
	    "packets_out/u bytes_out/u drops/u flows/u table/u idle_s/u\n"
	    "eni: eni/str vpce/str if_in/str if_out/str state/str pps_in/u bps_in/u "
	    "pps_out/u bps_out/u packets_in/u bytes_in/u "
	    "packets_out/u bytes_out/u drops/u flows/u table/u idle_s/u attachment/str "
	    "created/str ifindex_in/u ifindex_out/u queues/u hook_state/str hook_runs/u "
	    "hook_failures/u backlog/u backlog_bytes/u rp_filter_reverts/u flow_inserts/u flow_evictions/u "
	    "flow_expired/u flow_refused/u offloads/str\n");
}

/* The rates of an ENI: one sample a second at most, the growth since the
 * oldest of the last ENI_RATE_SAMPLES, a reset of the counters in between
 * changing nothing. */
static void
test_eni_rates(void **state)
{
	const uint64_t s = 1000000000ull, t0 = NOW;
	struct eni_view v;

	(void)state;
	memset(&eni0_stats, 0, sizeof(eni0_stats));
	/* Younger than a sample: since it appeared, 0.5 s ago. */
	eni0.created_ns = t0 - s / 2;
	STAT_ADD(eni0_stats.pkts_in, 500);
	STAT_ADD(eni0_stats.bytes_in, 50000);
	eni_view(&eni0, t0, false, &v);
	assert_int_equal(v.pps_in, 1000);
	assert_int_equal(v.bps_in, 800000);
	assert_int_equal(v.pps_out, 0);

	/* 1000 packets of 100 bytes in a second, 10 out, for 10 seconds,
	 * sampled every 0.5 s (as the manager's timer would ask; a sample is
	 * taken once a second). */
	for (uint64_t t = t0; t <= t0 + 10 * s; t += s / 2) {
		stats_rates_tick(t);
		STAT_ADD(eni0_stats.pkts_in, 500);
		STAT_ADD(eni0_stats.bytes_in, 50000);
		STAT_ADD(eni0_stats.pkts_out, 5);
		STAT_ADD(eni0_stats.bytes_out, 500);
	}
	assert_int_equal(eni0.rate_n, ENI_RATE_SAMPLES);
	eni_view(&eni0, t0 + 10 * s + s / 2, false, &v);
	assert_int_equal(v.pps_in, 1000);
	assert_int_equal(v.bps_in, 800000);
	assert_int_equal(v.pps_out, 10);
	assert_int_equal(v.bps_out, 8000);

	/* A reset (the base moves up to the counters) is not a drop in rate. */
	atomic_store(&eni0.base.pkts_in, STAT_GET(eni0_stats.pkts_in));
	atomic_store(&eni0.base.bytes_in, STAT_GET(eni0_stats.bytes_in));
	eni_view(&eni0, t0 + 10 * s + s / 2, false, &v);
	assert_int_equal(v.pkts_in, 0);
	assert_int_equal(v.pps_in, 1000);
	assert_int_equal(v.bps_in, 800000);

	/* Traffic stops: the rate falls to 0 once every sample is newer. */
	for (uint64_t t = t0 + 11 * s; t <= t0 + 20 * s; t += s)
		stats_rates_tick(t);
	eni_view(&eni0, t0 + 20 * s, false, &v);
	assert_int_equal(v.pps_in, 0);
	assert_int_equal(v.bps_out, 0);
}

static void
test_drop_records(void **state)
{
	struct shape sh = { .s = { &shape_ops } };
	unsigned n = 0;

	(void)state;
	report_drops(&sh.s);
	assert_int_equal(sh.lists, 0);
	/* One "all" record per reason, one for the kernel's queue, and one
	 * per worker that dropped for a reason (rx0 truncated, tun0 no-flow),
	 * all of one shape. */
	for (const char *p = sh.out; (p = strstr(p, "drop: reason/str side/str worker/str "
	    "count/u\n")); p++)
		n++;
	assert_int_equal(n, DROP__MAX + 1 + 2);
	assert_int_equal(sh.len, n * strlen("drop: reason/str side/str worker/str count/u\n"));
}

static char *
render(struct rec_sink *(*mk)(FILE *, const char *), const char *reason)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct rec_sink *s;

	assert_non_null(fp);
	s = mk ? mk(fp, reason) : rec_prom_new(fp, report_metrics, report_metrics_count);
	assert_non_null(s);
	report_status(s, NOW);
	report_workers(s, NOW);
	report_drops(s);
	report_enis(s, NOW, true);
	if (!mk) {
		report_hook_durations(s);
		report_eni_drops(s);
		report_gro_refused(s);
		report_uso_fallback(s);
	}
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(fp);
	return buf;
}

static void
test_metrics(void **state)
{
	static const char *const families[] = {
		"gwlbtun_healthy", "gwlbtun_uptime_seconds", "gwlbtun_enis",
		"gwlbtun_gso_super_packets_total", "gwlbtun_gso_segments_total",
		"gwlbtun_worker_packets_total", "gwlbtun_worker_bytes_total",
		"gwlbtun_worker_delivered_total", "gwlbtun_worker_kernel_drops_total",
		"gwlbtun_drops_total",
		"gwlbtun_eni_packets_in_total", "gwlbtun_eni_bytes_in_total",
		"gwlbtun_eni_packets_out_total", "gwlbtun_eni_bytes_out_total",
		"gwlbtun_eni_drops_total", "gwlbtun_eni_flows",
		"gwlbtun_eni_flow_evictions_total",
		"gwlbtun_gro_buffers_total", "gwlbtun_gro_segments_coalesced_total",
		"gwlbtun_gro_super_packets_total", "gwlbtun_gro_refused_total",
		"gwlbtun_routes_restored_total", "gwlbtun_rules_restored_total",
		"gwlbtun_netlink_resyncs_total",
		"gwlbtun_enis_held", "gwlbtun_backlog_bytes", "gwlbtun_hooks_running",
		"gwlbtun_hooks_queued", "gwlbtun_hooks_waited_total",
		"gwlbtun_hooks_timed_out_total",
		"gwlbtun_build_info", "gwlbtun_start_time_seconds",
		"gwlbtun_hooks_started_total", "gwlbtun_hooks_ok_total",
		"gwlbtun_hooks_failed_total", "gwlbtun_flows", "gwlbtun_flows_capacity",
		"gwlbtun_rp_filter_reverts_total", "gwlbtun_links_lost_total",
		"gwlbtun_draining", "gwlbtun_eni_up",
		"gwlbtun_eni_flows_capacity", "gwlbtun_hook_duration_seconds",
		"gwlbtun_hook_duration_seconds_bucket", "gwlbtun_hook_duration_seconds_sum",
		"gwlbtun_hook_duration_seconds_count", "gwlbtun_eni_drops_by_reason_total",
		"gwlbtun_gro_refused_by_reason_total",
		"gwlbtun_uso_super_packets_total", "gwlbtun_uso_segments_total",
		"gwlbtun_uso_fallback_total", "gwlbtun_uso_fallback_by_reason_total",
		"gwlbtun_health_served_total", "gwlbtun_health_evicted_total",
		"gwlbtun_health_timed_out_total", "gwlbtun_health_accept_errors_total",
		"gwlbtun_control_bad_messages_total", "gwlbtun_control_refused_total",
		"gwlbtun_mirror_objects", "gwlbtun_mirror_overflows_total",
	};
	char *m = render(NULL, NULL), line[256];
	const char *prev = m;

	(void)state;
	assert_int_equal(report_metrics_count, sizeof(families) / sizeof(families[0]));
	for (size_t i = 0; i < report_metrics_count; i++) {
		const char *at;

		assert_string_equal(report_metrics[i].name, families[i]);
		if (!report_metrics[i].type) {	/* a histogram's samples */
			snprintf(line, sizeof(line), "\n%s", families[i]);
			at = strstr(m, line);
			assert_non_null(at);
			assert_true(at >= prev);
			prev = at;
			continue;
		}
		/* HELP then TYPE, in this order in the output. */
		snprintf(line, sizeof(line), "# HELP %s ", families[i]);
		at = strstr(m, line);
		assert_non_null(at);
		assert_true(at >= prev);
		prev = at;
		snprintf(line, sizeof(line), "\n# TYPE %s %s\n%s", families[i],
		    report_metrics[i].type, families[i]);
		assert_non_null(strstr(m, line));	/* and at least one sample */
	}
	assert_non_null(strstr(m, "\ngwlbtun_healthy 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_uptime_seconds 42\n"));
	assert_non_null(strstr(m, "\ngwlbtun_enis 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_enis_held 2\n"));
	assert_non_null(strstr(m, "\ngwlbtun_backlog_bytes 12345\n"));
	assert_non_null(strstr(m, "\ngwlbtun_hooks_queued 3\n"));
	assert_non_null(strstr(m, "\ngwlbtun_hooks_waited_total 11\n"));
	assert_non_null(strstr(m, "\ngwlbtun_worker_packets_total{worker=\"0\",kind=\"rx\"} 100\n"));
	assert_non_null(strstr(m, "\ngwlbtun_worker_packets_total{worker=\"0\",kind=\"tun\"} 40\n"));
	assert_non_null(strstr(m, "\ngwlbtun_worker_kernel_drops_total{worker=\"0\",kind=\"rx\"} 5\n"));
	/* A reply worker has no socket of its own to drop on. */
	assert_null(strstr(m, "gwlbtun_worker_kernel_drops_total{worker=\"0\",kind=\"tun\"}"));
	assert_non_null(strstr(m, "\ngwlbtun_drops_total{reason=\"truncated\"} 3\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_buffers_total 4\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_segments_coalesced_total 60\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_super_packets_total 7\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_refused_total 3\n"));
	assert_non_null(strstr(m, "\ngwlbtun_routes_restored_total 6\n"));
	assert_non_null(strstr(m, "\ngwlbtun_rules_restored_total 3\n"));
	assert_non_null(strstr(m, "\ngwlbtun_netlink_resyncs_total 2\n"));
	assert_non_null(strstr(m, "\ngwlbtun_mirror_objects 4321\n"));
	assert_non_null(strstr(m, "\ngwlbtun_mirror_overflows_total 2\n"));
	assert_non_null(strstr(m, "\ngwlbtun_drops_total{reason=\"no-flow\"} 2\n"));
	assert_non_null(strstr(m, "\ngwlbtun_build_info{version=\"" PACKAGE_VERSION "\"} 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_start_time_seconds 1700000000\n"));
	assert_non_null(strstr(m, "\ngwlbtun_hooks_started_total 20\n"));
	assert_non_null(strstr(m, "\ngwlbtun_hooks_ok_total 17\n"));
	assert_non_null(strstr(m, "\ngwlbtun_hooks_failed_total 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_flows 0\n"));
	assert_non_null(strstr(m, "\ngwlbtun_flows_capacity 16\n"));
	assert_non_null(strstr(m, "\ngwlbtun_draining 0\n"));
	/* Every refusal reason, the status record's gro_refused_* fields. */
	assert_non_null(strstr(m, "\ngwlbtun_gro_refused_by_reason_total{reason=\"seq-gap\"} 2\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_refused_by_reason_total{reason=\"geneve-header\"} 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_refused_by_reason_total{reason=\"not-tcp\"} 0\n"));
	/* The return path's packet socket: sent, and the fallbacks by reason. */
	assert_non_null(strstr(m, "\ngwlbtun_uso_super_packets_total 3\n"));
	assert_non_null(strstr(m, "\ngwlbtun_uso_segments_total 90\n"));
	assert_non_null(strstr(m, "\ngwlbtun_uso_fallback_total 5\n"));
	assert_non_null(strstr(m, "\ngwlbtun_uso_fallback_by_reason_total{reason=\"unresolved\"} 4\n"));
	assert_non_null(strstr(m, "\ngwlbtun_uso_fallback_by_reason_total{reason=\"send-error\"} 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_uso_fallback_by_reason_total{reason=\"too-big\"} 0\n"));
	/* Per ENI and reason, only the reasons it has had. */
	assert_non_null(strstr(m, "\n# TYPE gwlbtun_eni_drops_by_reason_total counter\n"
	    "gwlbtun_eni_drops_by_reason_total{eni=\"000000000000000a1\",reason=\"eni-closing\"} 1\n"
	    "gwlbtun_eni_drops_by_reason_total{eni=\"000000000000000a1\",reason=\"tun-write\"} 4\n"));
	assert_null(strstr(m, "gwlbtun_eni_drops_by_reason_total{eni=\"000000000000000a1\",reason=\"no-flow\"}"));
	/* The histogram: cumulative buckets, +Inf = count, the sum in seconds. */
	assert_non_null(strstr(m, "\n# TYPE gwlbtun_hook_duration_seconds histogram\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"0.05\"} 5\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"0.1\"} 8\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"0.25\"} 8\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"0.5\"} 8\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"1\"} 9\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"2.5\"} 9\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"5\"} 10\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"10\"} 10\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"30\"} 10\n"
	    "gwlbtun_hook_duration_seconds_bucket{le=\"+Inf\"} 12\n"
	    "gwlbtun_hook_duration_seconds_sum 123.456789\n"
	    "gwlbtun_hook_duration_seconds_count 12\n"));
	assert_non_null(strstr(m, "\ngwlbtun_eni_up{eni=\"000000000000000a1\","
	    "interface=\"gwi-2Z\"} 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_eni_flows_capacity{eni=\"000000000000000a1\","
	    "interface=\"gwi-2Z\"} 16\n"));
	/* Per-worker drop records and the kernel's queue are not in it. */
	assert_null(strstr(m, "kernel-receive-queue"));
	assert_non_null(strstr(m, "\ngwlbtun_eni_packets_in_total{eni=\"000000000000000a1\","
	    "interface=\"gwi-2Z\"} 97\n"));
	assert_non_null(strstr(m, "\ngwlbtun_eni_flow_evictions_total{eni=\"000000000000000a1\","
	    "interface=\"gwi-2Z\"} 0\n"));
	free(m);
}

static void
test_health_json(void **state)
{
	char *j = render(rec_json_new, "ok");

	(void)state;
	assert_non_null(strstr(j, "{\"reason\":\"ok\",\"version\":\"" PACKAGE_VERSION "\","));
	assert_non_null(strstr(j, ",\"gro_buffers\":4,\"gro_coalesced\":60,"
	    "\"gro_super_packets\":7,\"gro_refused\":3,\"gro_refused_not_tcp\":0,"));
	assert_non_null(strstr(j, ",\"gro_refused_geneve_header\":1,"
	    "\"gro_refused_header_differs\":0,\"gro_refused_seq_gap\":2,"));
	assert_non_null(strstr(j, ",\"uptime_s\":42,\"mode\":\"return\",\"rx_workers\":1,"));
	/* The health check's and the control socket's records join the top. */
	assert_non_null(strstr(j, ",\"healthy\":true,\"health_reason\":\"ok\",\"health_served\":0,"
	    "\"health_bad_requests\":0,\"health_evicted\":0,\"health_timed_out\":0,"
	    "\"health_refused\":0,\"health_accept_errors\":0,\"control_clients\":0,"
	    "\"control_accepted\":0,\"control_commands\":0,\"control_errors\":0,"
	    "\"control_bad_messages\":0,\"control_refused\":0,\"control_dropped\":0,"
	    "\"control_overflows\":0,\"monitor_subscribers\":0,\"events_posted\":0,"
	    "\"events_lost\":0,\"mirror_state\":\"off\",\"max_mirror\":0," "\"mirror_objects\":4321,\"mirror_overflows\":2,\"mirror_dumps\":5," "\"workers\":[{\"id\":0,\"kind\":\"rx\","
	    "\"cpu\":2,\"tid\":1001,\"packets\":100,\"bytes\":15000,\"batches\":0,"
	    "\"delivered\":97,\"drops\":3,\"kernel_drops\":5,\"idle_ms\":0},"));
	assert_non_null(strstr(j, ",\"drops\":{\"truncated\":3,\"origin-not-allowed\":0,"));
	assert_non_null(strstr(j, ",\"no-flow\":2,"));
	assert_non_null(strstr(j, ",\"kernel-receive-queue\":5},\"enis\":[{\"eni\":"
	    "\"000000000000000a1\",\"vpce\":\"vpce-000000000000000a1\",\"if_in\":\"gwi-2Z\","
	    "\"if_out\":\"gwo-2Z\",\"state\":\"up\",\"pps_in\":0,\"bps_in\":0,\"pps_out\":0,"
	    "\"bps_out\":0,\"packets_in\":97,\"bytes_in\":0,\"packets_out\":38,"));
	/* The control record's integer seconds, not a float. */
	assert_non_null(strstr(j, ",\"idle_s\":3,"));
	assert_non_null(strstr(j, ",\"flow_evictions\":0,"));
	assert_null(strstr(j, "enis_count"));
	assert_string_equal(j + strlen(j) - 3, "]}\n");
	free(j);
}

static void
test_health_text(void **state)
{
	char *t = render(rec_text_new, "ok");

	(void)state;
	assert_non_null(strstr(t, "\ngwlbtund " PACKAGE_VERSION ": healthy (ok)\n"
	    "uptime 42 s, return traffic on, 1 receive and 1 reply threads, 1 ENIs\n\n"
	    "thread kind  cpu        packets            bytes    delivered      drops "
	    "kernel-drops  idle-ms\n"
	    "0      rx      2            100            15000           97          3 "
	    "           5        0\n"
	    "0      tun    -1             40                0           38          2 "
	    "           0        0\n\ndrops by reason:\n  truncated                    3\n"));
	assert_non_null(strstr(t, "\n  kernel-receive-queue         5\n\n"
	    "eni               in               out              state      packets-in "
	    "      bytes-in  packets-out      bytes-out    drops    flows   idle-s\n"
	    "000000000000000a1 gwi-2Z           gwo-2Z           up                 97 "
	    "             0           38              0        0        0        3\n"
	    "</pre></body></html>\n"));
	free(t);
}

static void
test_unhealthy(void **state)
{
	char *j;

	(void)state;
	/* A worker whose loop last turned 6 s ago. */
	atomic_store(&workers[1].heartbeat_ns, NOW - 6000000000ull);
	assert_false(report_healthy(NOW, NULL));
	j = render(rec_json_new, "a worker has stopped turning");
	assert_non_null(strstr(j, "\"healthy\":false"));
	assert_non_null(strstr(j, "\"idle_ms\":6000}"));
	free(j);
	j = render(NULL, NULL);
	assert_non_null(strstr(j, "\ngwlbtun_healthy 0\n"));
	free(j);
	atomic_store(&workers[1].heartbeat_ns, NOW - 1000000000ull);
	assert_true(report_healthy(NOW, NULL));
	atomic_store(&D.stopping, true);
	{
		const char *why;

		assert_false(report_healthy(NOW, &why));
		assert_string_equal(why, "shutting down");
	}
}

/* gwlbctl counters reset: gwlbctl's records start from 0, the health
 * port's (/metrics above all: Prometheus counters) never go down. */
static void
test_reset_only_gwlbctl(void **state)
{
	char *m, *j, *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct rec_sink *s;

	(void)state;
	stats_reset();
	m = render(NULL, NULL);
	assert_non_null(strstr(m, "\ngwlbtun_worker_packets_total{worker=\"0\",kind=\"rx\"} 100\n"));
	assert_non_null(strstr(m, "\ngwlbtun_drops_total{reason=\"truncated\"} 3\n"));
	assert_non_null(strstr(m, "\ngwlbtun_gro_buffers_total 4\n"));
	assert_non_null(strstr(m, "\ngwlbtun_eni_packets_in_total{eni=\"000000000000000a1\","
	    "interface=\"gwi-2Z\"} 97\n"));
	free(m);
	j = render(rec_json_new, "ok");
	assert_non_null(strstr(j, "\"packets_in\":100,"));
	free(j);

	/* The same producers into a sink that is not raw: gwlbctl's view. */
	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	s = rec_json_new(fp, NULL);
	assert_non_null(s);
	s->raw = false;
	report_status(s, NOW);
	report_enis(s, NOW, false);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(fp);
	assert_non_null(strstr(buf, "\"packets_in\":0,\"bytes_in\":0,\"delivered\":0,"));
	assert_non_null(strstr(buf, "\"state\":\"up\",\"pps_in\":0,\"bps_in\":0,"
	    "\"pps_out\":0,\"bps_out\":0,\"packets_in\":0,"));
	free(buf);

	/* Counting goes on after the reset: both views grow. */
	STAT_ADD(workers[0].stats.packets, 5);
	m = render(NULL, NULL);
	assert_non_null(strstr(m, "\ngwlbtun_worker_packets_total{worker=\"0\",kind=\"rx\"} 105\n"));
	free(m);
}

/* An operator's `ip link set gwi-X down`: show enis says down, the health
 * check 503 naming the link; and no report, however often it is asked,
 * makes a system call per ENI for it. */
static void
test_link_down_no_call_per_report(void **state)
{
	const char *why;
	char *j;

	(void)state;
	n_ioctl = 0;
	for (int i = 0; i < 3; i++) {
		assert_true(report_healthy(NOW, &why));
		j = render(rec_json_new, why);
		assert_non_null(strstr(j, "\"state\":\"up\""));
		free(j);
	}
	atomic_store(&eni0.link_down, true);
	assert_false(report_healthy(NOW, &why));
	assert_string_equal(why, "eni 000000000000000a1: link gwi-2Z down");
	j = render(rec_json_new, why);
	assert_non_null(strstr(j, "\"state\":\"down\""));
	free(j);
	atomic_store(&eni0.link_down, false);
	assert_true(report_healthy(NOW, &why));
	assert_int_equal(n_ioctl, 0);
}

/* gwlbctl drain: 503 with the reason, /metrics says so; undrain: back. */
static void
test_drain(void **state)
{
	const char *why;
	char *m, *j;

	(void)state;
	assert_true(report_healthy(NOW, &why));
	assert_false(report_drain(true));
	assert_true(report_draining());
	assert_false(report_healthy(NOW, &why));
	assert_string_equal(why, "draining");
	m = render(NULL, NULL);
	assert_non_null(strstr(m, "\ngwlbtun_draining 1\n"));
	assert_non_null(strstr(m, "\ngwlbtun_healthy 0\n"));
	free(m);
	j = render(rec_json_new, why);
	assert_non_null(strstr(j, "\"draining\":true,\"healthy\":false,\"health_reason\":\"draining\""));
	free(j);
	assert_true(report_drain(false));
	assert_true(report_healthy(NOW, &why));
	assert_string_equal(why, "ok");
	/* Shutting down outranks draining in the reason. */
	report_drain(true);
	atomic_store(&D.stopping, true);
	assert_false(report_healthy(NOW, &why));
	assert_string_equal(why, "shutting down");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control_record_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eni_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_down_no_call_per_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unhealthy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_only_gwlbctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
