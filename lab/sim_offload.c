/*
 * Offloads at the TUN boundary of gwlbsim bridge.  A TUN link opened with
 * IFF_VNET_HDR and TSO/USO offloads hands over super-packets (up to 64 KiB,
 * transport checksum left partial) with a virtio_net_hdr in front; GWLB
 * carries every TCP segment as its own GENEVE datagram, so sim_gso_segment
 * cuts them into the packets a NIC would have sent.  The other way,
 * sim_coal_* glues consecutive TCP segments of one flow back into one
 * super-packet for one TUN write, which is what a NIC's LRO/GRO hands a
 * virtio guest.  Neither knows about GENEVE: the caller leaves room in
 * front of each segment and points at the segments it wants glued.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>

#include "bytes.h"
#include "sim.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_URG		0x20
#define TCP_CWR		0x80

_Static_assert(sizeof(struct virtio_net_hdr) == SIM_VNET_LEN, "vnet header");

static uint16_t
fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Where the IPv4/IPv6 and transport headers of pkt are; 0 or -EPROTO. */
struct l3l4 {
	int	 family;
	size_t	 l3len;		/* IP header with IPv6 extension headers */
	size_t	 l4len;		/* TCP header with options, or 8 for UDP */
	uint8_t	 proto;
};

static int
headers(const uint8_t *p, size_t len, const struct virtio_net_hdr *vh,
    struct l3l4 *h)
{
	if (len < 20)
		return -EPROTO;
	h->family = p[0] >> 4;
	if (h->family == 4) {
		h->l3len = (size_t)(p[0] & 0x0f) * 4;
		h->proto = p[9];
		if (h->l3len < 20 || (rd16(p + 6) & 0x3fff))
			return -EPROTO;
	} else if (h->family == 6) {
		if (len < 40)
			return -EPROTO;
		h->proto = p[6];
		h->l3len = 40;
		/* extension headers: trust the kernel's csum_start */
		if (h->proto != IPPROTO_TCP && h->proto != IPPROTO_UDP) {
			if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
			    vh->csum_start < 48 || vh->csum_start >= len)
				return -EPROTO;
			h->l3len = vh->csum_start;
			h->proto = vh->csum_offset == 16 ? IPPROTO_TCP : IPPROTO_UDP;
		}
	} else {
		return -EPROTO;
	}
	if (h->proto == IPPROTO_TCP) {
		if (len < h->l3len + 20)
			return -EPROTO;
		h->l4len = (size_t)(p[h->l3len + 12] >> 4) * 4;
		if (h->l4len < 20)
			return -EPROTO;
	} else if (h->proto == IPPROTO_UDP) {
		h->l4len = 8;
	} else {
		return -EPROTO;
	}
	if (len < h->l3len + h->l4len)
		return -EPROTO;
	return 0;
}

/*
 * IP lengths and the full transport checksum of one finished packet;
 * paysum is the sum of the payload after the headers (an even offset).
 */
