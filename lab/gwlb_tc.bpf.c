// SPDX-License-Identifier: GPL-2.0
/*
 * gwlb_tc: the lab's GWLB in the kernel, a tc (cls_bpf, direct action)
 * program for the twoarm-tc topology (lab/gwlb-lab).
 *
 * Section "encap", on the GWLB namespace's client- and server-facing veths
 * (ingress): an IP packet from the client or the server becomes a GWLB
 * flow.  It gets the outer IPv4/UDP header and the GENEVE header GWLB
 * sends (options ENI, attachment, cookie, in that order; TTL 255, id 0, no
 * DF), the flow's own UDP source port and cookie, both derived from a
 * symmetric hash of the inner 5-tuple, so the two directions of a flow
 * share them as on GWLB.  GWLB carries every TCP segment as a datagram of
 * its own, so the lab's client and server cut their super-packets on the
 * way out (TSO off, checksums finished in software) and the program sees
 * one segment at a time.  Each gets a full outer UDP checksum, computed
 * from the headers alone (inner_flow); UDP GRO at the appliance refuses
 * datagrams without one.  What the program cannot sum (fragments, IPv4
 * options, IPv6 extension headers, UDP without a checksum) goes with
 * checksum 0, legal for IPv4; a super-packet that still comes becomes a
 * UDP tunnel GSO packet, checksum 0, that the GWLB link cuts (counted).
 *
 * Section "decap", on the GWLB link (ingress): a GENEVE datagram from the
 * appliance is checked as lab/sim_check.c checks one: outer addresses
 * swapped, UDP ports kept (from the flow's port to 6081), TTL above 1, no
 * fragment, IPv4, UDP and inner lengths in agreement, the IPv4 header and
 * UDP checksums, version 0, no critical bit, the protocol type of the
 * inner packet, the three AWS options in order, each the flow's value.  A datagram that fails is
 * dropped and counted by reason; one that passes loses its outer headers
 * and is routed in the GWLB namespace (FIB lookup, redirect) to the
 * client or the server.  Everything else passes untouched (ARP, neighbour
 * discovery, what is addressed to the GWLB namespace itself).
 *
 * The counters are one per-CPU array (gwtc_stats); `gwlbsim tc-stats`
 * reads them by the programs' ids.  The lab compiles this file when it
 * builds the topology, with the ENI and attachment ids as -D definitions
 * (the addresses are the lab's, the defaults below).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>
#include <linux/udp.h>

#include "gwlb_tc.h"

#define SEC(n)		__attribute__((section(n), used))
#define INLINE		static inline __attribute__((always_inline))
#define __uint(n, v)	int (*n)[v]
#define __type(n, v)	typeof(v) *n

/* Helpers by their ids in the uapi header (no libbpf headers needed). */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) =
	(void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 off, void *to,
	__u32 len) = (void *)BPF_FUNC_skb_load_bytes;
static long (*bpf_skb_store_bytes)(void *skb, __u32 off, const void *from,
	__u32 len, __u64 flags) = (void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_skb_adjust_room)(void *skb, __s32 len_diff, __u32 mode,
	__u64 flags) = (void *)BPF_FUNC_skb_adjust_room;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) =
	(void *)BPF_FUNC_redirect;
static long (*bpf_fib_lookup)(void *ctx, struct bpf_fib_lookup *params,
	int plen, __u32 flags) = (void *)BPF_FUNC_fib_lookup;

#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4	/* kernel 6.3; uapi headers of 6.1 */
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4	(1ULL << 7)
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV6	(1ULL << 8)
#endif

/* The lab's values; lab/gwlb-lab passes its own with -D. */
#ifndef GWLB_ADDR
#define GWLB_ADDR	0xc6120001	/* 198.18.0.1 */
#endif
#ifndef APPL_ADDR
#define APPL_ADDR	0xc6120002	/* 198.18.0.2 */
#endif
#ifndef ENI_ID
#define ENI_ID		0x0123456789abcdefULL
#endif
#ifndef ATTACH_ID
#define ATTACH_ID	0x0a0b0c0d0e0f1011ULL
#endif
#ifndef SPORT_BASE
#define SPORT_BASE	30000
#endif
#ifndef LOCAL4_A	/* the GWLB namespace's own inner addresses */
#define LOCAL4_A	0xc0000201	/* 192.0.2.1 */
#endif
#ifndef LOCAL4_B
#define LOCAL4_B	0xc6336401	/* 198.51.100.1 */
#endif
#define GENEVE_PORT	6081
#define AWS_CLASS	0x0108
#define OUTER_LEN	(20 + 8)
#define GENEVE_LEN	40		/* 8 + 12 + 12 + 8 */
#define ENCAP_LEN	(OUTER_LEN + GENEVE_LEN)
#define ETH_LEN		14

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, S__MAX);
	__type(key, __u32);
	__type(value, __u64);
} gwtc_stats SEC(".maps");

