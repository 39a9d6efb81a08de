/*
 * Every reason a packet is dropped, with the side it is dropped on: the
 * receive side (GWLB -> appliance) or the reply side (appliance -> GWLB).
 * Each has a counter per thread (counters.h).  The names are part of the
 * interface: gwlbctl show drops, the health page and /metrics print them,
 * and tests read the list from the daemon (gwlbctl -j show drops) rather
 * than keeping a copy.  A leaf: it depends on nothing of the daemon.
 */
#ifndef GWLBTUND_DROP_H
#define GWLBTUND_DROP_H

#include "geneve.h"

enum drop_reason {
	DROP_TRUNCATED = 0,	/* datagram larger than the receive buffer */
	DROP_ORIGIN,		/* outer source not in --allowed-origin */
	DROP_NOT_IPV4,		/* outer not IPv4 (GWLB always sends IPv4) */
	DROP_GENEVE,		/* first of GENEVE_ERR__MAX - 1 decoder reasons */
	DROP_ENI_LIMIT = DROP_GENEVE + GENEVE_ERR__MAX - 1,	/* --max-enis reached */
	DROP_BACKLOG_FULL,	/* ENI still coming up and its backlog is full */
	DROP_BACKLOG_BYTES,	/* all ENIs' backlogs together at --backlog-bytes */
	DROP_ENI_FAILED,	/* the ENI's links could not be created */
	DROP_ENI_CLOSING,	/* the ENI is being torn down */
	DROP_TUN_WRITE,		/* write to the TUN queue failed */
	DROP_TUN_READ,		/* reading a reply from a TUN queue failed */
	DROP_NO_FLOW,		/* reply with no flow to return it on */
	DROP_LINK_LOCAL,	/* the kernel's own link-local traffic (MLD, RS): no flow can carry it */
	DROP_TOO_BIG,		/* reply larger than GWLB's MTU (it would lose it) */
	DROP_REPLY_BAD,		/* reply not a parsable IPv4/IPv6 packet */
	DROP_SEND,		/* sending the reply to GWLB failed */
	DROP__MAX
};

enum drop_side { DROP_SIDE_RECEIVE, DROP_SIDE_REPLY };

const char *drop_str(enum drop_reason r);
enum drop_side drop_side(enum drop_reason r);
/* "receive" or "reply". */
const char *drop_side_str(enum drop_side s);

static inline enum drop_reason
drop_from_geneve(enum geneve_err e)
{
	return (enum drop_reason)(DROP_GENEVE + (int)e - 1);
}

#endif
