/*
 * Unit tests for lab/sim_offload.c (and the checksum in lab/sim_util.c):
 * what gwlbsim bridge does at its TUN links.  Super-packets are built here
 * the way the kernel hands them over (vnet header, the pseudo-header sum in
 * the checksum field), cut with sim_gso_segment and every segment checked
 * field by field; segments are glued with sim_coal_* and the result checked
 * the way the kernel would take it.  Checksums are verified by the slow,
 * obvious RFC 1071 loop below, not by the code under test.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "sim.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

#define ROOM	68
#define OUTSZ	(200 * 1024)

/* RFC 1071, 16 bits at a time, big-endian words; folded, not complemented. */
static uint16_t
ref_sum(uint32_t s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Pseudo-header sum of a packet's transport part (l3 = header length). */
static uint32_t
ref_pseudo(const uint8_t *ip, size_t l3, size_t len, uint8_t proto)
{
	uint32_t s = 0;
	size_t l4 = len - l3;

	if (ip[0] >> 4 == 4) {
		s = ref_sum(0, ip + 12, 8);
		s += proto + (uint32_t)l4;
	} else {
		s = ref_sum(0, ip + 8, 32);
		s += proto + (uint32_t)(l4 & 0xffff) + (uint32_t)(l4 >> 16);
	}
	return s;
}

/* The transport checksum of a finished packet is right. */
static void
assert_l4_ok(const uint8_t *ip, size_t len)
{
	size_t l3 = ip[0] >> 4 == 4 ? (size_t)(ip[0] & 0x0f) * 4 : 40;
	uint8_t proto = ip[0] >> 4 == 4 ? ip[9] : ip[6];

	assert_int_equal(ref_sum(ref_pseudo(ip, l3, len, proto), ip + l3,
	    len - l3), 0xffff);
	if (ip[0] >> 4 == 4)
		assert_int_equal(ref_sum(0, ip, l3), 0xffff);
}

/* Make the TCP checksum of a finished IPv4 packet right again. */
static void
refix(uint8_t *ip, size_t len)
{
	size_t l3 = (size_t)(ip[0] & 0x0f) * 4;

	put16(ip + l3 + 16, 0);
	put16(ip + l3 + 16, (uint16_t)~ref_sum(ref_pseudo(ip, l3, len,
	    IPPROTO_TCP), ip + l3, len - l3));
}

/*
 * A super-packet as the kernel writes it for TSO/USO: headers of the whole,
 * payload pattern seeded, the checksum field holding the pseudo-header sum
 * of the whole (what the kernel leaves for CHECKSUM_PARTIAL).
 */
static uint32_t build_seq = 0xfffff000;	/* sequence numbers wrap too */

static size_t
build(uint8_t *p, int fam, uint8_t proto, size_t pay, uint8_t flags,
    bool tsopt, struct virtio_net_hdr *vh, uint16_t mss, uint8_t gso)
{
	size_t l3 = fam == 4 ? 20 : 40;
	size_t l4 = proto == IPPROTO_TCP ? (tsopt ? 32 : 20) : 8;
	size_t len = l3 + l4 + pay;
	uint8_t *t = p + l3;
	uint32_t s;

	memset(p, 0, l3 + l4);
	if (fam == 4) {
		p[0] = 0x45;
		put16(p + 2, (uint16_t)len);
		put16(p + 4, 0xfff0);		/* ids wrap during the cut */
		p[6] = 0x40;
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, "\xc0\x00\x02\x02\xc6\x33\x64\x02", 8);
		put16(p + 10, (uint16_t)~ref_sum(0, p, 20));
	} else {
		p[0] = 0x60;
		p[1] = 0x01;
		put16(p + 4, (uint16_t)(len - 40));
		p[6] = proto;
		p[7] = 64;
		inet_pton(AF_INET6, "2001:db8:1::2", p + 8);
		inet_pton(AF_INET6, "2001:db8:2::2", p + 24);
	}
	put16(t, 40000);
	put16(t + 2, 5201);
	if (proto == IPPROTO_TCP) {
		put32(t + 4, build_seq);
		put32(t + 8, 0x01020304);
		t[12] = (uint8_t)((l4 / 4) << 4);
		t[13] = flags;
		put16(t + 14, 502);
		if (tsopt)
			memcpy(t + 20, "\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x20\x00", 12);
	} else {
		put16(t + 4, (uint16_t)(l4 + pay));
	}
	for (size_t i = 0; i < pay; i++)
		p[l3 + l4 + i] = (uint8_t)(i * 7 + i / 251);
	s = ref_pseudo(p, l3, len, proto);
	put16(t + (proto == IPPROTO_TCP ? 16 : 6), ref_sum(s, NULL, 0));
	memset(vh, 0, sizeof(*vh));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = gso;
	vh->gso_size = mss;
	vh->hdr_len = (uint16_t)(l3 + l4);
	vh->csum_start = (uint16_t)l3;
	vh->csum_offset = proto == IPPROTO_TCP ? 16 : 6;
	return len;
}

