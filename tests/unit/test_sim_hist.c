/*
 * Unit tests for lab/sim_hist.c, the latency histogram of gwlbsim run, and
 * for the checker's use of it (lab/sim_check.c): bucket layout, the
 * quantile arithmetic against sorted samples (the obvious way), merging,
 * the text form, and which returned packets add a round trip, with the
 * clock injected.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define PPM_P50		500000
#define PPM_P90		900000
#define PPM_P99		990000
#define PPM_P999	999000

static struct sim_hist *
hist_new(void)
{
	struct sim_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	sim_hist_reset(h);
	return h;
}

/* Every value lies in its bucket; buckets tile the range; widths stay small. */
static void
test_layout(void **state)
{
	uint64_t rng = 7;

	(void)state;
	for (uint64_t v = 0; v < 300000; v++) {
		size_t i = sim_hist_index(v);

		assert_true(sim_hist_lower(i) <= v);
		assert_true(v <= sim_hist_upper(i));
	}
	for (int k = 0; k < 200000; k++) {
		uint64_t v = sim_rng(&rng) >> (sim_rng(&rng) % 64);
		size_t i = sim_hist_index(v);

		if (v >= SIM_HIST_LIMIT) {
			assert_int_equal(i, SIM_HIST_BUCKETS - 1);
			continue;
		}
		assert_true(sim_hist_lower(i) <= v && v <= sim_hist_upper(i));
	}
	assert_int_equal(sim_hist_lower(0), 0);
	for (size_t i = 0; i + 1 < SIM_HIST_BUCKETS; i++) {
		uint64_t lo = sim_hist_lower(i), w = sim_hist_upper(i) - lo + 1;

		assert_int_equal(sim_hist_upper(i) + 1, sim_hist_lower(i + 1));
		/* exact below 256; above, at most 1/128 of the bucket's values */
		if (lo < 256)
			assert_int_equal(w, 1);
		else
			assert_true(w * 128 <= lo);
	}
	assert_int_equal(sim_hist_upper(SIM_HIST_BUCKETS - 1), SIM_HIST_LIMIT - 1);
}

static void
test_empty_and_one(void **state)
{
	struct sim_hist *h = hist_new();

	(void)state;
	assert_int_equal(sim_hist_quantile(h, PPM_P50), 0);
	assert_int_equal(h->count, 0);
	sim_hist_add(h, 123456789);
	/* one sample: every percentile is that sample, not its bucket's bound */
	assert_int_equal(sim_hist_quantile(h, PPM_P50), 123456789);
	assert_int_equal(sim_hist_quantile(h, PPM_P999), 123456789);
	assert_int_equal(sim_hist_quantile(h, 0), 123456789);
	assert_int_equal(h->min, 123456789);
	assert_int_equal(h->max, 123456789);
	free(h);
}

/* 1..100: exact values, rank = ceil(n * q). */
static void
test_exact_small(void **state)
{
	struct sim_hist *h = hist_new();

	(void)state;
	for (uint64_t v = 100; v >= 1; v--)
		sim_hist_add(h, v);
	assert_int_equal(sim_hist_quantile(h, PPM_P50), 50);
	assert_int_equal(sim_hist_quantile(h, PPM_P90), 90);
	assert_int_equal(sim_hist_quantile(h, PPM_P99), 99);
	assert_int_equal(sim_hist_quantile(h, PPM_P999), 100);	/* ceil(99.9) */
	assert_int_equal(sim_hist_quantile(h, 1000000), 100);
	assert_int_equal(sim_hist_quantile(h, 10000), 1);		/* p1 */
	assert_int_equal(sim_hist_quantile(h, 10001), 2);
	assert_int_equal(h->sum, 5050);
	free(h);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Against the sorted samples: the percentile is never below the true one
 * and at most one bucket (1/128) above it, never above the maximum, and
 * the percentiles are ordered.
 */
static void
test_against_sorted(void **state)
{
	static const uint32_t ppm[] = { 1, 100000, PPM_P50, PPM_P90, PPM_P99,
	    PPM_P999, 999999, 1000000 };
	enum { N = 100003 };
	uint64_t *v = malloc(N * sizeof(*v)), rng = 42;
	struct sim_hist *h = hist_new();

	(void)state;
	assert_non_null(v);
	for (int shape = 0; shape < 3; shape++) {
		uint64_t prev = 0;

		sim_hist_reset(h);
		for (size_t i = 0; i < N; i++) {
			uint64_t r = sim_rng(&rng);

			if (shape == 0)		/* 10..20 us, flat */
				v[i] = 10000 + r % 10000;
			else if (shape == 1)	/* long tail: ns to 18 minutes */
				v[i] = (r >> 24) >> (r % 40);
			else			/* mostly fast, 1 % at 5 ms */
				v[i] = r % 100 == 0 ? 5000000 + r % 1000 : 20000 + r % 500;
			sim_hist_add(h, v[i]);
		}
		qsort(v, N, sizeof(*v), cmp_u64);
		assert_int_equal(h->count, N);
		assert_int_equal(h->min, v[0]);
		assert_int_equal(h->max, v[N - 1]);
		for (size_t k = 0; k < sizeof(ppm) / sizeof(ppm[0]); k++) {
			uint64_t rank = ((uint64_t)N * ppm[k] + 999999) / 1000000;
			uint64_t truth = v[(rank ? rank : 1) - 1];
			uint64_t got = sim_hist_quantile(h, ppm[k]);

			assert_true(got >= truth);
			assert_true(got <= truth + truth / 128 + 1);
			assert_true(got <= h->max);
			assert_true(got >= prev);
			prev = got;
		}
	}
	free(v);
	free(h);
}

/* Merging two histograms is adding all samples to one. */
static void
test_merge(void **state)
{
	struct sim_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
	uint64_t rng = 3;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		uint64_t x = sim_rng(&rng) % 1000000, y = 2000000 + sim_rng(&rng) % 999;

		sim_hist_add(a, x);
		sim_hist_add(all, x);
		sim_hist_add(b, y);
		sim_hist_add(all, y);
	}
	sim_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	/* merging an empty one changes nothing, into an empty one copies */
	sim_hist_reset(b);
	sim_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	sim_hist_merge(b, all);
	assert_memory_equal(b, all, sizeof(*b));
	free(a);
	free(b);
	free(all);
}

