/*
 * Unit tests for the return path (daemon/reply.c) without root: what
 * gwlbtund sends back to GWLB for a reply the appliance writes to a TUN
 * queue.  The raw socket and sendmmsg are replaced through
 * -Wl,--wrap=socket -Wl,--wrap=sendmmsg: every datagram is recorded, and a
 * send can be made to fail on demand.  The TUN queue is one end of an
 * AF_UNIX datagram socketpair, so each write is one packet as a TUN read
 * returns it.  The ENI comes from eni_get_or_create() with the daemon's
 * state set up for one receive and one reply worker, as gwlbtund has it.
 *
 * The captured datagrams are parsed here, independently of reply.c: the
 * checksums are recomputed with a byte-wise RFC 1071 sum of our own (not
 * reply.c's helpers), the GENEVE header is compared with the bytes the
 * test handed to reply_learn(), the inner packet with what the appliance
 * wrote.  Flows are learnt the way the receive worker does it: from a
 * GENEVE datagram decoded by geneve_decode().
 *
 * With --offload, the packet socket (AF_PACKET) and its sendmsg are fakes
 * too (-Wl,--wrap=setsockopt -Wl,--wrap=sendmsg), and the layer-2 next
 * hop (nl_nexthop.h) is answered here, asked by the manager's table
 * (nh_table.c, ticked by the tests as the manager would): each UDP GSO write is cut into its
 * datagrams the way the kernel does it and each is checked like the raw
 * socket's.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "clock.h"
#include "conf.h"
#include "drop.h"
#include "eni_table.h"
#include "geneve.h"
#include "log.h"
#include "qsbr.h"
#include "reply.h"
#include "state.h"
#include "tun.h"
#include "worker.h"
#include "gso.h"
#include "nh_table.h"
#include "daemon_fixture.h"
#include "refcsum.h"

/* What the daemon's conf.c sets by default; the test links no conf.c. */
struct config conf = {
	.tcp_idle_s = 350,
	.udp_idle_s = 120,
	.geneve_port = GENEVE_PORT,
	.max_enis = 64,
	.mtu = 8500,
	.max_flows_per_eni = 1024,
};

#define ATT_ID		0x0123456789abcdefULL
#define GWLB_ADDR	"198.18.0.1"		/* GWLB's address */
#define GWLB_SPORT	54321			/* GWLB's source port */
#define LOCAL_ADDR	"198.18.0.2"		/* the address GWLB sent to */
#define GWLB_MTU	8500			/* GWLB's limit on inner packets */
#define MAX_SENT	160
#define MAX_DGRAM	(20 + 8 + GENEVE_MAX_HDR_LEN + GWLB_MTU + 64)

/* --- fake raw socket and sendmmsg ---------------------------------------- */

int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol);
int __wrap_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
int __real_close(int fd);
int __wrap_close(int fd);
int __real_setsockopt(int fd, int level, int name, const void *v, socklen_t len);
int __wrap_setsockopt(int fd, int level, int name, const void *v, socklen_t len);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags);

struct sent {
	uint8_t		data[MAX_DGRAM];
	size_t		len;
	struct sockaddr_in to;
	socklen_t	tolen;
	unsigned	order;		/* its place among all sends, both sockets */
};

static struct sent sent[MAX_SENT];
static unsigned n_sent;
static unsigned n_calls;		/* sendmmsg calls */
static unsigned attempts;		/* messages sent or failed so far */
static bool fail_attempt[MAX_SENT];	/* this message fails */
static int raw_fd = -1;			/* the fake raw socket */
static int raw_domain, raw_type, raw_proto;
static int socket_errno;		/* != 0: the next raw socket fails */
static unsigned n_order;		/* datagrams and packet socket writes so far */

/* --- fake packet socket, its sendmsg and the next hop (--offload) ------------ */

static void addr4(const char *s, uint8_t *out);

#define MAX_WRITES	8
#define PKT_IFINDEX	7
static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_GWLB[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static int pkt_fd = -1;			/* the fake packet socket */
static bool pkt_vnet;			/* PACKET_VNET_HDR asked */
static int nh_err;			/* != 0: nl_nh_resolve fails so */
static unsigned nh_asked;
static unsigned nh_gso_size, nh_gso_segs;	/* the link's GSO limits */
static unsigned pkt_fail_at = ~0u;	/* this write (0, 1, ...) fails */
static int pkt_fail_errno;		/* with this errno */
static bool pkt_closed;			/* reply.c closed the packet socket */
static unsigned n_writes;		/* packet socket writes that went out */
static unsigned pkt_tries;		/* sendmsg calls */
static struct {
	uint8_t		data[GSO_USO_HDR + 65536];
	size_t		len;
	struct sockaddr_ll to;
	unsigned	order;
} writes[MAX_WRITES];

struct nl_nh_sock { int unused; };
static struct nl_nh_sock fake_nh;

struct nl_nh_sock *
nl_nh_open(void)
{
	return &fake_nh;
}

void
nl_nh_close(struct nl_nh_sock *s)
{
	assert_true(s == NULL || s == &fake_nh);
}

int
nl_nh_resolve(struct nl_nh_sock *s, uint32_t daddr, uint32_t saddr, struct nl_nexthop *out)
{
	uint8_t a[4];

	assert_ptr_equal(s, &fake_nh);
	addr4(GWLB_ADDR, a);
	assert_memory_equal(&daddr, a, 4);
	addr4(LOCAL_ADDR, a);
	assert_memory_equal(&saddr, a, 4);
	nh_asked++;
	if (nh_err)
		return nh_err;
	*out = (struct nl_nexthop){ .ifindex = PKT_IFINDEX, .mtu = 9001,
	    .gso_max_size = nh_gso_size, .gso_max_segs = nh_gso_segs };
	memcpy(out->src_mac, MAC_US, 6);
	memcpy(out->dst_mac, MAC_GWLB, 6);
	return 0;
}

int
__wrap_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	if (fd != pkt_fd || pkt_fd < 0)
		return __real_setsockopt(fd, level, name, v, len);
	assert_int_equal(level, SOL_PACKET);
	assert_int_equal(name, PACKET_VNET_HDR);
	pkt_vnet = true;
	return 0;
}

ssize_t
__wrap_sendmsg(int fd, const struct msghdr *m, int flags)
{
	size_t len = 0;

	assert_int_equal(fd, pkt_fd);
	assert_int_equal(flags, 0);
	assert_false(pkt_closed);
	if (pkt_tries++ == pkt_fail_at) {
		errno = pkt_fail_errno;
		return -1;
	}
	assert_true(n_writes < MAX_WRITES);
	for (size_t j = 0; j < m->msg_iovlen; j++) {
		assert_true(len + m->msg_iov[j].iov_len <= sizeof(writes[0].data));
		memcpy(writes[n_writes].data + len, m->msg_iov[j].iov_base, m->msg_iov[j].iov_len);
		len += m->msg_iov[j].iov_len;
	}
	assert_int_equal(m->msg_namelen, sizeof(struct sockaddr_ll));
	memcpy(&writes[n_writes].to, m->msg_name, sizeof(struct sockaddr_ll));
	writes[n_writes].order = n_order++;
	writes[n_writes++].len = len;
	return (ssize_t)len;
}

int
__wrap_close(int fd)
{
	if (fd == pkt_fd && pkt_fd >= 0)
		pkt_closed = true;
	return __real_close(fd);
}

int
__wrap_socket(int domain, int type, int protocol)
{
	int fd;

	if (domain == AF_PACKET) {
		assert_int_equal(type & 0xf, SOCK_RAW);
		assert_int_equal(protocol, 0);	/* sends only */
		pkt_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		return pkt_fd;
	}
	if (domain != AF_INET || (type & 0xf) != SOCK_RAW)
		return __real_socket(domain, type, protocol);
	raw_domain = domain;
	raw_type = type;
	raw_proto = protocol;
	if (socket_errno) {
		errno = socket_errno;
		socket_errno = 0;
		return -1;
	}
	/* A descriptor close() accepts, that nothing can be sent on. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	raw_fd = fd;
	return fd;
}

/*
 * As the kernel does it: messages go out in order; a failure on the first
 * message of a call is -1 with errno, a failure after some were sent ends
 * the call with their count (the failing one is first in the next call).
 */
int
__wrap_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	assert_int_equal(fd, raw_fd);
	assert_int_equal(flags, 0);
	assert_true(vlen > 0);
	n_calls++;
	for (unsigned i = 0; i < vlen; i++) {
		const struct msghdr *m = &vec[i].msg_hdr;
		struct sent *s;
		size_t len = 0;

		if (attempts < MAX_SENT && fail_attempt[attempts]) {
			if (i == 0) {
				attempts++;
				errno = ENOBUFS;
				return -1;
			}
			return (int)i;
		}
		attempts++;
		assert_true(n_sent < MAX_SENT);
		s = &sent[n_sent++];
		for (size_t j = 0; j < m->msg_iovlen; j++) {
			assert_true(len + m->msg_iov[j].iov_len <= sizeof(s->data));
			memcpy(s->data + len, m->msg_iov[j].iov_base, m->msg_iov[j].iov_len);
			len += m->msg_iov[j].iov_len;
		}
		s->len = len;
		s->order = n_order++;
		s->tolen = m->msg_namelen;
		assert_non_null(m->msg_name);
		assert_true(m->msg_namelen <= sizeof(s->to));
		memcpy(&s->to, m->msg_name, m->msg_namelen);
		vec[i].msg_len = (unsigned)len;
	}
	return (int)vlen;
}

/* --- packets ---------------------------------------------------------------- */

