/*
 * Unit tests for the control protocol codec (lib/ctl.c): round trips of
 * every message type, the bounded builders, and every way a received
 * message can be malformed, built byte by byte so the decoder is not only
 * tested against its own encoder.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_proto.h"

/* --- a raw message writer, independent of ctl.c -------------------------- */

struct raw {
	_Alignas(8) unsigned char b[CTL_MSG_MAX + 64];
	size_t	len;
	size_t	nest[4];
	int	depth;
};

static void
raw_init(struct raw *r, uint16_t type)
{
	struct ctl_hdr h = { .type = type, .version = CTL_VERSION, .seq = 7 };

	memset(r, 0, sizeof(*r));
	memcpy(r->b, &h, sizeof(h));
	r->len = sizeof(h);
}

/* An attribute with an explicit nla_len, so it can lie. */
static void
raw_attr_len(struct raw *r, uint16_t type, uint16_t nla_len, const void *data,
    size_t dlen)
{
	memcpy(r->b + r->len, &nla_len, 2);
	memcpy(r->b + r->len + 2, &type, 2);
	memcpy(r->b + r->len + 4, data, dlen);
	r->len += (4 + dlen + 3) & ~(size_t)3;
}

static void
raw_attr(struct raw *r, uint16_t type, const void *data, size_t dlen)
{
	raw_attr_len(r, type, (uint16_t)(4 + dlen), data, dlen);
}

static void
raw_str(struct raw *r, uint16_t type, const char *s)
{
	raw_attr(r, type, s, strlen(s) + 1);
}

static void
raw_u64(struct raw *r, uint16_t type, uint64_t v)
{
	raw_attr(r, type, &v, sizeof(v));
}

static void
raw_nest(struct raw *r, uint16_t type)
{
	uint16_t t = type | 0x8000;	/* NLA_F_NESTED, as libmnl sets it */

	r->nest[r->depth++] = r->len;
	memcpy(r->b + r->len + 2, &t, 2);
	r->len += 4;
}

static void
raw_end(struct raw *r)
{
	size_t start = r->nest[--r->depth];
	uint16_t l = (uint16_t)(r->len - start);

	memcpy(r->b + start, &l, 2);
}

/* Sets the header length to the bytes written (or to len if nonzero). */
static size_t
raw_done(struct raw *r)
{
	uint32_t l = (uint32_t)r->len;

	memcpy(r->b, &l, 4);
	return r->len;
}

/* --- round trips --------------------------------------------------------- */

static void
test_cmd_roundtrip(void **state)
{
	static const char *const in[] = { "show", "flows", "eni",
	    "076bc493b822cd32f", "limit", "10" };
	struct ctl_msg *m = malloc(sizeof(*m));
	const char *words[CTL_WORDS_MAX], *why = NULL;
	struct ctl_hdr h;
	const void *data;
	unsigned n = 0;
	size_t len;

	(void)state;
	assert_int_equal(ctl_msg_cmd(m, 42, 6, in), 0);
	data = ctl_msg_finish(m, &len);
	assert_int_equal(len % 4, 0);
	assert_int_equal(ctl_msg_check(data, len, &h, &why), 0);
	assert_int_equal(h.type, CTL_MSG_CMD);
	assert_int_equal(h.version, CTL_VERSION);
	assert_int_equal(h.seq, 42);
	assert_int_equal(h.len, len);
	assert_int_equal(ctl_decode_cmd(data, len, words, CTL_WORDS_MAX, &n, &why), 0);
	assert_int_equal(n, 6);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(words[i], in[i]);
	/* The same datagram is not an error or a record message. */
	assert_int_equal(ctl_decode_records(data, len, NULL, NULL, &why), -EBADRQC);
	free(m);
}

/*
 * Messages built in buffers full of stale bytes (a reused buffer, or
 * malloc's) are byte for byte what the raw writer makes from zeroed memory:
 * the padding after strings and bools carries nothing of what was there.
 */
