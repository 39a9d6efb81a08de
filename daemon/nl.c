/*
 * The netlink boundary.  One request socket, owned by the manager thread:
 * every request asks for an ACK, replies are matched by sequence number and
 * port id, and the kernel's extended ACK text is logged with the error (as
 * iproute2 does), so an operator sees why the kernel refused.
 */
#include "config.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netconf.h>
#include <linux/netlink.h>
#include <linux/fib_rules.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "nl.h"
#include "route_model.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static struct mnl_socket *nl;
static struct mnl_socket *nl_ev;
static unsigned nl_portid;
static unsigned nl_seq;

int
nl_init(void)
{
	int one = 1;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl);
		nl = NULL;
		return err;
	}
	/* Both are best effort: old kernels lack them, and we still work. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	{
		/* A request the kernel never answers must not hang the manager
		 * (nor start-up, where SIGTERM is already blocked). */
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	nl_portid = mnl_socket_get_portid(nl);
	nl_seq = (unsigned)time(NULL);
	return 0;
}

void
nl_fini(void)
{
	if (nl)
		mnl_socket_close(nl);
	if (nl_ev)
		mnl_socket_close(nl_ev);
	nl = NULL;
	nl_ev = NULL;
}

struct nl_req {
	const char	*what;
	int		ifindex;	/* filled by a GETLINK reply */
	uint32_t	*group;		/* and its IFLA_GROUP, if not NULL */
	unsigned	*flags;		/* and its ifi_flags, if not NULL */
	int		quiet;		/* an errno not worth logging (expected) */
	char		*ext_ack;	/* where to copy the kernel's text, or NULL */
	size_t		ext_ack_len;
	mnl_cb_t	data_cb;	/* replies of a dump; NULL: nl_link_cb */
	void		*data;
};

/* The extended ACK text of an error message, or NULL. */
static const char *
nl_ext_ack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (mnl_nlmsg_get_payload_len(nlh) < off)
		return NULL;
	const void *tlvs = (const uint8_t *)e + off;

	mnl_attr_for_each_payload(tlvs, mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

static int
nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct nl_req *req = data;
	const char *msg;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	msg = nl_ext_ack(nlh);
	errno = -e->error;
	if (req->ext_ack && req->ext_ack_len)
		snprintf(req->ext_ack, req->ext_ack_len, "%s%s%s", strerror(-e->error),
		    msg ? ": " : "", msg ? msg : "");
	if ((e->error != -ENODEV || req->ifindex != -1) && -e->error != req->quiet)
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "%s: %s%s%s", req->what,
		    strerror(-e->error), msg ? ": " : "", msg ? msg : "");
	return MNL_CB_ERROR;
}

