/*
 * The control server (see ctl.h): a listening SOCK_SEQPACKET socket and one
 * thread polling it and every client, all non-blocking.
 *
 * Flow control is per client and never global: a client's next command is
 * read only once the reply to the previous one has been handed to the
 * kernel, so a client that sends and never reads holds back only itself.
 * What the kernel does not take waits in the client's queue, which has a
 * bound: a reply that would pass it is cut short and ends with an EMSGSIZE
 * error, and a client that leaves its queue unread for stall_ms is dropped.
 * Malformed input gets an error reply on the same connection (SEQPACKET
 * keeps the framing intact), so one bad client never costs another anything.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_commands.h"	/* and ctl_proto.h */
#include "event.h"
#include "log.h"
#include "ctl_server.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/* All clients together never queue more than this. */
#define QUEUE_TOTAL_MAX		((size_t)256 << 20)
/* Messages read from one client per wakeup, for fairness. */
#define READ_BUDGET		8
/* Pause after accept() ran out of descriptors, so poll() does not spin. */
#define ACCEPT_PAUSE_MS		100
/* poll() slots: the wake pipe, the listener, the event ring, the clients. */
#define PFD_WAKE		0
#define PFD_LISTEN		1
#define PFD_EVENTS		2
#define PFD_CONN0		3

struct qent {
	struct qent	*next;
	size_t		 len;
	_Alignas(8) unsigned char data[];
};

struct conn {
	int		 fd;
	struct ctl_peer	 peer;
	struct qent	*head, *tail;
	size_t		 qbytes;
	uint64_t	 progress_ms;	/* queue last grew from empty or drained */
	bool		 rd_eof;	/* peer shut down its sending side */
	bool		 dead;
	/* `monitor`: events from the ring at ev_cursor, as CTL_MSG_EVENT. */
	bool		 subscribed;
	uint32_t	 ev_seq;
	uint64_t	 ev_cursor;
};

struct ctl_reply {
	struct ctl_server *s;
	struct conn	*c;
	uint32_t	 seq;
	bool		 in_rec;
	bool		 rec_failed;	/* the open record is lost */
	unsigned	 cur_recs;	/* records packed in cur */
	bool		 overflow;	/* queue bound reached: reply cut */
	int		 fail;		/* -EMSGSIZE: a record did not fit */
	char		 failtext[CTL_ERRTEXT_MAX];
	bool		 has_text;
	char		 errtext[CTL_ERRTEXT_MAX];
	char		 rec_type[CTL_WORD_MAX];
	char		 fmt[CTL_MSG_MAX];
	struct ctl_msg	 cur;		/* records being packed */
	struct ctl_msg	 rec;		/* the record being built */
};

struct handler {
	ctl_handler_fn	 fn;
	void		*arg;
};

struct ctl_server {
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 lfd;
	int		 wake[2];
	gid_t		 group;
	char		 group_name[64];
	dev_t		 dev;
	ino_t		 ino;
	pthread_t	 thread;
	bool		 running;
	int		 stop;		/* atomic */
	struct handler	 h[CTL_CMD__MAX];
	size_t		 queue_max;
	unsigned	 stall_ms;
	unsigned	 clients_max;
	size_t		 qtotal;
	uint64_t	 accept_resume_ms;
	struct conn	**conns;
	unsigned	 nconns;
	struct pollfd	*pfds;
	struct ctl_server_stats st;	/* atomic */
	struct ctl_reply reply;
	struct ctl_msg	 tmp;
	struct ctl_msg	 evmsg;
	_Alignas(8) unsigned char rbuf[CTL_MSG_MAX];
};

static struct log_rl bad_rl = LOG_RL_INIT(10, 5);
static struct log_rl drop_rl = LOG_RL_INIT(10, 5);
static struct log_rl accept_rl = LOG_RL_INIT(10, 2);

#define SRV_STAT_ADD(s, f, n)	__atomic_fetch_add(&(s)->st.f, (n), __ATOMIC_RELAXED)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- opening ------------------------------------------------------------- */

static int
make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket directory %s: %s",
		    dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Is somebody answering at path?  0 when the path is free (absent, or a
 * stale socket now removed), -EADDRINUSE when a live daemon answers.
 */
