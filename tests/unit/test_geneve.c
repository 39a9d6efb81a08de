/*
 * Unit tests for the GENEVE codec (lib/geneve.c), written against RFC 8926
 * and the GWLB facts in REFERENCE.md rather than against the code.
 *
 * Every datagram handed to geneve_decode() here lives in a malloc'd buffer
 * of exactly its length, so that under --enable-sanitizers a read one byte
 * past the end is an ASan report and not a silent pass.  One vector is a
 * byte literal laid out by hand from the RFC, so the encoder and decoder
 * are not only checked against each other.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geneve.h"

#define ENI_ID		0x076bc493b822cd32fULL
#define ATT_ID		0x0123456789abcdefULL
#define COOKIE		0xdeadbeefU

/*
 * A GWLB datagram as AWS sends it, laid out by hand: 40-byte GENEVE header
 * (RFC 8926 section 3.4 and 3.5) followed by a 28-byte IPv4/UDP packet and
 * 4 bytes of trailing junk that the decoder must cut off (inner_len 28).
 */
static const uint8_t gwlb_v4[] = {
	/* Ver=0, Opt Len=8 words | O=0 C=0 Rsvd | Protocol 0x0800 */
	0x08, 0x00, 0x08, 0x00,
	/* VNI 0 | Reserved */
	0x00, 0x00, 0x00, 0x00,
	/* class 0x0108, type 1 (ENI), R=0 length 2 words, 8 bytes of id */
	0x01, 0x08, 0x01, 0x02,
	0x76, 0xbc, 0x49, 0x3b, 0x82, 0x2c, 0xd3, 0x2f,
	/* class 0x0108, type 2 (attachment), length 2 words */
	0x01, 0x08, 0x02, 0x02,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	/* class 0x0108, type 3 (flow cookie), length 1 word */
	0x01, 0x08, 0x03, 0x01,
	0xde, 0xad, 0xbe, 0xef,
	/* inner IPv4: IHL 5, total length 28, TTL 64, UDP, 192.0.2.1 -> 198.51.100.2 */
	0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	/* UDP 12345 -> 53, length 8 */
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
	/* trailing bytes beyond the IP total length (e.g. link padding) */
	0xaa, 0xbb, 0xcc, 0xdd,
};

