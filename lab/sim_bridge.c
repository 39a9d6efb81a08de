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
 *
 * It is meant to be faster than what it measures.  The TUN links are
 * opened with a vnet header and TSO/USO offloads, so the kernels hand over
 * 64 KiB super-packets; GWLB carries every segment as its own datagram, so
 * they are cut into MSS-sized packets (sim_offload.c), each gets the
 * flow's GENEVE header, and they leave as one UDP GSO send from a UDP
 * socket bound to the flow's own source port.  What comes back arrives on
 * a UDP_GRO socket on the GENEVE port, is split into datagrams, each one
 * judged by the checker, and consecutive TCP segments of a flow go to the
 * TUN link as one super-packet again.  The kernel checks the outer IPv4
 * and UDP checksums on that path (what it drops for them is counted from
 * its own counters and fails the run), and a packet socket with a filter
 * shows the checker every datagram that socket will not get (sent to
 * another address or port).  --no-offload keeps the packet-at-a-time path,
 * a packet socket that sees every datagram's outer header as it came.
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
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bytes.h"
#include "name.h"
#include "sim.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4	0x20
#define TUN_F_USO6	0x40
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef UDP_GRO
#define UDP_GRO		104
#endif

#define B_SUPER		65536		/* largest super-packet from a TUN link */
#define B_GSO_MAX	64		/* datagrams in one UDP GSO send */
#define B_GSO_BYTES	65000		/* UDP payload of one GSO send, at most */
#define B_RX_BUFS	8		/* GRO buffers per recvmmsg */
#define B_RX_BUF	(SIM_OUTER_LEN + 65536)
#define B_FLOW_FDS	1024		/* flows with a socket of their own */
#define B_SEG_MAX	256		/* segments of one super-packet */
#define B_SBUF		(B_SUPER + B_SEG_MAX * (SIM_ENCAP_LEN + 128))

enum side { SIDE_CLIENT, SIDE_SERVER };

struct bflow {
	struct pkt_key	init;		/* orientation of the first packet */
	enum side	init_side;
	struct geneve_aws aws;
	uint16_t	sport;
	int		fd;		/* UDP socket from sport; -1 none */
	uint8_t		hdr[2][GENEVE_AWS_HDR_LEN];	/* IPv4, IPv6 inner */
};

struct bridge {
	const char	*ns[2];
	const char	*tun[2];
	int		 tfd[2];
	uint32_t	 src, dst;
	uint16_t	 port;
	uint64_t	 eni, attachment, sport_base;
	bool		 deliver_bad;
	bool		 offload;	/* vnet header, GSO and GRO */
	int		 raw;
	int		 nfd;		/* flow sockets open */
	struct sim_map	 map;
	struct bflow	*fl;
	size_t		 nfl, capfl;
	uint64_t	 rng;
	uint16_t	 ip_id;
	/* counters */
	uint64_t	 read[2], delivered[2], werr[2];
	uint64_t	 unparsed, refused, unroutable, send_err;
	uint64_t	 supers, gso_sends, gro_reads, tun_writes;
	/* offload path buffers */
	uint8_t		*rbuf, *sbuf;
	struct sim_seg	 seg[B_SEG_MAX];
	struct sim_coal	 coal[2];
};

static int
tun_attach(const char *ns, const char *name, bool offload, int *fdp)
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		sim_warn("TUN link %s in namespace %s", name, ns);
		close(fd);
		goto out;
	}
	/*
	 * The links are persistent and offloads set on one outlive the
	 * bridge that set them: without a vnet header to say what a packet
	 * is (a TSO super-packet, a partial checksum), none may stay on.
	 */
	if (!offload && ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		err = -errno;
		sim_warn("offloads of TUN link %s", name);
		close(fd);
		goto out;
	}
	if (offload) {
		unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

		/* USO where the kernel has it (6.2 on) */
		if (ioctl(fd, TUNSETOFFLOAD, off | TUN_F_USO4 | TUN_F_USO6) < 0 &&
		    ioctl(fd, TUNSETOFFLOAD, off) < 0) {
			err = -errno;
			sim_warn("offloads of TUN link %s", name);
			close(fd);
			goto out;
		}
	}
	*fdp = fd;
