/*
 * A stand-in for gwlbtund on the control socket: the real server code
 * (daemon/ctl_server.c) answering every command with canned records that use the
 * daemon's field names, so gwlbctl and its man page examples can be tested
 * without a data path.  Routes added with `route add` are remembered;
 * `rule add|del` has no handler on purpose (the "not supported" path).
 *
 *   ctl-fake-server -s PATH [-g GID] [-m MODE] [-f FLOWS] [-q BYTES] [-t MS]
 *       [-d MS]
 *
 * -d makes `show workers` take that long, like a daemon that hangs.
 * Prints "ready" once it serves, stops on SIGTERM or SIGINT.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_commands.h"	/* and ctl_proto.h */
#include "daemon/ctl_server.h"
#include "log.h"
#include "name.h"

struct fake_eni {
	uint64_t	 id;
	bool		 gone;
	uint64_t	 pkts_in, bytes_in, pkts_out, bytes_out, drops;
};

static struct fake_eni enis[] = {
	{ 0x076bc493b822cd32fULL, false, 120554, 98423511, 120550, 98420200, 4 },
	{ 0x0a1b2c3d4e5f60718ULL, false, 4711, 3912044, 4711, 3912044, 0 },
};
#define NENIS	(sizeof(enis) / sizeof(enis[0]))

struct fake_route {
	bool		 used;
	char		 eni[NAME_HEX_MAX + 4];
	int		 family;
	char		 prefix[64];
	char		 dev[8];
	char		 via[64];
	char		 table[16];
	uint32_t	 metric;
};

static struct fake_route routes[32] = {
	{ true, "076bc493b822cd32f", AF_INET, "198.51.100.0/24", "out", "192.0.2.1",
	  "eni", 0 },
};

static unsigned nflows = 3;
static unsigned workers_delay_ms;	/* -d: a daemon that hangs */
static uint64_t status_drops = 4;

static const char *
ifname(uint64_t id, enum name_dir dir, char *buf)
{
	name_ifname(id, dir, buf);
	return buf;
}

static struct fake_eni *
find_eni(uint64_t id)
{
	for (size_t i = 0; i < NENIS; i++)
		if (enis[i].id == id && !enis[i].gone)
			return &enis[i];
	return NULL;
}

static int
no_eni(struct ctl_reply *r, uint64_t id)
{
	char hex[NAME_HEX_MAX];

	name_hex(id, hex);
	return ctl_reply_error(r, ENOENT, "no ENI %s", hex);
}

static int
h_status(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	uint64_t n = 0;

	(void)a;
	(void)arg;
	for (size_t i = 0; i < NENIS; i++)
		n += !enis[i].gone;
	ctl_rec_begin(r, "status");
	ctl_rec_str(r, "version", PACKAGE_VERSION);
	ctl_rec_u64(r, "pid", (uint64_t)getpid());
	ctl_rec_u64(r, "uptime_s", 3725);
	ctl_rec_str(r, "mode", "return");
	ctl_rec_u64(r, "rx_workers", 2);
	ctl_rec_u64(r, "tun_workers", 2);
	ctl_rec_u64(r, "port", 6081);
	ctl_rec_u64(r, "rcvbuf_bytes", 134217728);
	ctl_rec_u64(r, "busy_poll_us", 0);
	ctl_rec_u64(r, "enis", n);
	ctl_rec_u64(r, "packets_in", 125265);
	ctl_rec_u64(r, "bytes_in", 102335555);
	ctl_rec_u64(r, "packets_out", 125261);
	ctl_rec_u64(r, "bytes_out", 102332244);
	ctl_rec_u64(r, "drops", status_drops);
	ctl_rec_end(r);
	return 0;
}

