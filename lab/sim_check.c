/*
 * The checker: judges every datagram an appliance sends back against what
 * GWLB requires (REFERENCE.md), given the datagrams that were sent to it.
 *
 * Flows are keyed by the inner 5-tuple in canonical orientation, so a
 * reply and the packet it answers meet in one flow.  Each flow keeps the
 * last few "versions" of what GWLB sent (outer addresses and ports, the
 * GENEVE header byte for byte); a new cookie or a new source makes a new
 * version.  Every sent packet is remembered in a window by a hash of its
 * inner bytes with TTL and IPv4 header checksum left out, so a forwarded
 * packet is found exactly (TTL same or one less), its loss is known, and
 * the header it must carry is "the one in force when it was sent, or any
 * later one": a reply still in flight when the cookie changed may carry the
 * old cookie, but nothing sent after the change may.  A reply the
 * appliance made itself can only be tied to its flow; it must carry the
 * current version or one superseded less than grace_ns ago.
 *
 * The window also keeps when each packet was sent, so a forwarded packet
 * that comes back and passes every check adds its round trip to a latency
 * histogram (sim_hist.c).  A reply the appliance made itself cannot be tied
 * to one sent packet and has no latency.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "bytes.h"
#include "sim.h"

#define CHK_NVER	4
#define CHK_SNAP	128

static const char *const chk_reason_names[] = {
	[CHK_OUTER_IP] = "outer-ip",
	[CHK_OUTER_IPCSUM] = "outer-ip-checksum",
	[CHK_OUTER_TTL] = "outer-ttl",
	[CHK_OUTER_UDP] = "outer-udp-length",
	[CHK_OUTER_UDPCSUM] = "outer-udp-checksum",
	[CHK_OUTER_SRC] = "outer-src",
	[CHK_OUTER_DST] = "outer-dst",
	[CHK_OUTER_SPORT] = "outer-sport",
	[CHK_OUTER_DPORT] = "outer-dport",
	[CHK_GENEVE] = "geneve",
	[CHK_ENI] = "eni",
	[CHK_ATTACHMENT] = "attachment",
	[CHK_COOKIE] = "cookie",
	[CHK_GENEVE_HDR] = "geneve-header",
	[CHK_TRAILING] = "trailing-bytes",
	[CHK_UNKNOWN_FLOW] = "unknown-flow",
	[CHK_INNER] = "inner",
	[CHK_INNER_TTL] = "inner-ttl",
	[CHK_NOT_REPLY] = "not-a-reply",
	[CHK_BAD_REPLY] = "bad-reply",
	[CHK_DUPLICATE] = "duplicate",
};
_Static_assert(sizeof(chk_reason_names) / sizeof(chk_reason_names[0]) == CHK__MAX,
    "chk_reason_names out of step with enum chk_reason");
_Static_assert(CHK__MAX <= 32, "reasons must fit a 32-bit mask");

struct chk_ver {
	uint64_t	until_ns;	/* superseded at; 0 while current */
	uint32_t	src;		/* GWLB address as sent (network order) */
	uint32_t	dst;		/* appliance address */
	uint16_t	sport;		/* GWLB source port */
	uint16_t	dport;
	uint16_t	hlen;
	struct geneve_aws aws;
	uint8_t		hdr[GENEVE_MAX_HDR_LEN];
};

struct chk_flow {
	struct pkt_key	key;		/* canonical */
	struct pkt_key	first;		/* orientation first sent */
	bool		both;		/* sent in both orientations */
	uint32_t	nver;
	struct chk_ver	ver[CHK_NVER];
};

struct chk_ent {
	uint64_t	hash;
	uint64_t	sent_ns;	/* when it left, for the round trip */
	uint64_t	abs;		/* position in the stream of sent packets */
	uint64_t	next_abs;	/* chain: older entry with the same bucket */
	uint32_t	next;
	uint32_t	flow;
	uint32_t	ver;
	uint8_t		ttl;
	uint8_t		returned;
};

struct chk_head {
	uint64_t	abs;
	uint32_t	idx;
};