static void
test_zeroed_padding(void **state)
{
	static const char *const in[] = { "a", "bc", "def", "ghij" };
	struct ctl_msg *m = malloc(sizeof(*m)), *one = malloc(sizeof(*one));
	struct raw *r = malloc(sizeof(*r));
	const void *data;
	size_t len;

	(void)state;
	memset(m, 0xa5, sizeof(*m));
	assert_int_equal(ctl_msg_cmd(m, 7, 4, in), 0);
	data = ctl_msg_finish(m, &len);
	raw_init(r, CTL_MSG_CMD);
	for (unsigned i = 0; i < 4; i++)
		raw_str(r, CTL_A_WORD, in[i]);
	assert_int_equal(len, raw_done(r));
	assert_memory_equal(data, r->b, len);

	memset(m, 0x5a, sizeof(*m));
	assert_int_equal(ctl_msg_error(m, 7, ENOENT, "no ENI 1"), 0);
	data = ctl_msg_finish(m, &len);
	raw_init(r, CTL_MSG_ERROR);
	{
		uint32_t e = ENOENT;

		raw_attr(r, CTL_A_ERRNO, &e, sizeof(e));
	}
	raw_str(r, CTL_A_ERRTEXT, "no ENI 1");
	assert_int_equal(len, raw_done(r));
	assert_memory_equal(data, r->b, len);

	/* A record built apart and appended, as the daemon does. */
	memset(m, 0xa5, sizeof(*m));
	memset(one, 0x5a, sizeof(*one));
	ctl_msg_init(m, CTL_MSG_RECORD, 7);
	ctl_msg_init(one, CTL_MSG_RECORD, 7);
	assert_int_equal(ctl_msg_rec_begin(one, "ab"), 0);
	assert_int_equal(ctl_msg_rec_bool(one, "up", true), 0);
	assert_int_equal(ctl_msg_rec_str(one, "name", "xyz12"), 0);
	assert_int_equal(ctl_msg_rec_end(one), 0);
	assert_int_equal(ctl_msg_append(m, one), 0);
	data = ctl_msg_finish(m, &len);
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "ab");
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "up");
	raw_attr(r, CTL_FA_BOOL, "\1", 1);
	raw_end(r);
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "name");
	raw_str(r, CTL_FA_STR, "xyz12");
	raw_end(r);
	raw_end(r);
	assert_int_equal(len, raw_done(r));
	assert_memory_equal(data, r->b, len);
	free(r);
	free(one);
	free(m);
}

static void
test_error_roundtrip(void **state)
{
	struct ctl_msg *m = malloc(sizeof(*m));
	const char *text, *why;
	const void *data;
	size_t len;
	int err;

	(void)state;
	assert_int_equal(ctl_msg_error(m, 3, -EPERM, "permission denied: x"), 0);
	data = ctl_msg_finish(m, &len);
	assert_int_equal(ctl_decode_error(data, len, &err, &text, &why), 0);
	assert_int_equal(err, EPERM);
	assert_string_equal(text, "permission denied: x");

	assert_int_equal(ctl_msg_error(m, 3, ENOENT, NULL), 0);
	data = ctl_msg_finish(m, &len);
	assert_int_equal(ctl_decode_error(data, len, &err, &text, &why), 0);
	assert_int_equal(err, ENOENT);
	assert_string_equal(text, "");

	ctl_msg_done(m, 9);
	data = ctl_msg_finish(m, &len);
	assert_int_equal(len, sizeof(struct ctl_hdr));
	{
		struct ctl_hdr h;

		assert_int_equal(ctl_msg_check(data, len, &h, NULL), 0);
		assert_int_equal(h.type, CTL_MSG_DONE);
		assert_int_equal(h.seq, 9);
	}
	free(m);
}

struct collect {
	unsigned	 nrec;
	char		 types[8][16];
	unsigned	 nfields[8];
	struct ctl_field f[8][8];
	char		 strs[8][8][32];
	int		 fail_at;	/* return an error at this record, -1 never */
};

static int
collect_cb(const struct ctl_record *rec, void *arg)
{
	struct collect *c = arg;
	unsigned i = c->nrec;

	if ((int)i == c->fail_at)
		return -ECANCELED;
	if (i >= 8)
		return 0;
	snprintf(c->types[i], sizeof(c->types[i]), "%s", rec->type);
	c->nfields[i] = rec->nfields;
	for (unsigned j = 0; j < rec->nfields && j < 8; j++) {
		c->f[i][j] = rec->field[j];
		if (rec->field[j].type == CTL_FT_STR) {
			snprintf(c->strs[i][j], 32, "%s", rec->field[j].v.str);
			c->f[i][j].v.str = c->strs[i][j];
		}
		c->f[i][j].name = NULL;	/* points into the message */
	}
	c->nrec++;
	return 0;
}