out:
	if (sim_netns_leave(saved) < 0 && err == 0) {
		sim_warn("back to our namespace");
		err = -EINVAL;
	}
	return err;
}

/*
 * A UDP socket from the flow's own source port to the appliance, for UDP
 * GSO sends (a raw socket cannot do GSO).  Whatever arrives on it is
 * dropped by a filter.  -errno when the port is taken: the flow then goes
 * by the raw socket, a datagram at a time.
 */
static int
flow_socket(const struct bridge *b, uint16_t sport)
{
	struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, err, sz = 4 << 20, pmtu = IP_PMTUDISC_PROBE;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	/* DF on, like GWLB, whatever the path MTU cache says */
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		goto fail;
	sin.sin_addr.s_addr = b->src;
	sin.sin_port = htons(sport);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	sin.sin_addr.s_addr = b->dst;
	sin.sin_port = htons(b->port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
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
	f->fd = -1;
	geneve_encode(f->hdr[0], GENEVE_AWS_HDR_LEN, &f->aws, ETHERTYPE_IPV4);
	geneve_encode(f->hdr[1], GENEVE_AWS_HDR_LEN, &f->aws, ETHERTYPE_IPV6);
	if (b->offload && b->nfd < B_FLOW_FDS) {
		f->fd = flow_socket(b, f->sport);
		if (f->fd >= 0)
			b->nfd++;
	}
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

static void route_back(struct bridge *b, const uint8_t *geneve, size_t len,
    bool bad);

/* Judge what came back and deliver it to the side it is for. */
static int
from_appliance(struct bridge *b, struct sim_rx *rx, struct chk *c)
{
	int n = sim_rx_recv(rx, 0);

	for (int i = 0; i < n; i++) {
		struct sim_rx_pkt p;
		size_t ihl;
		uint32_t mask;

		sim_rx_get(rx, (unsigned)i, &p);
		if (p.outgoing)
			continue;
		mask = chk_returned(c, p.data, p.len, p.csum_ready, sim_now_ns());
		if (mask && !b->deliver_bad) {
			b->refused++;
			continue;
		}
		ihl = (size_t)(p.data[0] & 0x0f) * 4;
		if (p.len < ihl + 8) {
			b->unroutable++;
			continue;
		}
		route_back(b, p.data + ihl + 8, p.len - ihl - 8, mask != 0);
	}
	return n < 0 ? n : 0;
}

/* Send n segments of flow f (each with SIM_ENCAP_LEN bytes free in front). */
static void
send_segs(struct bridge *b, struct bflow *f, struct sim_seg *seg, unsigned n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = b->dst };
	struct iovec iov[B_GSO_MAX];
	char ctl[CMSG_SPACE(sizeof(uint16_t))];

	if (f->fd < 0) {
		for (unsigned i = 0; i < n; i++) {
			uint8_t *o = seg[i].data - SIM_ENCAP_LEN;
			size_t len = SIM_ENCAP_LEN + seg[i].len;

			sim_outer_finish(o, len, b->src, b->dst, f->sport, b->port,
			    64, b->ip_id++, true);
			if (sendto(b->raw, o, len, 0, (struct sockaddr *)&to,
			    sizeof(to)) < 0)
				b->send_err++;
		}
		return;
	}
	for (unsigned i = 0; i < n;) {
		size_t gs = GENEVE_AWS_HDR_LEN + seg[i].len, tot = 0;
		struct msghdr mh = { .msg_iov = iov };
		unsigned k = 0;

		/* equal sizes but the last, as UDP GSO wants */
		while (i + k < n && k < B_GSO_MAX &&
		    tot + GENEVE_AWS_HDR_LEN + seg[i + k].len <= B_GSO_BYTES) {
			size_t l = GENEVE_AWS_HDR_LEN + seg[i + k].len;

			if (l > gs)
				break;
			iov[k].iov_base = seg[i + k].data - GENEVE_AWS_HDR_LEN;
			iov[k].iov_len = l;
			tot += l;
			k++;
			if (l < gs)
				break;
		}
		mh.msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *cm;
			uint16_t v = (uint16_t)gs;

			memset(ctl, 0, sizeof(ctl));
			mh.msg_control = ctl;
			mh.msg_controllen = sizeof(ctl);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(v));
			memcpy(CMSG_DATA(cm), &v, sizeof(v));
		}
		if (sendmsg(f->fd, &mh, 0) < 0 &&
		    (errno != ECONNREFUSED || sendmsg(f->fd, &mh, 0) < 0))
			b->send_err += k;
		else
			b->gso_sends++;
		i += k;
	}
}

