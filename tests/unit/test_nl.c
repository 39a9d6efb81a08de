/*
 * Tests of the netlink request path (daemon/nl.c) on stored replies, no
 * socket: libmnl's socket calls are wrapped (-Wl,--wrap), sendto records
 * the request's sequence number and recvfrom hands out the replies this
 * file queued, or times out (EAGAIN, as SO_RCVTIMEO does) when none is.
 * The case that matters: a request that timed out leaves its ACK (or the
 * rest of its dump) queued; the next request must skip it, not fail with
 * EPROTO and leave every later one a reply behind.
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon/nl.h"

#define PORTID		4242u
#define OTHER_PORT	777u

/* --- the fake socket ---------------------------------------------------- */

#define QMAX	8
static struct { char buf[4096]; size_t len; } q[QMAX];
static unsigned q_head, q_tail;
static unsigned last_seq;		/* of the last request sent */
static unsigned sent;

struct mnl_socket *__wrap_mnl_socket_open2(int bus, int flags);
int __wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned groups, pid_t pid);
unsigned __wrap_mnl_socket_get_portid(const struct mnl_socket *nl);
int __wrap_mnl_socket_get_fd(const struct mnl_socket *nl);
int __wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf,
    socklen_t len);
int __wrap_mnl_socket_close(struct mnl_socket *nl);
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *buf, size_t len);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size);

struct mnl_socket *
__wrap_mnl_socket_open2(int bus, int flags)
{
	static int fake;

	(void)bus;
	(void)flags;
	return (struct mnl_socket *)&fake;
}

int
__wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned groups, pid_t pid)
{
	(void)nl;
	(void)groups;
	(void)pid;
	return 0;
}

unsigned
__wrap_mnl_socket_get_portid(const struct mnl_socket *nl)
{
	(void)nl;
	return PORTID;
}

int
__wrap_mnl_socket_get_fd(const struct mnl_socket *nl)
{
	(void)nl;
	return -1;	/* setsockopt(-1, ...) fails harmlessly */
}

int
__wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf,
    socklen_t len)
{
	(void)nl;
	(void)type;
	(void)buf;
	(void)len;
	return 0;
}

int
__wrap_mnl_socket_close(struct mnl_socket *nl)
{
	(void)nl;
	return 0;
}

ssize_t
__wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;

	(void)nl;
	assert_true(len >= sizeof(*nlh));
	last_seq = nlh->nlmsg_seq;
	sent++;
	return (ssize_t)len;
}

ssize_t
__wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size)
{
	(void)nl;
	if (q_head == q_tail) {
		errno = EAGAIN;		/* SO_RCVTIMEO ran out */
		return -1;
	}
	assert_true(q[q_head % QMAX].len <= size);
	memcpy(buf, q[q_head % QMAX].buf, q[q_head % QMAX].len);
	return (ssize_t)q[q_head++ % QMAX].len;
}

/* --- stored replies -------------------------------------------------------- */

/* Start a message of type at the end of datagram d (new_dgram()); end
 * it with put_end(). */
static struct nlmsghdr *
put_begin(unsigned d, uint16_t type, unsigned seq, unsigned port)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(q[d % QMAX].buf + q[d % QMAX].len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = port;
	return nlh;
}

static void
put_end(unsigned d, const struct nlmsghdr *nlh)
{
	q[d % QMAX].len += nlh->nlmsg_len;
}

/* An ACK (error 0) or error for seq, as the kernel sends it (capped). */
static void
put_ack(unsigned d, unsigned seq, unsigned port, int error)
{
	struct nlmsghdr *nlh = put_begin(d, NLMSG_ERROR, seq, port);
	struct nlmsgerr *e;

	nlh->nlmsg_flags = NLM_F_CAPPED;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr);
	e->msg.nlmsg_seq = seq;
	e->msg.nlmsg_pid = port;
	put_end(d, nlh);
}

/* An RTM_NEWLINK (a GETLINK's answer) for ifindex. */
static void
put_link(unsigned d, unsigned seq, unsigned port, int ifindex)
{
	struct nlmsghdr *nlh = put_begin(d, RTM_NEWLINK, seq, port);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "gwi-x");
	put_end(d, nlh);
}

static unsigned
new_dgram(void)
{
	q[q_tail % QMAX].len = 0;
	return q_tail++;
}

static int
setup(void **state)
{
	(void)state;
	q_head = q_tail = 0;
	sent = 0;
	assert_int_equal(nl_init(), 0);
	/* Learn where the sequence numbers are (they start at the time). */
	assert_int_equal(nl_link_del(1), -EAGAIN);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nl_fini();
	return 0;
}

