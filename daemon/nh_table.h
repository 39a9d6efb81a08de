/*
 * The packet socket's next hops (reply.c, --offload), shared by all reply
 * workers and kept by the manager: one table of NH_TABLE_SLOTS entries
 * keyed by (GWLB address, our address).  A worker only reads it, without
 * a lock, and asks for what it misses; the manager alone calls the kernel
 * (nl_nexthop.h, one netlink socket of its own), so a reply worker never
 * waits behind the kernel's rtnl lock (taken by RTM_GETNEIGH before Linux
 * 6.15, e.g. for the whole of a link's deletion).
 */
#ifndef GWLBTUND_NH_TABLE_H
#define GWLBTUND_NH_TABLE_H

#include <stdint.h>

#include "nl_nexthop.h"

#define NH_TABLE_SLOTS		32
#define NH_TABLE_WANTS		16		/* pairs asked for, not yet taken */
#define NH_REFRESH_NS		1000000000ull	/* an entry in use: asked again */
#define NH_STALE_GAP_NS		100000000ull	/* a stale one: not sooner */
#define NH_IDLE_NS		60000000000ull	/* unused that long: dropped */

/*
 * Workers: the next hop from saddr to daddr (network order) into out: 0,
 * -EAGAIN (not known yet: asked for, the manager woken through D.wake_fd
 * when it is a new ask) or the error the kernel's answer gave
 * (nl_nh_resolve).  Never blocks, never calls the kernel but for the wake.
 */
int nh_table_get(uint32_t daddr, uint32_t saddr, uint64_t now, struct nl_nexthop *out);
/* Workers: what the entry said failed on the wire: ask the kernel again. */
void nh_table_stale(uint32_t daddr, uint32_t saddr);
/*
 * Manager: take the asked pairs (a free entry, else the least recently
 * used one unused for NH_REFRESH_NS; none such: it stays asked for until
 * one is), refresh the entries in use every NH_REFRESH_NS (stale ones
 * after NH_STALE_GAP_NS), drop those unused for NH_IDLE_NS; at most
 * 20 ms of asking the kernel a tick, the rest at the next.
 */
void nh_table_tick(uint64_t now);
/* Entries in use now (any thread). */
unsigned nh_table_in_use(void);
/* Empty the table, close the manager's socket (the end; tests). */
void nh_table_fini(void);

#endif