INLINE void count(__u32 what, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&gwtc_stats, &what);

	if (v)
		*v += n;
}

INLINE __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}


struct flow {
	__u32	cookie;
	__u16	sport;		/* outer UDP source port, host order */
	__u16	ethertype;	/* inner, host order */
	__u8	proto;
	__u8	csum_ok;	/* isum below is the inner packet's sum */
	__u32	daddr4;		/* IPv4 inner destination, host order */
	__u32	isum;		/* one's complement sum of the inner packet */
	__u32	ilen;		/* the inner packet's length by its IP header */
};

INLINE __u32 mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* The one's complement sum of a 20-byte IPv4 header at h. */
INLINE __u32 ip4_hdr_sum(const void *h)
{
	__u16 w[10];
	__u32 sum = 0, i;

	__builtin_memcpy(w, h, 20);
#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	return sum;
}

INLINE __u32 fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

/*
 * The inner packet at off: its flow's cookie and port.  Symmetric: the
 * addresses and the ports enter by XOR, so a reply has its flow's values.
 * A fragment after the first has no ports; all fragments hash without.
 *
 * And the one's complement sum of the whole inner packet without reading
 * its payload, for the outer UDP checksum: a TCP, UDP or ICMP packet whose
 * own checksum is right sums, from its transport header on, to the
 * complement of its pseudo header (nothing for ICMP over IPv4), so the
 * packet's sum is its IP header's plus that.  The lab's ends finish their
 * checksums (TX offload off), so it holds for what they send; for
 * anything else (fragments, IPv4 options, IPv6 extension headers, UDP
 * without a checksum) csum_ok stays 0 and the outer checksum is 0.
 */
INLINE int inner_flow(struct __sk_buff *skb, __u32 off, struct flow *f)
{
	__u32 h = 0, w[10], hs = 0, ps = 0;
	__u16 ports[2] = { 0, 0 }, l4sum = 0, *hw = (__u16 *)w;
	__u8 v;
	int i, l4 = 0;

	f->csum_ok = 0;
	if (bpf_skb_load_bytes(skb, off, &v, 1))
		return -1;
	if ((v >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, w, 20))
			return -1;
		__builtin_memcpy(&ip, w, 20);
		if (ip.ihl < 5)
			return -1;
		f->ethertype = ETH_P_IP;
		f->proto = ip.protocol;
		f->ilen = __builtin_bswap16(ip.tot_len);
		f->daddr4 = __builtin_bswap32(ip.daddr);
		h = ip.saddr ^ ip.daddr;
		if (!(ip.frag_off & __builtin_bswap16(0x3fff)))
			l4 = off + ip.ihl * 4;
		if (l4 && ip.ihl == 5) {
#pragma unroll
			for (i = 0; i < 10; i++)
				hs += hw[i];
			/* pseudo header: addresses, protocol, L4 length */
			ps = hw[6] + hw[7] + hw[8] + hw[9] +
			     __builtin_bswap16((__u16)ip.protocol) +
			     __builtin_bswap16((__u16)(__builtin_bswap16(ip.tot_len) - 20));
			if (ip.protocol == IPPROTO_ICMP)
				ps = 0, f->csum_ok = 1;
			else
				f->csum_ok = ip.protocol == IPPROTO_TCP ||
					     ip.protocol == IPPROTO_UDP;
		}
	} else if ((v >> 4) == 6) {
		struct ipv6hdr ip6;
		__u16 *aw = (__u16 *)&ip6.saddr;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return -1;
		f->ethertype = ETH_P_IPV6;
		f->proto = ip6.nexthdr;
		f->ilen = __builtin_bswap16(ip6.payload_len) + sizeof(ip6);
		f->daddr4 = 0;
		__builtin_memcpy(w, &ip6.saddr, 32);
#pragma unroll
		for (i = 0; i < 4; i++)
			h ^= w[i] ^ w[i + 4];
		l4 = off + sizeof(ip6);
#pragma unroll
		for (i = 0; i < 16; i++)
			ps += aw[i];
		hs = ps + ((__u16 *)&ip6)[0] + ((__u16 *)&ip6)[1] +
		     ((__u16 *)&ip6)[2] + ((__u16 *)&ip6)[3];
		ps += ip6.payload_len + __builtin_bswap16((__u16)ip6.nexthdr);
		f->csum_ok = ip6.nexthdr == IPPROTO_TCP || ip6.nexthdr == IPPROTO_UDP ||
			     ip6.nexthdr == 58;
	} else {
		return -1;
	}
	if (l4 && (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP ||
	    f->proto == IPPROTO_SCTP))
		bpf_skb_load_bytes(skb, l4, ports, 4);
	if (f->csum_ok && f->proto == IPPROTO_UDP) {
		/* a UDP checksum of 0 (IPv4: none) says nothing */
		if (bpf_skb_load_bytes(skb, l4 + 6, &l4sum, 2) || l4sum == 0)
			f->csum_ok = 0;
	}
	f->isum = hs + (__u16)~fold32(ps);
	h = mix(h * 0x9e3779b1 + ((__u32)(ports[0] ^ ports[1]) << 8) + f->proto);
	f->cookie = h ? h : 1;
	f->sport = (__u16)(SPORT_BASE + h % (65536 - SPORT_BASE));
	if (f->sport == GENEVE_PORT)
		f->sport = SPORT_BASE;
	return 0;
}