static int
probe_path(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct stat sb;
	int fd, err;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket %s: %s", path,
		    strerror(errno));
		return err;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket %s: exists and is "
		    "not a socket; not touching it", path);
		return -EEXIST;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			log_at(LOG_CONTROL, LOG_CRITICAL, "control socket %s: another "
			    "gwlbtund (pid %d) is answering there; refusing to start",
			    path, (int)cred.pid);
		else
			log_at(LOG_CONTROL, LOG_CRITICAL, "control socket %s: another "
			    "gwlbtund is answering there; refusing to start", path);
		close(fd);
		return -EADDRINUSE;
	}
	err = errno;
	close(fd);
	if (err != ECONNREFUSED) {
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket %s: %s", path,
		    strerror(err));
		return -err;
	}
	log_at(LOG_CONTROL, LOG_INFO, "control socket %s: replacing a stale socket",
	    path);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct ctl_server *
ctl_server_open(const char *path, gid_t group, int *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *s;
	struct group gr, *grp = NULL;
	char grbuf[1024];
	struct stat sb;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sun.sun_path) || !*path) {
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket path '%s': empty or "
		    "longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
		*err = -ENAMETOOLONG;
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		*err = -ENOMEM;
		return NULL;
	}
	s->lfd = s->wake[0] = s->wake[1] = -1;
	s->group = group;
	s->queue_max = CTL_QUEUE_MAX_DEFAULT;
	s->stall_ms = CTL_STALL_MS_DEFAULT;
	s->clients_max = CTL_CLIENTS_MAX_DEFAULT;
	strcpy(s->path, path);
	if (group != (gid_t)-1) {
		if (getgrgid_r(group, &gr, grbuf, sizeof(grbuf), &grp) == 0 && grp)
			snprintf(s->group_name, sizeof(s->group_name), "%s", grp->gr_name);
		else
			snprintf(s->group_name, sizeof(s->group_name), "%u", (unsigned)group);
	}

	if ((r = make_parent_dir(path)) < 0 || (r = probe_path(path)) < 0)
		goto fail;
	if ((s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		r = -errno;
		goto fail;
	}
	strcpy(sun.sun_path, path);
	/* Born 0660, so there is no moment where anybody else may connect. */
	old = umask(0117);
	r = bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0) {
		r = -errno;
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket %s: bind: %s",
		    path, strerror(errno));
		goto fail;
	}
	if (group != (gid_t)-1 && chown(path, (uid_t)-1, group) < 0) {
		r = -errno;
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket %s: group %s: %s",
		    path, s->group_name, strerror(errno));
		goto fail_unlink;
	}
	if (chmod(path, 0660) < 0 || lstat(path, &sb) < 0 ||
	    listen(s->lfd, SOMAXCONN) < 0 ||
	    pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		log_at(LOG_CONTROL, LOG_IMPORTANT, "control socket %s: %s", path,
		    strerror(errno));
		goto fail_unlink;
	}
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	return s;

fail_unlink:
	unlink(path);
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	free(s);
	*err = r;
	return NULL;
}

void
ctl_server_set_limits(struct ctl_server *s, size_t queue_max, unsigned stall_ms,
    unsigned clients_max)
{
	if (queue_max)
		s->queue_max = queue_max;
	if (stall_ms)
		s->stall_ms = stall_ms;
	if (clients_max)
		s->clients_max = clients_max;
}

void
ctl_server_set_handler(struct ctl_server *s, enum ctl_cmd_id id,
    ctl_handler_fn fn, void *arg)
{
	if ((unsigned)id >= CTL_CMD__MAX)
		return;
	s->h[id].fn = fn;
	s->h[id].arg = arg;
}