static void
rec_eni(struct ctl_reply *r, const struct fake_eni *e, bool detail)
{
	char hex[NAME_HEX_MAX], b[NAME_IF_MAX];

	name_hex(e->id, hex);
	ctl_rec_begin(r, "eni");
	ctl_rec_str(r, "eni", hex);
	ctl_rec_strf(r, "vpce", "vpce-%s", hex);
	ctl_rec_str(r, "if_in", ifname(e->id, NAME_IN, b));
	ctl_rec_str(r, "if_out", ifname(e->id, NAME_OUT, b));
	ctl_rec_str(r, "state", "up");
	ctl_rec_u64(r, "pps_in", e == &enis[0] ? 1520 : 0);
	ctl_rec_u64(r, "bps_in", e == &enis[0] ? 12345678 : 999);
	ctl_rec_u64(r, "pps_out", e == &enis[0] ? 1519 : 0);
	ctl_rec_u64(r, "bps_out", e == &enis[0] ? 9995000000ull : 0);
	ctl_rec_u64(r, "packets_in", e->pkts_in);
	ctl_rec_u64(r, "bytes_in", e->bytes_in);
	ctl_rec_u64(r, "packets_out", e->pkts_out);
	ctl_rec_u64(r, "bytes_out", e->bytes_out);
	ctl_rec_u64(r, "drops", e->drops);
	ctl_rec_u64(r, "flows", nflows);
	ctl_rec_u64(r, "table", e == &enis[0] ? 1001 : 0);
	ctl_rec_u64(r, "idle_s", e == &enis[0] ? 0 : 12);
	if (detail) {
		ctl_rec_str(r, "attachment", "2f5d6c7b8a9e0f1d");
		ctl_rec_str(r, "created", "2026-11-25T09:14:03Z");
		ctl_rec_str(r, "hook_state", "done");
		ctl_rec_u64(r, "hook_runs", 1);
		ctl_rec_u64(r, "hook_failures", 0);
		ctl_rec_u64(r, "backlog", 0);
	}
	ctl_rec_end(r);
}

static int
h_enis(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	for (size_t i = 0; i < NENIS; i++)
		if (!enis[i].gone)
			rec_eni(r, &enis[i], false);
	return 0;
}

static void
rec_route(struct ctl_reply *r, const struct fake_route *rt)
{
	ctl_rec_begin(r, "route");
	ctl_rec_str(r, "eni", rt->eni);
	ctl_rec_str(r, "family", rt->family == AF_INET ? "inet" : "inet6");
	ctl_rec_str(r, "prefix", rt->prefix);
	ctl_rec_str(r, "dev", rt->dev);
	ctl_rec_str(r, "via", rt->via[0] ? rt->via : "-");
	ctl_rec_str(r, "table", rt->table);
	ctl_rec_u64(r, "metric", rt->metric);
	ctl_rec_str(r, "state", "installed");
	ctl_rec_end(r);
}

static void
rec_rule(struct ctl_reply *r, const char *eni)
{
	ctl_rec_begin(r, "rule");
	ctl_rec_str(r, "eni", eni);
	ctl_rec_str(r, "family", "inet");
	ctl_rec_str(r, "iif", "in");
	ctl_rec_str(r, "table", "eni");
	ctl_rec_str(r, "state", "installed");
	ctl_rec_end(r);
}

static int
h_eni(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct fake_eni *e = find_eni(a->eni);
	char hex[NAME_HEX_MAX];

	(void)arg;
	if (!e)
		return no_eni(r, a->eni);
	name_hex(e->id, hex);
	rec_eni(r, e, true);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].used && (strcmp(routes[i].eni, hex) == 0 ||
		    strcmp(routes[i].eni, "any") == 0))
			rec_route(r, &routes[i]);
	rec_rule(r, hex);
	return 0;
}

static int
h_flows(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	unsigned sent = 0;
	char hex[NAME_HEX_MAX];

	(void)arg;
	if (a->eni_set && !find_eni(a->eni))
		return no_eni(r, a->eni);
	for (unsigned i = 0; i < nflows * NENIS; i++) {
		const struct fake_eni *e = &enis[i % NENIS];

		if (e->gone || (a->eni_set && e->id != a->eni))
			continue;
		if (a->limit_set && sent >= a->limit)
			break;
		name_hex(e->id, hex);
		ctl_rec_begin(r, "flow");
		ctl_rec_str(r, "eni", hex);
		ctl_rec_str(r, "proto", i % 3 == 2 ? "udp" : "tcp");
		ctl_rec_strf(r, "src", "192.0.2.%u", 10 + i % 200);
		ctl_rec_u64(r, "sport", 40000 + i % 20000);
		ctl_rec_strf(r, "dst", "203.0.113.%u", 1 + i % 250);
		ctl_rec_u64(r, "dport", i % 3 == 2 ? 53 : 443);
		ctl_rec_strf(r, "cookie", "%08x", 0x5ee0c0deu + i);
		ctl_rec_str(r, "gwlb", "198.18.0.1:61923");
		ctl_rec_u64(r, "idle_s", i % 60);
		ctl_rec_end(r);
		sent++;
	}
	return 0;
}