static void
test_records_roundtrip(void **state)
{
	struct ctl_msg *m = malloc(sizeof(*m)), *one = malloc(sizeof(*one));
	struct collect c = { .fail_at = -1 };
	const void *data;
	size_t len;

	(void)state;
	ctl_msg_init(m, CTL_MSG_RECORD, 5);
	assert_int_equal(ctl_msg_rec_begin(m, "eni"), 0);
	assert_int_equal(ctl_msg_rec_str(m, "eni", "076bc493b822cd32f"), 0);
	assert_int_equal(ctl_msg_rec_u64(m, "packets_in", UINT64_MAX), 0);
	assert_int_equal(ctl_msg_rec_s64(m, "delta", -5), 0);
	assert_int_equal(ctl_msg_rec_bool(m, "up", true), 0);
	assert_int_equal(ctl_msg_rec_str(m, "empty", ""), 0);
	assert_int_equal(ctl_msg_rec_end(m), 0);
	/* A second record, built apart and appended. */
	ctl_msg_init(one, CTL_MSG_RECORD, 5);
	assert_int_equal(ctl_msg_rec_begin(one, "route"), 0);
	assert_int_equal(ctl_msg_rec_bool(one, "ok", false), 0);
	assert_int_equal(ctl_msg_rec_end(one), 0);
	assert_int_equal(ctl_msg_append(m, one), 0);
	/* A record with no fields at all is fine. */
	assert_int_equal(ctl_msg_rec_begin(m, "bare"), 0);
	assert_int_equal(ctl_msg_rec_end(m), 0);

	data = ctl_msg_finish(m, &len);
	assert_int_equal(ctl_decode_records(data, len, collect_cb, &c, NULL), 0);
	assert_int_equal(c.nrec, 3);
	assert_string_equal(c.types[0], "eni");
	assert_int_equal(c.nfields[0], 5);
	assert_int_equal(c.f[0][0].type, CTL_FT_STR);
	assert_string_equal(c.f[0][0].v.str, "076bc493b822cd32f");
	assert_int_equal(c.f[0][1].type, CTL_FT_U64);
	assert_true(c.f[0][1].v.u64 == UINT64_MAX);
	assert_int_equal(c.f[0][2].type, CTL_FT_S64);
	assert_true(c.f[0][2].v.s64 == -5);
	assert_int_equal(c.f[0][3].type, CTL_FT_BOOL);
	assert_true(c.f[0][3].v.b);
	assert_string_equal(c.f[0][4].v.str, "");
	assert_string_equal(c.types[1], "route");
	assert_false(c.f[1][0].v.b);
	assert_string_equal(c.types[2], "bare");
	assert_int_equal(c.nfields[2], 0);

	/* A callback error stops the walk and comes back as it was. */
	memset(&c, 0, sizeof(c));
	c.fail_at = 1;
	assert_int_equal(ctl_decode_records(data, len, collect_cb, &c, NULL), -ECANCELED);
	assert_int_equal(c.nrec, 1);
	free(m);
	free(one);
}

/* Field names and order survive exactly; the decoder keeps the order. */
static int
order_cb(const struct ctl_record *rec, void *arg)
{
	unsigned *n = arg;
	char want[16];

	for (unsigned i = 0; i < rec->nfields; i++) {
		snprintf(want, sizeof(want), "f%02u", i);
		assert_string_equal(rec->field[i].name, want);
		assert_true(rec->field[i].v.u64 == i);
	}
	*n = rec->nfields;
	return 0;
}

static void
test_records_max_fields(void **state)
{
	struct ctl_msg *m = malloc(sizeof(*m));
	const void *data;
	size_t len;
	unsigned n = 0;
	char name[16];

	(void)state;
	ctl_msg_init(m, CTL_MSG_RECORD, 1);
	assert_int_equal(ctl_msg_rec_begin(m, "wide"), 0);
	for (unsigned i = 0; i < CTL_REC_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%02u", i);
		assert_int_equal(ctl_msg_rec_u64(m, name, i), 0);
	}
	assert_int_equal(ctl_msg_rec_end(m), 0);
	data = ctl_msg_finish(m, &len);
	assert_int_equal(ctl_decode_records(data, len, order_cb, &n, NULL), 0);
	assert_int_equal(n, CTL_REC_FIELDS_MAX);

	/* One more field is too many for a receiver. */
	ctl_msg_init(m, CTL_MSG_RECORD, 1);
	assert_int_equal(ctl_msg_rec_begin(m, "wide"), 0);
	for (unsigned i = 0; i <= CTL_REC_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%02u", i);
		assert_int_equal(ctl_msg_rec_u64(m, name, i), 0);
	}
	assert_int_equal(ctl_msg_rec_end(m), 0);
	data = ctl_msg_finish(m, &len);
	assert_int_equal(ctl_decode_records(data, len, order_cb, &n, NULL), -EBADMSG);
	free(m);
}

