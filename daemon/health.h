/*
 * The health check and /metrics (health.c): HTTP on --port, for GWLB's
 * target health checks and Prometheus.
 */
#ifndef GWLBTUND_HEALTH_H
#define GWLBTUND_HEALTH_H

/*
 * Clients served at once: each a descriptor, on top of the listening
 * socket and the epoll (main.c counts them; gwlbtund(8), RESOURCE LIMITS).
 */
#define HEALTH_CLIENTS_MAX	64

int health_start(void);
void health_stop(void);

#endif
