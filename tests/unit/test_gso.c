/*
 * Unit tests for lib/gso.c: what the reply workers make of a TUN read with
 * offloads.  Super-packets are built here byte by byte (TCP over IPv4 and
 * IPv6, UDP_L4), cut by gso_begin()/gso_next(), and every segment compared
 * byte for byte with one the test builds on its own: headers copied from
 * the super-packet, lengths, IPv4 id, TCP sequence number and flags set
 * here, checksums from a byte-wise RFC 1071 sum of the test's own (not
 * gso.c's).  Every segment must also verify as a receiver checks it (sum
 * 0).  Then every malformed header we could think of must be refused.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "gso.h"
#include "refcsum.h"

#define FIN	0x01
#define PSH	0x08
#define ACK	0x10
#define CWR	0x80
#define BIG	(65536 + 64)

/* --- the test's own checksum and accessors: refcsum.h --------------------- */

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* The pseudo header's sum for a transport segment of l4len bytes. */
static uint32_t
pseudo(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint8_t t[4] = { 0, proto, (uint8_t)(l4len >> 8), (uint8_t)l4len };

	if (ip[0] >> 4 == 4)
		return sum16(sum16(0, ip + 12, 8), t, 4);
	return sum16(sum16(0, ip + 8, 32), t, 4);
}

/* Set the transport checksum of p (l4 at l4, n bytes in all). */
static void
set_l4_csum(uint8_t *p, size_t l4, uint8_t proto, size_t n)
{
	size_t at = l4 + (proto == IPPROTO_TCP ? 16 : 6);
	uint16_t c;

	p[at] = p[at + 1] = 0;
	c = fold(sum16(pseudo(p, proto, n - l4), p + l4, n - l4));
	if (c == 0 && proto == IPPROTO_UDP)
		c = 0xffff;
	wr16(p + at, c);
}

/* As a receiver checks it: IPv4 header and transport checksums sum to 0. */
static void
assert_valid(const uint8_t *p, size_t n, size_t l4, uint8_t proto)
{
	if (p[0] >> 4 == 4) {
		assert_int_equal(fold(sum16(0, p, l4)), 0);
		assert_int_equal(rd16(p + 2), n);
	} else {
		assert_int_equal(rd16(p + 4), n - 40);
	}
	assert_int_equal(fold(sum16(pseudo(p, proto, n - l4), p + l4, n - l4)), 0);
	if (proto == IPPROTO_UDP)
		assert_int_equal(rd16(p + l4 + 4), n - l4);
}

/* --- packets ---------------------------------------------------------------- */

struct sp {
	uint8_t		b[BIG];
	size_t		len, l4, thl;
	uint8_t		proto;
	struct gso_vnet	v;
};

/*
 * A super-packet as the kernel hands it: IPv4 (id, DF) or IPv6 header,
 * TCP (thl bytes, flags, seq) or UDP header, payload of pay bytes (a
 * pattern), the transport checksum field holding the pseudo header's sum
 * (CHECKSUM_PARTIAL), and its virtio_net_hdr.
 */