/* Inner packets of every shape the vectors need. */
static const uint8_t in_v4[] = {
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
/* IHL 6: one word of IP options (NOP NOP NOP EOL); total 32. */
static const uint8_t in_v4_opts[] = {
	0x46, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02, 0x01, 0x01, 0x01, 0x00,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
/* Total length 20: a bare header is still a packet. */
static const uint8_t in_v4_bare[] = {
	0x45, 0x00, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00,
	0x40, 0xfd, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
};
/* Total length 24 of 28 bytes present: 4 trailing bytes cut. */
static const uint8_t in_v4_trail[] = {
	0x45, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02, 0x01, 0x02, 0x03, 0x04,
	0xee, 0xee, 0xee, 0xee,
};
static const uint8_t in_v4_ver6[] = {	/* version nibble 6 */
	0x65, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v4_ihl4[] = {	/* IHL below the minimum 5 */
	0x44, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v4_tot_lt_ihl[] = {	/* total length 16 < 20 */
	0x45, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v4_tot_long[] = {	/* says 29, 28 present */
	0x45, 0x00, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v4_ihl_long[] = {	/* IHL 15 (60 bytes), total 60, 28 present */
	0x4f, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v4_short[] = {	/* 19 bytes: not even a header */
	0x45, 0x00, 0x00, 0x13, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
	0xc6, 0x33, 0x64,
};
/* IPv6 UDP 2001:db8::1 -> 2001:db8::2, payload length 8. */
static const uint8_t in_v6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
/* IPv6 payload length 4 of 8 present: trailing 4 cut. */
static const uint8_t in_v6_trail[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x04, 0x3b, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x01, 0x02, 0x03, 0x04, 0xee, 0xee, 0xee, 0xee,
};
static const uint8_t in_v6_ver4[] = {	/* version nibble 4 */
	0x40, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v6_plen_long[] = {	/* payload length 9, 8 present */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x09, 0x11, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
static const uint8_t in_v6_short[] = {	/* 39 bytes */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* ---- a small datagram builder for the table ---------------------------- */

struct opt {
	uint16_t	cls;
	uint8_t		type;
	uint8_t		words;		/* data length in 4-byte words (0-31) */
	uint8_t		rsvd;		/* the three R bits above the length */
};

#define AWS_ENI		{ GENEVE_CLASS_AWS, GENEVE_AWS_ENI, 2, 0 }
#define AWS_ATT		{ GENEVE_CLASS_AWS, GENEVE_AWS_ATTACHMENT, 2, 0 }
#define AWS_COOKIE	{ GENEVE_CLASS_AWS, GENEVE_AWS_COOKIE, 1, 0 }
#define AWS_ALL		AWS_ENI, AWS_ATT, AWS_COOKIE

#define MAX_OPTS	8

struct vec {
	const char	*name;
	uint8_t		b0_ver;		/* version bits (0-3) */
	uint8_t		b1;		/* O, C and reserved bits */
	int		optlen;		/* words in the header; -1: from the options */
	uint16_t	proto;
	uint32_t	vni;
	struct opt	opts[MAX_OPTS];
	const uint8_t	*inner;
	size_t		inner_size;
	enum geneve_err	want;
	size_t		want_inner_len;	/* when want is GENEVE_OK */
	size_t		cut;		/* bytes cut off the end of the datagram */
};

#define INNER(a)	(a), sizeof(a)

/*
 * The data of an AWS option with its expected length carries the known
 * ids; anything else gets a recognisable filler.
 */
static void
put_opt_data(uint8_t *d, const struct opt *o)
{
	uint64_t v = 0;
	size_t n = (size_t)o->words * 4;

	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(0xa0 + i);
	if (o->cls != GENEVE_CLASS_AWS)
		return;
	if (o->type == GENEVE_AWS_ENI)
		v = ENI_ID;
	else if (o->type == GENEVE_AWS_ATTACHMENT)
		v = ATT_ID;
	else if (o->type == GENEVE_AWS_COOKIE)
		v = (uint64_t)COOKIE << 32;
	else
		return;
	for (size_t i = 0; i < n && i < 8; i++)
		d[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Build v into a malloc'd buffer of exactly its length. */
static uint8_t *
build(const struct vec *v, size_t *lenp)
{
	size_t optbytes = 0, len, off;
	uint8_t *b;
	int words;

	for (int i = 0; i < MAX_OPTS && v->opts[i].cls + v->opts[i].type; i++)
		optbytes += GENEVE_OPT_HDR_LEN + (size_t)v->opts[i].words * 4;
	len = GENEVE_BASE_LEN + optbytes + v->inner_size;
	b = malloc(len);
	assert_non_null(b);
	words = v->optlen >= 0 ? v->optlen : (int)(optbytes / 4);
	b[0] = (uint8_t)(v->b0_ver << 6 | (words & 0x3f));
	b[1] = v->b1;
	b[2] = (uint8_t)(v->proto >> 8);
	b[3] = (uint8_t)v->proto;
	b[4] = (uint8_t)(v->vni >> 16);
	b[5] = (uint8_t)(v->vni >> 8);
	b[6] = (uint8_t)v->vni;
	b[7] = 0;
	off = GENEVE_BASE_LEN;
	for (int i = 0; i < MAX_OPTS && v->opts[i].cls + v->opts[i].type; i++) {
		const struct opt *o = &v->opts[i];

		b[off] = (uint8_t)(o->cls >> 8);
		b[off + 1] = (uint8_t)o->cls;
		b[off + 2] = o->type;
		b[off + 3] = (uint8_t)(o->rsvd << 5 | (o->words & 0x1f));
		put_opt_data(b + off + 4, o);
		off += GENEVE_OPT_HDR_LEN + (size_t)o->words * 4;
	}
	if (v->inner_size)
		memcpy(b + off, v->inner, v->inner_size);
	*lenp = len;
	return b;
}

/* Decode a copy of buf in a buffer of exactly len bytes. */
static enum geneve_err
decode_exact(const uint8_t *buf, size_t len, struct geneve_pkt *out,
    uint8_t **copyp)
{
	uint8_t *c = malloc(len ? len : 1);
	enum geneve_err e;

	assert_non_null(c);
	if (len)
		memcpy(c, buf, len);
	e = geneve_decode(c, len, out);
	if (copyp)
		*copyp = c;
	else
		free(c);
	return e;
}

/* What must hold whenever the decoder accepts a datagram. */
static void
check_accepted(const uint8_t *buf, size_t len, const struct geneve_pkt *p)
{
	assert_true(p->proto == ETHERTYPE_IPV4 || p->proto == ETHERTYPE_IPV6);
	assert_true(p->hdr_len >= GENEVE_BASE_LEN + 32);
	assert_true(p->hdr_len <= GENEVE_MAX_HDR_LEN);
	assert_int_equal(p->hdr_len % 4, 0);
	assert_ptr_equal(p->inner, buf + p->hdr_len);
	assert_true((size_t)p->hdr_len + p->inner_len <= len);
	assert_int_equal(p->inner[0] >> 4, p->proto == ETHERTYPE_IPV4 ? 4 : 6);
}

/* ---- table of vectors, one or more per reason --------------------------- */

static const struct vec vectors[] = {
	{ "gwlb ipv4", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "gwlb ipv6", 0, 0, -1, ETHERTYPE_IPV6, 0, { AWS_ALL },
	    INNER(in_v6), GENEVE_OK, 48, 0 },
	{ "ipv4 with ip options", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4_opts), GENEVE_OK, 32, 0 },
	{ "ipv4 bare header", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4_bare), GENEVE_OK, 20, 0 },
	{ "ipv4 trailing bytes cut", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4_trail), GENEVE_OK, 24, 0 },
	{ "ipv6 trailing bytes cut", 0, 0, -1, ETHERTYPE_IPV6, 0, { AWS_ALL },
	    INNER(in_v6_trail), GENEVE_OK, 44, 0 },
	{ "non-zero vni", 0, 0, -1, ETHERTYPE_IPV4, 0xabcdef, { AWS_ALL },
	    INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "C bit set, no critical option", 0, 0x40, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "reserved header bits ignored", 0, 0x3f, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "option R bits ignored", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { { GENEVE_CLASS_AWS, GENEVE_AWS_ENI, 2, 7 }, AWS_ATT, AWS_COOKIE },
	    INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "cookie first, unknown options between", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_COOKIE, { 0x0001, 0x05, 3, 0 }, AWS_ATT,
	      { GENEVE_CLASS_AWS, 0x04, 0, 0 }, { 0xffff, 0x7f, 1, 0 }, AWS_ENI },
	    INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "other class with AWS type numbers skipped", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { { 0x0109, GENEVE_AWS_ENI, 2, 0 }, AWS_ALL,
	      { 0x0000, GENEVE_AWS_COOKIE, 3, 0 } },
	    INNER(in_v4), GENEVE_OK, 28, 0 },
	{ "empty unknown option", 0, 0, -1, ETHERTYPE_IPV6, 0,
	    { { 0x4242, 0x10, 0, 0 }, AWS_ALL }, INNER(in_v6), GENEVE_OK, 48, 0 },

	{ "empty datagram", 0, 0, 0, ETHERTYPE_IPV4, 0, { { 0, 0, 0, 0 } },
	    NULL, 0, GENEVE_ERR_SHORT, 0, 8 },
	{ "7 bytes", 0, 0, 0, ETHERTYPE_IPV4, 0, { { 0, 0, 0, 0 } },
	    NULL, 0, GENEVE_ERR_SHORT, 0, 1 },
	{ "base header only", 0, 0, 0, ETHERTYPE_IPV4, 0, { { 0, 0, 0, 0 } },
	    NULL, 0, GENEVE_ERR_NO_ENI, 0, 0 },
	{ "version 1", 1, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_VERSION, 0, 0 },
	{ "version 2", 2, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_VERSION, 0, 0 },
	{ "version 3", 3, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_VERSION, 0, 0 },
	{ "O bit", 0, 0x80, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_CONTROL, 0, 0 },
	{ "O and C bits", 0, 0xc0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_CONTROL, 0, 0 },
	{ "option length past datagram", 0, 0, 63, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4), GENEVE_ERR_OPT_LEN, 0, 0 },
	{ "option length past datagram, no inner", 0, 0, 9, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, NULL, 0, GENEVE_ERR_OPT_LEN, 0, 0 },
	{ "last TLV past option area", 0, 0, 7, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4), GENEVE_ERR_TLV, 0, 0 },
	{ "TLV length past option area", 0, 0, 8, ETHERTYPE_IPV4, 0,
	    { AWS_ENI, AWS_ATT, { GENEVE_CLASS_AWS, GENEVE_AWS_COOKIE, 9, 0 } },
	    INNER(in_v4), GENEVE_ERR_TLV, 0, 0 },
	{ "TLV with 31 words in a small area", 0, 0, 9, ETHERTYPE_IPV4, 0,
	    { AWS_ALL, { 0x0001, 0x01, 31, 0 } }, INNER(in_v4),
	    GENEVE_ERR_TLV, 0, 0 },
	{ "unknown critical option", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL, { 0x1234, 0x80, 1, 0 } }, INNER(in_v4),
	    GENEVE_ERR_CRITICAL, 0, 0 },
	{ "unknown critical option first", 0, 0x40, -1, ETHERTYPE_IPV4, 0,
	    { { 0x0000, 0xff, 0, 0 }, AWS_ALL }, INNER(in_v4),
	    GENEVE_ERR_CRITICAL, 0, 0 },
	{ "AWS class, unknown critical type", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL, { GENEVE_CLASS_AWS, 0x81, 2, 0 } }, INNER(in_v4),
	    GENEVE_ERR_CRITICAL, 0, 0 },
	{ "ENI option 4 bytes", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { { GENEVE_CLASS_AWS, GENEVE_AWS_ENI, 1, 0 }, AWS_ATT, AWS_COOKIE },
	    INNER(in_v4), GENEVE_ERR_AWS_LEN, 0, 0 },
	{ "attachment option 12 bytes", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ENI, { GENEVE_CLASS_AWS, GENEVE_AWS_ATTACHMENT, 3, 0 },
	      AWS_COOKIE }, INNER(in_v4), GENEVE_ERR_AWS_LEN, 0, 0 },
	{ "cookie option 8 bytes", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ENI, AWS_ATT, { GENEVE_CLASS_AWS, GENEVE_AWS_COOKIE, 2, 0 } },
	    INNER(in_v4), GENEVE_ERR_AWS_LEN, 0, 0 },
	{ "cookie option empty", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ENI, AWS_ATT, { GENEVE_CLASS_AWS, GENEVE_AWS_COOKIE, 0, 0 } },
	    INNER(in_v4), GENEVE_ERR_AWS_LEN, 0, 0 },
	{ "ENI option 31 words", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { { GENEVE_CLASS_AWS, GENEVE_AWS_ENI, 31, 0 }, AWS_ATT, AWS_COOKIE },
	    INNER(in_v4), GENEVE_ERR_AWS_LEN, 0, 0 },
	{ "ENI twice", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL, AWS_ENI }, INNER(in_v4), GENEVE_ERR_AWS_DUP, 0, 0 },
	{ "cookie twice", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_COOKIE, AWS_ALL }, INNER(in_v4), GENEVE_ERR_AWS_DUP, 0, 0 },
	{ "no options", 0, 0, -1, ETHERTYPE_IPV4, 0, { { 0, 0, 0, 0 } },
	    INNER(in_v4), GENEVE_ERR_NO_ENI, 0, 0 },
	{ "no ENI", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { { 0x0109, GENEVE_AWS_ENI, 2, 0 }, AWS_ATT, AWS_COOKIE },
	    INNER(in_v4), GENEVE_ERR_NO_ENI, 0, 0 },
	{ "no attachment", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ENI, { 0x0001, 0x02, 2, 0 }, AWS_COOKIE },
	    INNER(in_v4), GENEVE_ERR_NO_ATTACHMENT, 0, 0 },
	{ "no cookie", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ENI, AWS_ATT, { GENEVE_CLASS_AWS, 0x04, 1, 0 } },
	    INNER(in_v4), GENEVE_ERR_NO_COOKIE, 0, 0 },
	{ "protocol 0x6558 (Ethernet)", 0, 0, -1, 0x6558, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_PROTO, 0, 0 },
	{ "protocol 0", 0, 0, -1, 0x0000, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_PROTO, 0, 0 },
	{ "protocol 0x0806 (ARP)", 0, 0, -1, 0x0806, 0, { AWS_ALL },
	    INNER(in_v4), GENEVE_ERR_PROTO, 0, 0 },
	{ "ipv4 announced, no inner", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    NULL, 0, GENEVE_ERR_INNER, 0, 0 },
	{ "ipv4 announced, 19 bytes", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4_short), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv4 announced, 12 of 28 bytes", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4), GENEVE_ERR_INNER, 0, 16 },
	{ "ipv6 announced, 24 of 48 bytes", 0, 0, -1, ETHERTYPE_IPV6, 0,
	    { AWS_ALL }, INNER(in_v6), GENEVE_ERR_INNER, 0, 24 },
	{ "ipv4 announced, version 6 inside", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4_ver6), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv4 announced, ipv6 inside", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v6), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv4 IHL 4", 0, 0, -1, ETHERTYPE_IPV4, 0, { AWS_ALL },
	    INNER(in_v4_ihl4), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv4 total length below IHL", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4_tot_lt_ihl), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv6 announced, ipv4 inside", 0, 0, -1, ETHERTYPE_IPV6, 0,
	    { AWS_ALL }, INNER(in_v4), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv6 announced, version 4 inside", 0, 0, -1, ETHERTYPE_IPV6, 0,
	    { AWS_ALL }, INNER(in_v6_ver4), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv6 announced, 39 bytes", 0, 0, -1, ETHERTYPE_IPV6, 0, { AWS_ALL },
	    INNER(in_v6_short), GENEVE_ERR_INNER, 0, 0 },
	{ "ipv4 total length past datagram", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4_tot_long), GENEVE_ERR_INNER_LEN, 0, 0 },
	{ "ipv4 IHL past datagram", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { AWS_ALL }, INNER(in_v4_ihl_long), GENEVE_ERR_INNER_LEN, 0, 0 },
	{ "ipv6 payload length past datagram", 0, 0, -1, ETHERTYPE_IPV6, 0,
	    { AWS_ALL }, INNER(in_v6_plen_long), GENEVE_ERR_INNER_LEN, 0, 0 },
};

