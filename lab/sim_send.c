/*
 * gwlbsim send, run and expect: the GWLB side of the lab.
 *
 * send builds GWLB traffic (flows over many ENIs and attachments, a cookie
 * per flow, IPv4 and IPv6 inner TCP/UDP/ICMP, sizes, a rate) and writes it
 * with sendmmsg() on a raw socket, each flow from its own UDP source port
 * as GWLB does.  expect watches a namespace's links with a packet socket:
 * it notes every GENEVE datagram leaving for the appliance (whoever sent
 * it: gwlbsim, scapy, the bridge) and judges every one coming back.  run is
 * both in one process, so it also knows exactly when it is done.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "name.h"
#include "sim.h"

#define MAX_SRCS	16
#define MAX_ENIS	4096

/* What to send. */
struct traffic {
	uint32_t	dst;			/* appliance, network order */
	uint32_t	src[MAX_SRCS];		/* GWLB node addresses */
	int		nsrc;
	uint16_t	port;
	uint64_t	flows;
	uint64_t	eni[MAX_ENIS];
	size_t		neni;
	uint64_t	enis;			/* --enis N: generate N */
	uint64_t	attachment;
	uint64_t	attachments;
	uint8_t		proto[3];
	int		nproto;
	uint8_t		family[2];
	int		nfamily;
	uint64_t	size_lo, size_hi;
	uint64_t	ttl;
	uint32_t	in4_src, in4_dst;	/* host order */
	uint8_t		in6_src[16], in6_dst[16];
	uint64_t	dport;
	uint64_t	sport_base;
	uint64_t	rate;			/* 0: as fast as possible */
	uint64_t	count;
	uint64_t	duration_ns;
	uint64_t	batch;
	uint64_t	seed;
	uint64_t	cookie_change_at;	/* 0: never */
	uint64_t	cookie;			/* first cookie; 0: random */
	bool		udp_csum;
	bool		sink;
	bool		json;
};

/* How to judge what comes back. */
struct judge {
	struct chk_opts	co;
	char		dev[IF_NAMESIZE];
	uint64_t	wait_ns;
	uint64_t	max_loss;
	bool		max_loss_pct;
	uint64_t	min_received;
	uint64_t	duration_ns;
	uint64_t	idle_ns;
	uint64_t	count;
	const char	*hist_file;	/* --latency-hist */
	bool		json;
};

enum {
	OPT_DST = 1000, OPT_SRC, OPT_PORT, OPT_FLOWS, OPT_ENI, OPT_ENIS,
	OPT_ATT, OPT_ATTS, OPT_PROTO, OPT_FAMILY, OPT_SIZE, OPT_TTL,
	OPT_IN_SRC4, OPT_IN_DST4, OPT_IN_SRC6, OPT_IN_DST6, OPT_DPORT,
	OPT_SPORT_BASE, OPT_RATE, OPT_COUNT, OPT_DURATION, OPT_BATCH,
	OPT_SEED, OPT_COOKIE, OPT_COOKIE_CHANGE, OPT_UDP_CSUM, OPT_NO_SINK, OPT_JSON,
	OPT_INNER, OPT_DEV, OPT_WAIT, OPT_MAX_LOSS, OPT_MIN_RECV, OPT_GRACE,
	OPT_WINDOW, OPT_IDLE, OPT_LAT_HIST, OPT_HELP,
};

#define TRAFFIC_LONGOPTS \
	{ "dst", required_argument, NULL, OPT_DST },			\
	{ "src", required_argument, NULL, OPT_SRC },			\
	{ "port", required_argument, NULL, OPT_PORT },			\
	{ "flows", required_argument, NULL, OPT_FLOWS },		\
	{ "eni", required_argument, NULL, OPT_ENI },			\
	{ "enis", required_argument, NULL, OPT_ENIS },			\
	{ "attachment", required_argument, NULL, OPT_ATT },		\
	{ "attachments", required_argument, NULL, OPT_ATTS },		\
	{ "proto", required_argument, NULL, OPT_PROTO },		\
	{ "family", required_argument, NULL, OPT_FAMILY },		\
	{ "size", required_argument, NULL, OPT_SIZE },			\
	{ "ttl", required_argument, NULL, OPT_TTL },			\
	{ "inner-src4", required_argument, NULL, OPT_IN_SRC4 },		\
	{ "inner-dst4", required_argument, NULL, OPT_IN_DST4 },		\
	{ "inner-src6", required_argument, NULL, OPT_IN_SRC6 },		\
	{ "inner-dst6", required_argument, NULL, OPT_IN_DST6 },		\
	{ "dport", required_argument, NULL, OPT_DPORT },		\
	{ "sport-base", required_argument, NULL, OPT_SPORT_BASE },	\
	{ "rate", required_argument, NULL, OPT_RATE },			\
	{ "count", required_argument, NULL, OPT_COUNT },		\
	{ "duration", required_argument, NULL, OPT_DURATION },		\
	{ "batch", required_argument, NULL, OPT_BATCH },		\
	{ "seed", required_argument, NULL, OPT_SEED },			\
	{ "cookie", required_argument, NULL, OPT_COOKIE },		\
	{ "cookie-change-at", required_argument, NULL, OPT_COOKIE_CHANGE }, \
	{ "udp-csum", required_argument, NULL, OPT_UDP_CSUM },		\
	{ "no-sink", no_argument, NULL, OPT_NO_SINK },			\
	{ "json", no_argument, NULL, OPT_JSON },			\
	{ "help", no_argument, NULL, OPT_HELP }

