/*
 * Tests of the control server (daemon/ctl_server.c) over real sockets: replies
 * and errors, every kind of malformed message on a connection that must
 * stay usable, 200 clients at once, a client that never reads, replies past
 * the queue bound, `monitor` subscribers (a slow one loses the oldest events,
 * counted, and holds back nobody), permissions by SO_PEERCRED, and the socket file's life
 * (directory creation, a live daemon refused, a stale socket replaced).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/ctl_server.h"
#include "daemon/event.h"
#include "log.h"

#define NOBODY		65534
#define TIMEOUT_MS	5000

static char dir[64];
static char path[128];

/* --- handlers ------------------------------------------------------------ */

static int
h_status(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	ctl_rec_begin(r, "status");
	ctl_rec_u64(r, "pid", (uint64_t)getpid());
	ctl_rec_str(r, "mode", "return");
	ctl_rec_bool(r, "healthy", true);
	ctl_rec_s64(r, "skew", -1);
	ctl_rec_end(r);
	return 0;
}

static int
h_flows(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	unsigned n = a->limit_set ? a->limit : 10;

	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		ctl_rec_begin(r, "flow");
		ctl_rec_u64(r, "n", i);
		ctl_rec_strf(r, "src", "192.0.2.%u", i % 250);
		ctl_rec_str(r, "pad", "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789");
		ctl_rec_end(r);
	}
	return 0;
}

static int
h_config(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	ctl_rec_begin(r, "option");
	ctl_rec_str(r, "name", "huge");
	ctl_rec_strf(r, "value", "%0*d", CTL_MSG_MAX + 10, 0);
	ctl_rec_end(r);
	return 0;
}

static int
h_ok(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)r;
	(void)a;
	(void)arg;
	return 0;
}

static int
h_destroy(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)arg;
	return ctl_reply_error(r, ENOENT, "no ENI %016llx", (unsigned long long)a->eni);
}

static int
h_plain_error(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)r;
	(void)a;
	(void)arg;
	return -EBUSY;
}

static struct ctl_server *
server(const char *p, gid_t group, size_t queue, unsigned stall, unsigned clients)
{
	struct ctl_server *s;
	int err = 0;

	s = ctl_server_open(p, group, &err);
	if (!s)
		fail_msg("ctl_server_open(%s): %s", p, strerror(-err));
	ctl_server_set_limits(s, queue, stall, clients);
	ctl_server_set_handler(s, CTL_CMD_SHOW_STATUS, h_status, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_FLOWS, h_flows, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_CONFIG, h_config, NULL);
	ctl_server_set_handler(s, CTL_CMD_COUNTERS_RESET, h_ok, NULL);
	ctl_server_set_handler(s, CTL_CMD_ENI_DESTROY, h_destroy, NULL);
	ctl_server_set_handler(s, CTL_CMD_FLOWS_FLUSH, h_plain_error, NULL);
	assert_int_equal(ctl_server_start(s), 0);
	return s;
}

/* --- a small client ------------------------------------------------------ */

struct reply {
	unsigned	nrec;
	bool		done;
	bool		eof;
	int		err;
	uint32_t	seq;
	char		text[CTL_ERRTEXT_MAX];
};

static int
count_cb(const struct ctl_record *rec, void *arg)
{
	(void)rec;
	(*(unsigned *)arg)++;
	return 0;
}

static int
client(const char *p)
{
	int fd = ctl_connect(p);

	if (fd < 0)
		fail_msg("connect %s: %s", p, strerror(-fd));
	return fd;
}

static int
try_send_line(int fd, uint32_t seq, const char *line)
{
	const char *w[CTL_WORDS_MAX + 1];
	char buf[256], *save = NULL, *t;
	struct ctl_msg *m = malloc(sizeof(*m));
	unsigned n = 0;
	int r;

	if (!m)
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "%s", line);
	for (t = strtok_r(buf, " ", &save); t && n <= CTL_WORDS_MAX;
	    t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if ((r = ctl_msg_cmd(m, seq, n, w)) == 0)
		r = ctl_send(fd, m);
	free(m);
	return r;
}

