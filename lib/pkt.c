/*
 * Inner-packet keys.  pkt_parse() runs for every packet in both directions,
 * so it is written as a few straight-line steps: the IP header (IPv4 IHL
 * and total length, or the IPv6 extension chain), then at most one look at
 * the transport header.  Questions asked per protocol number (has it ports?
 * is this ICMP type an echo or an error?) are answered by small tables
 * instead of branch ladders.
 *
 * An ICMP error is keyed by the packet it quotes, because that is the flow
 * the error belongs to.  Quotes are cut short by design (RFC 792 keeps 8
 * bytes of transport header, RFC 4443 as much as fits in 1280), so inside a
 * quote a total length larger than what is present is normal and missing
 * ports are 0; the quote's own IP header and extension chain must be there
 * in full, though, or there is nothing to match.  A quoted ICMP packet is
 * keyed by itself and never opened further, which bounds the work.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "pkt.h"

#define P_HOPOPTS	0
#define P_ICMP		1
#define P_TCP		6
#define P_UDP		17
#define P_DCCP		33
#define P_ROUTING	43
#define P_FRAGMENT	44
#define P_GRE		47
#define P_ESP		50
#define P_AH		51
#define P_ICMPV6	58
#define P_DSTOPTS	60
#define P_SCTP		132
#define P_UDPLITE	136

#define BIT(n)		((uint64_t)1 << ((n) & 63))

static const char *const pkt_err_names[] = {
	[PKT_OK] = "ok",
	[PKT_ERR_SHORT] = "short",
	[PKT_ERR_VERSION] = "bad-version",
	[PKT_ERR_HDR] = "bad-header",
	[PKT_ERR_TRUNC] = "truncated",
};
_Static_assert(sizeof(pkt_err_names) / sizeof(pkt_err_names[0]) ==
    PKT_ERR__MAX, "pkt_err_names out of step with enum pkt_err");

/* Transport protocols that start with a 16-bit source and destination port. */
static const uint64_t pkt_port_protos[4] = {
	[0] = BIT(P_TCP) | BIT(P_UDP) | BIT(P_DCCP),
	[2] = BIT(P_SCTP) | BIT(P_UDPLITE),
};

/* IPv6 extension headers we step over (all below 64). */
static const uint64_t pkt_v6_ext = BIT(P_HOPOPTS) | BIT(P_ROUTING) |
    BIT(P_FRAGMENT) | BIT(P_AH) | BIT(P_DSTOPTS);

enum { ICMPK_OTHER = 0, ICMPK_ECHO, ICMPK_ERROR };

/* [0] ICMP (IPv4), [1] ICMPv6, by type. */
static const uint8_t pkt_icmp_kind[2][256] = {
	[0] = {
		[0] = ICMPK_ECHO,	/* echo reply */
		[8] = ICMPK_ECHO,	/* echo request */
		[3] = ICMPK_ERROR,	/* destination unreachable */
		[4] = ICMPK_ERROR,	/* source quench */
		[5] = ICMPK_ERROR,	/* redirect */
		[11] = ICMPK_ERROR,	/* time exceeded */
		[12] = ICMPK_ERROR,	/* parameter problem */
	},
	[1] = {
		[128] = ICMPK_ECHO,	/* echo request */
		[129] = ICMPK_ECHO,	/* echo reply */
		[1] = ICMPK_ERROR,	/* destination unreachable */
		[2] = ICMPK_ERROR,	/* packet too big */
		[3] = ICMPK_ERROR,	/* time exceeded */
		[4] = ICMPK_ERROR,	/* parameter problem */
	},
};

/* What the IP layer found, for the transport step. */
struct pkt_l3 {
	const uint8_t	*l4;
	size_t		 l4_len;	/* bytes present, within the IP length */
	uint32_t	 tot_len;
	uint32_t	 frag_id;
	uint16_t	 l3_len;
	uint8_t		 frag;
};

const char *
pkt_err_str(enum pkt_err err)
{
	if ((unsigned)err >= PKT_ERR__MAX)
		return "unknown";
	return pkt_err_names[err];
}

static inline bool
pkt_has_ports(uint8_t proto)
{
	return pkt_port_protos[proto >> 6] >> (proto & 63) & 1;
}

static inline uint8_t
pkt_icmp_proto(uint8_t family)
{
	return family == 4 ? P_ICMP : P_ICMPV6;
}

static inline unsigned
pkt_icmp_kind_of(uint8_t family, uint8_t type)
{
	return pkt_icmp_kind[family == 6][type];
}

/*
 * IPv4 header.  At top level a packet shorter than its header or total
 * length is PKT_ERR_SHORT; in a quote only the header must be there.
 */
static enum pkt_err
pkt_ip4(const uint8_t *p, size_t len, bool quote, struct pkt_key *k,
    struct pkt_l3 *l)
{
	enum pkt_err short_err = quote ? PKT_ERR_TRUNC : PKT_ERR_SHORT;
	size_t ihl, tot, end;
	unsigned ff, off, mf;