static int
nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_req *req = data;
	const struct ifinfomsg *ifi;

	if (req->data_cb)
		return req->data_cb(nlh, req->data);

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	req->ifindex = ifi->ifi_index;
	if (req->flags)
		*req->flags = ifi->ifi_flags;
	if (req->group) {
		const struct nlattr *attr;

		*req->group = 0;
		mnl_attr_for_each(attr, nlh, sizeof(*ifi))
			if (mnl_attr_get_type(attr) == IFLA_GROUP &&
			    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				*req->group = mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

/* A dump's end.  (With a control array, libmnl does not stop on it itself.) */
static int
nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

/*
 * The head of a request in buf, zeroed whole first: every request is built
 * here, so no stack byte reaches the kernel.  libmnl before 1.0.5 leaves
 * the padding after an attribute (a u8, a string) as it finds it, and
 * whatever a builder does not set stays zero.
 */
static struct nlmsghdr *
nl_msg(void *buf, size_t size, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

/*
 * A reply that is not to the request in flight: to an earlier one whose
 * answer came after we stopped waiting (SO_RCVTIMEO), its ACK or the rest
 * of its dump still queued, or addressed to another port.  Such replies are
 * skipped: taken as the current answer they made the next request fail
 * with EPROTO and every later one read its predecessor's reply.  Sequence
 * numbers are compared modulo 2^32 (they start at the time and wrap).
 */
static bool
nl_reply_stale(const struct nlmsghdr *nlh, unsigned seq, unsigned portid)
{
	return nlh->nlmsg_pid != portid || (int32_t)(nlh->nlmsg_seq - seq) < 0;
}

/*
 * Run the callbacks on the replies in buf to request seq, message by
 * message: stale ones (above) are skipped, the current request's are
 * checked strictly by libmnl (a sequence number ahead of ours is EPROTO).
 * MNL_CB_OK: read on.
 */
static int
nl_run_replies(const void *buf, size_t len, unsigned seq, unsigned portid,
    struct nl_req *req)
{
	mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = nl_error_cb,
	    [NLMSG_DONE] = nl_done_cb };
	const struct nlmsghdr *nlh = buf;
	int left = (int)len, ret = MNL_CB_OK;

	while (mnl_nlmsg_ok(nlh, left)) {
		if (nl_reply_stale(nlh, seq, portid)) {
			log_msg(LOG_NETLINK, LOG_DEBUG, "%s: skipped a late reply (type %u, "
			    "sequence %u, port %u)", req->what, nlh->nlmsg_type,
			    nlh->nlmsg_seq, nlh->nlmsg_pid);
		} else {
			ret = mnl_cb_run2(nlh, nlh->nlmsg_len, seq, portid, nl_link_cb, req,
			    ctl_cb, NLMSG_MIN_TYPE);
			if (ret <= MNL_CB_STOP)
				return ret;
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	if (left > 0) {
		errno = EBADMSG;	/* a truncated message */
		return MNL_CB_ERROR;
	}
	return ret;
}

/* Send one request and read until its ACK (or error). */
static int
nl_talk(struct nlmsghdr *nlh, struct nl_req *req)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned seq;
	ssize_t n;
	int ret;

	if (!nl)
		return -ENOTCONN;
	seq = ++nl_seq;
	nlh->nlmsg_seq = seq;
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = nl_run_replies(buf, (size_t)n, seq, nl_portid, req);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

int
nl_link_index(const char *name)
{
	return nl_link_lookup(name, NULL);
}

static int
nl_link_get(const char *name, uint32_t *group, unsigned *flags)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_req req = { .what = "get link", .ifindex = -1, .group = group,
	    .flags = flags };
	int ret;

	nlh = nl_msg(buf, sizeof(buf), RTM_GETLINK, NLM_F_REQUEST);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (!mnl_attr_put_strz_check(nlh, sizeof(buf), IFLA_IFNAME, name))
		return -ENAMETOOLONG;
	ret = nl_talk(nlh, &req);
	if (ret < 0)
		return ret;
	return req.ifindex > 0 ? req.ifindex : -ENODEV;
}

int
nl_link_lookup(const char *name, uint32_t *group)
{
	return nl_link_get(name, group, NULL);
}

int
nl_link_state(const char *name, bool *up)
{
	unsigned flags = 0;
	int ret = nl_link_get(name, NULL, &flags);

	*up = (flags & IFF_UP) != 0;
	return ret;
}

/* The head of an RTM_*LINK request for one link (ifindex 0: none). */
static struct nlmsghdr *
nl_link_msg(char *buf, size_t size, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = nl_msg(buf, size, type, NLM_F_REQUEST);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

/*
 * No IPv6 link-local address on our links: without it the kernel sends no
 * router solicitations or MLD reports into the tunnel, which could only be
 * dropped as replies without a flow.  Routes "dev gwi-X" need no address.
 * Must happen before the link goes up; best effort (IPv6 may be off).
 */
static void
nl_link_no_addrgen(int ifindex, const char *name)
{
	char buf[256], what[64];
	struct nlmsghdr *nlh;
	struct nlattr *spec, *inet6;
	struct nl_req req = { .what = what, .ifindex = -1 };

	snprintf(what, sizeof(what), "IPv6 address generation off on %s", name);
	nlh = nl_link_msg(buf, sizeof(buf), RTM_NEWLINK, ifindex);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, spec);
	int err = nl_talk(nlh, &req);

	if (err < 0)
		log_msg(LOG_NETLINK, LOG_DEBUG, "%s: %s", what, strerror(-err));
}

/* IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { [RP_FILTER] = 0 } } } */
static int
put_rp_filter_off(struct nlmsghdr *nlh, size_t cap)
{
	struct nlattr *spec, *inet, *conf;

	if (!(spec = mnl_attr_nest_start_check(nlh, cap, IFLA_AF_SPEC)) ||
	    !(inet = mnl_attr_nest_start_check(nlh, cap, AF_INET)) ||
	    !(conf = mnl_attr_nest_start_check(nlh, cap, IFLA_INET_CONF)) ||
	    !mnl_attr_put_u32_check(nlh, cap, IPV4_DEVCONF_RP_FILTER, 0))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, spec);
	return 0;
}

/*
 * Root qdisc "noqueue", before the link goes up.  A multi-queue TUN has 256
 * transmit queues, and the default mq root gives each a pfifo_fast of three
 * rings of txqueuelen pointers: about 6 MiB of kernel memory per link at
 * txqueuelen 1000 (12 GiB for 1024 ENIs), and tens of milliseconds to make
 * and to remove each link.  TUN never pushes back, so that qdisc buys
 * nothing: its own ring per attached queue (txqueuelen long) still holds
 * what the reply workers have not read yet.  Best effort.
 */
static void
nl_link_noqueue(int ifindex, const char *name)
{
	char buf[256], what[64];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	struct nl_req req = { .what = what, .ifindex = 0 };
	int err;

	snprintf(what, sizeof(what), "qdisc noqueue on %s", name);
	nlh = nl_msg(buf, sizeof(buf), RTM_NEWQDISC,
	    NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = 0;
	tcm->tcm_parent = TC_H_ROOT;
	mnl_attr_put_strz(nlh, TCA_KIND, "noqueue");
	err = nl_talk(nlh, &req);
	if (err < 0)
		log_msg(LOG_NETLINK, LOG_DEBUG, "%s: %s", what, strerror(-err));
}

int
nl_link_setup(int ifindex, const char *name, unsigned mtu, unsigned txqlen,
    uint32_t group, const char *alias)
{
	char buf[512], what[64];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_req req = { .what = what, .ifindex = 0 };

	nl_link_no_addrgen(ifindex, name);
	nl_link_noqueue(ifindex, name);
	snprintf(what, sizeof(what), "set up %s", name);
	nlh = nl_link_msg(buf, sizeof(buf), RTM_NEWLINK, ifindex);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (!mnl_attr_put_u32_check(nlh, sizeof(buf), IFLA_MTU, mtu))
		return -EMSGSIZE;
	/* TUN's default queue of 500 overflows (tx_dropped) whenever the
	 * reply worker is preempted for a moment at tens of kpps.  A longer
	 * one costs memory and time per link (pfifo_fast rings per queue). */
	if (txqlen && !mnl_attr_put_u32_check(nlh, sizeof(buf), IFLA_TXQLEN, txqlen))
		return -EMSGSIZE;
	if (group && !mnl_attr_put_u32_check(nlh, sizeof(buf), IFLA_GROUP, group))
		return -EMSGSIZE;
	/* What `ip -d link` shows as "alias": whose link this is. */
	if (alias && !mnl_attr_put_strz_check(nlh, sizeof(buf), IFLA_IFALIAS, alias))
		return -EMSGSIZE;
	if (put_rp_filter_off(nlh, sizeof(buf)) < 0)
		return -EMSGSIZE;
	return nl_talk(nlh, &req);
}

int
nl_link_rp_filter_off(int ifindex, const char *name)
{
	char buf[256], what[64];
	struct nlmsghdr *nlh;
	struct nl_req req = { .what = what, .ifindex = 0 };

	snprintf(what, sizeof(what), "rp_filter 0 on %s", name);
	nlh = nl_link_msg(buf, sizeof(buf), RTM_NEWLINK, ifindex);
	if (put_rp_filter_off(nlh, sizeof(buf)) < 0)
		return -EMSGSIZE;
	return nl_talk(nlh, &req);
}

static int
nl_put_route(struct nlmsghdr *nlh, size_t cap, const struct route_inst *ri)
{
	const struct route_spec *s = &ri->spec;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t alen = ri->family == AF_INET ? 4 : 16;

	rtm->rtm_family = (uint8_t)ri->family;
	rtm->rtm_dst_len = s->plen;
	rtm->rtm_table = ri->table < 256 ? (uint8_t)ri->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_GWLBTUN;
	rtm->rtm_scope = s->via_set ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (s->plen && !mnl_attr_put_check(nlh, cap, RTA_DST, alen, s->prefix))
		return -EMSGSIZE;
	if (!mnl_attr_put_u32_check(nlh, cap, RTA_OIF, (uint32_t)ri->oif) ||
	    !mnl_attr_put_u32_check(nlh, cap, RTA_TABLE, ri->table))
		return -EMSGSIZE;
	if (s->via_set && !mnl_attr_put_check(nlh, cap, RTA_GATEWAY, alen, s->via))
		return -EMSGSIZE;
	if (s->metric_set && !mnl_attr_put_u32_check(nlh, cap, RTA_PRIORITY, s->metric))
		return -EMSGSIZE;
	return 0;
}

static int
nl_route_req(uint16_t type, uint16_t flags, const struct route_inst *ri, const char *what,
    char *err, size_t errlen)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct nl_req req = { .what = what, .quiet = type == RTM_DELROUTE ? ESRCH : 0,
	    .ext_ack = err, .ext_ack_len = errlen };
	int ret;

	nlh = nl_msg(buf, sizeof(buf), type, NLM_F_REQUEST | flags);
	ret = nl_put_route(nlh, sizeof(buf), ri);
	if (ret < 0)
		return ret;
	return nl_talk(nlh, &req);
}

int
nl_route(bool add, const struct route_inst *ri, const char *what, char *err, size_t errlen)
{
	return nl_route_req(add ? RTM_NEWROUTE : RTM_DELROUTE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0, ri, what, err, errlen);
}

int
nl_route_restore(const struct route_inst *ri, const char *what, char *err, size_t errlen)
{
	return nl_route_req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ri, what, err, errlen);
}

int
nl_rule(bool add, const struct route_inst *ri, const char *what, char *err, size_t errlen)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	struct nl_req req = { .what = what, .quiet = add ? 0 : ENOENT, .ext_ack = err,
	    .ext_ack_len = errlen };

	nlh = nl_msg(buf, sizeof(buf), add ? RTM_NEWRULE : RTM_DELRULE,
	    NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)ri->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = ri->table < 256 ? (uint8_t)ri->table : RT_TABLE_UNSPEC;
	/* No FRA_PRIORITY: the kernel picks one below the last rule; a rule
	 * put back gets the one it had. */
	if (add && ri->prio && !mnl_attr_put_u32_check(nlh, sizeof(buf), FRA_PRIORITY, ri->prio))
		return -EMSGSIZE;
	if (!mnl_attr_put_strz_check(nlh, sizeof(buf), FRA_IIFNAME, ri->dev) ||
	    !mnl_attr_put_u32_check(nlh, sizeof(buf), FRA_TABLE, ri->table) ||
	    !mnl_attr_put_u8_check(nlh, sizeof(buf), FRA_PROTOCOL, RTPROT_GWLBTUN))
		return -EMSGSIZE;
	return nl_talk(nlh, &req);
}

