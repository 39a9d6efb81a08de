/*
 * Return traffic.  On receive, the flow of every inbound packet is learnt
 * (GENEVE header as received, GWLB's address and source port, the address
 * GWLB sent to).  Tunnel workers read replies from the gwi-/gwo- queues,
 * find the flow (as is or reversed; ICMP errors through the packet they
 * quote, unless it came in through GWLB itself; later fragments through the
 * table of pinned headers below), put the stored
 * GENEVE header in front unchanged, add an outer IPv4/UDP header (source =
 * the address GWLB sent to, destination = GWLB, ports as GWLB sent them:
 * source = GWLB's source port, destination = 6081; TTL 64, DF, both checksums
 * computed) and send batches with sendmmsg on a raw socket.  A queue with
 * offloads (--offload) may hand back a TCP or UDP super-packet, or a packet
 * whose checksum is left to finish: it is cut into packets of at most
 * gso_size payload (lib/gso.c), all of one flow, found once; GWLB takes
 * one inner packet per datagram.
 *
 * With --offload, the segments of one super-packet (one flow, one GENEVE
 * header, equal sizes but the last) leave in one write on a packet socket
 * with PACKET_VNET_HDR: [Ethernet][IPv4][UDP][GENEVE + segment]..., a UDP
 * GSO super-packet the kernel cuts into one datagram per segment at the
 * device (or hands whole to a UDP_GRO receiver on a veth), with the same
 * outer fields as the raw path; the IP id advances per datagram.  Layer 2
 * comes from the kernel's tables through the manager (nh_table.h): a
 * reply worker only reads the shared table, never calls netlink.  Without
 * a usable entry (a new pair is asked for and the manager woken), or on
 * any error, the segments go by the raw socket as before, counted by
 * reason; the raw path resolves the neighbour, so the next refresh finds
 * it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "flow.h"
#include "gso.h"
#include "clock.h"
#include "eni_table.h"
#include "state.h"
#include "worker.h"
#include "log.h"
#include "pkt.h"
#include "reply.h"
#include "tun.h"
#include "nh_table.h"

#define REPLY_BATCH	64
/* A UDP GSO write's segments at most: UDP_MAX_SEGMENTS on older kernels
 * (128 on newer), which refuse more with EINVAL, taken for an old kernel. */
#define USO_MAX_SEGS	64
#define OUTER_LEN	(20 + 8)
#define HEADROOM	(OUTER_LEN + GENEVE_MAX_HDR_LEN)
#define GWLB_MTU	8500	/* GWLB drops anything larger, silently */
/* A TUN read: the virtio_net_hdr and the largest super-packet (64 KiB). */
#define SUPER_LEN	(TUN_VNET_HDR_LEN + 65536)

struct reply_state {
	int		raw;
	unsigned	widx;		/* the worker's index: its pinned-header table */
	unsigned	n;
	size_t		slot_size;
	uint8_t		*bufs;
	uint16_t	ip_id;
	uint8_t		*super;		/* what is cut or finished, whole */
	struct {
		struct flow_hdr h;
		uint8_t geneve[GENEVE_MAX_HDR_LEN];
	} frag_hdr;			/* a later fragment's header, found */
	struct mmsghdr	msgs[REPLY_BATCH];
	struct iovec	iov[REPLY_BATCH];
	struct sockaddr_in dst[REPLY_BATCH];
	struct eni	*eni[REPLY_BATCH];
	uint32_t	inner_len[REPLY_BATCH];
	bool		seg[REPLY_BATCH];	/* a segment of a super-packet */
	/* --offload: the packet socket, the next hop, one write's headers */
	int		pkt;
	bool		no_kernel_uso;	/* the kernel refused UDP GSO: pkt closed */
	struct nl_nexthop nh;		/* this write's, from nh_table */
	uint8_t		uso_hdr[GSO_USO_HDR];
	struct iovec	uso_iov[REPLY_BATCH + 1];
};

/*
 * Pinned headers: a header found by a packet's identity rather than its
 * flow.  A later fragment carries no ports, so no flow: its header is
 * found through the fragment's identity (ENI, family, protocol, addresses,
 * IP id), learnt
 *  - on the way in: every inbound fragment, first or later, with the
 *    GENEVE header it came with.  An appliance forwards a fragment as it
 *    is, so the fragments it sends back find their header in whatever
 *    order they come, the first one missing or not;
 *  - on the way back: a reply's first fragment, with its flow's header,
 *    for the later fragments of the reply.
 * An ICMP error that came in through GWLB is pinned the same way, by its
 * own addresses and a hash of its ICMP message: forwarded back by the
 * appliance, it leaves with its own header, not the quoted flow's.
 * Each worker learns into a table of its own (PIN_SETS x PIN_WAYS
 * entries, each for PIN_TTL_NS, the oldest of its set replaced), made at
 * its first such packet; only that worker writes it, reply workers read
 * every table.  An entry is written under a sequence counter (a seqlock of
 * atomic words): no lock, a reader that meets a write in progress misses.
 */