static void
send_line(int fd, uint32_t seq, const char *line)
{
	int r = try_send_line(fd, seq, line);

	if (r < 0)
		fail_msg("send '%s': %s", line, strerror(-r));
}

/*
 * Reads one whole reply (to DONE, ERROR or the end of the connection).
 * No cmocka here: a forked child uses it too.
 */
static int
try_read_reply(int fd, struct reply *rp)
{
	static _Alignas(8) unsigned char buf[CTL_MSG_MAX];
	const char *text, *why;
	struct ctl_hdr h;
	ssize_t n;
	int r;

	memset(rp, 0, sizeof(*rp));
	for (;;) {
		n = ctl_recv(fd, buf, sizeof(buf), TIMEOUT_MS);
		if (n == 0 || n == -ECONNRESET) {
			rp->eof = true;
			return 0;
		}
		if (n < 0)
			return (int)n;
		if ((r = ctl_msg_check(buf, (size_t)n, &h, &why)) < 0)
			return r;
		rp->seq = h.seq;
		switch (h.type) {
		case CTL_MSG_RECORD:
			if ((r = ctl_decode_records(buf, (size_t)n, count_cb,
			    &rp->nrec, &why)) < 0)
				return r;
			break;
		case CTL_MSG_DONE:
			rp->done = true;
			return 0;
		case CTL_MSG_ERROR:
			if ((r = ctl_decode_error(buf, (size_t)n, &rp->err, &text,
			    &why)) < 0)
				return r;
			snprintf(rp->text, sizeof(rp->text), "%s", text);
			return 0;
		default:
			return -EBADRQC;
		}
	}
}

static void
read_reply(int fd, struct reply *rp)
{
	int r = try_read_reply(fd, rp);

	if (r < 0)
		fail_msg("reading a reply: %s", strerror(-r));
}