/* Leftovers of a run that did not clean up: everything with our protocol. */
struct sweep {
	char	*msgs[1024];
	unsigned n;
	unsigned type;		/* RTM_GETROUTE or RTM_GETRULE */
};

static int
sweep_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sweep *sw = data;
	uint8_t proto = 0;

	if (sw->n == sizeof(sw->msgs) / sizeof(sw->msgs[0]))
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_NEWROUTE &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct rtmsg)) {
		proto = ((const struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_protocol;
	} else if (nlh->nlmsg_type == RTM_NEWRULE &&
	    mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct fib_rule_hdr)) {
		const struct nlattr *attr;

		mnl_attr_for_each(attr, nlh, sizeof(struct fib_rule_hdr))
			if (mnl_attr_get_type(attr) == FRA_PROTOCOL &&
			    mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
				proto = mnl_attr_get_u8(attr);
	}
	if (proto != RTPROT_GWLBTUN)
		return MNL_CB_OK;
	sw->msgs[sw->n] = malloc(nlh->nlmsg_len);
	if (sw->msgs[sw->n])
		memcpy(sw->msgs[sw->n++], nlh, nlh->nlmsg_len);
	return MNL_CB_OK;
}

int
nl_sweep_leftovers(void)
{
	static const struct { unsigned get, del; int family; } what[] = {
		{ RTM_GETRULE, RTM_DELRULE, AF_INET }, { RTM_GETRULE, RTM_DELRULE, AF_INET6 },
		{ RTM_GETROUTE, RTM_DELROUTE, AF_INET }, { RTM_GETROUTE, RTM_DELROUTE, AF_INET6 },
	};
	int removed = 0;

	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		char buf[64];
		struct nlmsghdr *nlh = nl_msg(buf, sizeof(buf), (uint16_t)what[i].get,
		    NLM_F_REQUEST | NLM_F_DUMP);
		struct rtgenmsg *g;
		struct sweep sw = { .n = 0 };
		struct nl_req req = { .what = "dump", .data_cb = sweep_cb, .data = &sw };
		int ret;

		g = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
		g->rtgen_family = (uint8_t)what[i].family;
		ret = nl_talk(nlh, &req);
		if (ret < 0 && ret != -EAFNOSUPPORT)
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "looking for leftovers: %s",
			    strerror(-ret));
		for (unsigned k = 0; k < sw.n; k++) {
			struct nlmsghdr *m = (struct nlmsghdr *)sw.msgs[k];
			struct nl_req dreq = { .what = "removing a leftover", .quiet = ENOENT };

			m->nlmsg_type = (uint16_t)what[i].del;
			m->nlmsg_flags = NLM_F_REQUEST;
			if (nl_talk(m, &dreq) == 0)
				removed++;
			free(sw.msgs[k]);
		}
	}
	return removed;
}

