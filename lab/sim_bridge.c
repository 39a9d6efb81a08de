/*
 * gwlbsim bridge: a userspace GWLB between a client and a server.
 *
 * The client and server namespaces each route through a TUN link (made
 * persistent by lab/gwlb-lab); the bridge, running in the GWLB namespace,
 * attaches to both by entering their namespaces for the open.  A packet
 * read from either side is a GWLB flow: it gets the flow's GENEVE header
 * (ENI, attachment, a cookie per flow) and goes to the appliance from the
 * flow's own UDP source port.  What comes back is judged by the checker,
 * decapsulated, and written to the side it is meant for: a packet in the
 * orientation its flow started with goes to the other side, a reversed one
 * (a reply, or the appliance answering itself) to the side that started
 * it.  So ping, curl and iperf3 run end to end through the appliance.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "name.h"
#include "sim.h"

enum side { SIDE_CLIENT, SIDE_SERVER };

struct bflow {
	struct pkt_key	init;		/* orientation of the first packet */
	enum side	init_side;
	struct geneve_aws aws;
	uint16_t	sport;
};

struct bridge {
	const char	*ns[2];
	const char	*tun[2];
	int		 tfd[2];
	uint32_t	 src, dst;
	uint16_t	 port;
	uint64_t	 eni, attachment, sport_base;
	bool		 deliver_bad;
	int		 raw;
	struct sim_map	 map;
	struct bflow	*fl;
	size_t		 nfl, capfl;
	uint64_t	 rng;
	uint16_t	 ip_id;
	/* counters */
	uint64_t	 read[2], delivered[2], werr[2];
	uint64_t	 unparsed, refused, unroutable, send_err;
};

static int
tun_attach(const char *ns, const char *name, int *fdp)
{
	struct ifreq ifr;
	int saved, fd, err;

	err = sim_netns_enter(ns, &saved);
	if (err < 0) {
		errno = -err;
		sim_warn("namespace %s", ns);
		return err;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		sim_warn("/dev/net/tun");
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		sim_warn("TUN link %s in namespace %s", name, ns);
		close(fd);
		goto out;
	}
	*fdp = fd;
out:
	if (sim_netns_leave(saved) < 0 && err == 0) {
		sim_warn("back to our namespace");
		err = -EINVAL;
	}
	return err;
}

static struct bflow *
flow_for(struct bridge *b, const struct pkt_info *pi, enum side from)
{
	struct pkt_key canon;
	struct bflow *f;
	uint32_t *v;

	sim_key_canon(&pi->key, &canon);
	v = sim_map_get(&b->map, &canon);
	if (v)
		return &b->fl[*v];
	if (b->nfl == b->capfl) {
		size_t cap = b->capfl ? b->capfl * 2 : 256;
		struct bflow *nf = realloc(b->fl, cap * sizeof(*nf));

		if (nf == NULL)
			return NULL;
		b->fl = nf;
		b->capfl = cap;
	}
	if (sim_map_put(&b->map, &canon, (uint32_t)b->nfl) < 0)
		return NULL;
	f = &b->fl[b->nfl];
	f->init = pi->key;
	/* an ICMP error travels against the flow it quotes */
	f->init_side = pi->icmp_error ? !from : from;
	f->aws.eni_id = b->eni;
	f->aws.attachment_id = b->attachment;
	do
		f->aws.cookie = (uint32_t)sim_rng(&b->rng);
	while (f->aws.cookie == 0);
	f->sport = (uint16_t)(b->sport_base + b->nfl % (65536 - b->sport_base));
	if (f->sport == b->port)
		f->sport = (uint16_t)(b->sport_base);
	b->nfl++;
	return f;
}

