/*
 * Command line and configuration file, from one option table: each row
 * gives an option's names, type, range, default, help text, whether the
 * file may set it and SIGHUP apply it, and where it is kept in struct
 * config.  getopt_long's tables, --help, the file's keywords, `gwlbctl show
 * config` and --list-options (read by the man page check) all come from it.
 *
 * Every upstream gwlbtun option keeps its meaning (-c -r -t -i -p -j -s -d,
 * --udpthreads, --udpaffinity, --tunthreads, --tunaffinity, --logging), so
 * existing unit files keep working; what is new is a long option.  Nothing
 * is parsed with atoi: a bad value stops the daemon at start with one line
 * and exit status 2.  The parsers return errors; only conf_parse exits.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "cpulist.h"
#include "ctl_commands.h"
#include "geneve.h"
#include "log.h"
#include "route_model.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

#define STR_(x)	#x
#define STR(x)	STR_(x)

struct config conf;

enum opt_type {
	OPT_HELP,	/* print and exit */
	OPT_VERSION,
	OPT_LIST,
	OPT_DEBUG,	/* -d: every log section at debug */
	OPT_CHECK,	/* --check-config: validate, do not start */
	OPT_FLAG,	/* bool; no argument, "on" or "off" in the file */
	OPT_ONOFF,	/* bool; "on" or "off", on the command line too */
	OPT_UINT,	/* unsigned in [lo, hi], K/M/G when .suffix */
	OPT_STR,	/* const char *: a file or a command line */
	OPT_SOCKET,	/* const char *: absolute path, fits sun_path */
	OPT_ADDR4,	/* struct in_addr */
	OPT_CIDRS,	/* struct origin[MAX_ORIGINS], aux: unsigned count; repeatable */
	OPT_CPUS,	/* cpu_set_t, aux: bool pinned */
	OPT_RANGE,	/* uint32_t LO, aux: uint32_t HI (routing tables) */
	OPT_GROUP,	/* const char * name, aux: gid_t */
	OPT_LOGGING,	/* const char * as given; applied to log_levels */
};

#define OF_UPSTREAM	0x01	/* --help's first group: upstream gwlbtun's */
#define OF_FILE		0x02	/* the configuration file may set it */
#define OF_RELOAD	0x04	/* SIGHUP applies a change of it */
#define OF_HIDDEN	0x08	/* not in --help, --list-options or the man page */
#define OF_NOSHOW	0x10	/* an action, not a setting: not in show config */

struct conf_opt {
	const char	*name;		/* long option, file keyword, show config name */
	char		shortopt;
	enum opt_type	type;
	unsigned	flags;
	unsigned long long lo, hi;	/* OPT_UINT */
	bool		suffix;		/* OPT_UINT: K, M, G allowed */
	const char	*def;		/* the default, as it would be written */
	const char	*defhelp;	/* the default as --help says it, if not def */
	const char	*arg;		/* its argument in --help */
	const char	*help;		/* lines after the first are indented */
	size_t		off;		/* where in struct config */
	size_t		aux;		/* a second field: see enum opt_type */
	size_t		show;		/* OPT_UINT: the field show config prints, + 1 */
	const char	*yes, *no;	/* OPT_FLAG: how show config says it */
};

/* offsetof(struct config, f), which must be of type T: a wrong row does not compile. */
#define AT(f, T) (offsetof(struct config, f) + \
	0 * sizeof(char[_Generic(((struct config *)0)->f, T: 1, default: -1)]))
#define STORE(f, T)	.off = AT(f, T)
#define AUX(f, T)	.aux = AT(f, T)

#define UPSTREAM	OF_UPSTREAM
#define FILE_RELOAD	(OF_FILE | OF_RELOAD)

