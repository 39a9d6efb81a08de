/*
 * The tests' own Internet checksum (RFC 1071, big-endian 16-bit words, the
 * plain loop) and big-endian accessors.  Deliberately independent of
 * lib/'s optimised checksums: it is what the tests check them against.
 */
#ifndef GWLB_TEST_REFCSUM_H
#define GWLB_TEST_REFCSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)(~s & 0xffff);
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * What the kernel makes of a UDP GSO super-packet (IPv4 header at ip, no
 * options, its UDP checksum the partial seed over the whole length): the
 * datagram of pay bytes at payload offset off, into d (28 + n bytes), with
 * IP id `id`; n its payload length.  inet_gso_segment for the IP header,
 * __udp_gso_segment's csum16_add(csum16_sub(check, len), newlen) for the
 * seed, then the partial checksum finished from csum_start on.
 */
static inline size_t
ref_udp_gso_cut(const uint8_t *ip, size_t pay, size_t seg, size_t off, uint16_t id,
    uint8_t *d)
{
	size_t n = pay - off < seg ? pay - off : seg;
	uint32_t c;

	for (size_t i = 0; i < 28; i++)
		d[i] = ip[i];
	for (size_t i = 0; i < n; i++)
		d[28 + i] = ip[28 + off + i];
	wr16(d + 2, 28 + n);
	wr16(d + 4, id);
	d[10] = d[11] = 0;
	wr16(d + 10, fold(sum16(0, d, 20)));
	c = rd16(d + 26) + (uint16_t)~rd16(d + 24) + (uint32_t)(8 + n);
	while (c >> 16)
		c = (c & 0xffff) + (c >> 16);
	wr16(d + 26, (uint16_t)c);
	wr16(d + 24, 8 + n);
	wr16(d + 26, fold(sum16(0, d + 20, 8 + n)));
	return n;
}

#endif