#define PIN_SETS	64
#define PIN_WAYS	4
#define PIN_TTL_NS	(5ull * 1000000000ull)

struct pin_key {
	uint64_t	eni_id;
	uint32_t	id;		/* the IP id; an ICMP error: a hash of it */
	uint8_t		family, proto, kind, pad;
	uint8_t		src[16], dst[16];
};

enum { PIN_FRAG, PIN_ICMP_ERROR };	/* pin_key.kind */

#define PIN_KEY_WORDS	(sizeof(struct pin_key) / 8)
#define PIN_HDR_WORDS	((sizeof(struct flow_hdr) + GENEVE_MAX_HDR_LEN + 7) / 8)
_Static_assert(sizeof(struct pin_key) % 8 == 0, "pin_key in words");

struct pin_slot {
	_Atomic uint32_t seq;			/* odd while written */
	_Atomic uint64_t key[PIN_KEY_WORDS];
	_Atomic uint64_t expires_ns;
	_Atomic uint64_t hdr[PIN_HDR_WORDS];	/* struct flow_hdr + its header */
};

struct pin_table {
	struct pin_slot set[PIN_SETS][PIN_WAYS];
};

static _Atomic(struct pin_table *) pin_tables[MAX_WORKERS];

static struct log_rl rl_noflow = LOG_RL_INIT(10, 5);
static struct log_rl rl_send = LOG_RL_INIT(10, 5);
/* debugdetail's dumps of packets read from the links, as upstream's "Tun Packet". */
static struct log_rl rl_dump = LOG_RL_INIT(1, 20);

int
reply_init(void)
{
	flow_set_retire(qsbr_retire);
	flow_set_timeouts((uint64_t)conf.tcp_idle_s * 1000000000ull,
	    (uint64_t)conf.udp_idle_s * 1000000000ull);
	return 0;
}

static void
frag_key_of(const struct eni *e, const struct pkt_info *pi, uint64_t kw[PIN_KEY_WORDS])
{
	struct pin_key k = {
		.eni_id = e->id, .id = pi->frag_id, .family = pi->key.family,
		.proto = pi->key.proto, .kind = PIN_FRAG,
	};

	memcpy(k.src, pi->key.src, 16);
	memcpy(k.dst, pi->key.dst, 16);
	memcpy(kw, &k, sizeof(k));
}

/*
 * An ICMP error's identity: its own addresses (not the quote's) and a hash
 * of the ICMP message, type, code, checksum and quote, which a router
 * forwarding it leaves as they are (it changes only the IP header's TTL).
 */
static void
icmp_error_key_of(const struct eni *e, const uint8_t *p, size_t len,
    const struct pkt_info *pi, uint64_t kw[PIN_KEY_WORDS])
{
	struct pin_key k = { .eni_id = e->id, .kind = PIN_ICMP_ERROR };
	size_t end = pi->tot_len < len ? pi->tot_len : len;
	uint32_t h = 2166136261u;		/* FNV-1a */

	if (p[0] >> 4 == 4) {
		k.family = 4;
		k.proto = IPPROTO_ICMP;
		memcpy(k.src, p + 12, 4);
		memcpy(k.dst, p + 16, 4);
	} else {
		k.family = 6;
		k.proto = IPPROTO_ICMPV6;
		memcpy(k.src, p + 8, 16);
		memcpy(k.dst, p + 24, 16);
	}
	if (end > pi->l3_len + 8u + 128u)
		end = pi->l3_len + 8u + 128u;
	for (size_t i = pi->l3_len; i < end; i++)
		h = (h ^ p[i]) * 16777619u;
	k.id = h;
	memcpy(kw, &k, sizeof(k));
}

static unsigned
pin_set_of(const uint64_t kw[PIN_KEY_WORDS])
{
	uint64_t h = 0;

	for (size_t i = 0; i < PIN_KEY_WORDS; i++)
		h = (h ^ kw[i]) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 58) % PIN_SETS;
}

