/*
 * The coalescer (lib/gro.c).  Segments are built here with checksums the
 * test computes itself; every super-packet is cut back into segments by a
 * small reference segmenter written the way the kernel's TCP/IP GSO does it
 * (sequence numbers advanced, IPv4 id + i, lengths, PSH only on the last,
 * checksums from scratch), and the result must equal the segments that
 * went in, byte for byte.  The vnet header fields and the rewritten
 * headers are checked against values computed here independently.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gro.h"

#define MAXPKT	2048
#define NPKT	128

/* --- an independent checksum and packet builder ------------------------- */

static uint16_t
t_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t
t_pseudo(const uint8_t *ip, int v6, size_t tcp_len)
{
	uint32_t s = 0;
	const uint8_t *a = ip + (v6 ? 8 : 12);
	size_t alen = v6 ? 32 : 8;

	for (size_t i = 0; i < alen; i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	return s + 6 + (uint32_t)(tcp_len >> 16) + (uint32_t)(tcp_len & 0xffff);
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Fill in the IPv4 header checksum and the TCP checksum of a packet. */
static void
t_fix(uint8_t *b, int v6, size_t l3, size_t len)
{
	if (!v6) {
		put16(b + 10, 0);
		put16(b + 10, (uint16_t)~t_csum(b, 20, 0));
	}
	put16(b + l3 + 16, 0);
	put16(b + l3 + 16, (uint16_t)~t_csum(b + l3, len - l3, t_pseudo(b, v6, len - l3)));
}

struct spec {
	int		v6;
	uint32_t	seq;
	uint16_t	id;
	uint8_t		flags;		/* 0: ACK */
	size_t		payload;
	uint8_t		ttl;		/* 0: 64 */
	uint16_t	win;		/* 0: 502 */
	uint32_t	tsval;		/* timestamp option value; 0: no options */
	uint16_t	sport;		/* 0: 40000 */
	int		bad_csum;
	int		ext_hdr;	/* IPv6: a hop-by-hop header in front of TCP */
	uint8_t		pad;		/* link padding after the packet */
};

/* Payload bytes depend only on the sequence number: contiguous segments
 * are slices of one stream. */
static uint8_t
stream_byte(uint32_t seq)
{
	return (uint8_t)(seq * 131u + (seq >> 8) * 7u + 3u);
}

static size_t
mk(uint8_t *b, const struct spec *s)
{
	size_t l3 = s->v6 ? 40 + (s->ext_hdr ? 8 : 0) : 20;
	size_t optlen = s->tsval ? 12 : 0;
	size_t th = 20 + optlen;
	size_t len = l3 + th + s->payload;
	uint8_t *t = b + l3;

	memset(b, 0, len + s->pad);
	if (!s->v6) {
		b[0] = 0x45;
		b[1] = 0x10;
		put16(b + 2, (unsigned)len);
		put16(b + 4, s->id);
		put16(b + 6, 0x4000);		/* DF */
		b[8] = s->ttl ? s->ttl : 64;
		b[9] = 6;
		memcpy(b + 12, (const uint8_t[]){ 192, 0, 2, 1 }, 4);
		memcpy(b + 16, (const uint8_t[]){ 198, 51, 100, 2 }, 4);
	} else {
		b[0] = 0x60;
		b[1] = 0x0a;
		b[2] = 0xbc;
		b[3] = 0xde;			/* flow label */
		put16(b + 4, (unsigned)(len - 40));
		b[6] = s->ext_hdr ? 0 : 6;
		b[7] = s->ttl ? s->ttl : 64;
		memcpy(b + 8, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
		memcpy(b + 24, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, 16);
		if (s->ext_hdr) {
			b[40] = 6;		/* next: TCP */
			b[41] = 0;		/* 8 bytes */
			b[42] = 1;		/* PadN */
			b[43] = 4;
		}
	}
	put16(t, s->sport ? s->sport : 40000);
	put16(t + 2, 443);
	put32(t + 4, s->seq);
	put32(t + 8, 0x11223344);
	t[12] = (uint8_t)((th / 4) << 4);
	t[13] = s->flags ? s->flags : 0x10;
	put16(t + 14, s->win ? s->win : 502);
	if (optlen) {
		t[20] = 1;
		t[21] = 1;
		t[22] = 8;
		t[23] = 10;
		put32(t + 24, s->tsval);
		put32(t + 28, 0x01020304);
	}
	for (size_t i = 0; i < s->payload; i++)
		t[th + i] = stream_byte(s->seq + (uint32_t)i);
	t_fix(b, s->v6, l3, len);
	if (s->bad_csum)
		t[th] ^= 0x40;		/* the payload, after the checksum */
	return len;
}

/* --- a batch: the packets, their tags and domains ----------------------- */

struct batch {
	uint8_t		buf[NPKT][MAXPKT];
	size_t		len[NPKT];
	uint64_t	dom[NPKT];
	const uint8_t	*tag[NPKT];
	unsigned	n;
	struct gro	*g;
};

static const uint8_t tag_a[40] = { 0, 0, 0x65, 0x58, [36] = 0xaa };
static const uint8_t tag_b[40] = { 0, 0, 0x65, 0x58, [36] = 0xbb };

static void
add(struct batch *b, const struct spec *s, uint64_t dom, const uint8_t *tag)
{
	assert_true(b->n < NPKT);
	b->len[b->n] = mk(b->buf[b->n], s);
	b->dom[b->n] = dom;
	b->tag[b->n] = tag;
	assert_int_equal(gro_add(b->g, b->buf[b->n], b->len[b->n] + s->pad, dom, tag,
	    tag ? 40 : 0), (int)b->n);
	b->n++;
}

/* A contiguous run of v4 segments of one flow. */
static void
run(struct batch *b, uint32_t seq, uint16_t id, unsigned n, size_t payload)
{
	for (unsigned i = 0; i < n; i++)
		add(b, &(struct spec){ .seq = seq + (uint32_t)(i * payload),
		    .id = (uint16_t)(id + i), .payload = payload }, 1, tag_a);
}

static int
setup(void **state)
{
	struct batch *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->g = gro_new();
	assert_non_null(b->g);
	*state = b;
	return 0;
}

static int
teardown(void **state)
{
	struct batch *b = *state;

	gro_free(b->g);
	free(b);
	return 0;
}

/* --- the reference segmenter -------------------------------------------- */

/*
 * What the kernel makes of a super-packet (TSO/GSO in software): gso_size
 * payload bytes per segment, the head's headers, per segment the sequence
 * number advanced, IPv4 id + i and a new header checksum, the lengths, PSH
 * (and FIN) only on the last one, TCP checksum computed in full.  Returns
 * the number of segments in out[].
 */
static unsigned
segment(const struct gro_item *it, const uint8_t *payload, size_t plen,
    uint8_t out[][MAXPKT], size_t *olen)
{
	const struct gro_vnet_hdr *v = &it->vnet;
	int v6 = v->gso_type == GRO_VNET_GSO_TCPV6;
	size_t l3 = v->csum_start, hl = v->hdr_len;
	uint8_t psh = it->hdr[l3 + 13] & 0x08;
	uint32_t seq = get32(it->hdr + l3 + 4);
	unsigned n = 0;

	for (size_t off = 0; off < plen; off += v->gso_size, n++) {
		size_t chunk = plen - off < v->gso_size ? plen - off : v->gso_size;
		uint8_t *b = out[n];
		size_t len = hl + chunk;

		memcpy(b, it->hdr, hl);
		memcpy(b + hl, payload + off, chunk);
		if (!v6) {
			put16(b + 2, (unsigned)len);
			put16(b + 4, (unsigned)((b[4] << 8 | b[5]) + n) & 0xffff);
		} else {
			put16(b + 4, (unsigned)(len - 40));
		}
		put32(b + l3 + 4, seq + (uint32_t)off);
		b[l3 + 13] &= (uint8_t)~0x08;
		if (off + chunk == plen)
			b[l3 + 13] |= psh;
		t_fix(b, v6, l3, len);
		olen[n] = len;
	}
	return n;
}

/*
 * Check item i: its packets are idx[0..n-1]; for a super-packet, the vnet
 * header and the rewritten headers against values computed here, and the
 * segments cut back from it equal to the packets that went in.
 */
static void
check_item(struct batch *b, unsigned i, const unsigned *idx, unsigned n)
{
	const struct gro_item *it = gro_item(b->g, i);
	static uint8_t payload[70000], seg[NPKT][MAXPKT];
	size_t plen = 0, seglen[NPKT], len, off;
	unsigned k = 0, x;

	assert_non_null(it);
	assert_int_equal(it->first, idx[0]);
	assert_int_equal(it->nsegs, n);
	for (x = it->first; x != GRO_NONE; x = gro_next(b->g, x), k++) {
		const uint8_t *p = gro_pkt(b->g, x, &len, &off);

		assert_true(k < n);
		assert_int_equal(x, idx[k]);
		assert_ptr_equal(p, b->buf[x]);
		if (n > 1) {
			memcpy(payload + plen, p + off, len - off);
			plen += len - off;
		}
	}
	assert_int_equal(k, n);
	if (n == 1)
		return;
	{
		const uint8_t *h = b->buf[idx[0]];
		int v6 = h[0] >> 4 == 6;
		size_t l3 = v6 ? 40 : 20, thl = (size_t)(h[l3 + 12] >> 4) * 4;
		size_t total = l3 + thl + plen;
		uint8_t want[120];

		assert_int_equal(it->vnet.flags, GRO_VNET_F_NEEDS_CSUM);
		assert_int_equal(it->vnet.gso_type, v6 ? GRO_VNET_GSO_TCPV6 : GRO_VNET_GSO_TCPV4);
		assert_int_equal(it->vnet.hdr_len, l3 + thl);
		assert_int_equal(it->vnet.csum_start, l3);
		assert_int_equal(it->vnet.csum_offset, 16);
		assert_int_equal(it->vnet.gso_size, b->len[idx[0]] - l3 - thl);
		assert_int_equal(it->hdr_len, l3 + thl);
		assert_int_equal(it->len, total);
		/* The head's headers, with the lengths, PSH of the last, the
		 * IPv4 header checksum and the pseudo-header sum. */
		memcpy(want, h, l3 + thl);
		if (!v6) {
			put16(want + 2, (unsigned)total);
			put16(want + 10, 0);
			put16(want + 10, (uint16_t)~t_csum(want, 20, 0));
			assert_int_equal(t_csum(it->hdr, 20, 0), 0xffff);
		} else {
			put16(want + 4, (unsigned)(total - 40));
		}
		want[l3 + 13] |= b->buf[idx[n - 1]][l3 + 13] & 0x08;
		put16(want + l3 + 16, t_csum(NULL, 0, t_pseudo(want, v6, total - l3)));
		assert_memory_equal(it->hdr, want, l3 + thl);
	}
	assert_int_equal(segment(it, payload, plen, seg, seglen), n);
	for (k = 0; k < n; k++) {
		assert_int_equal(seglen[k], b->len[idx[k]]);
		assert_memory_equal(seg[k], b->buf[idx[k]], seglen[k]);
	}
}

#define ITEM(b, i, ...) do {						\
	const unsigned idx_[] = { __VA_ARGS__ };			\
	check_item(b, i, idx_, sizeof(idx_) / sizeof(idx_[0]));	\
} while (0)

/* --- the cases ---------------------------------------------------------- */

static void
merges_a_run(void **state)
{
	struct batch *b = *state;

	run(b, 1000, 7, 4, 1000);
	assert_int_equal(gro_finish(b->g), 1);
	ITEM(b, 0, 0, 1, 2, 3);
	assert_null(gro_item(b->g, 1));
	for (int r = 0; r < GRO_R__MAX; r++)
		assert_int_equal(gro_refused(b->g, (enum gro_refuse)r), 0);
}

static void
last_smaller(void **state)
{
	struct batch *b = *state;

	run(b, 1, 0xfffe, 3, 1200);	/* the id wraps */
	add(b, &(struct spec){ .seq = 1 + 3 * 1200, .id = 1, .payload = 300 }, 1, tag_a);
	/* after a smaller one nothing joins */
	add(b, &(struct spec){ .seq = 1 + 3 * 1200 + 300, .id = 2, .payload = 300 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 2);
	ITEM(b, 0, 0, 1, 2, 3);
	ITEM(b, 1, 4);
	assert_int_equal(gro_refused(b->g, GRO_R_SIZE), 1);
}

static void
larger_than_first(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 500 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 500, .id = 2, .payload = 1000 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1500, .id = 3, .payload = 1000 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 2);
	ITEM(b, 0, 0);
	ITEM(b, 1, 1, 2);
	assert_int_equal(gro_refused(b->g, GRO_R_SIZE), 1);
}

static void
reordered(void **state)
{
	struct batch *b = *state;

	/* 0 1000 | 3000 | 2000 | 4000: never put back in order, never merged
	 * across the swap; the stream leaves in the order it came */
	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 1000 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1000, .id = 2, .payload = 1000 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 3000, .id = 4, .payload = 1000 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 2000, .id = 3, .payload = 1000 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 4000, .id = 5, .payload = 1000 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 4);
	ITEM(b, 0, 0, 1);
	ITEM(b, 1, 2);
	ITEM(b, 2, 3);
	ITEM(b, 3, 4);
	assert_int_equal(gro_refused(b->g, GRO_R_SEQ), 3);
}

static void
gap(void **state)
{
	struct batch *b = *state;

	run(b, 0, 1, 2, 800);
	run(b, 2400, 3, 3, 800);
	assert_int_equal(gro_finish(b->g), 2);
	ITEM(b, 0, 0, 1);
	ITEM(b, 1, 2, 3, 4);
	assert_int_equal(gro_refused(b->g, GRO_R_SEQ), 1);
}

static void
ip_id_must_grow(void **state)
{
	struct batch *b = *state;

	/* the kernel gives segment i the id head + i: a fixed id cannot come
	 * back out the same */
	add(b, &(struct spec){ .seq = 0, .id = 9, .payload = 100 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 100, .id = 9, .payload = 100 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 2);
	ITEM(b, 0, 0);
	ITEM(b, 1, 1);
	assert_int_equal(gro_refused(b->g, GRO_R_IP_ID), 1);
}

static void
psh_mid_burst(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 700 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 700, .id = 2, .payload = 700, .flags = 0x18 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1400, .id = 3, .payload = 700 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 2100, .id = 4, .payload = 700 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 2);
	ITEM(b, 0, 0, 1);		/* PSH on the super-packet: the last had it */
	assert_int_equal(gro_item(b->g, 0)->hdr[20 + 13] & 0x08, 0x08);
	ITEM(b, 1, 2, 3);
	assert_int_equal(gro_item(b->g, 1)->hdr[20 + 13] & 0x08, 0);
	assert_int_equal(gro_refused(b->g, GRO_R_PSH), 1);
}

static void
psh_on_head_alone(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 700, .flags = 0x18 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 700, .id = 2, .payload = 700 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 2);
	ITEM(b, 0, 0);
	ITEM(b, 1, 1);
}