	if (len < 20)
		return short_err;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20)
		return PKT_ERR_HDR;
	if (ihl > len)
		return short_err;
	tot = rd16(p + 2);
	if (tot < ihl)
		return PKT_ERR_HDR;
	end = tot;
	if (tot > len) {
		if (!quote)
			return PKT_ERR_SHORT;
		end = len;
	}

	ff = rd16(p + 6);
	off = ff & 0x1fff;
	mf = ff & 0x2000;
	l->frag = off ? PKT_FRAG_LATER : mf ? PKT_FRAG_FIRST : PKT_FRAG_NONE;
	l->frag_id = (off | mf) ? rd16(p + 4) : 0;
	l->l3_len = (uint16_t)ihl;
	l->tot_len = (uint32_t)tot;
	l->l4 = p + ihl;
	l->l4_len = end - ihl;

	k->family = 4;
	k->proto = p[9];
	memcpy(k->src, p + 12, 4);
	memcpy(k->dst, p + 16, 4);
	return PKT_OK;
}

/*
 * IPv6 header and extension chain.  Every extension header is at least 8
 * bytes; all but AH give their length in 8-byte units not counting the
 * first, AH in 4-byte units not counting the first two (RFC 4302).  The
 * chain must fit in the payload (in the first fragment too, RFC 7112).
 */
static enum pkt_err
pkt_ip6(const uint8_t *p, size_t len, bool quote, struct pkt_key *k,
    struct pkt_l3 *l)
{
	enum pkt_err chain_err = quote ? PKT_ERR_TRUNC : PKT_ERR_HDR;
	size_t tot, end, off;
	unsigned n;
	uint8_t nh;

	if (len < 40)
		return quote ? PKT_ERR_TRUNC : PKT_ERR_SHORT;
	tot = 40 + (size_t)rd16(p + 4);
	end = tot;
	if (tot > len) {
		if (!quote)
			return PKT_ERR_SHORT;
		end = len;
	}

	l->frag = PKT_FRAG_NONE;
	l->frag_id = 0;
	nh = p[6];
	off = 40;
	for (n = 0; nh < 64 && (pkt_v6_ext & BIT(nh)); n++) {
		const uint8_t *h = p + off;
		size_t hl;

		if (n == PKT_V6_MAX_EXT)
			return PKT_ERR_HDR;
		if (end - off < 8)
			return chain_err;
		if (nh == P_FRAGMENT) {
			unsigned fo = rd16(h + 2);

			nh = h[0];
			off += 8;
			if (fo & 0xfff8) {
				/* What follows is fragment data, not headers. */
				l->frag = PKT_FRAG_LATER;
				l->frag_id = rd32(h + 4);
				break;
			}
			if (fo & 1) {
				l->frag = PKT_FRAG_FIRST;
				l->frag_id = rd32(h + 4);
			}
			/* else an atomic fragment (RFC 6946): a whole packet */
			continue;
		}
		if (nh == P_AH)
			hl = ((size_t)h[1] + 2) * 4;
		else
			hl = ((size_t)h[1] + 1) * 8;
		if (hl > end - off)
			return chain_err;
		nh = h[0];
		off += hl;
	}

	l->l3_len = (uint16_t)off;
	l->tot_len = (uint32_t)tot;
	l->l4 = p + off;
	l->l4_len = end - off;

	k->family = 6;
	k->proto = nh;
	memcpy(k->src, p + 8, 16);
	memcpy(k->dst, p + 24, 16);
	return PKT_OK;
}

/*
 * Transport header of a quoted packet: ports if quoted, the echo id of a
 * quoted echo, and nothing from a quoted ICMP error (no recursion).
 */
static void
pkt_l4_quoted(struct pkt_key *k, const uint8_t *h, size_t n)
{
	if (pkt_has_ports(k->proto)) {
		if (n >= 4) {
			k->sport = rd16(h);
			k->dport = rd16(h + 2);
		}
	} else if (k->proto == pkt_icmp_proto(k->family) && n >= 6 &&
	    pkt_icmp_kind_of(k->family, h[0]) == ICMPK_ECHO) {
		k->sport = k->dport = rd16(h + 4);
	}
}

/* The packet an ICMP error quotes (q, n bytes, after the ICMP header). */
static enum pkt_err
pkt_quote(struct pkt_info *out, const uint8_t *q, size_t n)
{
	struct pkt_key *k = &out->key;
	uint8_t family = k->family;
	struct pkt_l3 l;
	enum pkt_err err;

	if (n == 0)
		return PKT_ERR_TRUNC;
	if (q[0] >> 4 != family)
		return PKT_ERR_HDR;
	memset(k, 0, sizeof(*k));
	if (family == 4)
		err = pkt_ip4(q, n, true, k, &l);
	else
		err = pkt_ip6(q, n, true, k, &l);
	if (err != PKT_OK)
		return err;
	out->icmp_error = true;
	if (l.frag != PKT_FRAG_LATER)
		pkt_l4_quoted(k, l.l4, l.l4_len);
	return PKT_OK;
}

