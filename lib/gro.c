/*
 * Receive-side coalescing (gro.h).  A batch is the packets of one receive
 * round.  Each TCP segment that may be merged at all is keyed by its flow
 * (domain, addresses, ports); a small open-addressing table maps the key to
 * the flow's open group, the one a next segment may join at its tail.  A
 * segment that cannot join starts a new group, which becomes the flow's
 * open one; a packet of the flow that can never be merged (a FIN, a bad
 * checksum, options) closes the open group.  Items are emitted in the
 * order of their first packet: a group's members all came before anything
 * its flow sent after it, so no flow is reordered.
 *
 * The table is never cleared: a generation number per batch tells stale
 * slots from live ones.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "gro.h"
#include "pkt.h"

#define P_TCP		6
#define HT_SIZE		(2 * GRO_BATCH_MAX)	/* a power of two */
/* A group closed by a packet of its flow that could not be merged: that
 * packet's refusal is counted, the next segment's is not. */
#define CLOSED_QUIET	(GRO_R__MAX + 1)

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define TCP_URG		0x20
#define TCP_ECE		0x40
#define TCP_CWR		0x80

static const char *const gro_refuse_names[] = {
	[GRO_R_NOT_TCP] = "not-tcp",
	[GRO_R_IP_OPTIONS] = "ip-options",
	[GRO_R_FRAGMENT] = "fragment",
	[GRO_R_MALFORMED] = "malformed",
	[GRO_R_FLAGS] = "tcp-flags",
	[GRO_R_NO_PAYLOAD] = "no-payload",
	[GRO_R_CHECKSUM] = "bad-checksum",
	[GRO_R_TAG] = "geneve-header",
	[GRO_R_HEADER] = "header-differs",
	[GRO_R_SEQ] = "seq-gap",
	[GRO_R_IP_ID] = "ip-id",
	[GRO_R_PSH] = "psh",
	[GRO_R_SIZE] = "segment-size",
	[GRO_R_FULL] = "full",
};
_Static_assert(sizeof(gro_refuse_names) / sizeof(gro_refuse_names[0]) == GRO_R__MAX,
    "gro_refuse_names out of step with enum gro_refuse");

struct gro_key {
	uint64_t	dom;
	uint8_t		src[16];
	uint8_t		dst[16];
	uint16_t	sport, dport;	/* as on the wire */
	uint8_t		family;
	uint8_t		pad[3];		/* zero: keys are compared with memcmp */
};
_Static_assert(sizeof(struct gro_key) == 48, "struct gro_key has holes");

struct gro_pkt {
	const uint8_t	*p;
	const uint8_t	*tag;
	uint32_t	len;
	uint16_t	tag_len;
	uint16_t	next;		/* next packet of its group, GRO_NONE */
	uint16_t	group;		/* GRO_NONE: a single packet */
	uint8_t		l3;		/* IP header length */
	uint8_t		hlen;		/* IP + TCP header length */
};

struct gro_group {
	struct gro_key	key;
	uint16_t	head, tail, nsegs;
	uint16_t	gso_size;	/* the head's payload size */
	uint32_t	next_seq;
	uint16_t	next_id;	/* IPv4: the id the next segment must have */
	uint32_t	len;		/* of the super-packet so far */
	uint8_t		closed;		/* GRO_R__MAX, or why no segment may join */
	bool		psh;		/* the tail has PSH */
};

struct gro {
	unsigned	n, ngroups, nitems;
	uint32_t	gen;
	unsigned	refused[GRO_R__MAX];
	struct gro_pkt	pkt[GRO_BATCH_MAX];
	struct gro_group grp[GRO_BATCH_MAX];
	struct gro_item	item[GRO_BATCH_MAX];
	uint16_t	ht[HT_SIZE];		/* group index */
	uint32_t	ht_gen[HT_SIZE];	/* slot live iff == gen */
};

/* What gro_parse() learns of a segment that may be merged. */
struct seg {
	struct gro_key	key;
	uint8_t		l3, hlen, flags;
	uint32_t	seq;
	uint32_t	payload;
	uint16_t	id;
};