static const struct conf_opt opts[] = {
	/* Options compatible with upstream gwlbtun. */
	{ "help", 'h', OPT_HELP, UPSTREAM | OF_NOSHOW, .help = "this text" },
	{ "cmdnew", 'c', OPT_STR, UPSTREAM | FILE_RELOAD, .arg = "FILE",
	  .help = "hook run when an ENI's links are created:\n"
	      "FILE CREATE gwi-X gwo-X|none ENI", STORE(create_hook, const char *) },
	{ "cmddel", 'r', OPT_STR, UPSTREAM | FILE_RELOAD, .arg = "FILE",
	  .help = "hook run when an ENI is torn down:\n"
	      "FILE DESTROY gwi-X gwo-X|none ENI", STORE(destroy_hook, const char *) },
	{ "timeout", 't', OPT_UINT, UPSTREAM | FILE_RELOAD, 0, 86400 * 365, .def = "0",
	  .defhelp = "0: never", .arg = "SECS",
	  .help = "tear an ENI down after SECS without traffic",
	  STORE(idle_teardown_s, unsigned) },
	{ "idle", 'i', OPT_UINT, UPSTREAM | OF_FILE, 1, 86400, .def = "350", .arg = "SECS",
	  .help = "TCP flow idle timeout", STORE(tcp_idle_s, unsigned) },
	{ "port", 'p', OPT_UINT, UPSTREAM | OF_FILE, 1, 65535, .defhelp = "off", .arg = "PORT",
	  .help = "serve the health check on TCP PORT", STORE(health_port, unsigned) },
	{ "json", 'j', OPT_FLAG, UPSTREAM | OF_FILE,
	  .help = "health check body in JSON", STORE(health_json, bool) },
	{ "status-only", 's', OPT_FLAG, UPSTREAM | OF_FILE,
	  .help = "health check status only, no body", STORE(health_status_only, bool) },
	{ "debug", 'd', OPT_DEBUG, UPSTREAM | OF_FILE | OF_NOSHOW,
	  .help = "log everything at debug level" },
	{ "udpthreads", 0, OPT_UINT, UPSTREAM | OF_FILE, 1, MAX_WORKERS / 2,
	  .defhelp = "CPUs we may run on", .arg = "N", .help = "receive threads",
	  STORE(rx_threads_req, unsigned), .show = AT(rx_threads, unsigned) + 1 },
	{ "udpaffinity", 0, OPT_CPUS, UPSTREAM | OF_FILE, .arg = "LIST",
	  .help = "receive threads pinned to LIST, e.g. 0-3,6",
	  STORE(rx_cpus, cpu_set_t), AUX(rx_pinned, bool) },
	{ "tunthreads", 0, OPT_UINT, UPSTREAM | OF_FILE, 1, MAX_WORKERS / 2,
	  .defhelp = "CPUs we may run on", .arg = "N", .help = "reply threads",
	  STORE(tun_threads_req, unsigned), .show = AT(tun_threads, unsigned) + 1 },
	{ "tunaffinity", 0, OPT_CPUS, UPSTREAM | OF_FILE, .arg = "LIST",
	  .help = "reply threads pinned to LIST",
	  STORE(tun_cpus, cpu_set_t), AUX(tun_pinned, bool) },
	{ "logging", 0, OPT_LOGGING, UPSTREAM | FILE_RELOAD, .arg = "SPEC",
	  .help = "SECTION=LEVEL,...  sections core udp geneve tunnel\n"
	      "healthcheck hook netlink control all; levels critical\n"
	      "important info debug debugdetail", STORE(logging, const char *) },

	/* gwlbtund options. */
	{ "no-return", 0, OPT_FLAG, OF_FILE,
	  .help = "no return traffic: no gwo- links, no replies", STORE(no_return, bool) },
	{ "geneve-port", 0, OPT_UINT, OF_FILE, 1, 65535, .def = STR(GENEVE_PORT), .arg = "PORT",
	  .help = "UDP port GENEVE arrives on", STORE(geneve_port, unsigned) },
	{ "bind", 0, OPT_ADDR4, OF_FILE, .defhelp = "any", .arg = "ADDR",
	  .help = "IPv4 address to receive on", STORE(bind_addr, struct in_addr) },
	{ "health-bind", 0, OPT_ADDR4, OF_FILE, .defhelp = "any", .arg = "ADDR",
	  .help = "serve the health check on this IPv4 address only",
	  STORE(health_bind, struct in_addr) },
	{ "batch", 0, OPT_UINT, OF_FILE, 1, 1024, .def = "64", .arg = "N",
	  .help = "datagrams per recvmmsg call, 1-1024", STORE(batch, unsigned) },
	{ "rcvbuf", 0, OPT_UINT, OF_FILE, 4096, 1u << 30, true, .def = "128M", .arg = "BYTES",
	  .help = "socket receive buffer, K/M/G suffixes", STORE(rcvbuf, unsigned) },
	{ "busy-poll", 0, OPT_UINT, OF_FILE, 0, 1000000, .def = "0", .arg = "USEC",
	  .help = "SO_BUSY_POLL time, 0 = off", STORE(busy_poll_us, unsigned) },
	{ "allowed-origin", 0, OPT_CIDRS, OF_FILE, .defhelp = "private", .arg = "CIDR",
	  .help = "accept GENEVE only from CIDR (repeatable); private: RFC 1918,\n"
	      "100.64.0.0/10, 198.18.0.0/15; any: every source",
	  STORE(origins, struct origin *), AUX(n_origins, unsigned) },
	{ "offload", 0, OPT_ONOFF, OF_FILE, .def = "on", .arg = "on|off", .yes = "on", .no = "off",
	  .help = "TUN offloads on the links: coalesced TCP segments written,\n"
	      "GSO packets read and segmented, their replies sent as UDP GSO\n"
	      "on a packet socket (off: one packet per syscall)",
	  STORE(offload, bool) },
	{ "max-enis", 0, OPT_UINT, OF_FILE, 1, 65536, .def = "1024", .arg = "N",
	  .help = "most ENIs at once", STORE(max_enis, unsigned) },
	{ "mtu", 0, OPT_UINT, OF_FILE, 1280, 8500, .def = "8500", .arg = "N",
	  .help = "MTU of the gwi-/gwo- links, at most GWLB's 8500",
	  STORE(mtu, unsigned) },
	{ "txqueuelen", 0, OPT_UINT, OF_FILE, 16, 65536, .def = "1000", .arg = "N",
	  .help = "packets queued per link for the reply workers", STORE(txqueuelen, unsigned) },
	{ "hook-timeout", 0, OPT_UINT, FILE_RELOAD, 1, 3600, .def = "30", .arg = "SECS",
	  .help = "kill a hook still running after SECS", STORE(hook_timeout_s, unsigned) },
	{ "max-hooks", 0, OPT_UINT, OF_FILE, 1, 1024, .def = "8", .arg = "N",
	  .help = "hooks running at once; the rest wait in order",
	  STORE(max_hooks, unsigned) },
	{ "backlog-bytes", 0, OPT_UINT, OF_FILE, 1u << 20, 1u << 30, true, .def = "32M",
	  .arg = "BYTES", .help = "packets held for ENIs coming up, all together\n"
	      "(one ENI at most an eighth), K/M/G suffixes",
	  STORE(backlog_bytes, unsigned) },
	{ "udp-idle", 0, OPT_UINT, OF_FILE, 1, 86400, .def = "120", .arg = "SECS",
	  .help = "idle timeout of non-TCP flows", STORE(udp_idle_s, unsigned) },
	{ "max-flows", 0, OPT_UINT, OF_FILE, 16, 1u << 24, .def = "65536", .arg = "N",
	  .help = "flows remembered per ENI", STORE(max_flows_per_eni, unsigned) },
	{ "control-socket", 0, OPT_SOCKET, OF_FILE, .def = RUNSTATEDIR "/gwlbtund/gwlbtund.sock",
	  .arg = "PATH", .help = "gwlbctl socket", STORE(control_path, const char *) },
	{ "control-group", 0, OPT_GROUP, OF_FILE, .arg = "GROUP",
	  .help = "members may run changing gwlbctl commands",
	  STORE(control_group, const char *), AUX(control_gid, gid_t) },
	{ "config", 0, OPT_STR, 0, .arg = "FILE",
	  .help = "routes, rules and settings (gwlbtund.conf(5));\n"
	      "SIGHUP reloads it", STORE(config_file, const char *) },
	{ "route-hook", 0, OPT_STR, FILE_RELOAD, .arg = "FILE",
	  .help = "run on every route or rule added or removed",
	  STORE(route_hook, const char *) },
	{ "table-range", 0, OPT_RANGE, OF_FILE, .def = "10000-19999", .arg = "LO-HI",
	  .help = "per-ENI routing tables",
	  STORE(table_lo, uint32_t), AUX(table_hi, uint32_t) },
	{ "state-dir", 0, OPT_STR, OF_FILE, .def = "/var/lib/gwlbtun", .arg = "DIR",
	  .help = "remember there which table 'table eni' gave each ENI",
	  STORE(state_dir, const char *) },
	{ "max-mirror", 0, OPT_UINT, OF_FILE, 1024, 1u << 24, .def = "100000", .arg = "N",
	  .help = "links, addresses, routes and rules the kernel's mirror holds;\n"
	      "past it, routes are checked against a dump now and then",
	  STORE(max_mirror, unsigned) },
	{ "forwarding", 0, OPT_FLAG, OF_FILE, .yes = "on", .no = "unchanged",
	  .help = "turn IPv4 and IPv6 forwarding on at start", STORE(forwarding, bool) },
	{ "syslog", 0, OPT_FLAG, OF_FILE, .yes = "on", .no = "off",
	  .help = "log through syslog(3) instead of stderr",
	  STORE(use_syslog, bool) },
	{ "check-config", 0, OPT_CHECK, OF_NOSHOW,
	  .help = "check the options and the --config file, print\n"
	      "every error, exit 0 or 1; start nothing" },
	{ "version", 0, OPT_VERSION, OF_NOSHOW, .help = "print the version and exit" },
	{ "list-options", 0, OPT_LIST, OF_HIDDEN | OF_NOSHOW,
	  .help = "print this table, one line per option" },
};

