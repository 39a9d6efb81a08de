/*
 * Unit tests for lib/pkt.c.  Packets are described declaratively (struct
 * desc) and built by the small builders below; the expected results in the
 * vector table are written out by hand (header lengths counted, not
 * computed), so the builders and the parser do not check each other.
 * Around the table: IPv4 with every IHL, IPv6 extension chains in every
 * order, every truncation of every valid vector (raw, and with the length
 * fields rewritten to match), byte mutations and random buffers (which
 * matter most under the sanitizer build: every parse reads from a heap
 * buffer of exactly the packet's size), key formatting and hashing.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

#define A4	"192.0.2.1"
#define B4	"198.51.100.2"
#define R4	"203.0.113.9"		/* a router sending ICMP errors */
#define A6	"2001:db8::1"
#define B6	"2001:db8::2"
#define R6	"2001:db8:ffff::9"

#define BUFSZ	4096

/* How to build one packet. */
struct desc {
	uint8_t		 fam;		/* 4 or 6 */
	const char	*src, *dst;
	uint8_t		 ihl;		/* IPv4 header words; 0 means 5 */
	uint16_t	 ipid;
	uint16_t	 v4frag;	/* IPv4 flags and fragment offset word */
	uint8_t		 next;		/* number of IPv6 extension headers */
	uint8_t		 ext[10];	/* their types, in order */
	uint16_t	 v6frag;	/* fragment header: offset << 3 | M */
	uint32_t	 v6id;
	uint8_t		 proto;		/* upper-layer protocol */
	uint16_t	 sport, dport;
	uint8_t		 itype;		/* ICMP type */
	uint16_t	 iid;		/* ICMP echo id */
	const struct desc *quote;	/* ICMP error: the packet it quotes */
	uint16_t	 qlen;		/* bytes of it quoted; 0 = all */
	uint16_t	 payload;	/* bytes after the transport header */
	int16_t		 len_adj;	/* added to the IP length field */
	uint16_t	 trailer;	/* bytes after the IP packet (padding) */
};

/* Where the builder put things, for the truncation expectations. */
struct built {
	size_t		 len;
	size_t		 l3;		/* IP header + extensions, as built */
	size_t		 need;		/* transport bytes the ports need */
	size_t		 q;		/* offset of the quote, 0 = none */
	size_t		 qlen;		/* bytes quoted */
	size_t		 q_l3;		/* quoted IP header + extensions */
	size_t		 q_need;	/* quoted transport bytes for ports */
};

struct want {
	enum pkt_err	 err;
	uint8_t		 proto;
	const char	*src, *dst;
	uint16_t	 sport, dport;
	enum pkt_frag	 frag;
	uint32_t	 frag_id;
	bool		 icmp_error;
	uint8_t		 itype;
	uint16_t	 l3_len;
	uint32_t	 tot_len;
};

struct vec {
	const char	*name;
	struct desc	 d;
	struct want	 w;
};

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static void
addr(int fam, const char *s, uint8_t *out16)
{
	memset(out16, 0, 16);
	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, s, out16) != 1)
		fail_msg("bad test address %s", s);
}

static bool
is_icmp(uint8_t fam, uint8_t proto)
{
	return proto == (fam == 4 ? 1 : 58);
}

static bool
has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 ||
	    proto == 136;
}

static bool
icmp_echo(uint8_t fam, uint8_t type)
{
	return fam == 4 ? (type == 0 || type == 8) :
	    (type == 128 || type == 129);
}

static bool
desc_later(const struct desc *d)
{
	unsigned i;

	if (d->fam == 4)
		return (d->v4frag & 0x1fff) != 0;
	for (i = 0; i < d->next; i++)
		if (d->ext[i] == 44 && (d->v6frag & 0xfff8))
			return true;
	return false;
}

static size_t
ext_size(uint8_t type)
{
	switch (type) {
	case 0:		return 8;	/* hop-by-hop, length field 0 */
	case 43:	return 24;	/* routing, length field 2 */
	case 60:	return 16;	/* destination options, length 1 */
	case 44:	return 8;	/* fragment */
	case 51:	return 16;	/* AH: (2 + 2) * 4 */
	}
	fail_msg("no builder for extension header %u", type);
	return 0;
}

static size_t build(const struct desc *, uint8_t *, size_t, struct built *);

/* Transport header (and quote) at b + pos; returns the new position. */
static size_t
build_l4(const struct desc *d, uint8_t *b, size_t pos, size_t cap,
    struct built *bt)
{
	size_t hl = 0;

	switch (d->proto) {
	case 6:		hl = 20; break;
	case 17:	hl = 8; break;
	case 136:	hl = 8; break;
	case 132:	hl = 12; break;
	case 33:	hl = 16; break;
	}
	if (is_icmp(d->fam, d->proto))
		hl = 8;
	assert_true(pos + hl <= cap);
	memset(b + pos, 0, hl);
	if (has_ports(d->proto)) {
		wr16(b + pos, d->sport);
		wr16(b + pos + 2, d->dport);
		if (d->proto == 6)
			b[pos + 12] = 0x50;		/* data offset 5 */
		bt->need = 4;
	} else if (is_icmp(d->fam, d->proto)) {
		b[pos] = d->itype;
		wr16(b + pos + 4, d->iid);
		wr16(b + pos + 6, 1);			/* sequence */
		bt->need = 8;
	}
	pos += hl;
	if (d->quote != NULL) {
		uint8_t q[BUFSZ];
		struct built qb;
		size_t n = build(d->quote, q, sizeof(q), &qb);

		if (d->qlen != 0 && d->qlen < n)
			n = d->qlen;
		assert_true(pos + n <= cap);
		memcpy(b + pos, q, n);
		bt->q = pos;
		bt->qlen = n;
		bt->q_l3 = qb.l3;
		bt->q_need = qb.need;
		if (is_icmp(d->quote->fam, d->quote->proto))
			bt->q_need = icmp_echo(d->quote->fam,
			    d->quote->itype) ? 6 : 0;
		if (desc_later(d->quote))
			bt->q_need = 0;
		pos += n;
	}
	return pos;
}