const char *
gro_refuse_str(enum gro_refuse r)
{
	return (unsigned)r < GRO_R__MAX ? gro_refuse_names[r] : "?";
}

/*
 * The one's complement sum is the same in either byte order but swapped
 * (RFC 1071, 2.B), so words are added as the host loads them, eight bytes
 * at a time, and the folded result is put in network order once.
 */
uint32_t
gro_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = 0, r;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		s += (v & 0xffffffffu) + (v >> 32);
	}
	for (; i + 2 <= len; i += 2) {
		uint16_t v;

		memcpy(&v, p + i, 2);
		s += v;
	}
	if (i < len) {
		uint8_t last[2] = { p[i], 0 };
		uint16_t v;

		memcpy(&v, last, 2);
		s += v;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	r = (uint64_t)sum + ntohs((uint16_t)s);
	return (uint32_t)((r & 0xffffffffu) + (r >> 32));
}

uint16_t
gro_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP pseudo-header sum (RFC 793, RFC 8200 8.1), not folded. */
static uint32_t
pseudo_sum(const uint8_t *ip, unsigned family, uint32_t tcp_len)
{
	uint32_t s;

	if (family == 4)
		s = gro_csum_add(0, ip + 12, 8);
	else
		s = gro_csum_add(0, ip + 8, 32);
	s = gro_csum_add(s, (const uint8_t[]){ 0, P_TCP }, 2);
	s = gro_csum_add(s, (const uint8_t[]){ (uint8_t)(tcp_len >> 24),
	    (uint8_t)(tcp_len >> 16), (uint8_t)(tcp_len >> 8), (uint8_t)tcp_len }, 4);
	return s;
}

static bool
is_v6_ext(uint8_t nh)
{
	/* hop-by-hop, routing, fragment, ESP, AH, destination options,
	 * mobility, HIP, shim6, experiments (RFC 7045) */
	return nh == 0 || nh == 43 || nh == 44 || nh == 50 || nh == 51 || nh == 60 ||
	    nh == 135 || nh == 139 || nh == 140 || nh == 253 || nh == 254;
}

/*
 * May p (len bytes) be merged at all?  Fills *s when it may.  Checks are
 * ordered so that the cheap ones refuse most packets (UDP, ACKs) before a
 * byte of payload is summed.
 */
static enum gro_refuse
gro_parse(const uint8_t *p, size_t len, uint64_t dom, struct seg *s)
{
	size_t ip_len, tcp_len, doff;
	const uint8_t *th;
	uint8_t fl;

	memset(&s->key, 0, sizeof(s->key));
	s->key.dom = dom;
	if (len < 20)
		return GRO_R_MALFORMED;
	if (p[0] >> 4 == 4) {
		if ((p[0] & 0x0f) < 5)
			return GRO_R_MALFORMED;
		ip_len = rd16(p + 2);
		if (ip_len > len || ip_len < (size_t)(p[0] & 0x0f) * 4)
			return GRO_R_MALFORMED;
		if (p[9] != P_TCP)
			return GRO_R_NOT_TCP;
		if ((p[0] & 0x0f) != 5)
			return GRO_R_IP_OPTIONS;
		/* MF or an offset (DF alone is fine; the reserved bit too:
		 * it is compared like the rest) */
		if (rd16(p + 6) & 0x3fff)
			return GRO_R_FRAGMENT;
		s->l3 = 20;
		s->id = rd16(p + 4);
		s->key.family = 4;
		memcpy(s->key.src, p + 12, 4);
		memcpy(s->key.dst, p + 16, 4);
	} else if (p[0] >> 4 == 6) {
		if (len < 40)
			return GRO_R_MALFORMED;
		ip_len = 40 + (size_t)rd16(p + 4);
		if (ip_len > len || ip_len == 40)
			return GRO_R_MALFORMED;
		if (p[6] != P_TCP)
			return is_v6_ext(p[6]) ? GRO_R_IP_OPTIONS : GRO_R_NOT_TCP;
		s->l3 = 40;
		s->id = 0;
		s->key.family = 6;
		memcpy(s->key.src, p + 8, 16);
		memcpy(s->key.dst, p + 24, 16);
	} else {
		return GRO_R_MALFORMED;
	}
	tcp_len = ip_len - s->l3;
	th = p + s->l3;
	if (tcp_len < 20 || (doff = (size_t)(th[12] >> 4) * 4) < 20 || doff > tcp_len)
		return GRO_R_MALFORMED;
	memcpy(&s->key.sport, th, 2);
	memcpy(&s->key.dport, th + 2, 2);
	fl = th[13];
	if (!(fl & TCP_ACK) ||
	    (fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)))
		return GRO_R_FLAGS;
	if (tcp_len == doff)
		return GRO_R_NO_PAYLOAD;
	if (s->key.family == 4 && gro_csum_fold(gro_csum_add(0, p, 20)) != 0xffff)
		return GRO_R_CHECKSUM;
	if (gro_csum_fold(gro_csum_add(pseudo_sum(p, s->key.family, (uint32_t)tcp_len),
	    th, tcp_len)) != 0xffff)
		return GRO_R_CHECKSUM;
	s->flags = fl;
	s->hlen = (uint8_t)(s->l3 + doff);
	s->seq = rd32(th + 4);
	s->payload = (uint32_t)(tcp_len - doff);
	return GRO_R__MAX;
}

