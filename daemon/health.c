/*
 * The health check (-p PORT), as upstream gwlbtun serves it so GWLB target
 * groups and dashboards keep working: HTTP/1.1, "200 OK" when healthy and
 * "503 Service Unavailable" when not, Cache-Control: max-age=0, no-cache, a
 * text/html body (application/json with -j, none with -s), and
 * Content-Length.  Unlike upstream it reads the request, reports unhealthy
 * when it is (shutting down, or a worker whose loop stopped turning), never
 * touches the flow tables from the probe, and serves /metrics in the
 * Prometheus text format.
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

#include "flow.h"
#include "clock.h"
#include "eni_table.h"
#include "state.h"
#include "worker.h"
#include "stats.h"
#include "health.h"
#include "hook.h"
#include "log.h"

#define HC_MAX_CLIENTS	64
#define HC_REQ_MAX	4096
#define HC_DEADLINE_NS	(5ull * 1000000000ull)
#define STUCK_NS	(5ull * 1000000000ull)

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
static bool hc_running;
static struct hc_client *clients[HC_MAX_CLIENTS];
static _Atomic uint64_t hc_served, hc_refused;

static bool
healthy(uint64_t now, const char **why)
{
	if (atomic_load(&D.stopping)) {
		*why = "shutting down";
		return false;
	}
	if (stats_stuck_workers(now, STUCK_NS)) {
		*why = "a worker has stopped turning";
		return false;
	}
	*why = "ok";
	return true;
}

struct eni_walk {
	struct sbuf	*b;
	uint64_t	now;
	int		fmt;	/* 0 text, 1 json, 2 prometheus */
	bool		first;
	int		metric;	/* prometheus: which one this pass */
};

static void
eni_line(struct eni *e, void *arg)
{
	struct eni_walk *w = arg;
	struct eni_view v;

	eni_view(e, w->now, &v);
	switch (w->fmt) {
	case 0:
		sb_printf(w->b, "%s %-16s %-16s %-8s %12llu %14llu %12llu %14llu %8llu %8llu %8.1f\n",
		    e->hex, e->if_in, e->if_out, v.state,
		    (unsigned long long)v.pkts_in, (unsigned long long)v.bytes_in,
		    (unsigned long long)v.pkts_out, (unsigned long long)v.bytes_out,
		    (unsigned long long)v.drops, (unsigned long long)v.flows,
		    (double)v.idle_ns / 1e9);
		break;
	case 1:
		sb_printf(w->b, "%s{\"eni\":\"%s\",\"if_in\":\"%s\",\"if_out\":\"%s\",\"state\":\"%s\","
		    "\"packets_in\":%llu,\"bytes_in\":%llu,\"packets_out\":%llu,\"bytes_out\":%llu,"
		    "\"drops\":%llu,\"flows\":%llu,\"flow_evictions\":%llu,\"idle_s\":%.1f}",
		    w->first ? "" : ",", e->hex, e->if_in, e->if_out, v.state,
		    (unsigned long long)v.pkts_in, (unsigned long long)v.bytes_in,
		    (unsigned long long)v.pkts_out, (unsigned long long)v.bytes_out,
		    (unsigned long long)v.drops, (unsigned long long)v.flows,
		    (unsigned long long)v.flow_evictions, (double)v.idle_ns / 1e9);
		w->first = false;
		break;
	default: {
		static const char *const names[] = { "packets_in_total", "bytes_in_total",
		    "packets_out_total", "bytes_out_total", "drops_total", "flows",
		    "flow_evictions_total" };
		uint64_t vals[] = { v.pkts_in, v.bytes_in, v.pkts_out, v.bytes_out, v.drops,
		    v.flows, v.flow_evictions };

		sb_printf(w->b, "gwlbtun_eni_%s{eni=\"%s\",interface=\"%s\"} %llu\n",
		    names[w->metric], e->hex, e->if_in, (unsigned long long)vals[w->metric]);
		break;
	}
	}
}