static uint8_t *out;

static int
setup(void **state)
{
	(void)state;
	out = malloc(OUTSZ);
	return out ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(out);
	return 0;
}

static void
test_csum_matches_rfc1071(void **state)
{
	uint8_t buf[300];
	uint64_t rng = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)sim_rng(&rng);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++) {
			uint32_t seed = (uint32_t)sim_rng(&rng) & 0xffffff;
			uint16_t want = (uint16_t)~ref_sum(seed, buf + off, len);

			assert_int_equal(sim_csum_fold(sim_csum_add(seed,
			    buf + off, len)), want);
		}
	/* copied and summed in one pass: the same sum, the same bytes */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++) {
			uint8_t dst[sizeof(buf)];

			memset(dst, 0xa5, sizeof(dst));
			assert_int_equal(sim_csum_fold(sim_csum_copy(dst,
			    buf + off, len)), (uint16_t)~ref_sum(0, buf + off, len));
			assert_memory_equal(dst, buf + off, len);
			if (len < sizeof(dst))
				assert_int_equal(dst[len], 0xa5);
		}
	/* all ones: the sum that folds to 0xffff */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(sim_csum_fold(sim_csum_add(0, buf, 200)), 0);
}

/* The cut of one TCP super-packet, checked segment by segment. */
static void
check_tcp_cut(int fam, size_t pay, uint16_t mss, uint8_t flags, bool ecn)
{
	uint8_t in[70000];
	struct virtio_net_hdr vh;
	struct sim_seg seg[200];
	size_t l3 = fam == 4 ? 20 : 40, hl = l3 + 32, len;
	unsigned want = (unsigned)((pay + mss - 1) / mss);
	int n;

	len = build(in, fam, IPPROTO_TCP, pay, flags, true, &vh, mss,
	    (uint8_t)((fam == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6) | (ecn ? VIRTIO_NET_HDR_GSO_ECN : 0)));
	n = sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200);
	assert_int_equal(n, want);
	for (unsigned i = 0; i < want; i++) {
		const uint8_t *s = seg[i].data, *t = s + l3;
		size_t chunk = i + 1 < want ? mss : pay - (size_t)i * mss;
		bool last = i + 1 == want;
		uint8_t fl = flags;

		assert_int_equal(seg[i].len, hl + chunk);
		/* room in front, segments one after the other */
		if (i == 0)
			assert_ptr_equal(s, out + ROOM);
		else
			assert_ptr_equal(s, seg[i - 1].data + seg[i - 1].len + ROOM);
		if (fam == 4) {
			assert_int_equal(get16(s + 2), hl + chunk);
			assert_int_equal(get16(s + 4), (uint16_t)(0xfff0 + i));
			assert_int_equal(s[6], 0x40);
		} else {
			assert_int_equal(get16(s + 4), 32 + chunk);
			assert_memory_equal(s, in, 4);
		}
		assert_int_equal(get32(t + 4), (uint32_t)(0xfffff000u + i * mss));
		assert_int_equal(get32(t + 8), 0x01020304);
		if (!last)
			fl &= (uint8_t)~(0x01 | 0x08);	/* FIN, PSH */
		if (i > 0)
			fl &= (uint8_t)~0x80;		/* CWR */
		assert_int_equal(t[13], fl);
		assert_memory_equal(t + 20, in + l3 + 20, 12);	/* options */
		assert_memory_equal(s + hl, in + hl + (size_t)i * mss, chunk);
		assert_l4_ok(s, seg[i].len);
	}
}

static void
test_tso4(void **state)
{
	(void)state;
	check_tcp_cut(4, 4000, 1448, 0x10 | 0x08 | 0x01, false);
	check_tcp_cut(4, 65535 - 52, 1448, 0x10 | 0x08, false);
	check_tcp_cut(4, 2896, 1448, 0x10, false);	/* equal segments */
	check_tcp_cut(4, 20000, 8448, 0x10 | 0x08, false);
	check_tcp_cut(4, 3000, 1448, 0x10 | 0x80, true);
}

