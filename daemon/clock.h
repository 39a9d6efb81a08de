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

/* now - t, 0 when t is later: a stamp from the coarse clock (or taken
 * after now was read) may be ahead of a precise now. */
static inline uint64_t
ns_since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

#endif