static void
test_vectors(void **state)
{
	unsigned seen[GENEVE_ERR__MAX] = { 0 };
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		struct geneve_pkt p;
		enum geneve_err e;
		uint8_t *b, *c;
		size_t len;

		b = build(v, &len);
		assert_true(v->cut <= len);
		len -= v->cut;
		memset(&p, 0x5a, sizeof(p));
		e = decode_exact(b, len, &p, &c);
		seen[v->want]++;
		if (e != v->want) {
			print_error("vector '%s': got %s, want %s\n", v->name,
			    geneve_err_str(e), geneve_err_str(v->want));
			bad++;
		} else if (e == GENEVE_OK) {
			check_accepted(c, len, &p);
			if (p.aws.eni_id != ENI_ID || p.aws.attachment_id != ATT_ID ||
			    p.aws.cookie != COOKIE || p.vni != v->vni ||
			    p.proto != v->proto ||
			    p.inner_len != v->want_inner_len ||
			    p.hdr_len != len - v->inner_size ||
			    memcmp(p.inner, v->inner, p.inner_len) != 0) {
				print_error("vector '%s': fields decoded wrong\n",
				    v->name);
				bad++;
			}
		}
		free(c);
		free(b);
	}
	assert_int_equal(bad, 0);
	/* Every reason has at least one vector. */
	for (int r = 0; r < GENEVE_ERR__MAX; r++) {
		if (!seen[r])
			print_error("no vector for %s\n", geneve_err_str(r));
		assert_true(seen[r] > 0);
	}
}