static void
ask(int fd, const char *line, struct reply *rp)
{
	static uint32_t seq = 100;

	send_line(fd, ++seq, line);
	read_reply(fd, rp);
	if (!rp->eof)
		assert_int_equal(rp->seq, seq);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- fixture ------------------------------------------------------------- */

static int
setup(void **state)
{
	strcpy(dir, "/tmp/ctltest.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	chmod(dir, 0755);
	/* A directory that does not exist yet: the server makes it. */
	snprintf(path, sizeof(path), "%s/run/gwlbtund.sock", dir);
	*state = server(path, (gid_t)-1, 0, 0, 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	ctl_server_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- tests --------------------------------------------------------------- */

static void
test_socket_file(void **state)
{
	struct stat sb;
	char run[128];

	(void)state;
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0660);
	snprintf(run, sizeof(run), "%s/run", dir);
	assert_int_equal(stat(run, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
}

static void
test_replies(void **state)
{
	struct ctl_server_stats st;
	struct reply rp;
	int fd = client(path);

	ask(fd, "show status", &rp);
	assert_true(rp.done);
	assert_int_equal(rp.nrec, 1);
	/* Many records, packed several to a message, over many messages. */
	ask(fd, "show flows limit 3000", &rp);
	assert_true(rp.done);
	assert_int_equal(rp.nrec, 3000);
	/* A handler's own error text. */
	ask(fd, "eni destroy 1", &rp);
	assert_int_equal(rp.err, ENOENT);
	assert_string_equal(rp.text, "no ENI 0000000000000001");
	/* A bare -errno gets strerror. */
	ask(fd, "flows flush", &rp);
	assert_int_equal(rp.err, EBUSY);
	assert_string_equal(rp.text, strerror(EBUSY));
	/* No handler. */
	ask(fd, "rule add iif in table eni", &rp);
	assert_int_equal(rp.err, ENOTSUP);
	assert_string_equal(rp.text, "'rule add' is not supported by this daemon");
	/* The server parses again: bad words are refused with the reason. */
	ask(fd, "show bogus", &rp);
	assert_int_equal(rp.err, EINVAL);
	assert_non_null(strstr(rp.text, "unknown command 'show bogus'"));
	ask(fd, "sh st", &rp);		/* abbreviations are fine here too */
	assert_true(rp.done);
	ask(fd, "help", &rp);
	assert_int_equal(rp.err, EINVAL);
	assert_non_null(strstr(rp.text, "gwlbctl command"));
	/* A record that cannot fit in a message is an error, not a cut. */
	ask(fd, "show config", &rp);
	assert_int_equal(rp.err, EMSGSIZE);
	assert_non_null(strstr(rp.text, "'option' record does not fit"));
	assert_int_equal(rp.nrec, 0);
	/* Still the same good connection. */
	ask(fd, "show status", &rp);
	assert_true(rp.done);
	close(fd);
	ctl_server_stats(*state, &st);
	assert_true(st.commands >= 7);
	assert_true(st.errors >= 6);
}

struct rawmsg {
	const char	*what;
	int		 want;
};

static void
send_bytes(int fd, const void *b, size_t len)
{
	assert_int_equal(send(fd, b, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void
test_malformed(void **state)
{
	static _Alignas(8) unsigned char b[CTL_MSG_MAX + 4096];
	struct ctl_server_stats before, after;
	struct ctl_hdr h = { .type = CTL_MSG_CMD, .version = CTL_VERSION, .seq = 77 };
	struct reply rp;
	int fd = client(path), other = client(path);
	uint16_t al, at;
	size_t len;

	ctl_server_stats(*state, &before);
	/* An empty datagram. */
	send_bytes(fd, b, 0);
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADMSG);
	/* Shorter than the header. */
	memset(b, 0, 8);
	send_bytes(fd, b, 4);
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADMSG);
	/* Another protocol version: the reply says which we speak. */
	h.len = sizeof(h);
	h.version = CTL_VERSION + 1;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, sizeof(h));
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EPROTONOSUPPORT);
	assert_int_equal(rp.seq, 77);
	assert_non_null(strstr(rp.text, "protocol version"));
	h.version = CTL_VERSION;
	/* The length field lies. */
	h.len = 64;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, sizeof(h));
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADMSG);
	/* Unknown type, and a reply type sent as a request. */
	h.len = sizeof(h);
	h.type = 4711;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, sizeof(h));
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADRQC);
	h.type = CTL_MSG_DONE;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, sizeof(h));
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADRQC);
	/* A command without words. */
	h.type = CTL_MSG_CMD;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, sizeof(h));
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADMSG);
	/* A truncated attribute: claims 40 bytes, has 8. */
	h.len = sizeof(h) + 8;
	memcpy(b, &h, sizeof(h));
	al = 40;
	at = CTL_A_WORD;
	memcpy(b + sizeof(h), &al, 2);
	memcpy(b + sizeof(h) + 2, &at, 2);
	memcpy(b + sizeof(h) + 4, "show", 4);
	send_bytes(fd, b, h.len);
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADMSG);
	assert_non_null(strstr(rp.text, "malformed command"));
	/* A word without its NUL. */
	al = 8;
	memcpy(b + sizeof(h), &al, 2);
	send_bytes(fd, b, h.len);
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EBADMSG);
	/* Too many words. */
	len = sizeof(h);
	for (int i = 0; i <= CTL_WORDS_MAX; i++) {
		al = 6;
		memcpy(b + len, &al, 2);
		memcpy(b + len + 2, &at, 2);
		memcpy(b + len + 4, "x\0\0\0", 4);
		len += 8;
	}
	h.len = (uint32_t)len;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, len);
	read_reply(fd, &rp);
	assert_int_equal(rp.err, E2BIG);
	/* Oversized: more than the server will read. */
	h.len = CTL_MSG_MAX + 4096;
	memcpy(b, &h, sizeof(h));
	send_bytes(fd, b, h.len);
	read_reply(fd, &rp);
	assert_int_equal(rp.err, EMSGSIZE);
	assert_int_equal(rp.seq, 77);

	/* The same connection still works, and so does everybody else's. */
	ask(fd, "show status", &rp);
	assert_true(rp.done);
	ask(other, "show status", &rp);
	assert_true(rp.done);
	ctl_server_stats(*state, &after);
	assert_int_equal(after.bad_messages - before.bad_messages, 11);
	close(fd);
	close(other);
}

