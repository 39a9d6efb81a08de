/*
 * The daemon's mirror of the kernel: links, routes, rules (IPv4 and IPv6)
 * and addresses, kept by libnl-route-3's cache manager from rtnetlink
 * events, so what we declared can be checked against what the kernel has
 * (route.c's reconciliation) instead of assumed.  Manager thread
 * only.  No netlink type crosses this header.
 */
#ifndef GWLBTUND_NL_CACHE_H
#define GWLBTUND_NL_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct route_inst;	/* route_model.h */

/* What nlc_read() tells its caller. */
enum nlc_event {
	NLC_EV_ROUTES,		/* a route or rule was added, changed or deleted */
	NLC_EV_RESYNC,		/* events were lost (ENOBUFS): caches dumped again */
};

/*
 * Fill the caches (one dump each) and subscribe to their events; the fd to
 * poll, or -errno.  fn hears of changes from nlc_read() and nlc_resync().
 */
int nlc_open(void (*fn)(enum nlc_event ev, void *arg), void *arg);
void nlc_close(void);
/* The fd is readable: apply every queued event (resyncing on ENOBUFS). */
void nlc_read(void);
/* Fill every cache again from a dump; fn hears NLC_EV_RESYNC. */
int nlc_resync(void);

/* What the kernel has of one instance of the route model. */
enum nlc_state {
	NLC_UNKNOWN,		/* no mirror (nlc_open failed or not called) */
	NLC_PRESENT,		/* as we installed it */
	NLC_MISSING,		/* gone */
	NLC_CHANGED,		/* the same key with another gateway, link or owner */
};
enum nlc_state nlc_route_state(const struct route_inst *ri);
/* A rule that is there gives its priority (*prio). */
enum nlc_state nlc_rule_state(const struct route_inst *ri, uint32_t *prio);
/* Whether the kernel has a link with this ifindex (true without a mirror). */
bool nlc_link_exists(int ifindex);

#endif
