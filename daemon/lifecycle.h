/*
 * The ENI life cycle (lifecycle.c): called by the manager's event loop
 * only.
 */
#ifndef GWLBTUND_LIFECYCLE_H
#define GWLBTUND_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

struct nl_event;

/* Bring up the ENIs workers created since the last call (oldest first). */
void lifecycle_take_creates(void);
/* full (the timer): failed ENIs to retry, broken links to make again, idle
 * ENIs (-t); always: `eni destroy` requests, then lifecycle_reap(). */
void lifecycle_tick(uint64_t now, bool full);
/* rp_filter set back to 0, links deleted behind our back, resyncs. */
void lifecycle_nl_event(const struct nl_event *ev, void *arg);
/* Free what has finished its way out; start deferred creates. */
void lifecycle_reap(void);
/* Shutdown: tear every ENI down (after the workers stopped). */
void lifecycle_shutdown(void);
/* Nothing on its way out and nothing waiting to come up. */
bool lifecycle_idle(void);
/* Shutdown past its deadline (hooks killed): remove the routes anyway. */
void lifecycle_give_up(void);
/* Shutdown: the links of every ENI that went, in one batch. */
void lifecycle_bury(void);

#endif