/*
 * Offload path: read super-packets from a side, cut them into the packets
 * GWLB carries, encapsulate and send them a flow's burst at a time.
 */
static int
from_tun_gso(struct bridge *b, enum side s, struct chk *c)
{
	for (int k = 0; k < 64; k++) {
		struct virtio_net_hdr vh;
		struct pkt_info pi;
		struct bflow *f;
		ssize_t n;
		int nseg;
		uint64_t now;

		n = read(b->tfd[s], b->rbuf, SIM_VNET_LEN + B_SUPER);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n < SIM_VNET_LEN) {
			b->read[s]++;
			b->unparsed++;
			continue;
		}
		memcpy(&vh, b->rbuf, sizeof(vh));
		nseg = sim_gso_segment(&vh, b->rbuf + SIM_VNET_LEN,
		    (size_t)n - SIM_VNET_LEN, b->sbuf, B_SBUF, SIM_ENCAP_LEN,
		    b->seg, B_SEG_MAX);
		b->read[s] += nseg > 0 ? (unsigned)nseg : 1;
		if (nseg <= 0 ||
		    pkt_parse(b->seg[0].data, b->seg[0].len, &pi) != PKT_OK) {
			b->unparsed++;
			continue;
		}
		if (nseg > 1)
			b->supers++;
		f = flow_for(b, &pi, s);
		if (f == NULL)
			return -ENOMEM;
		now = sim_now_ns();
		for (int i = 0; i < nseg; i++) {
			uint8_t *d = b->seg[i].data;
			size_t len = SIM_ENCAP_LEN + b->seg[i].len;

			memcpy(d - GENEVE_AWS_HDR_LEN, f->hdr[d[0] >> 4 == 6],
			    GENEVE_AWS_HDR_LEN);
			/* the outer header the kernel will write, for the checker */
			sim_outer_finish(d - SIM_ENCAP_LEN, len, b->src, b->dst,
			    f->sport, b->port, 64, 0, false);
			chk_note_sent(c, d - SIM_ENCAP_LEN, len, now);
		}
		send_segs(b, f, b->seg, (unsigned)nseg);
	}
	return 0;
}

/* Write what side s holds, glued, to its TUN link. */
static void
flush(struct bridge *b, enum side s)
{
	struct sim_coal *cl = &b->coal[s];
	struct virtio_net_hdr vh;
	struct iovec iov[SIM_COAL_MAX + 1];
	unsigned n;

	if (cl->n == 0)
		return;
	n = sim_coal_finish(cl, &vh);
	iov[0].iov_base = &vh;
	iov[0].iov_len = sizeof(vh);
	memcpy(iov + 1, cl->iov, n * sizeof(iov[0]));
	if (writev(b->tfd[s], iov, (int)n + 1) < 0)
		b->werr[s] += n;
	else
		b->delivered[s] += n;
	b->tun_writes++;
	sim_coal_reset(cl);
}

