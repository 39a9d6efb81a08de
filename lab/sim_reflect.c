/*
 * gwlbsim reflect: an appliance at the GENEVE level, correct by default
 * and wrong on request.
 *
 * It reads GENEVE datagrams from a packet socket and writes the reply as a
 * whole Ethernet frame back to the sender's MAC address, so that a fault
 * the kernel would refuse to route (unswapped addresses, a bad checksum)
 * still reaches the GWLB namespace, where 'gwlbsim expect' must catch it.
 * The correct reply is what REFERENCE.md says GWLB needs: the GENEVE header
 * unchanged, outer IPv4 source and destination swapped, the UDP ports kept
 * (source = GWLB's port of that flow, destination 6081), a fresh outer
 * header with TTL 64 and right checksums, and the inner packet as it came
 * (or, with --inner, as kernel forwarding or an answering host makes it).
 * Without faults it takes the fast way instead (fast_*): the datagrams
 * come in UDP_GRO bursts on the GENEVE port and go back as UDP GSO bursts
 * from a socket bound to the flow's GWLB port, so that the reflector is
 * not what limits a measurement of gwlbsim bridge.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include "bytes.h"
#include "sim.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef UDP_GRO
#define UDP_GRO		104
#endif

enum fault {
	F_COOKIE, F_ENI, F_ATTACHMENT, F_HEADER, F_STALECOOKIE, F_NOSWAP,
	F_ONENODE, F_SPORT, F_SWAPPORTS, F_TTL1, F_IPCSUM, F_UDPCSUM, F_INNER, F_TRAILING,
	F_DROP, F_DUP, F__MAX
};

static const struct {
	const char *name;
	const char *help;
} faults[] = {
	[F_COOKIE] = { "cookie", "flow cookie + 1" },
	[F_ENI] = { "eni", "ENI id + 1" },
	[F_ATTACHMENT] = { "attachment", "attachment id + 1" },
	[F_HEADER] = { "header", "VNI changed (other header bytes)" },
	[F_STALECOOKIE] = { "stalecookie", "the first cookie seen on the flow, "
	    "forever (a cache never refreshed)" },
	[F_NOSWAP] = { "noswap", "outer addresses left as received" },
	[F_ONENODE] = { "onenode", "every reply to the first GWLB address "
	    "seen (one GWLB node remembered, not one per flow)" },
	[F_SPORT] = { "sport", "outer source port + 1" },
	[F_SWAPPORTS] = { "swapports", "outer ports swapped, not kept" },
	[F_TTL1] = { "ttl1", "outer TTL 1" },
	[F_IPCSUM] = { "ipcsum", "outer IPv4 header checksum wrong" },
	[F_UDPCSUM] = { "udpcsum", "outer UDP checksum wrong" },
	[F_INNER] = { "inner", "last inner byte flipped" },
	[F_TRAILING] = { "trailing", "4 bytes after the inner packet" },
	[F_DROP] = { "drop", "no reply" },
	[F_DUP] = { "dup", "two replies" },
};
_Static_assert(sizeof(faults) / sizeof(faults[0]) == F__MAX, "fault names");

enum inner_mode { INNER_KEEP, INNER_TTL, INNER_REPLY };

struct reflect {
	uint32_t	faults;		/* bit mask of enum fault */
	uint64_t	every, after;
	enum inner_mode	inner;
	bool		udp_csum;
	uint16_t	port;
	/* stalecookie: first cookie per flow */
	struct sim_map	map;
	uint32_t	*cookies;
	size_t		ncookies, capcookies;
	/* counters */
	uint64_t	received, reflected, faulted, dropped, bad;
	uint16_t	ip_id;
	uint32_t	first_src;	/* onenode: the first GWLB address seen */
};

/* The data of AWS option type in a GENEVE header we copied, or NULL. */
static uint8_t *
aws_opt(uint8_t *hdr, size_t hlen, uint8_t type)
{
	size_t off = GENEVE_BASE_LEN;

	while (off + GENEVE_OPT_HDR_LEN <= hlen) {
		size_t dlen = (size_t)(hdr[off + 3] & 0x1f) * 4;

		if (off + GENEVE_OPT_HDR_LEN + dlen > hlen)
			return NULL;
		if (rd16(hdr + off) == GENEVE_CLASS_AWS && hdr[off + 2] == type)
			return hdr + off + GENEVE_OPT_HDR_LEN;
		off += GENEVE_OPT_HDR_LEN + dlen;
	}
	return NULL;
}