static void
addr4(const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void
addr6(const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

/* IPv4 header (IHL 5, TTL 64, checksum set) + l4; frag = flags|offset. */
static size_t
ip4(uint8_t *b, uint8_t proto, const char *src, const char *dst, uint16_t id,
    uint16_t frag, const uint8_t *l4, size_t l4_len)
{
	b[0] = 0x45;
	b[1] = 0;
	wr16(b + 2, (uint16_t)(20 + l4_len));
	wr16(b + 4, id);
	wr16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	b[10] = b[11] = 0;
	addr4(src, b + 12);
	addr4(dst, b + 16);
	wr16(b + 10, fold(sum16(0, b, 20)));
	memcpy(b + 20, l4, l4_len);
	return 20 + l4_len;
}

/* UDP or TCP header + data (TCP: a 20-byte header, ACK). */
static size_t
l4(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport, const uint8_t *data,
    size_t len)
{
	size_t h = proto == IPPROTO_TCP ? 20 : 8;

	memset(b, 0, h);
	wr16(b, sport);
	wr16(b + 2, dport);
	if (proto == IPPROTO_TCP) {
		b[12] = 5 << 4;
		b[13] = 0x10;
		wr16(b + 14, 65535);
	} else {
		wr16(b + 4, (uint16_t)(8 + len));
	}
	memcpy(b + h, data, len);
	return h + len;
}

static size_t
udp4(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
    const uint8_t *data, size_t len)
{
	uint8_t t[GWLB_MTU + 64];

	assert_true(len + 8 <= sizeof(t));
	return ip4(b, IPPROTO_UDP, src, dst, 0x1000, 0x4000, t,
	    l4(t, IPPROTO_UDP, sport, dport, data, len));
}

static size_t
ip6(uint8_t *b, uint8_t nh, const char *src, const char *dst, const uint8_t *pl,
    size_t pl_len)
{
	b[0] = 0x60;
	b[1] = b[2] = b[3] = 0;
	wr16(b + 4, (uint16_t)pl_len);
	b[6] = nh;
	b[7] = 64;
	addr6(src, b + 8);
	addr6(dst, b + 24);
	memcpy(b + 40, pl, pl_len);
	return 40 + pl_len;
}

static size_t
l4_6(uint8_t *b, uint8_t proto, const char *src, uint16_t sport, const char *dst,
    uint16_t dport, const uint8_t *data, size_t len)
{
	uint8_t t[512];

	assert_true(len + 20 <= sizeof(t));
	return ip6(b, proto, src, dst, t, l4(t, proto, sport, dport, data, len));
}

/*
 * The header GWLB sends, laid out by hand (RFC 8926 and AWS's options):
 * base header, ENI id (class 0x0108 type 1), attachment id (type 2), flow
 * cookie (type 3): 40 bytes.  extra adds a 4-byte non-critical option of
 * another class at the end (48 bytes), so the length is not always 40.
 */
static size_t
gwlb_hdr(uint8_t *b, uint64_t eni, uint32_t cookie, uint16_t proto, bool extra)
{
	size_t n = 0;
	uint8_t opt_words = extra ? 10 : 8;

	b[n++] = opt_words;
	b[n++] = 0;
	wr16(b + n, proto);
	n += 2;
	memset(b + n, 0, 4);
	n += 4;
	b[n++] = 0x01, b[n++] = 0x08, b[n++] = 0x01, b[n++] = 0x02;
	for (int i = 7; i >= 0; i--)
		b[n++] = (uint8_t)(eni >> (8 * i));
	b[n++] = 0x01, b[n++] = 0x08, b[n++] = 0x02, b[n++] = 0x02;
	for (int i = 7; i >= 0; i--)
		b[n++] = (uint8_t)(ATT_ID >> (8 * i));
	b[n++] = 0x01, b[n++] = 0x08, b[n++] = 0x03, b[n++] = 0x01;
	for (int i = 3; i >= 0; i--)
		b[n++] = (uint8_t)(cookie >> (8 * i));
	if (extra) {
		b[n++] = 0xff, b[n++] = 0x01, b[n++] = 0x05, b[n++] = 0x01;
		b[n++] = 0xa1, b[n++] = 0xb2, b[n++] = 0xc3, b[n++] = 0xd4;
	}
	assert_int_equal(n, 8 + opt_words * 4);
	return n;
}

/* --- the daemon around reply.c ------------------------------------------------ */

static struct worker workers[2];	/* [0] receive, [1] reply: D.workers */
#define RX	(&workers[0])
#define W	(&workers[1])
#define MAX_ENIS_PER_TEST 4

struct fx {
	struct eni	*e[MAX_ENIS_PER_TEST];
	unsigned	n_eni;
	int		sv[MAX_ENIS_PER_TEST][2];	/* [0] the TUN queue, [1] the appliance */
	struct tunq	q[MAX_ENIS_PER_TEST];
};

static struct fx fx;
static uint64_t next_eni = 0x0e5a000000000001ULL;

/* A new ENI (as a receive worker meets it) and a gwi- queue for it. */
static unsigned
add_eni(void)
{
	unsigned i = fx.n_eni++;
	struct eni *e;

	assert_true(i < MAX_ENIS_PER_TEST);
	e = eni_get_or_create(next_eni++, ATT_ID, RX->idx, &RX->stats);
	assert_non_null(e);
	assert_ptr_equal(eni_take_creates(), e);
	assert_non_null(e->flows);
	fx.e[i] = e;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, fx.sv[i]), 0);
	fx.q[i] = (struct tunq){ .eni = e, .fd = fx.sv[i][0], .out = false };
	return i;
}

static int
setup(void **state)
{
	(void)state;
	memset(sent, 0, sizeof(sent));
	n_sent = n_calls = attempts = n_order = 0;
	memset(fail_attempt, 0, sizeof(fail_attempt));
	raw_fd = -1;
	memset(&fx, 0, sizeof(fx));
	memset(W, 0, sizeof(*W));
	W->idx = 1;
	W->kidx = 0;
	W->kind = WORKER_REPLY;
	W->fd = W->kick_fd = -1;
	if (reply_worker_init(W) != 0)
		return -1;
	add_eni();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	reply_worker_fini(W);
	for (unsigned i = 0; i < fx.n_eni; i++) {
		close(fx.sv[i][0]);
		close(fx.sv[i][1]);
		eni_unpublish(fx.e[i]);
		eni_free(fx.e[i]);
	}
	qsbr_reclaim();		/* replaced headers: no reader is online */
	return 0;
}

/* The receive side: GWLB sent hdr + inner from gwlb:gport to local. */
static void
learn_from(unsigned i, const uint8_t *hdr, size_t hlen, const uint8_t *inner,
    size_t ilen, const char *gwlb, uint16_t gport, const char *local)
{
	uint8_t *dg = malloc(hlen + ilen);
	struct geneve_pkt g;
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(gport) };
	struct in_addr dst;

	assert_non_null(dg);
	memcpy(dg, hdr, hlen);
	memcpy(dg + hlen, inner, ilen);
	assert_int_equal(geneve_decode(dg, hlen + ilen, &g), GENEVE_OK);
	assert_int_equal(g.hdr_len, hlen);
	addr4(gwlb, (uint8_t *)&src.sin_addr);
	addr4(local, (uint8_t *)&dst);
	reply_learn(fx.e[i], RX, &g, dg, &src, &dst, coarse_ns());
	free(dg);
}

static void
learn(unsigned i, const uint8_t *hdr, size_t hlen, const uint8_t *inner, size_t ilen)
{
	learn_from(i, hdr, hlen, inner, ilen, GWLB_ADDR, GWLB_SPORT, LOCAL_ADDR);
}

/* The appliance writes one packet to queue i. */
static void
put(unsigned i, const uint8_t *p, size_t len)
{
	assert_int_equal(write(fx.sv[i][1], p, len), (ssize_t)len);
}

/* The reply worker's epoll said queue i is readable; then its flush. */
static void
run(unsigned i)
{
	reply_queue_ready(W, &fx.q[i]);
	reply_flush(W);
}

/*
 * One datagram for GWLB, parsed here: outer IPv4 to gwlb from local, DF,
 * TTL 64, UDP from gport to the GENEVE port, both checksums right, then
 * the GENEVE header and the inner packet byte for byte.
 */
static void
check_dgram(const struct sent *s, const char *local, const char *gwlb, uint16_t gport,
    const uint8_t *hdr, size_t hlen, const uint8_t *inner, size_t ilen)
{
	const uint8_t *b = s->data;
	const uint8_t *u = b + 20;
	uint8_t a_local[4], a_gwlb[4], pseudo[12], hcopy[20];
	size_t ulen = 8 + hlen + ilen;
	uint16_t want;

	addr4(local, a_local);
	addr4(gwlb, a_gwlb);
	/* Where sendmmsg sends it: GWLB. */
	assert_int_equal(s->tolen, sizeof(struct sockaddr_in));
	assert_int_equal(s->to.sin_family, AF_INET);
	assert_memory_equal(&s->to.sin_addr, a_gwlb, 4);

	assert_int_equal(s->len, 20 + ulen);
	/* IPv4 */
	assert_int_equal(b[0], 0x45);
	assert_int_equal(b[1], 0);
	assert_int_equal(rd16(b + 2), 20 + ulen);
	assert_int_equal(rd16(b + 6), 0x4000);		/* DF, offset 0 */
	assert_int_equal(b[8], 64);
	assert_int_equal(b[9], IPPROTO_UDP);
	assert_memory_equal(b + 12, a_local, 4);
	assert_memory_equal(b + 16, a_gwlb, 4);
	memcpy(hcopy, b, 20);
	hcopy[10] = hcopy[11] = 0;
	assert_int_equal(rd16(b + 10), fold(sum16(0, hcopy, 20)));
	assert_int_equal(fold(sum16(0, b, 20)), 0);	/* as a receiver checks it */

	/* UDP */
	assert_int_equal(rd16(u), gport);
	assert_int_equal(rd16(u + 2), conf.geneve_port);
	assert_int_equal(rd16(u + 4), ulen);
	memcpy(pseudo, a_local, 4);
	memcpy(pseudo + 4, a_gwlb, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	wr16(pseudo + 10, (uint16_t)ulen);
	{
		uint8_t uh[8];
		uint32_t sum;

		memcpy(uh, u, 8);
		uh[6] = uh[7] = 0;
		sum = sum16(sum16(sum16(0, pseudo, 12), uh, 8), u + 8, ulen - 8);
		want = fold(sum);
		if (want == 0)
			want = 0xffff;
	}
	assert_int_equal(rd16(u + 6), want);
	assert_int_equal(fold(sum16(sum16(0, pseudo, 12), u, ulen)), 0);

	/* GENEVE as learnt, then the inner packet as written. */
	assert_memory_equal(u + 8, hdr, hlen);
	assert_memory_equal(u + 8 + hlen, inner, ilen);
}

/*
 * The reply worker's count of one drop reason, by the name gwlbctl show
 * drops prints; each reason the return path counts is on the reply side.
 */
static uint64_t
drops(const char *name)
{
	for (int r = 0; r < DROP__MAX; r++) {
		if (strcmp(drop_str((enum drop_reason)r), name) != 0)
			continue;
		assert_int_equal(drop_side((enum drop_reason)r), DROP_SIDE_REPLY);
		return STAT_GET(W->stats.drops[r]);
	}
	fail_msg("no drop reason named %s", name);
	return 0;
}

static uint64_t
all_drops(void)
{
	uint64_t n = 0;

	for (int r = 0; r < DROP__MAX; r++)
		n += STAT_GET(W->stats.drops[r]);
	return n;
}

#define ES(i)	(&fx.e[i]->stats[W->idx])

/* --- tests ------------------------------------------------------------------ */

/* The raw socket is the one IP_HDRINCL comes with: we write the IPv4 header. */
static void
test_raw_socket(void **state)
{
	struct worker w2 = { .idx = 1 };

	(void)state;
	assert_true(raw_fd >= 0);
	assert_int_equal(raw_domain, AF_INET);
	assert_int_equal(raw_type & 0xf, SOCK_RAW);
	assert_int_equal(raw_proto, IPPROTO_RAW);
	/* Without the right to open it (no CAP_NET_RAW) the worker fails. */
	socket_errno = EPERM;
	assert_int_equal(reply_worker_init(&w2), -EPERM);
	assert_null(w2.reply);
}

/*
 * The common case: a UDP reply (odd length, so the checksum's last byte is
 * a half word) to a flow GWLB sent; and on the gwo- queue a packet in the
 * flow's own direction (forwarded by the appliance) goes back the same way.
 */
static void
test_v4_udp(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN], req[128], rep[128], fwd[128];
	const uint8_t q[] = "query", a[] = { 'a', 'n', 's', 'w', 'e', 'r', '!' };
	size_t hl, rl, ql, fl;

	(void)state;
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xdeadbeef, ETHERTYPE_IPV4, false);
	assert_int_equal(hl, GENEVE_AWS_HDR_LEN);
	ql = udp4(req, "192.0.2.1", 12345, "198.51.100.2", 53, q, sizeof(q));
	learn(0, hdr, hl, req, ql);

	rl = udp4(rep, "198.51.100.2", 53, "192.0.2.1", 12345, a, sizeof(a));
	assert_true(rl & 1);
	put(0, rep, rl);
	run(0);
	assert_int_equal(n_sent, 1);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, rep, rl);

	fl = udp4(fwd, "192.0.2.1", 12345, "198.51.100.2", 53, a, 6);
	fx.q[0].out = true;
	put(0, fwd, fl);
	run(0);
	assert_int_equal(n_sent, 2);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, fwd, fl);
	assert_int_equal(all_drops(), 0);
	assert_int_equal(STAT_GET(ES(0)->drops), 0);
}