/* The next request's sequence number: one above the last one sent. */
static unsigned
next_seq(void)
{
	return last_seq + 1;
}

/* --- tests ------------------------------------------------------------------ */

static void
answered_request_ok(void **state)
{
	(void)state;
	put_ack(new_dgram(), next_seq(), PORTID, 0);
	assert_int_equal(nl_link_del(5), 0);
	put_ack(new_dgram(), next_seq(), PORTID, -ENODEV);
	assert_int_equal(nl_link_del(5), -ENODEV);
	assert_int_equal(nl_link_del(5), -EAGAIN);	/* no answer: timed out */
}

/* A timed-out request's ACK arrives first, in its own datagram. */
static void
late_ack_skipped(void **state)
{
	unsigned timed_out;

	(void)state;
	assert_int_equal(nl_link_del(5), -EAGAIN);
	timed_out = last_seq;
	put_ack(new_dgram(), timed_out, PORTID, 0);
	put_ack(new_dgram(), timed_out + 1, PORTID, 0);
	assert_int_equal(nl_link_del(6), 0);
	assert_int_equal(last_seq, timed_out + 1);
	/* Not a reply behind: the third request gets its own answer. */
	put_ack(new_dgram(), next_seq(), PORTID, -ENODEV);
	assert_int_equal(nl_link_del(7), -ENODEV);
	assert_int_equal(q_head, q_tail);
}

/* A late error must not become the next request's result either. */
static void
late_error_skipped(void **state)
{
	unsigned d;

	(void)state;
	assert_int_equal(nl_link_del(5), -EAGAIN);
	d = new_dgram();
	put_ack(d, last_seq, PORTID, -EEXIST);
	put_ack(d, last_seq + 1, PORTID, 0);	/* both in one read */
	assert_int_equal(nl_link_del(6), 0);
}

/* Several requests timed out: all their late replies are skipped. */
static void
several_late_replies_skipped(void **state)
{
	unsigned first;

	(void)state;
	assert_int_equal(nl_link_del(1), -EAGAIN);
	first = last_seq;
	assert_int_equal(nl_link_del(2), -EAGAIN);
	assert_int_equal(nl_link_del(3), -EAGAIN);
	put_ack(new_dgram(), first, PORTID, 0);
	put_ack(new_dgram(), first + 1, PORTID, -ENOENT);
	put_ack(new_dgram(), first + 2, PORTID, 0);
	put_ack(new_dgram(), first + 3, PORTID, -ENODEV);
	assert_int_equal(nl_link_del(4), -ENODEV);
	assert_int_equal(q_head, q_tail);
}

/* The late answer of a GETLINK must not give the next one its ifindex. */
static void
late_dump_part_skipped(void **state)
{
	unsigned d;

	(void)state;
	assert_int_equal(nl_link_index("gwi-a"), -EAGAIN);
	d = new_dgram();
	put_link(d, last_seq, PORTID, 7);
	put_ack(d, last_seq, PORTID, 0);
	d = new_dgram();
	put_link(d, last_seq + 1, PORTID, 9);
	put_ack(d, last_seq + 1, PORTID, 0);
	assert_int_equal(nl_link_index("gwi-b"), 9);
}

/* A reply to another port is not ours, whatever its sequence number. */
static void
other_port_skipped(void **state)
{
	(void)state;
	assert_int_equal(nl_link_del(5), -EAGAIN);
	put_ack(new_dgram(), next_seq(), OTHER_PORT, -EPERM);
	put_ack(new_dgram(), next_seq(), PORTID, 0);
	assert_int_equal(nl_link_del(5), 0);
}

/* Strict for the current request: a sequence number ahead is an error. */
static void
future_seq_is_error(void **state)
{
	(void)state;
	assert_int_equal(nl_link_del(5), -EAGAIN);
	put_ack(new_dgram(), next_seq() + 3, PORTID, 0);
	assert_int_equal(nl_link_del(5), -EPROTO);
}

/* Far behind (half the number space) is still old, not ahead. */
static void
far_behind_skipped(void **state)
{
	(void)state;
	assert_int_equal(nl_link_del(5), -EAGAIN);
	put_ack(new_dgram(), last_seq - 0x7fffffffu, PORTID, -EEXIST);
	put_ack(new_dgram(), next_seq(), PORTID, 0);
	assert_int_equal(nl_link_del(5), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(answered_request_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(late_ack_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(late_error_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(several_late_replies_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(late_dump_part_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(other_port_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(future_seq_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(far_behind_skipped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