static void
test_tso6(void **state)
{
	(void)state;
	check_tcp_cut(6, 4001, 1428, 0x10 | 0x08, false);
	check_tcp_cut(6, 60000, 1428, 0x10 | 0x08 | 0x01, false);
	check_tcp_cut(6, 3000, 1428, 0x10 | 0x80, true);
}

static void
test_uso(void **state)
{
	uint8_t in[70000];
	struct virtio_net_hdr vh;
	struct sim_seg seg[64];
	int fams[] = { 4, 6 };

	(void)state;
	for (int k = 0; k < 2; k++) {
		int fam = fams[k];
		size_t l3 = fam == 4 ? 20 : 40, len;
		int n;

		len = build(in, fam, IPPROTO_UDP, 5000, 0, false, &vh, 1400,
		    VIRTIO_NET_HDR_GSO_UDP_L4);
		n = sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 64);
		assert_int_equal(n, 4);
		for (int i = 0; i < n; i++) {
			size_t chunk = i < 3 ? 1400 : 800;
			const uint8_t *s = seg[i].data;

			assert_int_equal(seg[i].len, l3 + 8 + chunk);
			assert_int_equal(get16(s + l3 + 4), 8 + chunk);
			assert_memory_equal(s + l3 + 8, in + l3 + 8 + (size_t)i * 1400,
			    chunk);
			assert_l4_ok(s, seg[i].len);
		}
	}
}

static void
test_csum_only(void **state)
{
	uint8_t in[2000];
	struct virtio_net_hdr vh;
	struct sim_seg seg[4];
	size_t len;

	(void)state;
	/* no GSO, checksum left partial: finished, nothing else changed */
	len = build(in, 4, IPPROTO_TCP, 1000, 0x18, true, &vh, 0,
	    VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 4), 1);
	assert_int_equal(seg[0].len, len);
	assert_memory_equal(seg[0].data, in, 36);
	assert_memory_equal(seg[0].data + 38, in + 38, len - 38);
	assert_l4_ok(seg[0].data, len);
	len = build(in, 6, IPPROTO_UDP, 999, 0, false, &vh, 0,
	    VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 4), 1);
	assert_l4_ok(seg[0].data, len);
	/* no GSO, checksum complete: copied as it is */
	vh.flags = 0;
	memcpy(in + 40 + 6, "\x12\x34", 2);
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 4), 1);
	assert_memory_equal(seg[0].data, in, len);
}

static void
test_refused(void **state)
{
	uint8_t in[70000];
	struct virtio_net_hdr vh;
	struct sim_seg seg[200];
	size_t len;

	(void)state;
	len = build(in, 6, IPPROTO_TCP, 4000, 0x10, false, &vh, 1400,
	    VIRTIO_NET_HDR_GSO_TCPV4);	/* IPv6 packet, IPv4 GSO */
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200),
	    -EPROTO);
	len = build(in, 4, IPPROTO_TCP, 4000, 0x10, false, &vh, 0,
	    VIRTIO_NET_HDR_GSO_TCPV4);	/* no MSS */
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200),
	    -EPROTO);
	len = build(in, 4, IPPROTO_TCP, 4000, 0x10, false, &vh, 1000,
	    VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 3),
	    -ENOSPC);
	assert_int_equal(sim_gso_segment(&vh, in, len, out, 3000, ROOM, seg, 200),
	    -ENOSPC);
	assert_int_equal(sim_gso_segment(&vh, in, 30, out, OUTSZ, ROOM, seg, 200),
	    -EPROTO);
	vh.gso_type = 3;		/* UFO: not something a NIC does */
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200),
	    -EPROTO);
}

/* Glue iovecs into one buffer, the way the TUN write reads them. */
static size_t
gather(const struct sim_coal *c, unsigned n, uint8_t *dst)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(dst + len, c->iov[i].iov_base, c->iov[i].iov_len);
		len += c->iov[i].iov_len;
	}
	return len;
}

/*
 * Segments cut from a super-packet, glued again: the same packet as the
 * kernel would take it (lengths, the partial checksum completed over the
 * whole as the kernel does gives a valid packet, the payload intact).
 */