struct geneve_aws {
	__u8	ver_optlen;
	__u8	flags;
	__be16	proto;
	__be32	vni;
	__be16	c1;
	__u8	t1, l1;
	__be32	eni[2];
	__be16	c2;
	__u8	t2, l2;
	__be32	att[2];
	__be16	c3;
	__u8	t3, l3;
	__be32	cookie;
} __attribute__((packed));

struct encap {
	struct iphdr	ip;
	struct udphdr	udp;
	struct geneve_aws g;
} __attribute__((packed));

INLINE void geneve_fill(struct geneve_aws *g, const struct flow *f)
{
	g->ver_optlen = (GENEVE_LEN - 8) / 4;
	g->flags = 0;
	g->proto = __builtin_bswap16(f->ethertype);
	g->vni = 0;
	g->c1 = g->c2 = g->c3 = __builtin_bswap16(AWS_CLASS);
	g->t1 = 1; g->l1 = 2;
	g->eni[0] = __builtin_bswap32((__u32)(ENI_ID >> 32));
	g->eni[1] = __builtin_bswap32((__u32)ENI_ID);
	g->t2 = 2; g->l2 = 2;
	g->att[0] = __builtin_bswap32((__u32)(ATTACH_ID >> 32));
	g->att[1] = __builtin_bswap32((__u32)ATTACH_ID);
	g->t3 = 3; g->l3 = 1;
	g->cookie = __builtin_bswap32(f->cookie);
}

/* The outer UDP checksum of e (its check field taken as 0) around the
 * inner packet f describes: the pseudo header, the UDP and GENEVE headers
 * and the inner packet's sum (inner_flow). */
INLINE __u16 outer_csum(const struct encap *e, const struct flow *f)
{
	__u16 ew[ENCAP_LEN / 2], ck;
	__u32 sum, i;

	__builtin_memcpy(ew, e, ENCAP_LEN);
	ew[13] = 0;			/* udp.check */
	sum = ew[6] + ew[7] + ew[8] + ew[9] + __builtin_bswap16(IPPROTO_UDP) +
	      e->udp.len + f->isum;
#pragma unroll
	for (i = 10; i < ENCAP_LEN / 2; i++)
		sum += ew[i];
	ck = csum_fold(sum);
	return ck ? ck : 0xffff;
}

