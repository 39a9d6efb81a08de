/*
 * The daemon's state as records (report.c): status, workers, drops and
 * ENIs, each written in one place into any sink of record.h, so gwlbctl's
 * records, the health page's bodies and /metrics cannot drift apart.
 */
#ifndef GWLBTUND_REPORT_H
#define GWLBTUND_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct eni;

/* Healthy: not shutting down, every worker's loop turning, not draining
 * and every ENI's gwi- link up; *why says which (why may be NULL).  The health port's 200/503 and the status
 * record's "healthy" both come from here. */
bool	 report_healthy(uint64_t now, const char **why);
/* gwlbctl drain (true) and undrain: the health answer is 503 while
 * draining, traffic flows on.  Returns the state before. */
bool	 report_drain(bool on);
bool	 report_draining(void);
void	 report_status(struct rec_sink *s, uint64_t now);
void	 report_workers(struct rec_sink *s, uint64_t now);
/* For /metrics only: the hook run time histogram. */
void	 report_hook_durations(struct rec_sink *s);
/* For /metrics only: each ENI's drops by reason, the reasons it has had. */
void	 report_eni_drops(struct rec_sink *s);
/* For /metrics only: receive coalescing's refusals by reason. */
void	 report_gro_refused(struct rec_sink *s);
void	 report_uso_fallback(struct rec_sink *s);
void	 report_drops(struct rec_sink *s);
/* One ENI; detail adds its links, hook, backlog and flow table counters. */
void	 report_eni(struct rec_sink *s, struct eni *e, uint64_t now, bool detail);
void	 report_enis(struct rec_sink *s, uint64_t now, bool detail);
/* What `gwlbctl doctor` judges: the daemon's settings and what it got,
 * the sysctls as its network namespace sees them, each link's rp_filter
 * and offloads. */
void	 report_doctor(struct rec_sink *s);

/* Every /metrics family, in the order /metrics shows them. */
extern const struct rec_metric report_metrics[];
extern const size_t report_metrics_count;

#endif