/* --- bounded building ---------------------------------------------------- */

static void
test_build_bounds(void **state)
{
	struct ctl_msg *m = malloc(sizeof(*m)), *big = malloc(sizeof(*big));
	char *huge = malloc(CTL_MSG_MAX + 1);
	const char *words[CTL_WORDS_MAX];
	size_t before, len;
	const void *data;
	unsigned nrec = 0;
	int r;

	(void)state;
	memset(huge, 'x', CTL_MSG_MAX);
	huge[CTL_MSG_MAX] = '\0';

	/* A field that cannot fit fails and leaves the message as it was. */
	ctl_msg_init(m, CTL_MSG_RECORD, 1);
	assert_int_equal(ctl_msg_rec_begin(m, "t"), 0);
	before = ctl_msg_payload_len(m);
	assert_int_equal(ctl_msg_rec_str(m, "s", huge), -EMSGSIZE);
	assert_int_equal(ctl_msg_payload_len(m), before);
	ctl_msg_rec_cancel(m);
	assert_int_equal(ctl_msg_payload_len(m), 0);

	/* Fill with records until one does not fit: still a valid message. */
	ctl_msg_init(m, CTL_MSG_RECORD, 1);
	for (;;) {
		if ((r = ctl_msg_rec_begin(m, "flow")) < 0)
			break;
		if ((r = ctl_msg_rec_str(m, "src", "192.0.2.100")) < 0 ||
		    (r = ctl_msg_rec_u64(m, "sport", 40000)) < 0) {
			ctl_msg_rec_cancel(m);
			break;
		}
		assert_int_equal(ctl_msg_rec_end(m), 0);
		nrec++;
	}
	assert_int_equal(r, -EMSGSIZE);
	assert_true(nrec > 100);
	data = ctl_msg_finish(m, &len);
	assert_true(len <= CTL_MSG_MAX);
	assert_int_equal(ctl_decode_records(data, len, NULL, NULL, NULL), 0);

	/* Appending to a full message fails without changing it. */
	ctl_msg_init(big, CTL_MSG_RECORD, 1);
	assert_int_equal(ctl_msg_rec_begin(big, "flow"), 0);
	assert_int_equal(ctl_msg_rec_str(big, "x", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"), 0);
	assert_int_equal(ctl_msg_rec_end(big), 0);
	before = ctl_msg_payload_len(m);
	assert_int_equal(ctl_msg_append(m, big), -EMSGSIZE);
	assert_int_equal(ctl_msg_payload_len(m), before);

	/* Misuse is refused, not undefined. */
	ctl_msg_init(m, CTL_MSG_RECORD, 1);
	assert_int_equal(ctl_msg_rec_u64(m, "x", 1), -EINVAL);
	assert_int_equal(ctl_msg_rec_end(m), -EINVAL);
	assert_int_equal(ctl_msg_rec_begin(m, "a"), 0);
	assert_int_equal(ctl_msg_rec_begin(m, "b"), -EINVAL);

	/* A command too long for one message. */
	for (int i = 0; i < CTL_WORDS_MAX; i++)
		words[i] = huge;
	assert_int_equal(ctl_msg_cmd(m, 1, 2, words), -EMSGSIZE);
	free(m);
	free(big);
	free(huge);
}

/* --- malformed messages -------------------------------------------------- */

static int
decode_cmd_raw(struct raw *r, const char **why)
{
	const char *words[CTL_WORDS_MAX];
	unsigned n;

	return ctl_decode_cmd(r->b, raw_done(r), words, CTL_WORDS_MAX, &n, why);
}

static void
test_bad_header(void **state)
{
	struct raw *r = malloc(sizeof(*r));
	const char *words[CTL_WORDS_MAX], *why = NULL;
	struct ctl_hdr h;
	unsigned n;
	uint32_t l;

	(void)state;
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, "help");
	raw_done(r);
	assert_int_equal(ctl_msg_check(r->b, r->len, &h, &why), 0);

	/* Shorter than the header, down to nothing. */
	for (size_t len = 0; len < sizeof(struct ctl_hdr); len++)
		assert_int_equal(ctl_msg_check(r->b, len, &h, &why), -EBADMSG);
	/* Another version. */
	r->b[6] = CTL_VERSION + 1;
	assert_int_equal(ctl_msg_check(r->b, r->len, &h, &why), -EPROTONOSUPPORT);
	assert_non_null(why);
	r->b[6] = CTL_VERSION;
	/* The length field disagrees with the datagram, either way. */
	l = (uint32_t)r->len + 4;
	memcpy(r->b, &l, 4);
	assert_int_equal(ctl_msg_check(r->b, r->len, &h, &why), -EBADMSG);
	assert_int_equal(ctl_decode_cmd(r->b, r->len, words, CTL_WORDS_MAX, &n, &why),
	    -EBADMSG);
	l = (uint32_t)r->len - 4;
	memcpy(r->b, &l, 4);
	assert_int_equal(ctl_msg_check(r->b, r->len, &h, &why), -EBADMSG);
	/* Not padded to 4 bytes. */
	l = (uint32_t)r->len + 1;
	memcpy(r->b, &l, 4);
	assert_int_equal(ctl_msg_check(r->b, r->len + 1, &h, &why), -EBADMSG);
	/* Over the maximum size. */
	l = CTL_MSG_MAX + 4;
	memcpy(r->b, &l, 4);
	assert_int_equal(ctl_msg_check(r->b, CTL_MSG_MAX + 4, &h, &why), -EMSGSIZE);
	/* Unaligned buffer: a caller bug, refused. */
	assert_int_equal(ctl_msg_check(r->b + 1, 16, &h, &why), -EINVAL);
	/* Unknown and unexpected types. */
	raw_init(r, 99);
	raw_str(r, CTL_A_WORD, "help");
	assert_int_equal(decode_cmd_raw(r, &why), -EBADRQC);
	raw_init(r, CTL_MSG_RECORD);
	raw_str(r, CTL_A_WORD, "help");
	assert_int_equal(decode_cmd_raw(r, &why), -EBADRQC);
	free(r);
}

static void
test_bad_words(void **state)
{
	struct raw *r = malloc(sizeof(*r));
	const char *words[CTL_WORDS_MAX], *why = NULL;
	char longw[CTL_WORD_MAX + 1];
	unsigned n = 0;
	uint32_t u = 1;

	(void)state;
	/* A word without its NUL. */
	raw_init(r, CTL_MSG_CMD);
	raw_attr(r, CTL_A_WORD, "show", 4);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	/* A NUL inside a word. */
	raw_init(r, CTL_MSG_CMD);
	raw_attr(r, CTL_A_WORD, "sh\0w", 5);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	assert_string_equal(why, "string attribute with an embedded NUL");
	/* An empty word, and an empty payload. */
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, "");
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	raw_init(r, CTL_MSG_CMD);
	raw_attr(r, CTL_A_WORD, "", 0);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	/* Overlong word. */
	memset(longw, 'a', CTL_WORD_MAX);
	longw[CTL_WORD_MAX] = '\0';
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, longw);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	longw[CTL_WORD_MAX - 1] = '\0';	/* the longest allowed */
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, longw);
	assert_int_equal(decode_cmd_raw(r, &why), 0);
	/* Too many words, and none. */
	raw_init(r, CTL_MSG_CMD);
	for (int i = 0; i <= CTL_WORDS_MAX; i++)
		raw_str(r, CTL_A_WORD, "w");
	assert_int_equal(decode_cmd_raw(r, &why), -E2BIG);
	raw_init(r, CTL_MSG_CMD);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	/* Unknown attributes are skipped, known ones still read in order. */
	raw_init(r, CTL_MSG_CMD);
	raw_u64(r, 200, 1);
	raw_str(r, CTL_A_WORD, "show");
	raw_attr(r, CTL_A__MAX + 5, "", 0);
	raw_str(r, CTL_A_WORD, "status");
	assert_int_equal(ctl_decode_cmd(r->b, raw_done(r), words, CTL_WORDS_MAX, &n,
	    &why), 0);
	assert_int_equal(n, 2);
	assert_string_equal(words[1], "status");
	/* A known attribute of the wrong size, though not ours to read here. */
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, "show");
	raw_attr(r, CTL_A_ERRNO, &u, 2);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	free(r);
}