/*
 * Route what is in skb at L3 now (after ETH_LEN): a FIB lookup and a
 * redirect.  Without a resolved neighbour: the stack (stack_ok, a packet
 * the GWLB namespace may forward) or a counted drop (an encapsulated one:
 * its outer source is the namespace's own address, which the stack would
 * refuse; the lab makes the appliance's neighbour entry permanent).
 */
INLINE int route(struct __sk_buff *skb, __u16 ethertype, int stack_ok)
{
	struct bpf_fib_lookup fib = {};
	long r;

	fib.ifindex = skb->ingress_ifindex;
	if (ethertype == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_LEN, &ip, sizeof(ip)))
			return TC_ACT_SHOT;
		fib.family = 2;		/* AF_INET */
		fib.tos = ip.tos;
		fib.l4_protocol = ip.protocol;
		fib.ipv4_src = ip.saddr;
		fib.ipv4_dst = ip.daddr;
	} else {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_LEN, &ip6, sizeof(ip6)))
			return TC_ACT_SHOT;
		fib.family = 10;	/* AF_INET6 */
		fib.l4_protocol = ip6.nexthdr;
		__builtin_memcpy(fib.ipv6_src, &ip6.saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6.daddr, 16);
	}
	/* tot_len 0: the MTU check is the stack's, which knows GSO packets. */
	r = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (r != BPF_FIB_LKUP_RET_SUCCESS) {
		count(stack_ok ? S_TO_STACK : S_NO_ROUTE, 1);
		return stack_ok ? TC_ACT_OK : TC_ACT_SHOT;
	}
	if (bpf_skb_store_bytes(skb, 0, fib.dmac, 6, 0) ||
	    bpf_skb_store_bytes(skb, 6, fib.smac, 6, 0))
		return TC_ACT_SHOT;
	return bpf_redirect(fib.ifindex, 0);
}

SEC("encap")
int gwtc_encap(struct __sk_buff *skb)
{
	struct encap e = {};
	struct iphdr ip = {};
	struct flow f;
	__be16 eth_ip = __builtin_bswap16(ETH_P_IP);
	__u64 flags;

	if (skb->protocol != __builtin_bswap16(ETH_P_IP) &&
	    skb->protocol != __builtin_bswap16(ETH_P_IPV6)) {
		count(S_PASS, 1);
		return TC_ACT_OK;
	}
	if (inner_flow(skb, ETH_LEN, &f)) {
		count(S_BAD_INNER, 1);
		return TC_ACT_OK;
	}
	/* What the client or server says to the GWLB namespace itself. */
	if (f.ethertype == ETH_P_IP &&
	    (f.daddr4 == LOCAL4_A || f.daddr4 == LOCAL4_B || f.daddr4 == GWLB_ADDR)) {
		count(S_PASS, 1);
		return TC_ACT_OK;
	}
	if (f.ethertype == ETH_P_IPV6) {
		__u8 d0, t;
		__u32 d[4];

		/* the namespace's own 2001:db8:1::1 and 2001:db8:2::1 */
		if (!bpf_skb_load_bytes(skb, ETH_LEN + 24, d, 16) &&
		    d[0] == __builtin_bswap32(0x20010db8) && d[2] == 0 &&
		    d[3] == __builtin_bswap32(1) &&
		    (d[1] == __builtin_bswap32(0x00010000) || d[1] == __builtin_bswap32(0x00020000))) {
			count(S_PASS, 1);
			return TC_ACT_OK;
		}

		/* link-local and multicast destinations: neighbour
		 * discovery, router solicitations and the like */
		if (bpf_skb_load_bytes(skb, ETH_LEN + 24, &d0, 1))
			return TC_ACT_OK;
		if (d0 == 0xff || (d0 == 0xfe) ||
		    (f.proto == 58 && !bpf_skb_load_bytes(skb, ETH_LEN + 40, &t, 1) &&
		    t >= 133 && t <= 137)) {
			count(S_PASS, 1);
			return TC_ACT_OK;
		}
	}

	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = __builtin_bswap16((__u16)(skb->len - ETH_LEN + ENCAP_LEN));
	ip.ttl = 255;
	ip.protocol = IPPROTO_UDP;
	ip.saddr = __builtin_bswap32(GWLB_ADDR);
	ip.daddr = __builtin_bswap32(APPL_ADDR);
	ip.check = csum_fold(ip4_hdr_sum(&ip));
	__builtin_memcpy(&e.ip, &ip, sizeof(ip));
	e.udp.source = __builtin_bswap16(f.sport);
	e.udp.dest = __builtin_bswap16(GENEVE_PORT);
	e.udp.len = __builtin_bswap16((__u16)(skb->len - ETH_LEN + ENCAP_LEN - 20));
	geneve_fill(&e.g, &f);
	if (f.csum_ok && skb->gso_segs <= 1) {
		e.udp.check = outer_csum(&e, &f);
		count(S_ENCAP_CSUM, 1);
	}

	/* A single packet is not made a tunnel packet (skb->encapsulation
	 * would follow it across the veth and keep UDP GRO off there); a
	 * super-packet has to be, for the GWLB link to cut it. */
	flags = 0;
	if (skb->gso_segs > 1) {
		flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 |
			BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2(GENEVE_LEN);
		count(S_ENCAP_GSO, 1);
		count(S_ENCAP_SEGS, skb->gso_segs);
	}
	if (bpf_skb_adjust_room(skb, ENCAP_LEN, BPF_ADJ_ROOM_MAC, flags)) {
		count(S_ERROR, 1);
		return TC_ACT_SHOT;
	}
	if (bpf_skb_store_bytes(skb, ETH_LEN, &e, sizeof(e), 0) ||
	    bpf_skb_store_bytes(skb, 12, &eth_ip, 2, 0)) {
		count(S_ERROR, 1);
		return TC_ACT_SHOT;
	}
	count(S_ENCAP, 1);
	return route(skb, ETH_P_IP, 0);
}