/* Short datagrams: every length below the base header. */
static void
test_short(void **state)
{
	struct geneve_pkt p;

	(void)state;
	for (size_t n = 0; n < GENEVE_BASE_LEN; n++)
		assert_int_equal(decode_exact(gwlb_v4, n, &p, NULL),
		    GENEVE_ERR_SHORT);
}

/* The hand-made GWLB datagram decodes to what its bytes say. */
static void
test_known_packet(void **state)
{
	struct geneve_pkt p;
	uint8_t *c;

	(void)state;
	assert_int_equal(decode_exact(gwlb_v4, sizeof(gwlb_v4), &p, &c),
	    GENEVE_OK);
	check_accepted(c, sizeof(gwlb_v4), &p);
	assert_true(p.aws.eni_id == ENI_ID);
	assert_true(p.aws.attachment_id == ATT_ID);
	assert_int_equal(p.aws.cookie, COOKIE);
	assert_int_equal(p.vni, 0);
	assert_int_equal(p.proto, ETHERTYPE_IPV4);
	assert_int_equal(p.hdr_len, GENEVE_AWS_HDR_LEN);
	assert_ptr_equal(p.inner, c + 40);
	assert_int_equal(p.inner_len, 28);
	free(c);
}

/* The encoder writes exactly the bytes GWLB sends. */
static void
test_encode_known(void **state)
{
	struct geneve_aws aws = { ENI_ID, ATT_ID, COOKIE };
	uint8_t buf[GENEVE_AWS_HDR_LEN + 8];
	ssize_t n;

	(void)state;
	memset(buf, 0x77, sizeof(buf));
	n = geneve_encode(buf, sizeof(buf), &aws, ETHERTYPE_IPV4);
	assert_int_equal(n, GENEVE_AWS_HDR_LEN);
	assert_memory_equal(buf, gwlb_v4, GENEVE_AWS_HDR_LEN);
	for (size_t i = GENEVE_AWS_HDR_LEN; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x77);	/* nothing written beyond */

	n = geneve_encode(buf, sizeof(buf), &aws, ETHERTYPE_IPV6);
	assert_int_equal(n, GENEVE_AWS_HDR_LEN);
	assert_int_equal(buf[2], 0x86);
	assert_int_equal(buf[3], 0xdd);
	assert_memory_equal(buf + 4, gwlb_v4 + 4, GENEVE_AWS_HDR_LEN - 4);
}