#define JUDGE_LONGOPTS \
	{ "inner", required_argument, NULL, OPT_INNER },		\
	{ "dev", required_argument, NULL, OPT_DEV },			\
	{ "wait", required_argument, NULL, OPT_WAIT },			\
	{ "max-loss", required_argument, NULL, OPT_MAX_LOSS },		\
	{ "min-received", required_argument, NULL, OPT_MIN_RECV },	\
	{ "grace", required_argument, NULL, OPT_GRACE },		\
	{ "window", required_argument, NULL, OPT_WINDOW },		\
	{ "idle", required_argument, NULL, OPT_IDLE },			\
	{ "latency-hist", required_argument, NULL, OPT_LAT_HIST }

static const char traffic_help[] =
"  --dst ADDR           appliance address (198.18.0.2)\n"
"  --src ADDR[,ADDR..]  GWLB node addresses, flows spread over them\n"
"                       (default: the source the route to --dst uses)\n"
"  --port N             GENEVE destination port (6081)\n"
"  --flows N            number of flows (1)\n"
"  --eni ID[,ID..]      ENI ids, hex (076bc493b822cd32f)\n"
"  --enis N             N ENI ids counting up from the first --eni\n"
"  --attachment ID      first attachment id, hex (a1b2c3d4e5f60718)\n"
"  --attachments N      attachment ids counting up from it (1)\n"
"  --proto LIST         inner protocols: tcp,udp,icmp (udp)\n"
"  --family LIST        inner families: 4,6 (4)\n"
"  --size N|MIN-MAX     inner packet size in bytes, 28..8933 (100);\n"
"                       a range picks sizes at random; sizes below a\n"
"                       protocol's minimum (IPv4 UDP 28, TCP 40; IPv6 48,\n"
"                       60) are raised to it\n"
"  --ttl N              inner TTL / hop limit (64)\n"
"  --inner-src4 A, --inner-dst4 A, --inner-src6 A, --inner-dst6 A\n"
"                       first inner addresses (192.0.2.1, 198.51.100.1,\n"
"                       2001:db8:1::1, 2001:db8:2::1); flows vary the\n"
"                       source and the source port\n"
"  --dport N            inner TCP/UDP destination port (5001)\n"
"  --sport-base N       first outer (GWLB) source port (20000)\n"
"  --rate PPS           packets per second (0: as fast as possible)\n"
"  --count N            packets to send; --duration S: seconds to send;\n"
"                       with neither, 1000 packets; with both, whichever\n"
"                       comes first\n"
"  --batch N            datagrams per sendmmsg (64, at most 256)\n"
"  --seed N             seed for cookies and sizes (1)\n"
"  --cookie C           flow i gets cookie C + i, hex (default: random)\n"
"  --cookie-change-at N from the Nth packet on, every flow has a new cookie\n"
"  --udp-csum full|zero outer UDP checksum (full)\n"
"  --no-sink            do not bind the GENEVE port in this namespace\n"
"                       (by default it is bound and drained, so replies\n"
"                       draw no ICMP port unreachable)\n"
"  --json               print the result as one JSON object\n";

static const char judge_help[] =
"  --inner forwarded|reply|any\n"
"                       what the appliance sends back: the packets it got\n"
"                       (TTL kept or one less: reflect, kernel forwarding),\n"
"                       replies of its own (reversed 5-tuple, sane headers\n"
"                       and checksums), or either (forwarded)\n"
"  --dev IF             only watch this link (default: every link)\n"
"  --max-loss N|P%      loss allowed, packets or percent of sent (0)\n"
"  --min-received N     fail when fewer came back (1)\n"
"  --grace S            how long a superseded header (old cookie) is still\n"
"                       accepted on a reply that cannot be tied to the\n"
"                       packet it answers (0.2)\n"
"  --window N           sent packets remembered for matching (262144)\n"
"  --latency-hist FILE  write the round-trip histogram to FILE: one line\n"
"                       \"lower_ns upper_ns count\" per non-empty bucket\n"
"                       (log-linear, 128 per power of two)\n";

static const char latency_help[] =
"\nLatency: every returned packet that matches one sent (forwarded, not a\n"
"reply of the appliance's own) and passes adds its round trip: from its\n"
"sending (run: its share of its sendmmsg call; expect: when it was seen\n"
"leaving) to the kernel's receive timestamp in this namespace.  Reported\n"
"as p50, p90, p99, p99.9, max in microseconds (JSON: \"latency_us\"; null\n"
"when nothing was timed).  \"capture_drops\": datagrams our own packet\n"
"socket dropped (counted as lost).\n";

static void
traffic_defaults(struct traffic *t)
{
	memset(t, 0, sizeof(*t));
	sim_parse_ip4("198.18.0.2", &t->dst);
	t->port = GENEVE_PORT;
	t->flows = 1;
	t->attachment = 0xa1b2c3d4e5f60718ULL;
	t->attachments = 1;
	t->proto[0] = IPPROTO_UDP;
	t->nproto = 1;
	t->family[0] = 4;
	t->nfamily = 1;
	t->size_lo = t->size_hi = 100;
	t->ttl = 64;
	t->in4_src = 0xc0000201;	/* 192.0.2.1 */
	t->in4_dst = 0xc6336401;	/* 198.51.100.1 */
	inet_pton(AF_INET6, "2001:db8:1::1", t->in6_src);
	inet_pton(AF_INET6, "2001:db8:2::1", t->in6_dst);
	t->dport = 5001;
	t->sport_base = 20000;
	t->batch = 64;
	t->seed = 1;
	t->udp_csum = true;
	t->sink = true;
}