/* Worker widx learns: the packet of identity kw has header h until now + PIN_TTL_NS. */
static void
pin_put(unsigned widx, const uint64_t kw[PIN_KEY_WORDS], const struct flow_hdr *h,
    uint64_t now)
{
	struct pin_table *t = atomic_load_explicit(&pin_tables[widx], memory_order_relaxed);
	uint64_t hw[PIN_HDR_WORDS] = { 0 }, oldest = UINT64_MAX;
	struct pin_slot *set, *s = NULL;
	size_t nw = (sizeof(*h) + h->len + 7) / 8;
	uint32_t seq;

	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return;		/* missed: its later fragments count no-flow */
		atomic_store_explicit(&pin_tables[widx], t, memory_order_release);
	}
	set = t->set[pin_set_of(kw)];
	/* The same fragment's entry, else the one that expires first. */
	for (unsigned i = 0; i < PIN_WAYS; i++) {
		uint64_t x = atomic_load_explicit(&set[i].expires_ns, memory_order_relaxed);
		bool same = x != 0;

		for (size_t j = 0; j < PIN_KEY_WORDS && same; j++)
			same = atomic_load_explicit(&set[i].key[j], memory_order_relaxed) == kw[j];
		if (same) {
			s = &set[i];
			break;
		}
		if (x < oldest) {
			oldest = x;
			s = &set[i];
		}
	}
	memcpy(hw, h, sizeof(*h) + h->len);
	seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t j = 0; j < PIN_KEY_WORDS; j++)
		atomic_store_explicit(&s->key[j], kw[j], memory_order_relaxed);
	atomic_store_explicit(&s->expires_ns, now + PIN_TTL_NS, memory_order_relaxed);
	for (size_t j = 0; j < nw; j++)
		atomic_store_explicit(&s->hdr[j], hw[j], memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* The header table t holds for identity kw, into out. */
static bool
pin_get(const struct pin_table *t, const uint64_t kw[PIN_KEY_WORDS], uint64_t now,
    struct flow_hdr *out)
{
	const struct pin_slot *set = t->set[pin_set_of(kw)];

	for (unsigned i = 0; i < PIN_WAYS; i++) {
		const struct pin_slot *s = &set[i];
		uint64_t hw[PIN_HDR_WORDS];
		uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		bool same = !(seq & 1) &&
		    atomic_load_explicit(&s->expires_ns, memory_order_relaxed) > now;
		struct flow_hdr h;
		size_t nw;

		for (size_t j = 0; j < PIN_KEY_WORDS && same; j++)
			same = atomic_load_explicit(&s->key[j], memory_order_relaxed) == kw[j];
		if (!same)
			continue;
		hw[0] = atomic_load_explicit(&s->hdr[0], memory_order_relaxed);
		hw[1] = atomic_load_explicit(&s->hdr[1], memory_order_relaxed);
		memcpy(&h, hw, sizeof(h));
		if (h.len > GENEVE_MAX_HDR_LEN)
			continue;	/* torn: the check below would say so */
		nw = (sizeof(h) + h.len + 7) / 8;
		for (size_t j = 2; j < nw; j++)
			hw[j] = atomic_load_explicit(&s->hdr[j], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
			continue;
		memcpy(out, hw, sizeof(h) + h.len);
		return true;
	}
	return false;
}

/* The header pinned to kw: the reply worker's own table first, then all. */
static bool
pin_find(unsigned widx, const uint64_t kw[PIN_KEY_WORDS], uint64_t now,
    struct flow_hdr *out)
{
	unsigned n = D.n_rx + D.n_tun;
	const struct pin_table *t;

	t = atomic_load_explicit(&pin_tables[widx], memory_order_acquire);
	if (t && pin_get(t, kw, now, out))
		return true;
	for (unsigned i = 0; i < n && i < MAX_WORKERS; i++) {
		if (i == widx)
			continue;
		t = atomic_load_explicit(&pin_tables[i], memory_order_acquire);
		if (t && pin_get(t, kw, now, out))
			return true;
	}
	return false;
}

void
reply_learn(struct eni *e, struct worker *w, const struct geneve_pkt *g,
    const uint8_t *buf, const struct sockaddr_in *src, const struct in_addr *dst,
    uint64_t now)
{
	struct {
		struct flow_hdr h;
		uint8_t geneve[GENEVE_MAX_HDR_LEN];
	} fh;
	struct pkt_info pi;
	uint64_t kw[PIN_KEY_WORDS];

	if (pkt_parse(g->inner, g->inner_len, &pi) != PKT_OK)
		return;
	fh.h.gwlb_addr = src->sin_addr.s_addr;
	fh.h.gwlb_port = src->sin_port;
	fh.h.local_addr = dst->s_addr;
	fh.h.local_port = htons((uint16_t)conf.geneve_port);
	fh.h.len = g->hdr_len;
	memcpy(fh.h.geneve, buf, g->hdr_len);
	/* An ICMP error is no flow: should the appliance forward it, it goes
	 * back with the header it came with, not that of the flow it quotes. */
	if (pi.icmp_error && pi.frag == PKT_FRAG_NONE) {
		icmp_error_key_of(e, g->inner, g->inner_len, &pi, kw);
		pin_put(w->idx, kw, &fh.h, now);
		return;
	}
	if (pi.frag != PKT_FRAG_NONE) {
		frag_key_of(e, &pi, kw);
		pin_put(w->idx, kw, &fh.h, now);
	}
	/* Later fragments carry no ports: no flow of their own. */
	if (pi.frag != PKT_FRAG_LATER && !pi.icmp_error)
		flow_learn(e->flows, &pi.key, &fh.h, now);
}

/*
 * The packet socket: sends only (protocol 0 receives nothing), each write
 * with a virtio_net_hdr in front.  Without it (an old kernel, no
 * CAP_NET_RAW) every super-packet goes raw, counted "unresolved".
 */
static void
reply_packet_open(struct reply_state *st)
{
	int one = 1;

	st->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (st->pkt >= 0 && setsockopt(st->pkt, SOL_PACKET, PACKET_VNET_HDR, &one,
	    sizeof(one)) < 0) {
		close(st->pkt);
		st->pkt = -1;
	}
	if (st->pkt < 0)
		log_msg(LOG_TUNNEL, LOG_IMPORTANT, "packet socket for replies: %s; "
		    "super-packets go back one datagram per write", strerror(errno));
}

int
reply_worker_init(struct worker *w)
{
	struct reply_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (st->raw < 0) {
		log_msg(LOG_TUNNEL, LOG_CRITICAL, "raw socket for replies: %s", strerror(errno));
		free(st);
		return -errno;
	}
	st->slot_size = HEADROOM + conf.mtu + 64;
	st->bufs = aligned_alloc(64, st->slot_size * REPLY_BATCH + 64 - (st->slot_size * REPLY_BATCH) % 64);
	/* The slot's part of a super-packet is copied in front of the rest. */
	st->super = malloc(st->slot_size - HEADROOM + SUPER_LEN);
	if (!st->bufs || !st->super) {
		close(st->raw);
		free(st->bufs);
		free(st->super);
		free(st);
		return -ENOMEM;
	}
	st->ip_id = (uint16_t)(w->kidx << 12);
	st->widx = w->idx;
	st->pkt = -1;
	if (conf.offload)
		reply_packet_open(st);
	w->reply = st;
	return 0;
}

void
reply_worker_fini(struct worker *w)
{
	struct reply_state *st = w->reply;

	if (!st)
		return;
	close(st->raw);
	if (st->pkt >= 0)
		close(st->pkt);
	free(st->bufs);
	free(st->super);
	free(st);
	w->reply = NULL;
}

/*
 * Traffic that never leaves its link: IPv6 from :: or fe80::/10 or to
 * ff02::/16 (MLD reports, router solicitations the kernel sends on its
 * own), IPv4 to 224.0.0.0/24 or the broadcast address.  GWLB carries none
 * of it, so without a flow it is counted apart from real replies.
 */
static bool
link_local(const struct pkt_key *k)
{
	static const uint8_t any6[16];

	if (k->family == 6)
		return memcmp(k->src, any6, 16) == 0 ||
		    (k->src[0] == 0xfe && (k->src[1] & 0xc0) == 0x80) ||
		    (k->dst[0] == 0xff && (k->dst[1] & 0x0f) <= 2);
	return (k->dst[0] == 224 && k->dst[1] == 0 && k->dst[2] == 0) ||
	    memcmp(k->dst, "\xff\xff\xff\xff", 4) == 0;
}

/* A virtio_net_hdr that asks nothing of us: no GSO, no checksum to finish. */
static bool
vnet_plain(const uint8_t *h)
{
	struct gso_vnet v;

	gso_vnet_read(h, &v);
	return v.gso_type == 0 && v.flags == 0;
}

static void
reply_drop(struct worker *w, struct eni *e, enum drop_reason why)
{
	STAT_ADD(w->stats.drops[why], 1);
	STAT_ADD(e->stats[w->idx].drops, 1);
	eni_drop_count(e, why, 1);
}

/*
 * The flow of the inner packet [inner, inner + len): its header, or NULL
 * with *why set (DROP__MAX: link-local chatter, counted apart).
 */
static const struct flow_hdr *
reply_flow(struct reply_state *st, struct eni *e, bool out, const uint8_t *inner, size_t len,
    uint64_t now, enum drop_reason *why)
{
	uint64_t kw[PIN_KEY_WORDS];
	const struct flow_hdr *h;
	struct pkt_info pi;

	if (pkt_parse(inner, len, &pi) != PKT_OK) {
		*why = DROP_REPLY_BAD;
		return NULL;
	}
	if (pi.frag == PKT_FRAG_LATER) {
		frag_key_of(e, &pi, kw);
		if (!pin_find(st->widx, kw, now, &st->frag_hdr.h)) {
			*why = DROP_NO_FLOW;
			return NULL;
		}
		return &st->frag_hdr.h;
	}
	/* An ICMP error that came in through GWLB goes back as it came. */
	if (pi.icmp_error && pi.frag == PKT_FRAG_NONE) {
		icmp_error_key_of(e, inner, len, &pi, kw);
		if (pin_find(st->widx, kw, now, &st->frag_hdr.h))
			return &st->frag_hdr.h;
	}
	h = flow_lookup(e->flows, &pi.key, now);
	if (!h && link_local(&pi.key)) {
		*why = DROP__MAX;
		return NULL;
	}
	if (!h) {
		if (log_enabled(LOG_TUNNEL, LOG_DEBUG)) {
			char k[PKT_KEY_STRLEN];

			pkt_key_format(&pi.key, k, sizeof(k));
			log_rl(&rl_noflow, LOG_TUNNEL, LOG_DEBUG, "%s: no flow for %s%s",
			    out ? e->if_out : e->if_in, k, pi.icmp_error ? " (quoted by an ICMP error)" : "");
		}
		*why = DROP_NO_FLOW;
		return NULL;
	}
	if (pi.frag == PKT_FRAG_FIRST) {
		frag_key_of(e, &pi, kw);
		pin_put(st->widx, kw, h, now);
	}
	return h;
}

static void
reply_refuse(struct worker *w, struct eni *e, enum drop_reason why)
{
	/* Counted by reason only: link-local traffic is the kernel's own
	 * chatter, not the ENI's traffic, so its drops stay at 0. */
	if (why == DROP__MAX)
		STAT_ADD(w->stats.drops[DROP_LINK_LOCAL], 1);
	else
		reply_drop(w, e, why);
}

/* The flow's GENEVE header h in front of the inner packet in slot st->n
 * (at bufs + slot + HEADROOM, len bytes); the slot taken. */
static void
reply_geneve(struct reply_state *st, struct eni *e, const struct flow_hdr *h, size_t len,
    bool seg)
{
	uint8_t *inner = st->bufs + st->n * st->slot_size + HEADROOM;

	memcpy(inner - h->len, h->geneve, h->len);
	st->eni[st->n] = e;
	st->inner_len[st->n] = (uint32_t)len;
	st->seg[st->n] = seg;
	st->n++;
}

/* The outer headers of slot i (GENEVE header h in place), queued for sendmmsg. */
static void
reply_outer(struct reply_state *st, unsigned i, const struct flow_hdr *h)
{
	uint8_t *inner = st->bufs + i * st->slot_size + HEADROOM;
	size_t len = st->inner_len[i];
	uint8_t *p;
	size_t udp_len, tot;
	uint32_t sum;

	p = inner - h->len - OUTER_LEN;
	udp_len = 8 + h->len + len;
	tot = 20 + udp_len;

	/* Outer IPv4: TTL 64, DF, checksum. */
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	st->ip_id++;
	p[4] = (uint8_t)(st->ip_id >> 8);
	p[5] = (uint8_t)st->ip_id;
	p[6] = 0x40;
	p[7] = 0;
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	p[10] = p[11] = 0;
	memcpy(p + 12, &h->local_addr, 4);
	memcpy(p + 16, &h->gwlb_addr, 4);
	{
		uint16_t c = gso_csum_fold(gso_csum_add(0, p, 20));

		memcpy(p + 10, &c, 2);
	}
	/* UDP: ports kept as GWLB sent them (source = GWLB's source port,
	 * destination = the GENEVE port): that is what GWLB expects back. */
	memcpy(p + 20, &h->gwlb_port, 2);
	memcpy(p + 22, &h->local_port, 2);
	p[24] = (uint8_t)(udp_len >> 8);
	p[25] = (uint8_t)udp_len;
	p[26] = p[27] = 0;
	{
		uint8_t pseudo[12];
		uint16_t c;

		memcpy(pseudo, p + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_UDP;
		pseudo[10] = p[24];
		pseudo[11] = p[25];
		sum = gso_csum_add(0, pseudo, sizeof(pseudo));
		sum = gso_csum_add(sum, p + 20, udp_len);
		c = gso_csum_fold(sum);
		if (c == 0)
			c = 0xffff;	/* 0 would mean "no checksum" */
		memcpy(p + 26, &c, 2);
	}

	st->iov[i].iov_base = p;
	st->iov[i].iov_len = tot;
	st->dst[i] = (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_addr.s_addr = h->gwlb_addr,
	};
	st->msgs[i].msg_hdr = (struct msghdr){
		.msg_name = &st->dst[i],
		.msg_namelen = sizeof(st->dst[i]),
		.msg_iov = &st->iov[i],
		.msg_iovlen = 1,
	};
}

/* Both, for the raw socket. */
static void
reply_encap(struct reply_state *st, struct eni *e, const struct flow_hdr *h, size_t len,
    bool seg)
{
	reply_geneve(st, e, h, len, seg);
	reply_outer(st, st->n - 1, h);
}

/*
 * The kernel has no UDP GSO in packet socket vnet headers: before Linux
 * 6.2, virtio_net_hdr_to_skb knows no VIRTIO_NET_HDR_GSO_UDP_L4 and every
 * write fails with EINVAL after copying up to 64 KB.  Known beforehand
 * when the ENI's TUN links refused USO (TUN_F_USO4 came in the same
 * release), else from the first write's EINVAL.  The worker's packet
 * socket is closed for good; logged once for all workers.
 */
static void
reply_uso_off(struct reply_state *st, const char *how)
{
	static atomic_bool logged;

	if (!atomic_exchange(&logged, true))
		log_msg(LOG_TUNNEL, LOG_IMPORTANT, "%s: this kernel has no UDP GSO in packet "
		    "socket vnet headers (Linux 6.2 and later have it); super-packets go "
		    "back one datagram per write from now on", how);
	close(st->pkt);
	st->pkt = -1;
	st->no_kernel_uso = true;
}

static void reply_send_raw(struct worker *w, struct reply_state *st, unsigned n);

/*
 * Slots first .. st->n - 1 hold one super-packet's segments behind their
 * GENEVE header h: sent on the packet socket in as few writes as fit in
 * 64 KB of IP packet each (a TUN super-packet of 64 KB grows by a GENEVE
 * header per segment), within the egress link's gso_max_size (the frame)
 * and gso_max_segs, and USO_MAX_SEGS, none of one segment only.  Before the first write, slots 0 ..
 * first - 1 go by the raw socket (*wrote set): what was read first leaves
 * first.  *sent: how many segments, from first on, were sent.  Returns why
 * the rest were not (USO_FB_*), or -1.
 */
static int
reply_uso_write(struct worker *w, struct reply_state *st, unsigned first,
    const struct flow_hdr *h, bool partial, uint64_t now, unsigned *sent, unsigned *writes,
    bool *wrote)
{
	unsigned k = st->n - first, per;
	size_t seg = h->len + st->inner_len[first], room;
	const struct nl_nexthop *nh;
	struct gso_uso u;
	struct sockaddr_ll sll;
	int err;

	*sent = *writes = 0;
	*wrote = false;
	if (partial)
		return USO_FB_PARTIAL;
	if (k < 2)
		return USO_FB_ONE_SEGMENT;
	for (unsigned i = first; i < st->n; i++)
		/* Equal sizes but the last, which may be shorter. */
		if (st->inner_len[i] > st->inner_len[first] ||
		    (i + 1 < st->n && st->inner_len[i] != st->inner_len[first]))
			return USO_FB_PARTIAL;
	/* The IP packet <= 65535, the frame <= the link's gso_max_size. */
	per = (unsigned)((65535 - OUTER_LEN) / seg);
	if (per < 3)
		return USO_FB_TOO_BIG;
	/* Missing or failed: raw (the manager asks the kernel). */
	if ((err = nh_table_get(h->gwlb_addr, h->local_addr, now, &st->nh)))
		return err == -EPFNOSUPPORT ? USO_FB_NOT_ETHER : USO_FB_UNRESOLVED;
	nh = &st->nh;
	if (OUTER_LEN + seg > nh->mtu)
		return USO_FB_TOO_BIG;
	room = nh->gso_max_size > GSO_USO_L2 + OUTER_LEN ?
	    nh->gso_max_size - GSO_USO_L2 - OUTER_LEN : 0;
	if (per > room / seg)
		per = (unsigned)(room / seg);
	if (per > nh->gso_max_segs)
		per = nh->gso_max_segs;
	if (per > USO_MAX_SEGS)
		per = USO_MAX_SEGS;
	if (per < 3)
		return USO_FB_TOO_BIG;
	u = (struct gso_uso){
		.saddr = h->local_addr, .daddr = h->gwlb_addr,
		.sport = h->gwlb_port, .dport = h->local_port, .ttl = 64,
	};
	memcpy(u.dst_mac, nh->dst_mac, 6);
	memcpy(u.src_mac, nh->src_mac, 6);
	sll = (struct sockaddr_ll){
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = nh->ifindex, .sll_halen = 6,
	};
	memcpy(sll.sll_addr, nh->dst_mac, 6);
	reply_send_raw(w, st, first);
	*wrote = true;
	while (*sent < k) {
		unsigned left = k - *sent, c = left < per ? left : per;
		size_t pay = 0;
		struct msghdr m;

		if (left - c == 1)
			c--;		/* leave two for the last write */
		for (unsigned j = 0; j < c; j++) {
			unsigned i = first + *sent + j;

			pay += h->len + st->inner_len[i];
			st->uso_iov[1 + j] = (struct iovec){
				.iov_base = st->bufs + i * st->slot_size + HEADROOM - h->len,
				.iov_len = h->len + st->inner_len[i],
			};
		}
		u.ip_id = htons((uint16_t)(st->ip_id + 1));
		if (gso_uso_header(st->uso_hdr, &u, pay, seg) < 0)
			return USO_FB_TOO_BIG;
		st->uso_iov[0] = (struct iovec){ .iov_base = st->uso_hdr, .iov_len = GSO_USO_HDR };
		m = (struct msghdr){
			.msg_name = &sll, .msg_namelen = sizeof(sll),
			.msg_iov = st->uso_iov, .msg_iovlen = c + 1,
		};
		if (sendmsg(st->pkt, &m, 0) < 0) {
			if (errno == EINVAL) {
				reply_uso_off(st, "the packet socket refuses UDP GSO "
				    "writes (Invalid argument)");
				return USO_FB_NO_KERNEL;
			}
			log_rl(&rl_send, LOG_TUNNEL, LOG_IMPORTANT, "sending replies to GWLB on "
			    "the packet socket (sent raw instead): %s", strerror(errno));
			nh_table_stale(h->gwlb_addr, h->local_addr);
			return USO_FB_SEND;
		}
		st->ip_id = (uint16_t)(st->ip_id + c);
		*sent += c;
		(*writes)++;
	}
	return -1;
}

/*
 * The segments in slots first .. st->n - 1 (see reply_uso_write): sent
 * on the packet socket, and what was not, by the raw socket.  Once the
 * packet socket was written to, the slots before first are gone: the rest
 * moves down to slot 0 (their buffers stay where they are) and is sent at
 * once, so that nothing read later overtakes it; otherwise it stays queued
 * where it is.
 */
static void
reply_uso(struct worker *w, struct reply_state *st, unsigned first, const struct flow_hdr *h,
    bool partial, uint64_t now)
{
	unsigned sent, writes, end = st->n, to;
	bool wrote;
	int why = reply_uso_write(w, st, first, h, partial, now, &sent, &writes, &wrote);

	for (unsigned i = first; i < first + sent; i++) {
		struct eni_stats *es = &st->eni[i]->stats[w->idx];

		STAT_ADD(es->pkts_out, 1);
		STAT_ADD(es->bytes_out, st->inner_len[i]);
		STAT_ADD(w->stats.delivered_bytes, st->inner_len[i]);
	}
	STAT_ADD(w->stats.gso_segments, sent);
	STAT_ADD(w->stats.delivered, sent);
	STAT_ADD(w->stats.uso_super, writes);
	STAT_ADD(w->stats.uso_segments, sent);
	if (why < 0) {
		st->n = 0;	/* all sent, the slots before first too */
		return;
	}
	STAT_ADD(w->stats.uso_fallback[why], 1);
	for (unsigned i = first + sent; i < end; i++)
		reply_outer(st, i, h);
	to = wrote ? 0 : first;
	if (!sent && to == first) {
		if (st->n == REPLY_BATCH)
			reply_flush(w);
		return;
	}
	for (unsigned i = first + sent, j = to; i < end; i++, j++) {
		st->iov[j] = st->iov[i];
		st->dst[j] = st->dst[i];
		st->msgs[j].msg_hdr = st->msgs[i].msg_hdr;
		st->msgs[j].msg_hdr.msg_name = &st->dst[j];
		st->msgs[j].msg_hdr.msg_iov = &st->iov[j];
		st->eni[j] = st->eni[i];
		st->inner_len[j] = st->inner_len[i];
		st->seg[j] = st->seg[i];
	}
	st->n = to + end - first - sent;
	reply_flush(w);
}

/* The plain packet in slot st->n (len bytes). */
static void
reply_prepare(struct worker *w, struct reply_state *st, struct eni *e, bool out, size_t len,
    uint64_t now)
{
	const uint8_t *inner = st->bufs + st->n * st->slot_size + HEADROOM;
	const struct flow_hdr *h;
	enum drop_reason why;

	if (len > GWLB_MTU) {
		reply_drop(w, e, DROP_TOO_BIG);
		return;
	}
	h = reply_flow(st, e, out, inner, len, now, &why);
	if (!h) {
		reply_refuse(w, e, why);
		return;
	}
	reply_encap(st, e, h, len, false);
}

/*
 * What a vnet queue handed back (st->super: header and r bytes of packet):
 * a packet, a packet with its checksum to finish, or a super-packet, cut
 * into the slots.  One flow lookup for all the segments: they share their
 * addresses, ports and protocol.
 */
static void
reply_vnet(struct worker *w, struct reply_state *st, struct eni *e, bool out, size_t r,
    uint64_t now)
{
	const struct flow_hdr *h = NULL;
	enum drop_reason why = DROP_REPLY_BAD;
	bool looked = false, uso, partial = false;
	size_t cap = st->slot_size - HEADROOM;
	struct gso_iter it;
	struct gso_vnet v;
	unsigned first;
	int nseg;

	gso_vnet_read(st->super, &v);
	nseg = gso_begin(&it, &v, st->super + TUN_VNET_HDR_LEN, r);
	if (nseg < 0) {
		reply_drop(w, e, DROP_REPLY_BAD);
		return;
	}
	if (it.gso)
		STAT_ADD(w->stats.gso_super, 1);
	/* The packet socket's write takes all the segments from the slots. */
	if (it.gso && st->pkt >= 0 && !(ENI_GET(e->offloads) & TUN_F_USO4))
		reply_uso_off(st, "the TUN links refused UDP segmentation offload");
	uso = it.gso && st->pkt >= 0;
	if (it.gso && st->no_kernel_uso)
		STAT_ADD(w->stats.uso_fallback[USO_FB_NO_KERNEL], 1);
	if (uso && nseg > REPLY_BATCH) {
		STAT_ADD(w->stats.uso_fallback[USO_FB_TOO_BIG], 1);
		uso = false;
	}
	if (uso && st->n + (unsigned)nseg > REPLY_BATCH)
		reply_flush(w);
	first = st->n;
	for (int i = 0; i < nseg; i++) {
		uint8_t *inner = st->bufs + st->n * st->slot_size + HEADROOM;
		long n = gso_next(&it, inner, cap);

		if (n == 0)
			break;
		if (n < 0 || n > GWLB_MTU) {
			reply_drop(w, e, DROP_TOO_BIG);
			partial = true;
			continue;
		}
		if (!looked) {
			h = reply_flow(st, e, out, inner, (size_t)n, now, &why);
			looked = true;
		}
		if (!h) {
			reply_refuse(w, e, why);
			continue;
		}
		if (uso) {
			reply_geneve(st, e, h, (size_t)n, true);
			continue;
		}
		reply_encap(st, e, h, (size_t)n, it.gso);
		if (st->n == REPLY_BATCH)
			reply_flush(w);
	}
	if (uso && st->n > first)
		reply_uso(w, st, first, h, partial, now);
}

/* Messages 0 .. n - 1 by the raw socket, in order; a failed one counted. */
static void
reply_send_raw(struct worker *w, struct reply_state *st, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		int r = sendmmsg(st->raw, st->msgs + done, n - done, 0);

		if (r < 0) {
			/* The first message failed: count it, go on with the rest. */
			log_rl(&rl_send, LOG_TUNNEL, LOG_IMPORTANT, "sending a reply to GWLB: %s",
			    strerror(errno));
			reply_drop(w, st->eni[done], DROP_SEND);
			done++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			struct eni_stats *es = &st->eni[done + (unsigned)i]->stats[w->idx];

			if (st->seg[done + (unsigned)i])
				STAT_ADD(w->stats.gso_segments, 1);
			STAT_ADD(es->pkts_out, 1);
			STAT_ADD(es->bytes_out, st->inner_len[done + (unsigned)i]);
			STAT_ADD(w->stats.delivered_bytes, st->inner_len[done + (unsigned)i]);
		}
		STAT_ADD(w->stats.delivered, (unsigned)r);
		done += (unsigned)r;
	}
}

void
reply_flush(struct worker *w)
{
	struct reply_state *st = w->reply;

	reply_send_raw(w, st, st->n);
	st->n = 0;
}

void
reply_queue_ready(struct worker *w, struct tunq *q)
{
	struct reply_state *st = w->reply;
	struct eni *e = q->eni;
	uint64_t now = 0;

	for (int budget = 0; budget < REPLY_BATCH; budget++) {
		uint8_t *inner = st->bufs + st->n * st->slot_size + HEADROOM;
		size_t vl = e->vnet ? TUN_VNET_HDR_LEN : 0, cap = st->slot_size - HEADROOM;
		/*
		 * Into the send slot, a vnet queue's header in the headroom right
		 * before it; what does not fit there (a GSO super-packet) goes on
		 * in st->super, after room for the part read into the slot.
		 */
		struct iovec iov[2] = {
			{ .iov_base = inner - vl, .iov_len = cap + vl },
			{ .iov_base = st->super + cap + vl, .iov_len = SUPER_LEN - vl },
		};
		ssize_t r = readv(q->fd, iov, e->vnet ? 2 : 1);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* A deleted link reports errors until the manager
			 * replaces it: count the breakage once. */
			if (errno != EBADFD || !atomic_exchange(&e->broken, true)) {
				STAT_ADD(w->stats.drops[DROP_TUN_READ], 1);
				STAT_ADD(e->stats[w->idx].drops, 1);
				eni_drop_count(e, DROP_TUN_READ, 1);
			}
			break;
		}
		if (r <= (ssize_t)vl)
			break;
		r -= (ssize_t)vl;
		if (!now) {
			now = coarse_ns();
			STAT_ADD(w->stats.batches, 1);
		}
		STAT_ADD(w->stats.packets, 1);
		STAT_ADD(w->stats.bytes, (uint64_t)r);
		if (log_enabled(LOG_TUNNEL, LOG_DEBUGDETAIL))
			log_hexdump(&rl_dump, LOG_TUNNEL, "Tun packet", inner,
			    (size_t)r < cap ? (size_t)r : cap);
		atomic_store_explicit(&e->stats[w->idx].last_ns, now, memory_order_relaxed);
		if (vl && (r > (ssize_t)cap || !vnet_plain(inner - vl))) {
			/* To be cut or finished: whole, in one buffer. */
			memcpy(st->super, inner - vl, cap + vl < (size_t)r + vl ? cap + vl :
			    (size_t)r + vl);
			reply_vnet(w, st, e, q->out, (size_t)r, now);
			continue;
		}
		/* A plain packet (no vnet header, or one that asks nothing of
		 * us) is encapsulated where it was read, as without offloads. */
		reply_prepare(w, st, e, q->out, (size_t)r, now);
		if (st->n == REPLY_BATCH)
			reply_flush(w);
	}
}

static void
expire_one(struct eni *e, void *arg)
{
	uint64_t now = *(uint64_t *)arg;
	unsigned nb;

	if (!e->flows)
		return;
	nb = flow_buckets_for(conf.max_flows_per_eni);
	flow_expire(e->flows, now, nb / 8 > 64 ? nb / 8 : 64);
}

void
reply_expire(uint64_t now)
{
	eni_foreach(expire_one, &now);
	qsbr_reclaim();
	if (conf.offload)
		nh_table_tick(now);
}