void
ctl_server_stats(struct ctl_server *s, struct ctl_server_stats *st)
{
	st->clients = __atomic_load_n(&s->st.clients, __ATOMIC_RELAXED);
	st->accepted = __atomic_load_n(&s->st.accepted, __ATOMIC_RELAXED);
	st->commands = __atomic_load_n(&s->st.commands, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&s->st.errors, __ATOMIC_RELAXED);
	st->bad_messages = __atomic_load_n(&s->st.bad_messages, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&s->st.refused, __ATOMIC_RELAXED);
	st->dropped = __atomic_load_n(&s->st.dropped, __ATOMIC_RELAXED);
	st->overflows = __atomic_load_n(&s->st.overflows, __ATOMIC_RELAXED);
	st->subscribers = __atomic_load_n(&s->st.subscribers, __ATOMIC_RELAXED);
	st->events_sent = __atomic_load_n(&s->st.events_sent, __ATOMIC_RELAXED);
	st->events_lost = __atomic_load_n(&s->st.events_lost, __ATOMIC_RELAXED);
}

/* --- per-client output --------------------------------------------------- */

static void
conn_kill(struct conn *c)
{
	c->dead = true;
}

/*
 * Sends or queues one message.  force lets the final DONE/ERROR past the
 * bound, so a cut reply still ends properly.  -ENOBUFS when over the
 * bound, -EPIPE when the client is gone.
 */
static int
conn_send(struct ctl_server *s, struct conn *c, const void *data, size_t len,
    bool force)
{
	struct qent *q;
	ssize_t n;

	if (c->dead)
		return -EPIPE;
	if (!c->head) {
		do {
			n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n >= 0)
			return 0;	/* SEQPACKET: all or nothing */
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_kill(c);
			return -EPIPE;
		}
	}
	if (!force && (c->qbytes + len > s->queue_max ||
	    s->qtotal + len > QUEUE_TOTAL_MAX))
		return -ENOBUFS;
	if (!(q = malloc(sizeof(*q) + len)))
		return -ENOBUFS;
	q->next = NULL;
	q->len = len;
	memcpy(q->data, data, len);
	if (c->tail)
		c->tail->next = q;
	else {
		c->head = q;
		c->progress_ms = now_ms();
	}
	c->tail = q;
	c->qbytes += len;
	s->qtotal += len;
	return 0;
}

static void
conn_flush(struct ctl_server *s, struct conn *c)
{
	struct qent *q;
	ssize_t n;

	while ((q = c->head) && !c->dead) {
		n = send(c->fd, q->data, q->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_kill(c);
			return;
		}
		c->head = q->next;
		if (!c->head)
			c->tail = NULL;
		c->qbytes -= q->len;
		s->qtotal -= q->len;
		c->progress_ms = now_ms();
		free(q);
	}
}

static void
conn_free(struct ctl_server *s, struct conn *c)
{
	struct qent *q;

	while ((q = c->head)) {
		c->head = q->next;
		s->qtotal -= q->len;
		free(q);
	}
	if (c->subscribed)
		SRV_STAT_ADD(s, subscribers, -1);
	close(c->fd);
	free(c);
}

static void
send_error(struct ctl_server *s, struct conn *c, uint32_t seq, int err,
    const char *text)
{
	const void *data;
	size_t len;

	SRV_STAT_ADD(s, errors, 1);
	if (ctl_msg_error(&s->tmp, seq, err, text) < 0)
		ctl_msg_error(&s->tmp, seq, err, NULL);
	data = ctl_msg_finish(&s->tmp, &len);
	conn_send(s, c, data, len, true);
}