/*
 * A UDP checksum that sums to 0 is sent as 0xffff: 0 would tell GWLB the
 * datagram has none.  Two payload bytes are chosen so the sum is 0.
 */
static void
test_udp_csum_zero(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN], req[128], rep[128], ubuf[256], pseudo[12];
	uint8_t data[8] = { 0, 0, 1, 2, 3, 4, 5, 6 };
	size_t hl, rl, ql, ulen;
	uint32_t sum;

	(void)state;
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0x00c0ffee, ETHERTYPE_IPV4, false);
	ql = udp4(req, "192.0.2.7", 40000, "203.0.113.9", 4789, data, 4);
	learn(0, hdr, hl, req, ql);

	/* The outer UDP datagram as it will be, checksum field 0, data[0..1] 0. */
	rl = udp4(rep, "203.0.113.9", 4789, "192.0.2.7", 40000, data, sizeof(data));
	ulen = 8 + hl + rl;
	memset(ubuf, 0, 8);
	wr16(ubuf, GWLB_SPORT);
	wr16(ubuf + 2, GENEVE_PORT);
	wr16(ubuf + 4, (uint16_t)ulen);
	memcpy(ubuf + 8, hdr, hl);
	memcpy(ubuf + 8 + hl, rep, rl);
	addr4(LOCAL_ADDR, pseudo);
	addr4(GWLB_ADDR, pseudo + 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	wr16(pseudo + 10, (uint16_t)ulen);
	sum = sum16(sum16(0, pseudo, 12), ubuf, ulen);
	/* data[0..1] sits at an even offset of the UDP datagram (8 + 40 + 28). */
	assert_int_equal((8 + hl + 28) % 2, 0);
	wr16(rep + 28, fold(sum));
	assert_int_equal(fold(sum16(sum16(0, pseudo, 12), ubuf, ulen) + rd16(rep + 28)), 0);

	put(0, rep, rl);
	run(0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(rd16(sent[0].data + 26), 0xffff);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, rep, rl);
}

/*
 * GWLB reuses a 5-tuple with a new cookie (and here a new source port):
 * the reply after the second learn carries the new header, not the old.
 */
static void
test_cookie_change(void **state)
{
	uint8_t h1[GENEVE_MAX_HDR_LEN], h2[GENEVE_MAX_HDR_LEN], req[128], rep[128];
	size_t l1, l2, rl, ql;

	(void)state;
	l1 = gwlb_hdr(h1, fx.e[0]->id, 0x11111111, ETHERTYPE_IPV4, false);
	l2 = gwlb_hdr(h2, fx.e[0]->id, 0x22222222, ETHERTYPE_IPV4, false);
	ql = udp4(req, "192.0.2.1", 1111, "198.51.100.2", 2222, (const uint8_t *)"x", 1);
	rl = udp4(rep, "198.51.100.2", 2222, "192.0.2.1", 1111, (const uint8_t *)"yz", 2);

	learn(0, h1, l1, req, ql);
	put(0, rep, rl);
	run(0);
	assert_int_equal(n_sent, 1);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h1, l1, rep, rl);

	learn_from(0, h2, l2, req, ql, GWLB_ADDR, 60001, LOCAL_ADDR);
	put(0, rep, rl);
	run(0);
	assert_int_equal(n_sent, 2);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, 60001, h2, l2, rep, rl);
	assert_int_equal(all_drops(), 0);
}

/*
 * An IPv6 TCP flow; its header carries an extra option (48 bytes), which
 * is replayed as it came.  The outer header is IPv4 all the same, from
 * the address GWLB sent to (a second local address here).
 */
static void
test_v6(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN], req[256], rep[256];
	const uint8_t d[] = "HTTP/1.1 200 OK\r\n";
	size_t hl, rl, ql;

	(void)state;
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xabcdef01, ETHERTYPE_IPV6, true);
	assert_int_equal(hl, 48);
	ql = l4_6(req, IPPROTO_TCP, "2001:db8::1", 40000, "2001:db8:1::2", 443,
	    (const uint8_t *)"GET", 3);
	learn_from(0, hdr, hl, req, ql, "198.18.1.1", 40001, "198.18.0.3");

	rl = l4_6(rep, IPPROTO_TCP, "2001:db8:1::2", 443, "2001:db8::1", 40000, d, sizeof(d));
	put(0, rep, rl);
	run(0);
	assert_int_equal(n_sent, 1);
	check_dgram(&sent[0], "198.18.0.3", "198.18.1.1", 40001, hdr, hl, rep, rl);
	assert_int_equal(all_drops(), 0);
}

/*
 * Fragments: the first carries the ports and finds the flow; a later one
 * has none and goes out with the first one's header.  A later fragment
 * of another datagram (another id) has no first fragment: no flow.
 * IPv4 and IPv6 (fragment header).
 */
static void
test_fragments(void **state)
{
	uint8_t h4[GENEVE_MAX_HDR_LEN], h6[GENEVE_MAX_HDR_LEN], req[256];
	uint8_t f1[256], f2[256], f3[256], t[256];
	uint8_t g1[256], g2[256], g3[256];
	uint8_t data[40];
	size_t hl4, hl6, ql, l1, l2, l3, m1, m2, m3, n;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x30 + i);
	hl4 = gwlb_hdr(h4, fx.e[0]->id, 0x4f4f4f4f, ETHERTYPE_IPV4, false);
	hl6 = gwlb_hdr(h6, fx.e[0]->id, 0x6f6f6f6f, ETHERTYPE_IPV6, false);

	/* IPv4: a 48-byte UDP datagram (8 + 40) cut in 24 + 24. */
	ql = udp4(req, "192.0.2.10", 5000, "198.51.100.20", 5001, data, 4);
	learn(0, h4, hl4, req, ql);
	n = l4(t, IPPROTO_UDP, 5001, 5000, data, 40);
	assert_int_equal(n, 48);
	l1 = ip4(f1, IPPROTO_UDP, "198.51.100.20", "192.0.2.10", 0x4242, 0x2000, t, 24);
	l2 = ip4(f2, IPPROTO_UDP, "198.51.100.20", "192.0.2.10", 0x4242, 24 / 8, t + 24, 24);
	l3 = ip4(f3, IPPROTO_UDP, "198.51.100.20", "192.0.2.10", 0x4343, 24 / 8, t + 24, 24);

	/* IPv6: the same cut behind a fragment header (id 0x01020304). */
	ql = l4_6(req, IPPROTO_UDP, "2001:db8::10", 7000, "2001:db8::20", 7001, data, 4);
	learn(0, h6, hl6, req, ql);
	n = l4(t + 8, IPPROTO_UDP, 7001, 7000, data, 40);
	assert_int_equal(n, 48);
	t[0] = IPPROTO_UDP;
	t[1] = 0;
	wr16(t + 2, 0x0001);			/* offset 0, M */
	memcpy(t + 4, "\x01\x02\x03\x04", 4);
	m1 = ip6(g1, 44, "2001:db8::20", "2001:db8::10", t, 8 + 24);
	memmove(t + 8, t + 8 + 24, 24);
	wr16(t + 2, (uint16_t)(24 / 8) << 3);	/* offset 24, no M */
	m2 = ip6(g2, 44, "2001:db8::20", "2001:db8::10", t, 8 + 24);
	memcpy(t + 4, "\x01\x02\x03\x05", 4);
	m3 = ip6(g3, 44, "2001:db8::20", "2001:db8::10", t, 8 + 24);

	put(0, f1, l1);
	put(0, f2, l2);
	put(0, f3, l3);
	put(0, g1, m1);
	put(0, g2, m2);
	put(0, g3, m3);
	run(0);
	assert_int_equal(n_sent, 4);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h4, hl4, f1, l1);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h4, hl4, f2, l2);
	check_dgram(&sent[2], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h6, hl6, g1, m1);
	check_dgram(&sent[3], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h6, hl6, g2, m2);
	assert_int_equal(drops("no-flow"), 2);
	assert_int_equal(all_drops(), 2);
	assert_int_equal(STAT_GET(ES(0)->drops), 2);
}