/* Read what a side sent and send it to the appliance, encapsulated. */
static int
from_tun(struct bridge *b, enum side s, struct chk *c, uint8_t *buf)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = b->dst };

	for (int k = 0; k < 64; k++) {
		struct pkt_info pi;
		struct bflow *f;
		ssize_t n;
		size_t len;

		n = read(b->tfd[s], buf + SIM_ENCAP_LEN, SIM_INNER_MAX);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		b->read[s]++;
		if (pkt_parse(buf + SIM_ENCAP_LEN, (size_t)n, &pi) != PKT_OK) {
			b->unparsed++;
			continue;
		}
		f = flow_for(b, &pi, s);
		if (f == NULL)
			return -ENOMEM;
		geneve_encode(buf + SIM_OUTER_LEN, GENEVE_AWS_HDR_LEN, &f->aws,
		    (buf[SIM_ENCAP_LEN] >> 4) == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
		len = SIM_ENCAP_LEN + (size_t)n;
		sim_outer_finish(buf, len, b->src, b->dst, f->sport, b->port, 64,
		    b->ip_id++, true);
		if (sendto(b->raw, buf, len, 0, (struct sockaddr *)&to,
		    sizeof(to)) < 0) {
			b->send_err++;
			continue;
		}
		chk_note_sent(c, buf, len, sim_now_ns());
	}
	return 0;
}

/* Judge what came back and deliver it to the side it is for. */
static int
from_appliance(struct bridge *b, struct sim_rx *rx, struct chk *c)
{
	int n = sim_rx_recv(rx, 0);

	for (int i = 0; i < n; i++) {
		struct sim_rx_pkt p;
		struct geneve_pkt g;
		struct pkt_info pi;
		struct pkt_key canon;
		size_t ihl;
		uint32_t *v, mask;
		struct bflow *f;
		enum side to;

		sim_rx_get(rx, (unsigned)i, &p);
		if (p.outgoing)
			continue;
		mask = chk_returned(c, p.data, p.len, p.csum_ready, sim_now_ns());
		if (mask && !b->deliver_bad) {
			b->refused++;
			continue;
		}
		ihl = (size_t)(p.data[0] & 0x0f) * 4;
		if (p.len < ihl + 8 ||
		    geneve_decode(p.data + ihl + 8, p.len - ihl - 8, &g) != GENEVE_OK ||
		    pkt_parse(g.inner, g.inner_len, &pi) != PKT_OK) {
			b->unroutable++;
			continue;
		}
		sim_key_canon(&pi.key, &canon);
		v = sim_map_get(&b->map, &canon);
		if (v == NULL) {
			b->unroutable++;
			continue;
		}
		f = &b->fl[*v];
		if ((memcmp(&pi.key, &f->init, sizeof(pi.key)) == 0) != pi.icmp_error)
			to = !f->init_side;
		else
			to = f->init_side;
		if (write(b->tfd[to], g.inner, g.inner_len) < 0)
			b->werr[to]++;
		else
			b->delivered[to]++;
	}
	return n < 0 ? n : 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gwlbsim bridge --client-ns NS --client-tun IF "
	    "--server-ns NS --server-tun IF [OPTIONS]\n"
	    "Be GWLB between a client and a server: packets their kernels route\n"
	    "into the TUN links go to the appliance GENEVE-encapsulated (a flow\n"
	    "per inner 5-tuple, each with its cookie and UDP source port); what\n"
	    "comes back is checked like 'gwlbsim expect --inner any' and written\n"
	    "to the side it is for.  Run it in the GWLB namespace.  Prints\n"
	    "'ready' on stderr once attached; stops after --duration or on\n"
	    "SIGINT/SIGTERM and reports.  Exit 1 if any returned datagram was\n"
	    "wrong.\n\n"
	    "  --client-ns NS, --server-ns NS\n"
	    "                       namespaces (names under /run/netns, or paths)\n"
	    "  --client-tun IF, --server-tun IF\n"
	    "                       their TUN links (persistent, made by gwlb-lab)\n"
	    "  --dst ADDR           appliance address (198.18.0.2)\n"
	    "  --src ADDR           GWLB address (default: the route's source)\n"
	    "  --port N             GENEVE port (6081)\n"
	    "  --eni ID             ENI id, hex (076bc493b822cd32f)\n"
	    "  --attachment ID      attachment id, hex (a1b2c3d4e5f60718)\n"
	    "  --sport-base N       first outer source port (30000)\n"
	    "  --inner forwarded|reply|any\n"
	    "                       what the appliance returns (any)\n"
	    "  --deliver-bad        deliver datagrams that failed a check too\n"
	    "  --duration S         run at most this long (600)\n"
	    "  --json               print the result as one JSON object\n");
}

