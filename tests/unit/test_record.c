/*
 * Unit tests for the health port's sinks (daemon/record.c): the same
 * records, shaped as the daemon's producers (daemon/report.c) write them,
 * into the JSON page, the text page and /metrics, with the exact bytes
 * each must give.  A field the page or /metrics shows comes from a record
 * field of the same name, so renaming one breaks these tests.
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

#include "record.h"

static const struct rec_metric metrics[] = {
	{ "t_healthy", "gauge", "1 when healthy.", { { NULL, NULL } } },
	{ "t_enis", "gauge", "ENIs.", { { NULL, NULL } } },
	{ "t_worker_packets_total", "counter", "Packets, per worker.",
	    { { "worker", "id" }, { "kind", "kind" } } },
	{ "t_drops_total", "counter", "Drops, by reason.", { { "reason", "reason" } } },
	{ "t_eni_flows", "gauge", "Flows.\\ with a backslash", { { "eni", "eni" },
	    { "interface", "if_in" } } },
	{ "t_never_total", "counter", "A family with no sample.", { { NULL, NULL } } },
};

/* A daemon of two workers, two drop reasons and two ENIs, one of whose
 * names would break the page it is shown on. */
static void
produce(struct rec_sink *s)
{
	static const char *const reasons[] = { "truncated", "no-flow" };
	static const uint64_t all[] = { 0, 7 };

	rec_begin(s, "status");
	rec_str(s, "version", "1.2.3");
	rec_u64(s, "uptime_s", 42);
	rec_str(s, "mode", "return");
	rec_u64(s, "rx_workers", 1);
	rec_u64(s, "tun_workers", 1);
	rec_u64m(s, "enis", 2, &metrics[1]);
	rec_u64(s, "drops", 7);
	rec_boolm(s, "healthy", true, &metrics[0]);
	rec_end(s);

	rec_list_begin(s, "worker");
	for (int i = 0; i < 2; i++) {
		rec_begin(s, "worker");
		rec_u64(s, "id", 0);
		rec_str(s, "kind", i ? "tun" : "rx");
		rec_s64(s, "cpu", i ? -1 : 3);
		rec_u64m(s, "packets", i ? 5 : 62633, &metrics[2]);
		rec_u64(s, "drops", i ? 7 : 0);
		rec_u64(s, "idle_ms", 12);
		rec_end(s);
	}
	rec_list_end(s, "worker");

	rec_list_begin(s, "drop");
	for (int d = 0; d < 2; d++) {
		rec_begin(s, "drop");
		rec_str(s, "reason", reasons[d]);
		rec_str(s, "worker", "all");
		rec_u64m(s, "count", all[d], &metrics[3]);
		rec_end(s);
		if (all[d]) {
			rec_begin(s, "drop");
			rec_str(s, "reason", reasons[d]);
			rec_strf(s, "worker", "tun%u", 0u);
			rec_u64(s, "count", all[d]);
			rec_end(s);
		}
	}
	rec_list_end(s, "drop");

	rec_list_begin(s, "eni");
	rec_begin(s, "eni");
	rec_str(s, "eni", "000000000000000a1");
	rec_str(s, "if_in", "gwi-<b>\"q\"\\");
	rec_str(s, "state", "up");
	rec_u64m(s, "flows", 3, &metrics[4]);
	rec_u64(s, "idle_s", 1);
	rec_end(s);
	rec_begin(s, "eni");
	rec_str(s, "eni", "000000000000000b2");
	rec_str(s, "if_in", "gwi-\xc3\xa9\x01\xff");
	rec_str(s, "state", "pending");
	rec_u64m(s, "flows", 0, &metrics[4]);
	rec_u64(s, "idle_s", 0);
	rec_end(s);
	rec_list_end(s, "eni");
}

struct mem {
	char	*buf;
	size_t	 len;
	FILE	*fp;
};

static void
mem_open(struct mem *m)
{
	memset(m, 0, sizeof(*m));
	m->fp = open_memstream(&m->buf, &m->len);
	assert_non_null(m->fp);
}

static void
test_json_page(void **state)
{
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_json_new(m.fp, "ok");
	assert_non_null(s);
	produce(s);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	/* Status at the top (its enis and drops are the lists there), the
	 * drops as reason -> count of the "all" records, strings escaped and
	 * invalid UTF-8 replaced. */
	assert_string_equal(m.buf,
	    "{\"reason\":\"ok\",\"version\":\"1.2.3\",\"uptime_s\":42,\"mode\":\"return\","
	    "\"rx_workers\":1,\"tun_workers\":1,\"healthy\":true,"
	    "\"workers\":[{\"id\":0,\"kind\":\"rx\",\"cpu\":3,\"packets\":62633,\"drops\":0,"
	    "\"idle_ms\":12},{\"id\":0,\"kind\":\"tun\",\"cpu\":-1,\"packets\":5,\"drops\":7,"
	    "\"idle_ms\":12}],"
	    "\"drops\":{\"truncated\":0,\"no-flow\":7},"
	    "\"enis\":[{\"eni\":\"000000000000000a1\",\"if_in\":\"gwi-<b>\\\"q\\\"\\\\\","
	    "\"state\":\"up\",\"flows\":3,\"idle_s\":1},"
	    "{\"eni\":\"000000000000000b2\",\"if_in\":\"gwi-\xc3\xa9\\u0001\\ufffd\","
	    "\"state\":\"pending\",\"flows\":0,\"idle_s\":0}]}\n");
	free(m.buf);
}