/*
 * Fragments forwarded: GWLB delivers the fragments of a datagram the
 * appliance forwards, a later one before the first (and on another
 * receive worker than the reply worker's).  The appliance sends each back
 * as it came: the later fragment, whose first one the return side has not
 * seen, goes back with the header it arrived with (learnt inbound); so
 * does the first.  A later fragment of a datagram that never came in (its
 * id unknown) has no header: no flow.  IPv4 and IPv6.
 */
static void
test_fragments_inbound(void **state)
{
	uint8_t h4[GENEVE_MAX_HDR_LEN], h6[GENEVE_MAX_HDR_LEN], t[256];
	uint8_t f1[256], f2[256], f3[256], g1[256], g2[256];
	uint8_t data[40];
	size_t hl4, hl6, n, l1, l2, l3, m1, m2;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x50 + i);
	hl4 = gwlb_hdr(h4, fx.e[0]->id, 0x1f2f3f4f, ETHERTYPE_IPV4, false);
	hl6 = gwlb_hdr(h6, fx.e[0]->id, 0x6a6b6c6d, ETHERTYPE_IPV6, false);

	n = l4(t, IPPROTO_UDP, 6000, 6001, data, 40);
	assert_int_equal(n, 48);
	l1 = ip4(f1, IPPROTO_UDP, "192.0.2.30", "198.51.100.40", 0x5151, 0x2000, t, 24);
	l2 = ip4(f2, IPPROTO_UDP, "192.0.2.30", "198.51.100.40", 0x5151, 24 / 8, t + 24, 24);
	l3 = ip4(f3, IPPROTO_UDP, "192.0.2.30", "198.51.100.40", 0x5252, 24 / 8, t + 24, 24);

	n = l4(t + 8, IPPROTO_UDP, 6000, 6001, data, 40);
	t[0] = IPPROTO_UDP;
	t[1] = 0;
	memcpy(t + 4, "\x0a\x0b\x0c\x0d", 4);
	memmove(t + 8, t + 8 + 24, 24);
	wr16(t + 2, (uint16_t)(24 / 8) << 3);	/* offset 24, no M */
	m2 = ip6(g2, 44, "2001:db8::30", "2001:db8:1::40", t, 8 + 24);
	n = l4(t + 8, IPPROTO_UDP, 6000, 6001, data, 40);
	wr16(t + 2, 0x0001);			/* offset 0, M */
	m1 = ip6(g1, 44, "2001:db8::30", "2001:db8:1::40", t, 8 + 24);

	/* In: the later fragments first, then the first ones. */
	learn(0, h4, hl4, f2, l2);
	learn(0, h6, hl6, g2, m2);
	learn(0, h4, hl4, f1, l1);
	learn(0, h6, hl6, g1, m1);

	/* Back, in the same order, and one later fragment never seen. */
	put(0, f2, l2);
	put(0, g2, m2);
	put(0, f3, l3);
	put(0, f1, l1);
	put(0, g1, m1);
	run(0);
	assert_int_equal(n_sent, 4);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h4, hl4, f2, l2);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h6, hl6, g2, m2);
	check_dgram(&sent[2], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h4, hl4, f1, l1);
	check_dgram(&sent[3], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h6, hl6, g1, m1);
	assert_int_equal(drops("no-flow"), 1);
	assert_int_equal(all_drops(), 1);
}

/*
 * An ICMP error that comes in through GWLB (a router beyond the appliance
 * answered the flow) and that the appliance forwards (TTL one less) goes
 * back with the header and GWLB port it came with, not the quoted flow's;
 * an error the appliance makes itself about the same flow goes on the
 * flow's.  IPv4 and IPv6.
 */
static void
test_icmp_error_inbound(void **state)
{
	uint8_t hf4[GENEVE_MAX_HDR_LEN], hi4[GENEVE_MAX_HDR_LEN], req4[128], icmp[256];
	uint8_t hf6[GENEVE_MAX_HDR_LEN], hi6[GENEVE_MAX_HDR_LEN], req6[128];
	uint8_t e4[256], e4fwd[256], own4[256], e6[256], e6fwd[256];
	size_t hlf4, hli4, hlf6, hli6, ql4, ql6, l4e, lown, l6e;

	(void)state;
	hlf4 = gwlb_hdr(hf4, fx.e[0]->id, 0x0f0f0004, ETHERTYPE_IPV4, false);
	hli4 = gwlb_hdr(hi4, fx.e[0]->id, 0x1c1c0004, ETHERTYPE_IPV4, false);
	hlf6 = gwlb_hdr(hf6, fx.e[0]->id, 0x0f0f0006, ETHERTYPE_IPV6, false);
	hli6 = gwlb_hdr(hi6, fx.e[0]->id, 0x1c1c0006, ETHERTYPE_IPV6, false);
	ql4 = udp4(req4, "192.0.2.88", 33088, "198.51.100.9", 7000, (const uint8_t *)"flow", 4);
	learn(0, hf4, hlf4, req4, ql4);
	ql6 = l4_6(req6, IPPROTO_UDP, "2001:db8::88", 33088, "2001:db8:2::9", 7000,
	    (const uint8_t *)"flow", 4);
	learn(0, hf6, hlf6, req6, ql6);

	/* In: port unreachable from a router beyond, to the flow's client. */
	memset(icmp, 0, 8);
	icmp[0] = 3;
	icmp[1] = 3;
	memcpy(icmp + 8, req4, 28);
	wr16(icmp + 2, fold(sum16(0, icmp, 36)));
	l4e = ip4(e4, IPPROTO_ICMP, "198.51.100.254", "192.0.2.88", 9, 0, icmp, 36);
	learn_from(0, hi4, hli4, e4, l4e, GWLB_ADDR, 41031, LOCAL_ADDR);
	memcpy(e4fwd, e4, l4e);			/* forwarded: TTL 63 */
	e4fwd[8]--;
	wr16(e4fwd + 10, 0);
	wr16(e4fwd + 10, fold(sum16(0, e4fwd, 20)));
	/* The appliance's own port unreachable about the same packet. */
	lown = ip4(own4, IPPROTO_ICMP, "198.51.100.9", "192.0.2.88", 10, 0, icmp, 36);

	memset(icmp, 0, 8);
	icmp[0] = 1;
	icmp[1] = 4;
	memcpy(icmp + 8, req6, ql6);
	l6e = ip6(e6, IPPROTO_ICMPV6, "2001:db8:2::fe", "2001:db8::88", icmp, 8 + ql6);
	learn_from(0, hi6, hli6, e6, l6e, GWLB_ADDR, 41032, LOCAL_ADDR);
	memcpy(e6fwd, e6, l6e);
	e6fwd[7]--;				/* hop limit */

	put(0, e4fwd, l4e);
	put(0, own4, lown);
	put(0, e6fwd, l6e);
	run(0);
	assert_int_equal(n_sent, 3);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, 41031, hi4, hli4, e4fwd, l4e);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hf4, hlf4, own4, lown);
	check_dgram(&sent[2], LOCAL_ADDR, GWLB_ADDR, 41032, hi6, hli6, e6fwd, l6e);
	assert_int_equal(all_drops(), 0);
}

/*
 * ICMP errors the appliance (or a router behind it) sends about a flow
 * come from an address of their own; they are matched through the packet
 * they quote.  IPv4 port unreachable and ICMPv6 packet too big; an error
 * quoting a packet of no flow is dropped as no-flow.
 */
static void
test_icmp_error(void **state)
{
	uint8_t h4[GENEVE_MAX_HDR_LEN], h6[GENEVE_MAX_HDR_LEN], req4[128], req6[128];
	uint8_t other[128], icmp[256], e4[256], e6[256], e0[256];
	size_t hl4, hl6, ql4, ql6, ol, l4e, l6e, l0e;

	(void)state;
	hl4 = gwlb_hdr(h4, fx.e[0]->id, 0x0badcafe, ETHERTYPE_IPV4, false);
	hl6 = gwlb_hdr(h6, fx.e[0]->id, 0x0badf00d, ETHERTYPE_IPV6, false);
	ql4 = udp4(req4, "192.0.2.1", 33434, "198.51.100.2", 33435, (const uint8_t *)"probe", 5);
	learn(0, h4, hl4, req4, ql4);
	ql6 = l4_6(req6, IPPROTO_TCP, "2001:db8::1", 40000, "2001:db8:1::2", 443,
	    (const uint8_t *)"", 0);
	learn(0, h6, hl6, req6, ql6);

	/* ICMP 3/3 from 203.0.113.1 quoting the request (IP header + 8). */
	memset(icmp, 0, 8);
	icmp[0] = 3;
	icmp[1] = 3;
	memcpy(icmp + 8, req4, 28);
	wr16(icmp + 2, fold(sum16(0, icmp, 36)));
	l4e = ip4(e4, IPPROTO_ICMP, "203.0.113.1", "192.0.2.1", 7, 0, icmp, 36);

	/* ICMPv6 2 (packet too big, MTU 1280) quoting the TCP request. */
	memset(icmp, 0, 8);
	icmp[0] = 2;
	icmp[6] = 0x05;
	memcpy(icmp + 8, req6, ql6);
	l6e = ip6(e6, IPPROTO_ICMPV6, "2001:db8:ffff::1", "2001:db8::1", icmp, 8 + ql6);

	/* The same IPv4 error quoting a request of no flow (other port). */
	ol = udp4(other, "192.0.2.1", 33436, "198.51.100.2", 33435, (const uint8_t *)"probe", 5);
	memset(icmp, 0, 8);
	icmp[0] = 3;
	icmp[1] = 3;
	memcpy(icmp + 8, other, 28);
	assert_true(ol >= 28);
	l0e = ip4(e0, IPPROTO_ICMP, "203.0.113.1", "192.0.2.1", 8, 0, icmp, 36);

	put(0, e4, l4e);
	put(0, e6, l6e);
	put(0, e0, l0e);
	run(0);
	assert_int_equal(n_sent, 2);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h4, hl4, e4, l4e);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, h6, hl6, e6, l6e);
	assert_int_equal(drops("no-flow"), 1);
	assert_int_equal(all_drops(), 1);
}

/*
 * GWLB loses inner packets over 8500 bytes without a word: 8501 is
 * dropped and counted as too-big, 8500 goes out.
 */