static void
send_errorf(struct ctl_server *s, struct conn *c, uint32_t seq, int err,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
send_errorf(struct ctl_server *s, struct conn *c, uint32_t seq, int err,
    const char *fmt, ...)
{
	char text[CTL_ERRTEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	send_error(s, c, seq, err, text);
}

/* --- replies ------------------------------------------------------------- */

static void
ctl_reply_flush(struct ctl_reply *r)
{
	const void *data;
	size_t len;
	int ret;

	if (!r->cur_recs)
		return;
	r->cur_recs = 0;
	if (!r->overflow && !r->c->dead) {
		data = ctl_msg_finish(&r->cur, &len);
		if ((ret = conn_send(r->s, r->c, data, len, false)) == -ENOBUFS) {
			r->overflow = true;
			SRV_STAT_ADD(r->s, overflows, 1);
		}
	}
	ctl_msg_init(&r->cur, CTL_MSG_RECORD, r->seq);
}

/* Is there any point in building more records? */
static bool
reply_live(const struct ctl_reply *r)
{
	return !r->overflow && !r->c->dead;
}

static void
rec_fail(struct ctl_reply *r)
{
	r->rec_failed = true;
	if (!r->fail) {
		r->fail = -EMSGSIZE;
		snprintf(r->failtext, sizeof(r->failtext), "a '%s' record does not "
		    "fit in one control message (%d bytes)", r->rec_type, CTL_MSG_MAX);
	}
}

void
ctl_rec_begin(struct ctl_reply *r, const char *type)
{
	if (r->in_rec)
		ctl_rec_end(r);
	r->in_rec = true;
	r->rec_failed = false;
	if (!reply_live(r))
		return;
	snprintf(r->rec_type, sizeof(r->rec_type), "%s", type);
	ctl_msg_init(&r->rec, CTL_MSG_RECORD, r->seq);
	if (ctl_msg_rec_begin(&r->rec, type) < 0)
		rec_fail(r);
}

#define FIELD_PUT(call) do {						\
	if (!r->in_rec || r->rec_failed || !reply_live(r))		\
		return;							\
	if ((call) < 0)							\
		rec_fail(r);						\
} while (0)

void
ctl_rec_u64(struct ctl_reply *r, const char *key, uint64_t v)
{
	FIELD_PUT(ctl_msg_rec_u64(&r->rec, key, v));
}

void
ctl_rec_s64(struct ctl_reply *r, const char *key, int64_t v)
{
	FIELD_PUT(ctl_msg_rec_s64(&r->rec, key, v));
}

void
ctl_rec_str(struct ctl_reply *r, const char *key, const char *v)
{
	FIELD_PUT(ctl_msg_rec_str(&r->rec, key, v ? v : ""));
}

void
ctl_rec_bool(struct ctl_reply *r, const char *key, bool v)
{
	FIELD_PUT(ctl_msg_rec_bool(&r->rec, key, v));
}

void
ctl_rec_strf(struct ctl_reply *r, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!r->in_rec || r->rec_failed || !reply_live(r))
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->fmt, sizeof(r->fmt), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->fmt)) {
		rec_fail(r);
		return;
	}
	FIELD_PUT(ctl_msg_rec_str(&r->rec, key, r->fmt));
}

void
ctl_rec_end(struct ctl_reply *r)
{
	if (!r->in_rec)
		return;
	r->in_rec = false;
	if (r->rec_failed || !reply_live(r)) {
		ctl_msg_rec_cancel(&r->rec);
		return;
	}
	ctl_msg_rec_end(&r->rec);
	if (ctl_msg_append(&r->cur, &r->rec) < 0) {
		ctl_reply_flush(r);
		if (!reply_live(r))
			return;
		if (ctl_msg_append(&r->cur, &r->rec) < 0) {
			rec_fail(r);	/* cannot happen: rec is one message */
			return;
		}
	}
	r->cur_recs++;
}

int
ctl_reply_error(struct ctl_reply *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errtext, sizeof(r->errtext), fmt, ap);
	va_end(ap);
	r->has_text = true;
	return err < 0 ? err : -err;
}

const struct ctl_peer *
ctl_reply_peer(const struct ctl_reply *r)
{
	return &r->c->peer;
}

/* --- events (monitor) ---------------------------------------------------- */

static void
put_event(struct ctl_msg *m, uint32_t seq, const struct event *ev, uint64_t lost)
{
	char when[40], hex[24];
	struct tm tm;
	time_t t = (time_t)(ev->time_us / 1000000);

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06uZ",
	    (unsigned)(ev->time_us % 1000000));
	ctl_msg_init(m, CTL_MSG_EVENT, seq);
	/* Every event fits: at most EVENT_FIELDS_MAX short fields. */
	ctl_msg_rec_begin(m, lost ? event_type_str(EVENT_LOST) : event_type_str(ev->type));
	ctl_msg_rec_str(m, "time", when);
	if (lost) {
		ctl_msg_rec_u64(m, "count", lost);
	} else {
		if (ev->has_eni) {
			snprintf(hex, sizeof(hex), "%017llx", (unsigned long long)ev->eni);
			ctl_msg_rec_str(m, "eni", hex);
		}
		for (unsigned i = 0; i < ev->nfields; i++) {
			const struct event_field *f = &ev->f[i];

			if (f->type == EVENT_F_U64)
				ctl_msg_rec_u64(m, f->name, f->v.u64);
			else if (f->type == EVENT_F_S64)
				ctl_msg_rec_s64(m, f->name, f->v.s64);
			else
				ctl_msg_rec_str(m, f->name, f->v.str);
		}
	}
	ctl_msg_rec_end(m);
}