static void
bump(uint8_t *p, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (++p[i] != 0)
			break;
}

static int
stale_cookie(struct reflect *r, const uint8_t *inner, size_t len, uint8_t *cookie)
{
	struct pkt_info pi;
	struct pkt_key canon;
	uint32_t *v, cur;

	if (pkt_parse(inner, len, &pi) != PKT_OK)
		return -EINVAL;
	sim_key_canon(&pi.key, &canon);
	v = sim_map_get(&r->map, &canon);
	if (v) {
		cur = r->cookies[*v];
		cookie[0] = (uint8_t)(cur >> 24);
		cookie[1] = (uint8_t)(cur >> 16);
		cookie[2] = (uint8_t)(cur >> 8);
		cookie[3] = (uint8_t)cur;
		return 0;
	}
	if (r->ncookies == r->capcookies) {
		size_t cap = r->capcookies ? r->capcookies * 2 : 256;
		uint32_t *nc = realloc(r->cookies, cap * sizeof(*nc));

		if (nc == NULL)
			return -ENOMEM;
		r->cookies = nc;
		r->capcookies = cap;
	}
	r->cookies[r->ncookies] = (uint32_t)cookie[0] << 24 |
	    (uint32_t)cookie[1] << 16 | (uint32_t)cookie[2] << 8 | cookie[3];
	return sim_map_put(&r->map, &canon, (uint32_t)r->ncookies++);
}

/* Turn the inner packet into the answer a host would give. */
static void
inner_answer(uint8_t *p, size_t len)
{
	uint8_t tmp[16], *l4, proto;
	size_t hl, alen;

	if (p[0] >> 4 == 4) {
		hl = (size_t)(p[0] & 0x0f) * 4;
		proto = p[9];
		alen = 4;
		memcpy(tmp, p + 12, 4);
		memcpy(p + 12, p + 16, 4);
		memcpy(p + 16, tmp, 4);
		p[8] = 64;
	} else {
		hl = 40;
		proto = p[6];
		alen = 16;
		memcpy(tmp, p + 8, 16);
		memcpy(p + 8, p + 24, 16);
		memcpy(p + 24, tmp, 16);
		p[7] = 64;
	}
	(void)alen;
	l4 = p + hl;
	if (len >= hl + 4 && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
		memcpy(tmp, l4, 2);
		memcpy(l4, l4 + 2, 2);
		memcpy(l4 + 2, tmp, 2);
	} else if (len >= hl + 1 && proto == IPPROTO_ICMP && l4[0] == 8) {
		l4[0] = 0;
	} else if (len >= hl + 1 && proto == IPPROTO_ICMPV6 && l4[0] == 128) {
		l4[0] = 129;
	}
	if (p[0] >> 4 == 4) {
		p[10] = p[11] = 0;
		wr16(p + 10, sim_ip4_csum(p));
	}
	sim_l4_csum(p, len, false);
}

/* Like a router: TTL/hop limit one less, IPv4 checksum updated. */
static void
inner_forward(uint8_t *p)
{
	if (p[0] >> 4 == 4) {
		if (p[8])
			p[8]--;
		p[10] = p[11] = 0;
		wr16(p + 10, sim_ip4_csum(p));
	} else if (p[7]) {
		p[7]--;
	}
}

/*
 * Build the reply to frame in (ilen bytes) into out; returns its length,
 * 0 to send nothing.  *twice asks for a duplicate.
 */