#define N_OPTS	(sizeof(opts) / sizeof(opts[0]))

/* Given on the command line: the file does not change it. */
static bool cli_set[N_OPTS];
/* The file's strings in conf, ours to free. */
static char *owned[N_OPTS];

/*
 * What `show config` reads, on the control server's thread: a copy of the
 * whole configuration with its own strings, built complete and then swapped
 * in under shown_lock, which conf_show holds while it formats.  conf itself
 * is the manager's: SIGHUP changes its reloadable settings on the manager
 * thread, the only one that reads them; every other thread reads only
 * settings fixed at start.  So a reload frees what it replaced at once,
 * and the old copy once the swap is done.
 */
struct conf_copy {
	struct config	c;
	char		*strs[N_OPTS];
};
static pthread_mutex_t shown_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf_copy *shown_conf;	/* NULL: show conf itself (at start) */

typedef const char *cstr;	/* so that CFIELD(c, off, cstr) is const cstr * */

#define FIELD(c, off, T)	((T *)(void *)((char *)(c) + (off)))
#define CFIELD(c, off, T)	((const T *)(const void *)((const char *)(c) + (off)))

/* A --logging spec opt_set checked, applied to the levels in force. */
static void
apply_logging(const char *spec)
{
	enum log_level lv[LOG_SECTION__MAX];
	char err[200];

	log_levels_read(lv);
	if (log_config_parse(spec, lv, err, sizeof(err)) == 0)
		log_levels_write(lv);
}

/* The types after OPT_FLAG take a value (enum opt_type's order). */
static bool
takes_arg(const struct conf_opt *o)
{
	return o->type > OPT_FLAG;
}

/* A whole decimal number in [lo, hi] with an optional K/M/G suffix. */
static int
parse_num(const char *name, const char *s, unsigned long long lo, unsigned long long hi,
    bool suffix, unsigned long long *out, char *err, size_t errlen)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto nan;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen, "%s: '%s' is out of range", name, s);
		return -ERANGE;
	}
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': mult = 1ull << 10; end++; break;
		case 'm': case 'M': mult = 1ull << 20; end++; break;
		case 'g': case 'G': mult = 1ull << 30; end++; break;
		}
	}
	if (*end != '\0')
		goto nan;
	if (v > hi / mult || v * mult < lo || v * mult > hi) {
		snprintf(err, errlen, "%s: %s is out of range (%llu-%llu)", name, s, lo, hi);
		return -ERANGE;
	}
	*out = v * mult;
	return 0;
nan:
	snprintf(err, errlen, "%s: '%s' is not a number", name, s);
	return -EINVAL;
}

/*
 * Whom datagrams may come from without --allowed-origin: private address
 * space only (RFC 1918, RFC 6598's shared 100.64.0.0/10, RFC 2544's
 * 198.18.0.0/15 of labs), where GWLB endpoints are; not anyone on the
 * Internet who reaches UDP 6081.  Host order.  A difference from upstream,
 * which accepts any source.
 */
static const struct {
	uint32_t	net;
	unsigned	plen;
} private4[] = {
	{ 0x0a000000, 8 }, { 0xac100000, 12 }, { 0xc0a80000, 16 },
	{ 0x64400000, 10 }, { 0xc6120000, 15 },
};
#define N_PRIVATE4	(sizeof(private4) / sizeof(private4[0]))

bool
conf_origin_allowed(const struct config *c, uint32_t addr)
{
	if (c->n_origins == 0) {
		uint32_t a = ntohl(addr);

		for (unsigned i = 0; i < N_PRIVATE4; i++)
			if ((a & (~0u << (32 - private4[i].plen))) == private4[i].net)
				return true;
		return false;
	}
	for (unsigned i = 0; i < c->n_origins; i++)
		if ((addr & c->origins[i].mask) == c->origins[i].addr)
			return true;
	return false;
}

static int
parse_cidr(const char *name, const char *s, struct origin *o, char *err, size_t errlen)
{
	char buf[INET_ADDRSTRLEN + 4], pname[64], *slash;
	unsigned long long plen = 32;
	struct in_addr a;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		snprintf(pname, sizeof(pname), "%s prefix length", name);
		if (parse_num(pname, slash + 1, 0, 32, false, &plen, err, errlen) < 0)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	o->mask = plen ? htonl(~0u << (32 - plen)) : 0;
	o->addr = a.s_addr & o->mask;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%s' is not an IPv4 CIDR", name, s);
	return -EINVAL;
}

