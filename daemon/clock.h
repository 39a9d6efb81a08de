/*
 * Clocks of the daemon: monotonic nanoseconds, precise for the manager and
 * hooks, coarse (a tick old at most, no vDSO slow path) for the data path.
 * A leaf: it depends on nothing of the daemon.
 */
#ifndef GWLBTUND_CLOCK_H
#define GWLBTUND_CLOCK_H

#include <stdint.h>

uint64_t now_ns(void);
uint64_t coarse_ns(void);

#endif