static void
tcp_options_differ(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 600, .tsval = 5 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 600, .id = 2, .payload = 600, .tsval = 5 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1200, .id = 3, .payload = 600, .tsval = 6 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1800, .id = 4, .payload = 600 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 3);
	ITEM(b, 0, 0, 1);
	ITEM(b, 1, 2);
	ITEM(b, 2, 3);
	assert_int_equal(gro_refused(b->g, GRO_R_HEADER), 2);
}

static void
ip_fields_differ(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 600 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 600, .id = 2, .payload = 600, .ttl = 63 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1200, .id = 3, .payload = 600, .ttl = 63, .win = 9 },
	    1, tag_a);
	assert_int_equal(gro_finish(b->g), 3);
	assert_int_equal(gro_refused(b->g, GRO_R_HEADER), 2);
}

static void
bad_checksum(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 900 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 900, .id = 2, .payload = 900 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1800, .id = 3, .payload = 900, .bad_csum = 1 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 2700, .id = 4, .payload = 900 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 3600, .id = 5, .payload = 900 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 3);
	ITEM(b, 0, 0, 1);
	ITEM(b, 1, 2);			/* as it came, bad checksum and all */
	ITEM(b, 2, 3, 4);
	assert_int_equal(gro_refused(b->g, GRO_R_CHECKSUM), 1);
	assert_int_equal(gro_refused(b->g, GRO_R_SEQ), 0);
}