static int
h_drops(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	static const struct { const char *reason, *worker; uint64_t n; } d[] = {
		{ "bad-version", "all", 1 }, { "unknown-option", "all", 0 },
		{ "backlog-full", "all", 0 }, { "too-big", "all", 3 },
		{ "too-big", "0", 2 }, { "too-big", "1", 1 },
	};

	(void)a;
	(void)arg;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		ctl_rec_begin(r, "drop");
		ctl_rec_str(r, "reason", d[i].reason);
		ctl_rec_str(r, "worker", d[i].worker);
		ctl_rec_u64(r, "count", status_drops ? d[i].n : 0);
		ctl_rec_end(r);
	}
	return 0;
}

static int
h_workers(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	if (workers_delay_ms)
		usleep(workers_delay_ms * 1000);
	for (int i = 0; i < 4; i++) {
		ctl_rec_begin(r, "worker");
		ctl_rec_u64(r, "id", (uint64_t)i % 2);
		ctl_rec_str(r, "kind", i < 2 ? "rx" : "tun");
		ctl_rec_u64(r, "cpu", (uint64_t)i % 2);
		ctl_rec_u64(r, "tid", 4242 + (uint64_t)i);
		ctl_rec_u64(r, "packets", i < 2 ? 62633 : 62631);
		ctl_rec_u64(r, "bytes", i < 2 ? 51167777 : 51166122);
		ctl_rec_u64(r, "batches", i < 2 ? 2210 : 4107);
		ctl_rec_u64(r, "drops", i < 2 ? 2 : 0);
		ctl_rec_u64(r, "kernel_drops", 0);
		ctl_rec_end(r);
	}
	return 0;
}

static int
h_routes(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].used)
			rec_route(r, &routes[i]);
	rec_rule(r, "any");
	return 0;
}

static int
h_config(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	static const char *const opts[][2] = {
		{ "port", "6081" }, { "udpthreads", "2" }, { "tunthreads", "2" },
		{ "idle_timeout_s", "350" }, { "eni_timeout_s", "0" },
		{ "return", "yes" }, { "cmdnew", "/etc/gwlbtun/create.sh" },
		{ "cmddel", "/etc/gwlbtun/destroy.sh" },
		{ "control_socket", "/run/gwlbtund/gwlbtund.sock" },
	};

	(void)a;
	(void)arg;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		ctl_rec_begin(r, "option");
		ctl_rec_str(r, "name", opts[i][0]);
		ctl_rec_str(r, "value", opts[i][1]);
		ctl_rec_end(r);
	}
	return 0;
}

static void
route_key(const struct ctl_cmd_args *a, struct fake_route *k)
{
	char addr[INET6_ADDRSTRLEN];

	memset(k, 0, sizeof(*k));
	k->used = true;
	if (a->eni_any)
		strcpy(k->eni, "any");
	else
		name_hex(a->eni, k->eni);
	k->family = a->family;
	inet_ntop(a->family, &a->prefix, addr, sizeof(addr));
	snprintf(k->prefix, sizeof(k->prefix), "%s/%u", addr, a->prefix_len);
	strcpy(k->dev, a->dev == CTL_DIR_IN ? "in" : "out");
	if (a->via_set)
		inet_ntop(a->family, &a->via, k->via, sizeof(k->via));
	if (!a->table_set || a->table_eni)
		strcpy(k->table, "eni");
	else
		snprintf(k->table, sizeof(k->table), "%u", a->table);
	k->metric = a->metric_set ? a->metric : 0;
}