static void
test_bad_attributes(void **state)
{
	struct raw *r = malloc(sizeof(*r));
	const char *why = NULL;
	size_t len;

	(void)state;
	/* nla_len below the attribute header. */
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, "show");
	raw_attr_len(r, CTL_A_WORD, 2, "", 0);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	/* nla_len past the end of the message. */
	raw_init(r, CTL_MSG_CMD);
	raw_attr_len(r, CTL_A_WORD, 40, "show", 5);
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	/* Trailing bytes that are not an attribute. */
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, "show");
	r->len += 4;
	assert_int_equal(decode_cmd_raw(r, &why), -EBADMSG);
	/* Every truncation of a valid message, with a header that agrees. */
	raw_init(r, CTL_MSG_CMD);
	raw_str(r, CTL_A_WORD, "show");
	raw_str(r, CTL_A_WORD, "flows");
	len = r->len;
	for (size_t cut = sizeof(struct ctl_hdr) + 4; cut < len; cut += 4) {
		r->len = cut;
		/* Either it ends on an attribute boundary and is valid, or not. */
		int ret = decode_cmd_raw(r, &why);

		assert_true(ret == 0 || ret == -EBADMSG);
	}
	free(r);
}

static int
decode_recs_raw(struct raw *r, const char **why)
{
	return ctl_decode_records(r->b, raw_done(r), NULL, NULL, why);
}