static void
bad_ip_checksum(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 900 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 900, .id = 2, .payload = 900 }, 1, tag_a);
	b->buf[1][10] ^= 1;
	/* re-add the corrupted one in a fresh batch */
	gro_reset(b->g);
	assert_int_equal(gro_add(b->g, b->buf[0], b->len[0], 1, tag_a, 40), 0);
	assert_int_equal(gro_add(b->g, b->buf[1], b->len[1], 1, tag_a, 40), 1);
	assert_int_equal(gro_finish(b->g), 2);
	assert_int_equal(gro_refused(b->g, GRO_R_CHECKSUM), 1);
}

static void
ipv6(void **state)
{
	struct batch *b = *state;

	for (unsigned i = 0; i < 3; i++)
		add(b, &(struct spec){ .v6 = 1, .seq = 77 + i * 1300, .payload = 1300,
		    .tsval = 1 }, 1, tag_a);
	/* extension headers: never merged, and they close the flow's group */
	for (unsigned i = 3; i < 5; i++)
		add(b, &(struct spec){ .v6 = 1, .seq = 77 + i * 1300, .payload = 1300,
		    .ext_hdr = 1 }, 1, tag_a);
	add(b, &(struct spec){ .v6 = 1, .seq = 77 + 5 * 1300, .payload = 1300, .tsval = 1 },
	    1, tag_a);
	assert_int_equal(gro_finish(b->g), 4);
	ITEM(b, 0, 0, 1, 2);
	ITEM(b, 1, 3);
	ITEM(b, 2, 4);
	ITEM(b, 3, 5);
	assert_int_equal(gro_refused(b->g, GRO_R_IP_OPTIONS), 2);
}

