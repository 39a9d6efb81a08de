/*
 * What gwlbsim puts on the wire and how it listens.  Inner packets are
 * built deterministically from (flow, sequence number) with correct
 * checksums; the outer IPv4/UDP header is ours too (a raw socket), because
 * GWLB sends every flow from its own source port and a multi-node GWLB from
 * several addresses.  Returned packets are read from a packet socket, so
 * that the checker sees the outer header exactly as it arrived, including
 * packets the kernel itself would drop (bad checksum, foreign address).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bytes.h"
#include "sim.h"

#define SIM_TAG		"GWSM"
#define SIM_TAG_LEN	16	/* "GWSM", flow id (4), sequence (8) */

size_t
sim_inner_min(int family, int proto)
{
	size_t l3 = family == 4 ? 20 : 40;

	return l3 + (proto == IPPROTO_TCP ? 20 : 8);
}

size_t
sim_build_inner(uint8_t *buf, size_t cap, struct sim_flow *f, size_t size,
    uint8_t ttl)
{
	size_t l3 = f->family == 4 ? 20 : 40;
	size_t l4 = f->proto == IPPROTO_TCP ? 20 : 8;
	size_t len = size, plen, off;
	uint64_t seq = f->seq;
	uint8_t *t, *pl;

	if (len < l3 + l4)
		len = l3 + l4;
	if (len > cap)
		len = cap;
	plen = len - l3 - l4;
	memset(buf, 0, l3 + l4);
	if (f->family == 4) {
		buf[0] = 0x45;
		wr16(buf + 2, (uint16_t)len);
		wr16(buf + 4, (uint16_t)seq);		/* id: the sequence */
		buf[6] = 0x40;				/* DF, like a TCP stack */
		buf[8] = ttl;
		buf[9] = f->proto;
		memcpy(buf + 12, f->src, 4);
		memcpy(buf + 16, f->dst, 4);
		wr16(buf + 10, sim_csum_fold(sim_csum_add(0, buf, 20)));
	} else {
		/* flow label carries the sequence: forwarding keeps it */
		wr32(buf, 6u << 28 | (uint32_t)(seq & 0xfffff));
		wr16(buf + 4, (uint16_t)(len - 40));
		buf[6] = f->proto;
		buf[7] = ttl;
		memcpy(buf + 8, f->src, 16);
		memcpy(buf + 24, f->dst, 16);
	}
	t = buf + l3;
	switch (f->proto) {
	case IPPROTO_TCP:
		wr16(t, f->sport);
		wr16(t + 2, f->dport);
		wr32(t + 4, f->tcp_seq);
		wr32(t + 8, 1);
		t[12] = 5 << 4;
		t[13] = 0x18;				/* PSH|ACK */
		wr16(t + 14, 65535);
		f->tcp_seq += (uint32_t)plen;
		break;
	case IPPROTO_UDP:
		wr16(t, f->sport);
		wr16(t + 2, f->dport);
		wr16(t + 4, (uint16_t)(len - l3));
		break;
	default:	/* ICMP / ICMPv6 echo request */
		t[0] = f->family == 4 ? 8 : 128;
		wr16(t + 4, f->sport);
		wr16(t + 6, (uint16_t)seq);
		break;
	}
	pl = t + l4;
	off = 0;
	if (plen >= SIM_TAG_LEN) {
		memcpy(pl, SIM_TAG, 4);
		wr32(pl + 4, (uint32_t)(f->aws.cookie ^ f->outer_sport));
		wr32(pl + 8, (uint32_t)(seq >> 32));
		wr32(pl + 12, (uint32_t)seq);
		off = SIM_TAG_LEN;
	}
	for (size_t i = off; i < plen; i++)
		pl[i] = (uint8_t)(seq + i);
	sim_l4_csum(buf, len, false);
	f->seq++;
	return len;
}

uint16_t
sim_ip4_csum(const uint8_t *p)
{
	return sim_csum_fold(sim_csum_add(0, p, (size_t)(p[0] & 0x0f) * 4));
}

void
sim_outer_finish(uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport, uint8_t ttl, uint16_t id, bool udp_csum)
{
	uint8_t *u = buf + 20;
	uint16_t s;

	memset(buf, 0, SIM_OUTER_LEN);
	buf[0] = 0x45;
	wr16(buf + 2, (uint16_t)len);
	wr16(buf + 4, id);
	buf[6] = 0x40;		/* DF: GWLB does not fragment */
	buf[8] = ttl;
	buf[9] = IPPROTO_UDP;
	memcpy(buf + 12, &src, 4);
	memcpy(buf + 16, &dst, 4);
	wr16(buf + 10, sim_ip4_csum(buf));
	wr16(u, sport);
	wr16(u + 2, dport);
	wr16(u + 4, (uint16_t)(len - 20));
	if (udp_csum) {
		s = sim_csum_fold(sim_csum_add(sim_csum_pseudo(4, buf + 12,
		    buf + 16, IPPROTO_UDP, (uint32_t)(len - 20)), u, len - 20));
		wr16(u + 6, s ? s : 0xffff);
	}
}