static void
test_too_big(void **state)
{
	static uint8_t big[GWLB_MTU + 64], data[GWLB_MTU];
	uint8_t hdr[GENEVE_MAX_HDR_LEN], req[128];
	size_t hl, ql, l8501, l8500;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0x8500, ETHERTYPE_IPV4, false);
	ql = udp4(req, "192.0.2.1", 9000, "198.51.100.2", 9001, data, 1);
	learn(0, hdr, hl, req, ql);

	l8501 = udp4(big, "198.51.100.2", 9001, "192.0.2.1", 9000, data, 8501 - 28);
	assert_int_equal(l8501, 8501);
	put(0, big, l8501);
	run(0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(drops("too-big"), 1);
	assert_int_equal(all_drops(), 1);
	assert_int_equal(STAT_GET(ES(0)->drops), 1);
	assert_int_equal(STAT_GET(ES(0)->pkts_out), 0);

	l8500 = udp4(big, "198.51.100.2", 9001, "192.0.2.1", 9000, data, 8500 - 28);
	put(0, big, l8500);
	run(0);
	assert_int_equal(n_sent, 1);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, big, l8500);
	assert_int_equal(all_drops(), 1);
	assert_int_equal(STAT_GET(ES(0)->pkts_out), 1);
	assert_int_equal(STAT_GET(ES(0)->bytes_out), 8500);
}

/*
 * Replies without a flow: never learnt, learnt on another ENI, IPv6
 * global unicast; and a packet that is no IP packet at all.
 */
static void
test_no_flow(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN], req[128], p1[128], p2[128], p3[128];
	const uint8_t junk[24] = { 0x00, 0x11, 0x22 };
	size_t hl, ql, l1, l2, l3;
	unsigned b;

	(void)state;
	b = add_eni();
	hl = gwlb_hdr(hdr, fx.e[b]->id, 0x12345678, ETHERTYPE_IPV4, false);
	ql = udp4(req, "192.0.2.1", 1000, "198.51.100.2", 2000, (const uint8_t *)"q", 1);
	learn(b, hdr, hl, req, ql);

	l1 = udp4(p1, "198.51.100.2", 2000, "192.0.2.1", 1000, (const uint8_t *)"r", 1);
	l2 = udp4(p2, "198.51.100.3", 2000, "192.0.2.1", 1000, (const uint8_t *)"r", 1);
	l3 = l4_6(p3, IPPROTO_UDP, "2001:db8::2", 53, "2001:db8::1", 5353, (const uint8_t *)"r", 1);
	put(0, p1, l1);		/* the flow is ENI b's, not this one's */
	put(0, p2, l2);
	put(0, p3, l3);
	put(0, junk, sizeof(junk));
	run(0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(drops("no-flow"), 3);
	assert_int_equal(drops("reply-bad-packet"), 1);
	assert_int_equal(all_drops(), 4);
	assert_int_equal(STAT_GET(ES(0)->drops), 4);
	assert_int_equal(STAT_GET(ES(b)->drops), 0);
	assert_int_equal(STAT_GET(W->stats.packets), 4);

	/* On ENI b's own queue the same reply finds its flow. */
	put(b, p1, l1);
	run(b);
	assert_int_equal(n_sent, 1);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, p1, l1);
}

/*
 * What the kernel sends on a new link by itself (MLD reports, router
 * solicitations, DAD, neighbour discovery, IGMP) has no flow and never will: counted as
 * link-local, not as no-flow, and not as a drop of the ENI.
 */
static void
test_link_local(void **state)
{
	uint8_t rs[128], mld[128], dad[128], na[128], igmp[64], t[64];
	size_t lrs, lmld, ldad, lna, ligmp;

	(void)state;
	memset(t, 0, sizeof(t));
	t[0] = 133;				/* router solicitation */
	lrs = ip6(rs, IPPROTO_ICMPV6, "fe80::1", "ff02::2", t, 8);

	/* hop-by-hop: router alert (MLD) + PadN, then an MLDv2 report. */
	memset(t, 0, sizeof(t));
	t[0] = IPPROTO_ICMPV6;
	t[1] = 0;
	memcpy(t + 2, "\x05\x02\x00\x00\x01\x00", 6);
	t[8] = 143;
	wr16(t + 14, 1);
	t[16] = 4;				/* change to exclude */
	addr6("ff02::1:ff00:1", t + 20);
	lmld = ip6(mld, 0, "fe80::1", "ff02::16", t, 8 + 8 + 4 + 16);

	memset(t, 0, sizeof(t));
	t[0] = 135;				/* neighbour solicitation */
	addr6("2001:db8::1", t + 8);
	ldad = ip6(dad, IPPROTO_ICMPV6, "::", "ff02::1:ff00:1", t, 24);

	memset(t, 0, sizeof(t));
	t[0] = 136;				/* neighbour advertisement, unicast */
	t[4] = 0x40;
	addr6("fe80::1", t + 8);
	lna = ip6(na, IPPROTO_ICMPV6, "fe80::1", "fe80::2", t, 24);

	memset(t, 0, sizeof(t));
	t[0] = 0x22;				/* IGMPv3 report */
	ligmp = ip4(igmp, IPPROTO_IGMP, "192.0.2.1", "224.0.0.22", 1, 0x4000, t, 8);

	put(0, rs, lrs);
	put(0, mld, lmld);
	put(0, dad, ldad);
	put(0, na, lna);
	put(0, igmp, ligmp);
	run(0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(drops("link-local"), 5);
	assert_int_equal(drops("no-flow"), 0);
	assert_int_equal(all_drops(), 5);
	assert_int_equal(STAT_GET(ES(0)->drops), 0);
}

/*
 * sendmmsg refuses a message: it is counted as send-failed (for the worker
 * and the ENI) and the rest of the batch still goes out, whether the
 * failure is the first message of a call or one after others.
 */
static void
test_send_failed(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN], req[128], rep[5][128];
	size_t hl, ql, rl[5];
	uint8_t d[2];

	(void)state;
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0x5e4d0000, ETHERTYPE_IPV4, false);
	ql = udp4(req, "192.0.2.1", 3000, "198.51.100.2", 3001, (const uint8_t *)"q", 1);
	learn(0, hdr, hl, req, ql);
	for (unsigned i = 0; i < 5; i++) {
		d[0] = 'a';
		d[1] = (uint8_t)('0' + i);
		rl[i] = udp4(rep[i], "198.51.100.2", 3001, "192.0.2.1", 3000, d, 1 + i % 2);
		put(0, rep[i], rl[i]);
	}
	fail_attempt[0] = true;		/* first message of the first call */
	fail_attempt[2] = true;		/* third: after one went out */
	run(0);
	assert_int_equal(n_sent, 3);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, rep[1], rl[1]);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, rep[3], rl[3]);
	check_dgram(&sent[2], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, rep[4], rl[4]);
	assert_int_equal(drops("send-failed"), 2);
	assert_int_equal(all_drops(), 2);
	assert_int_equal(STAT_GET(ES(0)->drops), 2);
	assert_int_equal(STAT_GET(ES(0)->pkts_out), 3);
	assert_int_equal(STAT_GET(ES(0)->bytes_out), rl[1] + rl[3] + rl[4]);
	assert_int_equal(STAT_GET(W->stats.delivered), 3);
	assert_int_equal(STAT_GET(W->stats.delivered_bytes), rl[1] + rl[3] + rl[4]);
	assert_int_equal(STAT_GET(W->stats.packets), 5);
}

/*
 * Counters across batches and ENIs: 70 replies on ENI a (more than one
 * read round of 64: a full batch is sent before the round ends) and 3 on
 * ENI b, sent in one flush with a's last 6.  Per ENI: pkts_out and
 * bytes_out (inner bytes); per worker: packets, bytes, batches,
 * delivered, delivered_bytes.
 */
static void
test_counters(void **state)
{
	static uint8_t ra[70][128], rb[3][128];
	uint8_t ha[GENEVE_MAX_HDR_LEN], hb[GENEVE_MAX_HDR_LEN], req[128];
	size_t hla, hlb, ql, la[70], lb[3];
	uint64_t bytes_a = 0, bytes_b = 0, before;
	unsigned b;
	uint8_t d[64];

	(void)state;
	memset(d, 0x5a, sizeof(d));
	b = add_eni();
	hla = gwlb_hdr(ha, fx.e[0]->id, 0xaaaa0001, ETHERTYPE_IPV4, false);
	hlb = gwlb_hdr(hb, fx.e[b]->id, 0xbbbb0001, ETHERTYPE_IPV4, false);
	ql = udp4(req, "192.0.2.1", 4000, "198.51.100.2", 4001, (const uint8_t *)"q", 1);
	learn(0, ha, hla, req, ql);
	learn_from(b, hb, hlb, req, ql, "198.18.2.1", 50000, "198.18.0.4");

	for (unsigned i = 0; i < 70; i++) {
		d[0] = (uint8_t)i;
		la[i] = udp4(ra[i], "198.51.100.2", 4001, "192.0.2.1", 4000, d, 1 + i % 60);
		put(0, ra[i], la[i]);
		bytes_a += la[i];
	}
	before = coarse_ns();
	reply_queue_ready(W, &fx.q[0]);
	assert_int_equal(n_sent, 64);		/* the full batch went out */
	assert_int_equal(STAT_GET(ES(0)->pkts_out), 64);
	reply_queue_ready(W, &fx.q[0]);
	assert_int_equal(n_sent, 64);		/* 6 prepared, not yet sent */
	for (unsigned i = 0; i < 3; i++) {
		d[0] = (uint8_t)(0xb0 + i);
		lb[i] = udp4(rb[i], "198.51.100.2", 4001, "192.0.2.1", 4000, d, 10 + i);
		put(b, rb[i], lb[i]);
		bytes_b += lb[i];
	}
	reply_queue_ready(W, &fx.q[b]);
	reply_flush(W);
	assert_int_equal(n_sent, 73);
	for (unsigned i = 0; i < 70; i++)
		check_dgram(&sent[i], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, ha, hla, ra[i], la[i]);
	for (unsigned i = 0; i < 3; i++)
		check_dgram(&sent[70 + i], "198.18.0.4", "198.18.2.1", 50000, hb, hlb,
		    rb[i], lb[i]);

	assert_int_equal(STAT_GET(ES(0)->pkts_out), 70);
	assert_int_equal(STAT_GET(ES(0)->bytes_out), bytes_a);
	assert_int_equal(STAT_GET(ES(b)->pkts_out), 3);
	assert_int_equal(STAT_GET(ES(b)->bytes_out), bytes_b);
	assert_int_equal(STAT_GET(ES(0)->drops) + STAT_GET(ES(b)->drops), 0);
	assert_true(STAT_GET(ES(0)->last_ns) >= before);
	assert_true(STAT_GET(ES(b)->last_ns) >= before);
	assert_int_equal(STAT_GET(W->stats.packets), 73);
	assert_int_equal(STAT_GET(W->stats.bytes), bytes_a + bytes_b);
	assert_int_equal(STAT_GET(W->stats.batches), 3);
	assert_int_equal(STAT_GET(W->stats.delivered), 73);
	assert_int_equal(STAT_GET(W->stats.delivered_bytes), bytes_a + bytes_b);
	assert_int_equal(all_drops(), 0);
	/* The receive side's slot is not the reply worker's. */
	assert_int_equal(STAT_GET(fx.e[0]->stats[RX->idx].pkts_out), 0);
}