static void
syn_fin_rst(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 500 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 500, .id = 2, .payload = 500 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1000, .id = 3, .payload = 500, .flags = 0x11 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1500, .id = 4, .payload = 500, .flags = 0x14 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 2000, .id = 5, .payload = 500, .flags = 0x12 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 2500, .id = 6, .payload = 500, .flags = 0x30 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 3000, .id = 7, .payload = 500, .flags = 0x90 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 3500, .id = 8, .payload = 500, .flags = 0x08 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 4000, .id = 9, .payload = 0 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 8);
	ITEM(b, 0, 0, 1);
	for (unsigned i = 1; i < 8; i++)
		ITEM(b, i, i + 1);
	assert_int_equal(gro_refused(b->g, GRO_R_FLAGS), 6);
	assert_int_equal(gro_refused(b->g, GRO_R_NO_PAYLOAD), 1);
}

static void
cookie_change(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 500 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 500, .id = 2, .payload = 500 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 1000, .id = 3, .payload = 500 }, 1, tag_b);
	add(b, &(struct spec){ .seq = 1500, .id = 4, .payload = 500 }, 1, tag_b);
	add(b, &(struct spec){ .seq = 2000, .id = 5, .payload = 500 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 3);
	ITEM(b, 0, 0, 1);
	ITEM(b, 1, 2, 3);
	ITEM(b, 2, 4);
	assert_int_equal(gro_refused(b->g, GRO_R_TAG), 2);
}

