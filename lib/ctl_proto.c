/*
 * The control protocol's codec and client socket helpers (see ctl.h).
 *
 * Building uses libmnl's *_check helpers, so running out of room is an
 * error and never a truncation.  Parsing walks attributes with a policy
 * table per nesting level: unknown types are skipped, known ones go through
 * mnl_attr_validate, and because libmnl's walk silently stops at the first
 * attribute that does not fit, every walk also checks that it consumed the
 * whole payload: a truncated attribute is an error, not an early end.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "ctl_proto.h"

_Static_assert(sizeof(struct ctl_hdr) == 12, "ctl_hdr is a wire struct");
_Static_assert(sizeof(struct ctl_hdr) % MNL_ALIGNTO == 0,
    "attributes after the header stay aligned");
_Static_assert(CTL_MSG_SCRATCH == MNL_NLMSG_HDRLEN, "scratch header size");
_Static_assert(CTL_MSG_MAX <= UINT16_MAX, "a record nest length fits in nla_len");
_Static_assert(CTL_MSG_MAX % MNL_ALIGNTO == 0, "maximum message size is aligned");

#define MSG_CAP		(CTL_MSG_SCRATCH + CTL_MSG_MAX)
#define HDR_OFF		CTL_MSG_SCRATCH
#define ATTR_OFF	(CTL_MSG_SCRATCH + sizeof(struct ctl_hdr))

static struct nlmsghdr *
msg_nlh(struct ctl_msg *m)
{
	return (struct nlmsghdr *)(void *)m->buf;
}

static const struct nlmsghdr *
msg_cnlh(const struct ctl_msg *m)
{
	return (const struct nlmsghdr *)(const void *)m->buf;
}

static struct ctl_hdr *
msg_hdr(struct ctl_msg *m)
{
	return (struct ctl_hdr *)(void *)(m->buf + HDR_OFF);
}

/*
 * Every message, in the daemon and in gwlbctl, starts here, from zeroed
 * memory: libmnl before 1.0.5 leaves the padding after an attribute (a
 * string, a bool) as it finds it, and a reused buffer would otherwise send
 * bytes of an earlier message, perhaps another client's reply.
 */
void
ctl_msg_init(struct ctl_msg *m, enum ctl_msg_type type, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct ctl_hdr *h;

	memset(m->buf, 0, sizeof(m->buf));
	m->rec_off = 0;
	nlh = mnl_nlmsg_put_header(m->buf);
	h = mnl_nlmsg_put_extra_header(nlh, sizeof(*h));
	h->type = (uint16_t)type;
	h->version = CTL_VERSION;
	h->flags = 0;
	h->seq = seq;
}

const void *
ctl_msg_finish(struct ctl_msg *m, size_t *len)
{
	struct ctl_hdr *h = msg_hdr(m);

	h->len = msg_nlh(m)->nlmsg_len - CTL_MSG_SCRATCH;
	*len = h->len;
	return h;
}

size_t
ctl_msg_payload_len(const struct ctl_msg *m)
{
	return msg_cnlh(m)->nlmsg_len - (ATTR_OFF);
}

int
ctl_msg_cmd(struct ctl_msg *m, uint32_t seq, unsigned n, const char *const *words)
{
	ctl_msg_init(m, CTL_MSG_CMD, seq);
	for (unsigned i = 0; i < n; i++)
		if (!mnl_attr_put_strz_check(msg_nlh(m), MSG_CAP, CTL_A_WORD, words[i]))
			return -EMSGSIZE;
	return 0;
}

int
ctl_msg_error(struct ctl_msg *m, uint32_t seq, int err, const char *text)
{
	ctl_msg_init(m, CTL_MSG_ERROR, seq);
	if (err < 0)
		err = -err;
	if (!mnl_attr_put_u32_check(msg_nlh(m), MSG_CAP, CTL_A_ERRNO, (uint32_t)err))
		return -EMSGSIZE;
	if (text && !mnl_attr_put_strz_check(msg_nlh(m), MSG_CAP, CTL_A_ERRTEXT, text))
		return -EMSGSIZE;
	return 0;
}