int
sim_raw_open(size_t sndbuf)
{
	int fd, one = 1, sz = (int)sndbuf;

	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	if (sz && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

/*
 * Classic BPF: IPv4 (skb->protocol, so it works with and without a link
 * header), UDP, not a later fragment, port at either end.  Outgoing
 * packets reach only ETH_P_ALL sockets, hence that protocol when they are
 * wanted.
 */
int
sim_packet_open(int ifindex, uint16_t port, bool raw, bool outgoing,
    size_t rcvbuf)
{
	const uint32_t b = raw ? ETH_HLEN : 0;
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 13),
		/* 2 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, b + 0),
		/* 3 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 10),
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, b + 9),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 8),
		/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, b + 6),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 6, 0),
		/* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, b + 0),
		/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, b + 2),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 2, 0),
		/* 12 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, b + 0),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		/* 14 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
		/* 15 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]),
		.filter = code,
	};
	uint16_t proto = htons(outgoing ? ETH_P_ALL : ETH_P_IP);
	struct sockaddr_ll sll;
	int fd, one = 1, sz = (int)rcvbuf, err;

	fd = socket(AF_PACKET, (raw ? SOCK_RAW : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* filter before bind, so nothing unfiltered is queued */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		goto fail;
	if (!outgoing &&
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		goto fail;
	if (sz && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = proto;
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/*
 * What a UDP socket bound to local:port will not get: IPv4/UDP datagrams
 * (not later fragments) from or to port, less those to local:port.  Jump
 * offsets count from the next instruction.
 */
int
sim_packet_open_stray(uint16_t port, uint32_t local, size_t rcvbuf)
{
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 15),
		/* 2 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		/* 3 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 12),
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 10),
		/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 8, 0),
		/* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 2),
		/* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(local), 3, 2),
		/* 14 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		/* 16 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
		/* 17 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]),
		.filter = code,
	};
	struct sockaddr_ll sll;
	int fd, one = 1, sz = (int)rcvbuf, err;

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		goto fail;
	if (sz && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_IP);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int
sim_sink_open(uint16_t port)
{
	struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = drop };
	struct sockaddr_in sin;
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int
sim_route_src(uint32_t dst, uint32_t *src)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(GENEVE_PORT);
	sin.sin_addr.s_addr = dst;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		err = -errno;
	else
		*src = sin.sin_addr.s_addr;
	close(fd);
	return err;
}

#define SIM_CTL_LEN	(CMSG_SPACE(sizeof(struct tpacket_auxdata)) + \
	CMSG_SPACE(sizeof(struct timespec)))

int
sim_rx_timestamps(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

int
sim_rx_init(struct sim_rx *rx, int fd, unsigned batch)
{
	memset(rx, 0, sizeof(*rx));
	rx->fd = fd;
	rx->batch = batch;
	rx->buf = malloc((size_t)batch * SIM_FRAME_MAX);
	rx->msg = calloc(batch, sizeof(*rx->msg));
	rx->iov = calloc(batch, sizeof(*rx->iov));
	rx->sll = calloc(batch, sizeof(*rx->sll));
	rx->ctl = calloc(batch, SIM_CTL_LEN);
	if (!rx->buf || !rx->msg || !rx->iov || !rx->sll || !rx->ctl) {
		sim_rx_free(rx);
		return -ENOMEM;
	}
	return 0;
}

void
sim_rx_free(struct sim_rx *rx)
{
	free(rx->buf);
	free(rx->msg);
	free(rx->iov);
	free(rx->sll);
	free(rx->ctl);
	rx->buf = NULL;
	rx->msg = NULL;
	rx->iov = NULL;
	rx->sll = NULL;
	rx->ctl = NULL;
}

int
sim_rx_recv(struct sim_rx *rx, int timeout_ms)
{
	struct pollfd pfd = { .fd = rx->fd, .events = POLLIN };
	int n;

	rx->n = 0;
	if (timeout_ms != 0) {
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		if (n == 0)
			return 0;
	}
	for (unsigned i = 0; i < rx->batch; i++) {
		rx->iov[i].iov_base = rx->buf + (size_t)i * SIM_FRAME_MAX;
		rx->iov[i].iov_len = SIM_FRAME_MAX;
		memset(&rx->msg[i].msg_hdr, 0, sizeof(rx->msg[i].msg_hdr));
		rx->msg[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msg[i].msg_hdr.msg_iovlen = 1;
		rx->msg[i].msg_hdr.msg_name = &rx->sll[i];
		rx->msg[i].msg_hdr.msg_namelen = sizeof(rx->sll[i]);
		rx->msg[i].msg_hdr.msg_control = rx->ctl + (size_t)i * SIM_CTL_LEN;
		rx->msg[i].msg_hdr.msg_controllen = SIM_CTL_LEN;
	}
	n = recvmmsg(rx->fd, rx->msg, rx->batch, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	rx->n = (unsigned)n;
	{
		/* for the kernel's timestamps (CLOCK_REALTIME) */
		struct timespec rt, mt;

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		rx->mono_off = ((int64_t)mt.tv_sec - (int64_t)rt.tv_sec) * 1000000000 +
		    ((int64_t)mt.tv_nsec - (int64_t)rt.tv_nsec);
	}
	return n;
}

void
sim_rx_get(const struct sim_rx *rx, unsigned i, struct sim_rx_pkt *p)
{
	struct msghdr *mh = (struct msghdr *)&rx->msg[i].msg_hdr;
	struct cmsghdr *cm;

	p->data = rx->iov[i].iov_base;
	p->len = rx->msg[i].msg_len;
	if (p->len > SIM_FRAME_MAX)
		p->len = SIM_FRAME_MAX;		/* truncated: the check says so */
	p->ifindex = rx->sll[i].sll_ifindex;
	p->outgoing = rx->sll[i].sll_pkttype == PACKET_OUTGOING;
	p->csum_ready = true;
	p->ts_ns = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		struct tpacket_auxdata aux;

		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			int64_t t;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + rx->mono_off;
			p->ts_ns = t > 0 ? (uint64_t)t : 0;
			continue;
		}
		if (cm->cmsg_level != SOL_PACKET || cm->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
		if (aux.tp_status & TP_STATUS_CSUMNOTREADY)
			p->csum_ready = false;
	}
}