static void
flows_and_enis(void **state)
{
	struct batch *b = *state;

	/* A and B: two flows of ENI 1; C: A's 5-tuple on ENI 2; then a UDP
	 * packet and a pass-through one.  Interleaved. */
	for (unsigned i = 0; i < 3; i++) {
		add(b, &(struct spec){ .seq = i * 400, .id = (uint16_t)(10 + i),
		    .payload = 400 }, 1, tag_a);
		add(b, &(struct spec){ .seq = 9000 + i * 300, .id = (uint16_t)(50 + i),
		    .payload = 300, .sport = 41000 }, 1, tag_a);
		add(b, &(struct spec){ .seq = i * 400, .id = (uint16_t)(10 + i),
		    .payload = 400 }, 2, tag_a);
	}
	{
		uint8_t *u = b->buf[b->n];

		b->len[b->n] = mk(u, &(struct spec){ .seq = 0, .payload = 50 });
		u[9] = 17;
		assert_int_equal(gro_add(b->g, u, b->len[b->n], 1, tag_a, 40), (int)b->n);
		b->n++;
	}
	add(b, &(struct spec){ .seq = 1200, .id = 13, .payload = 400 }, 1, NULL);
	add(b, &(struct spec){ .seq = 1200, .id = 13, .payload = 400 }, 2, tag_a);
	assert_int_equal(gro_finish(b->g), 5);
	ITEM(b, 0, 0, 3, 6);
	ITEM(b, 1, 1, 4, 7);
	ITEM(b, 2, 2, 5, 8, 11);
	ITEM(b, 3, 9);
	ITEM(b, 4, 10);
	assert_int_equal(gro_refused(b->g, GRO_R_NOT_TCP), 1);
}

