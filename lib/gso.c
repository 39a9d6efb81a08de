/*
 * Segmentation of TUN super-packets (gso.h).  The rules follow the
 * kernel's own software GSO (tcp_gso_segment, __udp_gso_segment): the
 * headers of the super-packet are copied in front of each slice of
 * payload and fixed up, never taken on trust.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "gso.h"

#define TCP_FIN	0x01
#define TCP_PSH	0x08
#define TCP_CWR	0x80

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t
gso_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	while (len >= 8) {
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		s += (uint64_t)a + b;
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t a;

		memcpy(&a, p, 2);
		s += a;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t a = 0;

		memcpy(&a, p, 1);
		s += a;
	}
	while (s >> 32)
		s = (s & 0xffffffffull) + (s >> 32);
	return (uint32_t)s;
}

uint16_t
gso_csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void
gso_vnet_read(const uint8_t *p, struct gso_vnet *v)
{
	struct virtio_net_hdr h;

	memcpy(&h, p, sizeof(h));
	v->flags = h.flags;
	v->gso_type = h.gso_type;
	v->hdr_len = h.hdr_len;
	v->gso_size = h.gso_size;
	v->csum_start = h.csum_start;
	v->csum_offset = h.csum_offset;
}

void
gso_vnet_write(uint8_t *p, const struct gso_vnet *v)
{
	struct virtio_net_hdr h = {
		.flags = v->flags,
		.gso_type = v->gso_type,
		.hdr_len = v->hdr_len,
		.gso_size = v->gso_size,
		.csum_start = v->csum_start,
		.csum_offset = v->csum_offset,
	};

	memcpy(p, &h, sizeof(h));
}
_Static_assert(sizeof(struct virtio_net_hdr) == GSO_VNET_LEN, "virtio_net_hdr");

int
gso_begin(struct gso_iter *it, const struct gso_vnet *v, const uint8_t *pkt, size_t len)
{
	uint8_t type = v->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool ecn = v->gso_type & VIRTIO_NET_HDR_GSO_ECN;
	bool needs = v->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	size_t l4, thl;

	memset(it, 0, sizeof(*it));
	it->pkt = pkt;
	it->len = len;
	it->nseg = 1;
	/* DATA_VALID only says the kernel checked the checksum already. */
	if (v->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return -EINVAL;
	if (len == 0 || v->hdr_len > len)
		return -EINVAL;
	switch (type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (ecn)
			return -EINVAL;
		if (!needs)
			return 1;	/* nothing to do: handed on as it is */
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (ecn)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	it->gso = type != VIRTIO_NET_HDR_GSO_NONE;
	it->csum = 1;
	/* The kernel always asks for the checksum of what it leaves to us. */
	if (!needs || (it->gso && v->gso_size == 0))
		return -EINVAL;

	switch (pkt[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

		if (len < 20 || ihl < 20 || ihl > len || get16(pkt + 2) != len ||
		    (get16(pkt + 6) & 0x3fff) != 0)
			return -EINVAL;
		/* Options are legal on a packet, never on a super-packet the
		 * kernel built: one would have to be copied or not per segment. */
		if (it->gso && ihl != 20)
			return -EINVAL;
		it->family = 4;
		it->proto = pkt[9];
		l4 = ihl;
		break;
	}
	case 6:
		/* No extension headers: the transport header follows. */
		if (len < 40 || (size_t)get16(pkt + 4) + 40 != len)
			return -EINVAL;
		it->family = 6;
		it->proto = pkt[6];
		l4 = 40;
		break;
	default:
		return -EINVAL;
	}
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && it->family != 4) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && it->family != 6) ||
	    ((type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6) &&
	    it->proto != IPPROTO_TCP) ||
	    (type == VIRTIO_NET_HDR_GSO_UDP_L4 && it->proto != IPPROTO_UDP))
		return -EINVAL;

	switch (it->proto) {
	case IPPROTO_TCP:
		if (l4 + 20 > len)
			return -EINVAL;
		thl = (size_t)(pkt[l4 + 12] >> 4) * 4;
		if (thl < 20 || l4 + thl > len || v->csum_offset != 16)
			return -EINVAL;
		break;
	case IPPROTO_UDP:
		thl = 8;
		if (l4 + 8 > len || v->csum_offset != 6)
			return -EINVAL;
		if (!it->gso && get16(pkt + l4 + 4) != len - l4)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (v->csum_start != l4 || (size_t)v->csum_start + v->csum_offset + 2 > len)
		return -EINVAL;
	it->l4_off = l4;
	it->hdr_len = l4 + thl;
	if (!it->gso)
		return 1;
	/*
	 * hdr_len is not the header length: for a forwarded packet the kernel
	 * reports its whole linear part.  It is only checked to lie within
	 * the packet (above); the headers are the ones parsed here.
	 */
	if (it->hdr_len >= len)
		return -EINVAL;
	it->seg_size = v->gso_size;
	it->off = it->hdr_len;
	it->nseg = (unsigned)((len - it->hdr_len + it->seg_size - 1) / it->seg_size);
	return (int)it->nseg;
}