static void
test_half_close(void **state)
{
	struct reply rp;
	int fd = client(path);

	(void)state;
	send_line(fd, 5, "show flows limit 500");
	shutdown(fd, SHUT_WR);
	read_reply(fd, &rp);
	assert_true(rp.done);
	assert_int_equal(rp.nrec, 500);
	read_reply(fd, &rp);
	assert_true(rp.eof);
	close(fd);
}

#define NCLIENTS	200

static void
test_many_clients(void **state)
{
	struct ctl_server_stats st;
	static int fds[NCLIENTS];
	struct reply rp;
	uint64_t t0 = now_ms();

	for (int i = 0; i < NCLIENTS; i++)
		fds[i] = client(path);
	for (int i = 0; i < NCLIENTS; i++)
		send_line(fds[i], (uint32_t)i + 1, i % 2 ? "show status" :
		    "show flows limit 200");
	for (int i = 0; i < NCLIENTS; i++) {
		read_reply(fds[i], &rp);
		assert_true(rp.done);
		assert_int_equal(rp.seq, i + 1);
		assert_int_equal(rp.nrec, i % 2 ? 1 : 200);
	}
	ctl_server_stats(*state, &st);
	assert_int_equal(st.clients, NCLIENTS);
	print_message("%d clients, 100 x 200 records + 100 x 1: %llu ms\n", NCLIENTS,
	    (unsigned long long)(now_ms() - t0));
	for (int i = 0; i < NCLIENTS; i++)
		close(fds[i]);
	/* The server notices them all leave. */
	for (int i = 0; i < 100; i++) {
		ctl_server_stats(*state, &st);
		if (st.clients == 0)
			break;
		usleep(10000);
	}
	assert_int_equal(st.clients, 0);
}

static void
test_never_reader(void **state)
{
	char p[160];
	struct ctl_server *s;
	struct ctl_server_stats st;
	struct reply rp;
	uint64_t worst = 0, t0;
	int lazy, good, sent = 0;

	(void)state;
	snprintf(p, sizeof(p), "%s/lazy.sock", dir);
	s = server(p, (gid_t)-1, 256 << 10, 400, 0);
	lazy = client(p);
	good = client(p);
	/* Asks for ~15 MB and more, and never reads a byte. */
	send_line(lazy, 1, "show flows limit 100000");
	fcntl(lazy, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 50; i++) {
		struct ctl_msg *m = malloc(sizeof(*m));
		const char *w[] = { "show", "status" };
		const void *d;
		size_t len;

		ctl_msg_cmd(m, 2, 2, w);
		d = ctl_msg_finish(m, &len);
		sent += send(lazy, d, len, MSG_NOSIGNAL) > 0;
		free(m);
	}
	/* Everybody else is served promptly all along. */
	for (int i = 0; i < 30; i++) {
		t0 = now_ms();
		ask(good, i % 2 ? "show status" : "show flows limit 100", &rp);
		assert_true(rp.done);
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
		usleep(20000);
	}
	assert_true(worst < 200);
	/* The lazy one is dropped once its queue sat unread for the stall time. */
	for (int i = 0; i < 300; i++) {
		ctl_server_stats(s, &st);
		if (st.dropped)
			break;
		usleep(10000);
	}
	assert_int_equal(st.dropped, 1);
	assert_true(st.overflows >= 1);
	print_message("never-reader dropped; %d pipelined commands sent; worst other "
	    "reply %llu ms\n", sent, (unsigned long long)worst);
	ask(good, "show status", &rp);
	assert_true(rp.done);
	close(lazy);
	close(good);
	ctl_server_close(s);
}

/* --- monitor ------------------------------------------------------------- */

struct evread {
	char		type[32];
	uint64_t	val;		/* field "i", or a "lost" record's count */
	bool		has_eni;
};