/* The key of a TCP packet that may not be merged, to close its flow's
 * group: pkt_parse() walks what gro_parse() refuses (options, extension
 * headers, first fragments). */
static bool
other_key(const uint8_t *p, size_t len, uint64_t dom, struct gro_key *k)
{
	struct pkt_info pi;

	if (pkt_parse(p, len, &pi) != PKT_OK || pi.icmp_error || pi.key.proto != P_TCP ||
	    pi.frag == PKT_FRAG_LATER)
		return false;
	memset(k, 0, sizeof(*k));
	k->dom = dom;
	k->family = pi.key.family;
	memcpy(k->src, pi.key.src, 16);
	memcpy(k->dst, pi.key.dst, 16);
	wr16((uint8_t *)&k->sport, pi.key.sport);
	wr16((uint8_t *)&k->dport, pi.key.dport);
	return true;
}

static unsigned
key_slot(const struct gro_key *k)
{
	uint64_t h = k->dom;
	uint8_t b[8];

	for (unsigned i = 0; i < 16; i += 8) {
		memcpy(b, k->src + i, 8);
		h = mix64(h ^ rd64(b));
		memcpy(b, k->dst + i, 8);
		h = mix64(h ^ rd64(b));
	}
	h = mix64(h ^ ((uint64_t)k->sport << 16 | k->dport) ^ (uint64_t)k->family << 32);
	return (unsigned)h & (HT_SIZE - 1);
}

/* The slot of k's open group, or of the free slot where it would go. */
static unsigned
ht_find(const struct gro *g, const struct gro_key *k, bool *found)
{
	unsigned i = key_slot(k);

	/* The table is at most half full: the probe ends. */
	for (;;) {
		if (g->ht_gen[i] != g->gen) {
			*found = false;
			return i;
		}
		if (memcmp(&g->grp[g->ht[i]].key, k, sizeof(*k)) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & (HT_SIZE - 1);
	}
}

/* Same IP and TCP headers but for the fields segmentation rewrites. */
static bool
same_headers(const uint8_t *a, const uint8_t *b, const struct seg *s)
{
	const uint8_t *ta = a + s->l3, *tb = b + s->l3;

	if (s->key.family == 4) {
		/* ver/IHL, TOS; flags/offset, TTL, protocol (addresses: the key) */
		if (a[0] != b[0] || a[1] != b[1] || memcmp(a + 6, b + 6, 4) != 0)
			return false;
	} else {
		/* version, traffic class, flow label; next header, hop limit */
		if (memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 2) != 0)
			return false;
	}
	/* ports (the key), ACK, data offset, flags but PSH, window, urgent
	 * pointer, options */
	return memcmp(ta + 8, tb + 8, 5) == 0 &&
	    (ta[13] & ~TCP_PSH) == (tb[13] & ~TCP_PSH) &&
	    memcmp(ta + 14, tb + 14, 2) == 0 &&
	    memcmp(ta + 18, tb + 18, (size_t)(s->hlen - s->l3) - 18) == 0;
}