static size_t
reflect_one(struct reflect *r, const uint8_t *in, size_t ilen, uint8_t *out,
    bool *twice)
{
	const uint8_t *ip = in + ETH_HLEN, *udp, *pl;
	struct geneve_pkt g;
	size_t ihl, tot, plen, hlen, olen, tail = 0;
	uint8_t *oip, *og, *oi, *o;
	uint32_t fm = 0;
	uint32_t src, dst;
	uint16_t sport, dport;

	*twice = false;
	if (ilen < ETH_HLEN + 28)
		goto bad;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = rd16(ip + 2);
	if (ihl < 20 || tot < ihl + 8 || ETH_HLEN + tot > ilen)
		goto bad;
	udp = ip + ihl;
	if (rd16(udp + 2) != r->port)
		return 0;		/* a reply going the other way: not ours */
	pl = udp + 8;
	plen = tot - ihl - 8;
	if (geneve_decode(pl, plen, &g) != GENEVE_OK)
		goto bad;
	r->received++;
	if (r->faults && r->received > r->after &&
	    (r->received - r->after - 1) % r->every == 0)
		fm = r->faults;
	if (fm)
		r->faulted++;
	if (fm & (1u << F_DROP)) {
		r->dropped++;
		return 0;
	}
	hlen = g.hdr_len;
	if (fm & (1u << F_TRAILING))
		tail = 4;
	olen = ETH_HLEN + 28 + hlen + g.inner_len + tail;
	if (olen > SIM_FRAME_MAX)
		goto bad;

	/* Ethernet: back where it came from */
	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	wr16(out + 12, ETH_P_IP);
	oip = out + ETH_HLEN;
	og = oip + 28;
	oi = og + hlen;
	memcpy(og, pl, hlen);
	memcpy(oi, g.inner, g.inner_len);
	memset(oi + g.inner_len, 0, tail);

	if (fm & (1u << F_COOKIE) && (o = aws_opt(og, hlen, GENEVE_AWS_COOKIE)))
		bump(o, 4);
	if (fm & (1u << F_ENI) && (o = aws_opt(og, hlen, GENEVE_AWS_ENI)))
		bump(o, 8);
	if (fm & (1u << F_ATTACHMENT) &&
	    (o = aws_opt(og, hlen, GENEVE_AWS_ATTACHMENT)))
		bump(o, 8);
	if (fm & (1u << F_HEADER))
		og[6] ^= 0x01;		/* low bits of the VNI */
	if (fm & (1u << F_STALECOOKIE) &&
	    (o = aws_opt(og, hlen, GENEVE_AWS_COOKIE)))
		stale_cookie(r, g.inner, g.inner_len, o);

	if (r->inner == INNER_TTL)
		inner_forward(oi);
	else if (r->inner == INNER_REPLY)
		inner_answer(oi, g.inner_len);
	if (fm & (1u << F_INNER))
		oi[g.inner_len - 1] ^= 0xff;

	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	if (r->first_src == 0)
		r->first_src = src;
	if (fm & (1u << F_ONENODE))
		src = r->first_src;
	sport = rd16(udp);
	dport = rd16(udp + 2);
	if (fm & (1u << F_SPORT))
		sport = (uint16_t)(sport + 1);
	if (fm & (1u << F_SWAPPORTS)) {
		uint16_t t = sport;

		sport = dport;
		dport = t;
	}
	if (fm & (1u << F_NOSWAP))
		sim_outer_finish(oip, olen - ETH_HLEN, src, dst, sport, dport,
		    64, r->ip_id++, r->udp_csum);
	else
		sim_outer_finish(oip, olen - ETH_HLEN, dst, src, sport, dport,
		    64, r->ip_id++, r->udp_csum);
	if (fm & (1u << F_TTL1)) {
		oip[8] = 1;
		oip[10] = oip[11] = 0;
		wr16(oip + 10, sim_ip4_csum(oip));
	}
	if (fm & (1u << F_IPCSUM))
		oip[11] ^= 0x5a;
	if (fm & (1u << F_UDPCSUM)) {
		if (oip[26] == 0 && oip[27] == 0)
			oip[27] = 0x5a;
		else
			oip[27] ^= 0x5a;
	}
	*twice = (fm & (1u << F_DUP)) != 0;
	r->reflected++;
	return olen;
bad:
	r->bad++;
	return 0;
}

/*
 * The fast way, when no fault is asked for: GENEVE datagrams arrive on a
 * UDP_GRO socket on the GENEVE port, bursts of equal-sized datagrams from
 * one GWLB port at a time, and each burst goes back as one UDP GSO send
 * from a socket bound to that port (the reply keeps the ports), the
 * source address the one the burst was sent to.  Every datagram is still
 * decoded and its inner packet treated as --inner says.
 */
#define R_RX_BUFS	8
#define R_RX_BUF	65536
#define R_PORT_FDS	4096

struct fast {
	int		 fd;		/* GRO socket on the GENEVE port */
	int		*port_fd;	/* socket per GWLB source port; -1 */
	unsigned	 nport;
	uint8_t		*buf;
	uint64_t	 gro_reads, gso_sends, send_err;
};