/* --- vnet queues (--offload): super-packets and checksums to finish ---------- */

#define SEG_MAX	45
#define SUPER_MAX	(20 + 20 + SEG_MAX * 1448)

/* The appliance (the kernel) writes a virtio_net_hdr and a packet. */
static void
put_vnet(unsigned i, uint8_t flags, uint8_t type, uint16_t gso_size, uint16_t csum_start,
    uint16_t csum_offset, const uint8_t *p, size_t len)
{
	struct virtio_net_hdr h = {
		.flags = flags, .gso_type = type, .hdr_len = (uint16_t)(len < 128 ? len : 128),
		.gso_size = gso_size, .csum_start = csum_start, .csum_offset = csum_offset,
	};
	static uint8_t b[sizeof(h) + 65536];

	assert_true(len <= 65536);
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), p, len);
	assert_int_equal(write(fx.sv[i][1], b, sizeof(h) + len), (ssize_t)(sizeof(h) + len));
}

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* TCP (20-byte header) from 198.51.100.2:5201 to 192.0.2.1:40000 with
 * payload data[0, len), seq, flags, IPv4 id; checksum = the pseudo header's
 * sum (as the kernel leaves it) or, with full, the real one. */
static size_t
tcp4_pkt(uint8_t *b, const uint8_t *data, size_t len, uint32_t seq, uint8_t flags,
    uint16_t id, bool full)
{
	static uint8_t t[SUPER_MAX];
	uint8_t pseudo[12];
	size_t n;
	uint32_t sum;

	l4(t, IPPROTO_TCP, 5201, 40000, data, len);
	wr32(t + 4, seq);
	wr32(t + 8, 77);
	t[13] = flags;
	n = ip4(b, IPPROTO_TCP, "198.51.100.2", "192.0.2.1", id, 0x4000, t, 20 + len);
	memcpy(pseudo, b + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	wr16(pseudo + 10, (uint16_t)(20 + len));
	sum = sum16(0, pseudo, 12);
	if (full)
		sum = sum16(sum, b + 20, 20 + len);
	wr16(b + 36, full ? fold(sum) : (uint16_t)~fold(sum));
	return n;
}

/*
 * The flow of these tests learnt with GENEVE header hdr: GWLB's packet
 * (192.0.2.1:40000 -> 198.51.100.2:5201, payload p) is the other way from
 * the replies, addresses and ports swapped (the checksum stays right).
 */
static void
learn_tcp4(const uint8_t *hdr, size_t hl, const char *p)
{
	uint8_t req[128], a[4];
	size_t ql = tcp4_pkt(req, (const uint8_t *)p, strlen(p), 1, 0x18, 1, true);

	memcpy(a, req + 12, 4);
	memcpy(req + 12, req + 16, 4);
	memcpy(req + 16, a, 4);
	wr16(req + 20, 40000);
	wr16(req + 22, 5201);
	learn(0, hdr, hl, req, ql);
}

/*
 * A TSO super-packet of k segments of 1448 bytes (the last one short) read
 * from a vnet queue: k datagrams, each one segment (its own IPv4 id, length
 * and checksum, seq advanced, FIN|PSH on the last only), each with the
 * flow's GENEVE header; counted as one super-packet and k segments.
 */
static void
test_vnet_tso(void **state)
{
	static uint8_t data[SEG_MAX * 1448], super[SUPER_MAX], seg[1500], plain[128];
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl, sl, pay, pl;
	const unsigned k = 5;
	uint64_t bytes = 0;

	(void)state;
	fx.e[0]->vnet = true;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + (i >> 9));
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee01, ETHERTYPE_IPV4, true);
	learn_tcp4(hdr, hl, "GET");

	pay = (k - 1) * 1448 + 700;
	sl = tcp4_pkt(super, data, pay, 0xfffff000u, 0x19 /* FIN PSH ACK */, 0x7000, false);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 16,
	    super, sl);
	/* And a plain packet after it, from the same read loop. */
	pl = tcp4_pkt(plain, data, 10, 5, 0x10, 0x7100, true);
	put_vnet(0, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, plain, pl);
	run(0);
	assert_int_equal(n_sent, k + 1);
	assert_int_equal(n_calls, 1);
	for (unsigned i = 0; i < k; i++) {
		size_t sp = i + 1 < k ? 1448 : 700;
		size_t n = tcp4_pkt(seg, data + i * 1448, sp, 0xfffff000u + i * 1448,
		    i + 1 < k ? 0x10 : 0x19, (uint16_t)(0x7000 + i), true);

		check_dgram(&sent[i], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, seg, n);
		bytes += n;
	}
	check_dgram(&sent[k], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, plain, pl);
	assert_int_equal(STAT_GET(W->stats.packets), 2);		/* TUN reads */
	assert_int_equal(STAT_GET(W->stats.bytes), sl + pl);
	assert_int_equal(STAT_GET(W->stats.gso_super), 1);
	assert_int_equal(STAT_GET(W->stats.gso_segments), k);
	assert_int_equal(STAT_GET(W->stats.delivered), k + 1);
	assert_int_equal(STAT_GET(ES(0)->pkts_out), k + 1);
	assert_int_equal(STAT_GET(ES(0)->bytes_out), bytes + pl);
	assert_int_equal(all_drops(), 0);
}

/*
 * 30 plain replies then a super-packet of 45 segments: the batch fills in
 * the middle of the super-packet, goes out, and the rest follows, in order.
 * Then a packet with its checksum left to finish (NEEDS_CSUM).
 */
static void
test_vnet_batches(void **state)
{
	static uint8_t data[SEG_MAX * 1448], super[SUPER_MAX], seg[1500], p[30][128];
	uint8_t hdr[GENEVE_MAX_HDR_LEN], part[128], fin[128];
	size_t hl, sl, pl[30], n;

	(void)state;
	fx.e[0]->vnet = true;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 5 + 1);
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee02, ETHERTYPE_IPV4, false);
	learn_tcp4(hdr, hl, "x");
	for (unsigned i = 0; i < 30; i++) {
		pl[i] = tcp4_pkt(p[i], data + i, 1 + i, 100 + i, 0x10, (uint16_t)i, true);
		put_vnet(0, 0, 0, 0, 0, 0, p[i], pl[i]);
	}
	sl = tcp4_pkt(super, data, 44 * 1448 + 1, 1000, 0x18, 0x100, false);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 16,
	    super, sl);
	n = tcp4_pkt(part, data, 33, 9, 0x18, 0x200, false);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 20, 16, part, n);
	reply_queue_ready(W, &fx.q[0]);
	assert_int_equal(n_sent, 64);			/* a full batch went out */
	reply_flush(W);
	assert_int_equal(n_sent, 30 + 45 + 1);
	assert_int_equal(n_calls, 2);
	for (unsigned i = 0; i < 30; i++)
		check_dgram(&sent[i], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, p[i], pl[i]);
	for (unsigned i = 0; i < 45; i++) {
		size_t sp = i < 44 ? 1448 : 1;
		size_t m = tcp4_pkt(seg, data + i * 1448, sp, 1000 + i * 1448,
		    i < 44 ? 0x10 : 0x18, (uint16_t)(0x100 + i), true);

		check_dgram(&sent[30 + i], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, seg, m);
	}
	tcp4_pkt(fin, data, 33, 9, 0x18, 0x200, true);
	check_dgram(&sent[75], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, fin, n);
	assert_int_equal(STAT_GET(W->stats.gso_super), 1);
	assert_int_equal(STAT_GET(W->stats.gso_segments), 45);
	assert_int_equal(all_drops(), 0);
}

/*
 * What a vnet queue must not get through: a header that does not describe
 * its packet is reply-bad-packet (once per read, nothing sent), segments
 * of a flow nobody sent are no-flow each, segments larger than GWLB takes
 * are too-big each.
 */
static void
test_vnet_refused(void **state)
{
	static uint8_t data[2 * 8470], super[SUPER_MAX];
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl, sl;

	(void)state;
	fx.e[0]->vnet = true;
	memset(data, 0x33, sizeof(data));
	sl = tcp4_pkt(super, data, 3 * 1448, 1, 0x10, 1, false);
	/* No flow yet: three segments, three no-flow drops. */
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 16,
	    super, sl);
	run(0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(drops("no-flow"), 3);
	assert_int_equal(STAT_GET(ES(0)->drops), 3);

	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee03, ETHERTYPE_IPV4, false);
	learn_tcp4(hdr, hl, "x");
	/* Malformed headers: gso_size 0, csum_offset past the packet or not
	 * TCP's, csum_start not the TCP header, an unknown gso_type, TCPV6 on
	 * IPv4, GSO without NEEDS_CSUM. */
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 0, 20, 16, super, sl);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 0xfff0,
	    super, sl);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 6, super, sl);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 14, 16, super, sl);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, 2, 1448, 20, 16, super, sl);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 20, 16, super, sl);
	put_vnet(0, 0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 16, super, sl);
	run(0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(drops("reply-bad-packet"), 7);
	/* Segments of 8501 bytes and more: GWLB would drop them, we count them. */
	sl = tcp4_pkt(super, data, 2 * 8470, 1, 0x10, 1, false);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 8470, 20, 16,
	    super, sl);
	/* 8460 + 40 = 8500: fits. */
	sl = tcp4_pkt(super, data, 2 * 8460, 1, 0x10, 1, false);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 8460, 20, 16,
	    super, sl);
	run(0);
	assert_int_equal(drops("too-big"), 2);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[0].len, 20 + 8 + hl + 8500);
	assert_int_equal(STAT_GET(W->stats.gso_super), 3);
	assert_int_equal(STAT_GET(W->stats.gso_segments), 2);
}

/* --- the packet socket (--offload): UDP GSO writes ------------------------------ */