/* "LO-HI" routing table numbers, 1..2^32-1 but not the kernel's own. */
static int
parse_range(const char *name, const char *s, uint32_t *lo, uint32_t *hi, char *err,
    size_t errlen)
{
	unsigned long long a, b;
	const char *p = s;
	char *end;

	errno = 0;
	a = strtoull(p, &end, 10);
	if (end == p || *end != '-' || errno || *p == '-')
		goto bad;
	p = end + 1;
	b = strtoull(p, &end, 10);
	if (end == p || *end != '\0' || errno || *p == '-')
		goto bad;
	if (a < 1 || b > 0xffffffffull || a > b || (a <= 255 && b >= 253)) {
		snprintf(err, errlen, "%s: %llu-%llu: must be ascending, within 1-4294967295 "
		    "and clear of the kernel's tables 253-255", name, a, b);
		return -EINVAL;
	}
	if (b - a >= 1000000) {
		snprintf(err, errlen, "%s: %llu-%llu: at most a million tables", name, a, b);
		return -EINVAL;
	}
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%s': expected LO-HI", name, s);
	return -EINVAL;
}

/*
 * Check val and store it in c.  name is what the message calls the
 * option: "-t" or "--timeout" as given, or the file's keyword.  val is
 * NULL for a flag on the command line; it is kept by pointer, not copied.
 */
static int
opt_set(const struct conf_opt *o, const char *name, const char *val, struct config *c,
    char *err, size_t errlen)
{
	unsigned long long v;
	int n;

	switch (o->type) {
	case OPT_HELP: case OPT_VERSION: case OPT_LIST: case OPT_DEBUG: case OPT_CHECK:
		break;
	case OPT_FLAG: case OPT_ONOFF:
		if (!val || strcmp(val, "on") == 0) {
			*FIELD(c, o->off, bool) = true;
		} else if (strcmp(val, "off") == 0) {
			*FIELD(c, o->off, bool) = false;
		} else {
			snprintf(err, errlen, "%s: '%s': expected on or off", name, val);
			return -EINVAL;
		}
		break;
	case OPT_UINT:
		if (parse_num(name, val, o->lo, o->hi, o->suffix, &v, err, errlen) < 0)
			return -EINVAL;
		*FIELD(c, o->off, unsigned) = (unsigned)v;
		break;
	case OPT_SOCKET:
		if (val[0] != '/' || strlen(val) >= 108) {
			snprintf(err, errlen, "%s: '%s' must be an absolute path shorter than "
			    "108 bytes", name, val);
			return -EINVAL;
		}
		/* fall through */
	case OPT_STR:
		*FIELD(c, o->off, const char *) = val;
		break;
	case OPT_ADDR4:
		if (inet_pton(AF_INET, val, FIELD(c, o->off, struct in_addr)) != 1) {
			snprintf(err, errlen, "%s: '%s' is not an IPv4 address", name, val);
			return -EINVAL;
		}
		break;
	case OPT_CIDRS: {
		unsigned *cnt = FIELD(c, o->aux, unsigned);

		struct origin *g = FIELD(c, o->off, struct origin);
		unsigned need = strcmp(val, "private") == 0 ? N_PRIVATE4 : 1;

		if (*cnt + need > MAX_ORIGINS) {
			snprintf(err, errlen, "%s: at most %d", name, MAX_ORIGINS);
			return -EINVAL;
		}
		if (strcmp(val, "any") == 0) {
			g[*cnt] = (struct origin){ 0, 0 };
		} else if (need == N_PRIVATE4) {
			for (unsigned i = 0; i < N_PRIVATE4; i++) {
				g[*cnt + i].mask = htonl(~0u << (32 - private4[i].plen));
				g[*cnt + i].addr = htonl(private4[i].net);
			}
		} else if (parse_cidr(name, val, g + *cnt, err, errlen) < 0) {
			return -EINVAL;
		}
		*cnt += need;
		break;
	}
	case OPT_CPUS: {
		char e[200];

		n = cpulist_parse(val, FIELD(c, o->off, cpu_set_t), e, sizeof(e));
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", name, e);
			return -EINVAL;
		}
		if (n > MAX_WORKERS / 2) {
			snprintf(err, errlen, "%s: more than %d CPUs", name, MAX_WORKERS / 2);
			return -EINVAL;
		}
		*FIELD(c, o->aux, bool) = true;
		break;
	}
	case OPT_RANGE:
		return parse_range(name, val, FIELD(c, o->off, uint32_t),
		    FIELD(c, o->aux, uint32_t), err, errlen);
	case OPT_GROUP: {
		struct group *gr = getgrnam(val);

		if (!gr) {
			snprintf(err, errlen, "%s: no group '%s'", name, val);
			return -EINVAL;
		}
		*FIELD(c, o->off, const char *) = val;
		*FIELD(c, o->aux, gid_t) = gr->gr_gid;
		break;
	}
	case OPT_LOGGING: {
		enum log_level tmp[LOG_SECTION__MAX];
		char e[200];

		log_levels_read(tmp);
		if (log_config_parse(val, tmp, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s: %s", name, e);
			return -EINVAL;
		}
		*FIELD(c, o->off, const char *) = val;
		break;
	}
	}
	return 0;
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The option has the same value in a and b. */
static bool
opt_eq(const struct conf_opt *o, const struct config *a, const struct config *b)
{
	switch (o->type) {
	case OPT_HELP: case OPT_VERSION: case OPT_LIST: case OPT_DEBUG: case OPT_CHECK:
		return true;
	case OPT_FLAG: case OPT_ONOFF:
		return *CFIELD(a, o->off, bool) == *CFIELD(b, o->off, bool);
	case OPT_UINT:
		return *CFIELD(a, o->off, unsigned) == *CFIELD(b, o->off, unsigned);
	case OPT_STR: case OPT_SOCKET: case OPT_LOGGING:
		return str_eq(*CFIELD(a, o->off, cstr), *CFIELD(b, o->off, cstr));
	case OPT_ADDR4:
		return CFIELD(a, o->off, struct in_addr)->s_addr ==
		    CFIELD(b, o->off, struct in_addr)->s_addr;
	case OPT_CIDRS: {
		unsigned n = *CFIELD(a, o->aux, unsigned);

		return n == *CFIELD(b, o->aux, unsigned) &&
		    memcmp(CFIELD(a, o->off, struct origin), CFIELD(b, o->off, struct origin),
		    n * sizeof(struct origin)) == 0;
	}
	case OPT_CPUS: {
		bool pa = *CFIELD(a, o->aux, bool);

		return pa == *CFIELD(b, o->aux, bool) &&
		    (!pa || CPU_EQUAL(CFIELD(a, o->off, cpu_set_t), CFIELD(b, o->off, cpu_set_t)));
	}
	case OPT_RANGE:
		return *CFIELD(a, o->off, uint32_t) == *CFIELD(b, o->off, uint32_t) &&
		    *CFIELD(a, o->aux, uint32_t) == *CFIELD(b, o->aux, uint32_t);
	case OPT_GROUP:
		return *CFIELD(a, o->aux, gid_t) == *CFIELD(b, o->aux, gid_t);
	}
	return true;
}

static size_t
opt_size(const struct conf_opt *o)
{
	switch (o->type) {
	case OPT_FLAG: case OPT_ONOFF:	return sizeof(bool);
	case OPT_UINT:		return sizeof(unsigned);
	case OPT_STR: case OPT_SOCKET: case OPT_GROUP: case OPT_LOGGING:
				return sizeof(const char *);
	case OPT_ADDR4:		return sizeof(struct in_addr);
	case OPT_CIDRS:		return sizeof(((struct config *)0)->origins);
	case OPT_CPUS:		return sizeof(cpu_set_t);
	case OPT_RANGE:		return sizeof(uint32_t);
	default:		return 0;
	}
}

static size_t
opt_aux_size(const struct conf_opt *o)
{
	switch (o->type) {
	case OPT_CIDRS:		return sizeof(unsigned);
	case OPT_CPUS:		return sizeof(bool);
	case OPT_RANGE:		return sizeof(uint32_t);
	case OPT_GROUP:		return sizeof(gid_t);
	default:		return 0;
	}
}

static void
opt_copy(const struct conf_opt *o, struct config *dst, const struct config *src)
{
	memcpy((char *)dst + o->off, (const char *)src + o->off, opt_size(o));
	memcpy((char *)dst + o->aux, (const char *)src + o->aux, opt_aux_size(o));
}

/* The defaults of the table into c; no routes. */
static void
conf_defaults(struct config *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	c->control_gid = (gid_t)-1;
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct conf_opt *o = &opts[i];

		/* The table's own defaults are in range: a test checks each. */
		if (o->def && opt_set(o, o->name, o->def, c, err, sizeof(err)) < 0)
			abort();
	}
}