static void
check_round_trip(int fam, size_t pay, uint16_t mss, uint8_t flags)
{
	uint8_t in[70000], glued[70000];
	struct virtio_net_hdr vh, gv;
	struct sim_seg seg[200];
	struct sim_coal c;
	size_t l3 = fam == 4 ? 20 : 40, hl = l3 + 32, len, glen;
	unsigned n;
	uint16_t ps;

	len = build(in, fam, IPPROTO_TCP, pay, flags, true, &vh, mss,
	    fam == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
	n = (unsigned)sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200);
	sim_coal_reset(&c);
	for (unsigned i = 0; i < n; i++)
		assert_true(sim_coal_add(&c, seg[i].data, seg[i].len));
	assert_int_equal(sim_coal_finish(&c, &gv), n);
	glen = gather(&c, n, glued);
	assert_int_equal(glen, len);
	assert_int_equal(gv.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(gv.gso_type, vh.gso_type);
	assert_int_equal(gv.gso_size, mss);
	assert_int_equal(gv.hdr_len, hl);
	assert_int_equal(gv.csum_start, l3);
	assert_int_equal(gv.csum_offset, 16);
	/* what the kernel checks and leaves: headers of the whole */
	if (fam == 4) {
		assert_int_equal(get16(glued + 2), len);
		assert_int_equal(ref_sum(0, glued, 20), 0xffff);
		assert_int_equal(get16(glued + 4), 0xfff0);
	} else {
		assert_int_equal(get16(glued + 4), len - 40);
	}
	assert_int_equal(get32(glued + l3 + 4), 0xfffff000u);
	assert_int_equal(glued[l3 + 13], flags);
	assert_memory_equal(glued + hl, in + hl, pay);
	/* the checksum field: the pseudo-header sum of the whole */
	ps = ref_sum(ref_pseudo(glued, l3, len, IPPROTO_TCP), NULL, 0);
	assert_int_equal(get16(glued + l3 + 16), ps);
	/* completed the way the kernel does, it is right */
	put16(glued + l3 + 16, (uint16_t)~ref_sum(0, glued + l3, len - l3));
	assert_l4_ok(glued, len);
}

static void
test_coalesce_round_trip(void **state)
{
	(void)state;
	check_round_trip(4, 40000, 1448, 0x10 | 0x08);
	check_round_trip(4, 2896, 1448, 0x10);
	check_round_trip(6, 30000, 1428, 0x10);
	check_round_trip(6, 5000, 1428, 0x10 | 0x08);
	check_round_trip(4, 60000, 8448, 0x10);
}

/* Four segments of 1000 bytes cut from one super-packet, into seg. */
static void
four(struct sim_seg *seg, uint8_t flags)
{
	static uint8_t in[5000];
	struct virtio_net_hdr vh;
	size_t len;

	len = build(in, 4, IPPROTO_TCP, 4000, flags, true, &vh, 1000,
	    VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 4), 4);
}