int
nl_events_open(void)
{
	unsigned groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_NETCONF };
	int rcvbuf = 4 << 20;

	nl_ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl_ev)
		return -errno;
	if (mnl_socket_bind(nl_ev, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(nl_ev, NETLINK_ADD_MEMBERSHIP, &groups[i],
		    sizeof(groups[i])) < 0)
			goto fail;
	/* Best effort: a larger buffer makes ENOBUFS (and resyncs) rarer. */
	setsockopt(mnl_socket_get_fd(nl_ev), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf));
	return mnl_socket_get_fd(nl_ev);
fail:
	{
		int err = -errno;

		mnl_socket_close(nl_ev);
		nl_ev = NULL;
		return err;
	}
}

struct ev_ctx {
	void	(*fn)(const struct nl_event *, void *);
	void	*arg;
};

static int
netconf_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NETCONFA_MAX) < 0)
		return MNL_CB_OK;	/* newer kernel: skip what we do not know */
	if ((type == NETCONFA_IFINDEX || type == NETCONFA_RP_FILTER) &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;	/* malformed: ignore this attribute */
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
nl_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_ctx *c = data;
	struct nl_event ev = { 0 };

	if (nlh->nlmsg_type == RTM_DELLINK) {
		const struct ifinfomsg *ifi;

		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
			return MNL_CB_OK;
		ifi = mnl_nlmsg_get_payload(nlh);
		ev.kind = NL_EV_LINK_GONE;
		ev.ifindex = ifi->ifi_index;
		c->fn(&ev, c->arg);
	} else if (nlh->nlmsg_type == RTM_NEWLINK) {
		const struct ifinfomsg *ifi;

		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
			return MNL_CB_OK;
		ifi = mnl_nlmsg_get_payload(nlh);
		/* Only a change of IFF_UP (the kernel says which flags
		 * changed): not every statistics or attribute update, and
		 * not a link's registration (every flag "changed", ~0: a new
		 * link, down until its maker sets it up). */
		if (!(ifi->ifi_change & IFF_UP) || ifi->ifi_change == ~0u)
			return MNL_CB_OK;
		ev.kind = NL_EV_LINK_UPDOWN;
		ev.ifindex = ifi->ifi_index;
		ev.value = (ifi->ifi_flags & IFF_UP) != 0;
		c->fn(&ev, c->arg);
	} else if (nlh->nlmsg_type == RTM_NEWNETCONF) {
		const struct nlattr *tb[NETCONFA_MAX + 1] = { NULL };
		const struct netconfmsg *ncm;

		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ncm))
			return MNL_CB_OK;
		ncm = mnl_nlmsg_get_payload(nlh);
		if (ncm->ncm_family != AF_INET)
			return MNL_CB_OK;
		if (mnl_attr_parse(nlh, sizeof(*ncm), netconf_attr_cb, tb) < 0)
			return MNL_CB_OK;
		if (!tb[NETCONFA_IFINDEX] || !tb[NETCONFA_RP_FILTER])
			return MNL_CB_OK;
		ev.kind = NL_EV_RP_FILTER;
		ev.ifindex = (int)mnl_attr_get_u32(tb[NETCONFA_IFINDEX]);
		ev.value = (int)mnl_attr_get_u32(tb[NETCONFA_RP_FILTER]);
		c->fn(&ev, c->arg);
	}
	return MNL_CB_OK;
}