static bool owns_string(const struct conf_opt *o);

static void
copy_free(struct conf_copy *cc)
{
	if (!cc)
		return;
	for (size_t i = 0; i < N_OPTS; i++)
		free(cc->strs[i]);
	free(cc);
}

/* Build a copy of conf and swap it in for show config; -ENOMEM keeps the old. */
static int
conf_publish(void)
{
	struct conf_copy *cc = calloc(1, sizeof(*cc)), *old;

	if (!cc)
		return -ENOMEM;
	cc->c = conf;
	cc->c.cfg_routes = NULL;	/* not shown */
	cc->c.n_cfg_routes = 0;
	for (size_t i = 0; i < N_OPTS; i++) {
		const char **f = FIELD(&cc->c, opts[i].off, const char *);

		if (!owns_string(&opts[i]) || !*f)
			continue;
		if (!(cc->strs[i] = strdup(*f))) {
			copy_free(cc);
			return -ENOMEM;
		}
		*f = cc->strs[i];
	}
	pthread_mutex_lock(&shown_lock);
	old = shown_conf;
	shown_conf = cc;
	pthread_mutex_unlock(&shown_lock);
	copy_free(old);		/* no reader left: they hold the lock */
	return 0;
}

void
conf_reset(void)
{
	struct conf_copy *old;

	for (size_t i = 0; i < N_OPTS; i++) {
		free(owned[i]);
		owned[i] = NULL;
		cli_set[i] = false;
	}
	pthread_mutex_lock(&shown_lock);
	old = shown_conf;
	shown_conf = NULL;
	pthread_mutex_unlock(&shown_lock);
	copy_free(old);
	free(conf.cfg_routes);
	conf_defaults(&conf);
}

/* ---- --help, --list-options, show config ------------------------------------ */

static void
usage_group(FILE *f, bool upstream)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct conf_opt *o = &opts[i];
		const char *h = o->help, *nl, *dflt = o->defhelp ? o->defhelp : o->def;
		char left[64];

		if ((o->flags & OF_HIDDEN) || !(o->flags & OF_UPSTREAM) != !upstream)
			continue;
		if (o->shortopt)
			snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->shortopt, o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "      --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(left) > 25)
			fprintf(f, "%s\n%27s", left, "");
		else
			fprintf(f, "%-27s", left);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%27s", (int)(nl - h), h, "");
			h = nl + 1;
		}
		if (!dflt)
			fprintf(f, "%s\n", h);
		else if (27 + strlen(h) + strlen(" (default )") + strlen(dflt) <= 79)
			fprintf(f, "%s (default %s)\n", h, dflt);
		else
			fprintf(f, "%s\n%27s(default %s)\n", h, "", dflt);
	}
}

void
conf_usage(FILE *f)
{
	fputs("usage: gwlbtund [options]\n"
	    "AWS Gateway Load Balancer tunnel handler: GENEVE on UDP in, one TUN link per\n"
	    "endpoint (gwi-X, and gwo-X with return traffic) out, replies re-encapsulated.\n"
	    "\nOptions compatible with upstream gwlbtun:\n", f);
	usage_group(f, true);
	fputs("\ngwlbtund options:\n", f);
	usage_group(f, false);
	fputs("\nA --config file may set any option (-d as \"debug on\") but those that act\nonce:", f);
	for (size_t i = 0, k = 0; i < N_OPTS; i++) {
		if (opts[i].flags & (OF_FILE | OF_HIDDEN))
			continue;
		fprintf(f, "%s --%s", k++ ? "," : "", opts[i].name);
	}
	fputs(".\nOne a line: its long name, then the value (on or off for those without\n"
	    "one).  The command line wins over the file.\n", f);
}

void
conf_list_options(FILE *f)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct conf_opt *o = &opts[i];

		if (o->flags & OF_HIDDEN)
			continue;
		fprintf(f, "%s %c %s %s %s %s\n", o->name, o->shortopt ? o->shortopt : '-',
		    o->arg ? o->arg : "-", o->flags & OF_FILE ? "file" : "-",
		    !(o->flags & OF_FILE) ? "-" : o->flags & OF_RELOAD ? "reload" : "restart",
		    o->flags & OF_UPSTREAM ? "upstream" : "gwlbtund");
	}
}

