/*
 * rtnetlink for the daemon's links: everything after TUNSETIFF (index, MTU,
 * up, rp_filter) goes through here, never through ioctl or ip/sysctl.
 * Only the manager thread calls these.
 */
#ifndef GWLBTUND_NL_H
#define GWLBTUND_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int nl_init(void);
void nl_fini(void);
/* ifindex of a link by name, or -errno (-ENODEV when there is none). */
int nl_link_index(const char *name);
/* The same, and the link's group (IFLA_GROUP) in *group. */
int nl_link_lookup(const char *name, uint32_t *group);
/* ifindex (or -errno) and whether the link is up (IFF_UP) in *up. */
int nl_link_state(const char *name, bool *up);
/* MTU, txqueuelen, link group, alias (IFLA_IFALIAS, if not NULL), IFF_UP
 * and IPv4 rp_filter 0 in one RTM_NEWLINK (after IPv6 addrgen off and
 * qdisc noqueue); 0 or -errno. */
int nl_link_setup(int ifindex, const char *name, unsigned mtu, unsigned txqlen,
    uint32_t group, const char *alias);
/* Delete every link of a link group in one batch. */
int nl_link_del_group(uint32_t group);
/* Delete a link by index; 0, or -errno (-ENODEV if already gone). */
int nl_link_del(int ifindex);

/* rtm_protocol of every route and rule we install, so leftovers are ours to
 * find (not in iproute2's rt_protos; `ip route show proto 247`). */
#define RTPROT_GWLBTUN	247
/*
 * IFLA_GROUP of every link we make, so that shutdown deletes them all in one
 * batch.  One fixed number: a namespace holds one gwlbtund at most (its
 * lock), and TUN links vanish with the descriptors of the daemon that made
 * them.  The ASCII of "gwlb", far from the small groups operators number
 * by hand; the package names it "gwlbtun" in /etc/iproute2/group.
 */
#define NL_LINK_GROUP	0x67776c62u	/* 1735879778 */
#define NL_TABLE_MAIN	254	/* RT_TABLE_MAIN */

struct route_inst;	/* route_model.h */

/*
 * Add (NLM_F_EXCL) or delete one instance of the route model; 0 or -errno.
 * err gets the kernel's reason with its extended ACK text.  Deleting what
 * is not there is not logged.
 */
int nl_route(bool add, const struct route_inst *ri, const char *what, char *err,
    size_t errlen);
/* Put back one of ours that was deleted or replaced behind our back: the
 * route with the same key (destination, metric, table) becomes ours again. */
int nl_route_restore(const struct route_inst *ri, const char *what, char *err,
    size_t errlen);
int nl_rule(bool add, const struct route_inst *ri, const char *what, char *err,
    size_t errlen);
/* Remove routes and rules with our protocol; returns how many. */
int nl_sweep_leftovers(void);

/* IPv4 rp_filter 0 on one link (and nothing else). */
int nl_link_rp_filter_off(int ifindex, const char *name);

/*
 * Link and IPv4 netconf events, on a socket of their own.  The manager
 * polls nl_events_fd() and calls nl_events_read(), which hands every
 * event of interest to fn.  An overflowing socket (ENOBUFS: events were
 * lost) is reported as NL_EV_RESYNC, so the caller re-checks everything.
 */
enum nl_event_kind { NL_EV_RP_FILTER, NL_EV_LINK_GONE, NL_EV_RESYNC, NL_EV_LINK_UPDOWN };
struct nl_event {
	enum nl_event_kind kind;
	int		ifindex;
	int		value;		/* NL_EV_RP_FILTER: the new value;
					 * NL_EV_LINK_UPDOWN: 1 up, 0 down */
};
int nl_events_open(void);	/* the fd, or -errno */
void nl_events_read(void (*fn)(const struct nl_event *ev, void *arg), void *arg);

#endif