static void
judge_defaults(struct judge *j)
{
	memset(j, 0, sizeof(*j));
	j->co.inner = CHK_INNER_FORWARDED;
	j->co.port = GENEVE_PORT;
	j->co.grace_ns = 200000000;
	j->co.window = 262144;
	j->wait_ns = 1000000000;
	j->min_received = 1;
	j->duration_ns = 10ULL * 1000000000;
	j->idle_ns = 1000000000;
}

static int
parse_list(const char *arg, int (*one)(const char *, void *), void *ctx)
{
	char buf[4096], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (one(tok, ctx) < 0)
			return -EINVAL;
	return 0;
}

static int
one_src(const char *s, void *ctx)
{
	struct traffic *t = ctx;

	if (t->nsrc == MAX_SRCS)
		return -EINVAL;
	return sim_parse_ip4(s, &t->src[t->nsrc++]);
}

static int
one_eni(const char *s, void *ctx)
{
	struct traffic *t = ctx;
	uint64_t id;

	if (t->neni == MAX_ENIS || name_parse_hex(s, &id) < 0)
		return -EINVAL;
	t->eni[t->neni++] = id;
	return 0;
}

static int
one_proto(const char *s, void *ctx)
{
	struct traffic *t = ctx;
	uint8_t p;

	if (strcmp(s, "tcp") == 0)
		p = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		p = IPPROTO_UDP;
	else if (strcmp(s, "icmp") == 0)
		p = IPPROTO_ICMP;
	else
		return -EINVAL;
	if (t->nproto == 3)
		return -EINVAL;
	t->proto[t->nproto++] = p;
	return 0;
}

static int
one_family(const char *s, void *ctx)
{
	struct traffic *t = ctx;

	if (t->nfamily == 2 || (strcmp(s, "4") && strcmp(s, "6")))
		return -EINVAL;
	t->family[t->nfamily++] = (uint8_t)(s[0] - '0');
	return 0;
}

/* 1: not a traffic option; 0: taken; -EINVAL: bad value. */
static int
traffic_opt(struct traffic *t, int c, const char *arg)
{
	uint64_t v;
	uint32_t a4;

	switch (c) {
	case OPT_DST:
		return sim_parse_ip4(arg, &t->dst);
	case OPT_SRC:
		t->nsrc = 0;
		return parse_list(arg, one_src, t);
	case OPT_PORT:
		if (sim_parse_u64(arg, 1, 65535, &v) < 0)
			return -EINVAL;
		t->port = (uint16_t)v;
		return 0;
	case OPT_FLOWS:
		return sim_parse_u64(arg, 1, 1u << 24, &t->flows);
	case OPT_ENI:
		t->neni = 0;
		return parse_list(arg, one_eni, t);
	case OPT_ENIS:
		return sim_parse_u64(arg, 1, MAX_ENIS, &t->enis);
	case OPT_ATT:
		return name_parse_hex(arg, &t->attachment);
	case OPT_ATTS:
		return sim_parse_u64(arg, 1, 1u << 20, &t->attachments);
	case OPT_PROTO:
		t->nproto = 0;
		return parse_list(arg, one_proto, t);
	case OPT_FAMILY:
		t->nfamily = 0;
		return parse_list(arg, one_family, t);
	case OPT_SIZE:
		return sim_parse_range(arg, 28, SIM_INNER_MAX, &t->size_lo, &t->size_hi);
	case OPT_TTL:
		return sim_parse_u64(arg, 1, 255, &t->ttl);
	case OPT_IN_SRC4:
	case OPT_IN_DST4:
		if (sim_parse_ip4(arg, &a4) < 0)
			return -EINVAL;
		*(c == OPT_IN_SRC4 ? &t->in4_src : &t->in4_dst) = ntohl(a4);
		return 0;
	case OPT_IN_SRC6:
		return inet_pton(AF_INET6, arg, t->in6_src) == 1 ? 0 : -EINVAL;
	case OPT_IN_DST6:
		return inet_pton(AF_INET6, arg, t->in6_dst) == 1 ? 0 : -EINVAL;
	case OPT_DPORT:
		return sim_parse_u64(arg, 1, 65535, &t->dport);
	case OPT_SPORT_BASE:
		return sim_parse_u64(arg, 1024, 65535, &t->sport_base);
	case OPT_RATE:
		return sim_parse_u64(arg, 0, 100000000, &t->rate);
	case OPT_COUNT:
		return sim_parse_u64(arg, 1, UINT64_MAX / 2, &t->count);
	case OPT_DURATION:
		return sim_parse_secs(arg, &t->duration_ns);
	case OPT_BATCH:
		return sim_parse_u64(arg, 1, SIM_BATCH_MAX, &t->batch);
	case OPT_SEED:
		return sim_parse_u64(arg, 0, UINT64_MAX, &t->seed);
	case OPT_COOKIE:
		if (name_parse_hex(arg, &t->cookie) < 0 || t->cookie > UINT32_MAX)
			return -EINVAL;
		return 0;
	case OPT_COOKIE_CHANGE:
		return sim_parse_u64(arg, 1, UINT64_MAX / 2, &t->cookie_change_at);
	case OPT_UDP_CSUM:
		if (strcmp(arg, "full") == 0)
			t->udp_csum = true;
		else if (strcmp(arg, "zero") == 0)
			t->udp_csum = false;
		else
			return -EINVAL;
		return 0;
	case OPT_NO_SINK:
		t->sink = false;
		return 0;
	case OPT_JSON:
		t->json = true;
		return 0;
	}
	return 1;
}