/* Why s (packet idx) may not follow what group gr holds (an enum
 * gro_refuse, or CLOSED_QUIET); GRO_R__MAX: it may. */
static unsigned
may_join(const struct gro *g, const struct gro_group *gr, const struct seg *s, unsigned idx)
{
	const struct gro_pkt *h = &g->pkt[gr->head], *x = &g->pkt[idx];

	if (x->tag_len != h->tag_len || memcmp(x->tag, h->tag, h->tag_len) != 0)
		return GRO_R_TAG;
	if (gr->closed != GRO_R__MAX)
		return gr->closed;
	if (s->hlen != h->hlen || !same_headers(h->p, x->p, s))
		return GRO_R_HEADER;
	if (s->seq != gr->next_seq)
		return GRO_R_SEQ;
	if (s->key.family == 4 && s->id != gr->next_id)
		return GRO_R_IP_ID;
	if (s->payload > gr->gso_size)
		return GRO_R_SIZE;
	if (gr->nsegs == GRO_MAX_SEGS || gr->len + s->payload > GRO_MAX_LEN)
		return GRO_R_FULL;
	return GRO_R__MAX;
}

struct gro *
gro_new(void)
{
	struct gro *g = calloc(1, sizeof(*g));

	if (g)
		g->gen = 1;
	return g;
}

void
gro_free(struct gro *g)
{
	free(g);
}

void
gro_reset(struct gro *g)
{
	g->n = g->ngroups = g->nitems = 0;
	memset(g->refused, 0, sizeof(g->refused));
	if (++g->gen == 0) {		/* wrapped: every slot could look live */
		memset(g->ht_gen, 0, sizeof(g->ht_gen));
		g->gen = 1;
	}
}

static void
new_group(struct gro *g, unsigned slot, const struct seg *s, unsigned idx)
{
	struct gro_group *gr = &g->grp[g->ngroups];

	gr->key = s->key;
	gr->head = gr->tail = (uint16_t)idx;
	gr->nsegs = 1;
	gr->gso_size = (uint16_t)s->payload;
	gr->next_seq = s->seq + s->payload;
	gr->next_id = (uint16_t)(s->id + 1);
	gr->len = s->hlen + s->payload;
	gr->psh = s->flags & TCP_PSH;
	gr->closed = gr->psh ? GRO_R_PSH : GRO_R__MAX;
	g->pkt[idx].group = (uint16_t)g->ngroups;
	g->ht[slot] = (uint16_t)g->ngroups;
	g->ht_gen[slot] = g->gen;
	g->ngroups++;
}

int
gro_add(struct gro *g, const uint8_t *p, size_t len, uint64_t dom, const uint8_t *tag,
    size_t tag_len)
{
	unsigned idx = g->n, slot;
	struct gro_pkt *x;
	enum gro_refuse why;
	struct seg s;
	bool found;

	if (g->n == GRO_BATCH_MAX)
		return -ENOSPC;
	x = &g->pkt[idx];
	g->n++;
	x->p = p;
	x->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	x->tag = tag;
	x->tag_len = tag_len > UINT16_MAX ? UINT16_MAX : (uint16_t)tag_len;
	x->next = GRO_NONE;
	x->group = GRO_NONE;
	x->l3 = x->hlen = 0;
	if (!tag)
		return (int)idx;
	why = gro_parse(p, len, dom, &s);
	if (why != GRO_R__MAX) {
		/* Never merged; it closes its flow's group, so that no later
		 * segment is put before it. */
		struct gro_key k;

		g->refused[why]++;
		if (why != GRO_R_NOT_TCP && other_key(p, len, dom, &k)) {
			slot = ht_find(g, &k, &found);
			if (found && g->grp[g->ht[slot]].closed == GRO_R__MAX)
				g->grp[g->ht[slot]].closed = CLOSED_QUIET;
		}
		return (int)idx;
	}
	x->l3 = s.l3;
	x->hlen = s.hlen;
	x->len = (uint32_t)s.hlen + s.payload;	/* link padding cut */
	slot = ht_find(g, &s.key, &found);
	if (found) {
		struct gro_group *gr = &g->grp[g->ht[slot]];
		unsigned jw = may_join(g, gr, &s, idx);

		if (jw == GRO_R__MAX) {
			g->pkt[gr->tail].next = (uint16_t)idx;
			x->group = g->ht[slot];
			gr->tail = (uint16_t)idx;
			gr->nsegs++;
			gr->next_seq += s.payload;
			gr->next_id++;
			gr->len += s.payload;
			if (s.flags & TCP_PSH) {
				gr->psh = true;
				gr->closed = GRO_R_PSH;
			} else if (s.payload < gr->gso_size) {
				gr->closed = GRO_R_SIZE;
			}
			return (int)idx;
		}
		if (jw < GRO_R__MAX)
			g->refused[jw]++;
	}
	new_group(g, slot, &s, idx);
	return (int)idx;
}

