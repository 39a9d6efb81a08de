/*
 * Command line.  Every upstream gwlbtun option keeps its meaning (-c -r -t
 * -i -p -j -s -d, --udpthreads, --udpaffinity, --tunthreads, --tunaffinity,
 * --logging), so existing unit files keep working; what is new is a long
 * option.  Nothing is parsed with atoi: a bad value stops the daemon at
 * start with one line and exit status 2.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpulist.h"
#include "ctl_commands.h"
#include "conf.h"
#include "geneve.h"
#include "log.h"
#include "route_model.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

struct config conf = {
	.tcp_idle_s = 350,
	.udp_idle_s = 120,
	.geneve_port = GENEVE_PORT,
	.batch = 64,
	.rcvbuf = 128u << 20,
	.busy_poll_us = 50,
	.max_enis = 1024,
	.mtu = 8500,
	.txqueuelen = 1000,
	.hook_timeout_s = 30,
	.max_flows_per_eni = 65536,
	.control_path = RUNSTATEDIR "/gwlbtund/gwlbtund.sock",
	.control_gid = (gid_t)-1,
	.table_lo = 10000,
	.table_hi = 19999,
};

enum {
	OPT_UDPTHREADS = 256, OPT_UDPAFFINITY, OPT_TUNTHREADS, OPT_TUNAFFINITY,
	OPT_LOGGING, OPT_NO_RETURN, OPT_GENEVE_PORT, OPT_BIND, OPT_BATCH,
	OPT_RCVBUF, OPT_BUSY_POLL, OPT_ALLOWED_ORIGIN, OPT_MAX_ENIS, OPT_MTU, OPT_TXQUEUELEN,
	OPT_HOOK_TIMEOUT, OPT_UDP_IDLE, OPT_MAX_FLOWS, OPT_CONTROL, OPT_CONTROL_GROUP, OPT_CONFIG, OPT_ROUTE_HOOK, OPT_TABLE_RANGE,
	OPT_FORWARDING, OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "help",		no_argument,		NULL, 'h' },
	{ "cmdnew",		required_argument,	NULL, 'c' },
	{ "cmddel",		required_argument,	NULL, 'r' },
	{ "timeout",		required_argument,	NULL, 't' },
	{ "idle",		required_argument,	NULL, 'i' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "json",		no_argument,		NULL, 'j' },
	{ "debug",		no_argument,		NULL, 'd' },
	{ "udpthreads",		required_argument,	NULL, OPT_UDPTHREADS },
	{ "udpaffinity",	required_argument,	NULL, OPT_UDPAFFINITY },
	{ "tunthreads",		required_argument,	NULL, OPT_TUNTHREADS },
	{ "tunaffinity",	required_argument,	NULL, OPT_TUNAFFINITY },
	{ "logging",		required_argument,	NULL, OPT_LOGGING },
	{ "no-return",		no_argument,		NULL, OPT_NO_RETURN },
	{ "geneve-port",	required_argument,	NULL, OPT_GENEVE_PORT },
	{ "bind",		required_argument,	NULL, OPT_BIND },
	{ "batch",		required_argument,	NULL, OPT_BATCH },
	{ "rcvbuf",		required_argument,	NULL, OPT_RCVBUF },
	{ "busy-poll",		required_argument,	NULL, OPT_BUSY_POLL },
	{ "allowed-origin",	required_argument,	NULL, OPT_ALLOWED_ORIGIN },
	{ "max-enis",		required_argument,	NULL, OPT_MAX_ENIS },
	{ "mtu",		required_argument,	NULL, OPT_MTU },
	{ "txqueuelen",		required_argument,	NULL, OPT_TXQUEUELEN },
	{ "hook-timeout",	required_argument,	NULL, OPT_HOOK_TIMEOUT },
	{ "udp-idle",		required_argument,	NULL, OPT_UDP_IDLE },
	{ "max-flows",		required_argument,	NULL, OPT_MAX_FLOWS },
	{ "control-socket",	required_argument,	NULL, OPT_CONTROL },
	{ "control-group",	required_argument,	NULL, OPT_CONTROL_GROUP },
	{ "config",		required_argument,	NULL, OPT_CONFIG },
	{ "route-hook",		required_argument,	NULL, OPT_ROUTE_HOOK },
	{ "table-range",	required_argument,	NULL, OPT_TABLE_RANGE },
	{ "forwarding",		no_argument,		NULL, OPT_FORWARDING },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: gwlbtund [options]\n"
"AWS Gateway Load Balancer tunnel handler: GENEVE on UDP in, one TUN link per\n"
"endpoint (gwi-X, and gwo-X with return traffic) out, replies re-encapsulated.\n"
"\n"
"Options compatible with upstream gwlbtun:\n"
"  -h, --help               this text\n"
"  -c, --cmdnew FILE        hook run when an ENI's links are created:\n"
"                           FILE CREATE gwi-X gwo-X|none ENI\n"
"  -r, --cmddel FILE        hook run when an ENI is torn down:\n"
"                           FILE DESTROY gwi-X gwo-X|none ENI\n"
"  -t, --timeout SECS       tear an ENI down after SECS without traffic (0 = never, default)\n"
"  -i, --idle SECS          TCP flow idle timeout (default 350)\n"
"  -p, --port PORT          serve the health check on TCP PORT (default off)\n"
"  -j, --json               health check body in JSON\n"
"  -s                       health check status only, no body\n"
"  -d, --debug              log everything at debug level\n"
"      --udpthreads N       receive threads (default: CPUs we may run on)\n"
"      --udpaffinity LIST   receive threads pinned to LIST, e.g. 0-3,6\n"
"      --tunthreads N       reply threads (default: CPUs we may run on)\n"
"      --tunaffinity LIST   reply threads pinned to LIST\n"
"      --logging SPEC       SECTION=LEVEL,...  sections core udp geneve tunnel\n"
"                           healthcheck hook netlink control all; levels critical\n"
"                           important info debug debugdetail\n"
"\n"
"gwlbtund options:\n"
"      --no-return          no return traffic: no gwo- links, no replies\n"
"      --geneve-port PORT   UDP port GENEVE arrives on (default 6081)\n"
"      --bind ADDR          IPv4 address to receive on (default any)\n"
"      --batch N            datagrams per recvmmsg call, 1-1024 (default 64)\n"
"      --rcvbuf BYTES       socket receive buffer (default 128M; K/M/G suffixes)\n"
"      --busy-poll USEC     SO_BUSY_POLL time, 0 = off (default 50)\n"
"      --allowed-origin CIDR accept GENEVE only from CIDR (repeatable)\n"
"      --max-enis N         most ENIs at once (default 1024)\n"
"      --mtu N              MTU of the gwi-/gwo- links (default 8500)\n"
"      --txqueuelen N       packets queued on a link for the reply workers (1000)\n"
"      --hook-timeout SECS  kill a hook still running after SECS (default 30)\n"
"      --udp-idle SECS      idle timeout of non-TCP flows (default 120)\n"
"      --max-flows N        flows remembered per ENI (default 65536)\n"
"      --control-socket PATH  gwlbctl socket (default %s)\n"
"      --control-group GROUP  members may run changing gwlbctl commands\n"
"      --config FILE        routes, rules and settings (gwlbtund.conf(5));\n"
"                           SIGHUP reloads its routes and rules\n"
"      --route-hook FILE    run on every route or rule added or removed\n"
"      --table-range LO-HI  where per-ENI routing tables come from (10000-19999)\n"
"      --forwarding         turn IPv4 and IPv6 forwarding on at start\n"
"      --version            print the version and exit\n",
	    RUNSTATEDIR "/gwlbtund/gwlbtund.sock");
}

_Noreturn static void
bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
bad(const char *fmt, ...)
{
	va_list ap;

	fputs("gwlbtund: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see gwlbtund --help)\n", stderr);
	exit(2);
}

/* A whole decimal number in [lo, hi] with an optional K/M/G suffix. */
static unsigned long long
parse_num(const char *opt, const char *s, unsigned long long lo,
    unsigned long long hi, bool suffix)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		bad("%s: '%s' is not a number", opt, s);
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		bad("%s: '%s' is out of range", opt, s);
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': mult = 1ull << 10; end++; break;
		case 'm': case 'M': mult = 1ull << 20; end++; break;
		case 'g': case 'G': mult = 1ull << 30; end++; break;
		}
	}
	if (*end != '\0')
		bad("%s: '%s' is not a number", opt, s);
	if (v > hi / mult || v * mult < lo || v * mult > hi)
		bad("%s: %s is out of range (%llu-%llu)", opt, s, lo, hi);
	return v * mult;
}