static void
mk(struct sp *s, int family, uint8_t proto, size_t thl, size_t pay, uint16_t mss,
    uint8_t flags, uint32_t seq, uint16_t id)
{
	size_t l4 = family == 4 ? 20 : 40, n = l4 + thl + pay;
	uint8_t *t;

	assert_true(n <= 65535 && n <= sizeof(s->b));
	memset(s, 0, sizeof(*s));
	s->len = n;
	s->l4 = l4;
	s->thl = thl;
	s->proto = proto;
	if (family == 4) {
		s->b[0] = 0x45;
		wr16(s->b + 2, n);
		wr16(s->b + 4, id);
		wr16(s->b + 6, 0x4000);
		s->b[8] = 64;
		s->b[9] = proto;
		assert_int_equal(inet_pton(AF_INET, "198.51.100.2", s->b + 12), 1);
		assert_int_equal(inet_pton(AF_INET, "192.0.2.1", s->b + 16), 1);
		wr16(s->b + 10, fold(sum16(0, s->b, 20)));
	} else {
		s->b[0] = 0x60;
		wr16(s->b + 4, n - 40);
		s->b[6] = proto;
		s->b[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, "2001:db8:2::2", s->b + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::1", s->b + 24), 1);
	}
	t = s->b + l4;
	wr16(t, 5201);
	wr16(t + 2, 40000);
	if (proto == IPPROTO_TCP) {
		wr32(t + 4, seq);
		wr32(t + 8, 0x01020304);
		t[12] = (uint8_t)((thl / 4) << 4);
		t[13] = flags;
		wr16(t + 14, 501);
		for (size_t i = 20; i < thl; i++)	/* NOPs, then a timestamp-ish tail */
			t[i] = i + 10 < thl ? 1 : (uint8_t)(0xa0 + i);
		wr16(t + 16, (uint16_t)~fold(pseudo(s->b, proto, n - l4)));
	} else {
		wr16(t + 4, n - l4);
		wr16(t + 6, (uint16_t)~fold(pseudo(s->b, proto, n - l4)));
	}
	for (size_t i = 0; i < pay; i++)
		s->b[l4 + thl + i] = (uint8_t)(i * 7 + i / 251);
	s->v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	s->v.gso_type = proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
	    family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	s->v.gso_size = mss;
	/* What the kernel reports for a forwarded packet: all it has linear. */
	s->v.hdr_len = (uint16_t)(l4 + thl + (pay > 100 ? 100 : pay));
	s->v.csum_start = (uint16_t)l4;
	s->v.csum_offset = proto == IPPROTO_TCP ? 16 : 6;
}

/* Segment i of nseg as the test expects it. */
static size_t
expect(const struct sp *s, unsigned i, unsigned nseg, uint8_t *out)
{
	size_t hl = s->l4 + s->thl, pay = s->len - hl, mss = s->v.gso_size;
	size_t off = (size_t)i * mss, seg = pay - off < mss ? pay - off : mss, n = hl + seg;
	uint8_t *t = out + s->l4;

	memcpy(out, s->b, hl);
	memcpy(out + hl, s->b + hl + off, seg);
	if (out[0] >> 4 == 4) {
		wr16(out + 2, n);
		wr16(out + 4, (uint16_t)(rd16(s->b + 4) + i));
		out[10] = out[11] = 0;
		wr16(out + 10, fold(sum16(0, out, 20)));
	} else {
		wr16(out + 4, n - 40);
	}
	if (s->proto == IPPROTO_TCP) {
		wr32(t + 4, rd32(s->b + s->l4 + 4) + (uint32_t)off);
		if (i + 1 != nseg)
			t[13] &= (uint8_t)~(FIN | PSH);
		if (i != 0)
			t[13] &= (uint8_t)~CWR;
	} else {
		wr16(t + 4, n - s->l4);
	}
	set_l4_csum(out, s->l4, s->proto, n);
	return n;
}

static uint8_t got[BIG], want[BIG];

/* Cut s and compare every segment; returns the number of segments. */
static unsigned
cut_and_check(const struct sp *s, unsigned nseg_want)
{
	struct gso_iter it;
	size_t hl = s->l4 + s->thl, total = 0;
	unsigned i;
	long n;

	assert_int_equal(gso_begin(&it, &s->v, s->b, s->len), (int)nseg_want);
	for (i = 0; (n = gso_next(&it, got, sizeof(got))) > 0; i++) {
		size_t wl = expect(s, i, nseg_want, want);

		assert_true(i < nseg_want);
		assert_int_equal(n, wl);
		assert_true((size_t)n <= gso_max_seg(&it));
		assert_memory_equal(got, want, wl);
		assert_valid(got, (size_t)n, s->l4, s->proto);
		/* The payload continues where the last segment ended. */
		assert_memory_equal(got + hl, s->b + hl + total, (size_t)n - hl);
		total += (size_t)n - hl;
	}
	assert_int_equal(n, 0);
	assert_int_equal(i, nseg_want);
	assert_int_equal(total, s->len - hl);
	return i;
}

static struct sp sp;

/* --- tests ------------------------------------------------------------------ */

/* TCP over IPv4, 2 to 45 segments, the last one short; FIN|PSH on the last
 * only, CWR on the first only, sequence numbers (wrapping) and ids advanced. */
static void
test_tcp4(void **state)
{
	static const unsigned counts[] = { 2, 3, 7, 16, 45 };

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned k = counts[c];
		uint16_t mss = 1448;
		size_t pay = (size_t)(k - 1) * mss + 333;

		mk(&sp, 4, IPPROTO_TCP, 20, pay, mss, ACK | PSH | FIN | CWR,
		    0xfffff000u, 0xfffe);
		cut_and_check(&sp, k);
		/* The flags, looked at directly. */
		{
			struct gso_iter it;

			assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), (int)k);
			for (unsigned i = 0; i < k; i++) {
				long n = gso_next(&it, got, sizeof(got));
				uint8_t f = got[20 + 13];

				assert_true(n > 0);
				assert_int_equal(!!(f & FIN), i == k - 1);
				assert_int_equal(!!(f & PSH), i == k - 1);
				assert_int_equal(!!(f & CWR), i == 0);
				assert_true(f & ACK);
				assert_int_equal(rd16(got + 4), (uint16_t)(0xfffe + i));
				assert_int_equal(rd32(got + 24), (uint32_t)(0xfffff000u + i * mss));
			}
		}
	}
	/* Exact multiple: the last segment is full. */
	mk(&sp, 4, IPPROTO_TCP, 20, 4 * 1000, 1000, ACK, 1, 7);
	cut_and_check(&sp, 4);
	/* One segment's worth in a GSO packet: one packet, checksum done. */
	mk(&sp, 4, IPPROTO_TCP, 20, 500, 1448, ACK | PSH, 1, 7);
	cut_and_check(&sp, 1);
}

