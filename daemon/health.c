/*
 * The health check (-p PORT), as upstream gwlbtun serves it so GWLB target
 * groups and dashboards keep working: HTTP/1.1, "200 OK" when healthy and
 * "503 Service Unavailable" when not, Cache-Control: max-age=0, no-cache, a
 * text/html body (application/json with -j, none with -s), and
 * Content-Length.  Unlike upstream it reads the request, reports unhealthy
 * when it is (shutting down, or a worker whose loop stopped turning), never
 * touches the flow tables from the probe, and serves /metrics in the
 * Prometheus text format.  Every body is rendered from the records of
 * record.h, the same gwlbctl shows, so the page, /metrics and gwlbctl
 * cannot name or count a thing differently.
 *
 * One thread, one epoll, non-blocking sockets, a deadline per client and a
 * cap on clients: a slow or broken client costs a slot for five seconds at
 * most, never a stall.  When all slots are taken the next connection
 * evicts a client of the source holding the most slots (one that has not
 * sent its request yet, the oldest, first), so idle connections cannot
 * keep a probe out; when there is nothing to evict, or accept() fails for want of
 * descriptors or memory, accepting pauses (new connections wait in the
 * listen queue) instead of spinning on a readable listening socket.
 * gwlbtund(8) (RESOURCE LIMITS) gives the numbers; show status the
 * health_* counters.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "health.h"
#include "http_req.h"
#include "state.h"
#include "stats.h"
#include "log.h"
#include "record.h"
#include "report.h"

#define HC_MAX_CLIENTS	HEALTH_CLIENTS_MAX
#define HC_DEADLINE_NS	(5ull * 1000000000ull)	/* from accept to the last byte out */
#define HC_EVICT_AGE_NS	(1000ull * 1000000ull)	/* younger clients are not evicted */
#define HC_FLOOD_AGE_NS	(100ull * 1000000ull)	/* ... of a source holding over half */
#define HC_PAUSE_NS	(100ull * 1000000ull)	/* accepting paused after EMFILE etc. */
#define HC_ACCEPT_BATCH	64	/* accepts per wake-up, clients in between */

struct sbuf {
	char	*p;
	size_t	len, cap;
	bool	oom;
};

__attribute__((format(printf, 2, 3)))
static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
			char *np = realloc(b->p, cap);

			if (!np) {
				b->oom = true;
				return;
			}
			b->p = np;
			b->cap = cap;
		}
	}
}

struct hc_client {
	int		fd;
	unsigned	src;		/* index in srcs[] */
	uint64_t	accepted;
	uint64_t	deadline;
	char		req[HTTP_REQ_MAX];
	size_t		req_len;
	struct sbuf	out;
	size_t		out_off;
	bool		writing;	/* request complete, answering */
};

/* The source addresses holding slots (IPv4 as v4-mapped), with how many. */
struct hc_src {
	struct in6_addr	addr;
	unsigned	n;		/* 0: free entry */
};

static int hc_listen = -1;
static int hc_epfd = -1;
static pthread_t hc_thread;
static atomic_bool hc_running;	/* the health thread reads it */
static struct hc_client *clients[HC_MAX_CLIENTS];
static struct hc_src srcs[HC_MAX_CLIENTS];
static unsigned hc_nclients;
static uint64_t hc_paused_until;	/* accepting paused until (0: not paused) */
static struct log_rl hc_accept_rl = LOG_RL_INIT(10, 2);

enum hc_body { HC_TEXT, HC_JSON, HC_METRICS };

/*
 * A body from the producers of record.h through one of the health sinks:
 * the same records gwlbctl shows.  On failure the body is empty (the
 * status line still says healthy or not).
 */