static int
setup_uso(void **state)
{
	conf.offload = true;
	pkt_fd = -1;
	pkt_vnet = false;
	nh_err = 0;
	nh_asked = n_writes = pkt_tries = 0;
	pkt_fail_at = ~0u;
	pkt_fail_errno = ENOBUFS;
	pkt_closed = false;
	nh_gso_size = 65536;	/* the kernel's defaults */
	nh_gso_segs = 65535;
	nh_table_fini();	/* the manager's table, empty */
	return setup(state);
}

static int
teardown_uso(void **state)
{
	conf.offload = false;
	nh_table_fini();
	return teardown(state);
}

/*
 * What the manager has done by the time the replies come: the pair
 * (GWLB, us) asked for (as a reply worker's miss does) and resolved by
 * its tick, the kernel (the fake above) asked once.
 */
static void
nh_ready(void)
{
	struct nl_nexthop nh;
	uint8_t d[4], s[4];
	uint32_t da, sa;
	unsigned before = nh_asked;

	addr4(GWLB_ADDR, d);
	addr4(LOCAL_ADDR, s);
	memcpy(&da, d, 4);
	memcpy(&sa, s, 4);
	(void)nh_table_get(da, sa, coarse_ns(), &nh);
	nh_table_tick(coarse_ns());
	assert_int_equal(nh_asked, before + 1);
	(void)fixture_wakes();
}

/*
 * The flow of the TSO tests (198.51.100.2:5201 -> 192.0.2.1:40000) learnt
 * with header hdr; then a super-packet of k segments of 1448 bytes but a
 * 700-byte last one written to the vnet queue.  Its segments in seg[i].
 */
static uint8_t uso_data[SEG_MAX * 1448], uso_seg[SEG_MAX][1500];
static size_t uso_seglen[SEG_MAX];

static void
uso_super(const uint8_t *hdr, size_t hl, unsigned k, bool learn_it)
{
	static uint8_t super[SUPER_MAX];
	size_t sl, pay = (k - 1) * 1448 + 700;

	fx.e[0]->vnet = true;
	fx.e[0]->offloads = TUN_OFFLOADS_WANTED;	/* a kernel of 6.2 or later */
	for (size_t i = 0; i < sizeof(uso_data); i++)
		uso_data[i] = (uint8_t)(i * 11 + (i >> 10));
	if (learn_it)
		learn_tcp4(hdr, hl, "GET");
	sl = tcp4_pkt(super, uso_data, pay, 1000, 0x18, 0x2000, false);
	put_vnet(0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 16,
	    super, sl);
	for (unsigned i = 0; i < k; i++)
		uso_seglen[i] = tcp4_pkt(uso_seg[i], uso_data + i * 1448, i + 1 < k ? 1448 : 700,
		    1000 + i * 1448, i + 1 < k ? 0x10 : 0x18, (uint16_t)(0x2000 + i), true);
}

/*
 * Packet socket write w, cut as the kernel cuts a UDP GSO super-packet
 * (inet_gso_segment: IP length, id advanced, header checksum; and
 * __udp_gso_segment: the length in the partial checksum swapped for the
 * datagram's, then the checksum finished from csum_start) into out[];
 * returns how many datagrams, and the first one's IP id in *id.
 */
static unsigned
uso_cut(unsigned w, struct sent *out, unsigned max, uint16_t *id)
{
	const uint8_t *b = writes[w].data, *eth = b + GSO_VNET_LEN, *ip = eth + 14;
	size_t pay = writes[w].len - GSO_USO_HDR;
	struct gso_vnet v;
	unsigned n = 0;

	gso_vnet_read(b, &v);
	assert_int_equal(v.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(v.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(v.hdr_len, 14 + 20 + 8);
	assert_int_equal(v.csum_start, 14 + 20);
	assert_int_equal(v.csum_offset, 6);
	assert_true(pay > v.gso_size);		/* two datagrams at least */
	/* The frame within the link's GSO limits, and UDP_MAX_SEGMENTS (64). */
	assert_true(writes[w].len - GSO_VNET_LEN <= nh_gso_size);
	assert_true((pay + v.gso_size - 1) / v.gso_size <= nh_gso_segs);
	assert_true((pay + v.gso_size - 1) / v.gso_size <= 64);
	assert_int_equal(writes[w].to.sll_family, AF_PACKET);
	assert_int_equal(writes[w].to.sll_ifindex, PKT_IFINDEX);
	assert_int_equal(writes[w].to.sll_protocol, htons(ETH_P_IP));
	assert_memory_equal(eth, MAC_GWLB, 6);
	assert_memory_equal(eth + 6, MAC_US, 6);
	assert_int_equal(rd16(eth + 12), 0x0800);
	assert_int_equal(rd16(ip + 2), 28 + pay);
	assert_int_equal(fold(sum16(0, ip, 20)), 0);
	*id = rd16(ip + 4);
	for (size_t off = 0; off < pay; off += v.gso_size, n++) {
		struct sent *s = &out[n];
		size_t k;

		assert_true(n < max);
		k = ref_udp_gso_cut(ip, pay, v.gso_size, off, (uint16_t)(*id + n), s->data);
		s->len = 28 + k;
		s->to.sin_family = AF_INET;
		addr4(GWLB_ADDR, (uint8_t *)&s->to.sin_addr);
		s->tolen = sizeof(s->to);
	}
	return n;
}

/*
 * --offload: the first super-packet of a pair finds no next hop: its
 * segments go by the raw socket, counted "unresolved", the kernel not
 * asked by the reply worker but the manager woken; the manager's tick
 * asks the kernel.  Then a TSO super-packet of 45 segments leaves by the
 * packet socket, in two writes (42 segments of 1488 bytes behind a 48-byte
 * GENEVE header fill 64 KB; 3 more), none by the raw socket; cut as the
 * kernel does, every datagram is what the raw socket would have sent (one
 * segment, the flow's GENEVE header, both checksums right), the IP ids
 * running on from one write to the next.
 */
static void
test_uso_writes(void **state)
{
	static struct sent cut[SEG_MAX];
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl;
	unsigned got = 0;
	uint16_t id0 = 0;
	uint64_t bytes = 0;

	(void)state;
	assert_true(pkt_fd >= 0);
	assert_true(pkt_vnet);
	(void)fixture_wakes();
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee02, ETHERTYPE_IPV4, true);
	uso_super(hdr, hl, 3, true);
	run(0);
	assert_int_equal(n_writes, 0);
	assert_int_equal(n_sent, 3);
	for (unsigned i = 0; i < 3; i++) {
		check_dgram(&sent[i], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, uso_seg[i],
		    uso_seglen[i]);
		bytes += uso_seglen[i];
	}
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_UNRESOLVED]), 1);
	assert_int_equal(nh_asked, 0);
	assert_int_equal(fixture_wakes(), 1);
	nh_table_tick(coarse_ns());	/* the manager */
	assert_int_equal(nh_asked, 1);

	uso_super(hdr, hl, SEG_MAX, false);
	run(0);
	assert_int_equal(n_sent, 3);
	assert_int_equal(n_writes, 2);
	assert_int_equal(nh_asked, 1);
	assert_int_equal(fixture_wakes(), 0);
	for (unsigned w = 0; w < n_writes; w++) {
		uint16_t id;
		unsigned n = uso_cut(w, cut, SEG_MAX, &id);

		assert_int_equal(n, w == 0 ? 42 : 3);
		if (w == 0)
			id0 = id;
		assert_int_equal(id, (uint16_t)(id0 + got));
		for (unsigned j = 0; j < n; j++, got++) {
			check_dgram(&cut[j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl,
			    uso_seg[got], uso_seglen[got]);
			bytes += uso_seglen[got];
		}
	}
	assert_int_equal(got, SEG_MAX);
	assert_int_equal(STAT_GET(W->stats.uso_super), 2);
	assert_int_equal(STAT_GET(W->stats.uso_segments), SEG_MAX);
	assert_int_equal(STAT_GET(W->stats.gso_segments), 3 + SEG_MAX);
	assert_int_equal(STAT_GET(W->stats.delivered), 3 + SEG_MAX);
	assert_int_equal(STAT_GET(ES(0)->pkts_out), 3 + SEG_MAX);
	assert_int_equal(STAT_GET(ES(0)->bytes_out), bytes);
	for (int r = 0; r < USO_FB__MAX; r++)
		assert_int_equal(STAT_GET(W->stats.uso_fallback[r]), r == USO_FB_UNRESOLVED);
	assert_int_equal(all_drops(), 0);
}

/*
 * No next hop (the manager's answer an error): the segments go by the raw
 * socket, counted "unresolved"; a second super-packet right after does
 * not ask the kernel again, nor does the manager within the second.  A
 * super-packet of one segment goes raw as "one-segment".
 */
static void
test_uso_unresolved(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl;

	(void)state;
	nh_err = -EHOSTUNREACH;
	nh_ready();
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee03, ETHERTYPE_IPV4, false);
	uso_super(hdr, hl, 5, true);
	run(0);
	assert_int_equal(n_writes, 0);
	assert_int_equal(n_sent, 5);
	for (unsigned i = 0; i < 5; i++)
		check_dgram(&sent[i], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, uso_seg[i],
		    uso_seglen[i]);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_UNRESOLVED]), 1);
	uso_super(hdr, hl, 3, false);
	run(0);
	nh_table_tick(coarse_ns());
	assert_int_equal(n_sent, 8);
	assert_int_equal(nh_asked, 1);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_UNRESOLVED]), 2);
	uso_super(hdr, hl, 1, false);
	run(0);
	assert_int_equal(n_sent, 9);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_ONE_SEGMENT]), 1);
	assert_int_equal(STAT_GET(W->stats.uso_super), 0);
	assert_int_equal(STAT_GET(W->stats.delivered), 9);
	assert_int_equal(all_drops(), 0);
}

/*
 * The packet socket refuses the second write: the first write's 42
 * segments went, the last 3 go by the raw socket right after, in order,
 * counted "send-error"; nothing is lost or sent twice.  The entry is
 * stale: the manager asks the kernel again 100 ms later, not sooner.
 */