SEC("decap")
int gwtc_decap(struct __sk_buff *skb)
{
	struct encap e, want = {};
	struct flow f;
	__u32 tot, ulen;
	__be16 eth;
	__u64 flags;

	if (skb->protocol != __builtin_bswap16(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_LEN, &e, sizeof(e)) ||
	    e.ip.protocol != IPPROTO_UDP || e.ip.ihl != 5 ||
	    (e.udp.dest != __builtin_bswap16(GENEVE_PORT) &&
	     e.udp.source != __builtin_bswap16(GENEVE_PORT)) ||
	    e.ip.daddr != __builtin_bswap32(GWLB_ADDR)) {
		/* not GENEVE to GWLB */
		count(S_PASS, 1);
		return TC_ACT_OK;
	}
	if (skb->gso_segs > 1) {
		count(S_BAD_GSO, 1);
		return TC_ACT_SHOT;
	}
	if (e.ip.saddr != __builtin_bswap32(APPL_ADDR) ||
	    e.udp.dest != __builtin_bswap16(GENEVE_PORT) ||
	    (e.ip.frag_off & __builtin_bswap16(0x3fff)) || e.ip.ttl <= 1) {
		count(S_BAD_OUTER, 1);
		return TC_ACT_SHOT;
	}
	tot = __builtin_bswap16(e.ip.tot_len);
	ulen = __builtin_bswap16(e.udp.len);
	if (tot != skb->len - ETH_LEN || ulen != tot - 20) {
		count(S_BAD_LENGTH, 1);
		return TC_ACT_SHOT;
	}
	if (csum_fold(ip4_hdr_sum(&e))) {
		count(S_BAD_CSUM, 1);
		return TC_ACT_SHOT;
	}
	if ((e.g.ver_optlen & 0xc0) || (e.g.ver_optlen & 0x3f) != (GENEVE_LEN - 8) / 4 ||
	    e.g.vni != 0 || e.g.flags != 0 ||
	    e.g.c1 != __builtin_bswap16(AWS_CLASS) || e.g.t1 != 1 || e.g.l1 != 2 ||
	    e.g.c2 != __builtin_bswap16(AWS_CLASS) || e.g.t2 != 2 || e.g.l2 != 2 ||
	    e.g.c3 != __builtin_bswap16(AWS_CLASS) || e.g.t3 != 3 || e.g.l3 != 1) {
		count(S_BAD_GENEVE, 1);
		return TC_ACT_SHOT;
	}
	if (inner_flow(skb, ETH_LEN + ENCAP_LEN, &f)) {
		count(S_BAD_INNER, 1);
		return TC_ACT_SHOT;
	}
	if (f.ilen != ulen - 8 - GENEVE_LEN) {
		/* bytes after the inner packet, or fewer than it says */
		count(S_BAD_LENGTH, 1);
		return TC_ACT_SHOT;
	}
	geneve_fill(&want.g, &f);
	if (e.g.proto != want.g.proto) {
		count(S_BAD_GENEVE, 1);
		return TC_ACT_SHOT;
	}
	if (e.udp.source != __builtin_bswap16(f.sport)) {
		count(S_BAD_OUTER, 1);
		return TC_ACT_SHOT;
	}
	if (e.g.eni[0] != want.g.eni[0] || e.g.eni[1] != want.g.eni[1]) {
		count(S_BAD_ENI, 1);
		return TC_ACT_SHOT;
	}
	if (e.g.att[0] != want.g.att[0] || e.g.att[1] != want.g.att[1]) {
		count(S_BAD_ATTACH, 1);
		return TC_ACT_SHOT;
	}
	if (e.g.cookie != want.g.cookie) {
		count(S_BAD_COOKIE, 1);
		return TC_ACT_SHOT;
	}
	/* The UDP checksum, where inner_flow could sum the inner packet
	 * (0: none, as IPv4 allows). */
	if (e.udp.check && f.csum_ok && e.udp.check != outer_csum(&e, &f)) {
		count(S_BAD_CSUM, 1);
		return TC_ACT_SHOT;
	}
	/* An IPv4 packet stays IPv4: no flag, which kernels before 6.3 lack. */
	flags = f.ethertype == ETH_P_IP ? 0 : BPF_F_ADJ_ROOM_DECAP_L3_IPV6;
	if (bpf_skb_adjust_room(skb, -ENCAP_LEN, BPF_ADJ_ROOM_MAC, flags)) {
		count(S_ERROR, 1);
		return TC_ACT_SHOT;
	}
	eth = __builtin_bswap16(f.ethertype);
	if (bpf_skb_store_bytes(skb, 12, &eth, 2, 0)) {
		count(S_ERROR, 1);
		return TC_ACT_SHOT;
	}
	count(S_DECAP, 1);
	return route(skb, f.ethertype, 1);
}

