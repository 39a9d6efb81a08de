/*
 * The control protocol between gwlbtund and gwlbctl, shared by both.
 *
 * One message per SOCK_SEQPACKET datagram: a fixed header (struct ctl_hdr)
 * followed by netlink-style attributes built and parsed with libmnl.  The
 * client sends CTL_MSG_CMD carrying the command words; the daemon answers
 * with zero or more CTL_MSG_RECORD messages and then CTL_MSG_DONE or
 * CTL_MSG_ERROR.  Both ends run on one host, so integers are in host byte
 * order, as in netlink.
 *
 * Compatibility rule (chrony's): the header layout, the message type values
 * and the attribute values below never change meaning.  New behaviour gets a
 * new message type or a new attribute; receivers skip attributes they do not
 * know.  CTL_VERSION changes only if that rule ever has to be broken.
 */
#ifndef GWLB_CTL_PROTO_H
#define GWLB_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_VERSION		1
#define CTL_MSG_MAX		16384	/* one datagram, header included */
#define CTL_WORDS_MAX		16	/* words in one command */
#define CTL_WORD_MAX		64	/* bytes in one word, NUL included */
#define CTL_REC_FIELDS_MAX	128	/* fields in one record (show status has ~75) */
#define CTL_ERRTEXT_MAX		256	/* error text, NUL included */

#ifndef RUNSTATEDIR
#define RUNSTATEDIR		"/run"
#endif
#define CTL_SOCKET_PATH		RUNSTATEDIR "/gwlbtund/gwlbtund.sock"

/* The wire header.  len counts the whole datagram, header included. */
struct ctl_hdr {
	uint32_t	len;
	uint16_t	type;		/* enum ctl_msg_type */
	uint8_t		version;	/* CTL_VERSION */
	uint8_t		flags;		/* none defined: sent as 0, ignored */
	uint32_t	seq;		/* chosen by the client, echoed in replies */
};

enum ctl_msg_type {
	CTL_MSG_CMD	= 1,	/* client: CTL_A_WORD... */
	CTL_MSG_RECORD	= 2,	/* daemon: CTL_A_REC... */
	CTL_MSG_DONE	= 3,	/* daemon: end of a successful reply, no attributes */
	CTL_MSG_ERROR	= 4,	/* daemon: end of a failed reply: CTL_A_ERRNO, CTL_A_ERRTEXT */
	/*
	 * daemon, unsolicited, after `monitor` was answered with DONE: one
	 * event as one CTL_A_REC (type: the event, e.g. "eni-up"; "lost" with
	 * a count when events were dropped for this client); seq is the
	 * monitor command's.
	 */
	CTL_MSG_EVENT	= 5,
};

/* Top-level attributes. */
enum ctl_attr {
	CTL_A_UNSPEC	= 0,
	CTL_A_WORD	= 1,	/* NUL-terminated string, repeated, in order */
	CTL_A_ERRNO	= 2,	/* u32, a positive errno */
	CTL_A_ERRTEXT	= 3,	/* NUL-terminated string */
	CTL_A_REC	= 4,	/* nested: enum ctl_rec_attr, repeated */
	CTL_A__MAX
};

/* Inside CTL_A_REC. */
enum ctl_rec_attr {
	CTL_RA_UNSPEC	= 0,
	CTL_RA_TYPE	= 1,	/* NUL-terminated string: "eni", "flow", ... */
	CTL_RA_FIELD	= 2,	/* nested: enum ctl_field_attr, repeated, in order */
	CTL_RA__MAX
};

/* Inside CTL_RA_FIELD: a name and exactly one value. */
enum ctl_field_attr {
	CTL_FA_UNSPEC	= 0,
	CTL_FA_NAME	= 1,	/* NUL-terminated string */
	CTL_FA_U64	= 2,
	CTL_FA_S64	= 3,
	CTL_FA_STR	= 4,	/* NUL-terminated string */
	CTL_FA_BOOL	= 5,	/* u8, 0 or 1 */
	CTL_FA__MAX
};

enum ctl_ftype { CTL_FT_U64, CTL_FT_S64, CTL_FT_STR, CTL_FT_BOOL };

/*
 * A message being built.  Attributes are added with libmnl's bounded
 * helpers: a scratch netlink header sits in front of the wire message only
 * to carry the running length for them, and is never sent.
 */