/* TCP over IPv6 with options (32-byte header), 2..45 segments. */
static void
test_tcp6(void **state)
{
	(void)state;
	for (unsigned k = 2; k <= 45; k += 43 / 4) {
		uint16_t mss = 1428;
		size_t pay = (size_t)(k - 1) * mss + 1;

		mk(&sp, 6, IPPROTO_TCP, 32, pay, mss, ACK | PSH | CWR, 123456, 0);
		cut_and_check(&sp, k);
	}
	mk(&sp, 6, IPPROTO_TCP, 32, 45 * 1428 - 17, 1428, ACK | FIN, 9, 0);
	cut_and_check(&sp, 45);
}

/* ECN: CWR stays on the first segment only; ECN with UDP is refused. */
static void
test_tcp_ecn(void **state)
{
	struct gso_iter it;

	(void)state;
	mk(&sp, 4, IPPROTO_TCP, 20, 3000, 1000, ACK | CWR, 5, 5);
	sp.v.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	cut_and_check(&sp, 3);
	mk(&sp, 6, IPPROTO_UDP, 8, 3000, 1000, 0, 0, 0);
	sp.v.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), -EINVAL);
}

/* UDP_L4: datagrams of gso_size, the last one short, each with its length. */
static void
test_udp_l4(void **state)
{
	(void)state;
	mk(&sp, 4, IPPROTO_UDP, 8, 5 * 1200 + 1, 1200, 0, 0, 0x2000);
	cut_and_check(&sp, 6);
	mk(&sp, 6, IPPROTO_UDP, 8, 44 * 1400 + 99, 1400, 0, 0, 0);
	cut_and_check(&sp, 45);
	mk(&sp, 6, IPPROTO_UDP, 8, 2 * 1400, 1400, 0, 0, 0);
	cut_and_check(&sp, 2);
}

/* A plain packet with NEEDS_CSUM: one packet, its checksum finished (the
 * field's partial sum is not trusted: garbage there changes nothing). */