static void
hc_body(struct sbuf *b, enum hc_body kind, uint64_t now, const char *why)
{
	char *p = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&p, &len);
	struct rec_sink *s;
	int err;

	if (!fp)
		return;
	if (kind == HC_METRICS)
		s = rec_prom_new(fp, report_metrics, report_metrics_count);
	else if (kind == HC_JSON)
		s = rec_json_new(fp, why);
	else
		s = rec_text_new(fp, why);
	if (!s) {
		fclose(fp);
		free(p);
		return;
	}
	report_status(s, now);
	report_workers(s, now);
	report_drops(s);
	report_enis(s, now, true);
	if (kind == HC_METRICS) {
		report_hook_durations(s);
		report_eni_drops(s);
		report_gro_refused(s);
		report_uso_fallback(s);
	}
	err = rec_sink_finish(s);
	if (fclose(fp) == 0 && err == 0 && p) {
		free(b->p);
		*b = (struct sbuf){ .p = p, .len = len, .cap = len };
		return;
	}
	if (err)
		log_msg(LOG_HEALTH, LOG_IMPORTANT, "health page: cannot render: %s", strerror(-err));
	free(p);
}

static void
hc_respond(struct hc_client *c, enum http_req_status st, const struct http_req *req)
{
	const char *why;
	uint64_t now = now_ns();
	struct sbuf body = { 0 };
	bool ok = report_healthy(now, &why), head, metrics;
	const char *ctype = conf.health_json ? "application/json" : "text/html";

	c->writing = true;
	if (st != HTTP_REQ_OK || req->method == HTTP_OTHER) {
		sb_printf(&c->out, "HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
		    st == HTTP_REQ_TOO_LONG ? "431 Request Header Fields Too Large" :
		    st == HTTP_REQ_BAD ? "400 Bad Request" : "405 Method Not Allowed",
		    st == HTTP_REQ_OK ? "Allow: GET, HEAD\r\n" : "");
		D.health.bad_requests++;
		return;
	}
	head = req->method == HTTP_HEAD;
	metrics = req->path == HTTP_PATH_METRICS;
	if (metrics) {
		hc_body(&body, HC_METRICS, now, why);
		ctype = "text/plain; version=0.0.4";
	} else if (!conf.health_status_only) {
		hc_body(&body, conf.health_json ? HC_JSON : HC_TEXT, now, why);
	}
	if (body.oom) {
		free(body.p);
		body = (struct sbuf){ 0 };
	}
	sb_printf(&c->out, "HTTP/1.1 %s\r\nCache-Control: max-age=0, no-cache\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    metrics || ok ? "200 OK" : "503 Service Unavailable", ctype, body.len);
	if (!head && body.len && !c->out.oom) {
		if (c->out.cap - c->out.len < body.len)
			sb_printf(&c->out, "%.*s", (int)body.len, body.p);
		else {
			memcpy(c->out.p + c->out.len, body.p, body.len);
			c->out.len += body.len;
		}
	}
	free(body.p);
	D.health.served++;
}

/* Accepting again after a pause (a slot or a descriptor came free). */
static void
hc_resume(void)
{
	if (!hc_paused_until)
		return;
	hc_paused_until = 0;
	epoll_ctl(hc_epfd, EPOLL_CTL_MOD, hc_listen,
	    &(struct epoll_event){ .events = EPOLLIN, .data.u64 = 0 });
}

/*
 * Stop accepting until `until` (or a slot comes free): what waits stays in
 * the kernel's listen queue instead of making the thread spin on a
 * readable listening socket it cannot take anything from.
 */
static void
hc_pause(uint64_t until)
{
	if (!hc_paused_until)
		epoll_ctl(hc_epfd, EPOLL_CTL_MOD, hc_listen,
		    &(struct epoll_event){ .events = 0, .data.u64 = 0 });
	hc_paused_until = until;
}

static void
hc_close(int i)
{
	struct hc_client *c = clients[i];

	epoll_ctl(hc_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out.p);
	srcs[c->src].n--;
	free(c);
	clients[i] = NULL;
	hc_nclients--;
	hc_resume();
}

/*
 * The client to close so a new connection gets a slot: one of the source
 * holding the most slots (one address cannot push out another's probes),
 * one that has not completed its request before one being answered, then
 * the oldest.  None younger than HC_EVICT_AGE_NS: a probe that has just
 * connected gets the time to send its request; HC_FLOOD_AGE_NS when that
 * source holds over half the slots, or a flood of connections queued
 * behind them would keep probes waiting a second per HC_MAX_CLIENTS of
 * them.  -1: none (yet).
 */
static int
hc_victim(uint64_t now)
{
	unsigned most = 0;
	int best = -1;

	for (int i = 0; i < HC_MAX_CLIENTS; i++)
		if (srcs[i].n > most)
			most = srcs[i].n;
	for (int i = 0; i < HC_MAX_CLIENTS; i++) {
		const struct hc_client *c = clients[i], *b;

		if (!c || srcs[c->src].n != most || now - c->accepted <
		    (most > HC_MAX_CLIENTS / 2 ? HC_FLOOD_AGE_NS : HC_EVICT_AGE_NS))
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		b = clients[best];
		if (c->writing != b->writing) {
			if (!c->writing)
				best = i;
		} else if (c->accepted < b->accepted) {
			best = i;
		}
	}
	return best;
}

static unsigned
hc_src_get(const struct sockaddr_storage *ss)
{
	struct in6_addr a = { 0 };
	int free_i = -1;

	if (ss->ss_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	} else if (ss->ss_family == AF_INET) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	for (int i = 0; i < HC_MAX_CLIENTS; i++) {
		if (srcs[i].n && memcmp(&srcs[i].addr, &a, sizeof(a)) == 0) {
			srcs[i].n++;
			return (unsigned)i;
		}
		if (!srcs[i].n && free_i < 0)
			free_i = i;
	}
	/* A free entry exists: there are fewer clients than slots. */
	srcs[free_i].addr = a;
	srcs[free_i].n = 1;
	return (unsigned)free_i;
}

static void hc_io(int i);

static void
hc_accept(void)
{
	for (int k = 0; k < HC_ACCEPT_BATCH; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		uint64_t now = now_ns();
		struct hc_client *c;
		int fd, i;

		if (hc_nclients == HC_MAX_CLIENTS) {
			struct pollfd p = { .fd = hc_listen, .events = POLLIN };
			int v;

			/* Evict only for a connection that is there. */
			if (poll(&p, 1, 0) != 1)
				return;
			v = hc_victim(now);

			if (v < 0) {
				/* All slots young: wait in the listen queue. */
				hc_pause(now + HC_EVICT_AGE_NS / 4);
				return;
			}
			hc_close(v);
			D.health.evicted++;
		}
		fd = accept4(hc_listen, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: out of something;
			 * try again in a while instead of spinning. */
			D.health.accept_errors++;
			log_rl(&hc_accept_rl, LOG_HEALTH, LOG_IMPORTANT, "health check: cannot "
			    "accept: %s; pausing for %u ms", strerror(errno),
			    (unsigned)(HC_PAUSE_NS / 1000000));
			hc_pause(now + HC_PAUSE_NS);
			return;
		}
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			D.health.refused++;
			continue;
		}
		for (i = 0; clients[i]; i++)
			;
		c->fd = fd;
		c->src = hc_src_get(&ss);
		c->accepted = now;
		c->deadline = now + HC_DEADLINE_NS;
		clients[i] = c;
		hc_nclients++;
		epoll_ctl(hc_epfd, EPOLL_CTL_ADD, fd, &(struct epoll_event){
		    .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i + 1 });
		hc_io(i);	/* the request is usually there already */
	}
}

