/*
 * Inner-packet keys: what identifies the flow an inner IPv4/IPv6 packet
 * belongs to.  The parser honours the IPv4 IHL, walks IPv6 extension
 * headers (hop-by-hop, routing, destination options, fragment), uses the
 * ICMP/ICMPv6 echo id as the port, tells first and later fragments apart,
 * and for an ICMP error gives the key of the packet the error quotes, so
 * that an error made on the appliance finds the flow that caused it.
 */
#ifndef GWLB_PKT_H
#define GWLB_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Addresses are 16 bytes; an IPv4 address takes the first 4, the rest 0. */
struct pkt_key {
	uint8_t		src[16];
	uint8_t		dst[16];
	uint16_t	sport;		/* host order; ICMP echo: the id */
	uint16_t	dport;		/* host order; ICMP echo: the id */
	uint8_t		family;		/* 4 or 6 */
	uint8_t		proto;		/* IPPROTO_* of the transport header */
	uint8_t		pad[2];		/* zero: keys are compared with memcmp */
};

enum pkt_frag {
	PKT_FRAG_NONE = 0,	/* not a fragment */
	PKT_FRAG_FIRST,		/* offset 0, more fragments follow: ports known */
	PKT_FRAG_LATER,		/* offset > 0: no transport header, ports 0 */
};

enum pkt_err {
	PKT_OK = 0,
	PKT_ERR_SHORT,		/* shorter than its IP header */
	PKT_ERR_VERSION,	/* not IPv4 or IPv6 */
	PKT_ERR_HDR,		/* bad IHL, total length or extension chain */
	PKT_ERR_TRUNC,		/* transport header cut off (not a fragment) */
	PKT_ERR__MAX
};

struct pkt_info {
	struct pkt_key	key;	/* of the packet, or of the quoted one */
	enum pkt_frag	frag;
	uint32_t	frag_id;	/* IPv4: 16-bit id; IPv6: 32-bit id */
	bool		icmp_error;	/* key is that of the quoted packet */
	uint8_t		icmp_type;	/* when proto is ICMP/ICMPv6 */
	uint16_t	l3_len;		/* IP header incl. extension headers */
	uint16_t	tot_len;	/* as the IP header says */
};

/*
 * Parse the inner packet at p (len bytes).  Ports of protocols other than
 * TCP, UDP, UDP-Lite, SCTP, DCCP and ICMP echo are 0.  For an ICMP error the
 * key is that of the quoted packet as it was sent (not reversed); a quote
 * too short for its ports leaves them 0.
 */
enum pkt_err pkt_parse(const uint8_t *p, size_t len, struct pkt_info *out);

/* Swap source and destination address and port. */
void pkt_key_reverse(const struct pkt_key *in, struct pkt_key *out);

/* Hash of the key (seeded), the same for equal keys. */
uint32_t pkt_key_hash(const struct pkt_key *k, uint32_t seed);

/* "tcp 192.0.2.1:1234 -> 198.51.100.2:80" or "udp [2001:db8::1]:53 -> ..." */
int pkt_key_format(const struct pkt_key *k, char *buf, size_t size);

const char *pkt_err_str(enum pkt_err err);

#endif