static void
test_uso_send_error(void **state)
{
	static struct sent cut[SEG_MAX];
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl;
	uint16_t id;
	uint64_t now;

	(void)state;
	pkt_fail_at = 1;
	nh_ready();
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee04, ETHERTYPE_IPV4, true);
	uso_super(hdr, hl, SEG_MAX, true);
	run(0);
	assert_int_equal(n_writes, 1);
	assert_int_equal(uso_cut(0, cut, SEG_MAX, &id), 42);
	for (unsigned j = 0; j < 42; j++)
		check_dgram(&cut[j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, uso_seg[j],
		    uso_seglen[j]);
	assert_int_equal(n_sent, 3);
	for (unsigned j = 0; j < 3; j++)
		check_dgram(&sent[j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl,
		    uso_seg[42 + j], uso_seglen[42 + j]);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_SEND]), 1);
	assert_int_equal(STAT_GET(W->stats.uso_super), 1);
	assert_int_equal(STAT_GET(W->stats.uso_segments), 42);
	assert_int_equal(STAT_GET(W->stats.delivered), SEG_MAX);
	assert_int_equal(STAT_GET(ES(0)->pkts_out), SEG_MAX);
	assert_int_equal(all_drops(), 0);
	now = coarse_ns();
	nh_table_tick(now + NH_STALE_GAP_NS / 2);
	assert_int_equal(nh_asked, 1);
	nh_table_tick(now + NH_STALE_GAP_NS);
	assert_int_equal(nh_asked, 2);
}

/*
 * The wire order is the TUN read order: a plain reply queued for the raw
 * socket, then a super-packet of the same flow on the packet socket; then
 * a super-packet that fell back (one segment) and one the packet socket
 * takes; then a super-packet whose first write fails (its segments go raw)
 * and one that is sent.  Nothing queued raw before a packet socket write
 * may leave after it.
 */
static void
test_uso_order(void **state)
{
	static struct sent cut[SEG_MAX];
	static uint8_t seg[3][1500];
	uint8_t hdr[GENEVE_MAX_HDR_LEN], plain[128];
	size_t hl, pl, sl[3];
	uint16_t id;

	(void)state;
	nh_ready();
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee05, ETHERTYPE_IPV4, false);
	fx.e[0]->vnet = true;
	learn_tcp4(hdr, hl, "GET");
	pl = tcp4_pkt(plain, (const uint8_t *)"early", 5, 1, 0x18, 0x1000, true);
	put_vnet(0, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, plain, pl);
	uso_super(hdr, hl, 4, false);
	run(0);
	assert_int_equal(n_sent, 1);
	assert_int_equal(n_writes, 1);
	check_dgram(&sent[0], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, plain, pl);
	assert_int_equal(uso_cut(0, cut, SEG_MAX, &id), 4);
	assert_true(sent[0].order < writes[0].order);

	/* One segment: raw, queued; the next super-packet must not overtake it. */
	uso_super(hdr, hl, 1, false);
	memcpy(seg[0], uso_seg[0], uso_seglen[0]);
	sl[0] = uso_seglen[0];
	uso_super(hdr, hl, 3, false);
	run(0);
	assert_int_equal(n_sent, 2);
	assert_int_equal(n_writes, 2);
	check_dgram(&sent[1], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, seg[0], sl[0]);
	assert_true(sent[1].order < writes[1].order);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_ONE_SEGMENT]), 1);

	/* The packet socket refuses a write: its 3 segments go raw, before the
	 * 5 of the next super-packet go on the packet socket. */
	pkt_fail_at = pkt_tries;
	uso_super(hdr, hl, 3, false);
	for (unsigned j = 0; j < 3; j++) {
		memcpy(seg[j], uso_seg[j], uso_seglen[j]);
		sl[j] = uso_seglen[j];
	}
	uso_super(hdr, hl, 5, false);
	run(0);
	assert_int_equal(n_sent, 5);
	assert_int_equal(n_writes, 3);
	for (unsigned j = 0; j < 3; j++) {
		check_dgram(&sent[2 + j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl,
		    seg[j], sl[j]);
		assert_true(sent[2 + j].order < writes[2].order);
	}
	assert_int_equal(uso_cut(2, cut, SEG_MAX, &id), 5);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_SEND]), 1);
	assert_int_equal(STAT_GET(W->stats.delivered), 1 + 4 + 1 + 3 + 3 + 5);
	assert_int_equal(all_drops(), 0);
}

/*
 * A kernel before 6.2 has no VIRTIO_NET_HDR_GSO_UDP_L4 for packet sockets:
 * the first write fails with EINVAL.  Its segments go raw, the packet
 * socket is closed and never written to again (every later super-packet
 * goes raw at once, counted "no-kernel-uso"), the next hop is not asked
 * again; nothing is lost.
 */
static void
test_uso_no_kernel(void **state)
{
	static uint8_t seg[5][1500];
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl, sl[5];

	(void)state;
	pkt_fail_at = 0;
	pkt_fail_errno = EINVAL;
	nh_ready();
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee06, ETHERTYPE_IPV4, false);
	uso_super(hdr, hl, 5, true);
	for (unsigned j = 0; j < 5; j++) {
		memcpy(seg[j], uso_seg[j], uso_seglen[j]);
		sl[j] = uso_seglen[j];
	}
	run(0);
	assert_int_equal(pkt_tries, 1);
	assert_int_equal(n_writes, 0);
	assert_int_equal(n_sent, 5);
	for (unsigned j = 0; j < 5; j++)
		check_dgram(&sent[j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, seg[j], sl[j]);
	assert_true(pkt_closed);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_NO_KERNEL]), 1);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_SEND]), 0);
	/* Two more: raw at once, the packet socket and the kernel not asked. */
	uso_super(hdr, hl, 4, false);
	uso_super(hdr, hl, 3, false);
	run(0);
	assert_int_equal(pkt_tries, 1);
	assert_int_equal(nh_asked, 1);
	assert_int_equal(n_sent, 5 + 4 + 3);
	for (unsigned j = 0; j < 3; j++)
		check_dgram(&sent[9 + j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, uso_seg[j],
		    uso_seglen[j]);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_NO_KERNEL]), 3);
	assert_int_equal(STAT_GET(W->stats.uso_super), 0);
	assert_int_equal(STAT_GET(W->stats.gso_segments), 12);
	assert_int_equal(STAT_GET(W->stats.delivered), 12);
	assert_int_equal(all_drops(), 0);
}

/*
 * The same kernel told beforehand: its TUN links refused USO (TUN_F_USO4
 * came in 6.2 with UDP GSO in vnet headers), so the packet socket is
 * closed at the first super-packet without a write; all goes raw.
 */
static void
test_uso_no_kernel_tun(void **state)
{
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl;

	(void)state;
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee07, ETHERTYPE_IPV4, false);
	uso_super(hdr, hl, 4, true);
	fx.e[0]->offloads = TUN_OFFLOADS_WANTED & ~(unsigned)(TUN_F_USO4 | TUN_F_USO6);
	run(0);
	assert_int_equal(pkt_tries, 0);
	assert_true(pkt_closed);
	assert_int_equal(n_sent, 4);
	for (unsigned j = 0; j < 4; j++)
		check_dgram(&sent[j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl, uso_seg[j],
		    uso_seglen[j]);
	assert_int_equal(STAT_GET(W->stats.uso_fallback[USO_FB_NO_KERNEL]), 1);
	assert_int_equal(STAT_GET(W->stats.delivered), 4);
	assert_int_equal(all_drops(), 0);
}

/*
 * The link's GSO limits bound each write: at most gso_max_segs segments,
 * a frame (Ethernet header on) of at most gso_max_size bytes; the 45
 * segments all arrive, in order, in more writes of nw[] segments each.
 */
static void
uso_limits(unsigned segs, unsigned size, const unsigned *nw, unsigned n_nw)
{
	static struct sent cut[SEG_MAX];
	uint8_t hdr[GENEVE_MAX_HDR_LEN];
	size_t hl;
	unsigned got = 0;
	uint16_t id;

	nh_gso_segs = segs;
	nh_gso_size = size;
	nh_ready();
	hl = gwlb_hdr(hdr, fx.e[0]->id, 0xc0ffee08, ETHERTYPE_IPV4, true);
	uso_super(hdr, hl, SEG_MAX, true);
	run(0);
	assert_int_equal(n_writes, n_nw);
	for (unsigned w = 0; w < n_writes; w++) {
		unsigned n = uso_cut(w, cut, SEG_MAX, &id);

		assert_int_equal(n, nw[w]);
		for (unsigned j = 0; j < n; j++, got++)
			check_dgram(&cut[j], LOCAL_ADDR, GWLB_ADDR, GWLB_SPORT, hdr, hl,
			    uso_seg[got], uso_seglen[got]);
	}
	assert_int_equal(got, SEG_MAX);
	assert_int_equal(n_sent, 0);
	assert_int_equal(STAT_GET(W->stats.delivered), SEG_MAX);
	assert_int_equal(all_drops(), 0);
}

static void
test_uso_gso_max_segs(void **state)
{
	static const unsigned nw[] = { 10, 10, 10, 10, 5 };

	(void)state;
	uso_limits(10, 65536, nw, 5);
}

static void
test_uso_gso_max_size(void **state)
{
	static const unsigned nw[] = { 19, 19, 7 };	/* (30000 - 42) / 1536 */

	(void)state;
	uso_limits(65535, 30000, nw, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_raw_socket),
		T(test_v4_udp),
		T(test_udp_csum_zero),
		T(test_cookie_change),
		T(test_v6),
		T(test_fragments),
		T(test_fragments_inbound),
		T(test_icmp_error_inbound),
		T(test_icmp_error),
		T(test_too_big),
		T(test_no_flow),
		T(test_link_local),
		T(test_send_failed),
		T(test_counters),
		T(test_vnet_tso),
		T(test_vnet_batches),
		T(test_vnet_refused),
#undef T
		cmocka_unit_test_setup_teardown(test_uso_writes, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_unresolved, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_send_error, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_order, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_no_kernel, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_no_kernel_tun, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_gso_max_segs, setup_uso, teardown_uso),
		cmocka_unit_test_setup_teardown(test_uso_gso_max_size, setup_uso, teardown_uso),
	};

	/* The daemon as main() leaves it for one receive and one reply worker. */
	D.workers = workers;
	D.n_rx = 1;
	D.n_tun = 1;
	D.nthreads = 3;
	D.mgr_slot = 2;
	D.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	workers[0].idx = 0;
	workers[0].kind = WORKER_RX;
	log_level_set(LOG_TUNNEL, LOG_DEBUG);	/* the no-flow message too */
	qsbr_init(D.nthreads);
	if (D.wake_fd < 0 || eni_table_init(conf.max_enis) != 0 || reply_init() != 0) {
		fprintf(stderr, "test_reply: set-up failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