static void
test_needs_csum(void **state)
{
	struct gso_iter it;
	long n;

	(void)state;
	for (int fam = 4; fam <= 6; fam += 2) {
		for (int udp = 0; udp < 2; udp++) {
			uint8_t proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
			size_t l4 = fam == 4 ? 20 : 40, thl = udp ? 8 : 20;

			mk(&sp, fam, proto, thl, 777, 0, ACK | FIN | PSH | CWR, 42, 9);
			sp.v.gso_type = VIRTIO_NET_HDR_GSO_NONE;
			sp.b[l4 + (udp ? 6 : 16)] ^= 0x5a;
			memcpy(want, sp.b, sp.len);
			set_l4_csum(want, l4, proto, sp.len);
			assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), 1);
			n = gso_next(&it, got, sizeof(got));
			assert_int_equal(n, sp.len);
			assert_memory_equal(got, want, sp.len);	/* flags untouched */
			assert_valid(got, sp.len, l4, proto);
			assert_int_equal(gso_next(&it, got, sizeof(got)), 0);
		}
	}
	/* IPv4 options are fine on a plain packet: csum_start follows them. */
	mk(&sp, 4, IPPROTO_UDP, 8, 100, 0, 0, 0, 1);
	memmove(sp.b + 24, sp.b + 20, sp.len - 20);
	memset(sp.b + 20, 1, 4);		/* four NOPs */
	sp.b[0] = 0x46;
	sp.len += 4;
	wr16(sp.b + 2, sp.len);
	sp.b[10] = sp.b[11] = 0;
	wr16(sp.b + 10, fold(sum16(0, sp.b, 24)));
	sp.v.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	sp.v.csum_start = 24;
	sp.v.hdr_len = 0;
	assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), 1);
	assert_int_equal(gso_next(&it, got, sizeof(got)), sp.len);
	assert_valid(got, sp.len, 24, IPPROTO_UDP);
}

/* A UDP checksum that sums to 0 goes out as 0xffff (0 means "none"). */
static void
test_udp_csum_zero(void **state)
{
	struct gso_iter it;
	size_t at;
	uint16_t c;

	(void)state;
	mk(&sp, 4, IPPROTO_UDP, 8, 100, 0, 0, 0, 1);
	sp.v.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	at = sp.len - 2;
	sp.b[at] = sp.b[at + 1] = 0;
	sp.b[26] = sp.b[27] = 0;
	/* The last word makes the one's-complement sum 0xffff. */
	c = fold(sum16(pseudo(sp.b, IPPROTO_UDP, sp.len - 20), sp.b + 20, sp.len - 20));
	wr16(sp.b + at, c);
	assert_int_equal(fold(sum16(pseudo(sp.b, IPPROTO_UDP, sp.len - 20), sp.b + 20,
	    sp.len - 20)), 0);
	assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), 1);
	assert_int_equal(gso_next(&it, got, sizeof(got)), sp.len);
	assert_int_equal(rd16(got + 26), 0xffff);
	assert_valid(got, sp.len, 20, IPPROTO_UDP);
}

/* No flags: handed on byte for byte, whatever it is (reply.c parses it). */
static void
test_plain(void **state)
{
	struct gso_vnet v = { 0 };
	struct gso_iter it;
	const uint8_t junk[] = { 0x45, 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(gso_begin(&it, &v, junk, sizeof(junk)), 1);
	assert_int_equal(gso_max_seg(&it), sizeof(junk));
	assert_int_equal(gso_next(&it, got, sizeof(got)), sizeof(junk));
	assert_memory_equal(got, junk, sizeof(junk));
	assert_int_equal(gso_next(&it, got, sizeof(got)), 0);
	/* DATA_VALID only says the kernel checked it. */
	v.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	assert_int_equal(gso_begin(&it, &v, junk, sizeof(junk)), 1);
}

/* A segment that does not fit is skipped with -EMSGSIZE, the next goes on. */
static void
test_too_small(void **state)
{
	struct gso_iter it;

	(void)state;
	mk(&sp, 4, IPPROTO_TCP, 20, 2 * 1000 + 10, 1000, ACK, 0, 0);
	assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), 3);
	assert_int_equal(gso_max_seg(&it), 1040);
	assert_int_equal(gso_next(&it, got, 1039), -EMSGSIZE);
	assert_int_equal(gso_next(&it, got, 1040), 1040);
	assert_int_equal(rd32(got + 24), 1000);
	assert_int_equal(gso_next(&it, got, 50), 50);
	assert_int_equal(gso_next(&it, got, 50), 0);
}