/*
 * Hands a subscriber what the ring holds for it, while the kernel takes it:
 * the first message the socket refuses waits in the client's queue and
 * nothing more is read until it is gone.  So a subscriber that does not
 * read holds one or two messages and its cursor; the ring goes on without
 * it and it is told how many events it lost once it reads again.
 */
static void
pump_events(struct ctl_server *s, struct conn *c)
{
	struct event ev;
	const void *data;
	uint64_t lost;
	size_t len;
	bool got;

	while (c->subscribed && !c->head && !c->dead) {
		got = event_read(&c->ev_cursor, &ev, &lost);
		if (lost) {
			SRV_STAT_ADD(s, events_lost, lost);
			put_event(&s->evmsg, c->ev_seq, &ev, lost);
			data = ctl_msg_finish(&s->evmsg, &len);
			conn_send(s, c, data, len, true);
		}
		if (!got)
			break;
		put_event(&s->evmsg, c->ev_seq, &ev, 0);
		data = ctl_msg_finish(&s->evmsg, &len);
		conn_send(s, c, data, len, true);
		SRV_STAT_ADD(s, events_sent, 1);
	}
}

/* `monitor`: DONE now, then the events posted from now on. */
static void
subscribe(struct ctl_server *s, struct conn *c, uint32_t seq)
{
	const void *data;
	size_t len;

	if (event_fd() < 0) {
		send_errorf(s, c, seq, ENOTSUP, "this daemon keeps no events");
		return;
	}
	if (!c->subscribed)
		SRV_STAT_ADD(s, subscribers, 1);
	c->subscribed = true;
	c->ev_seq = seq;
	c->ev_cursor = event_next();
	SRV_STAT_ADD(s, commands, 1);
	log_at(LOG_CONTROL, LOG_DEBUG, "pid %d uid %u: monitor", (int)c->peer.pid,
	    (unsigned)c->peer.uid);
	ctl_msg_done(&s->tmp, seq);
	data = ctl_msg_finish(&s->tmp, &len);
	conn_send(s, c, data, len, true);
}

bool
ctl_reply_live(const struct ctl_reply *r)
{
	return reply_live(r);
}

/* --- requests ------------------------------------------------------------ */

static void
run_handler(struct ctl_server *s, struct conn *c, uint32_t seq,
    const struct ctl_cmd_args *a)
{
	struct ctl_reply *r = &s->reply;
	const void *data;
	size_t len;
	int ret;

	r->s = s;
	r->c = c;
	r->seq = seq;
	r->in_rec = r->rec_failed = r->overflow = r->has_text = false;
	r->cur_recs = 0;
	r->fail = 0;
	ctl_msg_init(&r->cur, CTL_MSG_RECORD, seq);

	SRV_STAT_ADD(s, commands, 1);
	ret = s->h[a->id].fn(r, a, s->h[a->id].arg);
	if (r->in_rec)
		ctl_rec_end(r);
	ctl_reply_flush(r);
	if (c->dead)
		return;
	if (r->overflow) {
		send_errorf(s, c, seq, EMSGSIZE, "reply too large: more than %zu "
		    "bytes waiting for this client; narrow the command (limit N)",
		    s->queue_max);
	} else if (ret < 0) {
		send_error(s, c, seq, -ret, r->has_text ? r->errtext : strerror(-ret));
	} else if (r->fail) {
		send_error(s, c, seq, -r->fail, r->failtext);
	} else {
		ctl_msg_done(&s->tmp, seq);
		data = ctl_msg_finish(&s->tmp, &len);
		conn_send(s, c, data, len, true);
	}
}