static void
opt_format(const struct conf_opt *o, const struct config *c, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	switch (o->type) {
	case OPT_HELP: case OPT_VERSION: case OPT_LIST: case OPT_DEBUG: case OPT_CHECK:
		break;
	case OPT_FLAG: case OPT_ONOFF:
		snprintf(buf, size, "%s", *CFIELD(c, o->off, bool) ? (o->yes ? o->yes : "yes") :
		    (o->no ? o->no : "no"));
		break;
	case OPT_UINT:
		snprintf(buf, size, "%u", *CFIELD(c, o->show ? o->show - 1 : o->off, unsigned));
		break;
	case OPT_STR: case OPT_SOCKET: case OPT_GROUP: {
		const char *s = *CFIELD(c, o->off, cstr);

		snprintf(buf, size, "%s", s ? s : "");
		break;
	}
	case OPT_ADDR4:
		inet_ntop(AF_INET, CFIELD(c, o->off, struct in_addr), buf, (socklen_t)size);
		break;
	case OPT_CIDRS:
		if (*CFIELD(c, o->aux, unsigned) == 0)
			snprintf(buf, size, "private");
		for (unsigned i = 0; i < *CFIELD(c, o->aux, unsigned) && off < size; i++) {
			const struct origin *g = CFIELD(c, o->off, struct origin) + i;
			char ab[INET_ADDRSTRLEN];

			if (g->mask == 0) {
				off += (size_t)snprintf(buf + off, size - off, "%sany", i ? "," : "");
				continue;
			}
			inet_ntop(AF_INET, &g->addr, ab, sizeof(ab));
			off += (size_t)snprintf(buf + off, size - off, "%s%s/%d", i ? "," : "",
			    ab, __builtin_popcount(g->mask));
		}
		break;
	case OPT_CPUS:
		if (*CFIELD(c, o->aux, bool))
			cpulist_format(CFIELD(c, o->off, cpu_set_t), buf, size);
		break;
	case OPT_RANGE:
		snprintf(buf, size, "%u-%u", *CFIELD(c, o->off, uint32_t),
		    *CFIELD(c, o->aux, uint32_t));
		break;
	case OPT_LOGGING:
		/* The levels in force: gwlbctl log changes them too. */
		for (int i = 0; i < LOG_SECTION__MAX && off < size; i++)
			off += (size_t)snprintf(buf + off, size - off, "%s%s=%s", i ? "," : "",
			    log_section_str((enum log_section)i),
			    log_level_str(log_level_get((enum log_section)i)));
		break;
	}
}

void
conf_show(void (*fn)(const char *name, const char *value, void *arg), void *arg)
{
	char buf[MAX_ORIGINS * 20 + 64];

	pthread_mutex_lock(&shown_lock);
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opts[i].flags & OF_NOSHOW)
			continue;
		opt_format(&opts[i], shown_conf ? &shown_conf->c : &conf, buf, sizeof(buf));
		fn(opts[i].name, buf, arg);
	}
	pthread_mutex_unlock(&shown_lock);
}

/* ---- the configuration file -------------------------------------------------- */

/* Append "fmt" to buf, space-separated (names) or as is. */
static void
rep_add(char *buf, size_t size, const char *sep, const char *what)
{
	size_t len = strlen(buf);

	if (len + strlen(sep) + strlen(what) + 1 > size)
		return;		/* full: the count and the log still say it */
	snprintf(buf + len, size - len, "%s%s", len ? sep : "", what);
}

/*
 * Report a configuration error: to stderr at start (bare "FILE:LINE:
 * message" with --check-config, as compilers do), to the log on reload;
 * and into rep.
 */
static void
cfg_error(bool at_start, struct conf_report *rep, const char *path, unsigned line,
    const char *msg)
{
	char where[16] = "", full[600];

	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	snprintf(full, sizeof(full), "%s%s: %s", path, where, msg);
	if (rep) {
		rep->n_errors++;
		rep_add(rep->errors, sizeof(rep->errors), "\n", full);
	}
	if (at_start)
		fprintf(stderr, "%s%s\n", conf.check_only ? "" : "gwlbtund: ", full);
	else
		log_msg(LOG_CORE, LOG_IMPORTANT, "%s", full);
}

static const struct conf_opt *
file_keyword(const char *w)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if ((opts[i].flags & OF_FILE) && strcmp(opts[i].name, w) == 0)
			return &opts[i];
	return NULL;
}

static size_t
opt_index(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return i;
	abort();	/* a name of the table: a test would fail first */
}

static bool
owns_string(const struct conf_opt *o)
{
	return o->type == OPT_STR || o->type == OPT_SOCKET || o->type == OPT_GROUP ||
	    o->type == OPT_LOGGING;
}

/* A route or rule line: "route ..." is "route add ..." of the grammar. */
static int
file_route(unsigned nw, char **words, struct ctl_cmd_args *out, char *err, size_t errlen)
{
	const char *cw[CTL_WORDS_MAX + 1];

	if (nw + 1 > CTL_WORDS_MAX) {
		snprintf(err, errlen, "too many words");
		return -EINVAL;
	}
	cw[0] = words[0];
	cw[1] = "add";
	for (unsigned i = 1; i < nw; i++)
		cw[i + 1] = words[i];
	return ctl_cmd_parse((int)nw + 1, cw, out, err, errlen);
}

/* The parser speaks of "route add": the file does not. */
static const char *
file_msg(const char *e)
{
	if (strncmp(e, "route add: ", 11) == 0 || strncmp(e, "rule add: ", 10) == 0)
		return strchr(e, ':') + 2;
	return e;
}

static int load_stream(FILE *f, const char *path, bool at_start, struct conf_report *rep);

int
conf_load_file(const char *path, bool at_start)
{
	struct conf_report rep;

	return conf_load_file_report(path, at_start, &rep);
}

int
conf_load_file_report(const char *path, bool at_start, struct conf_report *rep)
{
	char err[300];
	FILE *f = fopen(path, "re");
	int r;

	memset(rep, 0, sizeof(*rep));
	if (!f) {
		snprintf(err, sizeof(err), "cannot open: %s", strerror(errno));
		cfg_error(at_start, rep, path, 0, err);
		return -1;
	}
	r = load_stream(f, path, at_start, rep);
	fclose(f);
	return r;
}