/* Each malformed header or packet, on a good TCPv4, TCPv6 or UDP one. */
static void
test_malformed(void **state)
{
	struct gso_iter it;
	int cases = 0;

	(void)state;
#define BAD(fam, proto, thl, mutate) do {					\
	mk(&sp, fam, proto, thl, 3000, 1000, ACK, 0, 0);			\
	assert_int_equal(gso_begin(&it, &sp.v, sp.b, sp.len), 3);		\
	{ mutate; }								\
	if (gso_begin(&it, &sp.v, sp.b, sp.len) != -EINVAL)			\
		fail_msg("accepted: %s", #mutate);				\
	cases++;								\
} while (0)
	/* hdr_len */
	BAD(4, IPPROTO_TCP, 20, sp.v.hdr_len = (uint16_t)(sp.len + 1));
	BAD(6, IPPROTO_UDP, 8, sp.v.hdr_len = 0xffff);
	/* csum_offset past the packet, or not where the checksum is */
	BAD(4, IPPROTO_TCP, 20, sp.v.csum_offset = 0xfff0);
	BAD(4, IPPROTO_TCP, 20, sp.v.csum_offset = 6);
	BAD(4, IPPROTO_TCP, 20, sp.v.csum_offset = 0);
	BAD(6, IPPROTO_UDP, 8, sp.v.csum_offset = 16);
	BAD(6, IPPROTO_TCP, 20, sp.v.csum_offset = 17);
	/* csum_start not the transport header, or past the packet */
	BAD(4, IPPROTO_TCP, 20, sp.v.csum_start = 0);
	BAD(4, IPPROTO_TCP, 20, sp.v.csum_start = 24);
	BAD(6, IPPROTO_TCP, 20, sp.v.csum_start = 20);
	BAD(6, IPPROTO_UDP, 8, sp.v.csum_start = 0xffff);
	/* gso_size, gso_type, flags */
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_size = 0);
	BAD(6, IPPROTO_UDP, 8, sp.v.gso_size = 0);
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = 2);
	BAD(4, IPPROTO_UDP, 8, sp.v.gso_type = VIRTIO_NET_HDR_GSO_UDP);	/* UFO */
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = 6);
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = 0x7f);
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = VIRTIO_NET_HDR_GSO_ECN);
	BAD(4, IPPROTO_TCP, 20, sp.v.flags = 0);		/* GSO, no checksum asked */
	BAD(4, IPPROTO_TCP, 20, sp.v.flags |= 4);		/* unknown flag */
	/* gso_type against the packet */
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
	BAD(6, IPPROTO_TCP, 20, sp.v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
	BAD(4, IPPROTO_UDP, 8, sp.v.gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4);
	BAD(4, IPPROTO_TCP, 20, sp.b[9] = IPPROTO_ICMP);
	BAD(6, IPPROTO_UDP, 8, sp.b[6] = 132);
	/* IPv4 options on a super-packet, IPv6 extension headers */
	BAD(4, IPPROTO_TCP, 20, sp.b[0] = 0x46; sp.v.csum_start = 24);
	BAD(4, IPPROTO_TCP, 20, sp.b[0] = 0x46);
	BAD(6, IPPROTO_TCP, 20, sp.b[6] = 0);			/* hop-by-hop */
	BAD(6, IPPROTO_TCP, 20, sp.b[6] = 44);			/* fragment */
	BAD(6, IPPROTO_UDP, 8, sp.b[6] = 60);			/* destination options */
	/* IP header against the packet */
	BAD(4, IPPROTO_TCP, 20, sp.b[0] = 0x44);		/* IHL 4 */
	BAD(4, IPPROTO_TCP, 20, sp.b[0] = 0x4f);		/* IHL past the TCP header */
	BAD(4, IPPROTO_TCP, 20, sp.b[0] = 0x55);		/* version 5 */
	BAD(4, IPPROTO_TCP, 20, wr16(sp.b + 2, sp.len - 1));
	BAD(4, IPPROTO_TCP, 20, wr16(sp.b + 2, 0));
	BAD(4, IPPROTO_TCP, 20, wr16(sp.b + 6, 0x6000));	/* MF */
	BAD(4, IPPROTO_TCP, 20, wr16(sp.b + 6, 0x0001));	/* offset */
	BAD(6, IPPROTO_TCP, 20, wr16(sp.b + 4, sp.len - 41));
	BAD(6, IPPROTO_TCP, 20, wr16(sp.b + 4, 0));		/* jumbogram */
	BAD(6, IPPROTO_TCP, 20, sp.b[0] = 0x40);
	/* TCP header */
	BAD(4, IPPROTO_TCP, 20, sp.b[20 + 12] = 4 << 4);
	BAD(4, IPPROTO_TCP, 20, sp.b[20 + 12] = 0);
	/* headers only: no payload to cut */
	BAD(4, IPPROTO_TCP, 20, sp.len = 40; wr16(sp.b + 2, 40); sp.v.hdr_len = 40);
	BAD(6, IPPROTO_UDP, 8, sp.len = 48; wr16(sp.b + 4, 8); sp.v.hdr_len = 48);
	/* truncated */
	BAD(4, IPPROTO_TCP, 20, sp.len = 0; sp.v.hdr_len = 0);
	BAD(4, IPPROTO_TCP, 20, sp.len = 19; sp.v.hdr_len = 0);
	BAD(6, IPPROTO_TCP, 20, sp.len = 39; sp.v.hdr_len = 0);
	BAD(4, IPPROTO_TCP, 20, sp.len = 30; wr16(sp.b + 2, 30); sp.v.hdr_len = 0);
	BAD(6, IPPROTO_UDP, 8, sp.len = 44; wr16(sp.b + 4, 4); sp.v.hdr_len = 0);
	/* a plain packet asking for a checksum: the same checks */
	BAD(4, IPPROTO_UDP, 8, sp.v.gso_type = 0; wr16(sp.b + 24, 9));	/* UDP length */
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = 0; sp.v.csum_offset = 6);
	BAD(6, IPPROTO_UDP, 8, sp.v.gso_type = 0; sp.v.csum_start = 8);
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = 0; wr16(sp.b + 6, 0x2000));
	BAD(4, IPPROTO_TCP, 20, sp.v.gso_type = 0; sp.b[9] = IPPROTO_ICMP);
