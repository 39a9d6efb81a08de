/*
 * Layer-2 next hops (nl_nexthop.h): three requests, each answered by one
 * message (RTM_GETROUTE as `ip route get`, RTM_GETLINK by index,
 * RTM_GETNEIGH as `ip neigh get`), every attribute validated; an answer
 * that does not parse is -EBADMSG.  The socket
 * waits at most 100 ms for an answer: a reply worker asks, and must not
 * hang on it.
 */
#include "config.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "nl_nexthop.h"

struct nl_nh_sock {
	struct mnl_socket *nl;
	unsigned	portid, seq;
	uint8_t		buf[8192];
};

struct nl_nh_sock *
nl_nh_open(void)
{
	struct nl_nh_sock *s = calloc(1, sizeof(*s));
	struct timeval tv = { .tv_usec = 100000 };

	if (!s)
		return NULL;
	s->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		if (s->nl)
			mnl_socket_close(s->nl);
		free(s);
		errno = err;
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (unsigned)time(NULL);
	return s;
}

void
nl_nh_close(struct nl_nh_sock *s)
{
	if (!s)
		return;
	mnl_socket_close(s->nl);
	free(s);
}

/* A callback's verdict on an answer that does not parse: libmnl sets no
 * errno for it, and nl_nh_talk reads errno. */
static int
nl_nh_bad(void)
{
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

/* Send nlh, run cb on its answer: 0 or -errno. */
static int
nl_nh_talk(struct nl_nh_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	nlh->nlmsg_seq = ++s->seq;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* An answer to an earlier request that timed out is skipped. */
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = mnl_socket_recvfrom(s->nl, s->buf, sizeof(s->buf));

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (mnl_cb_run(s->buf, (size_t)n, s->seq, s->portid, cb, data) >= 0)
			return 0;
		if (errno != ESRCH && errno != EPROTO)
			return -errno;
	}
	return -ETIMEDOUT;
}

struct nh_route {
	uint32_t	gw, mtu;	/* mtu: RTAX_MTU, 0 when the route has none */
	int		oif;
	bool		unicast, other_gw;
};

static int
metrics_attr_cb(const struct nlattr *a, void *data)
{
	struct nh_route *r = data;

	if (mnl_attr_get_type(a) == RTAX_MTU) {
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return nl_nh_bad();
		r->mtu = mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

static int
route_attr_cb(const struct nlattr *a, void *data)
{
	struct nh_route *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return nl_nh_bad();
		r->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(a) != 4)
			return nl_nh_bad();
		memcpy(&r->gw, mnl_attr_get_payload(a), 4);
		break;
	case RTA_METRICS:
		/* The route's MTU (`mtu` on it, or a path MTU learnt): the
		 * raw socket's DF datagrams are refused above it. */
		if (mnl_attr_parse_nested(a, metrics_attr_cb, r) < 0)
			return nl_nh_bad();
		break;
	case RTA_VIA:
		r->other_gw = true;	/* an IPv6 next hop for IPv4: not ours */
		break;
	}
	return MNL_CB_OK;
}

static int
route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nh_route *r = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return nl_nh_bad();
	r->unicast = rtm->rtm_type == RTN_UNICAST;
	return mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, r) < 0 ? nl_nh_bad() :
	    MNL_CB_STOP;
}

struct nh_link {
	unsigned	type, mtu, gso_max_size, gso_max_segs;
	bool		mac;
	uint8_t		addr[6];
};

static int
link_attr_cb(const struct nlattr *a, void *data)
{
	struct nh_link *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return nl_nh_bad();
		l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_GSO_MAX_SIZE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return nl_nh_bad();
		l->gso_max_size = mnl_attr_get_u32(a);
		break;
	case IFLA_GSO_MAX_SEGS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return nl_nh_bad();
		l->gso_max_segs = mnl_attr_get_u32(a);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == 6) {
			memcpy(l->addr, mnl_attr_get_payload(a), 6);
			l->mac = true;
		}
		break;
	}
	return MNL_CB_OK;
}

static int
link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nh_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return nl_nh_bad();
	l->type = ifi->ifi_type;
	return mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, l) < 0 ? nl_nh_bad() :
	    MNL_CB_STOP;
}

struct nh_neigh {
	unsigned	state;
	bool		mac;
	uint8_t		addr[6];
};

static int
neigh_attr_cb(const struct nlattr *a, void *data)
{
	struct nh_neigh *n = data;

	if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
		memcpy(n->addr, mnl_attr_get_payload(a), 6);
		n->mac = true;
	}
	return MNL_CB_OK;
}

static int
neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct nh_neigh *n = data;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm))
		return nl_nh_bad();
	n->state = ndm->ndm_state;
	return mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, n) < 0 ? nl_nh_bad() :
	    MNL_CB_STOP;
}

int
nl_nh_resolve(struct nl_nh_sock *s, uint32_t daddr, uint32_t saddr, struct nl_nexthop *out)
{
	uint8_t req[256];
	struct nlmsghdr *nlh;
	struct nh_route r = { 0 };
	struct nh_link l = { 0 };
	struct nh_neigh n = { 0 };
	int err;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	{
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = AF_INET;
		rtm->rtm_dst_len = 32;
		rtm->rtm_src_len = 32;
	}
	mnl_attr_put(nlh, RTA_DST, 4, &daddr);
	mnl_attr_put(nlh, RTA_SRC, 4, &saddr);
	if ((err = nl_nh_talk(s, nlh, route_cb, &r)) < 0)
		return err == -ENETUNREACH || err == -EHOSTUNREACH ? -ENETUNREACH : err;
	if (!r.unicast || r.other_gw || r.oif <= 0)
		return -ENETUNREACH;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	{
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = r.oif;
	}
	if ((err = nl_nh_talk(s, nlh, link_cb, &l)) < 0)
		return err;
	if (l.type != ARPHRD_ETHER || !l.mac || l.mtu < 68)
		return -EPFNOSUPPORT;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	{
		struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

		ndm->ndm_family = AF_INET;
		ndm->ndm_ifindex = r.oif;
	}
	mnl_attr_put(nlh, NDA_DST, 4, r.gw ? &r.gw : &daddr);
	if ((err = nl_nh_talk(s, nlh, neigh_cb, &n)) < 0)
		return err == -ENOENT ? -EHOSTUNREACH : err;
	if (!n.mac || !(n.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
	    NUD_PERMANENT)))
		return -EHOSTUNREACH;

	out->ifindex = r.oif;
	out->mtu = r.mtu >= 68 && r.mtu < l.mtu ? r.mtu : l.mtu;
	/* Not stated before Linux 4.6 (ip link's gso_max_size): the defaults. */
	out->gso_max_size = l.gso_max_size ? l.gso_max_size : 65536;
	out->gso_max_segs = l.gso_max_segs ? l.gso_max_segs : 65535;
	memcpy(out->src_mac, l.addr, 6);
	memcpy(out->dst_mac, n.addr, 6);
	return 0;
}