size_t
gso_max_seg(const struct gso_iter *it)
{
	size_t pay;

	if (!it->gso)
		return it->len;
	pay = it->len - it->hdr_len;
	return it->hdr_len + (pay < it->seg_size ? pay : it->seg_size);
}

/* The transport checksum of the packet out[0, n), over the pseudo header. */
static void
l4_csum(const struct gso_iter *it, uint8_t *out, size_t n)
{
	size_t l4 = it->l4_off;
	size_t at = l4 + (it->proto == IPPROTO_TCP ? 16 : 6);
	uint8_t tail[4] = { 0, it->proto, (uint8_t)((n - l4) >> 8), (uint8_t)(n - l4) };
	uint32_t sum;
	uint16_t c;

	out[at] = out[at + 1] = 0;
	if (it->family == 4)
		sum = gso_csum_add(0, out + 12, 8);
	else
		sum = gso_csum_add(0, out + 8, 32);
	sum = gso_csum_add(sum, tail, sizeof(tail));
	sum = gso_csum_add(sum, out + l4, n - l4);
	c = gso_csum_fold(sum);
	if (c == 0 && it->proto == IPPROTO_UDP)
		c = 0xffff;	/* 0 would mean "no checksum" */
	memcpy(out + at, &c, 2);
}

long
gso_next(struct gso_iter *it, uint8_t *out, size_t cap)
{
	size_t pay, n, l4 = it->l4_off;
	bool first, last;

	if (it->idx >= it->nseg)
		return 0;
	if (!it->gso) {
		it->idx++;
		if (it->len > cap)
			return -EMSGSIZE;
		memcpy(out, it->pkt, it->len);
		if (it->csum)
			l4_csum(it, out, it->len);
		return (long)it->len;
	}
	pay = it->len - it->off;
	if (pay > it->seg_size)
		pay = it->seg_size;
	n = it->hdr_len + pay;
	first = it->idx == 0;
	last = it->idx == it->nseg - 1;
	if (n > cap) {
		it->off += pay;
		it->idx++;
		return -EMSGSIZE;
	}
	memcpy(out, it->pkt, it->hdr_len);
	memcpy(out + it->hdr_len, it->pkt + it->off, pay);
	if (it->family == 4) {
		uint16_t id = (uint16_t)(get16(it->pkt + 4) + it->idx), c;

		put16(out + 2, n);
		put16(out + 4, id);
		out[10] = out[11] = 0;
		c = gso_csum_fold(gso_csum_add(0, out, 20));
		memcpy(out + 10, &c, 2);
	} else {
		put16(out + 4, n - 40);
	}
	if (it->proto == IPPROTO_TCP) {
		const uint8_t *s = it->pkt + l4 + 4;
		uint32_t seq = ((uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
		    (uint32_t)s[2] << 8 | s[3]) + (uint32_t)(it->off - it->hdr_len);

		out[l4 + 4] = (uint8_t)(seq >> 24);
		out[l4 + 5] = (uint8_t)(seq >> 16);
		out[l4 + 6] = (uint8_t)(seq >> 8);
		out[l4 + 7] = (uint8_t)seq;
		if (!last)
			out[l4 + 13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (!first)
			out[l4 + 13] &= (uint8_t)~TCP_CWR;
	} else {
		put16(out + l4 + 4, n - l4);
	}
	l4_csum(it, out, n);
	it->off += pay;
	it->idx++;
	return (long)n;
}

int
gso_uso_header(uint8_t *out, const struct gso_uso *u, size_t payload_len, size_t seg_len)
{
	uint8_t *eth = out + GSO_VNET_LEN, *ip = eth + GSO_USO_L2, *udp = ip + 20;
	size_t udp_len = 8 + payload_len;
	struct gso_vnet v = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = GSO_USO_L2 + 20 + 8,
		.gso_size = (uint16_t)seg_len,
		.csum_start = GSO_USO_L2 + 20,
		.csum_offset = 6,
	};
	uint8_t pseudo[12];
	uint16_t c;

	/* The kernel refuses a UDP super-packet of one datagram. */
	if (seg_len == 0 || payload_len <= seg_len || 20 + udp_len > 65535)
		return -EINVAL;
	gso_vnet_write(out, &v);
	memcpy(eth, u->dst_mac, 6);
	memcpy(eth + 6, u->src_mac, 6);
	put16(eth + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, 20 + udp_len);
	memcpy(ip + 4, &u->ip_id, 2);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = u->ttl;
	ip[9] = IPPROTO_UDP;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, &u->saddr, 4);
	memcpy(ip + 16, &u->daddr, 4);
	c = gso_csum_fold(gso_csum_add(0, ip, 20));
	memcpy(ip + 10, &c, 2);
	memcpy(udp, &u->sport, 2);
	memcpy(udp + 2, &u->dport, 2);
	put16(udp + 4, udp_len);
	/* CHECKSUM_PARTIAL: the pseudo-header sum, folded, not complemented. */
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	put16(pseudo + 10, udp_len);
	c = (uint16_t)~gso_csum_fold(gso_csum_add(0, pseudo, sizeof(pseudo)));
	memcpy(udp + 6, &c, 2);
	return GSO_USO_HDR;
}