enum { B_CNS = 1000, B_CTUN, B_SNS, B_STUN, B_DST, B_SRC, B_PORT, B_ENI,
	B_ATT, B_SPORT, B_INNER, B_BAD, B_DURATION, B_JSON, B_HELP };

int
cmd_bridge(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "client-ns", required_argument, NULL, B_CNS },
		{ "client-tun", required_argument, NULL, B_CTUN },
		{ "server-ns", required_argument, NULL, B_SNS },
		{ "server-tun", required_argument, NULL, B_STUN },
		{ "dst", required_argument, NULL, B_DST },
		{ "src", required_argument, NULL, B_SRC },
		{ "port", required_argument, NULL, B_PORT },
		{ "eni", required_argument, NULL, B_ENI },
		{ "attachment", required_argument, NULL, B_ATT },
		{ "sport-base", required_argument, NULL, B_SPORT },
		{ "inner", required_argument, NULL, B_INNER },
		{ "deliver-bad", no_argument, NULL, B_BAD },
		{ "duration", required_argument, NULL, B_DURATION },
		{ "json", no_argument, NULL, B_JSON },
		{ "help", no_argument, NULL, B_HELP },
		{ 0, 0, 0, 0 } };
	struct chk_opts co = {
		.inner = CHK_INNER_ANY, .port = GENEVE_PORT,
		.grace_ns = 200000000, .window = 65536,
	};
	struct bridge b;
	struct chk *c = NULL;
	struct sim_rx rx;
	uint8_t *buf = NULL;
	uint64_t v, duration = 600ULL * 1000000000, end;
	bool json = false;
	char extra[512];
	int ch, rc = SIM_EXIT_ERROR, pfd = -1, sink;

	memset(&b, 0, sizeof(b));
	memset(&rx, 0, sizeof(rx));
	b.tfd[0] = b.tfd[1] = b.raw = -1;
	sim_parse_ip4("198.18.0.2", &b.dst);
	b.port = GENEVE_PORT;
	b.eni = 0x076bc493b822cd32fULL;
	b.attachment = 0xa1b2c3d4e5f60718ULL;
	b.sport_base = 30000;
	b.rng = (uint64_t)sim_now_ns() ^ (uint64_t)getpid() << 32;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int e = 0;

		switch (ch) {
		case 'h':
		case B_HELP:
			usage(stdout);
			return SIM_EXIT_PASS;
		case B_CNS:
			b.ns[SIDE_CLIENT] = optarg;
			break;
		case B_CTUN:
			b.tun[SIDE_CLIENT] = optarg;
			break;
		case B_SNS:
			b.ns[SIDE_SERVER] = optarg;
			break;
		case B_STUN:
			b.tun[SIDE_SERVER] = optarg;
			break;
		case B_DST:
			e = sim_parse_ip4(optarg, &b.dst);
			break;
		case B_SRC:
			e = sim_parse_ip4(optarg, &b.src);
			break;
		case B_PORT:
			e = sim_parse_u64(optarg, 1, 65535, &v);
			b.port = (uint16_t)v;
			co.port = b.port;
			break;
		case B_ENI:
			e = name_parse_hex(optarg, &b.eni);
			break;
		case B_ATT:
			e = name_parse_hex(optarg, &b.attachment);
			break;
		case B_SPORT:
			e = sim_parse_u64(optarg, 1024, 65535, &b.sport_base);
			break;
		case B_INNER:
			e = chk_inner_parse(optarg, &co.inner);
			break;
		case B_BAD:
			b.deliver_bad = true;
			break;
		case B_DURATION:
			e = sim_parse_secs(optarg, &duration);
			break;
		case B_JSON:
			json = true;
			break;
		default:
			fprintf(stderr, "(gwlbsim %s --help lists the options)\n", sim_cmd);
			return SIM_EXIT_USAGE;
		}
		if (e) {
			sim_warnx("bad value for --%s: '%s'", cmd_optname(lo, ch), optarg);
			return SIM_EXIT_USAGE;
		}
	}
	if (optind != argc || !b.ns[0] || !b.ns[1] || !b.tun[0] || !b.tun[1]) {
		sim_warnx("needs --client-ns, --client-tun, --server-ns and --server-tun");
		usage(stderr);
		return SIM_EXIT_USAGE;
	}
	if (b.src == 0 && sim_route_src(b.dst, &b.src) < 0) {
		sim_warn("no route to the appliance");
		return SIM_EXIT_ERROR;
	}
	for (int s = 0; s < 2; s++)
		if (tun_attach(b.ns[s], b.tun[s], &b.tfd[s]) < 0)
			goto out;
	sink = sim_sink_open(b.port);
	if (sink < 0 && sink != -EADDRINUSE) {
		errno = -sink;
		sim_warn("cannot bind UDP port %u as a sink", b.port);
	}
	b.raw = sim_raw_open(4 << 20);
	pfd = sim_packet_open(0, b.port, false, false, 32 << 20);
	if (b.raw < 0 || pfd < 0) {
		errno = -(b.raw < 0 ? b.raw : pfd);
		sim_warn("sockets");
		goto out;
	}
	buf = malloc(SIM_FRAME_MAX);
	if (buf == NULL || sim_rx_init(&rx, pfd, 64) < 0 ||
	    sim_map_init(&b.map, 256) < 0 || chk_new(&co, &c) < 0) {
		sim_warn("memory");
		goto out;
	}
	sim_signals();
	fprintf(stderr, "gwlbsim bridge: ready\n");
	end = sim_now_ns() + duration;
	while (!sim_stop) {
		struct pollfd pf[3] = {
			{ .fd = b.tfd[0], .events = POLLIN },
			{ .fd = b.tfd[1], .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
		};
		uint64_t now = sim_now_ns();
		int n, err = 0;

		if (now >= end)
			break;
		n = poll(pf, 3, (int)((end - now) / 1000000u) + 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sim_warn("poll");
			goto out;
		}
		if (pf[2].revents & POLLIN)
			err = from_appliance(&b, &rx, c);
		for (int s = 0; s < 2 && err == 0; s++)
			if (pf[s].revents & POLLIN)
				err = from_tun(&b, (enum side)s, c, buf);
		if (err < 0) {
			errno = -err;
			sim_warn("bridge");
			goto out;
		}
	}
	if (json)
		snprintf(extra, sizeof(extra), "\"from_client\":%" PRIu64
		    ",\"from_server\":%" PRIu64 ",\"to_client\":%" PRIu64
		    ",\"to_server\":%" PRIu64 ",\"refused\":%" PRIu64
		    ",\"unroutable\":%" PRIu64 ",\"unparsed\":%" PRIu64
		    ",\"send_errors\":%" PRIu64 ",\"write_errors\":%" PRIu64
		    ",\"pass\":%s", b.read[0], b.read[1], b.delivered[0],
		    b.delivered[1], b.refused, b.unroutable, b.unparsed,
		    b.send_err, b.werr[0] + b.werr[1],
		    chk_stats(c)->mismatched ? "false" : "true");
	else
		snprintf(extra, sizeof(extra), "bridge: from client %" PRIu64
		    " from server %" PRIu64 " to client %" PRIu64 " to server %"
		    PRIu64 " refused %" PRIu64 " unroutable %" PRIu64
		    " unparsed %" PRIu64 " send errors %" PRIu64
		    " write errors %" PRIu64 "\n%s", b.read[0], b.read[1],
		    b.delivered[0], b.delivered[1], b.refused, b.unroutable,
		    b.unparsed, b.send_err, b.werr[0] + b.werr[1],
		    chk_stats(c)->mismatched ? "FAIL: mismatched packets" : "PASS");
	chk_report(c, stdout, json, extra);
	rc = chk_stats(c)->mismatched ? SIM_EXIT_FAIL : SIM_EXIT_PASS;
out:
	chk_free(c);
	sim_map_free(&b.map);
	free(b.fl);
	free(buf);
	sim_rx_free(&rx);
	if (pfd >= 0)
		close(pfd);
	if (b.raw >= 0)
		close(b.raw);
	for (int s = 0; s < 2; s++)
		if (b.tfd[s] >= 0)
			close(b.tfd[s]);
	return rc;
}