static void
finish(uint8_t *p, size_t len, const struct l3l4 *h, uint32_t paysum)
{
	uint8_t *l4 = p + h->l3len;
	size_t l4tot = len - h->l3len;
	size_t off = h->proto == IPPROTO_TCP ? 16 : 6;
	uint32_t s;
	uint16_t c;

	if (h->family == 4) {
		wr16(p + 2, (uint16_t)len);
		p[10] = p[11] = 0;
		wr16(p + 10, sim_ip4_csum(p));
		s = sim_csum_pseudo(4, p + 12, p + 16, h->proto, (uint32_t)l4tot);
	} else {
		wr16(p + 4, (uint16_t)(len - 40));
		s = sim_csum_pseudo(6, p + 8, p + 24, h->proto, (uint32_t)l4tot);
	}
	if (h->proto == IPPROTO_UDP)
		wr16(l4 + 4, (uint16_t)l4tot);
	l4[off] = l4[off + 1] = 0;
	s += paysum;
	if (s < paysum)
		s++;
	c = sim_csum_fold(sim_csum_add(s, l4, h->l4len));
	if (h->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	wr16(l4 + off, c);
}

int
sim_gso_segment(const struct virtio_net_hdr *vh, const uint8_t *pkt,
    size_t len, uint8_t *out, size_t cap, size_t room, struct sim_seg *seg,
    unsigned maxseg)
{
	struct l3l4 h;
	size_t hlen, pay, mss, pos = 0;
	unsigned n;
	uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (maxseg == 0)
		return -ENOSPC;
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (room + len > cap)
			return -ENOSPC;
		memcpy(out + room, pkt, len);
		seg[0].data = out + room;
		seg[0].len = len;
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			size_t st = vh->csum_start, off = vh->csum_offset;

			if (st >= len || st + off + 2 > len)
				return -EPROTO;
			/* the field holds the pseudo-header sum already */
			wr16(out + room + st + off,
			    sim_csum_fold(sim_csum_add(0, pkt + st, len - st)));
			if (off == 6 && out[room + st + 6] == 0 &&
			    out[room + st + 7] == 0)
				out[room + st + 7] = 0xff, out[room + st + 6] = 0xff;
		}
		return 1;
	}
	if (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6 &&
	    gso != VIRTIO_NET_HDR_GSO_UDP_L4)
		return -EPROTO;
	if (headers(pkt, len, vh, &h) < 0)
		return -EPROTO;
	if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && (h.family != 4 || h.proto != IPPROTO_TCP)) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV6 && (h.family != 6 || h.proto != IPPROTO_TCP)) ||
	    (gso == VIRTIO_NET_HDR_GSO_UDP_L4 && h.proto != IPPROTO_UDP))
		return -EPROTO;
	hlen = h.l3len + h.l4len;
	pay = len - hlen;
	mss = vh->gso_size;
	if (mss == 0)
		return -EPROTO;
	n = 0;
	for (size_t off = 0; off < pay || n == 0; off += mss) {
		size_t chunk = pay - off < mss ? pay - off : mss;
		bool last = off + chunk >= pay;
		uint8_t *s = out + pos + room;
		uint32_t paysum;

		if (n == maxseg || pos + room + hlen + chunk > cap)
			return -ENOSPC;
		memcpy(s, pkt, hlen);
		paysum = sim_csum_copy(s + hlen, pkt + hlen + off, chunk);
		if (h.family == 4)
			wr16(s + 4, (uint16_t)(rd16(pkt + 4) + n));
		if (h.proto == IPPROTO_TCP) {
			uint8_t *th = s + h.l3len;

			wr32(th + 4, (uint32_t)(rd32(pkt + h.l3len + 4) + off));
			if (!last)
				th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (n > 0)
				th[13] &= (uint8_t)~TCP_CWR;
		}
		finish(s, hlen + chunk, &h, paysum);
		seg[n].data = s;
		seg[n].len = hlen + chunk;
		n++;
		pos += room + hlen + chunk;
		if (last)
			break;
	}
	return (int)n;
}

/* Coalescing ------------------------------------------------------------- */

void
sim_coal_reset(struct sim_coal *c)
{
	c->n = 0;
	c->closed = false;
}

/* A TCP segment with data and no flag beyond ACK and PSH: 0, else -1. */
static int
coal_probe(const uint8_t *p, size_t len, struct l3l4 *h)
{
	static const struct virtio_net_hdr none;
	const uint8_t *th;

	if (headers(p, len, &none, h) < 0 || h->proto != IPPROTO_TCP)
		return -1;
	if (h->family == 4 && (rd16(p + 2) != len || h->l3len != 20))
		return -1;
	if (h->family == 6 && (rd16(p + 4) + 40u != len || p[6] != IPPROTO_TCP))
		return -1;
	th = p + h->l3len;
	if ((th[13] & ~(TCP_ACK | TCP_PSH)) != 0 || !(th[13] & TCP_ACK))
		return -1;
	if (len == h->l3len + h->l4len)
		return -1;		/* a bare ACK */
	return 0;
}