static int
judge_opt(struct judge *j, int c, const char *arg)
{
	uint64_t v;
	size_t n;

	switch (c) {
	case OPT_INNER:
		return chk_inner_parse(arg, &j->co.inner);
	case OPT_DEV:
		if (strlen(arg) >= IF_NAMESIZE)
			return -EINVAL;
		strcpy(j->dev, arg);
		return 0;
	case OPT_WAIT:
		return sim_parse_secs(arg, &j->wait_ns);
	case OPT_MAX_LOSS: {
		char buf[32];

		n = strlen(arg);
		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		strcpy(buf, arg);
		j->max_loss_pct = buf[n - 1] == '%';
		if (j->max_loss_pct)
			buf[n - 1] = '\0';
		return sim_parse_u64(buf, 0, j->max_loss_pct ? 100 : UINT64_MAX,
		    &j->max_loss);
	}
	case OPT_MIN_RECV:
		return sim_parse_u64(arg, 0, UINT64_MAX, &j->min_received);
	case OPT_GRACE:
		return sim_parse_secs(arg, &j->co.grace_ns);
	case OPT_WINDOW:
		if (sim_parse_u64(arg, 1024, 1u << 26, &v) < 0)
			return -EINVAL;
		j->co.window = (size_t)v;
		return 0;
	case OPT_IDLE:
		return sim_parse_secs(arg, &j->idle_ns);
	case OPT_LAT_HIST:
		if (*arg == '\0')
			return -EINVAL;
		j->hist_file = arg;
		return 0;
	case OPT_DURATION:
		return sim_parse_secs(arg, &j->duration_ns);
	case OPT_COUNT:
		return sim_parse_u64(arg, 1, UINT64_MAX, &j->count);
	case OPT_JSON:
		j->json = true;
		return 0;
	}
	return 1;
}

/* Build the flows: deterministic from the options and the seed. */
static struct sim_flow *
make_flows(struct traffic *t)
{
	struct sim_flow *fl;
	uint64_t rng = t->seed;

	if (t->neni == 0)
		t->eni[t->neni++] = 0x076bc493b822cd32fULL;
	if (t->enis > 1) {
		uint64_t base = t->eni[0];

		for (t->neni = 0; t->neni < t->enis; t->neni++)
			t->eni[t->neni] = base + t->neni;
	}
	fl = calloc(t->flows, sizeof(*fl));
	if (fl == NULL)
		return NULL;
	for (uint64_t i = 0; i < t->flows; i++) {
		struct sim_flow *f = &fl[i];
		uint64_t host = i % 250, hi = i / 250;

		f->aws.eni_id = t->eni[i % t->neni];
		f->aws.attachment_id = t->attachment + i % t->attachments;
		do
			f->aws.cookie = (uint32_t)sim_rng(&rng);
		while (f->aws.cookie == 0);
		if (t->cookie)
			f->aws.cookie = (uint32_t)(t->cookie + i);
		f->proto = t->proto[i % (uint64_t)t->nproto];
		f->family = t->family[(i / (uint64_t)t->nproto) % (uint64_t)t->nfamily];
		if (f->family == 6 && f->proto == IPPROTO_ICMP)
			f->proto = IPPROTO_ICMPV6;
		if (f->family == 4) {
			uint32_t s = htonl(t->in4_src + (uint32_t)host);
			uint32_t d = htonl(t->in4_dst);

			memcpy(f->src, &s, 4);
			memcpy(f->dst, &d, 4);
		} else {
			memcpy(f->src, t->in6_src, 16);
			memcpy(f->dst, t->in6_dst, 16);
			f->src[15] = (uint8_t)(f->src[15] + host);
		}
		if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) {
			f->sport = (uint16_t)(10000 + hi % 55000);
			f->dport = (uint16_t)t->dport;
		} else {
			f->sport = f->dport = (uint16_t)(0x4000 + hi % 0xbfff);
		}
		f->outer_src = t->src[i % (uint64_t)t->nsrc];
		f->outer_dst = t->dst;
		f->outer_sport = (uint16_t)(t->sport_base + i % (65536 - t->sport_base));
		if (f->outer_sport == t->port)	/* never look like a reply */
			f->outer_sport = (uint16_t)(t->port == 65535 ?
			    t->sport_base : t->port + 1u);
		f->outer_dport = t->port;
		f->tcp_seq = (uint32_t)sim_rng(&rng);
	}
	return fl;
}

/* The sender's state, shared by send and run. */
struct sender {
	struct traffic	*t;
	struct sim_flow	*fl;
	int		 fd;
	uint8_t		*buf;
	size_t		 slot;
	struct mmsghdr	 msg[SIM_BATCH_MAX];
	struct iovec	 iov[SIM_BATCH_MAX];
	struct sockaddr_in to;
	uint64_t	 rng;
	uint64_t	 next_flow;
	uint64_t	 built;		/* packets built (and sent) */
	uint64_t	 sent;
	uint64_t	 bytes;
	uint64_t	 retries;	/* ENOBUFS/EAGAIN, tried again */
	uint64_t	 clamped;	/* sizes raised to a protocol's minimum */
	uint16_t	 ip_id;
	bool		 changed;
	uint64_t	 t0, t1;
};