/* Hand an inner packet to side s: glued to what it holds if it can be. */
static void
deliver(struct bridge *b, enum side s, uint8_t *p, size_t len, bool alone)
{
	struct sim_coal *cl = &b->coal[s];

	if (!b->offload) {
		if (write(b->tfd[s], p, len) < 0)
			b->werr[s]++;
		else
			b->delivered[s]++;
		return;
	}
	if (!alone && sim_coal_add(cl, p, len))
		return;
	flush(b, s);
	if (alone || !sim_coal_add(cl, p, len)) {
		cl->iov[0].iov_base = p;
		cl->iov[0].iov_len = len;
		cl->n = 1;
		cl->first = p;
		flush(b, s);
	}
}

/* Decapsulate a datagram that passed (or, with --deliver-bad, failed). */
static void
route_back(struct bridge *b, const uint8_t *geneve, size_t len, bool bad)
{
	struct geneve_pkt g;
	struct pkt_info pi;
	struct pkt_key canon;
	struct bflow *f;
	uint32_t *v;
	enum side to;

	if (geneve_decode(geneve, len, &g) != GENEVE_OK ||
	    pkt_parse(g.inner, g.inner_len, &pi) != PKT_OK) {
		b->unroutable++;
		return;
	}
	sim_key_canon(&pi.key, &canon);
	v = sim_map_get(&b->map, &canon);
	if (v == NULL) {
		b->unroutable++;
		return;
	}
	f = &b->fl[*v];
	if ((memcmp(&pi.key, &f->init, sizeof(pi.key)) == 0) != pi.icmp_error)
		to = !f->init_side;
	else
		to = f->init_side;
	/* a datagram that failed a check is written alone: the kernel checks it */
	deliver(b, to, (uint8_t *)(uintptr_t)g.inner, g.inner_len, bad);
}

/*
 * Datagrams the kernel dropped before the GRO socket saw them: a bad outer
 * IPv4 header (checksum) or UDP checksum (this namespace's counters).
 */
static uint64_t
kernel_drops(void)
{
	static const struct {
		const char *proto, *field;
	} want[] = { { "Ip:", "InHdrErrors" }, { "Udp:", "InCsumErrors" } };
	char names[1024], vals[1024];
	uint64_t sum = 0;
	FILE *f = fopen("/proc/net/snmp", "re");

	if (f == NULL)
		return 0;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
			char *sn, *sv, *tn, *tv;

			if (strncmp(names, want[w].proto, strlen(want[w].proto)) != 0)
				continue;
			tn = strtok_r(names, " \n", &sn);
			tv = strtok_r(vals, " \n", &sv);
			while (tn && tv) {
				if (strcmp(tn, want[w].field) == 0)
					sum += strtoull(tv, NULL, 10);
				tn = strtok_r(NULL, " \n", &sn);
				tv = strtok_r(NULL, " \n", &sv);
			}
		}
	}
	fclose(f);
	return sum;
}

/* The UDP_GRO socket on the GENEVE port, with what the checker needs. */
static int
gro_open(uint32_t local, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, err, one = 1, sz = 32 << 20;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVFRAGSIZE, &one, sizeof(one)) < 0)
		goto fail;
	sin.sin_addr.s_addr = local;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

#define B_CTL_LEN (3 * CMSG_SPACE(sizeof(int)) + \
	CMSG_SPACE(sizeof(struct in_pktinfo)))

/*
 * Offload path: read GRO bursts, judge every datagram in them (an outer
 * header made from what the kernel says about the burst, in the 28 bytes
 * before it, put back after), deliver them glued.
 */