static void
test_bad_records(void **state)
{
	struct raw *r = malloc(sizeof(*r));
	struct collect c = { .fail_at = -1 };
	const char *why = NULL;
	uint32_t u32 = 1;
	uint8_t b = 2;

	(void)state;
	/* No type. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	assert_string_equal(why, "record without a type");
	/* Two types, and an empty one. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "a");
	raw_str(r, CTL_RA_TYPE, "b");
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "");
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	/* A field without a name. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "t");
	raw_nest(r, CTL_RA_FIELD);
	raw_u64(r, CTL_FA_U64, 1);
	raw_end(r);
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	assert_string_equal(why, "field without a name");
	/* A field with two values. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "t");
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "x");
	raw_u64(r, CTL_FA_U64, 1);
	raw_str(r, CTL_FA_STR, "y");
	raw_end(r);
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	/* A u64 of four bytes. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "t");
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "x");
	raw_attr(r, CTL_FA_U64, &u32, 4);
	raw_end(r);
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	/* A boolean that is 2. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "t");
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "x");
	raw_attr(r, CTL_FA_BOOL, &b, 1);
	raw_end(r);
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	/* The same field name twice. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "t");
	for (int i = 0; i < 2; i++) {
		raw_nest(r, CTL_RA_FIELD);
		raw_str(r, CTL_FA_NAME, "x");
		raw_u64(r, CTL_FA_U64, 1);
		raw_end(r);
	}
	raw_end(r);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	/* A nest whose inner attribute runs past the nest. */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_attr_len(r, CTL_RA_TYPE, 64, "t", 2);
	raw_end(r);
	raw_str(r, 0, "padding to keep the outer walk inside the message");
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);
	/* A nest too short for an attribute header. */
	raw_init(r, CTL_MSG_RECORD);
	raw_attr(r, CTL_A_REC | 0x8000, "ab", 2);
	assert_int_equal(decode_recs_raw(r, &why), -EBADMSG);

	/*
	 * A field whose value is of a type from the future is skipped; the
	 * record and its other fields stay.
	 */
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "t");
	raw_str(r, 77, "unknown record attribute");
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "future");
	raw_u64(r, CTL_FA__MAX + 3, 1);
	raw_end(r);
	raw_nest(r, CTL_RA_FIELD);
	raw_str(r, CTL_FA_NAME, "now");
	raw_u64(r, CTL_FA_U64, 12);
	raw_end(r);
	raw_end(r);
	assert_int_equal(ctl_decode_records(r->b, raw_done(r), collect_cb, &c, &why), 0);
	assert_int_equal(c.nrec, 1);
	assert_int_equal(c.nfields[0], 1);
	assert_true(c.f[0][0].v.u64 == 12);

	/* Validation comes first: no callback for a message bad further on. */
	memset(&c, 0, sizeof(c));
	c.fail_at = -1;
	raw_init(r, CTL_MSG_RECORD);
	raw_nest(r, CTL_A_REC);
	raw_str(r, CTL_RA_TYPE, "good");
	raw_end(r);
	raw_nest(r, CTL_A_REC);
	raw_end(r);
	assert_int_equal(ctl_decode_records(r->b, raw_done(r), collect_cb, &c, &why),
	    -EBADMSG);
	assert_int_equal(c.nrec, 0);
	free(r);
}