static void
test_json_empty_lists(void **state)
{
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_json_new(m.fp, "shutting down");
	assert_non_null(s);
	rec_list_begin(s, "eni");
	rec_list_end(s, "eni");
	rec_list_begin(s, "drop");
	rec_list_end(s, "drop");
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	assert_string_equal(m.buf, "{\"reason\":\"shutting down\",\"enis\":[],\"drops\":{}}\n");
	free(m.buf);
}

static void
test_text_page(void **state)
{
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_text_new(m.fp, "ok");
	assert_non_null(s);
	produce(s);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	/* The layout of the page before records (widths in bytes, of the
	 * string before escaping); columns the records do not have (bytes,
	 * ...) show as "-"; strings are escaped for HTML, control characters
	 * shown as '?'. */
	assert_string_equal(m.buf,
	    "<!DOCTYPE html>\n<html><head><title>gwlbtund health</title></head><body><pre>\n"
	    "gwlbtund 1.2.3: healthy (ok)\n"
	    "uptime 42 s, return traffic on, 1 receive and 1 reply threads, 2 ENIs\n"
	    "\n"
	    "thread kind  cpu        packets            bytes    delivered      drops "
	    "kernel-drops  idle-ms\n"
	    "0      rx      3          62633                -            -          0 "
	    "           -       12\n"
	    "0      tun    -1              5                -            -          7 "
	    "           -       12\n"
	    "\n"
	    "drops by reason:\n"
	    "  truncated                    0\n"
	    "  no-flow                      7\n"
	    "\n"
	    "eni               in               out              state      packets-in "
	    "      bytes-in  packets-out      bytes-out    drops    flows   idle-s\n"
	    "000000000000000a1 gwi-&lt;b&gt;\"q\"\\      -                up                  "
	    "-              -            -              -        -        3        1\n"
	    "000000000000000b2 gwi-\xc3\xa9?\xff         -                pending             "
	    "-              -            -              -        -        0        0\n"
	    "</pre></body></html>\n");
	free(m.buf);
}

static void
test_text_unhealthy(void **state)
{
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_text_new(m.fp, "a worker has stopped turning");
	assert_non_null(s);
	rec_begin(s, "status");
	rec_str(s, "version", "1.2.3");
	rec_u64(s, "uptime_s", 5);
	rec_str(s, "mode", "no-return");
	rec_u64(s, "rx_workers", 4);
	rec_u64(s, "tun_workers", 0);
	rec_u64(s, "enis", 0);
	rec_bool(s, "healthy", false);
	rec_end(s);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	assert_string_equal(m.buf,
	    "<!DOCTYPE html>\n<html><head><title>gwlbtund health</title></head><body><pre>\n"
	    "gwlbtund 1.2.3: UNHEALTHY (a worker has stopped turning)\n"
	    "uptime 5 s, no return traffic, 4 receive and 0 reply threads, 0 ENIs\n"
	    "</pre></body></html>\n");
	free(m.buf);
}

static void
test_prometheus(void **state)
{
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_prom_new(m.fp, metrics, sizeof(metrics) / sizeof(metrics[0]));
	assert_non_null(s);
	produce(s);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	/* Every family, in the table's order, HELP and TYPE first, even with
	 * no sample; the samples of a family together; only the fields with
	 * a metric (not the per-worker drop records); labels escaped. */
	assert_string_equal(m.buf,
	    "# HELP t_healthy 1 when healthy.\n# TYPE t_healthy gauge\nt_healthy 1\n"
	    "# HELP t_enis ENIs.\n# TYPE t_enis gauge\nt_enis 2\n"
	    "# HELP t_worker_packets_total Packets, per worker.\n"
	    "# TYPE t_worker_packets_total counter\n"
	    "t_worker_packets_total{worker=\"0\",kind=\"rx\"} 62633\n"
	    "t_worker_packets_total{worker=\"0\",kind=\"tun\"} 5\n"
	    "# HELP t_drops_total Drops, by reason.\n# TYPE t_drops_total counter\n"
	    "t_drops_total{reason=\"truncated\"} 0\n"
	    "t_drops_total{reason=\"no-flow\"} 7\n"
	    "# HELP t_eni_flows Flows.\\\\ with a backslash\n# TYPE t_eni_flows gauge\n"
	    "t_eni_flows{eni=\"000000000000000a1\",interface=\"gwi-<b>\\\"q\\\"\\\\\"} 3\n"
	    "t_eni_flows{eni=\"000000000000000b2\",interface=\"gwi-\xc3\xa9\x01\xff\"} 0\n"
	    "# HELP t_never_total A family with no sample.\n# TYPE t_never_total counter\n");
	free(m.buf);
}

