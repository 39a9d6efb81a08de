/*
 * Fuzz harness for gso_begin()/gso_next(): the input is a virtio_net_hdr
 * (GSO_VNET_LEN bytes, host order) and the packet a TUN queue with
 * offloads handed back after it.  Checked: a header is refused or yields
 * at least one packet; gso_next() writes exactly that many, none past its
 * buffer or longer than gso_max_seg(), and then 0; a super-packet's
 * segments carry all its payload once, in order, none more than gso_size;
 * every packet whose checksum was asked for verifies (transport checksum
 * over the pseudo header, summed here independently, and a segment's IPv4
 * header checksum),
 * with its IP length fields matching its size; a plain packet comes out
 * unchanged.  Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/refcsum.h"
#include "gso.h"
#include "replay_main.h"

#define OUT_CAP	(65536 + 64)

/* A packet gso_next() finished: its lengths and checksums hold. */
static void
check_done(const struct gso_iter *it, const uint8_t *p, size_t n)
{
	size_t l4 = it->l4_off;
	uint8_t t[4] = { 0, it->proto, (uint8_t)((n - l4) >> 8), (uint8_t)(n - l4) };
	uint32_t s;

	FUZZ_CHECK(l4 + 8 <= n);
	if (it->family == 4) {
		FUZZ_CHECK(p[0] >> 4 == 4 && (size_t)(p[0] & 15) * 4 == l4);
		FUZZ_CHECK(rd16(p + 2) == n);
		/* Only a segment's IPv4 header is ours to checksum. */
		FUZZ_CHECK(!it->gso || fold(sum16(0, p, l4)) == 0);
		s = sum16(sum16(0, p + 12, 8), t, 4);
	} else {
		FUZZ_CHECK(p[0] >> 4 == 6 && l4 == 40);
		FUZZ_CHECK((size_t)rd16(p + 4) + 40 == n);
		s = sum16(sum16(0, p + 8, 32), t, 4);
	}
	FUZZ_CHECK(fold(sum16(s, p + l4, n - l4)) == 0);
	if (it->proto == 17) {
		FUZZ_CHECK(rd16(p + l4 + 4) == n - l4);
		FUZZ_CHECK(rd16(p + l4 + 6) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *out;
	const uint8_t *pkt = data + GSO_VNET_LEN;
	struct gso_vnet v;
	struct gso_iter it;
	size_t len, payload = 0;
	unsigned i;
	long n;
	int nseg;

	if (size < GSO_VNET_LEN)
		return 0;
	if (!out && !(out = malloc(OUT_CAP)))
		abort();
	len = size - GSO_VNET_LEN;
	gso_vnet_read(data, &v);
	nseg = gso_begin(&it, &v, pkt, len);
	if (nseg < 0)
		return 0;
	FUZZ_CHECK(nseg >= 1);
	FUZZ_CHECK(gso_max_seg(&it) <= len);
	if (it.gso) {
		FUZZ_CHECK(it.hdr_len < len && v.gso_size > 0);
		FUZZ_CHECK(gso_max_seg(&it) <= it.hdr_len + v.gso_size);
	}
	for (i = 0; (n = gso_next(&it, out, OUT_CAP)) > 0; i++) {
		FUZZ_CHECK(i < (unsigned)nseg);
		FUZZ_CHECK((size_t)n <= gso_max_seg(&it));
		if (!it.csum) {
			FUZZ_CHECK((size_t)n == len && memcmp(out, pkt, len) == 0);
			continue;
		}
		check_done(&it, out, (size_t)n);
		if (it.gso) {
			FUZZ_CHECK(memcmp(out + it.hdr_len, pkt + it.hdr_len + payload,
			    (size_t)n - it.hdr_len) == 0);
			payload += (size_t)n - it.hdr_len;
		}
	}
	FUZZ_CHECK(n == 0);
	FUZZ_CHECK(i == (unsigned)nseg);
	FUZZ_CHECK(gso_next(&it, out, OUT_CAP) == 0);
	if (it.gso)
		FUZZ_CHECK(payload == len - it.hdr_len);
	return 0;
}