void
nl_events_read(void (*fn)(const struct nl_event *ev, void *arg), void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ev_ctx c = { fn, arg };
	ssize_t n;

	if (!nl_ev)
		return;
	for (;;) {
		n = mnl_socket_recvfrom(nl_ev, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				struct nl_event ev = { .kind = NL_EV_RESYNC };

				log_msg(LOG_NETLINK, LOG_IMPORTANT, "netlink events "
				    "overflowed (ENOBUFS): checking every link again");
				fn(&ev, arg);
				continue;
			}
			return;		/* EAGAIN: all read */
		}
		/* Events: no sequence or port to match. */
		mnl_cb_run(buf, (size_t)n, 0, 0, nl_event_cb, &c);
	}
}

/* RTM_DELLINK of one link, or (ifindex 0) of every link in a group. */
static int
nl_dellink(int ifindex, uint32_t group, const char *what)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct nl_req req = { .what = what, .ifindex = -1 };

	nlh = nl_link_msg(buf, sizeof(buf), RTM_DELLINK, ifindex);
	if (!ifindex)
		mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return nl_talk(nlh, &req);
}

int
nl_link_del_group(uint32_t group)
{
	/* The kernel unregisters the whole group at once: one RCU grace
	 * period instead of one per link. */
	return nl_dellink(0, group, "delete our links");
}

int
nl_link_del(int ifindex)
{
	return nl_dellink(ifindex, 0, "delete link");
}