static int
sender_init(struct sender *s, struct traffic *t)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->fd = -1;
	s->rng = t->seed ^ 0x5a5a5a5a;
	s->slot = SIM_ENCAP_LEN + t->size_hi + 64;
	s->fl = make_flows(t);
	s->buf = malloc(s->slot * t->batch);
	if (s->fl == NULL || s->buf == NULL)
		return -ENOMEM;
	s->to.sin_family = AF_INET;
	s->to.sin_addr.s_addr = t->dst;
	s->fd = sim_raw_open(4 << 20);
	return s->fd < 0 ? s->fd : 0;
}

static void
sender_fini(struct sender *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->fl);
	free(s->buf);
}

/* Build n datagrams into the batch. */
static void
sender_build(struct sender *s, unsigned n)
{
	struct traffic *t = s->t;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *b = s->buf + s->slot * i;
		struct sim_flow *f;
		uint64_t size = t->size_lo;
		size_t ilen, len;

		if (t->cookie_change_at && !s->changed &&
		    s->built + 1 >= t->cookie_change_at) {
			/* every flow gets a new cookie, as a reused 5-tuple would */
			for (uint64_t k = 0; k < t->flows; k++) {
				uint32_t old = s->fl[k].aws.cookie, nc;

				do
					nc = (uint32_t)sim_rng(&s->rng);
				while (nc == 0 || nc == old);
				s->fl[k].aws.cookie = nc;
			}
			s->changed = true;
		}
		f = &s->fl[s->next_flow];
		s->next_flow = (s->next_flow + 1) % t->flows;
		if (t->size_hi > t->size_lo)
			size += sim_rng(&s->rng) % (t->size_hi - t->size_lo + 1);
		if (size < sim_inner_min(f->family, f->proto))
			s->clamped++;
		ilen = sim_build_inner(b + SIM_ENCAP_LEN, s->slot - SIM_ENCAP_LEN,
		    f, size, (uint8_t)t->ttl);
		geneve_encode(b + SIM_OUTER_LEN, GENEVE_AWS_HDR_LEN, &f->aws,
		    f->family == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
		len = SIM_ENCAP_LEN + ilen;
		sim_outer_finish(b, len, f->outer_src, f->outer_dst,
		    f->outer_sport, f->outer_dport, 64, s->ip_id++, t->udp_csum);
		s->iov[i].iov_base = b;
		s->iov[i].iov_len = len;
		memset(&s->msg[i].msg_hdr, 0, sizeof(s->msg[i].msg_hdr));
		s->msg[i].msg_hdr.msg_iov = &s->iov[i];
		s->msg[i].msg_hdr.msg_iovlen = 1;
		s->msg[i].msg_hdr.msg_name = &s->to;
		s->msg[i].msg_hdr.msg_namelen = sizeof(s->to);
		s->built++;
	}
}

/* Send the batch; 0 or -errno.  Transient shortage of buffers is retried. */
static int
sender_flush(struct sender *s, unsigned n, struct chk *c)
{
	unsigned done = 0;

	while (done < n && !sim_stop) {
		uint64_t t0 = sim_now_ns(), t1;
		int r = sendmmsg(s->fd, s->msg + done, n - done, 0);

		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				s->retries++;
				sim_sleep_until(sim_now_ns() + 20000);
				continue;
			}
			return -errno;
		}
		/*
		 * The datagrams left one after the other during the call: each
		 * is dated at the start of its share of it, so the first does
		 * not wait for the last, and none is dated after it left (its
		 * reply may well be back before the call returns).
		 */
		t1 = sim_now_ns();
		for (int i = 0; i < r; i++) {
			s->bytes += s->iov[done + (unsigned)i].iov_len;
			if (c)
				chk_note_sent(c, s->iov[done + (unsigned)i].iov_base,
				    s->iov[done + (unsigned)i].iov_len,
				    t0 + (t1 - t0) * (uint64_t)i / (uint64_t)r);
		}
		done += (unsigned)r;
		s->sent += (unsigned)r;
	}
	return 0;
}

static int
drain(struct sim_rx *rx, struct chk *c, int timeout_ms, bool note_outgoing)
{
	struct sim_rx_pkt p;
	int n, total = 0;

	for (;;) {
		n = sim_rx_recv(rx, total ? 0 : timeout_ms);
		if (n <= 0)
			return n < 0 ? n : total;
		for (int i = 0; i < n; i++) {
			uint64_t t;

			sim_rx_get(rx, (unsigned)i, &p);
			t = p.ts_ns ? p.ts_ns : sim_now_ns();
			if (p.outgoing) {
				if (note_outgoing)
					chk_note_sent(c, p.data, p.len, t);
			} else {
				chk_returned(c, p.data, p.len, p.csum_ready, t);
			}
		}
		total += n;
		if (total >= 4096)
			return total;	/* let the sender go on */
	}
}

/*
 * The send loop.  With rx (run), replies are judged while sending so the
 * packet socket never overflows.
 */