static int
from_appliance_gro(struct bridge *b, int fd, struct chk *c)
{
	static struct mmsghdr msg[B_RX_BUFS];
	static struct iovec iov[B_RX_BUFS];
	static struct sockaddr_in from[B_RX_BUFS];
	static char ctl[B_RX_BUFS][B_CTL_LEN];
	uint64_t now;
	int n;

	for (int i = 0; i < B_RX_BUFS; i++) {
		iov[i].iov_base = b->rbuf + (size_t)i * B_RX_BUF + SIM_OUTER_LEN;
		iov[i].iov_len = B_RX_BUF - SIM_OUTER_LEN;
		memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		msg[i].msg_hdr.msg_name = &from[i];
		msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msg[i].msg_hdr.msg_control = ctl[i];
		msg[i].msg_hdr.msg_controllen = B_CTL_LEN;
	}
	n = recvmmsg(fd, msg, B_RX_BUFS, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	now = sim_now_ns();
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &msg[i].msg_hdr;
		uint8_t *d = iov[i].iov_base;
		size_t len = msg[i].msg_len, gs = len;
		uint32_t dst = b->src;
		uint8_t ttl = 64;
		bool frag = false;

		b->gro_reads++;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
		    cm = CMSG_NXTHDR(mh, cm)) {
			int iv;

			if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
				memcpy(&iv, CMSG_DATA(cm), sizeof(iv));
				if (iv > 0)
					gs = (size_t)iv;
			} else if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_TTL) {
				memcpy(&iv, CMSG_DATA(cm), sizeof(iv));
				ttl = (uint8_t)iv;
			} else if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_RECVFRAGSIZE) {
				frag = true;	/* reassembled by the kernel */
			} else if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pk;

				memcpy(&pk, CMSG_DATA(cm), sizeof(pk));
				dst = pk.ipi_addr.s_addr;
			}
		}
		for (size_t off = 0; off < len; off += gs) {
			size_t dl = len - off < gs ? len - off : gs;
			uint8_t *o = d + off - SIM_OUTER_LEN, save[SIM_OUTER_LEN];
			uint32_t mask;

			memcpy(save, o, SIM_OUTER_LEN);
			sim_outer_finish(o, SIM_OUTER_LEN + dl,
			    from[i].sin_addr.s_addr, dst, ntohs(from[i].sin_port),
			    b->port, ttl, 0, false);
			if (frag) {
				/* GWLB takes no fragments: the checker must say so */
				o[6] |= 0x20;
				o[10] = o[11] = 0;
				wr16(o + 10, sim_ip4_csum(o));
			}
			mask = chk_returned(c, o, SIM_OUTER_LEN + dl, true, now);
			memcpy(o, save, SIM_OUTER_LEN);
			if (mask && !b->deliver_bad) {
				b->refused++;
				continue;
			}
			route_back(b, d + off, dl, mask != 0);
		}
	}
	flush(b, SIDE_CLIENT);
	flush(b, SIDE_SERVER);
	return n;
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
	    "wrong.  The TUN links run with TSO/USO offloads: super-packets are\n"
	    "cut into the segments GWLB carries, one datagram each, sent as UDP\n"
	    "GSO bursts from the flow's port; returns are read with UDP_GRO and\n"
	    "TCP segments of a flow written back glued, with a vnet header.\n\n"
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
	    "  --no-offload         a packet at a time: TUN links without vnet\n"
	    "                       header (their offloads turned off), a raw\n"
	    "                       socket out, a packet socket in (every outer\n"
	    "                       header checked as it came)\n"
	    "  --duration S         run at most this long (600)\n"
	    "  --json               print the result as one JSON object\n");
}