static void
test_encode_space(void **state)
{
	struct geneve_aws aws = { 1, 2, 3 };
	uint8_t *b;

	(void)state;
	for (size_t cap = 0; cap < GENEVE_AWS_HDR_LEN; cap++) {
		b = malloc(cap ? cap : 1);
		assert_non_null(b);
		assert_int_equal(geneve_encode(b, cap, &aws, ETHERTYPE_IPV4),
		    -ENOSPC);
		free(b);
	}
	b = malloc(GENEVE_AWS_HDR_LEN);
	assert_non_null(b);
	assert_int_equal(geneve_encode(b, GENEVE_AWS_HDR_LEN, &aws,
	    ETHERTYPE_IPV4), GENEVE_AWS_HDR_LEN);
	free(b);
}

/*
 * Every prefix of a valid datagram is refused, and nothing past the
 * prefix is read (ASan watches the exactly-sized copy).
 */
static void
truncate_all(const uint8_t *pkt, size_t len, size_t valid_from)
{
	struct geneve_pkt p;
	uint8_t *c;

	for (size_t n = 0; n <= len; n++) {
		enum geneve_err e = decode_exact(pkt, n, &p, &c);

		if (n >= valid_from) {
			if (e != GENEVE_OK)
				print_error("prefix %zu of %zu: %s\n", n, len,
				    geneve_err_str(e));
			assert_int_equal(e, GENEVE_OK);
			check_accepted(c, n, &p);
		} else {
			if (e == GENEVE_OK)
				print_error("prefix %zu of %zu accepted\n", n, len);
			assert_int_not_equal(e, GENEVE_OK);
			if (n < GENEVE_BASE_LEN)
				assert_int_equal(e, GENEVE_ERR_SHORT);
			else if (n < (size_t)GENEVE_BASE_LEN + (pkt[0] & 0x3f) * 4)
				assert_int_equal(e, GENEVE_ERR_OPT_LEN);
			else
				assert_true(e == GENEVE_ERR_INNER ||
				    e == GENEVE_ERR_INNER_LEN);
		}
		free(c);
	}
}