static int
sender_run(struct sender *s, struct sim_rx *rx, struct chk *c)
{
	struct traffic *t = s->t;
	uint64_t now, count = t->count, end = 0;
	int err;

	if (count == 0 && t->duration_ns == 0)
		count = 1000;
	s->t0 = now = sim_now_ns();
	if (t->duration_ns)
		end = s->t0 + t->duration_ns;
	while (!sim_stop) {
		uint64_t n = t->batch;

		if (count && s->sent >= count)
			break;
		if (end && now >= end)
			break;
		if (count && count - s->sent < n)
			n = count - s->sent;
		if (t->rate) {
			uint64_t due = (now - s->t0) * t->rate / 1000000000u + 1;

			if (due <= s->sent) {
				uint64_t at = s->t0 + (s->sent * 1000000000u) / t->rate;

				if (end && at > end)
					at = end;
				if (rx && at > now) {
					int ms = (int)((at - now) / 1000000u);

					drain(rx, c, ms, false);
					if (ms == 0)
						sim_sleep_until(at);
				} else {
					sim_sleep_until(at);
				}
				now = sim_now_ns();
				continue;
			}
			if (due - s->sent < n)
				n = due - s->sent;
		}
		sender_build(s, (unsigned)n);
		err = sender_flush(s, (unsigned)n, c);
		if (err < 0) {
			errno = -err;
			sim_warn("sendmmsg");
			return err;
		}
		if (rx)
			drain(rx, c, 0, false);
		now = sim_now_ns();
	}
	s->t1 = sim_now_ns();
	return 0;
}

static int
setup_src(struct traffic *t)
{
	int err;

	if (t->nsrc)
		return 0;
	err = sim_route_src(t->dst, &t->src[0]);
	if (err < 0) {
		errno = -err;
		sim_warn("no route to the appliance");
		return err;
	}
	t->nsrc = 1;
	return 0;
}

static void
sink_maybe(bool want, uint16_t port)
{
	int fd;

	if (!want)
		return;
	fd = sim_sink_open(port);
	if (fd < 0 && fd != -EADDRINUSE) {
		errno = -fd;
		sim_warn("cannot bind UDP port %u as a sink", port);
	}
	/* fd stays open until exit on purpose */
}

static void
usage_send(FILE *f)
{
	fprintf(f, "usage: gwlbsim send [OPTIONS]\n"
	    "Send GWLB GENEVE traffic to an appliance: real GWLB headers (ENI,\n"
	    "attachment, per-flow cookie), each flow from its own UDP source port,\n"
	    "batched with sendmmsg() on a raw socket.  Prints what was sent and\n"
	    "the rate.  Run it in the GWLB namespace.\n\n%s", traffic_help);
}

static void
print_send(const struct sender *s, FILE *f, bool json)
{
	double secs = (double)(s->t1 - s->t0) / 1e9;
	double pps = secs > 0 ? (double)s->sent / secs : 0;

	if (json) {
		fprintf(f, "{\"sent\":%" PRIu64 ",\"bytes\":%" PRIu64
		    ",\"seconds\":%.6f,\"pps\":%.0f,\"mbps\":%.1f,\"retries\":%"
		    PRIu64 ",\"clamped\":%" PRIu64 ",\"flows\":%" PRIu64 "}\n",
		    s->sent, s->bytes, secs, pps,
		    secs > 0 ? (double)s->bytes * 8 / secs / 1e6 : 0,
		    s->retries, s->clamped, s->t->flows);
		return;
	}
	fprintf(f, "sent %" PRIu64 " packets (%" PRIu64 " bytes) in %.3f s: "
	    "%.0f pps, %.1f Mbit/s outer\n", s->sent, s->bytes, secs, pps,
	    secs > 0 ? (double)s->bytes * 8 / secs / 1e6 : 0);
	if (s->retries)
		fprintf(f, "%" PRIu64 " sendmmsg retries (buffers full)\n", s->retries);
	if (s->clamped)
		fprintf(f, "%" PRIu64 " packets raised to their protocol's minimum "
		    "size\n", s->clamped);
}

int
cmd_send(int argc, char **argv)
{
	static const struct option lo[] = { TRAFFIC_LONGOPTS, { 0, 0, 0, 0 } };
	struct traffic t;
	struct sender s;
	int c, rc;

	traffic_defaults(&t);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			usage_send(stdout);
			return SIM_EXIT_PASS;
		}
		if (c == '?' || traffic_opt(&t, c, optarg) != 0) {
			if (c != '?')
				sim_warnx("bad value for --%s: '%s'",
				    cmd_optname(lo, c), optarg);
			fprintf(stderr, "(gwlbsim send --help lists the options)\n");
			return SIM_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		sim_warnx("unexpected argument '%s'", argv[optind]);
		return SIM_EXIT_USAGE;
	}
	if (setup_src(&t) < 0)
		return SIM_EXIT_ERROR;
	sink_maybe(t.sink, t.port);
	if ((rc = sender_init(&s, &t)) < 0) {
		errno = -rc;
		sim_warn("cannot set up the sender");
		sender_fini(&s);
		return SIM_EXIT_ERROR;
	}
	sim_signals();
	rc = sender_run(&s, NULL, NULL);
	print_send(&s, stdout, t.json);
	sender_fini(&s);
	return rc < 0 ? SIM_EXIT_ERROR : SIM_EXIT_PASS;
}