static void
bad_message(struct ctl_server *s, struct conn *c, uint32_t seq, int err,
    const char *what)
{
	SRV_STAT_ADD(s, bad_messages, 1);
	log_rl(&bad_rl, LOG_CONTROL, LOG_INFO, "client pid %d uid %u: %s",
	    (int)c->peer.pid, (unsigned)c->peer.uid, what);
	send_error(s, c, seq, err, what);
}

static void
handle_message(struct ctl_server *s, struct conn *c, size_t len, bool trunc)
{
	const char *words[CTL_WORDS_MAX];
	struct ctl_cmd_args a;
	char text[CTL_ERRTEXT_MAX], name[CTL_WORD_MAX * 2];
	const struct ctl_cmd_def *def;
	struct ctl_hdr h;
	const char *why = "malformed message";
	unsigned n;
	uint32_t seq = 0;
	int r;

	if (len >= sizeof(h)) {
		memcpy(&h, s->rbuf, sizeof(h));
		seq = h.seq;
	}
	if (trunc) {
		snprintf(text, sizeof(text), "message longer than %d bytes", CTL_MSG_MAX);
		bad_message(s, c, seq, EMSGSIZE, text);
		return;
	}
	if ((r = ctl_msg_check(s->rbuf, len, &h, &why)) < 0) {
		if (r == -EPROTONOSUPPORT) {
			snprintf(text, sizeof(text), "protocol version %u not supported "
			    "(this gwlbtund speaks %d)", h.version, CTL_VERSION);
			why = text;
		}
		bad_message(s, c, seq, -r, why);
		return;
	}
	if (h.type != CTL_MSG_CMD) {
		snprintf(text, sizeof(text), "unknown or unexpected message type %u",
		    h.type);
		bad_message(s, c, seq, EBADRQC, text);
		return;
	}
	if ((r = ctl_decode_cmd(s->rbuf, len, words, CTL_WORDS_MAX, &n, &why)) < 0) {
		snprintf(text, sizeof(text), "malformed command: %s", why);
		bad_message(s, c, seq, -r, text);
		return;
	}
	if (ctl_cmd_parse(n, words, &a, text, sizeof(text)) < 0) {
		send_error(s, c, seq, EINVAL, text);
		return;
	}
	def = a.def;
	snprintf(name, sizeof(name), "%s%s%s", def->words[0], def->words[1] ? " " : "",
	    def->words[1] ? def->words[1] : "");
	if (def->flags & CTL_CMDF_LOCAL) {
		send_errorf(s, c, seq, EINVAL, "'%s' is a gwlbctl command, not a "
		    "daemon command", name);
		return;
	}
	if (a.id == CTL_CMD_MONITOR) {
		subscribe(s, c, seq);
		return;
	}
	if ((def->flags & CTL_CMDF_MUTATING) && !c->peer.authorized) {
		SRV_STAT_ADD(s, refused, 1);
		log_at(LOG_CONTROL, LOG_INFO, "refused '%s' to pid %d uid %u",
		    name, (int)c->peer.pid, (unsigned)c->peer.uid);
		if (s->group != (gid_t)-1)
			send_errorf(s, c, seq, EPERM, "permission denied: '%s' needs "
			    "root or group %s", name, s->group_name);
		else
			send_errorf(s, c, seq, EPERM, "permission denied: '%s' needs "
			    "root", name);
		return;
	}
	if (!s->h[a.id].fn) {
		send_errorf(s, c, seq, ENOTSUP, "'%s' is not supported by this daemon",
		    name);
		return;
	}
	log_at(LOG_CONTROL, LOG_DEBUG, "pid %d uid %u: %s", (int)c->peer.pid,
	    (unsigned)c->peer.uid, name);
	run_handler(s, c, seq, &a);
}