static void
test_truncation(void **state)
{
	struct vec v6 = { "v6", 0, 0, -1, ETHERTYPE_IPV6, 0, { AWS_ALL },
	    INNER(in_v6), GENEVE_OK, 48, 0 };
	struct vec opts = { "v4 options", 0, 0x40, -1, ETHERTYPE_IPV4, 7,
	    { AWS_COOKIE, { 0x0001, 0x05, 31, 0 }, AWS_ATT, AWS_ENI },
	    INNER(in_v4_opts), GENEVE_OK, 32, 0 };
	uint8_t *b;
	size_t len;

	(void)state;
	/* The hand-made one: valid from its IP total length on. */
	truncate_all(gwlb_v4, sizeof(gwlb_v4), 40 + 28);
	b = build(&v6, &len);
	truncate_all(b, len, len);
	free(b);
	b = build(&opts, &len);
	truncate_all(b, len, len);
	free(b);
}

/* Option area at its maximum: 63 words, a 31-word unknown option in it. */
static void
test_max_options(void **state)
{
	struct vec v = { "63 words", 0, 0, -1, ETHERTYPE_IPV4, 0,
	    { { 0x7777, 0x42, 31, 0 }, AWS_ALL, { 0xfffe, 0x7f, 22, 0 } },
	    INNER(in_v4), GENEVE_OK, 28, 0 };
	struct geneve_pkt p;
	uint8_t *b, *c;
	size_t len;

	(void)state;
	b = build(&v, &len);
	assert_int_equal(b[0] & 0x3f, 63);
	assert_int_equal(len, GENEVE_MAX_HDR_LEN + sizeof(in_v4));
	assert_int_equal(decode_exact(b, len, &p, &c), GENEVE_OK);
	check_accepted(c, len, &p);
	assert_int_equal(p.hdr_len, GENEVE_MAX_HDR_LEN);
	assert_int_equal(p.inner_len, 28);
	assert_true(p.aws.eni_id == ENI_ID);
	assert_true(p.aws.attachment_id == ATT_ID);
	assert_int_equal(p.aws.cookie, COOKIE);
	free(c);
	free(b);

	/* The same with the large option critical: refused. */
	v.opts[0].type = 0xc2;
	b = build(&v, &len);
	assert_int_equal(decode_exact(b, len, &p, NULL), GENEVE_ERR_CRITICAL);
	free(b);

	/* Options filling 63 words exactly, the last one ending at the edge. */
	v.opts[0].type = 0x42;
	v.opts[4].words = 21;
	v.opts[5] = (struct opt){ 0x0002, 0x00, 0, 0 };
	b = build(&v, &len);
	assert_int_equal(b[0] & 0x3f, 63);
	assert_int_equal(decode_exact(b, len, &p, NULL), GENEVE_OK);
	assert_int_equal(p.hdr_len, GENEVE_MAX_HDR_LEN);
	free(b);
}