#define CTL_MSG_SCRATCH		16	/* MNL_NLMSG_HDRLEN, checked in ctl.c */
struct ctl_msg {
	size_t		rec_off;	/* offset of the open record nest, 0 = none */
	_Alignas(8) unsigned char buf[CTL_MSG_SCRATCH + CTL_MSG_MAX];
};

void	 ctl_msg_init(struct ctl_msg *m, enum ctl_msg_type type, uint32_t seq);
/* Sets the header length and returns the datagram to send. */
const void *ctl_msg_finish(struct ctl_msg *m, size_t *len);
/* Bytes of attributes in the message so far. */
size_t	 ctl_msg_payload_len(const struct ctl_msg *m);

/* Message builders; all return 0 or -EMSGSIZE and never truncate. */
int	 ctl_msg_cmd(struct ctl_msg *m, uint32_t seq, unsigned n,
	    const char *const *words);
int	 ctl_msg_error(struct ctl_msg *m, uint32_t seq, int err, const char *text);
void	 ctl_msg_done(struct ctl_msg *m, uint32_t seq);

/*
 * Records, built into a CTL_MSG_RECORD message; one record open at a time.
 * A failing call leaves the message as it was before that call.
 */
int	 ctl_msg_rec_begin(struct ctl_msg *m, const char *type);
int	 ctl_msg_rec_u64(struct ctl_msg *m, const char *name, uint64_t v);
int	 ctl_msg_rec_s64(struct ctl_msg *m, const char *name, int64_t v);
int	 ctl_msg_rec_str(struct ctl_msg *m, const char *name, const char *v);
int	 ctl_msg_rec_bool(struct ctl_msg *m, const char *name, bool v);
int	 ctl_msg_rec_end(struct ctl_msg *m);
void	 ctl_msg_rec_cancel(struct ctl_msg *m);
/* Appends src's attributes (whole records) to dst: 0 or -EMSGSIZE. */
int	 ctl_msg_append(struct ctl_msg *dst, const struct ctl_msg *src);

/*
 * Decoding.  buf is one received datagram of len bytes, 4-byte aligned.
 * Every function checks the header first (ctl_msg_check) and returns 0 or
 * -errno: -EBADMSG (malformed: bad length, truncated or bad attribute),
 * -EMSGSIZE (over CTL_MSG_MAX), -EPROTONOSUPPORT (other protocol version),
 * -EBADRQC (not the expected message type).  When why is not NULL it is set
 * to a static text saying what was wrong.  Strings returned point into buf.
 */
int	 ctl_msg_check(const void *buf, size_t len, struct ctl_hdr *hdr,
	    const char **why);
int	 ctl_decode_cmd(const void *buf, size_t len, const char **words,
	    unsigned max, unsigned *n, const char **why);
int	 ctl_decode_error(const void *buf, size_t len, int *err,
	    const char **text, const char **why);

struct ctl_field {
	const char	*name;
	enum ctl_ftype	 type;
	union {
		uint64_t	 u64;
		int64_t		 s64;
		const char	*str;
		bool		 b;
	} v;
};

struct ctl_record {
	const char	*type;
	unsigned	 nfields;
	struct ctl_field field[CTL_REC_FIELDS_MAX];
};

/* Return 0 to go on, -errno to stop (passed back by ctl_decode_records). */
typedef int (*ctl_record_fn)(const struct ctl_record *rec, void *arg);
/* The whole message is validated before fn sees its first record. */
int	 ctl_decode_records(const void *buf, size_t len, ctl_record_fn fn,
	    void *arg, const char **why);

/* The same for a CTL_MSG_EVENT message. */
int	 ctl_decode_event(const void *buf, size_t len, ctl_record_fn fn,
	    void *arg, const char **why);

/* Client side: a blocking, close-on-exec connection; fd or -errno. */
int	 ctl_connect(const char *path);
int	 ctl_send(int fd, struct ctl_msg *m);
/*
 * One datagram into buf (size >= CTL_MSG_MAX, 4-byte aligned) within
 * timeout_ms (-1 = forever).  Returns its length, 0 when the peer closed,
 * -EMSGSIZE when it was longer than size (the rest is discarded),
 * -ETIMEDOUT, or another -errno.
 */
ssize_t	 ctl_recv(int fd, void *buf, size_t size, int timeout_ms);

#endif