/* Build the packet d describes into b. */
static size_t
build(const struct desc *d, uint8_t *b, size_t cap, struct built *bt)
{
	size_t pos, iplen;
	unsigned i;

	memset(bt, 0, sizeof(*bt));
	assert_true(cap >= 60);
	if (d->fam == 4) {
		unsigned ihl = d->ihl ? d->ihl : 5;
		uint8_t a[16];

		memset(b, 0, ihl * 4);
		b[0] = (uint8_t)(0x40 | ihl);
		wr16(b + 4, d->ipid);
		wr16(b + 6, d->v4frag);
		b[8] = 64;
		b[9] = d->proto;
		addr(4, d->src, a);
		memcpy(b + 12, a, 4);
		addr(4, d->dst, a);
		memcpy(b + 16, a, 4);
		memset(b + 20, 1, ihl * 4 - 20);	/* NOP options */
		pos = ihl * 4;
	} else {
		uint8_t a[16];

		memset(b, 0, 40);
		b[0] = 0x60;
		b[6] = d->next ? d->ext[0] : d->proto;
		b[7] = 64;
		addr(6, d->src, a);
		memcpy(b + 8, a, 16);
		addr(6, d->dst, a);
		memcpy(b + 24, a, 16);
		pos = 40;
		for (i = 0; i < d->next; i++) {
			uint8_t t = d->ext[i];
			size_t n = ext_size(t);
			uint8_t *h = b + pos;

			assert_true(pos + n <= cap);
			memset(h, 0, n);	/* Pad1 options */
			h[0] = i + 1 < d->next ? d->ext[i + 1] : d->proto;
			if (t == 44) {
				wr16(h + 2, d->v6frag);
				wr32(h + 4, d->v6id);
			} else if (t == 51) {
				h[1] = (uint8_t)(n / 4 - 2);
				wr32(h + 4, 0x1000);	/* SPI */
			} else {
				h[1] = (uint8_t)(n / 8 - 1);
			}
			pos += n;
		}
	}
	bt->l3 = pos;
	pos = build_l4(d, b, pos, cap, bt);
	if (desc_later(d))
		bt->need = 0;
	assert_true(pos + d->payload + d->trailer <= cap);
	memset(b + pos, 0xa5, d->payload);
	pos += d->payload;
	iplen = (size_t)((long)pos + d->len_adj);
	if (d->fam == 4)
		wr16(b + 2, (uint16_t)iplen);
	else
		wr16(b + 4, (uint16_t)(iplen - 40));
	memset(b + pos, 0x5a, d->trailer);
	pos += d->trailer;
	bt->len = pos;
	return pos;
}

/* Parse from a heap buffer of exactly len bytes, so ASan sees overreads. */
static enum pkt_err
parse_exact(const uint8_t *p, size_t len, struct pkt_info *out)
{
	uint8_t *c = malloc(len ? len : 1);
	enum pkt_err err;

	assert_non_null(c);
	memcpy(c, p, len);
	err = pkt_parse(c, len, out);
	free(c);
	return err;
}

static void
mk_key(struct pkt_key *k, uint8_t fam, uint8_t proto, const char *src,
    const char *dst, uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->family = fam;
	k->proto = proto;
	addr(fam, src, k->src);
	addr(fam, dst, k->dst);
	k->sport = sport;
	k->dport = dport;
}

static void
fmt(const struct pkt_key *k, char *buf)
{
	if (pkt_key_format(k, buf, PKT_KEY_STRLEN) < 0)
		snprintf(buf, PKT_KEY_STRLEN, "(unformattable)");
}

static void
check_key(const char *name, const struct pkt_key *got,
    const struct pkt_key *want)
{
	char g[PKT_KEY_STRLEN], w[PKT_KEY_STRLEN];

	if (memcmp(got, want, sizeof(*got)) == 0)
		return;
	fmt(got, g);
	fmt(want, w);
	fail_msg("%s: key %s, want %s", name, g, w);
}

/* Compare a parse result with what a vector wants. */
static void
check(const char *name, enum pkt_err err, const struct pkt_info *pi,
    uint8_t fam, const struct want *w)
{
	struct pkt_key k;

	if (err != w->err)
		fail_msg("%s: %s, want %s", name, pkt_err_str(err),
		    pkt_err_str(w->err));
	if (err != PKT_OK)
		return;
	mk_key(&k, fam, w->proto, w->src, w->dst, w->sport, w->dport);
	check_key(name, &pi->key, &k);
	if (pi->frag != w->frag || pi->frag_id != w->frag_id)
		fail_msg("%s: frag %d id %#x, want %d id %#x", name, pi->frag,
		    pi->frag_id, w->frag, w->frag_id);
	if (pi->icmp_error != w->icmp_error || pi->icmp_type != w->itype)
		fail_msg("%s: icmp_error %d type %u, want %d type %u", name,
		    pi->icmp_error, pi->icmp_type, w->icmp_error, w->itype);
	if (pi->l3_len != w->l3_len || pi->tot_len != w->tot_len)
		fail_msg("%s: l3_len %u tot_len %u, want %u %u", name,
		    pi->l3_len, pi->tot_len, w->l3_len, w->tot_len);
}

/* --- quoted packets -------------------------------------------------- */

static const struct desc q4_tcp = {
	.fam = 4, .src = A4, .dst = B4, .proto = 6, .sport = 40000,
	.dport = 443, .payload = 100,
};
static const struct desc q4_udp = {
	.fam = 4, .src = A4, .dst = B4, .proto = 17, .sport = 5353,
	.dport = 53, .payload = 30,
};
static const struct desc q4_opt = {
	.fam = 4, .src = A4, .dst = B4, .ihl = 7, .proto = 6, .sport = 1,
	.dport = 2, .payload = 8,
};
static const struct desc q4_echo = {
	.fam = 4, .src = A4, .dst = B4, .proto = 1, .itype = 8, .iid = 7,
	.payload = 56,
};
static const struct desc q4_err = {
	.fam = 4, .src = B4, .dst = A4, .proto = 1, .itype = 3,
	.quote = &q4_udp,
};
static const struct desc q4_later = {
	.fam = 4, .src = A4, .dst = B4, .proto = 17, .ipid = 99,
	.v4frag = 0x2000 | 185, .sport = 1, .dport = 2, .payload = 40,
};
static const struct desc q6_tcp = {
	.fam = 6, .src = A6, .dst = B6, .proto = 6, .sport = 50000,
	.dport = 22, .payload = 64,
};
static const struct desc q6_udp = {
	.fam = 6, .src = A6, .dst = B6, .proto = 17, .sport = 33434,
	.dport = 33435, .payload = 1200,
};
static const struct desc q6_chain = {
	.fam = 6, .src = A6, .dst = B6, .next = 2, .ext = { 0, 60 },
	.proto = 17, .sport = 4500, .dport = 4501, .payload = 20,
};
static const struct desc q6_echo = {
	.fam = 6, .src = A6, .dst = B6, .proto = 58, .itype = 128,
	.iid = 0x4242, .payload = 16,
};
static const struct desc q6_err = {
	.fam = 6, .src = B6, .dst = A6, .proto = 58, .itype = 1,
	.quote = &q6_udp, .qlen = 100,
};
static const struct desc q6_later = {
	.fam = 6, .src = A6, .dst = B6, .next = 1, .ext = { 44 },
	.v6frag = 1448 | 1, .v6id = 0x55, .proto = 6, .sport = 1, .dport = 2,
	.payload = 40,
};

/* --- the vector table -------------------------------------------------- */

#define OK4(p, s, d, sp, dp)	.proto = p, .src = s, .dst = d, .sport = sp, \
	.dport = dp

