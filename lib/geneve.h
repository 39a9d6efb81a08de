/*
 * GENEVE (RFC 8926) codec for the AWS Gateway Load Balancer.
 *
 * geneve_decode() validates one UDP payload as GWLB sends it and points
 * into it: it never allocates and never reads past the length it is given.
 * Every way a datagram can be refused has its own reason code, so the
 * daemon can count each one.  geneve_encode() builds the header GWLB
 * sends; the daemon itself replays the received header byte for byte.
 */
#ifndef GWLB_GENEVE_H
#define GWLB_GENEVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GENEVE_PORT		6081
#define GENEVE_BASE_LEN		8	/* fixed header, no options */
#define GENEVE_MAX_OPT_LEN	(63 * 4)	/* 6-bit length in 4-byte words */
#define GENEVE_MAX_HDR_LEN	(GENEVE_BASE_LEN + GENEVE_MAX_OPT_LEN)
#define GENEVE_OPT_HDR_LEN	4

#define GENEVE_CLASS_AWS	0x0108
#define GENEVE_AWS_ENI		1	/* 8 bytes: GWLB endpoint ("ENI") id */
#define GENEVE_AWS_ATTACHMENT	2	/* 8 bytes: attachment id */
#define GENEVE_AWS_COOKIE	3	/* 4 bytes: flow cookie */
#define GENEVE_OPT_CRITICAL	0x80	/* high bit of the option type */

/* Header GWLB sends: 8 base + three options (12 + 12 + 8) = 40 bytes. */
#define GENEVE_AWS_HDR_LEN	40

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86DD

/* Why a datagram was refused.  Order is ABI for nothing; strings are stable. */
enum geneve_err {
	GENEVE_OK = 0,
	GENEVE_ERR_SHORT,	/* shorter than the 8-byte base header */
	GENEVE_ERR_VERSION,	/* version field not 0 */
	GENEVE_ERR_CONTROL,	/* O bit set: control message, never forwarded */
	GENEVE_ERR_OPT_LEN,	/* option length runs past the datagram */
	GENEVE_ERR_TLV,		/* an option TLV runs past the option area */
	GENEVE_ERR_CRITICAL,	/* unknown option with the critical bit set */
	GENEVE_ERR_AWS_LEN,	/* an AWS option of the wrong length */
	GENEVE_ERR_AWS_DUP,	/* an AWS option given twice */
	GENEVE_ERR_NO_ENI,	/* ENI id option missing */
	GENEVE_ERR_NO_ATTACHMENT, /* attachment id option missing */
	GENEVE_ERR_NO_COOKIE,	/* flow cookie option missing */
	GENEVE_ERR_PROTO,	/* protocol type not IPv4/IPv6 */
	GENEVE_ERR_INNER,	/* inner packet not a sane IP header */
	GENEVE_ERR_INNER_LEN,	/* inner packet shorter than its header says */
	GENEVE_ERR__MAX
};

struct geneve_aws {
	uint64_t	eni_id;
	uint64_t	attachment_id;
	uint32_t	cookie;
};

struct geneve_pkt {
	struct geneve_aws aws;
	uint32_t	vni;		/* 24 bits */
	uint16_t	proto;		/* ETHERTYPE_IPV4 or ETHERTYPE_IPV6 */
	uint16_t	hdr_len;	/* GENEVE header incl. options */
	const uint8_t	*inner;		/* the inner IP packet */
	size_t		inner_len;	/* as its IP header says (trailing bytes cut) */
};

/*
 * Decode a GENEVE datagram (the UDP payload).  Returns GENEVE_OK and fills
 * *out, or a GENEVE_ERR_* reason; *out is then unspecified.
 */
enum geneve_err geneve_decode(const uint8_t *buf, size_t len,
    struct geneve_pkt *out);

/* Stable, short, kebab-case name of a reason ("bad-version"). */
const char *geneve_err_str(enum geneve_err err);

/*
 * Write the 40-byte header GWLB sends (version 0, no flags, VNI 0, the
 * three AWS options in the order ENI, attachment, cookie) for an inner
 * packet of the given ethertype.  Returns the header length or -ENOSPC.
 */
ssize_t geneve_encode(uint8_t *buf, size_t cap, const struct geneve_aws *aws,
    uint16_t proto);

#endif