#undef BAD
	assert_true(cases > 50);
}

/* gso_csum_*: the sum gso.c uses, against the test's, at odd lengths too. */
static void
test_csum(void **state)
{
	uint8_t b[301];

	(void)state;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 31 + 7);
	for (size_t n = 0; n <= sizeof(b); n += 13) {
		uint16_t c = gso_csum_fold(gso_csum_add(0, b, n));
		uint8_t be[2];

		memcpy(be, &c, 2);		/* stored as it is computed */
		assert_int_equal(rd16(be), fold(sum16(0, b, n)));
	}
}

/* The virtio_net_hdr as the kernel lays it out (host order). */
static void
test_vnet_rw(void **state)
{
	struct virtio_net_hdr h = {
		.flags = 1, .gso_type = 4, .hdr_len = 74, .gso_size = 1428,
		.csum_start = 40, .csum_offset = 16,
	};
	uint8_t raw[GSO_VNET_LEN], back[GSO_VNET_LEN];
	struct gso_vnet v;

	(void)state;
	memcpy(raw, &h, sizeof(h));
	gso_vnet_read(raw, &v);
	assert_int_equal(v.flags, 1);
	assert_int_equal(v.gso_type, 4);
	assert_int_equal(v.hdr_len, 74);
	assert_int_equal(v.gso_size, 1428);
	assert_int_equal(v.csum_start, 40);
	assert_int_equal(v.csum_offset, 16);
	gso_vnet_write(back, &v);
	assert_memory_equal(back, raw, sizeof(raw));
}