int
conf_load_stream(FILE *f, const char *path, bool at_start)
{
	struct conf_report rep;

	memset(&rep, 0, sizeof(rep));
	return load_stream(f, path, at_start, &rep);
}

static int
load_stream(FILE *f, const char *path, bool at_start, struct conf_report *rep)
{
	struct ctl_cmd_args *list = NULL;
	unsigned *lines = NULL, n = 0, lineno = 0;
	char line[1024], err[300];
	char *strs[N_OPTS] = { NULL };
	struct config cand;
	bool ok = true, no_return;

	conf_defaults(&cand);
	while (fgets(line, sizeof(line), f)) {
		char *words[CTL_WORDS_MAX + 1], *save = NULL, *w, *hash;
		const struct conf_opt *o;
		unsigned nw = 0;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			int ch;

			cfg_error(at_start, rep, path, lineno, "line too long");
			ok = false;
			while ((ch = getc(f)) != EOF && ch != '\n')
				;	/* the rest of it; the next line is checked */
			continue;
		}
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		for (w = strtok_r(line, " \t\r\n", &save); w && nw < CTL_WORDS_MAX;
		    w = strtok_r(NULL, " \t\r\n", &save))
			words[nw++] = w;
		if (w) {
			cfg_error(at_start, rep, path, lineno, "too many words");
			ok = false;
			continue;
		}
		if (nw == 0)
			continue;
		if (strcmp(words[0], "route") == 0 || strcmp(words[0], "rule") == 0) {
			struct ctl_cmd_args *nl = realloc(list, sizeof(*list) * (n + 1));
			unsigned *nln = realloc(lines, sizeof(*lines) * (n + 1));

			if (nl)
				list = nl;
			if (nln)
				lines = nln;
			if (!nl || !nln) {
				cfg_error(at_start, rep, path, lineno, "out of memory");
				ok = false;
				break;
			}
			if (file_route(nw, words, &list[n], err, sizeof(err)) < 0) {
				cfg_error(at_start, rep, path, lineno, file_msg(err));
				ok = false;
				continue;
			}
			lines[n++] = lineno;
			continue;
		}
		o = file_keyword(words[0]);
		if (o && o->type == OPT_DEBUG && nw == 2) {
			/* "debug on" is -d: "logging all=debug"; "debug off" nothing. */
			if (strcmp(words[1], "off") == 0)
				continue;
			if (strcmp(words[1], "on") != 0) {
				cfg_error(at_start, rep, path, lineno, "debug: expected on or off");
				ok = false;
				continue;
			}
			o = &opts[opt_index("logging")];
			words[1] = (char *)"all=debug";
		}
		if (!o) {
			snprintf(err, sizeof(err), "unknown setting '%s' (route, rule, or an "
			    "option's long name: see gwlbtund --help)", words[0]);
			cfg_error(at_start, rep, path, lineno, err);
			ok = false;
			continue;
		}
		if (nw != 2) {
			snprintf(err, sizeof(err), "%s takes one value (%s)", words[0],
			    o->type == OPT_FLAG || o->type == OPT_ONOFF || o->type == OPT_DEBUG ?
			    "on or off" : o->arg);
			cfg_error(at_start, rep, path, lineno, err);
			ok = false;
			continue;
		}
		if (owns_string(o)) {
			size_t i = (size_t)(o - opts);
			char *s = strdup(words[1]);

			if (!s) {
				cfg_error(at_start, rep, path, lineno, "out of memory");
				ok = false;
				break;
			}
			if (opt_set(o, o->name, s, &cand, err, sizeof(err)) < 0) {
				free(s);
			} else {
				free(strs[i]);	/* given twice: the last line counts */
				strs[i] = s;
				continue;
			}
		} else if (opt_set(o, o->name, words[1], &cand, err, sizeof(err)) == 0) {
			continue;
		}
		cfg_error(at_start, rep, path, lineno, err);
		ok = false;
	}

	/* Routes are checked against no-return as it will be. */
	no_return = at_start && !cli_set[opt_index("no-return")] ? cand.no_return : conf.no_return;
	for (unsigned i = 0; i < n; i++) {
		if (route_args_check(&list[i], no_return, err, sizeof(err)) < 0) {
			cfg_error(at_start, rep, path, lines[i], file_msg(err));
			ok = false;
		}
	}
	free(lines);
	if (!ok) {
		free(list);
		for (size_t i = 0; i < N_OPTS; i++)
			free(strs[i]);
		return -1;
	}

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct conf_opt *o = &opts[i];

		if (!(o->flags & OF_FILE) || cli_set[i] || opt_eq(o, &cand, &conf)) {
			free(strs[i]);
			continue;
		}
		if (!at_start && !(o->flags & OF_RELOAD)) {
			log_msg(LOG_CORE, LOG_IMPORTANT, "%s: %s changes need a restart", path,
			    o->name);
			rep_add(rep->restart, sizeof(rep->restart), " ", o->name);
			free(strs[i]);
			continue;
		}
		rep_add(rep->changed, sizeof(rep->changed), " ", o->name);
		if (o->type == OPT_LOGGING) {
			const char *spec = *FIELD(&cand, o->off, const char *);

			/* Checked by opt_set; a removed line leaves the levels as they are. */
			if (spec)
				apply_logging(spec);
		}
		opt_copy(o, &conf, &cand);
		if (owns_string(o)) {
			free(owned[i]);		/* only the manager reads it: see shown_conf */
			owned[i] = strs[i];
		}
	}
	free(conf.cfg_routes);
	conf.cfg_routes = list;
	conf.n_cfg_routes = n;
	if (!at_start && conf_publish() < 0)
		log_msg(LOG_CORE, LOG_IMPORTANT, "%s: reloaded, but show config still shows "
		    "the previous settings (out of memory)", path);
	return 0;
}

/* ---- the command line ------------------------------------------------------------ */