static const struct vec vecs[] = {
	/* IPv4 transports */
	{ "v4 tcp", { .fam = 4, .src = A4, .dst = B4, .proto = 6,
	    .sport = 1234, .dport = 80, .payload = 10 },
	  { OK4(6, A4, B4, 1234, 80), .l3_len = 20, .tot_len = 50 } },
	{ "v4 udp", { .fam = 4, .src = A4, .dst = B4, .proto = 17,
	    .sport = 53, .dport = 1000, .payload = 10 },
	  { OK4(17, A4, B4, 53, 1000), .l3_len = 20, .tot_len = 38 } },
	{ "v4 udplite", { .fam = 4, .src = A4, .dst = B4, .proto = 136,
	    .sport = 7, .dport = 8 },
	  { OK4(136, A4, B4, 7, 8), .l3_len = 20, .tot_len = 28 } },
	{ "v4 sctp", { .fam = 4, .src = A4, .dst = B4, .proto = 132,
	    .sport = 3868, .dport = 3869 },
	  { OK4(132, A4, B4, 3868, 3869), .l3_len = 20, .tot_len = 32 } },
	{ "v4 dccp", { .fam = 4, .src = A4, .dst = B4, .proto = 33,
	    .sport = 5004, .dport = 5005 },
	  { OK4(33, A4, B4, 5004, 5005), .l3_len = 20, .tot_len = 36 } },
	{ "v4 gre: no ports", { .fam = 4, .src = A4, .dst = B4, .proto = 47,
	    .payload = 8 },
	  { OK4(47, A4, B4, 0, 0), .l3_len = 20, .tot_len = 28 } },
	{ "v4 icmp in v6 number: no ports", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 58, .payload = 8 },
	  { OK4(58, A4, B4, 0, 0), .l3_len = 20, .tot_len = 28 } },
	{ "v4 options ihl 6", { .fam = 4, .src = A4, .dst = B4, .ihl = 6,
	    .proto = 6, .sport = 1, .dport = 2 },
	  { OK4(6, A4, B4, 1, 2), .l3_len = 24, .tot_len = 44 } },
	{ "v4 options ihl 15", { .fam = 4, .src = A4, .dst = B4, .ihl = 15,
	    .proto = 17, .sport = 3, .dport = 4 },
	  { OK4(17, A4, B4, 3, 4), .l3_len = 60, .tot_len = 68 } },
	{ "v4 link padding ignored", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 17, .sport = 3, .dport = 4, .trailer = 18 },
	  { OK4(17, A4, B4, 3, 4), .l3_len = 20, .tot_len = 28 } },
	{ "v4 ports in padding only", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 17, .sport = 3, .dport = 4, .len_adj = -5,
	    .trailer = 10 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v4 total length past buffer", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 6, .sport = 1, .dport = 2, .len_adj = 1 },
	  { .err = PKT_ERR_SHORT } },
	{ "v4 total length < ihl", { .fam = 4, .src = A4, .dst = B4,
	    .ihl = 6, .proto = 6, .len_adj = -21 },
	  { .err = PKT_ERR_HDR } },

	/* IPv4 fragments */
	{ "v4 first fragment", { .fam = 4, .src = A4, .dst = B4, .proto = 6,
	    .ipid = 0x1234, .v4frag = 0x2000, .sport = 1234, .dport = 80,
	    .payload = 1000 },
	  { OK4(6, A4, B4, 1234, 80), .frag = PKT_FRAG_FIRST,
	    .frag_id = 0x1234, .l3_len = 20, .tot_len = 1040 } },
	{ "v4 middle fragment", { .fam = 4, .src = A4, .dst = B4, .proto = 6,
	    .ipid = 0x1234, .v4frag = 0x2000 | 185, .sport = 1234,
	    .dport = 80, .payload = 1000 },
	  { OK4(6, A4, B4, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 0x1234,
	    .l3_len = 20, .tot_len = 1040 } },
	{ "v4 last fragment", { .fam = 4, .src = A4, .dst = B4, .proto = 17,
	    .ipid = 0xffff, .v4frag = 370, .sport = 1, .dport = 2,
	    .payload = 3 },
	  { OK4(17, A4, B4, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 0xffff,
	    .l3_len = 20, .tot_len = 31 } },
	{ "v4 later fragment of 2 bytes", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 6, .ipid = 5, .v4frag = 1, .len_adj = -18 },
	  { OK4(6, A4, B4, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 5,
	    .l3_len = 20, .tot_len = 22 } },
	{ "v4 DF is not a fragment", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 6, .ipid = 77, .v4frag = 0x4000, .sport = 9, .dport = 10 },
	  { OK4(6, A4, B4, 9, 10), .l3_len = 20, .tot_len = 40 } },
	{ "v4 later icmp fragment", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 1, .ipid = 6, .v4frag = 100, .itype = 8, .iid = 3 },
	  { OK4(1, A4, B4, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 6,
	    .l3_len = 20, .tot_len = 28 } },

	/* ICMPv4 */
	{ "v4 echo request", { .fam = 4, .src = A4, .dst = B4, .proto = 1,
	    .itype = 8, .iid = 7, .payload = 56 },
	  { OK4(1, A4, B4, 7, 7), .itype = 8, .l3_len = 20, .tot_len = 84 } },
	{ "v4 echo reply", { .fam = 4, .src = B4, .dst = A4, .proto = 1,
	    .itype = 0, .iid = 7, .payload = 56 },
	  { OK4(1, B4, A4, 7, 7), .itype = 0, .l3_len = 20, .tot_len = 84 } },
	{ "v4 timestamp: no id", { .fam = 4, .src = A4, .dst = B4,
	    .proto = 1, .itype = 13, .iid = 7, .payload = 12 },
	  { OK4(1, A4, B4, 0, 0), .itype = 13, .l3_len = 20,
	    .tot_len = 40 } },
	{ "v4 icmp header cut", { .fam = 4, .src = A4, .dst = B4, .proto = 1,
	    .itype = 8, .len_adj = -1 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v4 unreachable quoting tcp", { .fam = 4, .src = R4, .dst = A4,
	    .proto = 1, .itype = 3, .quote = &q4_tcp },
	  { OK4(6, A4, B4, 40000, 443), .icmp_error = true, .itype = 3,
	    .l3_len = 20, .tot_len = 168 } },
	{ "v4 time exceeded quoting udp, ip + 8", { .fam = 4, .src = R4,
	    .dst = A4, .proto = 1, .itype = 11, .quote = &q4_udp, .qlen = 28 },
	  { OK4(17, A4, B4, 5353, 53), .icmp_error = true, .itype = 11,
	    .l3_len = 20, .tot_len = 56 } },
	{ "v4 source quench", { .fam = 4, .src = R4, .dst = A4, .proto = 1,
	    .itype = 4, .quote = &q4_tcp, .qlen = 28 },
	  { OK4(6, A4, B4, 40000, 443), .icmp_error = true, .itype = 4,
	    .l3_len = 20, .tot_len = 56 } },
	{ "v4 redirect", { .fam = 4, .src = R4, .dst = A4, .proto = 1,
	    .itype = 5, .quote = &q4_udp, .qlen = 28 },
	  { OK4(17, A4, B4, 5353, 53), .icmp_error = true, .itype = 5,
	    .l3_len = 20, .tot_len = 56 } },
	{ "v4 parameter problem", { .fam = 4, .src = R4, .dst = A4,
	    .proto = 1, .itype = 12, .quote = &q4_tcp, .qlen = 60 },
	  { OK4(6, A4, B4, 40000, 443), .icmp_error = true, .itype = 12,
	    .l3_len = 20, .tot_len = 88 } },
	{ "v4 quote with 4 transport bytes", { .fam = 4, .src = R4,
	    .dst = A4, .proto = 1, .itype = 3, .quote = &q4_tcp, .qlen = 24 },
	  { OK4(6, A4, B4, 40000, 443), .icmp_error = true, .itype = 3,
	    .l3_len = 20, .tot_len = 52 } },
	{ "v4 quote with 3 transport bytes", { .fam = 4, .src = R4,
	    .dst = A4, .proto = 1, .itype = 3, .quote = &q4_tcp, .qlen = 23 },
	  { OK4(6, A4, B4, 0, 0), .icmp_error = true, .itype = 3,
	    .l3_len = 20, .tot_len = 51 } },
	{ "v4 quote of the ip header only", { .fam = 4, .src = R4,
	    .dst = A4, .proto = 1, .itype = 3, .quote = &q4_tcp, .qlen = 20 },
	  { OK4(6, A4, B4, 0, 0), .icmp_error = true, .itype = 3,
	    .l3_len = 20, .tot_len = 48 } },
	{ "v4 quote cut in its ip header", { .fam = 4, .src = R4,
	    .dst = A4, .proto = 1, .itype = 3, .quote = &q4_tcp, .qlen = 19 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v4 quote cut in its options", { .fam = 4, .src = R4, .dst = A4,
	    .proto = 1, .itype = 3, .quote = &q4_opt, .qlen = 27 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v4 quote with options", { .fam = 4, .src = R4, .dst = A4,
	    .proto = 1, .itype = 3, .quote = &q4_opt, .qlen = 36 },
	  { OK4(6, A4, B4, 1, 2), .icmp_error = true, .itype = 3,
	    .l3_len = 20, .tot_len = 64 } },
	{ "v4 empty quote", { .fam = 4, .src = R4, .dst = A4, .proto = 1,
	    .itype = 3 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v4 quote of ipv6", { .fam = 4, .src = R4, .dst = A4, .proto = 1,
	    .itype = 3, .quote = &q6_tcp },
	  { .err = PKT_ERR_HDR } },
	{ "v4 quote of echo", { .fam = 4, .src = R4, .dst = A4, .proto = 1,
	    .itype = 11, .quote = &q4_echo, .qlen = 28 },
	  { OK4(1, A4, B4, 7, 7), .icmp_error = true, .itype = 11,
	    .l3_len = 20, .tot_len = 56 } },
	{ "v4 quote of error: not opened", { .fam = 4, .src = R4, .dst = B4,
	    .proto = 1, .itype = 3, .quote = &q4_err },
	  { OK4(1, B4, A4, 0, 0), .icmp_error = true, .itype = 3,
	    .l3_len = 20, .tot_len = 114 } },
	{ "v4 quote of later fragment", { .fam = 4, .src = R4, .dst = A4,
	    .proto = 1, .itype = 11, .quote = &q4_later, .qlen = 28 },
	  { OK4(17, A4, B4, 0, 0), .icmp_error = true, .itype = 11,
	    .l3_len = 20, .tot_len = 56 } },

	/* IPv6 transports and extension chains */
	{ "v6 tcp", { .fam = 6, .src = A6, .dst = B6, .proto = 6,
	    .sport = 1234, .dport = 80, .payload = 10 },
	  { OK4(6, A6, B6, 1234, 80), .l3_len = 40, .tot_len = 70 } },
	{ "v6 udp", { .fam = 6, .src = A6, .dst = B6, .proto = 17,
	    .sport = 53, .dport = 1000 },
	  { OK4(17, A6, B6, 53, 1000), .l3_len = 40, .tot_len = 48 } },
	{ "v6 sctp", { .fam = 6, .src = A6, .dst = B6, .proto = 132,
	    .sport = 1, .dport = 2 },
	  { OK4(132, A6, B6, 1, 2), .l3_len = 40, .tot_len = 52 } },
	{ "v6 esp: no ports", { .fam = 6, .src = A6, .dst = B6, .proto = 50,
	    .payload = 40 },
	  { OK4(50, A6, B6, 0, 0), .l3_len = 40, .tot_len = 80 } },
	{ "v6 hop-by-hop", { .fam = 6, .src = A6, .dst = B6, .next = 1,
	    .ext = { 0 }, .proto = 6, .sport = 5, .dport = 6 },
	  { OK4(6, A6, B6, 5, 6), .l3_len = 48, .tot_len = 68 } },
	{ "v6 hbh routing dstopts", { .fam = 6, .src = A6, .dst = B6,
	    .next = 3, .ext = { 0, 43, 60 }, .proto = 17, .sport = 5,
	    .dport = 6 },
	  { OK4(17, A6, B6, 5, 6), .l3_len = 88, .tot_len = 96 } },
	{ "v6 hbh dst routing frag(first)", { .fam = 6, .src = A6, .dst = B6,
	    .next = 4, .ext = { 0, 60, 43, 44 }, .v6frag = 1,
	    .v6id = 0xdeadbeef, .proto = 17, .sport = 5, .dport = 6,
	    .payload = 100 },
	  { OK4(17, A6, B6, 5, 6), .frag = PKT_FRAG_FIRST,
	    .frag_id = 0xdeadbeef, .l3_len = 96, .tot_len = 204 } },
	{ "v6 frag(later)", { .fam = 6, .src = A6, .dst = B6, .next = 1,
	    .ext = { 44 }, .v6frag = 1448 | 1, .v6id = 7, .proto = 17,
	    .sport = 5, .dport = 6, .payload = 100 },
	  { OK4(17, A6, B6, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 7,
	    .l3_len = 48, .tot_len = 156 } },
	{ "v6 hbh dst frag(last)", { .fam = 6, .src = A6, .dst = B6,
	    .next = 3, .ext = { 0, 60, 44 }, .v6frag = 2896, .v6id = 8,
	    .proto = 6, .payload = 3 },
	  { OK4(6, A6, B6, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 8,
	    .l3_len = 72, .tot_len = 95 } },
	{ "v6 atomic fragment", { .fam = 6, .src = A6, .dst = B6, .next = 1,
	    .ext = { 44 }, .v6frag = 0, .v6id = 9, .proto = 6, .sport = 1,
	    .dport = 2 },
	  { OK4(6, A6, B6, 1, 2), .l3_len = 48, .tot_len = 68 } },
	{ "v6 ah", { .fam = 6, .src = A6, .dst = B6, .next = 1,
	    .ext = { 51 }, .proto = 6, .sport = 1, .dport = 2 },
	  { OK4(6, A6, B6, 1, 2), .l3_len = 56, .tot_len = 76 } },
	{ "v6 hbh ah dst", { .fam = 6, .src = A6, .dst = B6, .next = 3,
	    .ext = { 0, 51, 60 }, .proto = 17, .sport = 1, .dport = 2 },
	  { OK4(17, A6, B6, 1, 2), .l3_len = 80, .tot_len = 88 } },
	{ "v6 no next header", { .fam = 6, .src = A6, .dst = B6,
	    .proto = 59 },
	  { OK4(59, A6, B6, 0, 0), .l3_len = 40, .tot_len = 40 } },
	{ "v6 hbh then no next header", { .fam = 6, .src = A6, .dst = B6,
	    .next = 1, .ext = { 0 }, .proto = 59, .payload = 9 },
	  { OK4(59, A6, B6, 0, 0), .l3_len = 48, .tot_len = 57 } },
	{ "v6 eight extension headers", { .fam = 6, .src = A6, .dst = B6,
	    .next = 8, .ext = { 60, 60, 60, 60, 60, 60, 60, 60 }, .proto = 6,
	    .sport = 1, .dport = 2 },
	  { OK4(6, A6, B6, 1, 2), .l3_len = 168, .tot_len = 188 } },
	{ "v6 nine extension headers", { .fam = 6, .src = A6, .dst = B6,
	    .next = 9, .ext = { 0, 60, 60, 60, 60, 60, 60, 60, 60 },
	    .proto = 6, .sport = 1, .dport = 2 },
	  { .err = PKT_ERR_HDR } },
	{ "v6 chain past payload", { .fam = 6, .src = A6, .dst = B6,
	    .next = 2, .ext = { 0, 60 }, .proto = 59, .len_adj = -1,
	    .trailer = 1 },
	  { .err = PKT_ERR_HDR } },
	{ "v6 payload length past buffer", { .fam = 6, .src = A6, .dst = B6,
	    .proto = 17, .len_adj = 1 },
	  { .err = PKT_ERR_SHORT } },
	{ "v6 ports in padding only", { .fam = 6, .src = A6, .dst = B6,
	    .proto = 17, .sport = 3, .dport = 4, .len_adj = -8,
	    .trailer = 4 },
	  { .err = PKT_ERR_TRUNC } },

	/* ICMPv6 */
	{ "v6 echo request", { .fam = 6, .src = A6, .dst = B6, .proto = 58,
	    .itype = 128, .iid = 0x4242, .payload = 16 },
	  { OK4(58, A6, B6, 0x4242, 0x4242), .itype = 128, .l3_len = 40,
	    .tot_len = 64 } },
	{ "v6 echo reply", { .fam = 6, .src = B6, .dst = A6, .proto = 58,
	    .itype = 129, .iid = 0x4242, .payload = 16 },
	  { OK4(58, B6, A6, 0x4242, 0x4242), .itype = 129, .l3_len = 40,
	    .tot_len = 64 } },
	{ "v6 echo after hop-by-hop", { .fam = 6, .src = A6, .dst = B6,
	    .next = 1, .ext = { 0 }, .proto = 58, .itype = 128, .iid = 1 },
	  { OK4(58, A6, B6, 1, 1), .itype = 128, .l3_len = 48,
	    .tot_len = 56 } },
	{ "v6 neighbour solicitation", { .fam = 6, .src = A6, .dst = B6,
	    .proto = 58, .itype = 135, .iid = 1, .payload = 16 },
	  { OK4(58, A6, B6, 0, 0), .itype = 135, .l3_len = 40,
	    .tot_len = 64 } },
	{ "v6 icmpv4 number: no ports", { .fam = 6, .src = A6, .dst = B6,
	    .proto = 1, .itype = 8, .iid = 3 },
	  { OK4(1, A6, B6, 0, 0), .l3_len = 40, .tot_len = 40 } },
	{ "v6 unreachable quoting tcp", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 1, .quote = &q6_tcp },
	  { OK4(6, A6, B6, 50000, 22), .icmp_error = true, .itype = 1,
	    .l3_len = 40, .tot_len = 172 } },
	{ "v6 packet too big quoting udp", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 2, .quote = &q6_udp, .qlen = 1232 },
	  { OK4(17, A6, B6, 33434, 33435), .icmp_error = true, .itype = 2,
	    .l3_len = 40, .tot_len = 1280 } },
	{ "v6 time exceeded", { .fam = 6, .src = R6, .dst = A6, .proto = 58,
	    .itype = 3, .quote = &q6_udp, .qlen = 48 },
	  { OK4(17, A6, B6, 33434, 33435), .icmp_error = true, .itype = 3,
	    .l3_len = 40, .tot_len = 96 } },
	{ "v6 parameter problem", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 4, .quote = &q6_tcp, .qlen = 44 },
	  { OK4(6, A6, B6, 50000, 22), .icmp_error = true, .itype = 4,
	    .l3_len = 40, .tot_len = 92 } },
	{ "v6 quote with 3 transport bytes", { .fam = 6, .src = R6,
	    .dst = A6, .proto = 58, .itype = 1, .quote = &q6_tcp, .qlen = 43 },
	  { OK4(6, A6, B6, 0, 0), .icmp_error = true, .itype = 1,
	    .l3_len = 40, .tot_len = 91 } },
	{ "v6 quote cut in its header", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 1, .quote = &q6_tcp, .qlen = 39 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v6 quote with extension chain", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 1, .quote = &q6_chain },
	  { OK4(17, A6, B6, 4500, 4501), .icmp_error = true, .itype = 1,
	    .l3_len = 40, .tot_len = 140 } },
	{ "v6 quote cut in its extension chain", { .fam = 6, .src = R6,
	    .dst = A6, .proto = 58, .itype = 1, .quote = &q6_chain,
	    .qlen = 63 },
	  { .err = PKT_ERR_TRUNC } },
	{ "v6 quote of ipv4", { .fam = 6, .src = R6, .dst = A6, .proto = 58,
	    .itype = 1, .quote = &q4_tcp },
	  { .err = PKT_ERR_HDR } },
	{ "v6 quote of echo", { .fam = 6, .src = R6, .dst = A6, .proto = 58,
	    .itype = 3, .quote = &q6_echo },
	  { OK4(58, A6, B6, 0x4242, 0x4242), .icmp_error = true, .itype = 3,
	    .l3_len = 40, .tot_len = 112 } },
	{ "v6 quote of echo cut before id", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 3, .quote = &q6_echo, .qlen = 45 },
	  { OK4(58, A6, B6, 0, 0), .icmp_error = true, .itype = 3,
	    .l3_len = 40, .tot_len = 93 } },
	{ "v6 quote of error: not opened", { .fam = 6, .src = R6, .dst = B6,
	    .proto = 58, .itype = 1, .quote = &q6_err },
	  { OK4(58, B6, A6, 0, 0), .icmp_error = true, .itype = 1,
	    .l3_len = 40, .tot_len = 196 } },
	{ "v6 quote of later fragment", { .fam = 6, .src = R6, .dst = A6,
	    .proto = 58, .itype = 3, .quote = &q6_later },
	  { OK4(6, A6, B6, 0, 0), .icmp_error = true, .itype = 3,
	    .l3_len = 40, .tot_len = 156 } },
	{ "v6 error after hbh, first fragment", { .fam = 6, .src = R6,
	    .dst = A6, .next = 2, .ext = { 0, 44 }, .v6frag = 1, .v6id = 42,
	    .proto = 58, .itype = 2, .quote = &q6_tcp, .qlen = 60 },
	  { OK4(6, A6, B6, 50000, 22), .frag = PKT_FRAG_FIRST, .frag_id = 42,
	    .icmp_error = true, .itype = 2, .l3_len = 56, .tot_len = 124 } },
	{ "v6 later icmp fragment", { .fam = 6, .src = A6, .dst = B6,
	    .next = 1, .ext = { 44 }, .v6frag = 8, .v6id = 43, .proto = 58,
	    .itype = 128, .iid = 9 },
	  { OK4(58, A6, B6, 0, 0), .frag = PKT_FRAG_LATER, .frag_id = 43,
	    .l3_len = 48, .tot_len = 56 } },
};