static void
test_coalesce_refuses(void **state)
{
	struct sim_seg seg[4];
	struct sim_coal c;
	struct virtio_net_hdr gv;

	(void)state;
	/* a gap in the sequence */
	four(seg, 0x10);
	sim_coal_reset(&c);
	assert_true(sim_coal_add(&c, seg[0].data, seg[0].len));
	assert_false(sim_coal_add(&c, seg[2].data, seg[2].len));
	/* another connection (port) */
	put16(seg[1].data + 20, 40001);
	assert_false(sim_coal_add(&c, seg[1].data, seg[1].len));
	/* other TCP options (a later timestamp): GRO would not glue either */
	four(seg, 0x10);
	sim_coal_reset(&c);
	assert_true(sim_coal_add(&c, seg[0].data, seg[0].len));
	seg[1].data[20 + 31] ^= 1;
	assert_false(sim_coal_add(&c, seg[1].data, seg[1].len));
	/* PSH ends a burst; the one held alone has an empty vnet header */
	four(seg, 0x10 | 0x08);
	sim_coal_reset(&c);
	seg[0].data[20 + 13] |= 0x08;
	refix(seg[0].data, seg[0].len);
	assert_true(sim_coal_add(&c, seg[0].data, seg[0].len));
	assert_false(sim_coal_add(&c, seg[1].data, seg[1].len));
	assert_int_equal(sim_coal_finish(&c, &gv), 1);
	assert_int_equal(gv.flags, 0);
	assert_int_equal(gv.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_l4_ok(seg[0].data, seg[0].len);	/* untouched: still right */
	/* a short segment ends a burst too; none longer than the first */
	four(seg, 0x10);
	sim_coal_reset(&c);
	assert_true(sim_coal_add(&c, seg[0].data, seg[0].len));
	seg[1].len -= 10;
	put16(seg[1].data + 2, (uint16_t)seg[1].len);
	assert_true(sim_coal_add(&c, seg[1].data, seg[1].len));
	put32(seg[2].data + 20 + 4, get32(seg[2].data + 20 + 4) - 10);
	assert_false(sim_coal_add(&c, seg[2].data, seg[2].len));
	assert_int_equal(c.n, 2);
	four(seg, 0x10);
	sim_coal_reset(&c);
	seg[0].len -= 10;
	put16(seg[0].data + 2, (uint16_t)seg[0].len);
	assert_true(sim_coal_add(&c, seg[0].data, seg[0].len));
	put32(seg[1].data + 20 + 4, get32(seg[1].data + 20 + 4) - 10);
	assert_false(sim_coal_add(&c, seg[1].data, seg[1].len));
	/* SYN, FIN, RST, a bare ACK and UDP are never glued */
	four(seg, 0x10);
	sim_coal_reset(&c);
	seg[0].data[20 + 13] = 0x11;
	assert_false(sim_coal_add(&c, seg[0].data, seg[0].len));
	seg[0].data[20 + 13] = 0x12;
	assert_false(sim_coal_add(&c, seg[0].data, seg[0].len));
	seg[0].data[20 + 13] = 0x14;
	assert_false(sim_coal_add(&c, seg[0].data, seg[0].len));
	seg[0].data[20 + 13] = 0x10;
	put16(seg[0].data + 2, 52);
	assert_false(sim_coal_add(&c, seg[0].data, 52));
	seg[0].data[9] = IPPROTO_UDP;
	assert_false(sim_coal_add(&c, seg[0].data, seg[0].len));
	assert_int_equal(c.n, 0);
}

static void
test_coalesce_limits(void **state)
{
	static uint8_t in[70000];
	struct virtio_net_hdr vh;
	struct sim_seg seg[200];
	struct sim_coal c;
	size_t len;
	int n;

	(void)state;
	/* no more than SIM_COAL_MAX segments in one write */
	len = build(in, 4, IPPROTO_TCP, 200 * 100, 0x10, false, &vh, 100,
	    VIRTIO_NET_HDR_GSO_TCPV4);
	n = sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200);
	assert_int_equal(n, 200);
	sim_coal_reset(&c);
	for (int i = 0; i < SIM_COAL_MAX; i++)
		assert_true(sim_coal_add(&c, seg[i].data, seg[i].len));
	assert_false(sim_coal_add(&c, seg[SIM_COAL_MAX].data,
	    seg[SIM_COAL_MAX].len));
	/*
	 * nor more than 64 KiB: 8 x 8000 bytes and 60 of headers, then the
	 * next 8000 of the stream (another super-packet) do not fit
	 */
	len = build(in, 6, IPPROTO_TCP, 64000, 0x10, false, &vh, 8000,
	    VIRTIO_NET_HDR_GSO_TCPV6);
	n = sim_gso_segment(&vh, in, len, out, OUTSZ, ROOM, seg, 200);
	assert_int_equal(n, 8);
	build_seq += 64000;
	len = build(in, 6, IPPROTO_TCP, 8000, 0x10, false, &vh, 8000,
	    VIRTIO_NET_HDR_GSO_TCPV6);
	build_seq -= 64000;
	assert_int_equal(sim_gso_segment(&vh, in, len, out + 80000,
	    OUTSZ - 80000, ROOM, seg + 8, 1), 1);
	sim_coal_reset(&c);
	for (int i = 0; i < 8; i++)
		assert_true(sim_coal_add(&c, seg[i].data, seg[i].len));
	assert_false(sim_coal_add(&c, seg[8].data, seg[8].len));
	/* the same segment glued to a shorter burst is taken */
	sim_coal_reset(&c);
	for (int i = 1; i < 8; i++)
		assert_true(sim_coal_add(&c, seg[i].data, seg[i].len));
	assert_true(sim_coal_add(&c, seg[8].data, seg[8].len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_matches_rfc1071),
		cmocka_unit_test_setup_teardown(test_tso4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tso6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uso, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csum_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