static int
default_threads(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

/* Threads from the options, once the command line and the file are read. */
static int
conf_threads(char *err, size_t errlen)
{
	cpu_set_t allowed, missing;
	char list[256], have[256];

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
				cpulist_format(&missing, list, sizeof(list));
				cpulist_format(&allowed, have, sizeof(have));
				snprintf(err, errlen, "%s: CPU %s not available to us (we may run "
				    "on %s)", k ? "--tunaffinity" : "--udpaffinity", list, have);
				return -EINVAL;
			}
		}
	}
	for (int k = 0; k < 2; k++) {
		bool pinned = k ? conf.tun_pinned : conf.rx_pinned;
		unsigned req = k ? conf.tun_threads_req : conf.rx_threads_req, t;

		if (pinned) {
			t = (unsigned)CPU_COUNT(k ? &conf.tun_cpus : &conf.rx_cpus);
			if (req && req != t)
				fprintf(stderr, "gwlbtund: --%s %u ignored: --%s names %u CPUs, "
				    "one thread each (as upstream)\n", k ? "tunthreads" : "udpthreads",
				    req, k ? "tunaffinity" : "udpaffinity", t);
		} else {
			t = req ? req : (unsigned)default_threads();
		}
		if (t > MAX_WORKERS / 2)
			t = MAX_WORKERS / 2;
		*(k ? &conf.tun_threads : &conf.rx_threads) = t;
	}
	if (conf.no_return)
		conf.tun_threads = 0;
	return 0;
}

int
conf_args(int argc, char **argv, char *err, size_t errlen)
{
	static struct option longs[N_OPTS + 1];
	char shorts[2 * N_OPTS + 1], name[64];
	size_t ns = 0;
	int c, li;

	conf_reset();
	err[0] = '\0';
	for (size_t i = 0; i < N_OPTS; i++) {
		longs[i] = (struct option){ opts[i].name,
		    takes_arg(&opts[i]) ? required_argument : no_argument, NULL, 256 + (int)i };
		if (opts[i].shortopt) {
			shorts[ns++] = opts[i].shortopt;
			if (takes_arg(&opts[i]))
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	optind = 0;	/* glibc: start afresh (tests parse many vectors) */
	/* Known before the first error: it decides how errors are reported. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--check-config") == 0)
			conf.check_only = true;

	while (li = -1, (c = getopt_long(argc, argv, shorts, longs, &li)) != -1) {
		const struct conf_opt *o = NULL;

		if (c >= 256 && c < 256 + (int)N_OPTS)
			o = &opts[c - 256];
		for (size_t i = 0; !o && c > 0 && c < 256 && i < N_OPTS; i++)
			if (opts[i].shortopt == c)
				o = &opts[i];
		if (!o)
			return -1;	/* getopt printed the reason */
		if (li >= 0)
			snprintf(name, sizeof(name), "--%s", o->name);
		else
			snprintf(name, sizeof(name), "-%c", o->shortopt);
		switch (o->type) {
		case OPT_HELP:
			conf_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("gwlbtund %s\n", PACKAGE_VERSION);
			return 1;
		case OPT_LIST:
			conf_list_options(stdout);
			return 1;
		case OPT_CHECK:
			conf.check_only = true;
			continue;
		case OPT_DEBUG:
			log_set_all(LOG_DEBUG);
			/* -d is a logging setting: the file's does not undo it. */
			for (size_t i = 0; i < N_OPTS; i++)
				if (opts[i].type == OPT_LOGGING)
					cli_set[i] = true;
			continue;
		default:
			break;
		}
		if (opt_set(o, name, optarg, &conf, err, errlen) < 0)
			return -1;
		if (o->type == OPT_LOGGING)
			apply_logging(optarg);
		cli_set[o - opts] = true;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	/* The file after the command line, which it does not override. */
	if (conf.config_file && conf_load_file(conf.config_file, true) < 0)
		return -1;
	if (conf_threads(err, errlen) < 0)
		return -1;
	if (conf_publish() < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
conf_parse(int argc, char **argv)
{
	char err[512];
	int r = conf_args(argc, argv, err, sizeof(err));

	if (r > 0)
		exit(0);
	if (r < 0) {
		if (err[0])
			fprintf(stderr, "gwlbtund: %s (see gwlbtund --help)\n", err);
		exit(conf.check_only ? 1 : 2);
	}
	if (conf.check_only) {
		printf("%s: configuration OK (%u routes and rules)\n",
		    conf.config_file ? conf.config_file : "command line", conf.n_cfg_routes);
		exit(0);
	}
}

/* ---- gwlbctl reload: a request to the manager -------------------------------- */

/* Each request has a number; the manager answers the one it took (a caller
 * that gave up leaves its late answer to no one, not to the next). */
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rl_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t rl_one = PTHREAD_MUTEX_INITIALIZER;	/* one caller at a time */
static uint64_t rl_seq;		/* the request waiting for an answer; 0: none */
static uint64_t rl_last;	/* the last number given */
static uint64_t rl_taken;	/* the one the manager took (manager: answers it) */
static bool rl_done;
static struct conf_report rl_rep;

int
conf_reload_request(int wake_fd, unsigned timeout_s, struct conf_report *rep)
{
	struct timespec deadline;
	uint64_t one = 1;
	int ret = 0;

	pthread_mutex_lock(&rl_one);
	pthread_mutex_lock(&rl_lock);
	rl_seq = ++rl_last;
	rl_done = false;
	pthread_mutex_unlock(&rl_lock);
	(void)!write(wake_fd, &one, sizeof(one));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&rl_lock);
	while (!rl_done)
		if (pthread_cond_timedwait(&rl_cond, &rl_lock, &deadline) == ETIMEDOUT)
			break;
	if (rl_done)
		*rep = rl_rep;
	else
		ret = -ETIMEDOUT;
	rl_seq = 0;	/* a late answer finds no one: dropped */
	pthread_mutex_unlock(&rl_lock);
	pthread_mutex_unlock(&rl_one);
	return ret;
}

bool
conf_reload_pending(void)
{
	bool p;

	pthread_mutex_lock(&rl_lock);
	p = rl_seq && !rl_done && rl_taken != rl_seq;
	if (p)
		rl_taken = rl_seq;
	pthread_mutex_unlock(&rl_lock);
	return p;
}

void
conf_reload_answer(const struct conf_report *rep)
{
	pthread_mutex_lock(&rl_lock);
	if (rl_seq && rl_seq == rl_taken && !rl_done) {
		rl_rep = *rep;
		rl_done = true;
		pthread_cond_signal(&rl_cond);
	}
	pthread_mutex_unlock(&rl_lock);
}