static int
fast_open(struct fast *fs, uint16_t port, const char *dev)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1, sz = 64 << 20;

	memset(fs, 0, sizeof(*fs));
	fs->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fs->fd < 0)
		return -errno;
	if (setsockopt(fs->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fs->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fs->fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0 ||
	    setsockopt(fs->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    (dev[0] && setsockopt(fs->fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
	    (socklen_t)strlen(dev)) < 0))
		goto fail;
	sin.sin_port = htons(port);
	if (bind(fs->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	fs->port_fd = malloc(65536 * sizeof(int));
	fs->buf = malloc((size_t)R_RX_BUFS * R_RX_BUF);
	if (fs->port_fd == NULL || fs->buf == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	for (int i = 0; i < 65536; i++)
		fs->port_fd[i] = -1;
	return 0;
fail:
	one = -errno;
	close(fs->fd);
	fs->fd = -1;
	return one;
}

static void
fast_close(struct fast *fs)
{
	if (fs->port_fd)
		for (int i = 0; i < 65536; i++)
			if (fs->port_fd[i] >= 0)
				close(fs->port_fd[i]);
	free(fs->port_fd);
	free(fs->buf);
	if (fs->fd >= 0)
		close(fs->fd);
}

/* The socket that sends from GWLB's port of a flow, made when first needed. */
static int
fast_port_fd(struct fast *fs, uint16_t port, const char *dev)
{
	struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, sz = 8 << 20, pmtu = IP_PMTUDISC_PROBE;

	if (fs->port_fd[port] >= 0 || fs->nport >= R_PORT_FDS)
		return fs->port_fd[port];
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	if (dev[0])
		setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev));
	sin.sin_port = htons(port);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	fs->port_fd[port] = fd;
	fs->nport++;
	return fd;
}

/* Treat the inner packet of one GENEVE datagram; false if it is not one. */
static bool
fast_one(struct reflect *r, uint8_t *d, size_t len)
{
	struct geneve_pkt g;
	uint8_t *inner;

	if (geneve_decode(d, len, &g) != GENEVE_OK) {
		r->bad++;
		return false;
	}
	r->received++;
	inner = d + g.hdr_len;
	if (r->inner == INNER_TTL)
		inner_forward(inner);
	else if (r->inner == INNER_REPLY)
		inner_answer(inner, g.inner_len);
	r->reflected++;
	return true;
}

#define R_CTL_LEN (CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in_pktinfo)))

/* One round: read bursts, send them back; count read or -errno. */
static int
fast_round(struct reflect *r, struct fast *fs, const char *dev, int timeout_ms,
    uint64_t count)
{
	struct mmsghdr msg[R_RX_BUFS];
	struct iovec iov[R_RX_BUFS];
	struct sockaddr_in from[R_RX_BUFS];
	char ctl[R_RX_BUFS][R_CTL_LEN];
	char sctl[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct pollfd pfd = { .fd = fs->fd, .events = POLLIN };
	int n;

	n = poll(&pfd, 1, timeout_ms);
	if (n <= 0)
		return n < 0 && errno != EINTR ? -errno : 0;
	for (int i = 0; i < R_RX_BUFS; i++) {
		iov[i].iov_base = fs->buf + (size_t)i * R_RX_BUF;
		iov[i].iov_len = R_RX_BUF;
		memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		msg[i].msg_hdr.msg_name = &from[i];
		msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msg[i].msg_hdr.msg_control = ctl[i];
		msg[i].msg_hdr.msg_controllen = R_CTL_LEN;
	}
	n = recvmmsg(fs->fd, msg, R_RX_BUFS, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &msg[i].msg_hdr, out;
		struct in_pktinfo pk = { 0 };
		struct sockaddr_in to = from[i];
		struct cmsghdr *cm;
		uint8_t *d = iov[i].iov_base;
		size_t len = msg[i].msg_len, gs = len, off, keep = 0;
		int fd, iv;

		fs->gro_reads++;
		for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
			if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
				memcpy(&iv, CMSG_DATA(cm), sizeof(iv));
				if (iv > 0)
					gs = (size_t)iv;
			} else if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				memcpy(&pk, CMSG_DATA(cm), sizeof(pk));
			}
		}
		/* the datagrams that decode stay, in order; the rest go */
		for (off = 0; off < len; off += gs) {
			size_t dl = len - off < gs ? len - off : gs;

			if (count && r->received >= count)
				break;
			if (!fast_one(r, d + off, dl))
				continue;
			if (keep != off)
				memmove(d + keep, d + off, dl);
			keep += dl;
		}
		if (keep == 0)
			continue;
		fd = fast_port_fd(fs, ntohs(from[i].sin_port), dev);
		if (fd < 0) {
			fs->send_err++;
			continue;
		}
		to.sin_port = htons(r->port);
		memset(&out, 0, sizeof(out));
		memset(sctl, 0, sizeof(sctl));
		out.msg_name = &to;
		out.msg_namelen = sizeof(to);
		iov[i].iov_len = keep;
		out.msg_iov = &iov[i];
		out.msg_iovlen = 1;
		out.msg_control = sctl;
		out.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		cm = CMSG_FIRSTHDR(&out);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pk));
		pk.ipi_ifindex = 0;
		pk.ipi_spec_dst = pk.ipi_addr;	/* from where it was sent to */
		memcpy(CMSG_DATA(cm), &pk, sizeof(pk));
		if (keep > gs) {
			uint16_t v = (uint16_t)gs;

			out.msg_controllen += CMSG_SPACE(sizeof(v));
			cm = CMSG_NXTHDR(&out, cm);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(v));
			memcpy(CMSG_DATA(cm), &v, sizeof(v));
		}
		if (sendmsg(fd, &out, 0) < 0)
			fs->send_err++;
		else
			fs->gso_sends++;
	}
	return n;
}