static int
ev_cb(const struct ctl_record *rec, void *arg)
{
	struct evread *e = arg;

	snprintf(e->type, sizeof(e->type), "%s", rec->type);
	e->has_eni = false;
	for (unsigned i = 0; i < rec->nfields; i++) {
		if (strcmp(rec->field[i].name, "i") == 0 ||
		    strcmp(rec->field[i].name, "count") == 0)
			e->val = rec->field[i].v.u64;
		if (strcmp(rec->field[i].name, "eni") == 0)
			e->has_eni = strcmp(rec->field[i].v.str,
			    "000000000000000ab") == 0;
	}
	return 0;
}

/* One event message for seq: 0, or -ETIMEDOUT. */
static int
read_event(int fd, uint32_t seq, struct evread *e, int timeout_ms)
{
	static _Alignas(8) unsigned char buf[CTL_MSG_MAX];
	const char *why;
	struct ctl_hdr h;
	ssize_t n;

	n = ctl_recv(fd, buf, sizeof(buf), timeout_ms);
	if (n == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (n <= 0)
		fail_msg("reading an event: %s", n ? strerror((int)-n) : "end of file");
	assert_int_equal(ctl_msg_check(buf, (size_t)n, &h, &why), 0);
	assert_int_equal(h.type, CTL_MSG_EVENT);
	assert_int_equal(h.seq, seq);
	assert_int_equal(ctl_decode_event(buf, (size_t)n, ev_cb, e, &why), 0);
	return 0;
}

static void
post(uint64_t i)
{
	struct event ev;

	event_init(&ev, EVENT_HOOK_FINISHED, true, 0xab);
	event_u64(&ev, "i", i);
	event_post(&ev);
}

#define MON_EVENTS	5000
#define MON_RING	64

static void
test_monitor(void **state)
{
	char p[160];
	struct ctl_server *s;
	struct ctl_server_stats st;
	struct reply rp;
	struct evread e;
	uint64_t t0, worst_post = 0, worst_ask = 0, got = 0, lost = 0, next = 0;
	unsigned lost_recs = 0;
	int slow, fast, other;

	(void)state;
	assert_int_equal(event_open(MON_RING), 0);
	snprintf(p, sizeof(p), "%s/mon.sock", dir);
	/* A short stall time: a subscriber must not be dropped for it. */
	s = server(p, (gid_t)-1, 0, 300, 0);
	slow = client(p);
	fast = client(p);
	other = client(p);
	/* Events before the subscription are not shown. */
	post(999999);
	send_line(slow, 5, "monitor");
	read_reply(slow, &rp);
	assert_true(rp.done);
	assert_int_equal(rp.seq, 5);
	send_line(fast, 6, "monitor");
	read_reply(fast, &rp);
	assert_true(rp.done);

	/* The fast one reads every burst: it gets each event, in order. */
	for (uint64_t i = 0; i < MON_EVENTS; i++) {
		t0 = now_ms();
		post(i);
		if (now_ms() - t0 > worst_post)
			worst_post = now_ms() - t0;
		if (i % 32 != 31)
			continue;
		for (uint64_t k = i - 31; k <= i; k++) {
			assert_int_equal(read_event(fast, 6, &e, TIMEOUT_MS), 0);
			assert_string_equal(e.type, "hook-finished");
			assert_true(e.has_eni);
			assert_int_equal(e.val, k);
		}
		if (i % 1024 == 1023) {
			t0 = now_ms();
			ask(other, "show status", &rp);
			assert_true(rp.done);
			if (now_ms() - t0 > worst_ask)
				worst_ask = now_ms() - t0;
		}
	}
	/* The last, partial burst. */
	for (uint64_t k = MON_EVENTS / 32 * 32; k < MON_EVENTS; k++) {
		assert_int_equal(read_event(fast, 6, &e, TIMEOUT_MS), 0);
		assert_int_equal(e.val, k);
	}
	assert_true(worst_post < 50);
	assert_true(worst_ask < 200);
	/* Past the stall time, with the server awake (other commands), the
	 * slow one is still there. */
	for (int i = 0; i < 6; i++) {
		usleep(100000);
		ask(other, "show status", &rp);
		assert_true(rp.done);
	}
	ctl_server_stats(s, &st);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.subscribers, 2);

	/* It reads now: what the socket held, "lost N", then the newest,
	 * every event accounted for, in order. */
	while (read_event(slow, 5, &e, 300) == 0) {
		if (strcmp(e.type, "lost") == 0) {
			lost_recs++;
			lost += e.val;
			next += e.val;
			continue;
		}
		assert_string_equal(e.type, "hook-finished");
		assert_int_equal(e.val, next);
		next++;
		got++;
	}
	print_message("slow subscriber: %llu events, %llu lost in %u records; "
	    "worst post %llu ms, worst other reply %llu ms\n",
	    (unsigned long long)got, (unsigned long long)lost, lost_recs,
	    (unsigned long long)worst_post, (unsigned long long)worst_ask);
	assert_int_equal(got + lost, MON_EVENTS);
	assert_int_equal(next, MON_EVENTS);
	assert_true(lost_recs >= 1);
	assert_true(got >= MON_RING);
	ctl_server_stats(s, &st);
	assert_int_equal(st.events_lost, lost);
	/* Nothing more for the fast one either. */
	if (read_event(fast, 6, &e, 100) != -ETIMEDOUT)
		fail_msg("the fast subscriber got more: %s %llu", e.type,
		    (unsigned long long)e.val);

	close(slow);
	close(fast);
	for (int i = 0; i < 100; i++) {
		ctl_server_stats(s, &st);
		if (!st.subscribers)
			break;
		usleep(10000);
	}
	assert_int_equal(st.subscribers, 0);
	close(other);
	ctl_server_close(s);
	event_close();
}

