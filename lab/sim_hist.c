/*
 * A latency histogram of fixed size, HdrHistogram's log-linear layout:
 * values below 2^SIM_HIST_SUB_BITS each have a bucket of their own; above,
 * every power of two is cut into 2^SIM_HIST_SUB_BITS equal buckets, so a
 * bucket is never wider than 1/128 of the values it holds (0.8 %).  Adding
 * a value is a few shifts and an increment: no allocation per packet, and
 * the whole thing is one array that can be summed with another.
 *
 * A quantile is the upper bound of the bucket that holds its rank (the
 * value below which at least that share of the samples lie), never above
 * the largest value seen: HdrHistogram's "highest equivalent value", so a
 * percentile is never reported better than it was, and p50 <= p90 <= ...
 * <= max holds by construction.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sim.h"

#define SUB		(1u << SIM_HIST_SUB_BITS)

void
sim_hist_reset(struct sim_hist *h)
{
	memset(h, 0, sizeof(*h));
}

size_t
sim_hist_index(uint64_t v)
{
	unsigned e, shift;

	if (v >= SIM_HIST_LIMIT)
		v = SIM_HIST_LIMIT - 1;
	if (v < SUB)
		return (size_t)v;
	e = 63u - (unsigned)__builtin_clzll(v);		/* v in [2^e, 2^(e+1)) */
	shift = e - SIM_HIST_SUB_BITS;
	return (size_t)(shift + 1) * SUB + (size_t)((v >> shift) - SUB);
}

uint64_t
sim_hist_lower(size_t i)
{
	size_t shift;

	if (i < SUB)
		return i;
	shift = i / SUB - 1;
	return (uint64_t)(i % SUB + SUB) << shift;
}

uint64_t
sim_hist_upper(size_t i)
{
	size_t shift = i < SUB ? 0 : i / SUB - 1;

	return sim_hist_lower(i) + ((uint64_t)1 << shift) - 1;
}

void
sim_hist_add(struct sim_hist *h, uint64_t v)
{
	h->bucket[sim_hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

void
sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < SIM_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
}

uint64_t
sim_hist_quantile(const struct sim_hist *h, uint32_t ppm)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	if (ppm > 1000000)
		ppm = 1000000;
	/* the rank-th smallest sample, rank = ceil(count * ppm / 10^6) >= 1 */
	rank = (h->count / 1000000) * ppm +
	    ((h->count % 1000000) * ppm + 999999) / 1000000;
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < SIM_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			/* the last bucket also holds everything past the limit */
			uint64_t u = i == SIM_HIST_BUCKETS - 1 ? h->max :
			    sim_hist_upper(i);

			if (u > h->max)
				u = h->max;
			if (u < h->min)
				u = h->min;
			return u;
		}
	}
	return h->max;
}

int
sim_hist_write(const struct sim_hist *h, FILE *f)
{
	fprintf(f, "# gwlbsim latency histogram: round trips in ns, %u buckets "
	    "per power of two\n", SUB);
	fprintf(f, "# samples %" PRIu64 " min %" PRIu64 " max %" PRIu64
	    " sum %" PRIu64 "\n", h->count, h->min, h->max, h->sum);
	fprintf(f, "# lower_ns upper_ns count\n");
	for (size_t i = 0; i < SIM_HIST_BUCKETS; i++)
		if (h->bucket[i])
			fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			    sim_hist_lower(i), sim_hist_upper(i), h->bucket[i]);
	return ferror(f) ? -EIO : 0;
}