#define NVECS	(sizeof(vecs) / sizeof(vecs[0]))

static void
test_vectors(void **state)
{
	uint8_t b[BUFSZ];
	struct built bt;
	struct pkt_info pi, qi;
	size_t i, len;

	(void)state;
	for (i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		enum pkt_err err;

		len = build(&v->d, b, sizeof(b), &bt);
		err = parse_exact(b, len, &pi);
		check(v->name, err, &pi, v->d.fam, &v->w);
		/*
		 * An error's key is the key of the packet it quotes, parsed
		 * on its own (unless that is an error too: not opened).
		 */
		if (err == PKT_OK && pi.icmp_error && v->d.qlen == 0) {
			uint8_t q[BUFSZ];
			size_t qlen = build(v->d.quote, q, sizeof(q), &bt);

			assert_int_equal(parse_exact(q, qlen, &qi), PKT_OK);
			if (!qi.icmp_error)
				check_key(v->name, &pi.key, &qi.key);
		}
	}
}

/* Hand-written bytes for header errors the builders cannot express. */
static void
test_raw(void **state)
{
	static const struct {
		const char	*name;
		const char	*hex;
		enum pkt_err	 err;
	} raw[] = {
		{ "empty", "", PKT_ERR_SHORT },
		{ "one byte v4", "45", PKT_ERR_SHORT },
		{ "one byte v6", "60", PKT_ERR_SHORT },
		{ "version 0", "00", PKT_ERR_VERSION },
		{ "version 5", "55 00 00 14 00 00 00 00 40 06 00 00 c0 00 02 01"
		    "c6 33 64 02", PKT_ERR_VERSION },
		{ "version 15", "f0", PKT_ERR_VERSION },
		{ "v4 19 bytes", "45 00 00 14 00 00 00 00 40 06 00 00 c0 00 02 01"
		    "c6 33 64", PKT_ERR_SHORT },
		{ "v4 ihl 4", "44 00 00 14 00 00 00 00 40 06 00 00 c0 00 02 01"
		    "c6 33 64 02", PKT_ERR_HDR },
		{ "v4 ihl 0", "40 00 00 14 00 00 00 00 40 06 00 00 c0 00 02 01"
		    "c6 33 64 02", PKT_ERR_HDR },
		{ "v4 ihl 6, 20 bytes", "46 00 00 18 00 00 00 00 40 06 00 00"
		    "c0 00 02 01 c6 33 64 02", PKT_ERR_SHORT },
		{ "v4 total length 19", "45 00 00 13 00 00 00 00 40 06 00 00"
		    "c0 00 02 01 c6 33 64 02", PKT_ERR_HDR },
		{ "v4 total length 0", "45 00 00 00 00 00 00 00 40 06 00 00"
		    "c0 00 02 01 c6 33 64 02", PKT_ERR_HDR },
		{ "v4 total length 21", "45 00 00 15 00 00 00 00 40 3b 00 00"
		    "c0 00 02 01 c6 33 64 02", PKT_ERR_SHORT },
		{ "v4 no transport", "45 00 00 14 00 00 00 00 40 3b 00 00"
		    "c0 00 02 01 c6 33 64 02", PKT_OK },
		{ "v4 udp with 3 bytes", "45 00 00 17 00 00 00 00 40 11 00 00"
		    "c0 00 02 01 c6 33 64 02 00 35 00", PKT_ERR_TRUNC },
		{ "v4 udp with 4 bytes", "45 00 00 18 00 00 00 00 40 11 00 00"
		    "c0 00 02 01 c6 33 64 02 00 35 00 36", PKT_OK },
		{ "v6 39 bytes", "60 00 00 00 00 00 3b 40"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00", PKT_ERR_SHORT },
		{ "v6 jumbogram", "60 00 00 00 00 00 00 40"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
		    "3b 00 c2 04 00 01 00 00", PKT_ERR_HDR },
		{ "v6 hbh length past payload", "60 00 00 00 00 08 00 40"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
		    "3b 01 00 00 00 00 00 00", PKT_ERR_HDR },
		{ "v6 ah length past payload", "60 00 00 00 00 0c 33 40"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
		    "3b 02 00 00 00 00 10 00 00 00 00 01", PKT_ERR_HDR },
		{ "v6 ah, 12 bytes", "60 00 00 00 00 0c 33 40"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
		    "3b 01 00 00 00 00 10 00 00 00 00 01", PKT_OK },
		{ "v6 fragment header of 7", "60 00 00 00 00 07 2c 40"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
		    "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
		    "11 00 00 01 00 00 00", PKT_ERR_HDR },
	};
	uint8_t b[256];
	struct pkt_info pi;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		const char *s = raw[i].hex;
		size_t n = 0;
		enum pkt_err err;

		while (*s != '\0') {
			unsigned x;

			if (*s == ' ') {
				s++;
				continue;
			}
			if (sscanf(s, "%2x", &x) != 1)
				fail_msg("%s: bad hex", raw[i].name);
			assert_true(n < sizeof(b));
			b[n++] = (uint8_t)x;
			s += 2;
		}
		err = parse_exact(b, n, &pi);
		if (err != raw[i].err)
			fail_msg("%s: %s, want %s", raw[i].name, pkt_err_str(err),
			    pkt_err_str(raw[i].err));
	}
}