enum pkt_err
pkt_parse(const uint8_t *p, size_t len, struct pkt_info *out)
{
	struct pkt_key *k = &out->key;
	struct pkt_l3 l;
	enum pkt_err err;
	const uint8_t *h;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return PKT_ERR_SHORT;
	switch (p[0] >> 4) {
	case 4:
		err = pkt_ip4(p, len, false, k, &l);
		break;
	case 6:
		err = pkt_ip6(p, len, false, k, &l);
		break;
	default:
		return PKT_ERR_VERSION;
	}
	if (err != PKT_OK)
		return err;
	out->frag = l.frag;
	out->frag_id = l.frag_id;
	out->l3_len = l.l3_len;
	out->tot_len = l.tot_len;
	if (l.frag == PKT_FRAG_LATER)
		return PKT_OK;

	h = l.l4;
	n = l.l4_len;
	if (pkt_has_ports(k->proto)) {
		if (n < 4)
			return PKT_ERR_TRUNC;
		k->sport = rd16(h);
		k->dport = rd16(h + 2);
		return PKT_OK;
	}
	if (k->proto != pkt_icmp_proto(k->family))
		return PKT_OK;
	if (n < 8)
		return PKT_ERR_TRUNC;
	out->icmp_type = h[0];
	switch (pkt_icmp_kind_of(k->family, h[0])) {
	case ICMPK_ECHO:
		k->sport = k->dport = rd16(h + 4);
		return PKT_OK;
	case ICMPK_ERROR:
		return pkt_quote(out, h + 8, n - 8);
	default:
		return PKT_OK;
	}
}

void
pkt_key_reverse(const struct pkt_key *in, struct pkt_key *out)
{
	struct pkt_key t = *in;

	memcpy(t.src, in->dst, sizeof(t.src));
	memcpy(t.dst, in->src, sizeof(t.dst));
	t.sport = in->dport;
	t.dport = in->sport;
	*out = t;
}

static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* One multiply-xorshift step: a bijection, so no input collapses the state. */
static inline uint64_t
pkt_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/*
 * Two independent lanes over the five 8-byte words of the key (so the
 * multiplies of one lane overlap those of the other), then a full
 * avalanche of their combination.  Seeded so that a remote sender cannot
 * aim many flows at one bucket without knowing the seed.
 */
uint32_t
pkt_key_hash(const struct pkt_key *k, uint32_t seed)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t s = (uint64_t)seed << 32 | seed;
	uint64_t a = s ^ 0x243f6a8885a308d3ULL;
	uint64_t c = s ^ 0x13198a2e03707344ULL;
	uint64_t h;

	_Static_assert(sizeof(*k) == 40, "pkt_key_hash reads 5 words");
	a = pkt_mix(a, ld64(b));
	c = pkt_mix(c, ld64(b + 8));
	a = pkt_mix(a, ld64(b + 16));
	c = pkt_mix(c, ld64(b + 24));
	a = pkt_mix(a, ld64(b + 32));

	h = a ^ (c << 27 | c >> 37);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)(h ^ (h >> 32));
}

/* The one table of protocol names: packet keys in logs, and gwlbctl's
 * show flows and its proto filter (ctl_commands.c), as gwlbctl(8) has them. */
static const char *const proto_names[256] = {
	[P_TCP] = "tcp", [P_UDP] = "udp", [P_ICMP] = "icmp", [P_ICMPV6] = "icmpv6",
	[P_UDPLITE] = "udplite", [P_SCTP] = "sctp", [P_DCCP] = "dccp", [P_GRE] = "gre",
	[P_ESP] = "esp", [P_AH] = "ah",
};

const char *
pkt_proto_name(uint8_t proto)
{
	return proto_names[proto];
}

int
pkt_key_format(const struct pkt_key *k, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], num[16];
	const char *name;
	int af, n;

	if (k->family == 4)
		af = AF_INET;
	else if (k->family == 6)
		af = AF_INET6;
	else {
		if (size > 0)
			buf[0] = '\0';
		return -EINVAL;
	}
	if (inet_ntop(af, k->src, s, sizeof(s)) == NULL ||
	    inet_ntop(af, k->dst, d, sizeof(d)) == NULL)
		return -EINVAL;
	if (!(name = pkt_proto_name(k->proto))) {
		snprintf(num, sizeof(num), "proto %u", k->proto);
		name = num;
	}

	if (pkt_has_ports(k->proto))
		n = snprintf(buf, size, af == AF_INET6 ?
		    "%s [%s]:%u -> [%s]:%u" : "%s %s:%u -> %s:%u",
		    name, s, k->sport, d, k->dport);
	else if (k->proto == P_ICMP || k->proto == P_ICMPV6)
		n = snprintf(buf, size, "%s %s -> %s id %u", name, s, d,
		    k->sport);
	else
		n = snprintf(buf, size, "%s %s -> %s", name, s, d);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENOSPC;
	return n;
}
