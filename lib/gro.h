/*
 * Receive-side coalescing of inner TCP segments (the part of GRO the
 * kernel cannot do for us: the segments arrive inside GENEVE).  Within one
 * receive batch, sequence-contiguous segments of one inner TCP flow, of
 * one domain (the ENI) and with byte-identical tags (the GENEVE header,
 * so never across a cookie change) become one super-packet: the head
 * segment's IP and TCP headers, rewritten for the total length, followed
 * by every segment's payload, described by a virtio_net_hdr the TUN driver
 * takes as a GSO packet.  Segmenting it back (the kernel does that on its
 * way out of the appliance) gives the original segments byte for byte, so
 * only segments that allow it are merged: the rules are wireguard-go's
 * (same addresses, ports, ACK, flags, options, TTL, TOS, flow label; PSH
 * only on the last; equal payload sizes but for a smaller last one; no IP
 * options or IPv6 extension headers; no SYN/FIN/RST/URG/ECE/CWR) plus an
 * IPv4 id that grows by one per segment and an identical TCP window, which
 * segmentation copies from the head.  Checksums are verified before
 * merging: the kernel fills in new ones, so a corrupted segment must never
 * become part of a super-packet.
 *
 * Pure functions, no system calls: gro_add() each packet of a batch in
 * the order received, gro_finish(), then take the items in order.  An item
 * is a single packet (written as it came) or a super-packet; items come in
 * the order of their first packet, which keeps every flow's order.
 */
#ifndef GWLB_GRO_H
#define GWLB_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRO_BATCH_MAX	1024	/* packets one batch holds */
#define GRO_MAX_SEGS	64	/* segments in one super-packet */
#define GRO_MAX_LEN	65535	/* bytes of one super-packet (its IP length) */
#define GRO_NONE	0xffff	/* end of an item's packet chain */

/* struct virtio_net_hdr, in the byte order of the host (what TUN expects
 * unless told otherwise with TUNSETVNETLE/BE). */
#define GRO_VNET_HDR_LEN	10
#define GRO_VNET_F_NEEDS_CSUM	1
#define GRO_VNET_GSO_NONE	0
#define GRO_VNET_GSO_TCPV4	1
#define GRO_VNET_GSO_TCPV6	4

struct gro_vnet_hdr {
	uint8_t		flags;
	uint8_t		gso_type;
	uint16_t	hdr_len;	/* IP + TCP headers */
	uint16_t	gso_size;	/* payload bytes per segment */
	uint16_t	csum_start;	/* the TCP header's offset */
	uint16_t	csum_offset;	/* the checksum field's offset in it */
};
_Static_assert(sizeof(struct gro_vnet_hdr) == GRO_VNET_HDR_LEN, "struct gro_vnet_hdr");

/*
 * Why a packet was not merged into the group before it.  Per packet: it
 * cannot be part of any super-packet; per pair: it could be, but not after
 * what its flow's open group holds, so it starts a new one.
 */
enum gro_refuse {
	GRO_R_NOT_TCP = 0,	/* not TCP over IPv4/IPv6 */
	GRO_R_IP_OPTIONS,	/* IPv4 options or IPv6 extension headers */
	GRO_R_FRAGMENT,		/* an IPv4 fragment */
	GRO_R_MALFORMED,	/* lengths that do not add up */
	GRO_R_FLAGS,		/* SYN, FIN, RST, URG, ECE, CWR, or no ACK */
	GRO_R_NO_PAYLOAD,	/* a bare ACK */
	GRO_R_CHECKSUM,		/* a wrong IPv4 header or TCP checksum */
	GRO_R_TAG,		/* another GENEVE header (cookie) than its flow's group */
	GRO_R_HEADER,		/* an IP or TCP field (TTL, ACK, window, options...) differs */
	GRO_R_SEQ,		/* not the next sequence number (a gap, reordering) */
	GRO_R_IP_ID,		/* IPv4 id not the previous one plus one */
	GRO_R_PSH,		/* the group's last segment had PSH */
	GRO_R_SIZE,		/* larger than the group's segments, or after a smaller one */
	GRO_R_FULL,		/* the group is at GRO_MAX_LEN or GRO_MAX_SEGS */
	GRO_R__MAX
};

/* Stable, short, kebab-case name of a reason ("seq-gap"). */
const char *gro_refuse_str(enum gro_refuse r);

struct gro_item {
	uint16_t	first;		/* index (gro_add order) of the head packet */
	uint16_t	nsegs;		/* 1: a single packet, written as it came */
	uint16_t	hdr_len;	/* nsegs > 1: bytes of hdr[] */
	uint32_t	len;		/* nsegs > 1: the super-packet's length */
	struct gro_vnet_hdr vnet;	/* nsegs > 1 */
	uint8_t		hdr[40 + 60];	/* nsegs > 1: IP + TCP headers, rewritten */
};

struct gro;

struct gro *gro_new(void);
void gro_free(struct gro *g);
/* Start a new batch (forget the packets and items of the last). */
void gro_reset(struct gro *g);
/*
 * Add the inner IP packet p (len bytes, trailing bytes already cut) of
 * domain dom; tag (tag_len bytes) must be equal for packets to merge.
 * tag NULL: pass the packet through, never merged (it still keeps its
 * place).  p and tag must stay valid until the batch is reset.  Returns
 * the packet's index, or -ENOSPC when the batch is full (finish it, take
 * its items, reset).
 */
int gro_add(struct gro *g, const uint8_t *p, size_t len, uint64_t dom,
    const uint8_t *tag, size_t tag_len);
/* Close the batch: build the super-packets' headers.  Returns the number
 * of items. */
unsigned gro_finish(struct gro *g);
const struct gro_item *gro_item(const struct gro *g, unsigned i);
/* The packets of an item: first, then gro_next() until GRO_NONE. */
unsigned gro_next(const struct gro *g, unsigned idx);
/* The packet at idx as added; *payload_off: where its TCP payload starts
 * (meaningful for the packets of an item with nsegs > 1). */
const uint8_t *gro_pkt(const struct gro *g, unsigned idx, size_t *len, size_t *payload_off);
/* Refusals of this batch for reason r (counted by gro_add). */
unsigned gro_refused(const struct gro *g, enum gro_refuse r);

/* Internet checksum helpers (RFC 1071), exposed for the tests and users. */
uint32_t gro_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t gro_csum_fold(uint32_t sum);

#endif
