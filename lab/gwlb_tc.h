/*
 * The counters of the lab's tc GWLB (lab/gwlb_tc.bpf.c), in the order of
 * its per-CPU array; gwlbsim tc-stats prints them by these names.  A
 * counter marked 1 is a failed check: tc-stats exits 1 when one is not 0.
 */
#ifndef GWLB_TC_H
#define GWLB_TC_H

#define GWTC_STATS(X) \
	X(ENCAP,	"encap",	0, "packets encapsulated toward the appliance") \
	X(ENCAP_CSUM,	"encap_csum",	0, "of which with an outer UDP checksum (else 0)") \
	X(ENCAP_GSO,	"encap_gso",	0, "of which super-packets (TSO/GSO)") \
	X(ENCAP_SEGS,	"encap_segs",	0, "segments those super-packets carry") \
	X(DECAP,	"decap",	0, "datagrams back, checked and decapsulated") \
	X(REFLECT,	"reflect",	0, "datagrams the tc reflector sent back") \
	X(PASS,		"pass",		0, "not GWLB traffic, passed untouched") \
	X(TO_STACK,	"to_stack",	0, "decapsulated, routed by the stack (neighbour not resolved yet)") \
	X(NO_ROUTE,	"no_route",	0, "encapsulated but dropped: no route or neighbour to the appliance") \
	X(BAD_OUTER,	"bad_outer",	1, "outer addresses, UDP ports, TTL <= 1 or a fragment") \
	X(BAD_LENGTH,	"bad_length",	1, "IPv4, UDP or inner lengths that do not agree (trailing bytes)") \
	X(BAD_CSUM,	"bad_csum",	1, "outer IPv4 header or UDP checksum wrong (or the inner packet's)") \
	X(BAD_GENEVE,	"bad_geneve",	1, "GENEVE version, length, flags, VNI, option layout or protocol") \
	X(BAD_ENI,	"bad_eni",	1, "ENI id option not the flow's") \
	X(BAD_ATTACH,	"bad_attachment", 1, "attachment id option not the flow's") \
	X(BAD_COOKIE,	"bad_cookie",	1, "flow cookie option not the flow's") \
	X(BAD_INNER,	"bad_inner",	1, "inner packet not IPv4 or IPv6") \
	X(BAD_GSO,	"bad_gso",	1, "a GSO burst arrived whole (the GWLB link must cut it)") \
	X(ERROR,	"error",	1, "a kernel helper refused (adjust_room, store)")

#define GWTC_ENUM(e, n, bad, h)	S_##e,
enum { GWTC_STATS(GWTC_ENUM) S__MAX };
#undef GWTC_ENUM

#endif