static void
test_prometheus_foreign_metric(void **state)
{
	static const struct rec_metric other = { "x", "gauge", "not in the table",
	    { { NULL, NULL } } };
	struct mem m;
	struct rec_sink *s;

	(void)state;
	/* A field whose metric is not in the sink's table is an error, not
	 * a sample written past the table. */
	mem_open(&m);
	s = rec_prom_new(m.fp, metrics, 2);
	assert_non_null(s);
	rec_begin(s, "status");
	rec_u64m(s, "x", 1, &other);
	rec_end(s);
	assert_int_equal(rec_sink_finish(s), -EINVAL);
	fclose(m.fp);
	free(m.buf);
}

/* A sample only /metrics shows (build info, labelled by a field before
 * it); the pages leave it out.  The health port's sinks are all raw:
 * they show counters as counted, a gwlbctl counters reset ignored. */
static void
test_metric_only(void **state)
{
	static const struct rec_metric info[] = {
		{ "t_build_info", "gauge", "Always 1.", { { "version", "version" } } },
	};
	struct rec_sink *(*const mk[])(FILE *, const char *) = { rec_json_new, rec_text_new };
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_prom_new(m.fp, info, 1);
	assert_non_null(s);
	assert_true(s->raw);
	rec_begin(s, "status");
	rec_str(s, "version", "1.2.3");
	rec_metric_only(s, "build_info", 1, &info[0]);
	rec_end(s);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	assert_string_equal(m.buf, "# HELP t_build_info Always 1.\n# TYPE t_build_info gauge\n"
	    "t_build_info{version=\"1.2.3\"} 1\n");
	free(m.buf);
	for (size_t i = 0; i < 2; i++) {
		mem_open(&m);
		s = mk[i](m.fp, "ok");
		assert_non_null(s);
		assert_true(s->raw);
		rec_begin(s, "status");
		rec_str(s, "version", "1.2.3");
		rec_metric_only(s, "build_info", 1, &info[0]);
		rec_u64(s, "after", 7);
		rec_end(s);
		assert_int_equal(rec_sink_finish(s), 0);
		fclose(m.fp);
		assert_null(strstr(m.buf, "build_info"));
		if (i == 0)
			assert_string_equal(m.buf,
			    "{\"reason\":\"ok\",\"version\":\"1.2.3\",\"after\":7}\n");
		free(m.buf);
	}
}

/* A family whose samples have other names (a histogram): HELP and TYPE
 * once, under the family's name; a number given as text is a sample, any
 * other text NaN. */
static void
test_prometheus_histogram(void **state)
{
	static const struct rec_metric h[] = {
		{ "t_seconds", "histogram", "Run times.", { { NULL, NULL } } },
		{ "t_seconds_bucket", NULL, NULL, { { "le", "le" } } },
		{ "t_seconds_sum", NULL, NULL, { { NULL, NULL } } },
		{ "t_seconds_count", NULL, NULL, { { NULL, NULL } } },
		{ "t_text", "gauge", "Not a number.", { { NULL, NULL } } },
	};
	struct mem m;
	struct rec_sink *s;

	(void)state;
	mem_open(&m);
	s = rec_prom_new(m.fp, h, 5);
	assert_non_null(s);
	rec_begin(s, "b");
	rec_str(s, "le", "0.5");
	rec_metric_only(s, "count", 2, &h[1]);
	rec_end(s);
	rec_begin(s, "b");
	rec_str(s, "le", "+Inf");
	rec_metric_only(s, "count", 3, &h[1]);
	rec_end(s);
	rec_begin(s, "s");
	s->ops->field(s, &(struct rec_field){ "sum", REC_STR, { .str = "1.250000" }, &h[2], true });
	rec_metric_only(s, "count", 3, &h[3]);
	s->ops->field(s, &(struct rec_field){ "t", REC_STR, { .str = "1.5x" }, &h[4], true });
	rec_end(s);
	assert_int_equal(rec_sink_finish(s), 0);
	fclose(m.fp);
	assert_string_equal(m.buf, "# HELP t_seconds Run times.\n# TYPE t_seconds histogram\n"
	    "t_seconds_bucket{le=\"0.5\"} 2\nt_seconds_bucket{le=\"+Inf\"} 3\n"
	    "t_seconds_sum 1.250000\nt_seconds_count 3\n"
	    "# HELP t_text Not a number.\n# TYPE t_text gauge\nt_text NaN\n");
	free(m.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_page),
		cmocka_unit_test(test_json_empty_lists),
		cmocka_unit_test(test_text_page),
		cmocka_unit_test(test_text_unhealthy),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_prometheus_foreign_metric),
		cmocka_unit_test(test_metric_only),
		cmocka_unit_test(test_prometheus_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
