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
	NLC_EV_DUMP,		/* the mirror was off: a dump of the kernel's tables */
};

/*
 * Fill the caches (one dump each) and subscribe to their events; the fd to
 * poll, or -errno.  fn hears of changes from nlc_read(), nlc_resync() and
 * nlc_tick().
 *
 * The caches hold at most max objects (links, addresses, routes and rules
 * together: --max-mirror), whatever others add to the namespace.  Past
 * that the mirror is off: the caches are emptied, events only say that
 * something changed, and nlc_tick() reads the kernel's tables whole (at
 * most every NLC_DUMP_EVERY_S seconds, and only after a change), hands
 * them to fn as NLC_EV_DUMP and nlc_release() frees them again; once a
 * dump fits under max, the mirror is on again.  While it is off and no
 * dump is held, the nlc_*_state() functions say NLC_UNKNOWN.
 */
#define NLC_DUMP_EVERY_S	5
int nlc_open(void (*fn)(enum nlc_event ev, void *arg), void *arg, unsigned max);
void nlc_close(void);
/* The fd is readable: apply every queued event (resyncing on ENOBUFS). */
void nlc_read(void);
/* Fill every cache again from a dump; fn hears NLC_EV_RESYNC. */
int nlc_resync(void);
/* On the manager's timer: the mirror is off and the kernel changed: a dump
 * (fn hears NLC_EV_DUMP; call nlc_release() once it was used). */
void nlc_tick(uint64_t now_ns);
/* After the callers' checks: the mirror is off: free what a dump left. */
void nlc_release(void);

/* For reports, from any thread. */
struct nlc_status {
	bool		open;		/* nlc_open succeeded */
	bool		on;		/* the mirror is kept (not past max) */
	uint64_t	objects;	/* what the caches held last (on: now) */
	uint64_t	max;
	uint64_t	overflows;	/* times it went past max */
	uint64_t	dumps;		/* dumps read while it was off */
};
void nlc_status(struct nlc_status *st);

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
