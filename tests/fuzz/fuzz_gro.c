/*
 * Fuzz harness for the coalescer (lib/gro.c): every inner packet of every
 * datagram goes through gro_add().  The input is a batch: one control
 * byte, then records of [length: 2 bytes][domain and tag: 1 byte][packet].
 * Control bit 0 asks the harness to fill in correct IPv4 header and TCP
 * checksums first (else nearly every mutated packet is refused for its
 * checksum and merging is never explored); bits 1-7 are unused.
 *
 * Checked: every packet is in exactly one item; items come in the order of
 * their first packet and list their packets in the order added; a
 * super-packet has 2..GRO_MAX_SEGS segments of one domain and one tag, at
 * most GRO_MAX_LEN bytes, a valid IPv4 header checksum, and cut back into
 * segments by the reference segmenter below (what the kernel's GSO does)
 * it gives the packets that went in, byte for byte.
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gro.h"
#include "replay_main.h"

#define MAXP	(GRO_BATCH_MAX)

static uint16_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t
pseudo(const uint8_t *ip, int v6, size_t tl)
{
	uint32_t s = 6 + (uint32_t)(tl >> 16) + (uint32_t)(tl & 0xffff);
	const uint8_t *a = ip + (v6 ? 8 : 12);

	for (size_t i = 0; i < (v6 ? 32u : 8u); i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	return s;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Correct checksums for a packet that looks like option-less TCP. */