static void
parse_cidr(const char *s, struct origin *o)
{
	char buf[INET_ADDRSTRLEN + 4], *slash;
	unsigned long plen = 32;
	struct in_addr a;

	if (strlen(s) >= sizeof(buf))
		bad("--allowed-origin: '%s' is not an IPv4 CIDR", s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		plen = parse_num("--allowed-origin prefix length", slash + 1, 0, 32, false);
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		bad("--allowed-origin: '%s' is not an IPv4 CIDR", s);
	o->mask = plen ? htonl(~0u << (32 - plen)) : 0;
	o->addr = a.s_addr & o->mask;
}

static int
default_threads(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

/* "LO-HI" routing table numbers, 1..2^32-1 but not the kernel's own. */
static int
parse_range(const char *s, uint32_t *lo, uint32_t *hi, char *err, size_t errlen)
{
	unsigned long long a, b;
	char *end;

	errno = 0;
	a = strtoull(s, &end, 10);
	if (end == s || *end != '-' || errno) {
		snprintf(err, errlen, "'%s': expected LO-HI", s);
		return -EINVAL;
	}
	s = end + 1;
	b = strtoull(s, &end, 10);
	if (end == s || *end != '\0' || errno) {
		snprintf(err, errlen, "'%s': expected LO-HI", s);
		return -EINVAL;
	}
	if (a < 1 || b > 0xffffffffull || a > b || (a <= 255 && b >= 253)) {
		snprintf(err, errlen, "%llu-%llu: must be ascending, within 1-4294967295 and "
		    "clear of the kernel's tables 253-255", a, b);
		return -EINVAL;
	}
	if (b - a >= 1000000) {
		snprintf(err, errlen, "%llu-%llu: at most a million tables", a, b);
		return -EINVAL;
	}
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

/* --route-hook given: the file's route-hook never replaces it. */
static bool route_hook_cli;

/* Report a configuration error: to stderr at start, to the log on reload. */
static void
cfg_error(bool at_start, const char *path, unsigned line, const char *msg)
{
	char where[16] = "";

	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	if (at_start)
		fprintf(stderr, "gwlbtund: %s%s: %s\n", path, where, msg);
	else
		log_msg(LOG_CORE, LOG_IMPORTANT, "%s%s: %s", path, where, msg);
}

int
conf_load_file(const char *path, bool at_start)
{
	struct ctl_cmd_args *list = NULL;
	unsigned n = 0, lineno = 0;
	char line[1024], err[300];
	const char *route_hook = NULL;
	bool ok = true, forwarding = conf.forwarding;
	uint32_t lo = conf.table_lo, hi = conf.table_hi;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, sizeof(err), "cannot open: %s", strerror(errno));
		cfg_error(at_start, path, 0, err);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *words[CTL_WORDS_MAX + 1], *save = NULL, *w, *hash;
		unsigned nw = 0;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			cfg_error(at_start, path, lineno, "line too long");
			ok = false;
			break;
		}
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		for (w = strtok_r(line, " \t\r\n", &save); w && nw < CTL_WORDS_MAX;
		    w = strtok_r(NULL, " \t\r\n", &save))
			words[nw++] = w;
		if (w) {
			cfg_error(at_start, path, lineno, "too many words");
			ok = false;
			continue;
		}
		if (nw == 0)
			continue;
		if (strcmp(words[0], "route") == 0 || strcmp(words[0], "rule") == 0) {
			const char *cw[CTL_WORDS_MAX + 1];
			struct ctl_cmd_args *nl;

			if (nw + 1 > CTL_WORDS_MAX) {
				cfg_error(at_start, path, lineno, "too many words");
				ok = false;
				continue;
			}
			cw[0] = words[0];
			cw[1] = "add";
			for (unsigned i = 1; i < nw; i++)
				cw[i + 1] = words[i];
			nl = realloc(list, sizeof(*list) * (n + 1));
			if (!nl) {
				cfg_error(at_start, path, lineno, "out of memory");
				ok = false;
				break;
			}
			list = nl;
			if (ctl_cmd_parse(nw + 1, cw, &list[n], err, sizeof(err)) < 0 ||
			    route_args_check(&list[n], conf.no_return, err, sizeof(err)) < 0) {
				/* The parser speaks of "route add": the file does not. */
				const char *e = err;

				if (strncmp(e, "route add: ", 11) == 0 || strncmp(e, "rule add: ", 10) == 0)
					e = strchr(e, ':') + 2;
				cfg_error(at_start, path, lineno, e);
				ok = false;
				continue;
			}
			n++;
		} else if (strcmp(words[0], "route-hook") == 0 || strcmp(words[0], "table-range") == 0 ||
		    strcmp(words[0], "forwarding") == 0) {
			if (nw != 2) {
				snprintf(err, sizeof(err), "%s takes one value (%s)", words[0],
				    words[0][0] == 'r' ? "a file" : words[0][0] == 't' ? "LO-HI" :
				    "on or off");
				cfg_error(at_start, path, lineno, err);
				ok = false;
			} else if (words[0][0] == 'r') {
				route_hook = strdup(words[1]);
			} else if (words[0][0] == 't') {
				if (parse_range(words[1], &lo, &hi, err, sizeof(err)) < 0) {
					cfg_error(at_start, path, lineno, err);
					ok = false;
				}
			} else if (strcmp(words[1], "on") == 0 || strcmp(words[1], "off") == 0) {
				forwarding = strcmp(words[1], "on") == 0;
			} else {
				snprintf(err, sizeof(err), "forwarding: '%s': expected on or off",
				    words[1]);
				cfg_error(at_start, path, lineno, err);
				ok = false;
			}
		} else {
			snprintf(err, sizeof(err), "unknown setting '%s' (route, rule, route-hook "
			    "FILE, table-range LO-HI, forwarding on|off)", words[0]);
			cfg_error(at_start, path, lineno, err);
			ok = false;
		}
	}
	fclose(f);
	if (!ok) {
		free(list);
		return -1;
	}
	if (!at_start && (lo != conf.table_lo || hi != conf.table_hi))
		log_msg(LOG_CORE, LOG_IMPORTANT, "%s: table-range changes need a restart", path);
	if (at_start) {
		conf.table_lo = lo;
		conf.table_hi = hi;
		conf.forwarding = forwarding;
	}
	if (!route_hook_cli)
		conf.route_hook = route_hook;
	free(conf.cfg_routes);
	conf.cfg_routes = list;
	conf.n_cfg_routes = n;
	return 0;
}

