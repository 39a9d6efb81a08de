/*
 * Where an IPv4 datagram to a given address leaves, at layer 2: the
 * egress link, its MAC and MTU, and the next hop's MAC, from the kernel's
 * own route, link and neighbour tables.  For the reply workers' packet
 * socket (reply.c, --offload): asked by the manager alone, on a request
 * socket of its own, for the table the reply workers read (nh_table.h).
 */
#ifndef GWLBTUND_NL_NEXTHOP_H
#define GWLBTUND_NL_NEXTHOP_H

#include <stdint.h>

struct nl_nexthop {
	int		ifindex;
	unsigned	mtu;		/* the link's, or the route's when lower */
	unsigned	gso_max_size;	/* the link's: a write's frame at most */
	unsigned	gso_max_segs;	/* the link's: a write's segments at most */
	uint8_t		src_mac[6], dst_mac[6];
};

struct nl_nh_sock;

struct nl_nh_sock *nl_nh_open(void);
void nl_nh_close(struct nl_nh_sock *s);
/*
 * Resolve daddr as sent from saddr (network order) into out: 0, or
 * -ENETUNREACH (no unicast route, or one through a gateway that is not
 * IPv4), -EPFNOSUPPORT (the egress link is not Ethernet), -EHOSTUNREACH
 * (the next hop's MAC is not known or not usable: incomplete, failed),
 * -EBADMSG (an answer that does not parse), or another -errno from the
 * kernel.  out->mtu is the lower of the route's MTU and the link's.
 */
int nl_nh_resolve(struct nl_nh_sock *s, uint32_t daddr, uint32_t saddr,
    struct nl_nexthop *out);

#endif