struct chk {
	struct chk_opts	 o;
	struct chk_stats st;
	struct sim_map	 map;
	struct chk_flow	*flows;
	size_t		 nflows, capflows;
	struct chk_ent	*ring;
	struct chk_head	*head;
	size_t		 mask;
	uint64_t	 abs;
	/* the first mismatch, for the report */
	bool		 have_first;
	uint32_t	 first_mask;
	char		 first_detail[768];
	uint8_t		 first_pkt[256];
	size_t		 first_len;
	uint8_t		 first_want[GENEVE_MAX_HDR_LEN];
	size_t		 first_want_len;
	struct sim_hist	 lat;		/* round trips of packets that passed */
};

const char *
chk_reason_str(enum chk_reason r)
{
	return (unsigned)r < CHK__MAX ? chk_reason_names[r] : "?";
}

int
chk_inner_parse(const char *s, enum chk_inner *out)
{
	static const char *const names[] = {
		[CHK_INNER_FORWARDED] = "forwarded",
		[CHK_INNER_REPLY] = "reply",
		[CHK_INNER_ANY] = "any",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum chk_inner)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
chk_new(const struct chk_opts *o, struct chk **out)
{
	struct chk *c;
	size_t w = 1024;

	while (w < o->window)
		w <<= 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->o = *o;
	c->mask = w - 1;
	c->abs = 1;
	c->ring = calloc(w, sizeof(*c->ring));
	c->head = calloc(w, sizeof(*c->head));
	if (c->ring == NULL || c->head == NULL || sim_map_init(&c->map, 1024) < 0) {
		chk_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void
chk_free(struct chk *c)
{
	if (c == NULL)
		return;
	sim_map_free(&c->map);
	free(c->flows);
	free(c->ring);
	free(c->head);
	free(c);
}

const struct chk_stats *
chk_stats(const struct chk *c)
{
	return &c->st;
}

/* Hash of the inner packet with what forwarding may change left out. */
static uint64_t
chk_inner_hash(const uint8_t *p, size_t len, uint8_t *ttl)
{
	uint8_t tmp[64];
	size_t n = len < sizeof(tmp) ? len : sizeof(tmp);
	uint64_t h;

	memcpy(tmp, p, n);
	*ttl = 0;
	if (n >= 20 && p[0] >> 4 == 4) {
		*ttl = tmp[8];
		tmp[8] = tmp[10] = tmp[11] = 0;
	} else if (n >= 40 && p[0] >> 4 == 6) {
		*ttl = tmp[7];
		tmp[7] = 0;
	}
	h = sim_hash64(tmp, n, 0x6777);
	if (len > n)
		h = sim_hash64(p + n, len - n, h);
	return h;
}

/* Split an outer IPv4/UDP packet; 0 or -EINVAL (no checks beyond that). */
struct chk_outer {
	uint32_t	src, dst;
	uint16_t	sport, dport;
	size_t		ihl;
	const uint8_t	*payload;
	size_t		plen;
};

static int
chk_split(const uint8_t *ip, size_t len, struct chk_outer *o)
{
	size_t tot, ulen;

	if (len < 20 || ip[0] >> 4 != 4)
		return -EINVAL;
	o->ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = rd16(ip + 2);
	if (o->ihl < 20 || tot > len || tot < o->ihl + 8)
		return -EINVAL;
	memcpy(&o->src, ip + 12, 4);
	memcpy(&o->dst, ip + 16, 4);
	o->sport = rd16(ip + o->ihl);
	o->dport = rd16(ip + o->ihl + 2);
	ulen = rd16(ip + o->ihl + 4);
	if (ulen < 8 || ulen > tot - o->ihl)
		ulen = tot - o->ihl;
	o->payload = ip + o->ihl + 8;
	o->plen = ulen - 8;
	return 0;
}

static struct chk_flow *
chk_flow_get(struct chk *c, const struct pkt_key *canon, bool create)
{
	uint32_t *v = sim_map_get(&c->map, canon);
	struct chk_flow *f;

	if (v)
		return &c->flows[*v];
	if (!create)
		return NULL;
	if (c->nflows == c->capflows) {
		size_t cap = c->capflows ? c->capflows * 2 : 256;
		struct chk_flow *nf = realloc(c->flows, cap * sizeof(*nf));

		if (nf == NULL)
			return NULL;
		c->flows = nf;
		c->capflows = cap;
	}
	if (sim_map_put(&c->map, canon, (uint32_t)c->nflows) < 0)
		return NULL;
	f = &c->flows[c->nflows++];
	memset(f, 0, sizeof(*f));
	f->key = *canon;
	c->st.flows++;
	return f;
}

void
chk_note_sent(struct chk *c, const uint8_t *ip, size_t len, uint64_t now)
{
	struct chk_outer o;
	struct geneve_pkt g;
	struct pkt_info pi;
	struct pkt_key canon;
	struct chk_flow *f;
	struct chk_ver *v;
	struct chk_ent *e;
	struct chk_head *h;
	uint64_t hash;
	uint8_t ttl;
	size_t idx;

	if (chk_split(ip, len, &o) < 0 ||
	    geneve_decode(o.payload, o.plen, &g) != GENEVE_OK ||
	    pkt_parse(g.inner, g.inner_len, &pi) != PKT_OK) {
		c->st.sent_bad++;
		return;
	}
	sim_key_canon(&pi.key, &canon);
	f = chk_flow_get(c, &canon, true);
	if (f == NULL) {
		c->st.sent_bad++;
		return;
	}
	if (f->nver == 0)
		f->first = pi.key;
	else if (memcmp(&f->first, &pi.key, sizeof(pi.key)) != 0)
		f->both = true;

	v = f->nver ? &f->ver[(f->nver - 1) % CHK_NVER] : NULL;
	if (v == NULL || v->src != o.src || v->dst != o.dst ||
	    v->sport != o.sport || v->dport != o.dport || v->hlen != g.hdr_len ||
	    memcmp(v->hdr, o.payload, g.hdr_len) != 0) {
		if (v)
			v->until_ns = now;
		v = &f->ver[f->nver++ % CHK_NVER];
		v->until_ns = 0;
		v->src = o.src;
		v->dst = o.dst;
		v->sport = o.sport;
		v->dport = o.dport;
		v->hlen = g.hdr_len;
		v->aws = g.aws;
		memcpy(v->hdr, o.payload, g.hdr_len);
	}

	hash = chk_inner_hash(g.inner, g.inner_len, &ttl);
	idx = c->abs & c->mask;
	e = &c->ring[idx];
	if (e->abs && !e->returned)
		c->st.evicted++;
	h = &c->head[hash & c->mask];
	e->hash = hash;
	e->sent_ns = now;
	e->abs = c->abs;
	e->next = h->idx;
	e->next_abs = h->abs;
	e->flow = (uint32_t)(f - c->flows);
	e->ver = f->nver - 1;
	e->ttl = ttl;
	e->returned = 0;
	h->idx = (uint32_t)idx;
	h->abs = c->abs;
	c->abs++;

	c->st.sent++;
	c->st.bytes_sent += len;
	if (c->st.first_sent_ns == 0)
		c->st.first_sent_ns = now;
	c->st.last_sent_ns = now;
}

/* The remembered sent packet with this hash, unreturned ones first. */
static struct chk_ent *
chk_ring_find(struct chk *c, uint64_t hash)
{
	struct chk_head *h = &c->head[hash & c->mask];
	struct chk_ent *dup = NULL;
	uint64_t abs = h->abs;
	uint32_t idx = h->idx;

	while (abs) {
		struct chk_ent *e = &c->ring[idx];

		if (e->abs != abs)
			break;		/* overwritten: the rest is older still */
		if (e->hash == hash) {
			if (!e->returned)
				return e;
			if (dup == NULL)
				dup = e;
		}
		abs = e->next_abs;
		idx = e->next;
	}
	return dup;
}

static uint32_t
chk_cmp_ver(const struct chk_ver *v, const struct chk_outer *o,
    const struct geneve_pkt *g)
{
	uint32_t m = 0;

	if (o->src != v->dst)
		m |= 1u << CHK_OUTER_SRC;
	if (o->dst != v->src)
		m |= 1u << CHK_OUTER_DST;
	if (o->sport != v->sport)
		m |= 1u << CHK_OUTER_SPORT;
	if (o->dport != v->dport)
		m |= 1u << CHK_OUTER_DPORT;
	if (g->hdr_len != v->hlen || memcmp(o->payload, v->hdr, v->hlen) != 0) {
		uint32_t h = 0;

		if (g->aws.eni_id != v->aws.eni_id)
			h |= 1u << CHK_ENI;
		if (g->aws.attachment_id != v->aws.attachment_id)
			h |= 1u << CHK_ATTACHMENT;
		if (g->aws.cookie != v->aws.cookie)
			h |= 1u << CHK_COOKIE;
		m |= h ? h : 1u << CHK_GENEVE_HDR;
	}
	return m;
}

static int
popcount32(uint32_t x)
{
	return __builtin_popcount(x);
}

static void
ip4str(uint32_t be, char *buf, size_t sz)
{
	inet_ntop(AF_INET, &be, buf, (socklen_t)sz);
}

static void
chk_describe(struct chk *c, uint32_t mask, const struct chk_flow *f,
    const struct chk_ver *v, const struct chk_outer *o,
    const struct geneve_pkt *g, const char *why)
{
	char *d = c->first_detail;
	size_t sz = sizeof(c->first_detail), n = 0;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], key[128];

#define ADD(...) do {							\
	if (n < sz)							\
		n += (size_t)snprintf(d + n, sz - n, __VA_ARGS__);	\
} while (0)
	for (int r = 0; r < CHK__MAX; r++)
		if (mask & (1u << r))
			ADD("%s%s", n ? "," : "", chk_reason_str(r));
	if (f) {
		pkt_key_format(&f->first, key, sizeof(key));
		ADD("; flow %s", key);
	}
	if (why)
		ADD("; %s", why);
	if (v && (mask & (1u << CHK_OUTER_SRC))) {
		ip4str(v->dst, a, sizeof(a));
		ip4str(o->src, b, sizeof(b));
		ADD("; outer src: expected %s, got %s", a, b);
	}
	if (v && (mask & (1u << CHK_OUTER_DST))) {
		ip4str(v->src, a, sizeof(a));
		ip4str(o->dst, b, sizeof(b));
		ADD("; outer dst: expected %s, got %s", a, b);
	}
	if (v && (mask & (1u << CHK_OUTER_SPORT)))
		ADD("; outer sport: expected %u, got %u", v->sport, o->sport);
	if (v && (mask & (1u << CHK_OUTER_DPORT)))
		ADD("; outer dport: expected %u, got %u", v->dport, o->dport);
	if (v && g && (mask & (1u << CHK_ENI)))
		ADD("; eni: expected %017" PRIx64 ", got %017" PRIx64,
		    v->aws.eni_id, g->aws.eni_id);
	if (v && g && (mask & (1u << CHK_ATTACHMENT)))
		ADD("; attachment: expected %016" PRIx64 ", got %016" PRIx64,
		    v->aws.attachment_id, g->aws.attachment_id);
	if (v && g && (mask & (1u << CHK_COOKIE)))
		ADD("; cookie: expected 0x%08" PRIx32 ", got 0x%08" PRIx32,
		    v->aws.cookie, g->aws.cookie);
#undef ADD
	if (v) {
		memcpy(c->first_want, v->hdr, v->hlen);
		c->first_want_len = v->hlen;
	}
}

static void
chk_record(struct chk *c, uint32_t mask, const uint8_t *ip, size_t len,
    const struct chk_flow *f, const struct chk_ver *v,
    const struct chk_outer *o, const struct geneve_pkt *g, const char *why)
{
	c->st.mismatched++;
	for (int r = 0; r < CHK__MAX; r++)
		if (mask & (1u << r))
			c->st.reasons[r]++;
	if (c->have_first)
		return;
	c->have_first = true;
	c->first_mask = mask;
	c->first_len = len;
	memcpy(c->first_pkt, ip, len < sizeof(c->first_pkt) ? len : sizeof(c->first_pkt));
	chk_describe(c, mask, f, v, o, g, why);
}

uint32_t
chk_returned(struct chk *c, const uint8_t *ip, size_t len, bool csum_ready,
    uint64_t now)
{
	struct chk_outer o;
	struct geneve_pkt g;
	struct pkt_info pi;
	struct pkt_key canon;
	struct chk_flow *f = NULL;
	struct chk_ent *e = NULL;
	const struct chk_ver *best = NULL;
	uint32_t mask = 0, from, bestm = 0;
	const char *why = NULL;
	enum geneve_err gerr;
	uint64_t rtt = 0;
	bool fresh = false;
	uint8_t ttl;
	size_t tot;

	c->st.received++;
	c->st.bytes_received += len;
	if (c->st.first_recv_ns == 0)
		c->st.first_recv_ns = now;
	c->st.last_recv_ns = now;

	/* outer IPv4 and UDP */
	if (chk_split(ip, len, &o) < 0) {
		chk_record(c, 1u << CHK_OUTER_IP, ip, len, NULL, NULL, NULL, NULL,
		    "outer IPv4/UDP header malformed");
		return 1u << CHK_OUTER_IP;
	}
	tot = rd16(ip + 2);
	if (rd16(ip + 6) & 0x3fff)
		mask |= 1u << CHK_OUTER_IP;		/* MF or an offset */
	if (sim_ip4_csum(ip) != 0)
		mask |= 1u << CHK_OUTER_IPCSUM;
	if (ip[8] <= 1)
		mask |= 1u << CHK_OUTER_TTL;
	if (rd16(ip + o.ihl + 4) != tot - o.ihl)
		mask |= 1u << CHK_OUTER_UDP;
	if (rd16(ip + o.ihl + 6) != 0) {
		if (!csum_ready)
			c->st.csum_unverified++;
		else if (sim_csum_fold(sim_csum_add(sim_csum_pseudo(4, ip + 12,
		    ip + 16, IPPROTO_UDP, (uint32_t)(tot - o.ihl)),
		    ip + o.ihl, tot - o.ihl)) != 0)
			mask |= 1u << CHK_OUTER_UDPCSUM;
	}

	gerr = geneve_decode(o.payload, o.plen, &g);
	if (gerr != GENEVE_OK) {
		mask |= 1u << CHK_GENEVE;
		chk_record(c, mask, ip, tot, NULL, NULL, &o, NULL, geneve_err_str(gerr));
		return mask;
	}
	if (o.plen > g.hdr_len + g.inner_len)
		mask |= 1u << CHK_TRAILING;

	/* which sent packet, or at least which flow */
	e = chk_ring_find(c, chk_inner_hash(g.inner, g.inner_len, &ttl));
	if (e) {
		f = &c->flows[e->flow];
		from = e->ver;
		if (c->o.inner == CHK_INNER_REPLY)
			mask |= 1u << CHK_NOT_REPLY;
		if (ttl != e->ttl && ttl + 1 != e->ttl) {
			mask |= 1u << CHK_INNER_TTL;
			why = "inner TTL/hop limit neither kept nor decremented";
		} else if (ttl == 0) {
			mask |= 1u << CHK_INNER_TTL;
		}
		if (g.inner[0] >> 4 == 4 && sim_ip4_csum(g.inner) != 0) {
			mask |= 1u << CHK_INNER;
			why = "inner IPv4 header checksum wrong";
		}
		if (e->returned)
			mask |= 1u << CHK_DUPLICATE;
		else {
			e->returned = 1;
			c->st.matched++;
			fresh = true;
			rtt = now > e->sent_ns ? now - e->sent_ns : 0;
		}
	} else {
		if (pkt_parse(g.inner, g.inner_len, &pi) != PKT_OK) {
			mask |= 1u << (c->o.inner == CHK_INNER_FORWARDED ?
			    CHK_INNER : CHK_BAD_REPLY);
			chk_record(c, mask, ip, tot, NULL, NULL, &o, &g,
			    "inner packet does not parse");
			return mask;
		}
		sim_key_canon(&pi.key, &canon);
		f = chk_flow_get(c, &canon, false);
		if (f == NULL) {
			mask |= 1u << CHK_UNKNOWN_FLOW;
			chk_record(c, mask, ip, tot, NULL, NULL, &o, &g,
			    "inner 5-tuple belongs to no flow sent");
			return mask;
		}
		if (c->o.inner == CHK_INNER_FORWARDED ||
		    (!f->both && !pi.icmp_error &&
		    memcmp(&pi.key, &f->first, sizeof(pi.key)) == 0)) {
			/* our orientation, but not bytes we sent */
			mask |= 1u << (c->o.inner == CHK_INNER_REPLY ?
			    CHK_NOT_REPLY : CHK_INNER);
			why = "inner packet differs from every packet sent";
		} else {
			uint8_t *cp = malloc(g.inner_len);

			if ((g.inner[0] >> 4 == 4 && sim_ip4_csum(g.inner) != 0) ||
			    (cp && (memcpy(cp, g.inner, g.inner_len),
			    sim_l4_csum(cp, g.inner_len, true) == -EBADMSG))) {
				mask |= 1u << CHK_BAD_REPLY;
				why = "reply has a wrong IP or transport checksum";
			}
			free(cp);
		}
		/* the current version, or one superseded within the grace */
		from = f->nver - 1;
		while (from > 0 && f->nver - from < CHK_NVER) {
			const struct chk_ver *pv = &f->ver[(from - 1) % CHK_NVER];

			if (pv->until_ns + c->o.grace_ns < now)
				break;
			from--;
		}
	}

	/* header and outer addresses against every acceptable version */
	if (f->nver - from > CHK_NVER)
		from = f->nver - CHK_NVER;
	for (uint32_t i = f->nver; i-- > from;) {
		const struct chk_ver *v = &f->ver[i % CHK_NVER];
		uint32_t m = chk_cmp_ver(v, &o, &g);

		if (best == NULL || popcount32(m) < popcount32(bestm)) {
			best = v;
			bestm = m;
		}
		if (m == 0)
			break;
	}
	mask |= bestm;
	if (mask) {
		chk_record(c, mask, ip, tot, f, best, &o, &g, why);
		return mask;
	}
	c->st.ok++;
	if (fresh)
		sim_hist_add(&c->lat, rtt);
	return 0;
}

const struct sim_hist *
chk_latency(const struct chk *c)
{
	return &c->lat;
}

uint64_t
chk_lost(const struct chk *c)
{
	if (c->o.inner == CHK_INNER_FORWARDED)
		return c->st.sent - c->st.matched;
	return c->st.sent > c->st.received ? c->st.sent - c->st.received : 0;
}

bool
chk_complete(const struct chk *c)
{
	if (c->o.inner == CHK_INNER_FORWARDED)
		return c->st.matched >= c->st.sent;
	return c->st.received >= c->st.sent;
}

static double
pps(uint64_t n, uint64_t t0, uint64_t t1)
{
	if (n < 2 || t1 <= t0)
		return 0;
	return (double)(n - 1) * 1e9 / (double)(t1 - t0);
}

/* Percentiles in microseconds, ns precision. */
static const struct {
	const char	*json, *text;
	uint32_t	 ppm;
} chk_pcts[] = {
	{ "p50", "p50", 500000 },
	{ "p90", "p90", 900000 },
	{ "p99", "p99", 990000 },
	{ "p999", "p99.9", 999000 },
};

static void
chk_report_latency(const struct chk *c, FILE *out, bool json)
{
	const struct sim_hist *h = &c->lat;

	if (json) {
		fprintf(out, ",\"latency_samples\":%" PRIu64 ",\"latency_us\":", h->count);
		if (h->count == 0) {
			fprintf(out, "null");
			return;
		}
		fputc('{', out);
		for (size_t i = 0; i < sizeof(chk_pcts) / sizeof(chk_pcts[0]); i++)
			fprintf(out, "\"%s\":%.3f,", chk_pcts[i].json,
			    (double)sim_hist_quantile(h, chk_pcts[i].ppm) / 1e3);
		fprintf(out, "\"max\":%.3f,\"min\":%.3f,\"mean\":%.3f}",
		    (double)h->max / 1e3, (double)h->min / 1e3,
		    (double)h->sum / (double)h->count / 1e3);
		return;
	}
	if (h->count == 0) {
		fprintf(out, "latency: no round trip measured (only packets that "
		    "come back as sent and pass are timed)\n");
		return;
	}
	fprintf(out, "latency (us, %" PRIu64 " round trips):", h->count);
	for (size_t i = 0; i < sizeof(chk_pcts) / sizeof(chk_pcts[0]); i++)
		fprintf(out, " %s %.1f", chk_pcts[i].text,
		    (double)sim_hist_quantile(h, chk_pcts[i].ppm) / 1e3);
	fprintf(out, " max %.1f min %.1f mean %.1f\n", (double)h->max / 1e3,
	    (double)h->min / 1e3, (double)h->sum / (double)h->count / 1e3);
}

void
chk_report(const struct chk *c, FILE *out, bool json, const char *extra)
{
	const struct chk_stats *s = &c->st;
	double spps = pps(s->sent, s->first_sent_ns, s->last_sent_ns);
	double rpps = pps(s->received, s->first_recv_ns, s->last_recv_ns);
	char hex[2 * 256 + 1], want[2 * GENEVE_MAX_HDR_LEN + 1];
	bool any = false;

	if (json) {
		fprintf(out, "{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		    ",\"ok\":%" PRIu64 ",\"mismatched\":%" PRIu64
		    ",\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64
		    ",\"unknown\":%" PRIu64 ",\"flows\":%" PRIu64
		    ",\"sent_ignored\":%" PRIu64 ",\"csum_unverified\":%" PRIu64
		    ",\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64
		    ",\"sent_pps\":%.0f,\"received_pps\":%.0f,\"reasons\":{",
		    s->sent, s->received, s->ok, s->mismatched, chk_lost(c),
		    s->reasons[CHK_DUPLICATE], s->reasons[CHK_UNKNOWN_FLOW],
		    s->flows, s->sent_bad, s->csum_unverified, s->bytes_sent,
		    s->bytes_received, spps, rpps);
		for (int r = 0; r < CHK__MAX; r++) {
			if (!s->reasons[r])
				continue;
			fprintf(out, "%s\"%s\":%" PRIu64, any ? "," : "",
			    chk_reason_str(r), s->reasons[r]);
			any = true;
		}
		fputc('}', out);
		if (c->have_first) {
			sim_hexstr(hex, sizeof(hex), c->first_pkt,
			    c->first_len < sizeof(c->first_pkt) ?
			    c->first_len : sizeof(c->first_pkt));
			sim_hexstr(want, sizeof(want), c->first_want,
			    c->first_want_len);
			fprintf(out, ",\"first_mismatch\":{\"detail\":\"");
			for (const char *p = c->first_detail; *p; p++)
				fputc(*p == '"' || *p == '\\' ? '\'' : *p, out);
			fprintf(out, "\",\"packet\":\"%s\",\"expected_geneve\":\"%s\"}",
			    hex, want);
		}
		chk_report_latency(c, out, true);
		if (extra)
			fprintf(out, ",%s", extra);
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, "sent %" PRIu64 " received %" PRIu64 " ok %" PRIu64
	    " mismatched %" PRIu64 " lost %" PRIu64 " flows %" PRIu64 "\n",
	    s->sent, s->received, s->ok, s->mismatched, chk_lost(c), s->flows);
	fprintf(out, "rate: sent %.0f pps, received %.0f pps\n", spps, rpps);
	chk_report_latency(c, out, false);
	if (s->sent_bad)
		fprintf(out, "ignored %" PRIu64 " sent datagrams that were not "
		    "GWLB GENEVE\n", s->sent_bad);
	if (s->csum_unverified)
		fprintf(out, "%" PRIu64 " UDP checksums left to offload, not "
		    "verified\n", s->csum_unverified);
	if (s->mismatched) {
		fprintf(out, "mismatch reasons:");
		for (int r = 0; r < CHK__MAX; r++)
			if (s->reasons[r])
				fprintf(out, " %s %" PRIu64, chk_reason_str(r),
				    s->reasons[r]);
		fputc('\n', out);
	}
	if (c->have_first) {
		fprintf(out, "first mismatch: %s\n", c->first_detail);
		fprintf(out, "  returned datagram (outer IPv4 on):\n");
		sim_hex(out, "    ", c->first_pkt, c->first_len, sizeof(c->first_pkt));
		if (c->first_want_len) {
			fprintf(out, "  GENEVE header expected:\n");
			sim_hex(out, "    ", c->first_want, c->first_want_len,
			    c->first_want_len);
		}
	}
	if (extra)
		fprintf(out, "%s\n", extra);
}
