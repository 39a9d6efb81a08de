/*
 * Unit tests for the layer-2 next hop (daemon/nl_nexthop.c) without root:
 * libmnl's sendto and recvfrom are wrapped (-Wl,--wrap=), each request
 * answered by a message built here as the kernel builds it (`ip route
 * get`, RTM_GETLINK, `ip neigh get`), with the attributes a test chooses.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "nl_nexthop.h"

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *buf, size_t len);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size);

static const uint8_t MAC_US[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* What the fake kernel answers. */
static struct {
	uint32_t	route_mtu;	/* 0: no RTA_METRICS */
	bool		bad_oif;	/* RTA_OIF of 2 bytes */
	bool		bad_gw;		/* RTA_GATEWAY of 16 bytes */
	bool		bad_type;	/* RTM_NEWADDR for RTM_GETLINK */
	uint32_t	gso_max_size, gso_max_segs;	/* 0: not sent */
} k;
static uint16_t req_type;
static uint32_t req_seq;
static unsigned n_req;

ssize_t
__wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;

	(void)nl;
	req_type = nlh->nlmsg_type;
	req_seq = nlh->nlmsg_seq;
	n_req++;
	errno = 0;		/* what libmnl leaves when a callback fails */
	return (ssize_t)len;
}

ssize_t
__wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size)
{
	struct nlmsghdr *nlh;
	uint32_t gw = htonl(0xc6120001);	/* 198.18.0.1 */

	(void)nl;
	assert_true(size >= 1024);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_seq = req_seq;
	nlh->nlmsg_pid = 0;
	switch (req_type) {
	case RTM_GETROUTE: {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		nlh->nlmsg_type = RTM_NEWROUTE;
		rtm->rtm_family = AF_INET;
		rtm->rtm_type = RTN_UNICAST;
		if (k.bad_oif)
			mnl_attr_put_u16(nlh, RTA_OIF, 3);
		else
			mnl_attr_put_u32(nlh, RTA_OIF, 3);
		if (k.bad_gw) {
			uint8_t gw6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			mnl_attr_put(nlh, RTA_GATEWAY, 16, gw6);
		} else {
			mnl_attr_put(nlh, RTA_GATEWAY, 4, &gw);
		}
		if (k.route_mtu) {
			struct nlattr *m = mnl_attr_nest_start(nlh, RTA_METRICS);

			mnl_attr_put_u32(nlh, RTAX_MTU, k.route_mtu);
			mnl_attr_nest_end(nlh, m);
		}
		break;
	}
	case RTM_GETLINK: {
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		nlh->nlmsg_type = k.bad_type ? RTM_NEWADDR : RTM_NEWLINK;
		ifi->ifi_index = 3;
		ifi->ifi_type = ARPHRD_ETHER;
		mnl_attr_put_u32(nlh, IFLA_MTU, 9001);
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, MAC_US);
		if (k.gso_max_size)
			mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SIZE, k.gso_max_size);
		if (k.gso_max_segs)
			mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SEGS, k.gso_max_segs);
		break;
	}
	case RTM_GETNEIGH: {
		struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

		nlh->nlmsg_type = RTM_NEWNEIGH;
		ndm->ndm_family = AF_INET;
		ndm->ndm_ifindex = 3;
		ndm->ndm_state = NUD_REACHABLE;
		mnl_attr_put(nlh, NDA_LLADDR, 6, MAC_GW);
		break;
	}
	default:
		fail_msg("unexpected request %u", req_type);
	}
	return (ssize_t)nlh->nlmsg_len;
}

static int
setup(void **state)
{
	struct nl_nh_sock *s = nl_nh_open();

	memset(&k, 0, sizeof(k));
	n_req = 0;
	if (!s)
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	nl_nh_close(*state);
	return 0;
}

static int
resolve(void **state, struct nl_nexthop *out)
{
	memset(out, 0xee, sizeof(*out));
	return nl_nh_resolve(*state, htonl(0xc6120101), htonl(0xc6120002), out);
}

/* A route through a gateway on an Ethernet link: all of it, the link's GSO
 * limits as it states them. */
static void
test_resolved(void **state)
{
	struct nl_nexthop nh;

	k.gso_max_size = 65536;
	k.gso_max_segs = 100;
	assert_int_equal(resolve(state, &nh), 0);
	assert_int_equal(n_req, 3);
	assert_int_equal(nh.ifindex, 3);
	assert_int_equal(nh.mtu, 9001);
	assert_int_equal(nh.gso_max_size, 65536);
	assert_int_equal(nh.gso_max_segs, 100);
	assert_memory_equal(nh.src_mac, MAC_US, 6);
	assert_memory_equal(nh.dst_mac, MAC_GW, 6);
}

/* A link that lowers its GSO limits; one that states none (an old kernel):
 * 65536 bytes, 65535 segments, the kernel's defaults. */
static void
test_gso_limits(void **state)
{
	struct nl_nexthop nh;

	k.gso_max_size = 16000;
	k.gso_max_segs = 8;
	assert_int_equal(resolve(state, &nh), 0);
	assert_int_equal(nh.gso_max_size, 16000);
	assert_int_equal(nh.gso_max_segs, 8);
	k.gso_max_size = k.gso_max_segs = 0;
	assert_int_equal(resolve(state, &nh), 0);
	assert_int_equal(nh.gso_max_size, 65536);
	assert_int_equal(nh.gso_max_segs, 65535);
}

/* The route's MTU (a path MTU learnt, `mtu` on the route) when lower than
 * the link's; the link's when higher. */
static void
test_route_mtu(void **state)
{
	struct nl_nexthop nh;

	k.route_mtu = 1400;
	assert_int_equal(resolve(state, &nh), 0);
	assert_int_equal(nh.mtu, 1400);
	k.route_mtu = 9500;
	assert_int_equal(resolve(state, &nh), 0);
	assert_int_equal(nh.mtu, 9001);
}

/* An answer that does not parse is -EBADMSG, whatever errno was left
 * before (libmnl sets none when a callback fails): an attribute of the
 * wrong size, a message of the wrong type. */
static void
test_bad_answer(void **state)
{
	struct nl_nexthop nh;

	k.bad_oif = true;
	assert_int_equal(resolve(state, &nh), -EBADMSG);
	assert_int_equal(n_req, 1);
	k.bad_oif = false;
	k.bad_gw = true;
	assert_int_equal(resolve(state, &nh), -EBADMSG);
	assert_int_equal(n_req, 2);
	k.bad_gw = false;
	k.bad_type = true;
	assert_int_equal(resolve(state, &nh), -EBADMSG);
	assert_int_equal(n_req, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_resolved),
		T(test_gso_limits),
		T(test_route_mtu),
		T(test_bad_answer),
#undef T
	};

	return cmocka_run_group_tests_name("nl_nexthop", tests, NULL, NULL);
}