static int
h_route(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct fake_route k;
	size_t n = sizeof(routes) / sizeof(routes[0]), i;

	(void)arg;
	route_key(a, &k);
	for (i = 0; i < n; i++)
		if (routes[i].used && strcmp(routes[i].eni, k.eni) == 0 &&
		    strcmp(routes[i].prefix, k.prefix) == 0 &&
		    strcmp(routes[i].table, k.table) == 0)
			break;
	if (a->id == CTL_CMD_ROUTE_DEL) {
		if (i == n)
			return ctl_reply_error(r, ESRCH, "no route %s for %s", k.prefix,
			    k.eni);
		routes[i].used = false;
		return 0;
	}
	if (i < n)
		return ctl_reply_error(r, EEXIST, "route %s for %s exists", k.prefix,
		    k.eni);
	for (i = 0; i < n && routes[i].used; i++)
		;
	if (i == n)
		return -ENOSPC;
	routes[i] = k;
	return 0;
}

static int
h_destroy(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct fake_eni *e = find_eni(a->eni);

	(void)arg;
	if (!e)
		return no_eni(r, a->eni);
	e->gone = true;
	return 0;
}

static int
h_flush(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)arg;
	if (a->eni_set && !find_eni(a->eni))
		return no_eni(r, a->eni);
	return 0;
}

static int
h_log(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)r;
	(void)arg;
	if (a->section == LOG_SECTION__MAX)
		log_set_all(a->level);
	else
		log_level_set(a->section, a->level);
	return 0;
}

static int
h_reset(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)r;
	(void)a;
	(void)arg;
	status_drops = 0;
	for (size_t i = 0; i < NENIS; i++)
		enis[i].pkts_in = enis[i].bytes_in = enis[i].pkts_out =
		    enis[i].bytes_out = enis[i].drops = 0;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ctl-fake-server -s PATH [-g GID] [-m MODE] "
	    "[-f FLOWS] [-q QUEUE_BYTES] [-t STALL_MS] [-d DELAY_MS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	gid_t group = (gid_t)-1;
	unsigned long mode = 0, queue = 0, stall = 0;
	struct ctl_server *s;
	sigset_t set;
	int ch, err, sig;

	while ((ch = getopt(argc, argv, "d:f:g:m:q:s:t:")) != -1) {
		switch (ch) {
		case 'd':
			workers_delay_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			nflows = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'g':
			group = (gid_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			mode = strtoul(optarg, NULL, 8);
			break;
		case 'q':
			queue = strtoul(optarg, NULL, 10);
			break;
		case 's':
			path = optarg;
			break;
		case 't':
			stall = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!path)
		usage();
	log_init("ctl-fake-server");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (!(s = ctl_server_open(path, group, &err))) {
		fprintf(stderr, "ctl-fake-server: %s: %s\n", path, strerror(-err));
		return err == -EADDRINUSE ? 3 : 1;
	}
	/* Tests run gwlbctl as another user against a socket it may reach. */
	if (mode && chmod(path, (mode_t)mode) < 0) {
		perror("ctl-fake-server: chmod");
		return 1;
	}
	ctl_server_set_limits(s, queue, (unsigned)stall, 0);
	ctl_server_set_handler(s, CTL_CMD_SHOW_STATUS, h_status, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_ENIS, h_enis, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_ENI, h_eni, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_FLOWS, h_flows, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_DROPS, h_drops, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_WORKERS, h_workers, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_ROUTES, h_routes, NULL);
	ctl_server_set_handler(s, CTL_CMD_SHOW_CONFIG, h_config, NULL);
	ctl_server_set_handler(s, CTL_CMD_ROUTE_ADD, h_route, NULL);
	ctl_server_set_handler(s, CTL_CMD_ROUTE_DEL, h_route, NULL);
	ctl_server_set_handler(s, CTL_CMD_ENI_DESTROY, h_destroy, NULL);
	ctl_server_set_handler(s, CTL_CMD_FLOWS_FLUSH, h_flush, NULL);
	ctl_server_set_handler(s, CTL_CMD_LOG, h_log, NULL);
	ctl_server_set_handler(s, CTL_CMD_COUNTERS_RESET, h_reset, NULL);
	if ((err = ctl_server_start(s)) < 0) {
		fprintf(stderr, "ctl-fake-server: start: %s\n", strerror(-err));
		ctl_server_close(s);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	ctl_server_close(s);
	return 0;
}