static int
fast_run(struct reflect *r, struct fast *fs, const char *dev, uint64_t duration,
    uint64_t count, bool json)
{
	uint64_t end;

	sim_signals();
	fprintf(stderr, "gwlbsim reflect: ready\n");
	end = sim_now_ns() + duration;
	while (!sim_stop) {
		uint64_t now = sim_now_ns();
		int n;

		if (now >= end || (count && r->received >= count))
			break;
		n = fast_round(r, fs, dev, (int)((end - now) / 1000000u) + 1, count);
		if (n < 0) {
			errno = -n;
			sim_warn("receive");
			return SIM_EXIT_ERROR;
		}
	}
	if (json)
		printf("{\"received\":%" PRIu64 ",\"reflected\":%" PRIu64
		    ",\"faulted\":0,\"dropped\":0,\"bad\":%" PRIu64
		    ",\"gro_reads\":%" PRIu64 ",\"gso_sends\":%" PRIu64
		    ",\"send_errors\":%" PRIu64 "}\n", r->received, r->reflected,
		    r->bad, fs->gro_reads, fs->gso_sends, fs->send_err);
	else
		printf("reflect: received %" PRIu64 " reflected %" PRIu64
		    " faulted 0 dropped 0 not GENEVE %" PRIu64 " (GRO reads %"
		    PRIu64 " GSO sends %" PRIu64 " send errors %" PRIu64 ")\n",
		    r->received, r->reflected, r->bad, fs->gro_reads,
		    fs->gso_sends, fs->send_err);
	return SIM_EXIT_PASS;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gwlbsim reflect [OPTIONS]\n"
	    "Play the appliance at the GENEVE level: every GENEVE datagram that\n"
	    "arrives goes back as GWLB requires (header unchanged, outer addresses\n"
	    "swapped, UDP ports kept), written as an Ethernet frame to the\n"
	    "sender's MAC address.  Faults make it wrong on purpose, to prove that\n"
	    "the checker catches them.  Prints 'ready' on stderr once it listens.\n\n"
	    "  --dev IF             only this link (default: every link)\n"
	    "  --port N             GENEVE port (6081)\n"
	    "  --inner keep|ttl|reply\n"
	    "                       inner packet as received (keep), as a router\n"
	    "                       forwards it (ttl: one less), or answered\n"
	    "                       (reply: addresses and ports swapped, ICMP echo\n"
	    "                       reply) (keep)\n"
	    "  --fault LIST         faults, comma separated:\n");
	for (int i = 0; i < F__MAX; i++)
		fprintf(f, "                         %-12s %s\n", faults[i].name,
		    faults[i].help);
	fprintf(f,
	    "  --fault-every N      fault every Nth datagram only (1)\n"
	    "  --fault-after N      the first N datagrams are right (0)\n"
	    "  --udp-csum full|zero outer UDP checksum of replies (full)\n"
	    "  --duration S         run at most this long (60)\n"
	    "  --count N            stop after N datagrams\n"
	    "  --no-sink            do not bind the GENEVE port\n"
	    "  --per-packet         a frame at a time on a packet socket, as with\n"
	    "                       --fault, --udp-csum zero or --no-sink (else:\n"
	    "                       UDP_GRO bursts in, UDP GSO bursts out)\n"
	    "  --json               print the counters as one JSON object\n");
}