/* IPv4 options: every IHL, with a transport and as a quote. */
static void
test_ipv4_ihl(void **state)
{
	uint8_t b[BUFSZ];
	struct built bt;
	struct pkt_info pi;
	unsigned ihl;

	(void)state;
	for (ihl = 0; ihl <= 15; ihl++) {
		struct desc d = { .fam = 4, .src = A4, .dst = B4, .ihl = 5,
		    .proto = 6, .sport = 100 + ihl, .dport = 200 + ihl };
		struct desc e = { .fam = 4, .src = R4, .dst = A4, .ihl = 5,
		    .proto = 1, .itype = 3, .quote = &d };
		struct want w = { .proto = 6, .src = A4, .dst = B4,
		    .sport = 100 + ihl, .dport = 200 + ihl,
		    .l3_len = ihl * 4, .tot_len = ihl * 4 + 20 };
		char name[64];
		size_t len;

		len = build(&d, b, sizeof(b), &bt);
		b[0] = (uint8_t)(0x40 | ihl);	/* builder would refuse < 5 */
		if (ihl < 5) {
			/* Keep the total length sane; only the IHL is bad. */
			w = (struct want){ .err = PKT_ERR_HDR };
		} else {
			d.ihl = (uint8_t)ihl;
			len = build(&d, b, sizeof(b), &bt);
		}
		snprintf(name, sizeof(name), "ihl %u", ihl);
		check(name, parse_exact(b, len, &pi), &pi, 4, &w);

		/* The same packet quoted in an ICMP error. */
		if (ihl >= 5) {
			len = build(&e, b, sizeof(b), &bt);
			w.icmp_error = true;
			w.itype = 3;
			w.l3_len = 20;
			w.tot_len = (uint32_t)len;
			snprintf(name, sizeof(name), "quoted ihl %u", ihl);
			check(name, parse_exact(b, len, &pi), &pi, 4, &w);
		}
	}
}

