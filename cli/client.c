/*
 * gwlbctl's end of the control socket (see client.h).  One command at a
 * time: send CTL_MSG_CMD, then read RECORD messages until DONE or ERROR.
 * Replies to an older sequence number (left over from a command that timed
 * out) are skipped.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

void
client_init(struct client *c, const char *path)
{
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = -1;
	c->seq = 0;
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	c->cancel_fd = -1;
}

int
client_connect(struct client *c, char *text, size_t len)
{
	int fd;

	if (c->fd >= 0)
		return 0;
	if ((fd = ctl_connect(c->path)) < 0) {
		snprintf(text, len, "cannot reach gwlbtund at %s: %s%s", c->path,
		    strerror(-fd), fd == -ENOENT || fd == -ECONNREFUSED ?
		    " (is gwlbtund running?)" : "");
		return fd;
	}
	c->fd = fd;
	return 0;
}

void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int
lost(struct client *c, char *text, size_t len, const char *what)
{
	snprintf(text, len, "lost the connection to gwlbtund at %s: %s", c->path, what);
	client_close(c);
	return EXIT_UNREACHABLE;
}

static int
bad_reply(struct client *c, int *err, int e, char *text, size_t len,
    const char *why)
{
	*err = e;
	snprintf(text, len, "bad reply from gwlbtund: %s", why);
	/* The stream is no longer trustworthy: start afresh next time. */
	client_close(c);
	return EXIT_FAILED;
}

/* Waits for a reply message or for cancel_fd: 0, -ETIMEDOUT or -ECANCELED. */
static int
wait_reply(struct client *c)
{
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = c->cancel_fd, .events = POLLIN },
	};
	int r;

	do {
		r = poll(p, c->cancel_fd >= 0 ? 2 : 1, c->timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (!p[0].revents)
		return -ECANCELED;
	return 0;
}

int
client_request(struct client *c, unsigned n, const char *const *words,
    ctl_record_fn fn, void *arg, int *err, char *text, size_t len)
{
	struct ctl_hdr h;
	const char *why, *etext;
	bool fresh = c->fd < 0;
	ssize_t got;
	int r;

	*err = 0;
	text[0] = '\0';
	if ((r = client_connect(c, text, len)) < 0) {
		*err = -r;
		return EXIT_UNREACHABLE;
	}
	c->seq++;
	if (ctl_msg_cmd(&c->msg, c->seq, n, words) < 0) {
		*err = EMSGSIZE;
		snprintf(text, len, "command too long for one message");
		return EXIT_USAGE;
	}
	if ((r = ctl_send(c->fd, &c->msg)) < 0) {
		/* A daemon restarted since we last spoke: try once afresh. */
		client_close(c);
		if (fresh || client_connect(c, text, len) < 0 ||
		    (r = ctl_send(c->fd, &c->msg)) < 0) {
			*err = r < 0 ? -r : ECONNREFUSED;
			if (!text[0])
				snprintf(text, len, "cannot send to gwlbtund at %s: %s",
				    c->path, strerror(*err));
			client_close(c);
			return EXIT_UNREACHABLE;
		}
	}
	for (;;) {
		if ((r = wait_reply(c)) == -ECANCELED) {
			/* The rest of this reply would confuse the next one. */
			*err = ECANCELED;
			snprintf(text, len, "interrupted");
			client_close(c);
			return EXIT_FAILED;
		}
		got = r < 0 ? r : ctl_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (got == 0) {
			*err = ECONNRESET;
			return lost(c, text, len, "it closed the connection");
		}
		if (got == -ETIMEDOUT) {
			*err = ETIMEDOUT;
			return lost(c, text, len, "no answer in time");
		}
		if (got == -EMSGSIZE)
			return bad_reply(c, err, EMSGSIZE, text, len, "message too long");
		if (got < 0) {
			*err = (int)-got;
			return lost(c, text, len, strerror(*err));
		}
		if ((r = ctl_msg_check(c->buf, (size_t)got, &h, &why)) < 0) {
			if (r == -EPROTONOSUPPORT) {
				char w[96];

				snprintf(w, sizeof(w), "gwlbtund speaks control protocol %u, "
				    "gwlbctl %d", h.version, CTL_VERSION);
				return bad_reply(c, err, -r, text, len, w);
			}
			return bad_reply(c, err, -r, text, len, why);
		}
		if (h.seq != c->seq && h.seq != 0)
			continue;	/* stale */
		switch (h.type) {
		case CTL_MSG_RECORD:
			r = ctl_decode_records(c->buf, (size_t)got, fn, arg, &why);
			if (r == -ENOMEM) {
				*err = ENOMEM;
				snprintf(text, len, "out of memory");
				client_close(c);
				return EXIT_FAILED;
			}
			if (r < 0)
				return bad_reply(c, err, -r, text, len, why);
			break;
		case CTL_MSG_DONE:
			return EXIT_OK;
		case CTL_MSG_ERROR:
			if ((r = ctl_decode_error(c->buf, (size_t)got, err, &etext,
			    &why)) < 0)
				return bad_reply(c, err, -r, text, len, why);
			snprintf(text, len, "%s", *etext ? etext : strerror(*err));
			if (h.seq == 0 && *err == EUSERS)
				client_close(c);	/* the daemon hangs up next */
			return EXIT_FAILED;
		default:
			break;	/* a newer daemon's message type: not for us */
		}
	}
}
