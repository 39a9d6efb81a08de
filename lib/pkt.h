/*
 * Inner-packet keys: what identifies the flow an inner IPv4/IPv6 packet
 * belongs to.  The parser honours the IPv4 IHL, walks IPv6 extension
 * headers (hop-by-hop, routing, destination options, fragment, AH), uses
 * the ICMP/ICMPv6 echo id as the port, tells first and later fragments
 * apart, and for an ICMP error gives the key of the packet the error
 * quotes, so that an error made on the appliance finds the flow that
 * caused it.
 *
 * pkt_parse() runs once per packet on the hot path: it never allocates,
 * never reads outside [p, p + len) and does not verify checksums (the
 * kernel on either side of us does).
 */
#ifndef GWLB_PKT_H
#define GWLB_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * More IPv6 extension headers than this in one chain is refused as
 * PKT_ERR_HDR: a sane chain (hop-by-hop, destination options, routing,
 * fragment, AH, destination options) has at most six.
 */
#define PKT_V6_MAX_EXT		8

/* A protocol's name ("tcp", "icmpv6", ...), NULL for one without. */
const char *pkt_proto_name(uint8_t proto);

/* Room pkt_key_format() needs for any key, NUL included. */
#define PKT_KEY_STRLEN		128

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
_Static_assert(sizeof(struct pkt_key) == 40, "struct pkt_key has holes");

enum pkt_frag {
	PKT_FRAG_NONE = 0,	/* not a fragment (an IPv6 atomic fragment too) */
	PKT_FRAG_FIRST,		/* offset 0, more fragments follow: ports known */
	PKT_FRAG_LATER,		/* offset > 0: no transport header, ports 0 */
};
/*
 * For an IPv6 later fragment key.proto is the fragment header's next
 * header: the upper-layer protocol, unless the sender put extension
 * headers (destination options) after the fragment header.  Match later
 * fragments by addresses and frag_id, not by proto.
 */

/*
 * Why a packet could not be keyed.  For an ICMP error these also describe
 * the quoted packet: a quote cut off inside its own IP header or extension
 * chain is PKT_ERR_TRUNC, a quote of the other IP version PKT_ERR_HDR.
 */
enum pkt_err {
	PKT_OK = 0,
	PKT_ERR_SHORT,		/* shorter than its IP header, IHL or total
				   length (IPv4) or payload length (IPv6) */
	PKT_ERR_VERSION,	/* not IPv4 or IPv6 */
	PKT_ERR_HDR,		/* IHL < 5, total length < IHL, extension chain
				   past the payload or too long, bad quote */
	PKT_ERR_TRUNC,		/* transport header cut off before its ports
				   (or ICMP header before 8 bytes); not for a
				   later fragment, which has none */
	PKT_ERR__MAX
};

struct pkt_info {
	struct pkt_key	key;	/* of the packet, or of the quoted one */
	enum pkt_frag	frag;	/* of the packet itself, never of a quote */
	uint32_t	frag_id;	/* IPv4: 16-bit id; IPv6: 32-bit id; 0
					   when not a fragment */
	bool		icmp_error;	/* key is that of the quoted packet */
	uint8_t		icmp_type;	/* when proto is ICMP/ICMPv6: the type of
					   this packet's ICMP header (for an
					   error, the error's type) */
	uint16_t	l3_len;		/* IP header incl. extension headers */
	uint32_t	tot_len;	/* as the IP header says (IPv6: 40 +
					   payload length) */
};

/*
 * Parse the inner packet at p (len bytes).  Bytes past the IP total length
 * (link padding) are ignored.  Ports of protocols other than TCP, UDP,
 * UDP-Lite, SCTP, DCCP and ICMP echo are 0.  For an ICMP error the key is
 * that of the quoted packet as it was sent (not reversed); the quote may
 * be cut short anywhere after its IP header and extension headers (as
 * quotes are): ports it does not hold are 0.  An ICMP error quoting an
 * ICMP packet gives that packet's key (echo id, or ports 0), without
 * looking further.  IPv6 jumbograms are not supported (PKT_ERR_HDR).
 * Returns PKT_OK and fills *out; on error *out is unspecified.
 */
enum pkt_err pkt_parse(const uint8_t *p, size_t len, struct pkt_info *out);

/* Swap source and destination address and port.  in may equal out. */
void pkt_key_reverse(const struct pkt_key *in, struct pkt_key *out);

/* Hash of the key (seeded), the same for equal keys. */
uint32_t pkt_key_hash(const struct pkt_key *k, uint32_t seed);

/*
 * "tcp 192.0.2.1:1234 -> 198.51.100.2:80", "udp [2001:db8::1]:53 -> ...",
 * "icmp 192.0.2.1 -> 192.0.2.2 id 7", "proto 47 192.0.2.1 -> 192.0.2.2".
 * Returns the length written (NUL excluded), -ENOSPC if it did not fit
 * (buf then holds a NUL-terminated prefix when size > 0), -EINVAL for a
 * family other than 4 or 6.
 */
int pkt_key_format(const struct pkt_key *k, char *buf, size_t size);

/* Stable, short, kebab-case name of an error ("truncated"). */
const char *pkt_err_str(enum pkt_err err);

#endif