/* ENI, attachment and cookie values: edges and the ordering of bytes. */
static void
test_roundtrip(void **state)
{
	static const struct geneve_aws cases[] = {
		{ 0, 0, 0 },
		{ UINT64_MAX, UINT64_MAX, UINT32_MAX },
		{ ENI_ID, ATT_ID, COOKIE },
		{ 0x0100000000000080ULL, 0x8000000000000001ULL, 0x80000001U },
		{ 1, 0x0123456789abcdefULL, 0x01020304U },
	};
	uint8_t buf[GENEVE_AWS_HDR_LEN + sizeof(in_v6)];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int v6 = 0; v6 <= 1; v6++) {
			uint16_t proto = v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
			const uint8_t *in = v6 ? in_v6 : in_v4;
			size_t inlen = v6 ? sizeof(in_v6) : sizeof(in_v4);
			struct geneve_pkt p;
			uint8_t *c;

			assert_int_equal(geneve_encode(buf, sizeof(buf),
			    &cases[i], proto), GENEVE_AWS_HDR_LEN);
			memcpy(buf + GENEVE_AWS_HDR_LEN, in, inlen);
			assert_int_equal(decode_exact(buf,
			    GENEVE_AWS_HDR_LEN + inlen, &p, &c), GENEVE_OK);
			check_accepted(c, GENEVE_AWS_HDR_LEN + inlen, &p);
			assert_true(p.aws.eni_id == cases[i].eni_id);
			assert_true(p.aws.attachment_id == cases[i].attachment_id);
			assert_int_equal(p.aws.cookie, cases[i].cookie);
			assert_int_equal(p.proto, proto);
			assert_int_equal(p.vni, 0);
			assert_int_equal(p.hdr_len, GENEVE_AWS_HDR_LEN);
			assert_int_equal(p.inner_len, inlen);
			assert_memory_equal(p.inner, in, inlen);
			free(c);
		}
	}
}