static void
test_overflow(void **state)
{
	char p[160];
	struct ctl_server *s;
	struct ctl_server_stats st;
	struct reply rp;
	int fd;

	(void)state;
	snprintf(p, sizeof(p), "%s/small.sock", dir);
	s = server(p, (gid_t)-1, 64 << 10, 0, 0);
	fd = client(p);
	/* Far more than socket buffer and queue hold: cut, with a reason.  The
	 * client reads only once the server has hit the limit, so that a slow
	 * server (sanitizers, a loaded machine) cannot make it keep up. */
	send_line(fd, 1, "show flows limit 100000");
	for (int i = 0; i < 1000; i++) {
		ctl_server_stats(s, &st);
		if (st.overflows)
			break;
		usleep(10000);
	}
	assert_true(st.overflows >= 1);
	read_reply(fd, &rp);
	assert_int_equal(rp.seq, 1);
	assert_int_equal(rp.err, EMSGSIZE);
	assert_non_null(strstr(rp.text, "reply too large"));
	assert_true(rp.nrec > 100 && rp.nrec < 100000);
	print_message("reply cut after %u records\n", rp.nrec);
	/* A reader that keeps up is not punished afterwards. */
	ask(fd, "show flows limit 200", &rp);
	assert_true(rp.done);
	assert_int_equal(rp.nrec, 200);
	close(fd);
	ctl_server_close(s);
}

static void
test_big_reply(void **state)
{
	struct reply rp;
	int fd = client(path);
	uint64_t t0 = now_ms();

	(void)state;
	ask(fd, "show flows limit 50000", &rp);
	assert_true(rp.done);
	assert_int_equal(rp.nrec, 50000);
	print_message("50000 records in %llu ms\n", (unsigned long long)(now_ms() - t0));
	close(fd);
}

static void
test_too_many_clients(void **state)
{
	char p[160];
	struct ctl_server *s;
	struct reply rp;
	int fds[5];

	(void)state;
	snprintf(p, sizeof(p), "%s/few.sock", dir);
	s = server(p, (gid_t)-1, 0, 0, 4);
	for (int i = 0; i < 4; i++) {
		fds[i] = client(p);
		ask(fds[i], "show status", &rp);
		assert_true(rp.done);
	}
	fds[4] = client(p);
	read_reply(fds[4], &rp);
	assert_int_equal(rp.err, EUSERS);
	read_reply(fds[4], &rp);
	assert_true(rp.eof);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	ctl_server_close(s);
}