enum { O_DEV = 1000, O_PORT, O_INNER, O_FAULT, O_EVERY, O_AFTER, O_CSUM,
	O_DURATION, O_COUNT, O_NOSINK, O_PERPKT, O_JSON, O_HELP };

static int
parse_faults(const char *arg, uint32_t *mask)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < F__MAX; i++)
			if (strcmp(tok, faults[i].name) == 0)
				break;
		if (i == F__MAX)
			return -EINVAL;
		*mask |= 1u << i;
	}
	return 0;
}

int
cmd_reflect(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, O_DEV },
		{ "port", required_argument, NULL, O_PORT },
		{ "inner", required_argument, NULL, O_INNER },
		{ "fault", required_argument, NULL, O_FAULT },
		{ "fault-every", required_argument, NULL, O_EVERY },
		{ "fault-after", required_argument, NULL, O_AFTER },
		{ "udp-csum", required_argument, NULL, O_CSUM },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "count", required_argument, NULL, O_COUNT },
		{ "no-sink", no_argument, NULL, O_NOSINK },
		{ "per-packet", no_argument, NULL, O_PERPKT },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ 0, 0, 0, 0 } };
	struct reflect r;
	struct sim_rx rx;
	struct mmsghdr msg[2 * 64];
	struct iovec iov[2 * 64];
	struct sockaddr_ll to[2 * 64];
	uint8_t *tx = NULL;
	char dev[IF_NAMESIZE] = "";
	uint64_t v, duration = 60ULL * 1000000000, count = 0, end;
	bool sink = true, json = false, perpkt = false;
	struct fast fs = { .fd = -1 };
	int ch, fd = -1, ifindex = 0, rc = SIM_EXIT_ERROR;

	memset(&r, 0, sizeof(r));
	memset(&rx, 0, sizeof(rx));
	r.every = 1;
	r.udp_csum = true;
	r.port = GENEVE_PORT;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int e = 0;

		switch (ch) {
		case 'h':
		case O_HELP:
			usage(stdout);
			return SIM_EXIT_PASS;
		case O_DEV:
			if (strlen(optarg) >= sizeof(dev))
				e = -EINVAL;
			else
				strcpy(dev, optarg);
			break;
		case O_PORT:
			e = sim_parse_u64(optarg, 1, 65535, &v);
			r.port = (uint16_t)v;
			break;
		case O_INNER:
			if (strcmp(optarg, "keep") == 0)
				r.inner = INNER_KEEP;
			else if (strcmp(optarg, "ttl") == 0)
				r.inner = INNER_TTL;
			else if (strcmp(optarg, "reply") == 0)
				r.inner = INNER_REPLY;
			else
				e = -EINVAL;
			break;
		case O_FAULT:
			e = parse_faults(optarg, &r.faults);
			break;
		case O_EVERY:
			e = sim_parse_u64(optarg, 1, UINT64_MAX, &r.every);
			break;
		case O_AFTER:
			e = sim_parse_u64(optarg, 0, UINT64_MAX, &r.after);
			break;
		case O_CSUM:
			if (strcmp(optarg, "full") == 0)
				r.udp_csum = true;
			else if (strcmp(optarg, "zero") == 0)
				r.udp_csum = false;
			else
				e = -EINVAL;
			break;
		case O_DURATION:
			e = sim_parse_secs(optarg, &duration);
			break;
		case O_COUNT:
			e = sim_parse_u64(optarg, 1, UINT64_MAX, &count);
			break;
		case O_NOSINK:
			sink = false;
			break;
		case O_PERPKT:
			perpkt = true;
			break;
		case O_JSON:
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
	if (optind != argc) {
		sim_warnx("unexpected argument '%s'", argv[optind]);
		return SIM_EXIT_USAGE;
	}
	if (dev[0] && (ifindex = (int)if_nametoindex(dev)) == 0) {
		sim_warn("link %s", dev);
		return SIM_EXIT_ERROR;
	}
	/*
	 * Faults and a zero UDP checksum need frames made by hand; so does
	 * --no-sink (the fast way binds the port).
	 */
	if (!perpkt && sink && r.faults == 0 && r.udp_csum) {
		int e = fast_open(&fs, r.port, dev);

		if (e < 0) {
			errno = -e;
			sim_warn("UDP port %u, a frame at a time instead", r.port);
		} else {
			rc = fast_run(&r, &fs, dev, duration, count, json);
			fast_close(&fs);
			return rc;
		}
	}
	if (sink) {
		int s = sim_sink_open(r.port);

		if (s < 0 && s != -EADDRINUSE) {
			errno = -s;
			sim_warn("cannot bind UDP port %u as a sink", r.port);
		}
	}
	fd = sim_packet_open(ifindex, r.port, true, false, 64 << 20);
	if (fd < 0) {
		errno = -fd;
		sim_warn("packet socket");
		return SIM_EXIT_ERROR;
	}
	tx = malloc((size_t)64 * SIM_FRAME_MAX);
	if (tx == NULL || sim_rx_init(&rx, fd, 64) < 0 ||
	    sim_map_init(&r.map, 256) < 0) {
		sim_warn("memory");
		goto out;
	}
	sim_signals();
	fprintf(stderr, "gwlbsim reflect: ready\n");
	end = sim_now_ns() + duration;
	while (!sim_stop) {
		uint64_t now = sim_now_ns();
		unsigned nout = 0;
		int n;

		if (now >= end || (count && r.received >= count))
			break;
		n = sim_rx_recv(&rx, (int)((end - now) / 1000000u) + 1);
		if (n < 0) {
			errno = -n;
			sim_warn("receive");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			struct sim_rx_pkt p;
			uint8_t *o = tx + (size_t)i * SIM_FRAME_MAX;
			bool twice;
			size_t len;

			sim_rx_get(&rx, (unsigned)i, &p);
			len = reflect_one(&r, p.data, p.len, o, &twice);
			for (int k = 0; len && k < (twice ? 2 : 1); k++) {
				memset(&to[nout], 0, sizeof(to[nout]));
				to[nout].sll_family = AF_PACKET;
				to[nout].sll_ifindex = p.ifindex;
				to[nout].sll_protocol = htons(ETH_P_IP);
				to[nout].sll_halen = ETH_ALEN;
				memcpy(to[nout].sll_addr, o, ETH_ALEN);
				iov[nout].iov_base = o;
				iov[nout].iov_len = len;
				memset(&msg[nout], 0, sizeof(msg[nout]));
				msg[nout].msg_hdr.msg_iov = &iov[nout];
				msg[nout].msg_hdr.msg_iovlen = 1;
				msg[nout].msg_hdr.msg_name = &to[nout];
				msg[nout].msg_hdr.msg_namelen = sizeof(to[nout]);
				nout++;
			}
		}
		for (unsigned done = 0; done < nout && !sim_stop;) {
			int s = sendmmsg(fd, msg + done, nout - done, 0);

			if (s < 0) {
				if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
					continue;
				sim_warn("send");
				goto out;
			}
			done += (unsigned)s;
		}
	}
	if (json)
		printf("{\"received\":%" PRIu64 ",\"reflected\":%" PRIu64
		    ",\"faulted\":%" PRIu64 ",\"dropped\":%" PRIu64
		    ",\"bad\":%" PRIu64 "}\n", r.received, r.reflected,
		    r.faulted, r.dropped, r.bad);
	else
		printf("reflect: received %" PRIu64 " reflected %" PRIu64
		    " faulted %" PRIu64 " dropped %" PRIu64 " not GENEVE %" PRIu64
		    "\n", r.received, r.reflected, r.faulted, r.dropped, r.bad);
	rc = SIM_EXIT_PASS;
out:
	free(tx);
	free(r.cookies);
	sim_map_free(&r.map);
	sim_rx_free(&rx);
	if (fd >= 0)
		close(fd);
	return rc;
}