/*
 * Random corruption of a valid datagram (fixed seed, so reproducible):
 * never a crash or an over-read, and whatever is accepted is consistent.
 * The fuzz harness does this at scale; this keeps a cheap version in
 * every make check.
 */
static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_mutations(void **state)
{
	uint32_t seed = 0x9e3779b9;
	unsigned ok = 0, refused = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint8_t pkt[sizeof(gwlb_v4)];
		size_t len = sizeof(pkt);
		struct geneve_pkt p;
		uint8_t *c;
		int flips = 1 + (int)(xorshift(&seed) % 4);

		memcpy(pkt, gwlb_v4, sizeof(pkt));
		for (int f = 0; f < flips; f++) {
			uint32_t r = xorshift(&seed);

			pkt[r % sizeof(pkt)] ^= (uint8_t)(1u << ((r >> 8) % 8));
		}
		if (xorshift(&seed) % 4 == 0)
			len = xorshift(&seed) % (sizeof(pkt) + 1);
		if (decode_exact(pkt, len, &p, &c) == GENEVE_OK) {
			check_accepted(c, len, &p);
			ok++;
		} else {
			refused++;
		}
		free(c);
	}
	/* Both outcomes occur, or the mutation is not testing anything. */
	assert_true(ok > 0);
	assert_true(refused > 0);
}

static void
test_err_str(void **state)
{
	(void)state;
	assert_string_equal(geneve_err_str(GENEVE_OK), "ok");
	assert_string_equal(geneve_err_str(GENEVE_ERR_VERSION), "bad-version");
	assert_string_equal(geneve_err_str(GENEVE_ERR_CONTROL), "control");
	for (int i = 0; i < GENEVE_ERR__MAX; i++) {
		const char *s = geneve_err_str((enum geneve_err)i);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown");
		for (const char *q = s; *q; q++)
			assert_true((*q >= 'a' && *q <= 'z') || *q == '-');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s,
			    geneve_err_str((enum geneve_err)j));
	}
	assert_string_equal(geneve_err_str(GENEVE_ERR__MAX), "unknown");
	assert_string_equal(geneve_err_str((enum geneve_err)-1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_known_packet),
		cmocka_unit_test(test_encode_known),
		cmocka_unit_test(test_encode_space),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_max_options),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_err_str),
	};

	return cmocka_run_group_tests_name("geneve", tests, NULL, NULL);
}