static void
conn_read(struct ctl_server *s, struct conn *c, short revents)
{
	struct iovec iov = { .iov_base = s->rbuf, .iov_len = sizeof(s->rbuf) };
	struct msghdr mh;
	ssize_t n;

	for (int budget = READ_BUDGET; budget > 0 && !c->head && !c->dead; budget--) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_kill(c);
			return;
		}
		/*
		 * SEQPACKET reads 0 both at end of file and for an empty
		 * message; only a hang-up tells them apart.  revents may be
		 * older than this read, so ask again: once a read has seen
		 * the end, the hang-up is already visible.
		 */
		if (n == 0) {
			struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

			if ((revents & (POLLHUP | POLLRDHUP)) || (poll(&p, 1, 0) == 1 &&
			    (p.revents & (POLLHUP | POLLRDHUP)))) {
				c->rd_eof = true;
				if (!c->head)
					conn_kill(c);
				return;
			}
		}
		handle_message(s, c, (size_t)n, (mh.msg_flags & MSG_TRUNC) != 0);
	}
}

/* --- without sockets: tests and the fuzz harness ----------------------- */

struct ctl_server *
ctl_server_detached(void)
{
	struct ctl_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	s->group = (gid_t)-1;
	s->queue_max = CTL_QUEUE_MAX_DEFAULT;
	s->stall_ms = CTL_STALL_MS_DEFAULT;
	s->clients_max = CTL_CLIENTS_MAX_DEFAULT;
	return s;
}

void
ctl_server_feed(struct ctl_server *s, int fd, const struct ctl_peer *peer,
    const void *msg, size_t len)
{
	struct conn c = { .fd = fd, .peer = *peer };
	bool trunc = len > sizeof(s->rbuf);
	struct qent *q;

	if (trunc)
		len = sizeof(s->rbuf);	/* what recvmsg() keeps, MSG_TRUNC set */
	memcpy(s->rbuf, msg, len);
	handle_message(s, &c, len, trunc);
	while ((q = c.head)) {
		c.head = q->next;
		s->qtotal -= q->len;
		free(q);
	}
}

/* --- accepting ----------------------------------------------------------- */

static bool
peer_in_group(int fd, gid_t group)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno != ERANGE || !(g = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
			free(g);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		found |= g[i] == group;
	if (g != small)
		free(g);
	return found;
}

static void
accept_clients(struct ctl_server *s)
{
	struct ucred cred;
	socklen_t clen;
	struct conn *c;
	char text[CTL_ERRTEXT_MAX];
	int fd;

	for (;;) {
		if ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_rl(&accept_rl, LOG_CONTROL, LOG_IMPORTANT,
			    "accept: %s", strerror(errno));
			s->accept_resume_ms = now_ms() + ACCEPT_PAUSE_MS;
			return;
		}
		if (s->nconns >= s->clients_max) {
			const void *data;
			size_t len;

			/* A fresh socket has room for one small message. */
			SRV_STAT_ADD(s, refused, 1);
			SRV_STAT_ADD(s, errors, 1);
			snprintf(text, sizeof(text), "too many control clients (%u)",
			    s->clients_max);
			ctl_msg_error(&s->tmp, 0, EUSERS, text);
			data = ctl_msg_finish(&s->tmp, &len);
			(void)!send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
		    !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->peer.authorized = cred.uid == 0 || cred.uid == geteuid() ||
		    (s->group != (gid_t)-1 && (cred.gid == s->group ||
		    peer_in_group(fd, s->group)));
		s->conns[s->nconns++] = c;
		SRV_STAT_ADD(s, accepted, 1);
		__atomic_store_n(&s->st.clients, s->nconns, __ATOMIC_RELAXED);
		log_at(LOG_CONTROL, LOG_DEBUG, "client pid %d uid %u%s",
		    (int)cred.pid, (unsigned)cred.uid,
		    c->peer.authorized ? " (may change state)" : "");
	}
}

/* --- the thread ---------------------------------------------------------- */