static void
hc_io(int i)
{
	struct hc_client *c = clients[i];
	struct http_req req;
	enum http_req_status st;
	ssize_t n;

	if (!c)
		return;
	if (!c->writing) {
		n = read(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				hc_close(i);
			return;
		}
		c->req_len += (size_t)n;
		st = http_req_parse(c->req, c->req_len, &req);
		if (st == HTTP_REQ_MORE)
			return;
		hc_respond(c, st, &req);
		epoll_ctl(hc_epfd, EPOLL_CTL_MOD, c->fd, &(struct epoll_event){
		    .events = EPOLLOUT, .data.u64 = (uint64_t)i + 1 });
	}
	while (c->out_off < c->out.len) {
		n = write(c->fd, c->out.p + c->out_off, c->out.len - c->out_off);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				hc_close(i);
			return;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	hc_close(i);
}

static void *
hc_main(void *arg)
{
	struct epoll_event evs[32];

	(void)arg;
	pthread_setname_np(pthread_self(), "gwlbtun health");
	while (!atomic_load(&D.stopping) || hc_running) {
		uint64_t now = now_ns();
		int n, timeout = 250;
		bool listen_ready = false;

		if (hc_paused_until && hc_paused_until > now &&
		    (hc_paused_until - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((hc_paused_until - now) / 1000000) + 1;
		n = epoll_wait(hc_epfd, evs, 32, timeout);
		if (!hc_running)
			break;
		/* Clients first: a probe whose request has come in is answered
		 * (and its slot freed) before anyone new is let in. */
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == 0)
				listen_ready = true;
			else
				hc_io((int)evs[i].data.u64 - 1);
		}
		now = now_ns();
		for (int i = 0; i < HC_MAX_CLIENTS; i++) {
			if (clients[i] && now > clients[i]->deadline) {
				hc_close(i);
				D.health.timed_out++;
			}
		}
		if (hc_paused_until && now >= hc_paused_until)
			hc_resume();
		if (listen_ready && !hc_paused_until)
			hc_accept();
	}
	return NULL;
}

int
health_start(void)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons((uint16_t)conf.health_port), .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in sa4 = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)conf.health_port) };
	int one = 1, zero = 0, err;

	if (!conf.health_port)
		return 0;
	sa4.sin_addr = conf.health_bind;
	/* --health-bind: that IPv4 address only; otherwise every address, v4 and v6. */
	if (!conf.health_bind.s_addr)
		hc_listen = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (hc_listen >= 0) {
		setsockopt(hc_listen, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(hc_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(hc_listen, (struct sockaddr *)&sa6, sizeof(sa6)) < 0) {
			close(hc_listen);
			hc_listen = -1;
		}
	}
	if (hc_listen < 0) {	/* no IPv6 here: IPv4 only */
		hc_listen = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (hc_listen < 0)
			return -errno;
		setsockopt(hc_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(hc_listen, (struct sockaddr *)&sa4, sizeof(sa4)) < 0)
			goto fail;
	}
	/* A connection reaches accept() once its request has come (or after a
	 * second or so): probes never wait for a slot behind silent clients,
	 * and what holds a slot has sent something. */
	setsockopt(hc_listen, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
	if (listen(hc_listen, SOMAXCONN) < 0)
		goto fail;
	hc_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hc_epfd < 0)
		goto fail;
	epoll_ctl(hc_epfd, EPOLL_CTL_ADD, hc_listen,
	    &(struct epoll_event){ .events = EPOLLIN, .data.u64 = 0 });
	hc_running = true;
	err = pthread_create(&hc_thread, NULL, hc_main, NULL);
	if (err) {
		hc_running = false;
		errno = err;
		goto fail;
	}
	log_msg(LOG_HEALTH, LOG_INFO, "health check on TCP %s port %u%s%s",
	    conf.health_bind.s_addr ? inet_ntoa(conf.health_bind) : "every address",
	    conf.health_port, conf.health_json ? ", JSON" : "",
	    conf.health_status_only ? ", status only" : "");
	return 0;
fail:
	err = -errno;
	close(hc_listen);
	hc_listen = -1;
	return err;
}

void
health_stop(void)
{
	if (!hc_running)
		return;
	hc_running = false;
	pthread_join(hc_thread, NULL);
	for (int i = 0; i < HC_MAX_CLIENTS; i++)
		if (clients[i])
			hc_close(i);
	close(hc_epfd);
	close(hc_listen);
}