/* Values past the last bucket: counted there, max exact, p <= max. */
static void
test_beyond_limit(void **state)
{
	struct sim_hist *h = hist_new();

	(void)state;
	sim_hist_add(h, 1000);
	sim_hist_add(h, SIM_HIST_LIMIT * 4 + 17);
	assert_int_equal(h->bucket[SIM_HIST_BUCKETS - 1], 1);
	assert_int_equal(h->max, SIM_HIST_LIMIT * 4 + 17);
	/* the last bucket's upper bound would report it better than it was */
	assert_int_equal(sim_hist_quantile(h, PPM_P99), SIM_HIST_LIMIT * 4 + 17);
	/* the upper bound of 1000's bucket (1000..1003) */
	assert_int_equal(sim_hist_quantile(h, PPM_P50), 1003);
	assert_int_equal(sim_hist_upper(sim_hist_index(1000)), 1003);
	free(h);
}

/* The text form: the buckets and counts it holds add up, in order. */
static void
test_write(void **state)
{
	struct sim_hist *h = hist_new();
	FILE *f = tmpfile();
	char line[256];
	uint64_t total = 0, prev_hi = 0, lo, hi, n, samples = 0, mx = 0;
	int rows = 0;

	(void)state;
	assert_non_null(f);
	for (uint64_t i = 0; i < 1000; i++)
		sim_hist_add(h, 1000 + i * i);
	assert_int_equal(sim_hist_write(h, f), 0);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			sscanf(line, "# samples %lu min %*u max %lu", &samples, &mx);
			continue;
		}
		assert_int_equal(sscanf(line, "%lu %lu %lu", &lo, &hi, &n), 3);
		assert_true(lo <= hi);
		assert_true(rows == 0 || lo > prev_hi);
		assert_int_equal(hi, sim_hist_upper(sim_hist_index(lo)));
		assert_int_equal(n, h->bucket[sim_hist_index(lo)]);
		prev_hi = hi;
		total += n;
		rows++;
	}
	assert_int_equal(total, 1000);
	assert_int_equal(samples, 1000);
	assert_int_equal(mx, 1000 + 999 * 999);
	fclose(f);
	free(h);
}

/* ---- the checker times the round trips of what passed ------------------- */

struct pkt {
	uint8_t	b[256];
	size_t	len;
};

static struct sim_flow
flow_make(void)
{
	struct sim_flow f;

	memset(&f, 0, sizeof(f));
	f.aws.eni_id = 0x076bc493b822cd32fULL;
	f.aws.attachment_id = 0xa1b2c3d4e5f60718ULL;
	f.aws.cookie = 0x11223344;
	f.family = 4;
	f.proto = IPPROTO_UDP;
	inet_pton(AF_INET, "192.0.2.1", f.src);
	inet_pton(AF_INET, "198.51.100.1", f.dst);
	f.sport = 10000;
	f.dport = 5001;
	inet_pton(AF_INET, "198.18.0.1", &f.outer_src);
	inet_pton(AF_INET, "198.18.0.2", &f.outer_dst);
	f.outer_sport = 20000;
	f.outer_dport = GENEVE_PORT;
	return f;
}