void
ctl_msg_done(struct ctl_msg *m, uint32_t seq)
{
	ctl_msg_init(m, CTL_MSG_DONE, seq);
}

int
ctl_msg_rec_begin(struct ctl_msg *m, const char *type)
{
	struct nlmsghdr *nlh = msg_nlh(m);
	struct nlattr *nest;

	if (m->rec_off)
		return -EINVAL;
	if (!(nest = mnl_attr_nest_start_check(nlh, MSG_CAP, CTL_A_REC)))
		return -EMSGSIZE;
	if (!mnl_attr_put_strz_check(nlh, MSG_CAP, CTL_RA_TYPE, type)) {
		mnl_attr_nest_cancel(nlh, nest);
		return -EMSGSIZE;
	}
	m->rec_off = (size_t)((unsigned char *)nest - m->buf);
	return 0;
}

static int
rec_field(struct ctl_msg *m, const char *name, uint16_t type, size_t len,
    const void *data)
{
	struct nlmsghdr *nlh = msg_nlh(m);
	struct nlattr *nest;

	if (!m->rec_off)
		return -EINVAL;
	if (!(nest = mnl_attr_nest_start_check(nlh, MSG_CAP, CTL_RA_FIELD)))
		return -EMSGSIZE;
	if (!mnl_attr_put_strz_check(nlh, MSG_CAP, CTL_FA_NAME, name) ||
	    !mnl_attr_put_check(nlh, MSG_CAP, type, len, data)) {
		mnl_attr_nest_cancel(nlh, nest);
		return -EMSGSIZE;
	}
	mnl_attr_nest_end(nlh, nest);
	return 0;
}

int
ctl_msg_rec_u64(struct ctl_msg *m, const char *name, uint64_t v)
{
	return rec_field(m, name, CTL_FA_U64, sizeof(v), &v);
}

int
ctl_msg_rec_s64(struct ctl_msg *m, const char *name, int64_t v)
{
	return rec_field(m, name, CTL_FA_S64, sizeof(v), &v);
}

int
ctl_msg_rec_str(struct ctl_msg *m, const char *name, const char *v)
{
	return rec_field(m, name, CTL_FA_STR, strlen(v) + 1, v);
}

int
ctl_msg_rec_bool(struct ctl_msg *m, const char *name, bool v)
{
	uint8_t b = v ? 1 : 0;

	return rec_field(m, name, CTL_FA_BOOL, sizeof(b), &b);
}

int
ctl_msg_rec_end(struct ctl_msg *m)
{
	if (!m->rec_off)
		return -EINVAL;
	mnl_attr_nest_end(msg_nlh(m), (struct nlattr *)(void *)(m->buf + m->rec_off));
	m->rec_off = 0;
	return 0;
}

void
ctl_msg_rec_cancel(struct ctl_msg *m)
{
	if (!m->rec_off)
		return;
	mnl_attr_nest_cancel(msg_nlh(m), (struct nlattr *)(void *)(m->buf + m->rec_off));
	m->rec_off = 0;
}

int
ctl_msg_append(struct ctl_msg *dst, const struct ctl_msg *src)
{
	struct nlmsghdr *nlh = msg_nlh(dst);
	size_t n = ctl_msg_payload_len(src);

	if (src->rec_off || dst->rec_off)
		return -EINVAL;
	if (MNL_ALIGN(nlh->nlmsg_len) + n > MSG_CAP)
		return -EMSGSIZE;
	memcpy(mnl_nlmsg_get_payload_tail(nlh), src->buf + ATTR_OFF, n);
	nlh->nlmsg_len = MNL_ALIGN(nlh->nlmsg_len) + (uint32_t)n;
	return 0;
}

/* --- decoding ------------------------------------------------------------ */

typedef int (*attr_fn)(const struct nlattr *a, uint16_t type, void *arg);

struct walk {
	const unsigned char		*start;
	size_t				 end;	/* aligned end of the last attribute */
	const enum mnl_attr_data_type	*policy;
	unsigned			 max;
	attr_fn				 fn;
	void				*arg;
	int				 err;
	const char			*why;
};