static void
body_text(struct sbuf *b, uint64_t now, bool ok, const char *why)
{
	struct stats_snap all;
	struct eni_walk w = { b, now, 0, true, 0 };

	stats_kind(-1, &all);
	sb_printf(b, "<!DOCTYPE html>\n<html><head><title>gwlbtund health</title></head>"
	    "<body><pre>\n");
	sb_printf(b, "gwlbtund %s: %s (%s)\n", PACKAGE_VERSION, ok ? "healthy" : "UNHEALTHY", why);
	sb_printf(b, "uptime %llu s, %s, %u receive and %u reply threads, %u ENIs\n\n",
	    (unsigned long long)((now - D.started_ns) / 1000000000ull),
	    conf.no_return ? "no return traffic" : "return traffic on",
	    D.n_rx, D.n_tun, eni_count());
	sb_printf(b, "%-6s %-4s %4s %14s %16s %12s %10s %12s %8s\n", "thread", "kind", "cpu",
	    "packets", "bytes", "delivered", "drops", "kernel-drops", "idle-ms");
	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++) {
		struct worker *wk = &D.workers[i];
		struct stats_snap s = { 0 };
		uint64_t hb = STAT_GET(wk->heartbeat_ns);

		stats_worker(wk, &s);
		sb_printf(b, "%-6u %-4s %4d %14llu %16llu %12llu %10llu %12llu %8llu\n", wk->kidx,
		    wk->kind == WORKER_RX ? "rx" : "tun", wk->cpu,
		    (unsigned long long)s.packets, (unsigned long long)s.bytes,
		    (unsigned long long)s.delivered, (unsigned long long)s.drops,
		    (unsigned long long)s.kernel_drops,
		    (unsigned long long)(hb && now > hb ? (now - hb) / 1000000 : 0));
	}
	sb_printf(b, "\ndrops by reason:\n");
	for (int i = 0; i < DROP__MAX; i++)
		sb_printf(b, "  %-28s %llu\n", drop_str((enum drop_reason)i),
		    (unsigned long long)all.drop[i]);
	sb_printf(b, "  %-28s %llu\n", "kernel-receive-queue", (unsigned long long)all.kernel_drops);
	sb_printf(b, "\n%-17s %-16s %-16s %-8s %12s %14s %12s %14s %8s %8s %8s\n", "eni",
	    "in", "out", "state", "packets-in", "bytes-in", "packets-out", "bytes-out",
	    "drops", "flows", "idle-s");
	eni_foreach(eni_line, &w);
	sb_printf(b, "</pre></body></html>\n");
}

static void
body_json(struct sbuf *b, uint64_t now, bool ok, const char *why)
{
	struct stats_snap all;
	struct eni_walk w = { b, now, 1, true, 0 };

	stats_kind(-1, &all);
	sb_printf(b, "{\"healthy\":%s,\"reason\":\"%s\",\"version\":\"%s\",\"uptime_s\":%llu,"
	    "\"mode\":\"%s\",\"enis_count\":%u,\"workers\":[", ok ? "true" : "false", why,
	    PACKAGE_VERSION, (unsigned long long)((now - D.started_ns) / 1000000000ull),
	    conf.no_return ? "no-return" : "return", eni_count());
	for (unsigned i = 0; i < D.n_rx + D.n_tun; i++) {
		struct worker *wk = &D.workers[i];
		struct stats_snap s = { 0 };

		stats_worker(wk, &s);
		sb_printf(b, "%s{\"id\":%u,\"kind\":\"%s\",\"cpu\":%d,\"packets\":%llu,\"bytes\":%llu,"
		    "\"delivered\":%llu,\"drops\":%llu,\"kernel_drops\":%llu}", i ? "," : "",
		    wk->kidx, wk->kind == WORKER_RX ? "rx" : "tun", wk->cpu,
		    (unsigned long long)s.packets, (unsigned long long)s.bytes,
		    (unsigned long long)s.delivered, (unsigned long long)s.drops,
		    (unsigned long long)s.kernel_drops);
	}
	sb_printf(b, "],\"drops\":{");
	for (int i = 0; i < DROP__MAX; i++)
		sb_printf(b, "%s\"%s\":%llu", i ? "," : "", drop_str((enum drop_reason)i),
		    (unsigned long long)all.drop[i]);
	sb_printf(b, ",\"kernel-receive-queue\":%llu},\"enis\":[",
	    (unsigned long long)all.kernel_drops);
	eni_foreach(eni_line, &w);
	sb_printf(b, "]}\n");
}