/* The next packet of f as GWLB sends it, and as a right appliance returns it. */
static void
pkt_pair(struct sim_flow *f, struct pkt *sent, struct pkt *back)
{
	size_t ilen = sim_build_inner(sent->b + SIM_ENCAP_LEN,
	    sizeof(sent->b) - SIM_ENCAP_LEN, f, 100, 64);

	geneve_encode(sent->b + SIM_OUTER_LEN, GENEVE_AWS_HDR_LEN, &f->aws,
	    ETHERTYPE_IPV4);
	sent->len = SIM_ENCAP_LEN + ilen;
	*back = *sent;
	sim_outer_finish(sent->b, sent->len, f->outer_src, f->outer_dst,
	    f->outer_sport, f->outer_dport, 64, 1, false);
	sim_outer_finish(back->b, back->len, f->outer_dst, f->outer_src,
	    f->outer_sport, f->outer_dport, 64, 1, false);
}

/* chk_report's text (json false) or JSON, in a string to free. */
static char *
report_of(const struct chk *c, bool json)
{
	char *txt = NULL;
	size_t txtlen = 0;
	FILE *mf = open_memstream(&txt, &txtlen);

	assert_non_null(mf);
	chk_report(c, mf, json, NULL);
	assert_int_equal(fclose(mf), 0);
	assert_non_null(txt);
	return txt;
}

static void
test_chk_latency(void **state)
{
	struct chk_opts o = { .inner = CHK_INNER_FORWARDED, .port = GENEVE_PORT,
	    .grace_ns = 0, .window = 1024 };
	struct sim_flow f = flow_make();
	struct pkt s[100], r[100], bad;
	const struct sim_hist *h;
	struct chk *c;
	char *txt;

	(void)state;
	assert_int_equal(chk_new(&o, &c), 0);
	/* packet i leaves at 1 ms * i and comes back (i + 1) * 10 us later */
	for (int i = 0; i < 100; i++) {
		pkt_pair(&f, &s[i], &r[i]);
		chk_note_sent(c, s[i].b, s[i].len, 1000000ULL * (uint64_t)(i + 1));
	}
	for (int i = 99; i >= 0; i--)
		assert_int_equal(chk_returned(c, r[i].b, r[i].len, true,
		    1000000ULL * (uint64_t)(i + 1) + 10000ULL * (uint64_t)(i + 1)), 0);
	/* a duplicate and a wrong cookie are judged but not timed */
	assert_int_not_equal(chk_returned(c, r[5].b, r[5].len, true, 500000000), 0);
	bad = r[7];
	bad.b[SIM_OUTER_LEN + GENEVE_AWS_HDR_LEN - 1] ^= 1;	/* cookie's last byte */
	assert_int_not_equal(chk_returned(c, bad.b, bad.len, true, 500000000), 0);
	/* a reply dated before its packet left counts as 0, not as 2^64 */
	pkt_pair(&f, &s[0], &r[0]);
	chk_note_sent(c, s[0].b, s[0].len, 900000000);
	assert_int_equal(chk_returned(c, r[0].b, r[0].len, true, 899999000), 0);

	h = chk_latency(c);
	assert_int_equal(h->count, 101);
	assert_int_equal(h->min, 0);
	assert_int_equal(h->max, 1000000);			/* 100 * 10 us */
	/* 51st of 101: 50 * 10 us, 91st: 90 * 10 us, within a bucket's 1/128 */
	assert_true(sim_hist_quantile(h, PPM_P50) >= 500000);
	assert_true(sim_hist_quantile(h, PPM_P50) <= 500000 + 500000 / 128);
	assert_true(sim_hist_quantile(h, PPM_P90) >= 900000);
	assert_true(sim_hist_quantile(h, PPM_P90) <= 900000 + 900000 / 128);

	/* the report: text and JSON carry the percentiles in microseconds */
	txt = report_of(c, true);
	assert_non_null(strstr(txt, "\"latency_samples\":101,\"latency_us\":{\"p50\":501.759,"));
	assert_non_null(strstr(txt, "\"max\":1000.000,\"min\":0.000,"));
	free(txt);
	txt = report_of(c, false);
	assert_non_null(strstr(txt, "latency (us, 101 round trips): p50 501.8 p90 "));
	free(txt);
	chk_free(c);
}

/* Replies the appliance made itself cannot be timed: null, not 0. */
static void
test_chk_no_latency(void **state)
{
	struct chk_opts o = { .inner = CHK_INNER_FORWARDED, .port = GENEVE_PORT,
	    .window = 1024 };
	struct chk *c;
	char *txt;

	(void)state;
	assert_int_equal(chk_new(&o, &c), 0);
	txt = report_of(c, true);
	assert_non_null(strstr(txt, "\"latency_samples\":0,\"latency_us\":null"));
	free(txt);
	chk_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_empty_and_one),
		cmocka_unit_test(test_exact_small),
		cmocka_unit_test(test_against_sorted),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_beyond_limit),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_chk_latency),
		cmocka_unit_test(test_chk_no_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