static bool
next_perm(uint8_t *a, size_t n)
{
	size_t i, j;
	uint8_t t;

	if (n < 2)
		return false;
	for (i = n - 1; i > 0 && a[i - 1] >= a[i]; i--)
		;
	if (i == 0)
		return false;
	for (j = n - 1; a[j] <= a[i - 1]; j--)
		;
	t = a[i - 1], a[i - 1] = a[j], a[j] = t;
	for (j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

/*
 * IPv6 chains of hop-by-hop, routing, destination options, fragment and AH
 * in every order, with a first and with a later fragment header.
 */
static void
test_ipv6_chains(void **state)
{
	uint8_t b[BUFSZ];
	struct built bt;
	struct pkt_info pi;
	unsigned count = 0;
	int later;

	(void)state;
	for (later = 0; later <= 1; later++) {
		uint8_t set[5] = { 0, 43, 44, 51, 60 };	/* sorted */

		do {
			struct desc d = { .fam = 6, .src = A6, .dst = B6,
			    .next = 5, .v6frag = later ? 800 : 1,
			    .v6id = 0x01020304, .proto = 17, .sport = 11,
			    .dport = 12, .payload = 4 };
			struct want w = { .proto = 17, .src = A6, .dst = B6,
			    .frag = later ? PKT_FRAG_LATER : PKT_FRAG_FIRST,
			    .frag_id = 0x01020304 };
			char name[64];
			size_t len, off = 40, i;

			memcpy(d.ext, set, 5);
			for (i = 0; i < 5; i++) {
				off += ext_size(set[i]);
				if (later && set[i] == 44) {
					/* Parsing stops here. */
					w.proto = i + 1 < 5 ? set[i + 1] : 17;
					break;
				}
			}
			w.l3_len = (uint16_t)off;
			if (!later) {
				w.sport = 11;
				w.dport = 12;
			}
			len = build(&d, b, sizeof(b), &bt);
			w.tot_len = (uint32_t)len;
			snprintf(name, sizeof(name), "%s %u %u %u %u %u",
			    later ? "later" : "first", set[0], set[1], set[2],
			    set[3], set[4]);
			check(name, parse_exact(b, len, &pi), &pi, 6, &w);
			count++;
		} while (next_perm(set, 5));
	}
	assert_int_equal(count, 240);
}

/*
 * What parsing the first `cut` bytes of a valid vector must give when the
 * IP length fields were rewritten to say `cut`: the full result, or the
 * error of the first part that is missing.
 */
static enum pkt_err
trunc_expect(const struct vec *v, const struct built *bt,
    const struct pkt_info *full, size_t cut, bool *ports_lost)
{
	size_t fixed = v->d.fam == 4 ? 20 : 40;

	*ports_lost = false;
	if (cut < fixed)
		return PKT_ERR_SHORT;
	if (v->d.fam == 4 && cut < full->l3_len)
		return PKT_ERR_SHORT;
	if (cut < full->l3_len)
		return PKT_ERR_HDR;
	if (cut < full->l3_len + bt->need)
		return PKT_ERR_TRUNC;
	if (bt->q != 0 && full->icmp_error) {
		size_t qa = cut - bt->q;

		if (qa > bt->qlen)
			qa = bt->qlen;
		if (qa < bt->q_l3)
			return PKT_ERR_TRUNC;
		if (qa < bt->q_l3 + bt->q_need)
			*ports_lost = true;
	}
	return PKT_OK;
}

/* Every prefix of every valid vector, raw and with fixed-up lengths. */
static void
test_truncation(void **state)
{
	uint8_t b[BUFSZ], c[BUFSZ];
	struct built bt;
	struct pkt_info full, pi;
	size_t i, cut, len, n = 0;

	(void)state;
	for (i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];

		if (v->w.err != PKT_OK || v->d.trailer != 0 ||
		    v->d.len_adj != 0)
			continue;
		len = build(&v->d, b, sizeof(b), &bt);
		assert_int_equal(pkt_parse(b, len, &full), PKT_OK);
		for (cut = 0; cut < len; cut++) {
			enum pkt_err err, want;
			bool lost;

			/* Raw prefix: the IP length says more than is there. */
			err = parse_exact(b, cut, &pi);
			if (err != PKT_ERR_SHORT)
				fail_msg("%s cut %zu raw: %s, want short",
				    v->name, cut, pkt_err_str(err));

			/* Prefix whose IP length says exactly what is there. */
			memcpy(c, b, len);
			if (v->d.fam == 4)
				wr16(c + 2, (uint16_t)cut);
			else
				wr16(c + 4, (uint16_t)(cut < 40 ? 0 : cut - 40));
			err = parse_exact(c, cut, &pi);
			want = trunc_expect(v, &bt, &full, cut, &lost);
			if (err != want)
				fail_msg("%s cut %zu: %s, want %s", v->name, cut,
				    pkt_err_str(err), pkt_err_str(want));
			if (err == PKT_OK) {
				struct pkt_key k = full.key;

				if (lost)
					k.sport = k.dport = 0;
				check_key(v->name, &pi.key, &k);
				assert_int_equal(pi.tot_len, cut);
				assert_int_equal(pi.l3_len, full.l3_len);
				assert_int_equal(pi.frag, full.frag);
				assert_int_equal(pi.icmp_error, full.icmp_error);
			}
			n++;
		}
	}
	assert_true(n > 5000);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* What holds for any key pkt_parse() accepted. */
static void
check_sane(const char *name, const uint8_t *p, size_t len,
    const struct pkt_info *pi)
{
	static const uint8_t zero[16];
	const struct pkt_key *k = &pi->key;

	if (k->family != (p[0] >> 4) || pi->l3_len > len ||
	    pi->l3_len > pi->tot_len || pi->tot_len > len ||
	    k->pad[0] != 0 || k->pad[1] != 0 ||
	    (k->family == 4 && (memcmp(k->src + 4, zero, 12) != 0 ||
	    memcmp(k->dst + 4, zero, 12) != 0)) ||
	    (pi->frag == PKT_FRAG_LATER && (k->sport | k->dport) != 0) ||
	    (pi->frag == PKT_FRAG_NONE && pi->frag_id != 0))
		fail_msg("%s: insane result", name);
}

/* Every byte of every vector set to a few values; then random bytes. */
static void
test_mutation(void **state)
{
	static const uint8_t vals[] = { 0x00, 0xff, 0x01, 0x3b, 0x2c, 0x33,
	    0x45, 0x60, 0x80 };
	uint8_t b[BUFSZ], c[BUFSZ];
	struct built bt;
	struct pkt_info pi;
	size_t i, j, k, len;

	(void)state;
	for (i = 0; i < NVECS; i++) {
		len = build(&vecs[i].d, b, sizeof(b), &bt);
		for (j = 0; j < len; j++) {
			for (k = 0; k < sizeof(vals) + 1; k++) {
				memcpy(c, b, len);
				c[j] = k < sizeof(vals) ? vals[k] : c[j] ^ 0x08;
				if (parse_exact(c, len, &pi) == PKT_OK)
					check_sane(vecs[i].name, c, len, &pi);
			}
		}
	}
	for (i = 0; i < 200000; i++) {
		len = rng() % 200;
		for (j = 0; j < len; j++)
			c[j] = (uint8_t)rng();
		if (len > 0)
			c[0] = (uint8_t)((rng() & 1 ? 0x40 : 0x60) | (c[0] & 15));
		if (len > 4 && (c[0] >> 4) == 4)
			wr16(c + 2, (uint16_t)(len - rng() % 4));
		if (len > 6 && (c[0] >> 4) == 6) {
			wr16(c + 4, (uint16_t)(len < 40 ? 0 : len - 40));
			c[6] = (uint8_t[]){ 0, 43, 44, 51, 60, 6, 58, 59 }[rng() % 8];
		}
		if (parse_exact(c, len, &pi) == PKT_OK)
			check_sane("random", c, len, &pi);
	}
}

static const struct vec *
find_vec(const char *name)
{
	size_t i;

	for (i = 0; i < NVECS; i++)
		if (strcmp(vecs[i].name, name) == 0)
			return &vecs[i];
	fail_msg("no vector %s", name);
	return NULL;
}

static void
parse_vec(const char *name, struct pkt_info *pi)
{
	uint8_t b[BUFSZ];
	struct built bt;
	size_t len = build(&find_vec(name)->d, b, sizeof(b), &bt);

	assert_int_equal(parse_exact(b, len, pi), PKT_OK);
}

/* A request and its reply give reversed-equal keys. */
static void
test_echo_reverse(void **state)
{
	static const char *const pairs[][2] = {
		{ "v4 echo request", "v4 echo reply" },
		{ "v6 echo request", "v6 echo reply" },
	};
	struct pkt_info req, rep;
	struct pkt_key r;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		parse_vec(pairs[i][0], &req);
		parse_vec(pairs[i][1], &rep);
		pkt_key_reverse(&req.key, &r);
		check_key(pairs[i][0], &r, &rep.key);
		assert_int_equal(pkt_key_hash(&r, 1), pkt_key_hash(&rep.key, 1));
	}
}

static void
test_format(void **state)
{
	static const struct {
		uint8_t		 fam, proto;
		const char	*src, *dst;
		uint16_t	 sport, dport;
		const char	*want;
	} f[] = {
		{ 4, 6, A4, B4, 1234, 80,
		    "tcp 192.0.2.1:1234 -> 198.51.100.2:80" },
		{ 6, 17, A6, B6, 53, 1000,
		    "udp [2001:db8::1]:53 -> [2001:db8::2]:1000" },
		{ 4, 1, A4, "192.0.2.2", 7, 7,
		    "icmp 192.0.2.1 -> 192.0.2.2 id 7" },
		{ 6, 58, A6, B6, 0x4242, 0x4242,
		    "icmpv6 2001:db8::1 -> 2001:db8::2 id 16962" },
		{ 4, 136, A4, B4, 0, 65535,
		    "udplite 192.0.2.1:0 -> 198.51.100.2:65535" },
		{ 6, 132, A6, B6, 1, 2,
		    "sctp [2001:db8::1]:1 -> [2001:db8::2]:2" },
		{ 4, 33, A4, B4, 1, 2, "dccp 192.0.2.1:1 -> 198.51.100.2:2" },
		{ 4, 47, A4, B4, 0, 0, "gre 192.0.2.1 -> 198.51.100.2" },
		{ 6, 50, A6, B6, 0, 0, "esp 2001:db8::1 -> 2001:db8::2" },
		{ 6, 59, A6, B6, 0, 0, "proto 59 2001:db8::1 -> 2001:db8::2" },
		{ 4, 253, A4, B4, 0, 0, "proto 253 192.0.2.1 -> 198.51.100.2" },
		{ 6, 6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		    "2001:db8:1:2:3:4:5:6", 65535, 65535,
		    "tcp [2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535 -> "
		    "[2001:db8:1:2:3:4:5:6]:65535" },
	};
	char buf[PKT_KEY_STRLEN];
	struct pkt_key k;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		mk_key(&k, f[i].fam, f[i].proto, f[i].src, f[i].dst,
		    f[i].sport, f[i].dport);
		n = pkt_key_format(&k, buf, sizeof(buf));
		assert_string_equal(buf, f[i].want);
		assert_int_equal(n, strlen(f[i].want));
	}

	/* Too small: -ENOSPC and a terminated prefix. */
	mk_key(&k, 4, 6, A4, B4, 1234, 80);
	assert_int_equal(pkt_key_format(&k, buf, 8), -ENOSPC);
	assert_string_equal(buf, "tcp 192");
	assert_int_equal(pkt_key_format(&k, buf, 37), -ENOSPC);
	assert_int_equal(pkt_key_format(&k, buf, 38), 37);
	assert_int_equal(pkt_key_format(&k, NULL, 0), -ENOSPC);
	k.family = 5;
	assert_int_equal(pkt_key_format(&k, buf, sizeof(buf)), -EINVAL);
	assert_string_equal(buf, "");

	/* The longest key fits PKT_KEY_STRLEN. */
	memset(&k, 0xff, sizeof(k));
	k.family = 6;
	k.proto = 136;
	n = pkt_key_format(&k, buf, sizeof(buf));
	assert_true(n > 0 && n < PKT_KEY_STRLEN);
}

