/*
 * Sums of the counters for gwlbctl, the health page and /metrics (stats.c).
 */
#ifndef GWLBTUND_STATS_H
#define GWLBTUND_STATS_H

#include "eni_table.h"
#include "worker.h"

/* stats.c: sums for gwlbctl and the health page */
void stats_thread(const struct thread_stats *ts, const struct stats_snap *base,
    struct stats_snap *out);
/* raw: the counters as counted (the health port, /metrics: they never go
 * down); otherwise since the last `gwlbctl counters reset` (gwlbctl). */
void stats_worker(const struct worker *w, bool raw, struct stats_snap *out);
/* One ENI as gwlbctl and the health page show it. */
struct eni_view {
	const char	*state;
	uint64_t	pkts_in, bytes_in, pkts_out, bytes_out, drops;
	uint64_t	flows, flow_inserts, flow_evictions, flow_expired, flow_refused;
	uint64_t	idle_ns;
	/* Per second over the last few seconds: packets, and bits of the
	 * inner packets (bytes_in/out * 8). */
	uint64_t	pps_in, bps_in, pps_out, bps_out;
};
/* An ENI that is up but whose gwi- link an operator set down. */
bool stats_eni_link_down(const struct eni *e);
void eni_view(const struct eni *e, uint64_t now, bool raw, struct eni_view *v);
/* Every STATS_RATE_STEP_NS: a sample of every ENI's counters for the rates
 * of eni_view (the manager calls it on each timer tick). */
#define STATS_RATE_STEP_NS	1000000000ull
void stats_rates_tick(uint64_t now);
/* `gwlbctl counters reset`: what is counted now becomes gwlbctl's new zero
 * (a baseline subtracted in its replies; raw readers never see it). */
void stats_reset(void);
/* Sums over every thread of a kind (WORKER_RX, WORKER_REPLY) or all (-1). */
void stats_kind(int kind, bool raw, struct stats_snap *out);
/* Workers whose loop has not turned for too long (0 = healthy); the
 * health page and the service manager's watchdog use STATS_STUCK_NS. */
#define STATS_STUCK_NS	(5ull * 1000000000ull)
unsigned stats_stuck_workers(uint64_t now, uint64_t limit_ns);

#endif