static void
body_metrics(struct sbuf *b, uint64_t now, bool ok)
{
	struct stats_snap all;
	struct eni_walk w = { b, now, 2, true, 0 };

	stats_kind(-1, &all);
	sb_printf(b, "# HELP gwlbtun_healthy 1 when the health check answers 200.\n"
	    "# TYPE gwlbtun_healthy gauge\ngwlbtun_healthy %d\n", ok);
	sb_printf(b, "# TYPE gwlbtun_uptime_seconds gauge\ngwlbtun_uptime_seconds %llu\n",
	    (unsigned long long)((now - D.started_ns) / 1000000000ull));
	sb_printf(b, "# TYPE gwlbtun_enis gauge\ngwlbtun_enis %u\n", eni_count());
	{
		static const char *const wm[] = { "packets_total", "bytes_total",
		    "delivered_total", "kernel_drops_total" };

		for (int m = 0; m < 4; m++) {
			sb_printf(b, "# TYPE gwlbtun_worker_%s counter\n", wm[m]);
			for (unsigned i = 0; i < D.n_rx + D.n_tun; i++) {
				struct worker *wk = &D.workers[i];
				struct stats_snap s = { 0 };
				uint64_t v[4];

				if (m == 3 && wk->kind != WORKER_RX)
					continue;
				stats_worker(wk, &s);
				v[0] = s.packets;
				v[1] = s.bytes;
				v[2] = s.delivered;
				v[3] = s.kernel_drops;
				sb_printf(b, "gwlbtun_worker_%s{worker=\"%u\",kind=\"%s\"} %llu\n",
				    wm[m], wk->kidx, wk->kind == WORKER_RX ? "rx" : "tun",
				    (unsigned long long)v[m]);
			}
		}
	}
	sb_printf(b, "# HELP gwlbtun_drops_total Packets dropped, by reason.\n"
	    "# TYPE gwlbtun_drops_total counter\n");
	for (int i = 0; i < DROP__MAX; i++)
		sb_printf(b, "gwlbtun_drops_total{reason=\"%s\"} %llu\n",
		    drop_str((enum drop_reason)i), (unsigned long long)all.drop[i]);
	{
		static const char *const em[] = { "packets_in_total counter",
		    "bytes_in_total counter", "packets_out_total counter",
		    "bytes_out_total counter", "drops_total counter", "flows gauge",
		    "flow_evictions_total counter" };

		for (w.metric = 0; w.metric < 7; w.metric++) {
			sb_printf(b, "# TYPE gwlbtun_eni_%s\n", em[w.metric]);
			eni_foreach(eni_line, &w);
		}
	}
}

static void
hc_respond(struct hc_client *c)
{
	char method[8] = "", path[256] = "";
	const char *why;
	uint64_t now = now_ns();
	struct sbuf body = { 0 };
	bool ok = healthy(now, &why), head, metrics;
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
		body_metrics(&body, now, ok);
		ctype = "text/plain; version=0.0.4";
	} else if (!conf.health_status_only) {
		if (conf.health_json)
			body_json(&body, now, ok, why);
		else
			body_text(&body, now, ok, why);
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
	log_msg(LOG_HEALTH, LOG_INFO, "health check on TCP port %u%s%s", conf.health_port,
	    conf.health_json ? ", JSON" : "", conf.health_status_only ? ", status only" : "");
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
