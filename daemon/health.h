/*
 * The health check and /metrics (health.c): HTTP on --port, for GWLB's
 * target health checks and Prometheus.
 */
#ifndef GWLBTUND_HEALTH_H
#define GWLBTUND_HEALTH_H

int health_start(void);
void health_stop(void);

#endif