/* In a child that became nobody: 0 when what it saw matches want. */
static int
as_nobody(const char *p, bool want_authorized)
{
	struct reply rp;
	int fd;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 10;
	if ((fd = ctl_connect(p)) < 0)
		return 11;
	if (try_send_line(fd, 1, "show status") < 0 || try_read_reply(fd, &rp) < 0 ||
	    !rp.done)
		return 12;
	if (try_send_line(fd, 2, "counters reset") < 0 || try_read_reply(fd, &rp) < 0)
		return 13;
	if (want_authorized)
		return rp.done ? 0 : 14;
	if (rp.err != EPERM || !strstr(rp.text, "permission denied: 'counters reset'"))
		return 15;
	/* Refused, but still connected and served. */
	if (try_send_line(fd, 3, "show status") < 0 || try_read_reply(fd, &rp) < 0)
		return 16;
	return rp.done ? 0 : 17;
}

static void
run_as_nobody(const char *p, bool want_authorized)
{
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) == 0)
		_exit(as_nobody(p, want_authorized));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_permissions(void **state)
{
	struct ctl_server_stats st;
	struct ctl_server *s;
	struct reply rp;
	char p[160];
	int fd;

	if (geteuid() != 0)
		skip();
	/* Root is always allowed. */
	fd = client(path);
	ask(fd, "counters reset", &rp);
	assert_true(rp.done);
	close(fd);
	/* Somebody else is not, unless in the group. */
	chmod(path, 0666);
	run_as_nobody(path, false);
	ctl_server_stats(*state, &st);
	assert_true(st.refused >= 1);

	snprintf(p, sizeof(p), "%s/group.sock", dir);
	s = server(p, NOBODY, 0, 0, 0);
	{
		struct stat sb;

		assert_int_equal(lstat(p, &sb), 0);
		assert_int_equal(sb.st_gid, NOBODY);
		assert_int_equal(sb.st_mode & 07777, 0660);
	}
	run_as_nobody(p, true);
	ctl_server_close(s);
}

static void
test_socket_path(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *s;
	char p[160];
	struct stat sb;
	int err = 0, fd;

	(void)state;
	/* A live daemon answers at the path: refuse. */
	assert_null(ctl_server_open(path, (gid_t)-1, &err));
	assert_int_equal(err, -EADDRINUSE);
	assert_int_equal(lstat(path, &sb), 0);	/* and leave its socket alone */

	/* A stale socket (nobody listening) is replaced. */
	snprintf(p, sizeof(p), "%s/stale.sock", dir);
	strcpy(sun.sun_path, p);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	s = ctl_server_open(p, (gid_t)-1, &err);
	assert_non_null(s);
	assert_int_equal(ctl_server_start(s), 0);
	fd = client(p);
	close(fd);
	ctl_server_close(s);
	assert_int_equal(lstat(p, &sb), -1);	/* unlinked on close */

	/* Something that is not a socket is never removed. */
	snprintf(p, sizeof(p), "%s/file.sock", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	assert_null(ctl_server_open(p, (gid_t)-1, &err));
	assert_int_equal(err, -EEXIST);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));

	/* A file put in our place while running is left there on close. */
	snprintf(p, sizeof(p), "%s/moved.sock", dir);
	s = ctl_server_open(p, (gid_t)-1, &err);
	assert_non_null(s);
	unlink(p);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	ctl_server_close(s);
	assert_int_equal(lstat(p, &sb), 0);

	/* Too long a path. */
	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	assert_null(ctl_server_open(p, (gid_t)-1, &err));
	assert_int_equal(err, -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_file),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_never_reader),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_big_reply),
		cmocka_unit_test(test_too_many_clients),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_socket_path),
	};

	/* Quiet: the server logs every refused message at info. */
	log_set_all(LOG_CRITICAL);
	return cmocka_run_group_tests_name("ctl_server", tests, setup, teardown);
}
