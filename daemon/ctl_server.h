/*
 * The control server: gwlbtund's end of the control socket.  It owns the
 * socket, one thread that polls the listener and every client, and the
 * protocol (lib/ctl_proto.h); the daemon only registers one handler per command
 * and fills replies with records.
 *
 * Handlers run on the control thread, one at a time, with the command
 * already parsed by the shared table (lib/ctl_commands.h) and, for mutating
 * commands, the client already authorized: uid 0, the daemon's own uid, or
 * a member of the control group, as SO_PEERCRED/SO_PEERGROUPS said when it
 * connected.  A handler must not block for long: every client waits on it.
 */
#ifndef GWLBTUND_CTL_SERVER_H
#define GWLBTUND_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Also brings ctl_proto.h. */
#include "ctl_commands.h"

struct ctl_server;
struct ctl_reply;

/*
 * Creates the socket at path (its directory 0755 if missing), mode 0660,
 * group-owned by group unless it is (gid_t)-1.  A stale socket file is
 * replaced; if a live daemon answers there, this logs who and fails with
 * *err = -EADDRINUSE.  NULL and *err = -errno on failure.
 */
struct ctl_server *ctl_server_open(const char *path, gid_t group, int *err);

/* Per-client output bound and how long a client may leave it unread. */
#define CTL_QUEUE_MAX_DEFAULT	(16u << 20)
#define CTL_STALL_MS_DEFAULT	30000u
#define CTL_CLIENTS_MAX_DEFAULT	512u
/* Optional, before ctl_server_start(); 0 keeps a default. */
void	 ctl_server_set_limits(struct ctl_server *s, size_t queue_max,
	    unsigned stall_ms, unsigned clients_max);

typedef int (*ctl_handler_fn)(struct ctl_reply *r, const struct ctl_cmd_args *a,
    void *arg);	/* 0 or -errno */
/* Before ctl_server_start().  A command without one is refused (ENOTSUP). */
void	 ctl_server_set_handler(struct ctl_server *s, enum ctl_cmd_id id,
	    ctl_handler_fn fn, void *arg);

/* Starts the control thread (all signals blocked in it): 0 or -errno. */
int	 ctl_server_start(struct ctl_server *s);
/* Stops the thread, drops the clients, unlinks the socket if still ours. */
void	 ctl_server_close(struct ctl_server *s);

struct ctl_server_stats {
	uint64_t	clients;	/* connected now */
	uint64_t	accepted;
	uint64_t	commands;	/* handed to a handler */
	uint64_t	errors;		/* ERROR replies, any cause */
	uint64_t	bad_messages;	/* malformed, oversized or unknown */
	uint64_t	refused;	/* permission, or too many clients */
	uint64_t	dropped;	/* clients dropped for not reading */
	uint64_t	overflows;	/* replies cut at the queue bound */
	uint64_t	subscribers;	/* `monitor` clients now */
	uint64_t	events_sent;	/* to subscribers */
	uint64_t	events_lost;	/* overwritten before a subscriber read them */
};
void	 ctl_server_stats(struct ctl_server *s, struct ctl_server_stats *st);

/*
 * Replies.  Records go out as they are completed; a record too big for one
 * message, or one past the client's queue bound, turns the reply into an
 * error (EMSGSIZE) instead of being cut silently.
 */
void	 ctl_rec_begin(struct ctl_reply *r, const char *type);
void	 ctl_rec_u64(struct ctl_reply *r, const char *key, uint64_t v);
void	 ctl_rec_s64(struct ctl_reply *r, const char *key, int64_t v);
void	 ctl_rec_str(struct ctl_reply *r, const char *key, const char *v);
void	 ctl_rec_bool(struct ctl_reply *r, const char *key, bool v);
void	 ctl_rec_strf(struct ctl_reply *r, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 ctl_rec_end(struct ctl_reply *r);

/*
 * Sets the error text the client will show; returns -err (err may be given
 * either sign) so a handler can `return ctl_reply_error(r, ENOENT, ...)`.
 * Without it, a failing handler's reply carries strerror(err).
 */
int	 ctl_reply_error(struct ctl_reply *r, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Who is asking, for the log. */
struct ctl_peer {
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
	bool	authorized;	/* may run mutating commands */
};
const struct ctl_peer *ctl_reply_peer(const struct ctl_reply *r);
/* False once the reply was cut (too large for the client's queue) or the
 * client left: a long walk can stop, nothing more will reach anyone. */
bool	 ctl_reply_live(const struct ctl_reply *r);

/*
 * For tests and the fuzz harness (tests/fuzz/fuzz_ctl.c): a server without
 * socket or thread (set_limits, set_handler and close work on it), and one
 * datagram handled exactly as if a client with these credentials had sent
 * it: checked, decoded, looked up in the command table, authorized, handed
 * to its handler.  The replies are sent on fd (a SOCK_SEQPACKET socketpair
 * end, or -1 to drop them); what does not fit there is discarded.  A
 * datagram over CTL_MSG_MAX bytes is handled as recvmsg() would leave it
 * (cut, MSG_TRUNC).
 */
struct ctl_server *ctl_server_detached(void);
void	 ctl_server_feed(struct ctl_server *s, int fd, const struct ctl_peer *peer,
	    const void *msg, size_t len);

#endif