int
conf_parse(int argc, char **argv)
{
	bool table_range_cli = false;
	char err[256];
	unsigned long long udpthreads = 0, tunthreads = 0;
	int c, n;

	while ((c = getopt_long(argc, argv, "hc:r:t:i:p:jsd", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'c':
			conf.create_hook = optarg;
			break;
		case 'r':
			conf.destroy_hook = optarg;
			break;
		case 't':
			conf.idle_teardown_s = (unsigned)parse_num("-t", optarg, 0, 86400 * 365, false);
			break;
		case 'i':
			conf.tcp_idle_s = (unsigned)parse_num("-i", optarg, 1, 86400, false);
			break;
		case 'p':
			conf.health_port = (unsigned)parse_num("-p", optarg, 1, 65535, false);
			break;
		case 'j':
			conf.health_json = true;
			break;
		case 's':
			conf.health_status_only = true;
			break;
		case 'd':
			log_set_all(LOG_DEBUG);
			break;
		case OPT_UDPTHREADS:
			udpthreads = parse_num("--udpthreads", optarg, 1, MAX_WORKERS / 2, false);
			break;
		case OPT_TUNTHREADS:
			tunthreads = parse_num("--tunthreads", optarg, 1, MAX_WORKERS / 2, false);
			break;
		case OPT_UDPAFFINITY:
			n = cpulist_parse(optarg, &conf.rx_cpus, err, sizeof(err));
			if (n < 0)
				bad("--udpaffinity: %s", err);
			if (n > MAX_WORKERS / 2)
				bad("--udpaffinity: more than %d CPUs", MAX_WORKERS / 2);
			conf.rx_pinned = true;
			break;
		case OPT_TUNAFFINITY:
			n = cpulist_parse(optarg, &conf.tun_cpus, err, sizeof(err));
			if (n < 0)
				bad("--tunaffinity: %s", err);
			if (n > MAX_WORKERS / 2)
				bad("--tunaffinity: more than %d CPUs", MAX_WORKERS / 2);
			conf.tun_pinned = true;
			break;
		case OPT_LOGGING:
			if (log_config_parse(optarg, log_levels, err, sizeof(err)) < 0)
				bad("--logging: %s", err);
			conf.logging = optarg;
			break;
		case OPT_NO_RETURN:
			conf.no_return = true;
			break;
		case OPT_GENEVE_PORT:
			conf.geneve_port = (unsigned)parse_num("--geneve-port", optarg, 1, 65535, false);
			break;
		case OPT_BIND:
			if (inet_pton(AF_INET, optarg, &conf.bind_addr) != 1)
				bad("--bind: '%s' is not an IPv4 address", optarg);
			break;
		case OPT_BATCH:
			conf.batch = (unsigned)parse_num("--batch", optarg, 1, 1024, false);
			break;
		case OPT_RCVBUF:
			conf.rcvbuf = (unsigned)parse_num("--rcvbuf", optarg, 4096, 1u << 30, true);
			break;
		case OPT_BUSY_POLL:
			conf.busy_poll_us = (unsigned)parse_num("--busy-poll", optarg, 0, 1000000, false);
			break;
		case OPT_ALLOWED_ORIGIN:
			if (conf.n_origins == MAX_ORIGINS)
				bad("--allowed-origin: at most %d", MAX_ORIGINS);
			parse_cidr(optarg, &conf.origins[conf.n_origins++]);
			break;
		case OPT_MAX_ENIS:
			conf.max_enis = (unsigned)parse_num("--max-enis", optarg, 1, 65536, false);
			break;
		case OPT_MTU:
			conf.mtu = (unsigned)parse_num("--mtu", optarg, 1280, 65535, false);
			break;
		case OPT_TXQUEUELEN:
			conf.txqueuelen = (unsigned)parse_num("--txqueuelen", optarg, 16, 65536, false);
			break;
		case OPT_HOOK_TIMEOUT:
			conf.hook_timeout_s = (unsigned)parse_num("--hook-timeout", optarg, 1, 3600, false);
			break;
		case OPT_UDP_IDLE:
			conf.udp_idle_s = (unsigned)parse_num("--udp-idle", optarg, 1, 86400, false);
			break;
		case OPT_MAX_FLOWS:
			conf.max_flows_per_eni = (unsigned)parse_num("--max-flows", optarg, 16, 1u << 24, false);
			break;
		case OPT_CONTROL:
			if (optarg[0] != '/' || strlen(optarg) >= 108)
				bad("--control-socket: '%s' must be an absolute path shorter than 108 bytes", optarg);
			conf.control_path = optarg;
			break;
		case OPT_CONTROL_GROUP: {
			struct group *gr = getgrnam(optarg);

			if (!gr)
				bad("--control-group: no group '%s'", optarg);
			conf.control_gid = gr->gr_gid;
			break;
		}
		case OPT_CONFIG:
			conf.config_file = optarg;
			break;
		case OPT_ROUTE_HOOK:
			conf.route_hook = optarg;
			break;
		case OPT_TABLE_RANGE:
			if (parse_range(optarg, &conf.table_lo, &conf.table_hi, err, sizeof(err)) < 0)
				bad("--table-range: %s", err);
			table_range_cli = true;
			break;
		case OPT_FORWARDING:
			conf.forwarding = true;
			break;
		case OPT_VERSION:
			printf("gwlbtund %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			exit(2);	/* getopt printed the reason */
		}
	}
	if (optind < argc)
		bad("unexpected argument '%s'", argv[optind]);

	{
		cpu_set_t allowed, missing;
		char list[256];

		if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
			for (int k = 0; k < 2; k++) {
				cpu_set_t *want = k ? &conf.tun_cpus : &conf.rx_cpus;

				if (!(k ? conf.tun_pinned : conf.rx_pinned))
					continue;
				CPU_ZERO(&missing);
				for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
					if (CPU_ISSET(cpu, want) && !CPU_ISSET(cpu, &allowed))
						CPU_SET(cpu, &missing);
				if (CPU_COUNT(&missing)) {
					char have[256];

					cpulist_format(&missing, list, sizeof(list));
					cpulist_format(&allowed, have, sizeof(have));
					bad("%s: CPU %s not available to us (we may run on %s)",
					    k ? "--tunaffinity" : "--udpaffinity", list, have);
				}
			}
		}
	}
	if (conf.rx_pinned) {
		n = CPU_COUNT(&conf.rx_cpus);
		if (udpthreads && udpthreads != (unsigned)n)
			fprintf(stderr, "gwlbtund: --udpthreads %llu ignored: --udpaffinity "
			    "names %d CPUs, one thread each (as upstream)\n", udpthreads, n);
		conf.rx_threads = (unsigned)n;
	} else {
		conf.rx_threads = udpthreads ? (unsigned)udpthreads : (unsigned)default_threads();
	}
	if (conf.tun_pinned) {
		n = CPU_COUNT(&conf.tun_cpus);
		if (tunthreads && tunthreads != (unsigned)n)
			fprintf(stderr, "gwlbtund: --tunthreads %llu ignored: --tunaffinity "
			    "names %d CPUs, one thread each (as upstream)\n", tunthreads, n);
		conf.tun_threads = (unsigned)n;
	} else {
		conf.tun_threads = tunthreads ? (unsigned)tunthreads : (unsigned)default_threads();
	}
	if (conf.rx_threads > MAX_WORKERS / 2)
		conf.rx_threads = MAX_WORKERS / 2;
	if (conf.tun_threads > MAX_WORKERS / 2)
		conf.tun_threads = MAX_WORKERS / 2;
	if (conf.no_return)
		conf.tun_threads = 0;
	/* Command-line options win over the file: read it, then re-apply. */
	if (conf.config_file) {
		uint32_t lo = conf.table_lo, hi = conf.table_hi;
		bool fw = conf.forwarding;

		route_hook_cli = conf.route_hook != NULL;
		if (conf_load_file(conf.config_file, true) < 0)
			exit(2);
		if (table_range_cli) {
			conf.table_lo = lo;
			conf.table_hi = hi;
		}
		conf.forwarding |= fw;
	}
	return 0;
}
