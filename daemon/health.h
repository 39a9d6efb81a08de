/*
 * The health check and /metrics (health.c): HTTP on --port, for GWLB's
 * target health checks and Prometheus.
 */
#ifndef GWLBTUND_HEALTH_H
#define GWLBTUND_HEALTH_H

/*
 * Connections the health check holds at once: descriptors it may use on
 * top of its listening socket and epoll (gwlbtund(8), RESOURCE LIMITS).
 */
#define HEALTH_MAX_CLIENTS	256

int health_start(void);
void health_stop(void);

#endif
