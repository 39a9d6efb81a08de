/*
 * Segmenting what a TUN queue with offloads hands back: a virtio_net_hdr
 * and a packet that may be a TCP (or UDP_L4) super-packet, or a packet
 * whose transport checksum is left for us to finish.  Pure functions over
 * caller buffers, no syscalls.  Nothing in the header is trusted: the
 * packet is parsed and every field checked against it before a byte is
 * written.  Each segment gets its own IP header (IPv4: total length, id
 * advanced per segment, header checksum; IPv6: payload length) and its own
 * transport header (TCP: sequence number advanced, FIN and PSH only on the
 * last segment, CWR only on the first; UDP: length), with the transport
 * checksum computed over the pseudo header.
 */
#ifndef GWLB_GSO_H
#define GWLB_GSO_H

#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr, fields in host order (what a TUN queue uses
 * unless TUNSETVNETLE/BE is set). */
struct gso_vnet {
	uint8_t		flags;		/* VIRTIO_NET_HDR_F_* */
	uint8_t		gso_type;	/* VIRTIO_NET_HDR_GSO_* (| _ECN) */
	uint16_t	hdr_len;
	uint16_t	gso_size;
	uint16_t	csum_start;
	uint16_t	csum_offset;
};

#define GSO_VNET_LEN	10
/* virtio_net_hdr's UDP segmentation (Linux 5.18); older headers lack it. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

/* What gso_begin() found; opaque to callers but for the counts. */
struct gso_iter {
	const uint8_t	*pkt;
	size_t		len;
	size_t		l4_off;		/* IP header length */
	size_t		hdr_len;	/* IP + transport headers */
	size_t		off;		/* next payload byte */
	size_t		seg_size;	/* payload per segment (all but the last) */
	unsigned	nseg;		/* segments in all */
	unsigned	idx;		/* next segment */
	uint8_t		family;		/* 4 or 6 */
	uint8_t		proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t		gso;		/* a super-packet (not only a checksum) */
	uint8_t		csum;		/* a transport checksum to compute */
};

/* Read a virtio_net_hdr from its GSO_VNET_LEN bytes (host order). */
void gso_vnet_read(const uint8_t *p, struct gso_vnet *v);
/* And write one (for tests and tools that make them). */
void gso_vnet_write(uint8_t *p, const struct gso_vnet *v);

/*
 * Check v against the packet [pkt, pkt + len) and prepare the iteration.
 * Returns the number of packets gso_next() will produce (1 for a plain
 * packet or one with a checksum to finish), or -EINVAL for a header that
 * does not describe the packet (unknown gso_type, gso_size 0, hdr_len or
 * csum_start/csum_offset past the packet or not where the packet has its
 * transport header and checksum, a super-packet with IPv4 options, IPv6
 * extension headers, a fragment, lengths that disagree with the IP header,
 * or no payload).  pkt must stay valid and unchanged until the last
 * gso_next().
 */
int gso_begin(struct gso_iter *it, const struct gso_vnet *v, const uint8_t *pkt, size_t len);
/* The largest packet gso_next() will write for this iteration. */
size_t gso_max_seg(const struct gso_iter *it);
/*
 * Write the next packet to out (cap bytes): its length, 0 when all were
 * written, or -EMSGSIZE when it does not fit in cap (the iteration moves
 * past it).
 */
long gso_next(struct gso_iter *it, uint8_t *out, size_t cap);

/* The RFC 1071 sum of [p, p + len) added to sum (not folded). */
uint32_t gso_csum_add(uint32_t sum, const void *p, size_t len);
/* Folded and complemented. */
uint16_t gso_csum_fold(uint32_t sum);

/*
 * The other way: the headers of one UDP GSO super-packet for a packet
 * socket with PACKET_VNET_HDR (reply.c, --offload).  At out (GSO_USO_HDR
 * bytes): a virtio_net_hdr (UDP_L4, gso_size = seg_len, NEEDS_CSUM on the
 * UDP header), Ethernet, IPv4 (DF, TTL 64, id, header checksum) and UDP
 * (ports as given, the length of the whole, the check field seeded with
 * the pseudo-header sum the kernel expects of a partial checksum: it
 * adjusts it per datagram and sums the rest).  payload_len bytes follow:
 * datagrams of seg_len bytes but the last.  Addresses, ports and id in
 * network order.  Returns GSO_USO_HDR, or -EINVAL for fewer than two
 * datagrams or a whole larger than IPv4 allows.
 */
struct gso_uso {
	uint8_t		dst_mac[6], src_mac[6];
	uint32_t	saddr, daddr;
	uint16_t	sport, dport;
	uint16_t	ip_id;
	uint8_t		ttl;
};

#define GSO_USO_L2	14
#define GSO_USO_HDR	(GSO_VNET_LEN + GSO_USO_L2 + 20 + 8)

int gso_uso_header(uint8_t *out, const struct gso_uso *u, size_t payload_len,
    size_t seg_len);

#endif
