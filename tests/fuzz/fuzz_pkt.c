/*
 * Fuzz harness for pkt_parse(): the inner packet of every accepted
 * datagram comes from the network, ICMP quotes and IPv6 extension chains
 * included.  Checked here is only what lib/pkt.h promises: no read past
 * the packet, keys with zeroed padding (they are compared with memcmp),
 * IPv4 addresses in the first 4 bytes, no ports for later fragments and
 * port-less protocols, reverse() an involution, a hash that depends only
 * on the key, and a formatter that never writes past its buffer.
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "replay_main.h"

static int
has_ports(uint8_t proto)
{
	/* TCP, UDP, DCCP, SCTP, UDP-Lite (pkt.h), ICMP and ICMPv6 echo */
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 ||
	    proto == 136 || proto == 1 || proto == 58;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_key rev, rev2, copy;
	struct pkt_info info;
	enum pkt_err e;
	char full[256];
	int n;

	e = pkt_parse(data, size, &info);
	FUZZ_CHECK((unsigned)e < PKT_ERR__MAX);
	FUZZ_CHECK(pkt_err_str(e) != NULL);
	if (e != PKT_OK)
		return 0;

	FUZZ_CHECK(info.key.family == 4 || info.key.family == 6);
	FUZZ_CHECK(info.key.pad[0] == 0 && info.key.pad[1] == 0);
	if (info.key.family == 4) {
		FUZZ_CHECK(all_zero(info.key.src + 4, 12));
		FUZZ_CHECK(all_zero(info.key.dst + 4, 12));
	}
	FUZZ_CHECK(info.l3_len <= size);
	FUZZ_CHECK(info.l3_len >= (data[0] >> 4 == 4 ? 20 : 40));
	FUZZ_CHECK(info.frag == PKT_FRAG_NONE || info.frag == PKT_FRAG_FIRST ||
	    info.frag == PKT_FRAG_LATER);
	if (info.frag == PKT_FRAG_LATER || !has_ports(info.key.proto))
		FUZZ_CHECK(info.key.sport == 0 && info.key.dport == 0);

	pkt_key_reverse(&info.key, &rev);
	FUZZ_CHECK(memcmp(rev.src, info.key.dst, 16) == 0);
	FUZZ_CHECK(memcmp(rev.dst, info.key.src, 16) == 0);
	FUZZ_CHECK(rev.sport == info.key.dport && rev.dport == info.key.sport);
	pkt_key_reverse(&rev, &rev2);
	FUZZ_CHECK(memcmp(&rev2, &info.key, sizeof(rev2)) == 0);

	memcpy(&copy, &info.key, sizeof(copy));
	FUZZ_CHECK(pkt_key_hash(&copy, 1) == pkt_key_hash(&info.key, 1));
	FUZZ_CHECK(pkt_key_hash(&copy, 0x9e3779b9) ==
	    pkt_key_hash(&info.key, 0x9e3779b9));

	n = pkt_key_format(&info.key, full, sizeof(full));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(full));
	FUZZ_CHECK(strlen(full) == (size_t)n);
	/* Every smaller buffer: cut short, never overrun (ASan watches). */
	for (size_t sz = 1; sz <= (size_t)n; sz++) {
		char *b = malloc(sz);

		FUZZ_CHECK(b != NULL);
		pkt_key_format(&info.key, b, sz);
		FUZZ_CHECK(memchr(b, '\0', sz) != NULL);
		free(b);
	}
	return 0;
}
