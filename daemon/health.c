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
 * cap on clients: a slow or broken client costs a slot for five seconds,
 * never a stall.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
#include "state.h"
#include "stats.h"
#include "log.h"
#include "record.h"
#include "report.h"

#define HC_MAX_CLIENTS	HEALTH_CLIENTS_MAX
#define HC_REQ_MAX	4096
#define HC_DEADLINE_NS	(5ull * 1000000000ull)

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
	uint64_t	deadline;
	char		req[HC_REQ_MAX];
	size_t		req_len;
	struct sbuf	out;
	size_t		out_off;
	bool		writing;
};

static int hc_listen = -1;
static int hc_epfd = -1;
static pthread_t hc_thread;
static atomic_bool hc_running;	/* the health thread reads it */
static struct hc_client *clients[HC_MAX_CLIENTS];
static _Atomic uint64_t hc_served, hc_refused;

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
hc_respond(struct hc_client *c)
{
	char method[8] = "", path[256] = "";
	const char *why;
	uint64_t now = now_ns();
	struct sbuf body = { 0 };
	bool ok = report_healthy(now, &why), head, metrics;
	const char *ctype = conf.health_json ? "application/json" : "text/html";

	sscanf(c->req, "%7s %255s", method, path);
	head = strcmp(method, "HEAD") == 0;
	metrics = strcmp(path, "/metrics") == 0;
	if (strcmp(method, "GET") != 0 && !head) {
		sb_printf(&c->out, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		c->writing = true;
		return;
	}
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
	c->writing = true;
	hc_served++;
}

static void
hc_close(int i)
{
	struct hc_client *c = clients[i];

	epoll_ctl(hc_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out.p);
	free(c);
	clients[i] = NULL;
}

static void
hc_accept(void)
{
	for (;;) {
		int fd = accept4(hc_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct hc_client *c;

		if (fd < 0)
			return;
		for (i = 0; i < HC_MAX_CLIENTS && clients[i]; i++)
			;
		if (i == HC_MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			hc_refused++;
			continue;
		}
		c->fd = fd;
		c->deadline = now_ns() + HC_DEADLINE_NS;
		clients[i] = c;
		epoll_ctl(hc_epfd, EPOLL_CTL_ADD, fd, &(struct epoll_event){
		    .events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i + 1 });
	}
}

static void
hc_io(int i, uint32_t events)
{
	struct hc_client *c = clients[i];
	ssize_t n;

	if (!c)
		return;
	if (!c->writing) {
		n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				hc_close(i);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n")) {
			if (c->req_len == sizeof(c->req) - 1)
				hc_close(i);	/* headers too long */
			return;
		}
		hc_respond(c);
		epoll_ctl(hc_epfd, EPOLL_CTL_MOD, c->fd, &(struct epoll_event){
		    .events = EPOLLOUT, .data.u64 = (uint64_t)i + 1 });
	}
	(void)events;
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
		int n = epoll_wait(hc_epfd, evs, 32, 250);
		uint64_t now = now_ns();

		if (!hc_running)
			break;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == 0)
				hc_accept();
			else
				hc_io((int)evs[i].data.u64 - 1, evs[i].events);
		}
		for (int i = 0; i < HC_MAX_CLIENTS; i++)
			if (clients[i] && now > clients[i]->deadline)
				hc_close(i);
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
	if (listen(hc_listen, 128) < 0)
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