static int
walk_cb(const struct nlattr *a, void *data)
{
	struct walk *w = data;
	uint16_t type = mnl_attr_get_type(a);
	enum mnl_attr_data_type pt;
	int r;

	w->end = (size_t)((const unsigned char *)a - w->start) + MNL_ALIGN(a->nla_len);
	if (type >= w->max || (pt = w->policy[type]) == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;	/* from a newer peer: skip it */
	if (mnl_attr_validate(a, pt) < 0) {
		w->err = -EBADMSG;
		w->why = "attribute with a bad length";
		return MNL_CB_ERROR;
	}
	if (pt == MNL_TYPE_NUL_STRING &&
	    strlen(mnl_attr_get_str(a)) + 1 != mnl_attr_get_payload_len(a)) {
		w->err = -EBADMSG;
		w->why = "string attribute with an embedded NUL";
		return MNL_CB_ERROR;
	}
	if ((r = w->fn(a, type, w->arg)) < 0) {
		w->err = r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* why is only written on failure, and then always. */
static int
attr_walk(const void *payload, size_t len, const enum mnl_attr_data_type *policy,
    unsigned max, attr_fn fn, void *arg, const char **why)
{
	struct walk w = {
		.start = payload, .policy = policy, .max = max, .fn = fn,
		.arg = arg, .why = "malformed attribute",
	};
	int r;

	r = mnl_attr_parse_payload(payload, len, walk_cb, &w);
	if (r == MNL_CB_ERROR) {
		*why = w.why;
		return w.err ? w.err : -EBADMSG;
	}
	if (w.end != len) {
		*why = "truncated or misaligned attribute";
		return -EBADMSG;
	}
	return 0;
}

int
ctl_msg_check(const void *buf, size_t len, struct ctl_hdr *hdr, const char **why)
{
	const char *why_unused;

	if (!why)
		why = &why_unused;
	if ((uintptr_t)buf % MNL_ALIGNTO) {
		*why = "unaligned buffer";
		return -EINVAL;
	}
	if (len < sizeof(*hdr)) {
		*why = "message shorter than the header";
		return -EBADMSG;
	}
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->version != CTL_VERSION) {
		*why = "unsupported protocol version";
		return -EPROTONOSUPPORT;
	}
	if (len > CTL_MSG_MAX) {
		*why = "message longer than the maximum";
		return -EMSGSIZE;
	}
	if (hdr->len != len) {
		*why = "length field does not match the message";
		return -EBADMSG;
	}
	if (len % MNL_ALIGNTO) {
		*why = "message not padded to 4 bytes";
		return -EBADMSG;
	}
	return 0;
}

static int
check_type(const void *buf, size_t len, enum ctl_msg_type type, const char **why)
{
	struct ctl_hdr h;
	int r;

	if ((r = ctl_msg_check(buf, len, &h, why)) < 0)
		return r;
	if (h.type != type) {
		*why = "unexpected message type";
		return -EBADRQC;
	}
	return 0;
}

static const enum mnl_attr_data_type top_policy[CTL_A__MAX] = {
	[CTL_A_WORD] = MNL_TYPE_NUL_STRING,
	[CTL_A_ERRNO] = MNL_TYPE_U32,
	[CTL_A_ERRTEXT] = MNL_TYPE_NUL_STRING,
	[CTL_A_REC] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type rec_policy[CTL_RA__MAX] = {
	[CTL_RA_TYPE] = MNL_TYPE_NUL_STRING,
	[CTL_RA_FIELD] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type field_policy[CTL_FA__MAX] = {
	[CTL_FA_NAME] = MNL_TYPE_NUL_STRING,
	[CTL_FA_U64] = MNL_TYPE_U64,
	[CTL_FA_S64] = MNL_TYPE_U64,
	[CTL_FA_STR] = MNL_TYPE_NUL_STRING,
	[CTL_FA_BOOL] = MNL_TYPE_U8,
};

#define PAYLOAD(buf)	((const unsigned char *)(buf) + sizeof(struct ctl_hdr))
#define PAYLOAD_LEN(len) ((len) - sizeof(struct ctl_hdr))

struct cmd_ctx {
	const char	**words;
	unsigned	 max;
	unsigned	 n;
	const char	*why;
};

static int
cmd_attr(const struct nlattr *a, uint16_t type, void *arg)
{
	struct cmd_ctx *c = arg;
	const char *s = mnl_attr_get_str(a);

	if (type != CTL_A_WORD)
		return 0;
	if (*s == '\0' || strlen(s) >= CTL_WORD_MAX) {
		c->why = "empty or overlong word";
		return -EBADMSG;
	}
	if (c->n >= c->max) {
		c->why = "too many words";
		return -E2BIG;
	}
	c->words[c->n++] = s;
	return 0;
}

int
ctl_decode_cmd(const void *buf, size_t len, const char **words, unsigned max,
    unsigned *n, const char **why)
{
	struct cmd_ctx c = { .words = words, .max = max };
	const char *why_unused;
	int r;

	if (!why)
		why = &why_unused;
	if ((r = check_type(buf, len, CTL_MSG_CMD, why)) < 0)
		return r;
	r = attr_walk(PAYLOAD(buf), PAYLOAD_LEN(len), top_policy, CTL_A__MAX,
	    cmd_attr, &c, why);
	if (r < 0) {
		if (c.why)
			*why = c.why;
		return r;
	}
	if (c.n == 0) {
		*why = "command without words";
		return -EBADMSG;
	}
	*n = c.n;
	return 0;
}

struct err_ctx {
	int		 err;
	const char	*text;
};

static int
err_attr(const struct nlattr *a, uint16_t type, void *arg)
{
	struct err_ctx *e = arg;

	if (type == CTL_A_ERRNO)
		e->err = (int)mnl_attr_get_u32(a);
	else if (type == CTL_A_ERRTEXT)
		e->text = mnl_attr_get_str(a);
	return 0;
}

int
ctl_decode_error(const void *buf, size_t len, int *err, const char **text,
    const char **why)
{
	struct err_ctx e = { .err = 0, .text = "" };
	const char *why_unused;
	int r;

	if (!why)
		why = &why_unused;
	if ((r = check_type(buf, len, CTL_MSG_ERROR, why)) < 0)
		return r;
	r = attr_walk(PAYLOAD(buf), PAYLOAD_LEN(len), top_policy, CTL_A__MAX,
	    err_attr, &e, why);
	if (r < 0)
		return r;
	if (e.err <= 0 || e.err >= 4096) {
		*why = "error message without a valid errno";
		return -EBADMSG;
	}
	*err = e.err;
	*text = e.text;
	return 0;
}

struct field_ctx {
	struct ctl_field f;
	bool		 named;
	bool		 valued;
	const char	*why;
};

static int
field_attr(const struct nlattr *a, uint16_t type, void *arg)
{
	struct field_ctx *fc = arg;

	if (type == CTL_FA_NAME) {
		if (fc->named || *mnl_attr_get_str(a) == '\0') {
			fc->why = "field with an empty or repeated name";
			return -EBADMSG;
		}
		fc->named = true;
		fc->f.name = mnl_attr_get_str(a);
		return 0;
	}
	if (fc->valued) {
		fc->why = "field with two values";
		return -EBADMSG;
	}
	fc->valued = true;
	switch (type) {
	case CTL_FA_U64:
		fc->f.type = CTL_FT_U64;
		fc->f.v.u64 = mnl_attr_get_u64(a);
		break;
	case CTL_FA_S64:
		fc->f.type = CTL_FT_S64;
		fc->f.v.s64 = (int64_t)mnl_attr_get_u64(a);
		break;
	case CTL_FA_STR:
		fc->f.type = CTL_FT_STR;
		fc->f.v.str = mnl_attr_get_str(a);
		break;
	case CTL_FA_BOOL:
		if (mnl_attr_get_u8(a) > 1) {
			fc->why = "boolean field that is neither 0 nor 1";
			return -EBADMSG;
		}
		fc->f.type = CTL_FT_BOOL;
		fc->f.v.b = mnl_attr_get_u8(a) != 0;
		break;
	}
	return 0;
}

struct rec_ctx {
	struct ctl_record *rec;
	const char	*why;
};

static int
rec_attr(const struct nlattr *a, uint16_t type, void *arg)
{
	struct rec_ctx *rc = arg;
	struct ctl_record *rec = rc->rec;
	struct field_ctx fc = { .why = NULL };
	const char *why = NULL;
	int r;

	if (type == CTL_RA_TYPE) {
		if (rec->type || *mnl_attr_get_str(a) == '\0') {
			rc->why = "record with an empty or repeated type";
			return -EBADMSG;
		}
		rec->type = mnl_attr_get_str(a);
		return 0;
	}
	r = attr_walk(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
	    field_policy, CTL_FA__MAX, field_attr, &fc, &why);
	if (r < 0) {
		rc->why = fc.why ? fc.why : why;
		return r;
	}
	if (!fc.named) {
		rc->why = "field without a name";
		return -EBADMSG;
	}
	if (!fc.valued)
		return 0;	/* no value of a type we know: skip the field */
	for (unsigned i = 0; i < rec->nfields; i++) {
		if (strcmp(rec->field[i].name, fc.f.name) == 0) {
			rc->why = "record with a repeated field name";
			return -EBADMSG;
		}
	}
	if (rec->nfields >= CTL_REC_FIELDS_MAX) {
		rc->why = "record with too many fields";
		return -EBADMSG;
	}
	rec->field[rec->nfields++] = fc.f;
	return 0;
}

struct recs_ctx {
	ctl_record_fn	 fn;	/* NULL on the validation pass */
	void		*arg;
	struct ctl_record rec;
	const char	*why;
	bool		 stopped;
};

static int
recs_attr(const struct nlattr *a, uint16_t type, void *arg)
{
	struct recs_ctx *c = arg;
	struct rec_ctx rc = { .rec = &c->rec };
	const char *why = NULL;
	int r;

	if (type != CTL_A_REC)
		return 0;
	c->rec.type = NULL;
	c->rec.nfields = 0;
	r = attr_walk(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
	    rec_policy, CTL_RA__MAX, rec_attr, &rc, &why);
	if (r < 0) {
		c->why = rc.why ? rc.why : why;
		return r;
	}
	if (!c->rec.type) {
		c->why = "record without a type";
		return -EBADMSG;
	}
	if (c->fn && (r = c->fn(&c->rec, c->arg)) < 0) {
		c->stopped = true;
		return r;
	}
	return 0;
}

static int
decode_recs(const void *buf, size_t len, enum ctl_msg_type type, ctl_record_fn fn,
    void *arg, const char **why)
{
	struct recs_ctx c = { .fn = NULL };
	const char *why_unused;
	int r;

	if (!why)
		why = &why_unused;
	if ((r = check_type(buf, len, type, why)) < 0)
		return r;
	for (int pass = 0; pass < 2; pass++) {
		c.fn = pass ? fn : NULL;
		c.arg = arg;
		c.why = NULL;
		r = attr_walk(PAYLOAD(buf), PAYLOAD_LEN(len), top_policy,
		    CTL_A__MAX, recs_attr, &c, why);
		if (r < 0) {
			if (c.stopped)
				return r;	/* the callback's own error */
			if (c.why)
				*why = c.why;
			return r;
		}
		if (!fn)
			break;
	}
	return 0;
}

int
ctl_decode_records(const void *buf, size_t len, ctl_record_fn fn, void *arg,
    const char **why)
{
	return decode_recs(buf, len, CTL_MSG_RECORD, fn, arg, why);
}

int
ctl_decode_event(const void *buf, size_t len, ctl_record_fn fn, void *arg,
    const char **why)
{
	return decode_recs(buf, len, CTL_MSG_EVENT, fn, arg, why);
}

/* --- client socket helpers ---------------------------------------------- */

int
ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int
ctl_send(int fd, struct ctl_msg *m)
{
	const void *data;
	size_t len;
	ssize_t n;

	data = ctl_msg_finish(m, &len);
	do {
		n = send(fd, data, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t
ctl_recv(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	do {
		n = recvmsg(fd, &mh, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return n;
}