static void
test_bad_error_msg(void **state)
{
	struct raw *r = malloc(sizeof(*r));
	const char *text, *why;
	uint32_t e;
	int err;

	(void)state;
	/* No errno. */
	raw_init(r, CTL_MSG_ERROR);
	raw_str(r, CTL_A_ERRTEXT, "oops");
	assert_int_equal(ctl_decode_error(r->b, raw_done(r), &err, &text, &why), -EBADMSG);
	/* errno 0, and absurd. */
	e = 0;
	raw_init(r, CTL_MSG_ERROR);
	raw_attr(r, CTL_A_ERRNO, &e, 4);
	assert_int_equal(ctl_decode_error(r->b, raw_done(r), &err, &text, &why), -EBADMSG);
	e = 100000;
	raw_init(r, CTL_MSG_ERROR);
	raw_attr(r, CTL_A_ERRNO, &e, 4);
	assert_int_equal(ctl_decode_error(r->b, raw_done(r), &err, &text, &why), -EBADMSG);
	/* errno of the wrong width. */
	raw_init(r, CTL_MSG_ERROR);
	raw_u64(r, CTL_A_ERRNO, EPERM);
	assert_int_equal(ctl_decode_error(r->b, raw_done(r), &err, &text, &why), -EBADMSG);
	/* Text without its NUL. */
	e = EPERM;
	raw_init(r, CTL_MSG_ERROR);
	raw_attr(r, CTL_A_ERRNO, &e, 4);
	raw_attr(r, CTL_A_ERRTEXT, "abc", 3);
	assert_int_equal(ctl_decode_error(r->b, raw_done(r), &err, &text, &why), -EBADMSG);
	free(r);
}

/* Random damage to valid messages must be refused or read, never crash. */
static void
test_damage(void **state)
{
	struct ctl_msg *m = malloc(sizeof(*m));
	struct raw *r = malloc(sizeof(*r));
	const char *words[CTL_WORDS_MAX], *text, *why;
	unsigned n, seed = 1;
	const void *data;
	size_t len;
	int err;

	(void)state;
	ctl_msg_init(m, CTL_MSG_RECORD, 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ctl_msg_rec_begin(m, "flow"), 0);
		assert_int_equal(ctl_msg_rec_str(m, "src", "192.0.2.1"), 0);
		assert_int_equal(ctl_msg_rec_u64(m, "sport", 1234), 0);
		assert_int_equal(ctl_msg_rec_bool(m, "b", true), 0);
		assert_int_equal(ctl_msg_rec_end(m), 0);
	}
	data = ctl_msg_finish(m, &len);
	for (int iter = 0; iter < 20000; iter++) {
		int flips = 1 + (int)(rand_r(&seed) % 4);
		size_t cut;

		memcpy(r->b, data, len);
		for (int f = 0; f < flips; f++) {
			size_t at = sizeof(struct ctl_hdr) + rand_r(&seed) %
			    (len - sizeof(struct ctl_hdr));

			r->b[at] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
		}
		cut = len - 4 * (rand_r(&seed) % 3);
		memcpy(r->b, &(uint32_t){ (uint32_t)cut }, 4);
		(void)ctl_decode_records(r->b, cut, NULL, NULL, &why);
		r->b[4] = CTL_MSG_CMD;
		(void)ctl_decode_cmd(r->b, cut, words, CTL_WORDS_MAX, &n, &why);
		r->b[4] = CTL_MSG_ERROR;
		(void)ctl_decode_error(r->b, cut, &err, &text, &why);
	}
	free(m);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_roundtrip),
		cmocka_unit_test(test_error_roundtrip),
		cmocka_unit_test(test_records_roundtrip),
		cmocka_unit_test(test_records_max_fields),
		cmocka_unit_test(test_build_bounds),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_words),
		cmocka_unit_test(test_bad_attributes),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_bad_error_msg),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_zeroed_padding),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
