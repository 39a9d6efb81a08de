/*
 * Fuzz harness for geneve_decode(): every UDP payload that reaches port
 * 6081 goes through it, so it must refuse anything malformed without
 * reading past the datagram, and whatever it accepts must be consistent.
 * An accepted datagram is also re-encoded with geneve_encode() and decoded
 * again, which must give the same ids and inner packet (a differential
 * check of the encoder against the decoder on inputs nobody chose).
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "geneve.h"
#include "replay_main.h"

/* room for the largest inner packet: IPv6 with a 65535-byte payload */
static uint8_t reenc[GENEVE_AWS_HDR_LEN + 40 + 65535];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct geneve_pkt p, q;
	enum geneve_err e;
	ssize_t n;

	e = geneve_decode(data, size, &p);
	FUZZ_CHECK((unsigned)e < GENEVE_ERR__MAX);
	FUZZ_CHECK(strcmp(geneve_err_str(e), "unknown") != 0);
	if (e != GENEVE_OK)
		return 0;

	/* What the daemon relies on for an accepted datagram. */
	FUZZ_CHECK(size >= GENEVE_AWS_HDR_LEN);
	FUZZ_CHECK(p.proto == ETHERTYPE_IPV4 || p.proto == ETHERTYPE_IPV6);
	FUZZ_CHECK(p.hdr_len >= GENEVE_AWS_HDR_LEN);
	FUZZ_CHECK(p.hdr_len <= GENEVE_MAX_HDR_LEN);
	FUZZ_CHECK(p.hdr_len % 4 == 0);
	FUZZ_CHECK(p.hdr_len == GENEVE_BASE_LEN + (data[0] & 0x3f) * 4);
	FUZZ_CHECK(data[0] >> 6 == 0 && !(data[1] & 0x80));
	FUZZ_CHECK(p.vni <= 0xffffff);
	FUZZ_CHECK(p.inner == data + p.hdr_len);
	FUZZ_CHECK(p.inner_len <= size - p.hdr_len);
	if (p.proto == ETHERTYPE_IPV4) {
		FUZZ_CHECK(p.inner_len >= 20);
		FUZZ_CHECK(p.inner[0] >> 4 == 4);
		FUZZ_CHECK((size_t)(p.inner[0] & 0x0f) * 4 <= p.inner_len);
		FUZZ_CHECK(p.inner_len == (size_t)(p.inner[2] << 8 | p.inner[3]));
	} else {
		FUZZ_CHECK(p.inner_len >= 40);
		FUZZ_CHECK(p.inner[0] >> 4 == 6);
		FUZZ_CHECK(p.inner_len ==
		    40 + (size_t)(p.inner[4] << 8 | p.inner[5]));
	}

	/* Re-encoded as GWLB would send it, it decodes to the same. */
	n = geneve_encode(reenc, sizeof(reenc), &p.aws, p.proto);
	FUZZ_CHECK(n == GENEVE_AWS_HDR_LEN);
	FUZZ_CHECK(p.inner_len <= sizeof(reenc) - (size_t)n);
	memcpy(reenc + n, p.inner, p.inner_len);
	e = geneve_decode(reenc, (size_t)n + p.inner_len, &q);
	FUZZ_CHECK(e == GENEVE_OK);
	FUZZ_CHECK(q.aws.eni_id == p.aws.eni_id);
	FUZZ_CHECK(q.aws.attachment_id == p.aws.attachment_id);
	FUZZ_CHECK(q.aws.cookie == p.aws.cookie);
	FUZZ_CHECK(q.proto == p.proto);
	FUZZ_CHECK(q.vni == 0);
	FUZZ_CHECK(q.hdr_len == GENEVE_AWS_HDR_LEN);
	FUZZ_CHECK(q.inner_len == p.inner_len);
	FUZZ_CHECK(memcmp(q.inner, p.inner, p.inner_len) == 0);
	return 0;
}
