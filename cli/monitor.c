/*
 * gwlbctl monitor: subscribes with the `monitor` command, then prints each
 * CTL_MSG_EVENT the daemon pushes as one line, text or (-j) one JSON object
 * per line (-p: indented, a member per line), flushed at once so that a
 * pipe or a file sees it now.  Ends at ^C (or the shell's ^C), after
 * `count N` events, after `timeout S` seconds, or when the daemon goes away.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "gwlbctl.h"
#include "json.h"

struct mon {
	struct gwlbctl	*g;
	uint64_t	 events;	/* shown, "lost" records not counted */
};

static void
print_text(FILE *fp, const struct ctl_record *rec)
{
	const char *when = "";
	unsigned first = 0;

	if (rec->nfields && strcmp(rec->field[0].name, "time") == 0 &&
	    rec->field[0].type == CTL_FT_STR) {
		when = rec->field[0].v.str;
		first = 1;
	}
	if (strcmp(rec->type, "lost") == 0 && rec->nfields > first &&
	    rec->field[first].type == CTL_FT_U64) {
		fprintf(fp, "%s lost %" PRIu64 " events (gwlbctl did not read "
		    "them in time)\n", when, rec->field[first].v.u64);
		return;
	}
	fprintf(fp, "%s %s", when, rec->type);
	for (unsigned i = first; i < rec->nfields; i++) {
		const struct ctl_field *f = &rec->field[i];

		switch (f->type) {
		case CTL_FT_U64:
			fprintf(fp, " %s=%" PRIu64, f->name, f->v.u64);
			break;
		case CTL_FT_S64:
			fprintf(fp, " %s=%" PRId64, f->name, f->v.s64);
			break;
		case CTL_FT_BOOL:
			fprintf(fp, " %s=%s", f->name, f->v.b ? "yes" : "no");
			break;
		case CTL_FT_STR:
			/* Quoted when it holds blanks, so the line splits. */
			fprintf(fp, strpbrk(f->v.str, " \t") || !*f->v.str ?
			    " %s=\"%s\"" : " %s=%s", f->name, f->v.str);
			break;
		}
	}
	fputc('\n', fp);
}

static void
print_json(FILE *fp, const struct ctl_record *rec, bool pretty)
{
	struct json j;

	json_init(&j, fp);
	json_set_pretty(&j, pretty);
	json_obj_begin(&j);
	json_key(&j, "event");
	json_str(&j, rec->type);
	for (unsigned i = 0; i < rec->nfields; i++) {
		const struct ctl_field *f = &rec->field[i];

		json_key(&j, f->name);
		switch (f->type) {
		case CTL_FT_U64:
			json_u64(&j, f->v.u64);
			break;
		case CTL_FT_S64:
			json_s64(&j, f->v.s64);
			break;
		case CTL_FT_BOOL:
			json_bool(&j, f->v.b);
			break;
		case CTL_FT_STR:
			json_str(&j, f->v.str);
			break;
		}
	}
	json_obj_end(&j);
	fputc('\n', fp);
}

static int
show_event(const struct ctl_record *rec, void *arg)
{
	struct mon *m = arg;

	if (m->g->json)
		print_json(stdout, rec, m->g->pretty);
	else
		print_text(stdout, rec);
	fflush(stdout);
	if (strcmp(rec->type, "lost") != 0)
		m->events++;
	return 0;
}

static int
ignore_record(const struct ctl_record *rec, void *arg)
{
	(void)rec;
	(void)arg;
	return 0;
}

static int
fail(struct gwlbctl *g, int status, int err, const char *text)
{
	out_begin(g->out, CTL_VIEW_NONE, NULL);
	out_end(g->out, err ? err : EIO, text);
	return status;
}

int
monitor_run(struct gwlbctl *g, const struct ctl_cmd_args *a)
{
	struct client *c = &g->cl;
	struct mon m = { .g = g };
	const char *w[CTL_WORDS_MAX], *why;
	char text[CTL_ERRTEXT_MAX];
	uint64_t deadline = UINT64_MAX, now;
	struct ctl_hdr h;
	uint32_t seq;
	ssize_t got;
	int err, r, status;

	ctl_cmd_words(a, w);
	status = client_request(c, a->nwords, w, ignore_record, NULL, &err, text,
	    sizeof(text));
	if (status != EXIT_OK)
		return fail(g, status, err, text);
	seq = c->seq;
	if (a->timeout_set)
		deadline = gwlbctl_mono_ms() + (uint64_t)a->timeout * 1000;
	status = EXIT_OK;
	while (!a->limit_set || m.events < a->limit) {
		struct pollfd p[2] = {
			{ .fd = c->fd, .events = POLLIN },
			{ .fd = c->cancel_fd, .events = POLLIN },
		};
		int timeout = -1;

		if (deadline != UINT64_MAX) {
			if ((now = gwlbctl_mono_ms()) >= deadline) {
				/* Asked for N events and did not get them: say so. */
				if (a->limit_set) {
					fprintf(stderr, "gwlbctl: monitor: %" PRIu64 " of %"
					    PRIu32 " events in %" PRIu32 " s\n", m.events,
					    a->limit, a->timeout);
					status = EXIT_FAILED;
				}
				break;
			}
			timeout = (int)(deadline - now);
		}
		r = poll(p, c->cancel_fd >= 0 ? 2 : 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(text, sizeof(text), "poll: %s", strerror(errno));
			status = fail(g, EXIT_FAILED, errno, text);
			break;
		}
		if (r == 0)
			continue;
		if (c->cancel_fd >= 0 && p[1].revents)
			break;		/* ^C in the shell: back to the prompt */
		got = ctl_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (got <= 0) {
			snprintf(text, sizeof(text), "lost the connection to gwlbtund at "
			    "%s: %s", c->path, got == 0 ? "it closed the connection" :
			    strerror((int)-got));
			status = fail(g, EXIT_UNREACHABLE, got == 0 ? ECONNRESET :
			    (int)-got, text);
			break;
		}
		if ((r = ctl_msg_check(c->buf, (size_t)got, &h, &why)) < 0) {
			snprintf(text, sizeof(text), "bad message from gwlbtund: %s", why);
			status = fail(g, EXIT_FAILED, -r, text);
			break;
		}
		if (h.seq != seq || h.type != CTL_MSG_EVENT)
			continue;	/* not for this subscription */
		if ((r = ctl_decode_event(c->buf, (size_t)got, show_event, &m,
		    &why)) < 0) {
			snprintf(text, sizeof(text), "bad event from gwlbtund: %s", why);
			status = fail(g, EXIT_FAILED, -r, text);
			break;
		}
	}
	/* The subscription ends with the connection; the next command opens
	 * a new one. */
	client_close(c);
	return status;
}