enum { B_CNS = 1000, B_CTUN, B_SNS, B_STUN, B_DST, B_SRC, B_PORT, B_ENI,
	B_ATT, B_SPORT, B_INNER, B_BAD, B_NOOFF, B_DURATION, B_JSON, B_HELP };

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
		{ "no-offload", no_argument, NULL, B_NOOFF },
		{ "duration", required_argument, NULL, B_DURATION },
		{ "json", no_argument, NULL, B_JSON },
		{ "help", no_argument, NULL, B_HELP },
		{ 0, 0, 0, 0 } };
	struct chk_opts co = {
		.inner = CHK_INNER_ANY, .port = GENEVE_PORT,
		.grace_ns = 200000000, .window = 131072,
	};
	struct bridge b;
	struct chk *c = NULL;
	struct sim_rx rx;
	uint8_t *buf = NULL;
	uint64_t v, duration = 600ULL * 1000000000, end;
	bool json = false;
	char extra[1024];
	uint64_t kerr0 = 0, kerr = 0, cpu_ms;
	bool gro = false;
	struct rusage ru;
	int ch, rc = SIM_EXIT_ERROR, pfd = -1, stray = -1, sink;

	memset(&b, 0, sizeof(b));
	memset(&rx, 0, sizeof(rx));
	b.tfd[0] = b.tfd[1] = b.raw = -1;
	sim_parse_ip4("198.18.0.2", &b.dst);
	b.port = GENEVE_PORT;
	b.eni = 0x076bc493b822cd32fULL;
	b.attachment = 0xa1b2c3d4e5f60718ULL;
	b.sport_base = 30000;
	b.offload = true;
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
		case B_NOOFF:
			b.offload = false;
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
		if (tun_attach(b.ns[s], b.tun[s], b.offload, &b.tfd[s]) < 0)
			goto out;
	b.raw = sim_raw_open(4 << 20);
	if (b.offload) {
		/*
		 * The GRO socket is the sink too; what it will not get (sent
		 * to another address or port) the stray socket shows the
		 * checker.
		 */
		pfd = gro_open(b.src, b.port);
		gro = pfd >= 0;
		if (pfd == -EADDRINUSE) {
			sim_warnx("UDP port %u is taken: returns read a "
			    "datagram at a time", b.port);
			pfd = sim_packet_open(0, b.port, false, false, 32 << 20);
		} else if (pfd < 0) {
			errno = -pfd;
			sim_warn("UDP port %u", b.port);
			goto out;
		} else {
			stray = sim_packet_open_stray(b.port, b.src, 4 << 20);
			if (stray < 0) {
				errno = -stray;
				sim_warn("packet socket");
				goto out;
			}
			kerr0 = kernel_drops();
		}
	} else {
		sink = sim_sink_open(b.port);
		if (sink < 0 && sink != -EADDRINUSE) {
			errno = -sink;
			sim_warn("cannot bind UDP port %u as a sink", b.port);
		}
		pfd = sim_packet_open(0, b.port, false, false, 32 << 20);
	}
	if (b.raw < 0 || pfd < 0) {
		errno = -(b.raw < 0 ? b.raw : pfd);
		sim_warn("sockets");
		goto out;
	}
	buf = malloc(SIM_FRAME_MAX);
	if (b.offload) {
		b.rbuf = malloc((size_t)B_RX_BUFS * B_RX_BUF);
		b.sbuf = malloc(B_SBUF);
	}
	if (buf == NULL || (b.offload && (b.rbuf == NULL || b.sbuf == NULL)) ||
	    sim_rx_init(&rx, gro ? stray : pfd, 64) < 0 ||
	    sim_map_init(&b.map, 256) < 0 || chk_new(&co, &c) < 0) {
		sim_warn("memory");
		goto out;
	}
	sim_signals();
	fprintf(stderr, "gwlbsim bridge: ready\n");
	end = sim_now_ns() + duration;
	while (!sim_stop) {
		struct pollfd pf[4] = {
			{ .fd = b.tfd[0], .events = POLLIN },
			{ .fd = b.tfd[1], .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
			{ .fd = stray, .events = POLLIN },
		};
		uint64_t now = sim_now_ns();
		int n, err = 0;

		if (now >= end)
			break;
		n = poll(pf, stray >= 0 ? 4 : 3, (int)((end - now) / 1000000u) + 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sim_warn("poll");
			goto out;
		}
		if (pf[2].revents & POLLIN)
			err = gro ? from_appliance_gro(&b, pfd, c) :
			    from_appliance(&b, &rx, c);
		if (err == 0 && !gro && b.offload) {
			flush(&b, SIDE_CLIENT);
			flush(&b, SIDE_SERVER);
		}
		if (err > 0)
			err = 0;
		if (err == 0 && (pf[3].revents & POLLIN)) {
			err = from_appliance(&b, &rx, c);
			flush(&b, SIDE_CLIENT);
			flush(&b, SIDE_SERVER);
		}
		for (int s = 0; s < 2 && err == 0; s++)
			if (pf[s].revents & POLLIN)
				err = b.offload ? from_tun_gso(&b, (enum side)s, c) :
				    from_tun(&b, (enum side)s, c, buf);
		if (err < 0) {
			errno = -err;
			sim_warn("bridge");
			goto out;
		}
	}
	if (gro)
		kerr = kernel_drops() - kerr0;
	getrusage(RUSAGE_SELF, &ru);
	cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	if (json)
		snprintf(extra, sizeof(extra), "\"from_client\":%" PRIu64
		    ",\"from_server\":%" PRIu64 ",\"to_client\":%" PRIu64
		    ",\"to_server\":%" PRIu64 ",\"refused\":%" PRIu64
		    ",\"unroutable\":%" PRIu64 ",\"unparsed\":%" PRIu64
		    ",\"send_errors\":%" PRIu64 ",\"write_errors\":%" PRIu64
		    ",\"offload\":%s,\"super_packets\":%" PRIu64
		    ",\"gso_sends\":%" PRIu64 ",\"gro_reads\":%" PRIu64
		    ",\"tun_writes\":%" PRIu64 ",\"kernel_dropped\":%" PRIu64
		    ",\"cpu_ms\":%" PRIu64 ",\"pass\":%s", b.read[0], b.read[1], b.delivered[0],
		    b.delivered[1], b.refused, b.unroutable, b.unparsed,
		    b.send_err, b.werr[0] + b.werr[1],
		    b.offload ? "true" : "false", b.supers, b.gso_sends,
		    b.gro_reads, b.tun_writes, kerr, cpu_ms,
		    chk_stats(c)->mismatched || kerr ? "false" : "true");
	else
		snprintf(extra, sizeof(extra), "bridge: from client %" PRIu64
		    " from server %" PRIu64 " to client %" PRIu64 " to server %"
		    PRIu64 " refused %" PRIu64 " unroutable %" PRIu64
		    " unparsed %" PRIu64 " send errors %" PRIu64
		    " write errors %" PRIu64 "\nbridge: offload %s super-packets %"
		    PRIu64 " GSO sends %" PRIu64 " GRO reads %" PRIu64
		    " TUN writes %" PRIu64 " dropped by the kernel %" PRIu64
		    " CPU %" PRIu64 " ms\n%s", b.read[0], b.read[1],
		    b.delivered[0], b.delivered[1], b.refused, b.unroutable,
		    b.unparsed, b.send_err, b.werr[0] + b.werr[1],
		    b.offload ? "on" : "off", b.supers, b.gso_sends, b.gro_reads,
		    b.tun_writes, kerr, cpu_ms,
		    chk_stats(c)->mismatched ? "FAIL: mismatched packets" :
		    kerr ? "FAIL: datagrams with bad outer checksums" : "PASS");
	chk_report(c, stdout, json, extra);
	rc = chk_stats(c)->mismatched || kerr ? SIM_EXIT_FAIL : SIM_EXIT_PASS;
out:
	chk_free(c);
	sim_map_free(&b.map);
	for (size_t i = 0; i < b.nfl; i++)
		if (b.fl[i].fd >= 0)
			close(b.fl[i].fd);
	free(b.fl);
	free(buf);
	free(b.rbuf);
	free(b.sbuf);
	sim_rx_free(&rx);
	if (pfd >= 0)
		close(pfd);
	if (stray >= 0)
		close(stray);
	if (b.raw >= 0)
		close(b.raw);
	for (int s = 0; s < 2; s++)
		if (b.tfd[s] >= 0)
			close(b.tfd[s]);
	return rc;
}