static void
fix(uint8_t *p, size_t len)
{
	size_t l3, ipl;
	int v6;

	if (len < 40)
		return;
	v6 = p[0] >> 4 == 6;
	if (!v6 && p[0] == 0x45 && p[9] == 6) {
		l3 = 20;
		ipl = (size_t)(p[2] << 8 | p[3]);
		put16(p + 10, 0);
		put16(p + 10, (uint16_t)~sum16(p, 20, 0));
	} else if (v6 && len >= 60 && p[6] == 6) {
		l3 = 40;
		ipl = 40 + (size_t)(p[4] << 8 | p[5]);
	} else {
		return;
	}
	if (ipl > len || ipl < l3 + 20)
		return;
	put16(p + l3 + 16, 0);
	put16(p + l3 + 16, (uint16_t)~sum16(p + l3, ipl - l3, pseudo(p, v6, ipl - l3)));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Segment k of a super-packet as the kernel would cut it. */
static size_t
segment(const struct gro_item *it, const uint8_t *pay, size_t plen, unsigned k, uint8_t *b)
{
	const struct gro_vnet_hdr *v = &it->vnet;
	int v6 = v->gso_type == GRO_VNET_GSO_TCPV6;
	size_t l3 = v->csum_start, hl = v->hdr_len, off = (size_t)k * v->gso_size;
	size_t chunk = plen - off < v->gso_size ? plen - off : v->gso_size, len = hl + chunk;
	uint8_t psh = it->hdr[l3 + 13] & 0x08;
	uint32_t seq = get32(it->hdr + l3 + 4) + (uint32_t)off;

	memcpy(b, it->hdr, hl);
	memcpy(b + hl, pay + off, chunk);
	if (!v6) {
		put16(b + 2, (unsigned)len);
		put16(b + 4, (unsigned)((b[4] << 8 | b[5]) + k) & 0xffff);
		put16(b + 10, 0);
		put16(b + 10, (uint16_t)~sum16(b, 20, 0));
	} else {
		put16(b + 4, (unsigned)(len - 40));
	}
	put16(b + l3 + 4, seq >> 16);
	put16(b + l3 + 6, seq & 0xffff);
	b[l3 + 13] = (uint8_t)((b[l3 + 13] & ~0x08) | (off + chunk == plen ? psh : 0));
	put16(b + l3 + 16, 0);
	put16(b + l3 + 16, (uint16_t)~sum16(b + l3, len - l3, pseudo(b, v6, len - l3)));
	return len;
}

static const uint8_t tags[4][8] = {
	{ 1, 2, 3, 4, 5, 6, 7, 8 }, { 1, 2, 3, 4, 5, 6, 7, 9 }, { 0 }, { 0 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *pk[MAXP], payload[GRO_MAX_LEN + 1], seg[GRO_MAX_LEN + 1];
	static size_t plen_of[MAXP];
	static uint8_t sel[MAXP], seen[MAXP];
	static struct gro *g;
	unsigned n = 0, nitems, last_first = 0;
	size_t off = 1;

	if (!g)
		FUZZ_CHECK((g = gro_new()) != NULL);
	gro_reset(g);
	if (size < 1)
		return 0;
	while (off + 3 <= size && n < MAXP) {
		size_t len = (size_t)(data[off] << 8 | data[off + 1]);
		uint8_t s = data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		pk[n] = malloc(len ? len : 1);
		FUZZ_CHECK(pk[n] != NULL);
		memcpy(pk[n], data + off, len);
		if (data[0] & 1)
			fix(pk[n], len);
		off += len;
		plen_of[n] = len;
		sel[n] = s;
		/* domain: bits 0-1; tag: bits 2-3 (3: pass through) */
		FUZZ_CHECK(gro_add(g, pk[n], len, s & 3, (s >> 2 & 3) == 3 ? NULL :
		    tags[s >> 2 & 3], (s >> 2 & 3) == 2 ? 0 : 8) == (int)n);
		n++;
	}
	memset(seen, 0, n);
	nitems = gro_finish(g);
	FUZZ_CHECK(nitems <= n);
	for (unsigned i = 0; i < nitems; i++) {
		const struct gro_item *it = gro_item(g, i);
		size_t total = 0, len, poff;
		unsigned k = 0, prev = 0;

		FUZZ_CHECK(it != NULL);
		FUZZ_CHECK(i == 0 || it->first > last_first);
		last_first = it->first;
		FUZZ_CHECK(it->nsegs >= 1 && it->nsegs <= GRO_MAX_SEGS);
		for (unsigned x = it->first; x != GRO_NONE; x = gro_next(g, x), k++) {
			const uint8_t *p = gro_pkt(g, x, &len, &poff);

			FUZZ_CHECK(x < n && !seen[x]);
			FUZZ_CHECK(k == 0 || x > prev);
			seen[x] = 1;
			prev = x;
			FUZZ_CHECK(p == pk[x] && len <= plen_of[x]);
			if (it->nsegs > 1) {
				FUZZ_CHECK((sel[x] & 3) == (sel[it->first] & 3));
				FUZZ_CHECK((sel[x] >> 2 & 3) == (sel[it->first] >> 2 & 3));
				FUZZ_CHECK((sel[x] >> 2 & 3) != 3);
				FUZZ_CHECK(poff >= 40 && poff < len);
				FUZZ_CHECK(total + len - poff <= sizeof(payload));
				memcpy(payload + total, p + poff, len - poff);
				total += len - poff;
			}
		}
		FUZZ_CHECK(k == it->nsegs);
		if (it->nsegs == 1)
			continue;
		FUZZ_CHECK(it->len <= GRO_MAX_LEN && it->len == it->hdr_len + total);
		FUZZ_CHECK(it->vnet.flags == GRO_VNET_F_NEEDS_CSUM);
		FUZZ_CHECK(it->vnet.csum_offset == 16 && it->vnet.hdr_len == it->hdr_len);
		if (it->vnet.gso_type == GRO_VNET_GSO_TCPV4)
			FUZZ_CHECK(sum16(it->hdr, 20, 0) == 0xffff);
		else
			FUZZ_CHECK(it->vnet.gso_type == GRO_VNET_GSO_TCPV6);
		FUZZ_CHECK((total + it->vnet.gso_size - 1) / it->vnet.gso_size == it->nsegs);
		k = 0;
		for (unsigned x = it->first; x != GRO_NONE; x = gro_next(g, x), k++) {
			const uint8_t *p = gro_pkt(g, x, &len, &poff);

			FUZZ_CHECK(segment(it, payload, total, k, seg) == len);
			FUZZ_CHECK(memcmp(seg, p, len) == 0);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		FUZZ_CHECK(seen[i]);
		free(pk[i]);
	}
	{
		unsigned r = 0;

		for (int i = 0; i < GRO_R__MAX; i++)
			r += gro_refused(g, (enum gro_refuse)i);
		FUZZ_CHECK(r <= n);
	}
	return 0;
}
