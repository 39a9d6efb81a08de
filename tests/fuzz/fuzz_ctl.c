/*
 * Fuzz harness for the control protocol as gwlbtund receives it: one
 * datagram through daemon/ctl_server.c's message handling (ctl_msg_check,
 * ctl_decode_cmd, the command table's ctl_cmd_parse, the permission check,
 * the handler and the reply), by ctl_server_feed(), with no listening
 * socket: the replies come back on a SOCK_SEQPACKET socketpair.  Every
 * command has a handler here that answers with a record built from the
 * parsed arguments.  The same bytes also go through what gwlbctl receives
 * (ctl_decode_records, ctl_decode_error).
 *
 * Checked, for an unauthorized and an authorized client: every datagram
 * gets a reply; every reply message is well formed (ctl_msg_check), echoes
 * the request's sequence number, and the last one is DONE or ERROR with
 * nothing after it; the outcome is the one the command table predicts
 * (decoded and parsed here independently of the server): a command that
 * does not parse, a gwlbctl-only command or a malformed message is an
 * ERROR, a mutating command from an unauthorized client is EPERM and never
 * reaches its handler, any other is DONE after its handler ran once.
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_commands.h"
#include "daemon/ctl_server.h"
#include "log.h"
#include "replay_main.h"

static struct ctl_server *srv;
static int sp[2] = { -1, -1 };
static unsigned handled;

static int
h_echo(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)arg;
	handled++;
	ctl_rec_begin(r, "echo");
	for (unsigned i = 0; i < a->nwords; i++) {
		char name[16];

		snprintf(name, sizeof(name), "word%u", i);
		ctl_rec_str(r, name, a->words[i]);
	}
	if (a->eni_set)
		ctl_rec_u64(r, "eni", a->eni);
	if (a->limit_set)
		ctl_rec_u64(r, "limit", a->limit);
	if (a->table_set)
		ctl_rec_u64(r, "table", a->table);
	if (a->metric_set)
		ctl_rec_s64(r, "metric", -(int64_t)a->metric);
	ctl_rec_bool(r, "prefix", a->prefix_set);
	ctl_rec_strf(r, "id", "%d", (int)a->id);
	ctl_rec_end(r);
	return 0;
}

static void
setup(void)
{
	log_set_all(LOG_CRITICAL);
	srv = ctl_server_detached();
	FUZZ_CHECK(srv != NULL);
	for (int id = 0; id < CTL_CMD__MAX; id++)
		ctl_server_set_handler(srv, (enum ctl_cmd_id)id, h_echo, NULL);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == 0);
	{
		int big = 1 << 20;

		setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	}
}

static int
no_record(const struct ctl_record *rec, void *arg)
{
	FUZZ_CHECK(rec->type != NULL);
	FUZZ_CHECK(rec->nfields <= CTL_REC_FIELDS_MAX);
	for (unsigned i = 0; i < rec->nfields; i++) {
		FUZZ_CHECK(rec->field[i].name != NULL);
		if (rec->field[i].type == CTL_FT_STR)
			FUZZ_CHECK(rec->field[i].v.str != NULL);
	}
	(void)arg;
	return 0;
}

/* What gwlbctl does with a datagram from the daemon. */
static void
client_side(const void *buf, size_t len)
{
	const char *why = NULL, *text = NULL;
	int err = 0;

	if (ctl_decode_records(buf, len, no_record, NULL, &why) < 0)
		FUZZ_CHECK(why != NULL);
	if (ctl_decode_error(buf, len, &err, &text, &why) == 0)
		FUZZ_CHECK(err > 0);
}

/* Expected outcome: 0 DONE, else the errno of the ERROR (EINVAL stands for any). */
static int
expect(const void *buf, size_t len, bool authorized, uint32_t *seq)
{
	const char *words[CTL_WORDS_MAX], *why;
	struct ctl_cmd_args a;
	struct ctl_hdr h;
	char text[CTL_ERRTEXT_MAX];
	unsigned n;

	*seq = 0;
	if (len >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		*seq = h.seq;
	}
	if (len > CTL_MSG_MAX || ctl_msg_check(buf, len, &h, &why) < 0 ||
	    h.type != CTL_MSG_CMD || ctl_decode_cmd(buf, len, words, CTL_WORDS_MAX, &n, &why) < 0)
		return EINVAL;
	if (ctl_cmd_parse(n, words, &a, text, sizeof(text)) < 0)
		return EINVAL;
	if (a.def->flags & CTL_CMDF_LOCAL)
		return EINVAL;
	/* The server answers monitor itself; this harness opens no event
	 * ring, so: "this daemon keeps no events". */
	if (a.id == CTL_CMD_MONITOR)
		return ENOTSUP;
	if ((a.def->flags & CTL_CMDF_MUTATING) && !authorized)
		return EPERM;
	return 0;
}

static void
feed(const void *buf, size_t len, bool authorized)
{
	static _Alignas(8) unsigned char rb[CTL_MSG_MAX + 64];
	struct ctl_peer peer = { .pid = 1, .uid = authorized ? 0 : 65534,
	    .gid = 65534, .authorized = authorized };
	unsigned before = handled, msgs = 0;
	uint32_t seq;
	int want = expect(buf, len, authorized, &seq), final = -1;
	ssize_t n;

	ctl_server_feed(srv, sp[0], &peer, buf, len);
	while ((n = recv(sp[1], rb, sizeof(rb), MSG_DONTWAIT)) >= 0) {
		struct ctl_hdr h;
		const char *why, *text;
		int err;

		FUZZ_CHECK(final < 0);	/* nothing after DONE or ERROR */
		FUZZ_CHECK(ctl_msg_check(rb, (size_t)n, &h, &why) == 0);
		FUZZ_CHECK(h.seq == seq);
		msgs++;
		if (h.type == CTL_MSG_DONE) {
			final = 0;
		} else if (h.type == CTL_MSG_ERROR) {
			FUZZ_CHECK(ctl_decode_error(rb, (size_t)n, &err, &text, &why) == 0);
			FUZZ_CHECK(err > 0);
			final = err;
		} else {
			FUZZ_CHECK(h.type == CTL_MSG_RECORD);
			if (ctl_decode_records(rb, (size_t)n, no_record, NULL, &why) < 0) {
				fprintf(stderr, "reply record: %s\n", why);
				FUZZ_CHECK(!"a reply record that does not decode");
			}
		}
	}
	FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
	FUZZ_CHECK(msgs > 0 && final >= 0);
	if (want == 0) {
		FUZZ_CHECK(final == 0);
		FUZZ_CHECK(handled == before + 1);
	} else {
		FUZZ_CHECK(final != 0);
		FUZZ_CHECK(handled == before);
		if (want == EPERM)
			FUZZ_CHECK(final == EPERM);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(8) unsigned char buf[CTL_MSG_MAX + 4096];

	if (!srv)
		setup();
	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);	/* the decoders want 4-byte alignment */
	client_side(buf, size);
	feed(buf, size, false);
	feed(buf, size, true);
	return 0;
}