/*
 * Section "reflect", on the appliance's GWLB link (ingress), in place of an
 * appliance: each GENEVE datagram to it goes back as GWLB needs a reply
 * (the outer addresses and MAC addresses swapped, the UDP ports and the
 * whole GENEVE datagram kept, TTL 64), with no userspace in the way: the
 * lab's ceiling for what the GWLB program itself can carry.  The UDP
 * checksum stays right (the pseudo header's sum does not change when the
 * addresses trade places).
 */
SEC("reflect")
int gwtc_reflect(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr uh;
	__u8 mac[12], swapped[12];
	__u32 a;

	if (skb->protocol != __builtin_bswap16(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_LEN, &ip, sizeof(ip)) ||
	    ip.ihl != 5 || ip.protocol != IPPROTO_UDP ||
	    bpf_skb_load_bytes(skb, ETH_LEN + 20, &uh, sizeof(uh)) ||
	    uh.dest != __builtin_bswap16(GENEVE_PORT) ||
	    ip.daddr != __builtin_bswap32(APPL_ADDR)) {
		count(S_PASS, 1);
		return TC_ACT_OK;
	}
	if (skb->gso_segs > 1) {
		count(S_BAD_GSO, 1);
		return TC_ACT_SHOT;
	}
	a = ip.saddr;
	ip.saddr = ip.daddr;
	ip.daddr = a;
	ip.ttl = 64;
	ip.check = 0;
	ip.check = csum_fold(ip4_hdr_sum(&ip));
	if (bpf_skb_load_bytes(skb, 0, mac, 12))
		return TC_ACT_SHOT;
	__builtin_memcpy(swapped, mac + 6, 6);
	__builtin_memcpy(swapped + 6, mac, 6);
	if (bpf_skb_store_bytes(skb, 0, swapped, 12, 0) ||
	    bpf_skb_store_bytes(skb, ETH_LEN, &ip, sizeof(ip), 0)) {
		count(S_ERROR, 1);
		return TC_ACT_SHOT;
	}
	count(S_REFLECT, 1);
	return bpf_redirect(skb->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