static void
test_hash(void **state)
{
	static const uint32_t seeds[] = { 0, 1, 0x8badf00d, 0xffffffff };
	struct pkt_key a, b, r;
	unsigned buckets[1024] = { 0 };
	unsigned i, s, min = ~0u, max = 0;
	uint32_t h;

	(void)state;
	for (s = 0; s < 4; s++) {
		mk_key(&a, 6, 6, A6, B6, 1234, 80);
		mk_key(&b, 6, 6, A6, B6, 1234, 80);
		assert_int_equal(pkt_key_hash(&a, seeds[s]),
		    pkt_key_hash(&b, seeds[s]));
		h = pkt_key_hash(&a, seeds[s]);

		/* Any single bit of the key changes the hash. */
		for (i = 0; i < sizeof(a) * 8; i++) {
			b = a;
			((uint8_t *)&b)[i / 8] ^= (uint8_t)(1u << (i % 8));
			if (pkt_key_hash(&b, seeds[s]) == h)
				fail_msg("bit %u does not change the hash", i);
		}
		/* So does the seed. */
		assert_int_not_equal(h, pkt_key_hash(&a, seeds[s] ^ 0x10000));
	}

	/* Reverse: swaps, is an involution, works in place. */
	mk_key(&a, 4, 17, A4, B4, 53, 1000);
	mk_key(&b, 4, 17, B4, A4, 1000, 53);
	pkt_key_reverse(&a, &r);
	check_key("reverse", &r, &b);
	pkt_key_reverse(&r, &r);
	check_key("reverse twice", &r, &a);
	assert_int_not_equal(pkt_key_hash(&a, 7), pkt_key_hash(&b, 7));

	/* 64 Ki flows that differ only in the source port, 1024 buckets. */
	for (i = 0; i < 65536; i++) {
		mk_key(&a, 4, 6, A4, B4, (uint16_t)i, 443);
		buckets[pkt_key_hash(&a, 0x5eed) & 1023]++;
	}
	for (i = 0; i < 1024; i++) {
		if (buckets[i] < min)
			min = buckets[i];
		if (buckets[i] > max)
			max = buckets[i];
	}
	if (min < 30 || max > 110)
		fail_msg("poor spread: buckets between %u and %u (mean 64)",
		    min, max);
}

static void
test_err_str(void **state)
{
	(void)state;
	assert_string_equal(pkt_err_str(PKT_OK), "ok");
	assert_string_equal(pkt_err_str(PKT_ERR_SHORT), "short");
	assert_string_equal(pkt_err_str(PKT_ERR_VERSION), "bad-version");
	assert_string_equal(pkt_err_str(PKT_ERR_HDR), "bad-header");
	assert_string_equal(pkt_err_str(PKT_ERR_TRUNC), "truncated");
	assert_string_equal(pkt_err_str(PKT_ERR__MAX), "unknown");
	assert_string_equal(pkt_err_str((enum pkt_err)-1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_ipv4_ihl),
		cmocka_unit_test(test_ipv6_chains),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_mutation),
		cmocka_unit_test(test_echo_reverse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_err_str),
	};

	return cmocka_run_group_tests_name("pkt", tests, NULL, NULL);
}