static int
open_rx(const struct judge *j, bool outgoing, struct sim_rx *rx)
{
	int ifindex = 0, fd, err;

	if (j->dev[0]) {
		ifindex = (int)if_nametoindex(j->dev);
		if (ifindex == 0) {
			sim_warn("link %s", j->dev);
			return -ENODEV;
		}
	}
	fd = sim_packet_open(ifindex, j->co.port, false, outgoing, 64 << 20);
	if (fd < 0) {
		errno = -fd;
		sim_warn("packet socket");
		return fd;
	}
	err = sim_rx_init(rx, fd, 64);
	if (err < 0) {
		close(fd);
		return err;
	}
	err = sim_rx_timestamps(fd);
	if (err < 0) {
		errno = -err;
		sim_warn("no kernel receive timestamps: latency includes our own "
		    "delay in reading");
	}
	return 0;
}

/*
 * What our own packet socket dropped (its queue full): such datagrams came
 * back but were never judged, so they count as lost.  Reading resets the
 * kernel's counter; call once, at the end.
 */
static uint64_t
capture_drops(int fd)
{
	struct tpacket_stats ts;
	socklen_t len = sizeof(ts);

	memset(&ts, 0, sizeof(ts));
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) < 0)
		return 0;
	return ts.tp_drops;
}

static bool
judge_pass(const struct judge *j, const struct chk *c, uint64_t cdrops,
    char *extra, size_t sz, bool json)
{
	const struct chk_stats *st = chk_stats(c);
	uint64_t lost = chk_lost(c), allowed = j->max_loss;
	const char *why = NULL;
	int n;

	if (j->max_loss_pct)
		allowed = st->sent * j->max_loss / 100;
	if (st->mismatched)
		why = "mismatched packets";
	else if (lost > allowed)
		why = "lost more than allowed";
	else if (st->received < j->min_received)
		why = "too few packets came back";
	if (json)
		n = snprintf(extra, sz, "\"capture_drops\":%" PRIu64 ",", cdrops);
	else if (cdrops)
		n = snprintf(extra, sz, "%" PRIu64 " datagrams dropped by our own "
		    "packet socket (counted as lost)\n", cdrops);
	else
		n = 0;
	if (n < 0 || (size_t)n >= sz)
		n = 0;
	if (json)
		snprintf(extra + n, sz - (size_t)n, "\"pass\":%s,\"verdict\":\"%s\"",
		    why ? "false" : "true", why ? why : "pass");
	else
		snprintf(extra + n, sz - (size_t)n, "%s%s", why ? "FAIL: " : "PASS",
		    why ? why : "");
	return why == NULL;
}

/* --latency-hist: the histogram to its file; false if it could not be. */
static bool
write_hist(const struct judge *j, const struct chk *c)
{
	FILE *f;
	int err;

	if (j->hist_file == NULL)
		return true;
	f = fopen(j->hist_file, "w");
	if (f == NULL) {
		sim_warn("%s", j->hist_file);
		return false;
	}
	err = sim_hist_write(chk_latency(c), f);
	if (fclose(f) != 0 || err < 0) {
		sim_warn("writing %s", j->hist_file);
		return false;
	}
	return true;
}

static void
usage_run(FILE *f)
{
	fprintf(f, "usage: gwlbsim run [OPTIONS]\n"
	    "Send like 'gwlbsim send' and judge what the appliance sends back\n"
	    "like 'gwlbsim expect', in one process: every returned datagram must\n"
	    "carry the GENEVE header (byte for byte) of the latest packet sent on\n"
	    "its flow, the outer addresses swapped, the UDP ports kept (source =\n"
	    "the flow's GWLB source port, destination 6081), a sane outer IPv4\n"
	    "header (TTL > 1, right checksums) and the inner packet as --inner\n"
	    "says.  Exit 0 when all passed, 1 when not.\n\n%s%s"
	    "  --wait S             after sending, wait this long at most for the\n"
	    "                       rest to come back (1)\n%s", traffic_help, judge_help,
	    latency_help);
}

int
cmd_run(int argc, char **argv)
{
	static const struct option lo[] = { TRAFFIC_LONGOPTS, JUDGE_LONGOPTS,
	    { 0, 0, 0, 0 } };
	struct traffic t;
	struct judge j;
	struct sender s;
	struct sim_rx rx;
	struct chk *c = NULL;
	char extra[256];
	int ch, rc = SIM_EXIT_ERROR;
	uint64_t until;
	bool pass;

	traffic_defaults(&t);
	judge_defaults(&j);
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int r;

		if (ch == 'h' || ch == OPT_HELP) {
			usage_run(stdout);
			return SIM_EXIT_PASS;
		}
		if (ch == '?') {
			fprintf(stderr, "(gwlbsim run --help lists the options)\n");
			return SIM_EXIT_USAGE;
		}
		/* count and duration belong to the sender here */
		r = traffic_opt(&t, ch, optarg);
		if (r == 1)
			r = judge_opt(&j, ch, optarg);
		if (r != 0) {
			sim_warnx("bad value for --%s: '%s'", cmd_optname(lo, ch),
			    optarg ? optarg : "");
			return SIM_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		sim_warnx("unexpected argument '%s'", argv[optind]);
		return SIM_EXIT_USAGE;
	}
	j.json = t.json;
	j.co.port = t.port;
	if (setup_src(&t) < 0)
		return SIM_EXIT_ERROR;
	sink_maybe(t.sink, t.port);
	if (open_rx(&j, false, &rx) < 0)
		return SIM_EXIT_ERROR;
	if (chk_new(&j.co, &c) < 0 || sender_init(&s, &t) < 0) {
		sim_warn("cannot set up");
		goto out;
	}
	sim_signals();
	if (sender_run(&s, &rx, c) < 0)
		goto out;
	until = sim_now_ns() + j.wait_ns;
	while (!sim_stop && !chk_complete(c)) {
		uint64_t now = sim_now_ns();

		if (now >= until)
			break;
		if (drain(&rx, c, (int)((until - now) / 1000000u) + 1, false) < 0)
			break;
	}
	pass = judge_pass(&j, c, capture_drops(rx.fd), extra, sizeof(extra), j.json);
	if (!j.json)
		print_send(&s, stdout, false);
	chk_report(c, stdout, j.json, extra);
	rc = pass ? SIM_EXIT_PASS : SIM_EXIT_FAIL;
	if (!write_hist(&j, c))
		rc = SIM_EXIT_ERROR;
out:
	sender_fini(&s);
	chk_free(c);
	close(rx.fd);
	sim_rx_free(&rx);
	return rc;
}