/*
 * gso_uso_header: the headers of a UDP GSO super-packet for a packet
 * socket.  Each datagram is made the way the kernel makes it
 * (__udp_gso_segment: the length in the check field swapped for the
 * datagram's, then the partial checksum finished over the UDP header and
 * payload; inet_gso_segment: the IP total length, the id advanced, the
 * header checksum redone) and must then be a valid IPv4/UDP datagram
 * with the payload slice it should carry.
 */
static void
test_uso_header(void **state)
{
	static uint8_t b[GSO_USO_HDR + BIG];
	const size_t seg = 1508, pay = 3 * seg + 701;
	struct gso_uso u = {
		.dst_mac = { 2, 0, 0, 0, 0, 1 }, .src_mac = { 2, 0, 0, 0, 0, 2 },
		.saddr = htonl(0xc6120002), .daddr = htonl(0xc6120001),
		.sport = htons(40123), .dport = htons(6081), .ip_id = htons(0xfffe), .ttl = 64,
	};
	const uint8_t *eth = b + GSO_VNET_LEN, *ip = eth + 14;
	struct gso_vnet v;
	unsigned nseg = 0;

	(void)state;
	for (size_t i = 0; i < pay; i++)
		b[GSO_USO_HDR + i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(gso_uso_header(b, &u, pay, seg), GSO_USO_HDR);
	gso_vnet_read(b, &v);
	assert_int_equal(v.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(v.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(v.gso_size, seg);
	assert_int_equal(v.hdr_len, 42);
	assert_int_equal(v.csum_start, 34);
	assert_int_equal(v.csum_offset, 6);
	assert_memory_equal(eth, u.dst_mac, 6);
	assert_memory_equal(eth + 6, u.src_mac, 6);
	assert_int_equal(rd16(eth + 12), 0x0800);
	/* The whole is a valid IPv4 header too (a veth hands it on whole). */
	assert_int_equal(fold(sum16(0, ip, 20)), 0);
	assert_int_equal(rd16(ip + 2), 28 + pay);
	assert_int_equal(rd16(ip + 6), 0x4000);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_UDP);
	assert_int_equal(rd16(ip + 20), 40123);
	assert_int_equal(rd16(ip + 22), 6081);
	assert_int_equal(rd16(ip + 24), 8 + pay);

	for (size_t off = 0; off < pay; off += seg, nseg++) {
		uint8_t d[20 + 8 + 1508];
		size_t n = ref_udp_gso_cut(ip, pay, seg, off, (uint16_t)(0xfffe + nseg), d);

		assert_valid(d, 28 + n, 20, IPPROTO_UDP);
		assert_int_equal(rd16(d + 4), (uint16_t)(0xfffe + nseg));
		assert_memory_equal(d + 28, b + GSO_USO_HDR + off, n);
	}
	assert_int_equal(nseg, 4);

	/* One datagram is no super-packet; nor is a whole past 64 KB. */
	assert_int_equal(gso_uso_header(b, &u, seg, seg), -EINVAL);
	assert_int_equal(gso_uso_header(b, &u, 100, 0), -EINVAL);
	assert_int_equal(gso_uso_header(b, &u, 65535 - 28 + 1, seg), -EINVAL);
	assert_int_equal(gso_uso_header(b, &u, 65535 - 28, seg), GSO_USO_HDR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_tcp_ecn),
		cmocka_unit_test(test_udp_l4),
		cmocka_unit_test(test_needs_csum),
		cmocka_unit_test(test_udp_csum_zero),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_vnet_rw),
		cmocka_unit_test(test_uso_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