/* Headers of p and q equal but for lengths, IPv4 id, checksums, seq, PSH. */
static bool
coal_same(const uint8_t *p, const uint8_t *q, const struct l3l4 *h)
{
	const uint8_t *tp = p + h->l3len, *tq = q + h->l3len;

	if (h->family == 4) {
		if (p[0] != q[0] || p[1] != q[1] || p[6] != q[6] ||
		    p[7] != q[7] || p[8] != q[8] || p[9] != q[9] ||
		    memcmp(p + 12, q + 12, 8) != 0)
			return false;
	} else {
		if (memcmp(p, q, 4) != 0 || memcmp(p + 6, q + 6, 34) != 0)
			return false;
	}
	return memcmp(tp, tq, 4) == 0 && memcmp(tp + 8, tq + 8, 5) == 0 &&
	    (tp[13] & ~TCP_PSH) == (tq[13] & ~TCP_PSH) &&
	    memcmp(tp + 14, tq + 14, 2) == 0 &&
	    memcmp(tp + 18, tq + 18, h->l4len - 18) == 0;
}

bool
sim_coal_add(struct sim_coal *c, uint8_t *pkt, size_t len)
{
	struct l3l4 h;
	size_t pay;

	if (coal_probe(pkt, len, &h) < 0)
		return false;
	pay = len - h.l3len - h.l4len;
	if (c->n == 0) {
		c->first = pkt;
		c->hlen = h.l3len + h.l4len;
		c->l3len = h.l3len;
		c->family = h.family;
		c->mss = pay;
		c->total = len;
		c->next_seq = rd32(pkt + h.l3len + 4) + (uint32_t)pay;
		c->iov[0].iov_base = pkt;
		c->iov[0].iov_len = len;
		c->n = 1;
		c->closed = (pkt[h.l3len + 13] & TCP_PSH) != 0;
		return true;
	}
	if (c->closed || c->n == SIM_COAL_MAX || h.family != c->family ||
	    h.l3len + h.l4len != c->hlen || pay > c->mss ||
	    c->total + pay > 65535 ||
	    rd32(pkt + h.l3len + 4) != c->next_seq ||
	    !coal_same(c->first, pkt, &h))
		return false;
	c->iov[c->n].iov_base = pkt + c->hlen;
	c->iov[c->n].iov_len = pay;
	c->n++;
	c->total += pay;
	c->next_seq += (uint32_t)pay;
	/* a short segment or PSH ends a burst, as in the kernel's GRO */
	if (pay < c->mss || (pkt[h.l3len + 13] & TCP_PSH))
		c->closed = true;
	if (pkt[h.l3len + 13] & TCP_PSH)
		c->first[h.l3len + 13] |= TCP_PSH;
	return true;
}

unsigned
sim_coal_finish(struct sim_coal *c, struct virtio_net_hdr *vh)
{
	uint8_t *p = c->first;
	uint32_t s;

	memset(vh, 0, sizeof(*vh));
	if (c->n <= 1)
		return c->n;
	if (c->family == 4) {
		wr16(p + 2, (uint16_t)c->total);
		p[10] = p[11] = 0;
		wr16(p + 10, sim_ip4_csum(p));
		s = sim_csum_pseudo(4, p + 12, p + 16, IPPROTO_TCP,
		    (uint32_t)(c->total - c->l3len));
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	} else {
		wr16(p + 4, (uint16_t)(c->total - 40));
		s = sim_csum_pseudo(6, p + 8, p + 24, IPPROTO_TCP,
		    (uint32_t)(c->total - c->l3len));
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	}
	/* partial: the pseudo-header sum, not complemented */
	wr16(p + c->l3len + 16, fold16(s));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->hdr_len = (uint16_t)c->hlen;
	vh->gso_size = (uint16_t)c->mss;
	vh->csum_start = (uint16_t)c->l3len;
	vh->csum_offset = 16;
	return c->n;
}