static void
usage_expect(FILE *f)
{
	fprintf(f, "usage: gwlbsim expect [OPTIONS]\n"
	    "Watch this namespace's links and judge every GENEVE datagram that\n"
	    "comes back from the appliance against the datagrams seen leaving for\n"
	    "it (sent by anyone: gwlbsim send, scapy, the bridge), by the rules\n"
	    "of 'gwlbsim run'.  Prints 'ready' on stderr once it watches.  Stops\n"
	    "after --duration, --count returned datagrams, --idle seconds without\n"
	    "traffic (once something was seen), or SIGINT/SIGTERM; then reports.\n\n"
	    "%s"
	    "  --duration S         watch at most this long (10)\n"
	    "  --count N            stop after N returned datagrams\n"
	    "  --idle S             stop after S seconds of silence (1; 0: never)\n"
	    "  --port N             GENEVE port (6081)\n"
	    "  --no-sink            do not bind the GENEVE port\n"
	    "  --json               print the result as one JSON object\n%s",
	    judge_help, latency_help);
}

int
cmd_expect(int argc, char **argv)
{
	static const struct option lo[] = { JUDGE_LONGOPTS,
	    { "duration", required_argument, NULL, OPT_DURATION },
	    { "count", required_argument, NULL, OPT_COUNT },
	    { "port", required_argument, NULL, OPT_PORT },
	    { "no-sink", no_argument, NULL, OPT_NO_SINK },
	    { "json", no_argument, NULL, OPT_JSON },
	    { "help", no_argument, NULL, OPT_HELP },
	    { 0, 0, 0, 0 } };
	struct judge j;
	struct sim_rx rx;
	struct chk *c = NULL;
	char extra[256];
	bool sink = true, pass;
	uint64_t start, end, v;
	int ch, rc = SIM_EXIT_ERROR;

	judge_defaults(&j);
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int r = 0;

		if (ch == 'h' || ch == OPT_HELP) {
			usage_expect(stdout);
			return SIM_EXIT_PASS;
		}
		if (ch == '?') {
			fprintf(stderr, "(gwlbsim expect --help lists the options)\n");
			return SIM_EXIT_USAGE;
		}
		if (ch == OPT_PORT) {
			r = sim_parse_u64(optarg, 1, 65535, &v);
			j.co.port = (uint16_t)v;
		} else if (ch == OPT_NO_SINK) {
			sink = false;
		} else {
			r = judge_opt(&j, ch, optarg);
		}
		if (r != 0) {
			sim_warnx("bad value for --%s: '%s'", cmd_optname(lo, ch),
			    optarg ? optarg : "");
			return SIM_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		sim_warnx("unexpected argument '%s'", argv[optind]);
		return SIM_EXIT_USAGE;
	}
	sink_maybe(sink, j.co.port);
	if (open_rx(&j, true, &rx) < 0)
		return SIM_EXIT_ERROR;
	if (chk_new(&j.co, &c) < 0) {
		sim_warn("cannot set up");
		goto out;
	}
	sim_signals();
	fprintf(stderr, "gwlbsim expect: ready\n");
	start = sim_now_ns();
	end = start + j.duration_ns;
	while (!sim_stop) {
		const struct chk_stats *st = chk_stats(c);
		uint64_t now = sim_now_ns(), last, wake = end;

		if (now >= end)
			break;
		if (j.count && st->received >= j.count)
			break;
		last = st->last_recv_ns > st->last_sent_ns ?
		    st->last_recv_ns : st->last_sent_ns;
		if (j.idle_ns && last) {
			if (now >= last + j.idle_ns)
				break;
			if (last + j.idle_ns < wake)
				wake = last + j.idle_ns;
		}
		if (drain(&rx, c, (int)((wake - now) / 1000000u) + 1, true) < 0)
			break;
	}
	pass = judge_pass(&j, c, capture_drops(rx.fd), extra, sizeof(extra), j.json);
	chk_report(c, stdout, j.json, extra);
	rc = pass ? SIM_EXIT_PASS : SIM_EXIT_FAIL;
	if (!write_hist(&j, c))
		rc = SIM_EXIT_ERROR;
out:
	chk_free(c);
	close(rx.fd);
	sim_rx_free(&rx);
	return rc;
}