static void
full(void **state)
{
	struct batch *b = *state;
	unsigned n;

	/* 1400-byte payloads: 46 fit in 64 KB with 40 bytes of headers */
	run(b, 0, 0, 50, 1400);
	n = gro_finish(b->g);
	assert_int_equal(n, 2);
	assert_int_equal(gro_item(b->g, 0)->nsegs, 46);
	assert_true(gro_item(b->g, 0)->len <= GRO_MAX_LEN);
	assert_int_equal(gro_item(b->g, 1)->nsegs, 4);
	{
		unsigned idx[46];

		for (unsigned i = 0; i < 46; i++)
			idx[i] = i;
		check_item(b, 0, idx, 46);
	}
	gro_reset(b->g);
	b->n = 0;
	run(b, 0, 0, 70, 10);
	assert_int_equal(gro_finish(b->g), 2);
	assert_int_equal(gro_item(b->g, 0)->nsegs, GRO_MAX_SEGS);
	assert_int_equal(gro_refused(b->g, GRO_R_FULL), 1);
}

static void
padding_cut(void **state)
{
	struct batch *b = *state;

	add(b, &(struct spec){ .seq = 0, .id = 1, .payload = 30, .pad = 6 }, 1, tag_a);
	add(b, &(struct spec){ .seq = 30, .id = 2, .payload = 30, .pad = 6 }, 1, tag_a);
	assert_int_equal(gro_finish(b->g), 1);
	ITEM(b, 0, 0, 1);
}

static void
batch_full_and_reset(void **state)
{
	struct batch *b = *state;
	uint8_t p[100];
	size_t len = mk(p, &(struct spec){ .seq = 0, .payload = 20 });

	for (unsigned i = 0; i < GRO_BATCH_MAX; i++)
		assert_int_equal(gro_add(b->g, p, len, i, tag_a, 40), (int)i);
	assert_int_equal(gro_add(b->g, p, len, 0, tag_a, 40), -ENOSPC);
	assert_int_equal(gro_finish(b->g), GRO_BATCH_MAX);
	gro_reset(b->g);
	assert_int_equal(gro_finish(b->g), 0);
	assert_null(gro_item(b->g, 0));
	assert_int_equal(gro_add(b->g, p, len, 0, tag_a, 40), 0);
}

static void
names(void **state)
{
	(void)state;
	for (int r = 0; r < GRO_R__MAX; r++) {
		const char *s = gro_refuse_str((enum gro_refuse)r);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "?");
	}
	assert_string_equal(gro_refuse_str(GRO_R__MAX), "?");
	assert_string_equal(gro_refuse_str(GRO_R_SEQ), "seq-gap");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(merges_a_run), T(last_smaller), T(larger_than_first), T(reordered), T(gap),
		T(ip_id_must_grow), T(psh_mid_burst), T(psh_on_head_alone),
		T(tcp_options_differ), T(ip_fields_differ), T(bad_checksum),
		T(bad_ip_checksum), T(ipv6), T(syn_fin_rst), T(cookie_change),
		T(flows_and_enis), T(full), T(padding_cut), T(batch_full_and_reset),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