/* The super-packet's headers: the head's, with lengths, PSH and checksums
 * as GSO wants them. */
static void
build(const struct gro *g, const struct gro_group *gr, struct gro_item *it)
{
	const struct gro_pkt *h = &g->pkt[gr->head];
	uint8_t *ip = it->hdr, *th = it->hdr + h->l3;
	uint32_t tcp_len = gr->len - h->l3;

	memcpy(it->hdr, h->p, h->hlen);
	it->hdr_len = h->hlen;
	it->len = gr->len;
	if (h->l3 == 20) {
		wr16(ip + 2, (uint16_t)gr->len);
		wr16(ip + 10, 0);
		wr16(ip + 10, (uint16_t)~gro_csum_fold(gro_csum_add(0, ip, 20)));
	} else {
		wr16(ip + 4, (uint16_t)(gr->len - 40));
	}
	if (gr->psh)
		th[13] |= TCP_PSH;
	/* NEEDS_CSUM: the field holds the pseudo-header sum, the kernel adds
	 * the rest (per segment, once it has cut them). */
	wr16(th + 16, gro_csum_fold(pseudo_sum(ip, h->l3 == 20 ? 4 : 6, tcp_len)));
	it->vnet.flags = GRO_VNET_F_NEEDS_CSUM;
	it->vnet.gso_type = h->l3 == 20 ? GRO_VNET_GSO_TCPV4 : GRO_VNET_GSO_TCPV6;
	it->vnet.hdr_len = h->hlen;
	it->vnet.gso_size = gr->gso_size;
	it->vnet.csum_start = h->l3;
	it->vnet.csum_offset = 16;
}

unsigned
gro_finish(struct gro *g)
{
	g->nitems = 0;
	for (unsigned i = 0; i < g->n; i++) {
		const struct gro_pkt *x = &g->pkt[i];
		struct gro_item *it = &g->item[g->nitems];
		const struct gro_group *gr;

		if (x->group == GRO_NONE) {
			it->first = (uint16_t)i;
			it->nsegs = 1;
			g->pkt[i].next = GRO_NONE;
			g->nitems++;
			continue;
		}
		gr = &g->grp[x->group];
		if (gr->head != i)
			continue;	/* emitted with its head */
		it->first = (uint16_t)i;
		it->nsegs = gr->nsegs;
		if (gr->nsegs > 1)
			build(g, gr, it);
		g->nitems++;
	}
	return g->nitems;
}

const struct gro_item *
gro_item(const struct gro *g, unsigned i)
{
	return i < g->nitems ? &g->item[i] : NULL;
}

unsigned
gro_next(const struct gro *g, unsigned idx)
{
	return idx < g->n ? g->pkt[idx].next : GRO_NONE;
}

const uint8_t *
gro_pkt(const struct gro *g, unsigned idx, size_t *len, size_t *payload_off)
{
	if (idx >= g->n)
		return NULL;
	*len = g->pkt[idx].len;
	*payload_off = g->pkt[idx].hlen;
	return g->pkt[idx].p;
}

unsigned
gro_refused(const struct gro *g, enum gro_refuse r)
{
	return (unsigned)r < GRO_R__MAX ? g->refused[r] : 0;
}