static void *
server_main(void *arg)
{
	struct ctl_server *s = arg;

	for (;;) {
		unsigned n = s->nconns, k;
		uint64_t now = now_ms(), deadline = UINT64_MAX;
		int timeout, r;

		s->pfds[PFD_WAKE] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
		s->pfds[PFD_LISTEN] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		s->pfds[PFD_EVENTS] = (struct pollfd){ .fd = event_fd(), .events = POLLIN };
		if (s->accept_resume_ms > now) {
			s->pfds[PFD_LISTEN].fd = -1;
			deadline = s->accept_resume_ms;
		}
		for (unsigned i = 0; i < n; i++) {
			struct conn *c = s->conns[i];
			short ev = 0;

			if (c->head) {
				ev = POLLOUT;
				/* A subscriber's queue is bounded: no stall. */
				if (!c->subscribed &&
				    c->progress_ms + s->stall_ms < deadline)
					deadline = c->progress_ms + s->stall_ms;
			} else if (!c->rd_eof) {
				ev = POLLIN | POLLRDHUP;
			}
			s->pfds[PFD_CONN0 + i] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		if (deadline == UINT64_MAX)
			timeout = -1;
		else if (deadline <= now)
			timeout = 0;
		else
			timeout = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);

		r = poll(s->pfds, PFD_CONN0 + n, timeout);
		if (r < 0 && errno != EINTR) {
			log_at(LOG_CONTROL, LOG_CRITICAL, "poll: %s",
			    strerror(errno));
			break;
		}
		if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
			break;
		if (r < 0)
			continue;
		if (s->pfds[PFD_EVENTS].revents & POLLIN) {
			uint64_t cnt;

			(void)!read(s->pfds[PFD_EVENTS].fd, &cnt, sizeof(cnt));
		}

		for (unsigned i = 0; i < n; i++) {
			struct conn *c = s->conns[i];
			short re = s->pfds[PFD_CONN0 + i].revents;

			if (re & POLLNVAL)
				conn_kill(c);
			if (c->head && (re & (POLLOUT | POLLHUP | POLLERR)))
				conn_flush(s, c);
			else if (!c->head && (re & POLLERR))
				conn_kill(c);
			if (!c->head && !c->dead && (re & (POLLIN | POLLHUP | POLLRDHUP)))
				conn_read(s, c, re);
			if (!c->head && c->rd_eof)
				conn_kill(c);
			pump_events(s, c);
		}
		now = now_ms();
		for (unsigned i = 0; i < n; i++) {
			struct conn *c = s->conns[i];

			if (c->head && !c->dead && !c->subscribed &&
			    now - c->progress_ms >= s->stall_ms) {
				SRV_STAT_ADD(s, dropped, 1);
				log_rl(&drop_rl, LOG_CONTROL, LOG_IMPORTANT, ""
				    "dropping client pid %d: %zu bytes unread for %u ms",
				    (int)c->peer.pid, c->qbytes, s->stall_ms);
				conn_kill(c);
			}
		}
		for (unsigned i = k = 0; i < s->nconns; i++) {
			if (s->conns[i]->dead)
				conn_free(s, s->conns[i]);
			else
				s->conns[k++] = s->conns[i];
		}
		s->nconns = k;
		__atomic_store_n(&s->st.clients, s->nconns, __ATOMIC_RELAXED);
		if (s->pfds[PFD_LISTEN].revents & POLLIN)
			accept_clients(s);
	}
	return NULL;
}

int
ctl_server_start(struct ctl_server *s)
{
	sigset_t all, old;
	int r;

	if (s->running)
		return -EALREADY;
	s->conns = calloc(s->clients_max, sizeof(*s->conns));
	s->pfds = calloc(s->clients_max + PFD_CONN0, sizeof(*s->pfds));
	if (!s->conns || !s->pfds)
		return -ENOMEM;
	/* The daemon's signals belong to its main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&s->thread, NULL, server_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	s->running = true;
	log_at(LOG_CONTROL, LOG_INFO, "listening on %s", s->path);
	return 0;
}

void
ctl_server_close(struct ctl_server *s)
{
	struct stat sb;

	if (!s)
		return;
	if (s->running) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
		(void)!write(s->wake[1], "x", 1);
		pthread_join(s->thread, NULL);
	}
	for (unsigned i = 0; i < s->nconns; i++)
		conn_free(s, s->conns[i]);
	close(s->lfd);
	/* A newer daemon may have replaced our file: leave that one alone. */
	if (lstat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino)
		unlink(s->path);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s->conns);
	free(s->pfds);
	free(s);
}
