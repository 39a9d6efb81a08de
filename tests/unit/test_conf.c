/*
 * Unit tests for the daemon's configuration (daemon/conf.c): the option
 * table as the user meets it.  Argument vectors and temporary files go
 * through conf_args and conf_load_file; the values are read back from
 * struct config and from conf_show (what `gwlbctl show config` prints).
 * Messages on stderr (the file's errors, the reload's log lines) are
 * captured through a temporary file.  No root needed.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

static int rl_wake = -1;

#define NVEC(a)	(sizeof(a) / sizeof((a)[0]))

static char cfg_path[64];

static void
write_file(const char *text)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* stderr into a temporary file between capture_begin and capture_end. */
static int saved_stderr = -1;
static FILE *cap;

static void
capture_begin(void)
{
	cap = tmpfile();
	assert_non_null(cap);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(cap), 2) >= 0);
}

static char *
capture_end(void)
{
	static char buf[8192];
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved_stderr, 2) >= 0);
	close(saved_stderr);
	rewind(cap);
	n = fread(buf, 1, sizeof(buf) - 1, cap);
	buf[n] = '\0';
	fclose(cap);
	return buf;
}

/* conf_args on a NULL-terminated list of words after "gwlbtund". */
static int
args_v(char *err, size_t errlen, const char *const *words)
{
	char *argv[48];
	int argc = 0;

	argv[argc++] = (char *)"gwlbtund";
	for (; *words; words++) {
		assert_true(argc < 47);
		argv[argc++] = (char *)(uintptr_t)*words;
	}
	argv[argc] = NULL;
	return conf_args(argc, argv, err, errlen);
}

#define ARGS(err, ...) \
	args_v((err), sizeof(err), (const char *const[]){ __VA_ARGS__, NULL })

struct shown {
	char	name[32];
	char	value[700];
};

static struct shown show[64];
static unsigned n_show;

static void
show_one(const char *name, const char *value, void *arg)
{
	(void)arg;
	assert_true(n_show < NVEC(show));
	snprintf(show[n_show].name, sizeof(show[n_show].name), "%s", name);
	snprintf(show[n_show].value, sizeof(show[n_show].value), "%s", value);
	n_show++;
}

/* The value `show config` gives NAME, which must be there exactly once. */
static const char *
shown(const char *name)
{
	const char *v = NULL;

	n_show = 0;
	conf_show(show_one, NULL);
	for (unsigned i = 0; i < n_show; i++) {
		if (strcmp(show[i].name, name) == 0) {
			if (v)
				fail_msg("show config: %s twice", name);
			v = show[i].value;
		}
	}
	if (!v)
		fail_msg("show config: no %s", name);
	return v;
}

/* The lines of conf_list_options: NAME SHORT ARG file|- reload|restart|- GROUP. */
struct listed {
	char	name[32], shortopt[4], arg[16], file[8], reload[8], group[16];
};

static unsigned
list_options(struct listed *l, unsigned max)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	unsigned n = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	conf_list_options(f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < max);
		assert_int_equal(sscanf(line, "%31s %3s %15s %7s %7s %15s", l[n].name, l[n].shortopt,
		    l[n].arg, l[n].file, l[n].reload, l[n].group), 6);
		n++;
	}
	free(text);
	return n;
}

static int
first_cpu(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	return 0;
}

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "%s/test_conf.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(cfg_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(cfg_path);
	conf_reset();
	return 0;
}

/* ---- tests -------------------------------------------------------------------- */

static void
test_defaults(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(ARGS(err, NULL) , 0);
	assert_int_equal(conf.idle_teardown_s, 0);
	assert_int_equal(conf.tcp_idle_s, 350);
	assert_int_equal(conf.udp_idle_s, 120);
	assert_int_equal(conf.health_port, 0);
	assert_int_equal(conf.geneve_port, 6081);
	assert_int_equal(conf.batch, 64);
	assert_int_equal(conf.rcvbuf, 128u << 20);
	assert_int_equal(conf.busy_poll_us, 0);
	assert_int_equal(conf.max_enis, 1024);
	assert_int_equal(conf.mtu, 8500);
	assert_int_equal(conf.txqueuelen, 1000);
	assert_int_equal(conf.hook_timeout_s, 30);
	assert_int_equal(conf.max_flows_per_eni, 65536);
	assert_int_equal(conf.control_gid, (gid_t)-1);
	assert_int_equal(conf.table_lo, 10000);
	assert_int_equal(conf.table_hi, 19999);
	assert_int_equal(conf.n_origins, 0);
	assert_int_equal(conf.n_cfg_routes, 0);
	assert_false(conf.forwarding);
	assert_false(conf.no_return);
	assert_false(conf.rx_pinned);
	assert_null(conf.create_hook);
	assert_null(conf.route_hook);
	assert_string_equal(conf.control_path, RUNSTATEDIR "/gwlbtund/gwlbtund.sock");
	assert_true(conf.rx_threads >= 1);
	assert_int_equal(conf.rx_threads, conf.tun_threads);

	/* What show config says of them. */
	assert_string_equal(shown("rcvbuf"), "134217728");
	assert_string_equal(shown("forwarding"), "unchanged");
	assert_string_equal(shown("json"), "no");
	assert_string_equal(shown("table-range"), "10000-19999");
	assert_string_equal(shown("bind"), "0.0.0.0");
	assert_string_equal(shown("cmdnew"), "");
	assert_string_equal(shown("udpaffinity"), "");
	assert_string_equal(shown("control-group"), "");
	assert_string_equal(shown("control-socket"), RUNSTATEDIR "/gwlbtund/gwlbtund.sock");
}

static void
test_cli_values(void **state)
{
	char err[256], cpu[16];

	(void)state;
	snprintf(cpu, sizeof(cpu), "%d", first_cpu());
	assert_int_equal(ARGS(err, "-c", "/c", "-r", "/r", "-t", "60", "-i", "100", "-p", "8080",
	    "-js", "--mtu", "8000", "--rcvbuf", "4M", "--allowed-origin", "198.18.0.0/15",
	    "--allowed-origin", "192.0.2.7/24", "--udpaffinity", cpu, "--udpthreads", "1",
	    "--no-return", "--table-range", "20000-20009", "--forwarding", "--bind",
	    "198.18.0.1", "--control-group", "root"), 0);
	assert_string_equal(conf.create_hook, "/c");
	assert_string_equal(conf.destroy_hook, "/r");
	assert_int_equal(conf.idle_teardown_s, 60);
	assert_int_equal(conf.tcp_idle_s, 100);
	assert_int_equal(conf.health_port, 8080);
	assert_true(conf.health_json);
	assert_true(conf.health_status_only);
	assert_int_equal(conf.mtu, 8000);
	assert_int_equal(conf.rcvbuf, 4u << 20);
	assert_int_equal(conf.n_origins, 2);
	assert_string_equal(shown("allowed-origin"), "198.18.0.0/15,192.0.2.0/24");
	assert_true(conf.rx_pinned);
	assert_int_equal(conf.rx_threads, 1);
	assert_string_equal(shown("udpaffinity"), cpu);
	assert_true(conf.no_return);
	assert_int_equal(conf.tun_threads, 0);
	assert_int_equal(conf.table_lo, 20000);
	assert_int_equal(conf.table_hi, 20009);
	assert_true(conf.forwarding);
	assert_string_equal(shown("forwarding"), "on");
	assert_string_equal(shown("bind"), "198.18.0.1");
	assert_int_equal(conf.control_gid, 0);
	assert_string_equal(shown("control-group"), "root");
	assert_string_equal(shown("status-only"), "yes");

	/* The long names of the upstream short options. */
	assert_int_equal(ARGS(err, "--status-only", "--json", "--timeout", "5", "--idle", "7"), 0);
	assert_true(conf.health_status_only);
	assert_true(conf.health_json);
	assert_int_equal(conf.idle_teardown_s, 5);
	assert_int_equal(conf.tcp_idle_s, 7);
}

/* Who may send GENEVE: private address space by default, then exactly what
 * --allowed-origin says, "any" and "private" as keywords. */
static void
test_allowed_origin(void **state)
{
	static const struct {
		const char	*addr;
		bool		allowed;	/* by default */
	} vec[] = {
		{ "8.8.8.8", false }, { "1.1.1.1", false }, { "52.94.0.1", false },
		{ "10.0.0.1", true }, { "10.255.255.255", true }, { "11.0.0.0", false },
		{ "9.255.255.255", false },
		{ "172.16.0.1", true }, { "172.31.255.254", true }, { "172.32.0.0", false },
		{ "172.15.255.255", false },
		{ "192.168.1.1", true }, { "192.169.0.0", false }, { "192.167.255.255", false },
		{ "100.64.0.1", true }, { "100.127.255.255", true }, { "100.128.0.0", false },
		{ "100.63.255.255", false },
		{ "198.18.0.1", true }, { "198.19.255.255", true }, { "198.20.0.1", false },
		{ "198.17.255.255", false },
		{ "192.0.2.1", false }, { "203.0.113.9", false }, { "0.0.0.0", false },
		{ "255.255.255.255", false },
	};
	char err[256];

	(void)state;
	assert_int_equal(ARGS(err, "-p", "80"), 0);
	assert_int_equal(conf.n_origins, 0);
	assert_string_equal(shown("allowed-origin"), "private");
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct in_addr a;

		assert_int_equal(inet_pton(AF_INET, vec[i].addr, &a), 1);
		if (conf_origin_allowed(&conf, a.s_addr) != vec[i].allowed)
			fail_msg("default: %s should be %s", vec[i].addr,
			    vec[i].allowed ? "allowed" : "refused");
	}

	/* "private" said explicitly is the same set, and can be widened. */
	conf_reset();
	assert_int_equal(ARGS(err, "--allowed-origin", "private", "--allowed-origin",
	    "192.0.2.0/24"), 0);
	assert_int_equal(conf.n_origins, 6);
	assert_string_equal(shown("allowed-origin"), "10.0.0.0/8,172.16.0.0/12,"
	    "192.168.0.0/16,100.64.0.0/10,198.18.0.0/15,192.0.2.0/24");
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct in_addr a;

		inet_pton(AF_INET, vec[i].addr, &a);
		if (conf_origin_allowed(&conf, a.s_addr) !=
		    (vec[i].allowed || strncmp(vec[i].addr, "192.0.2.", 8) == 0))
			fail_msg("private + 192.0.2.0/24: %s", vec[i].addr);
	}

	/* An explicit list replaces the default: 10.1.0.0/16 only. */
	conf_reset();
	assert_int_equal(ARGS(err, "--allowed-origin", "10.1.0.0/16"), 0);
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct in_addr a;

		inet_pton(AF_INET, vec[i].addr, &a);
		assert_false(conf_origin_allowed(&conf, a.s_addr));
	}
	assert_true(conf_origin_allowed(&conf, inet_addr("10.1.2.3")));
	assert_false(conf_origin_allowed(&conf, inet_addr("10.2.0.1")));

	/* any: every source. */
	conf_reset();
	assert_int_equal(ARGS(err, "--allowed-origin", "any"), 0);
	assert_string_equal(shown("allowed-origin"), "any");
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct in_addr a;

		inet_pton(AF_INET, vec[i].addr, &a);
		assert_true(conf_origin_allowed(&conf, a.s_addr));
	}

	/* Room for "private" is checked like one more CIDR. */
	conf_reset();
	{
		char *av[2 * MAX_ORIGINS + 2] = { (char *)"gwlbtund" };
		int n = 1;

		for (int i = 0; i < MAX_ORIGINS - 2; i++) {
			av[n++] = (char *)"--allowed-origin";
			av[n++] = (char *)"any";
		}
		av[n++] = (char *)"--allowed-origin";
		av[n++] = (char *)"private";
		assert_int_equal(conf_args(n, av, err, sizeof(err)), -1);
		assert_string_equal(err, "--allowed-origin: at most 32");
	}
}

static void
test_ranges_refused(void **state)
{
	static const struct {
		const char *opt, *val, *msg;	/* msg: NULL = accepted */
	} vec[] = {
		{ "--mtu", "1280", NULL },
		{ "--mtu", "8500", NULL },
		{ "--mtu", "1279", "--mtu: 1279 is out of range (1280-8500)" },
		/* GWLB drops what is larger, silently: refused, not dropped later. */
		{ "--mtu", "8501", "--mtu: 8501 is out of range (1280-8500)" },
		{ "--mtu", "9000", "--mtu: 9000 is out of range (1280-8500)" },
		{ "--mtu", "9k", "--mtu: '9k' is not a number" },
		{ "-t", "x", "-t: 'x' is not a number" },
		{ "--timeout", "-1", "--timeout: '-1' is not a number" },
		{ "-t", "31536000", NULL },
		{ "-t", "31536001", "-t: 31536001 is out of range (0-31536000)" },
		{ "-i", "0", "-i: 0 is out of range (1-86400)" },
		{ "-p", "65536", "-p: 65536 is out of range (1-65535)" },
		{ "--rcvbuf", "4095", "--rcvbuf: 4095 is out of range (4096-1073741824)" },
		{ "--rcvbuf", "1G", NULL },
		{ "--rcvbuf", "2G", "--rcvbuf: 2G is out of range (4096-1073741824)" },
		{ "--rcvbuf", "99999999999999999999", "--rcvbuf: '99999999999999999999' is out of range" },
		{ "--batch", "1025", "--batch: 1025 is out of range (1-1024)" },
		{ "--busy-poll", "0", NULL },
		{ "--busy-poll", "1000001", "--busy-poll: 1000001 is out of range (0-1000000)" },
		{ "--max-enis", "65537", "--max-enis: 65537 is out of range (1-65536)" },
		{ "--txqueuelen", "15", "--txqueuelen: 15 is out of range (16-65536)" },
		{ "--hook-timeout", "3601", "--hook-timeout: 3601 is out of range (1-3600)" },
		{ "--udp-idle", "86401", "--udp-idle: 86401 is out of range (1-86400)" },
		{ "--max-flows", "15", "--max-flows: 15 is out of range (16-16777216)" },
		{ "--geneve-port", "0", "--geneve-port: 0 is out of range (1-65535)" },
		{ "--udpthreads", "129", "--udpthreads: 129 is out of range (1-128)" },
		{ "--tunthreads", "0", "--tunthreads: 0 is out of range (1-128)" },
		{ "--allowed-origin", "1.2.3.4/33",
		  "--allowed-origin prefix length: 33 is out of range (0-32)" },
		{ "--allowed-origin", "1.2.3", "--allowed-origin: '1.2.3' is not an IPv4 CIDR" },
		{ "--bind", "::1", "--bind: '::1' is not an IPv4 address" },
		{ "--table-range", "5-4", "--table-range: 5-4: must be ascending, within "
		  "1-4294967295 and clear of the kernel's tables 253-255" },
		{ "--table-range", "100-300", "--table-range: 100-300: must be ascending, within "
		  "1-4294967295 and clear of the kernel's tables 253-255" },
		{ "--table-range", "1000-1000999", NULL },
		{ "--table-range", "1000-1001000", "--table-range: 1000-1001000: at most a million tables" },
		{ "--table-range", "1-x", "--table-range: '1-x': expected LO-HI" },
		{ "--control-socket", "rel.sock", "--control-socket: 'rel.sock' must be an absolute "
		  "path shorter than 108 bytes" },
		{ "--control-group", "no-such-group-here", "--control-group: no group "
		  "'no-such-group-here'" },
		{ "--logging", "core=loud", "--logging: unknown log level 'loud' (critical, "
		  "important, info, debug, debugdetail)" },
		{ "--udpaffinity", "1023", "--udpaffinity: CPU 1023 not available to us" },
		{ "--udpaffinity", "4095", "--udpaffinity: '4095': expected a CPU number below" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < NVEC(vec); i++) {
		int r = ARGS(err, vec[i].opt, vec[i].val);

		if (!vec[i].msg) {
			if (r != 0)
				fail_msg("%s %s refused: %s", vec[i].opt, vec[i].val, err);
			continue;
		}
		if (r != -1)
			fail_msg("%s %s accepted", vec[i].opt, vec[i].val);
		if (strncmp(err, vec[i].msg, strlen(vec[i].msg)) != 0)
			fail_msg("%s %s: '%s', expected '%s'", vec[i].opt, vec[i].val, err, vec[i].msg);
	}
	assert_int_equal(ARGS(err, "stray"), -1);
	assert_string_equal(err, "unexpected argument 'stray'");
	/* getopt's own complaint is on stderr: err stays empty. */
	capture_begin();
	assert_int_equal(ARGS(err, "--no-such-option"), -1);
	assert_non_null(strstr(capture_end(), "no-such-option"));
	assert_string_equal(err, "");
}

/* The daemon's entry point: one line on stderr and exit 2; --help exits 0. */
static void
test_parse_exits(void **state)
{
	static const struct {
		const char *arg, *val, *line;
		int status;
	} vec[] = {
		{ "--mtu", "9000", "gwlbtund: --mtu: 9000 is out of range (1280-8500) "
		  "(see gwlbtund --help)\n", 2 },
		{ "-p", "x", "gwlbtund: -p: 'x' is not a number (see gwlbtund --help)\n", 2 },
		{ "--help", NULL, "", 0 },
		{ "--version", NULL, "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NVEC(vec); i++) {
		char *argv[] = { (char *)"gwlbtund", (char *)(uintptr_t)vec[i].arg,
		    (char *)(uintptr_t)vec[i].val, NULL };
		int st, p[2];
		char buf[512];
		ssize_t n, got = 0;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			dup2(p[1], 2);
			if (!freopen("/dev/null", "w", stdout))
				_exit(99);
			close(p[0]);
			conf_parse(vec[i].val ? 3 : 2, argv);
			_exit(98);	/* conf_parse must not return here */
		}
		close(p[1]);
		while ((n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
			got += n;
		buf[got] = '\0';
		close(p[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), vec[i].status);
		assert_string_equal(buf, vec[i].line);
	}
}

/* The keywords kept from before the table, and routes and rules. */
static void
test_file_keywords(void **state)
{
	char err[256], text[1024], cpu[16];

	(void)state;
	snprintf(cpu, sizeof(cpu), "%d", first_cpu());
	snprintf(text, sizeof(text),
	    "# one-arm\n"
	    "route 0.0.0.0/0 eni any dev out table eni   # default\n"
	    "\n"
	    "rule iif in table eni\n"
	    "route-hook /usr/local/bin/rh\n"
	    "table-range 20000-20999\n"
	    "forwarding on\n"
	    "\tmtu 8000\n"
	    "rcvbuf 4M\n"
	    "allowed-origin 198.18.0.0/15\n"
	    "allowed-origin 192.0.2.0/24\n"
	    "udpaffinity %s\n"
	    "json on\n"
	    "mtu 8001\n", cpu);
	write_file(text);
	assert_int_equal(ARGS(err, "--config", cfg_path), 0);
	assert_int_equal(conf.n_cfg_routes, 2);
	assert_string_equal(conf.route_hook, "/usr/local/bin/rh");
	assert_int_equal(conf.table_lo, 20000);
	assert_int_equal(conf.table_hi, 20999);
	assert_true(conf.forwarding);
	assert_int_equal(conf.mtu, 8001);	/* the last line counts */
	assert_int_equal(conf.rcvbuf, 4u << 20);
	assert_string_equal(shown("allowed-origin"), "198.18.0.0/15,192.0.2.0/24");
	assert_true(conf.rx_pinned);
	assert_int_equal(conf.rx_threads, 1);
	assert_true(conf.health_json);
	assert_string_equal(shown("config"), cfg_path);

	write_file("forwarding off\n");
	assert_int_equal(ARGS(err, "--config", cfg_path), 0);
	assert_false(conf.forwarding);
}

/*
 * Every keyword the table lets the file set, with a value that is not its
 * default, and what show config then says: an option added to the table
 * without a line here fails.
 */
static void
test_every_file_keyword(void **state)
{
	struct {
		const char *key, *val, *shows;	/* shows NULL: the value, within */
	} vec[] = {
		{ "cmdnew", "/bin/c", "/bin/c" },
		{ "cmddel", "/bin/d", "/bin/d" },
		{ "timeout", "60", "60" },
		{ "idle", "100", "100" },
		{ "port", "8080", "8080" },
		{ "json", "on", "yes" },
		{ "status-only", "on", "yes" },
		{ "udpthreads", "1", "1" },
		{ "udpaffinity", "CPU", "CPU" },
		{ "tunthreads", "1", "1" },
		{ "tunaffinity", "CPU", "CPU" },
		{ "logging", "hook=debugdetail", NULL },
		{ "no-return", "on", "yes" },
		{ "offload", "off", "off" },
		{ "geneve-port", "6082", "6082" },
		{ "bind", "198.18.0.1", "198.18.0.1" },
		{ "health-bind", "127.0.0.1", "127.0.0.1" },
		{ "batch", "32", "32" },
		{ "rcvbuf", "1M", "1048576" },
		{ "busy-poll", "0", "0" },
		{ "allowed-origin", "198.18.0.0/15", "198.18.0.0/15" },
		{ "max-enis", "10", "10" },
		{ "mtu", "8000", "8000" },
		{ "txqueuelen", "500", "500" },
		{ "hook-timeout", "5", "5" },
		{ "max-hooks", "3", "3" },
		{ "backlog-bytes", "2M", "2097152" },
		{ "udp-idle", "60", "60" },
		{ "max-flows", "1024", "1024" },
		{ "control-socket", "/tmp/x.sock", "/tmp/x.sock" },
		{ "control-group", "root", "root" },
		{ "route-hook", "/bin/rh", "/bin/rh" },
		{ "table-range", "20000-20999", "20000-20999" },
		{ "state-dir", "/var/tmp/gw", "/var/tmp/gw" },
		{ "max-mirror", "5000", "5000" },
		{ "forwarding", "on", "on" },
		{ "syslog", "on", "on" },
		{ "debug", "on", "DEBUG" },	/* -d: every section at debug */
	};
	struct listed l[64];
	unsigned n = list_options(l, NVEC(l)), nfile = 0;
	char err[256], cpu[16], text[128];
	enum log_level saved[LOG_SECTION__MAX];

	(void)state;
	log_levels_read(saved);
	snprintf(cpu, sizeof(cpu), "%d", first_cpu());
	for (unsigned i = 0; i < n; i++) {
		size_t k;

		if (strcmp(l[i].file, "file") != 0)
			continue;
		nfile++;
		for (k = 0; k < NVEC(vec) && strcmp(vec[k].key, l[i].name) != 0; k++)
			;
		if (k == NVEC(vec))
			fail_msg("file keyword %s: no test value", l[i].name);
		snprintf(text, sizeof(text), "%s %s\n", vec[k].key,
		    strcmp(vec[k].val, "CPU") == 0 ? cpu : vec[k].val);
		write_file(text);
		if (ARGS(err, "--config", cfg_path) != 0)
			fail_msg("file '%s' refused: %s", text, err);
		if (!vec[k].shows)
			assert_non_null(strstr(shown(vec[k].key), vec[k].val));
		else if (strcmp(vec[k].shows, "DEBUG") == 0)
			assert_string_equal(shown("logging"), "core=debug,udp=debug,"
			    "geneve=debug,tunnel=debug,healthcheck=debug,hook=debug,"
			    "netlink=debug,control=debug");
		else
			assert_string_equal(shown(vec[k].key),
			    strcmp(vec[k].shows, "CPU") == 0 ? cpu : vec[k].shows);
	}
	assert_int_equal(nfile, NVEC(vec));
	log_levels_write(saved);
}

static void
test_cli_overrides_file(void **state)
{
	char err[256];

	(void)state;
	write_file("mtu 8000\n"
	    "table-range 20000-20999\n"
	    "route-hook /file/hook\n"
	    "forwarding off\n"
	    "batch 8\n"
	    "allowed-origin 203.0.113.0/24\n");
	assert_int_equal(ARGS(err, "--mtu", "1500", "--config", cfg_path, "--table-range",
	    "30000-30009", "--route-hook", "/cli/hook", "--forwarding", "--allowed-origin",
	    "198.18.0.0/15"), 0);
	assert_int_equal(conf.mtu, 1500);
	assert_int_equal(conf.table_lo, 30000);
	assert_int_equal(conf.table_hi, 30009);
	assert_string_equal(conf.route_hook, "/cli/hook");
	assert_true(conf.forwarding);
	assert_string_equal(shown("allowed-origin"), "198.18.0.0/15");
	assert_int_equal(conf.batch, 8);	/* not on the command line: the file's */
}

static void
test_reload(void **state)
{
	char err[256], *out;

	(void)state;
	write_file("mtu 8000\n"
	    "cmdnew /a\n"
	    "cmddel /keep\n"
	    "table-range 20000-20999\n"
	    "route 0.0.0.0/0 eni any dev out table eni\n");
	assert_int_equal(ARGS(err, "--config", cfg_path, "--route-hook", "/cli/rh"), 0);
	assert_string_equal(conf.create_hook, "/a");
	assert_int_equal(conf.n_cfg_routes, 1);

	/* Reloadable: applied; the others: logged, not applied. */
	write_file("mtu 1500\n"
	    "cmdnew /b\n"
	    "table-range 30000-30999\n"
	    "hook-timeout 5\n"
	    "route-hook /file/rh\n"
	    "route 0.0.0.0/0 eni any dev out table eni\n"
	    "route ::/0 eni any dev out table eni\n");
	capture_begin();
	assert_int_equal(conf_load_file(cfg_path, false), 0);
	out = capture_end();
	assert_int_equal(conf.mtu, 8000);
	assert_int_equal(conf.table_lo, 20000);
	assert_non_null(strstr(out, ": mtu changes need a restart"));
	assert_non_null(strstr(out, ": table-range changes need a restart"));
	assert_null(strstr(out, "cmdnew"));
	assert_null(strstr(out, "route-hook"));
	assert_string_equal(conf.create_hook, "/b");
	assert_null(conf.destroy_hook);		/* its line is gone: the default */
	assert_int_equal(conf.hook_timeout_s, 5);
	assert_string_equal(conf.route_hook, "/cli/rh");	/* the command line's */
	assert_int_equal(conf.n_cfg_routes, 2);

	/* A file with an error: refused whole, every error with its line. */
	write_file("cmdnew /c\n"
	    "hook-timeout 6\n"
	    "mtu 100\n"
	    "route 192.0.2.1/24 eni any dev out\n");
	capture_begin();
	assert_int_equal(conf_load_file(cfg_path, false), -1);
	out = capture_end();
	assert_non_null(strstr(out, ":3: mtu: 100 is out of range (1280-8500)"));
	assert_non_null(strstr(out, ":4: "));
	assert_non_null(strstr(out, "192.0.2.1/24"));
	assert_string_equal(conf.create_hook, "/b");
	assert_int_equal(conf.hook_timeout_s, 5);
	assert_int_equal(conf.n_cfg_routes, 2);
}

/* Two files a reload goes back and forth between: every reloadable
 * string changes, with long values so that a kept copy shows. */
static void
write_reload_file(unsigned k)
{
	char text[2048], hook[300];

	memset(hook, 'a' + (int)(k & 1), 200);
	hook[200] = '\0';
	snprintf(text, sizeof(text), "route-hook /rh/%s\ncmdnew /new/%s\ncmddel /del/%s\n"
	    "hook-timeout %u\ntimeout %u\n", hook, hook, hook, 5 + (k & 1), 60 + (k & 1));
	write_file(text);
}

static atomic_bool show_stop;
static atomic_uint show_rounds;

static void
show_check(const char *name, const char *value, void *arg)
{
	(void)arg;
	if (strcmp(name, "route-hook") == 0 || strcmp(name, "cmdnew") == 0) {
		/* One of the two files' values, whole. */
		assert_true(strlen(value) > 200);
		assert_true(strspn(strrchr(value, '/') + 1, "a") == 200 ||
		    strspn(strrchr(value, '/') + 1, "b") == 200);
	}
}

static void *
show_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&show_stop)) {
		conf_show(show_check, NULL);
		atomic_fetch_add(&show_rounds, 1);
	}
	return NULL;
}

/*
 * SIGHUP reloads on the manager thread while gwlbctl's show config reads
 * the configuration on the control thread: under ThreadSanitizer (tests/run)
 * a reload that writes what show config reads is a reported race; here
 * show config always sees one whole configuration.
 */
static void
test_reload_show_threads(void **state)
{
	char err[256];
	pthread_t t;

	(void)state;
	write_reload_file(0);
	assert_int_equal(ARGS(err, "--config", cfg_path), 0);
	atomic_store(&show_stop, false);
	atomic_store(&show_rounds, 0);
	assert_int_equal(pthread_create(&t, NULL, show_loop, NULL), 0);
	for (unsigned k = 1; k <= 200 || atomic_load(&show_rounds) < 50; k++) {
		write_reload_file(k);
		assert_int_equal(conf_load_file(cfg_path, false), 0);
		assert_int_equal(conf.hook_timeout_s, 5 + (k & 1));
	}
	atomic_store(&show_stop, true);
	pthread_join(t, NULL);
}

/* Reloads free what they replace: 2000 reloads, each changing three
 * 200-byte strings, leave the heap as it was (it grew by them before). */
static void
test_reload_memory(void **state)
{
	char err[256];
	size_t before, after;

	(void)state;
	write_reload_file(0);
	assert_int_equal(ARGS(err, "--config", cfg_path), 0);
	for (unsigned k = 1; k <= 10; k++) {	/* the heap's own first growth */
		write_reload_file(k);
		assert_int_equal(conf_load_file(cfg_path, false), 0);
	}
	before = mallinfo2().uordblks;
	for (unsigned k = 11; k <= 2010; k++) {
		write_reload_file(k);
		assert_int_equal(conf_load_file(cfg_path, false), 0);
	}
	after = mallinfo2().uordblks;
	assert_string_equal(shown("route-hook") + strlen(shown("route-hook")) - 1, "a");
	if (after > before + 16384)
		fail_msg("2000 reloads kept %zu bytes", after - before);
}

static void
test_help_every_row(void **state)
{
	struct listed l[64];
	unsigned n = list_options(l, NVEC(l));
	char *help = NULL, want[128];
	const char *split;
	size_t len = 0;
	FILE *f = open_memstream(&help, &len);

	(void)state;
	assert_non_null(f);
	conf_usage(f);
	fclose(f);
	split = strstr(help, "\ngwlbtund options:\n");
	assert_non_null(strstr(help, "\nOptions compatible with upstream gwlbtun:\n"));
	assert_non_null(split);
	assert_true(n >= 30);
	for (unsigned i = 0; i < n; i++) {
		const char *at;

		if (strcmp(l[i].shortopt, "-") != 0)
			snprintf(want, sizeof(want), "\n  -%.3s, --%.31s%s%.15s", l[i].shortopt,
			    l[i].name, strcmp(l[i].arg, "-") ? " " : "",
			    strcmp(l[i].arg, "-") ? l[i].arg : "");
		else
			snprintf(want, sizeof(want), "\n      --%.31s%s%.15s", l[i].name,
			    strcmp(l[i].arg, "-") ? " " : "", strcmp(l[i].arg, "-") ? l[i].arg : "");
		at = strstr(help, want);
		if (!at)
			fail_msg("--help has no '%s'", want + 1);
		/* In its group. */
		assert_int_equal(at < split, strcmp(l[i].group, "upstream") == 0);
	}
	/* The hidden listing is not offered. */
	assert_null(strstr(help, "list-options"));
	free(help);
}

static void
test_unknown_keyword(void **state)
{
	char err[256], *out, want[128];

	(void)state;
	write_file("mtu 8000\n"
	    "\n"
	    "  bogus 1   # comment\n"
	    "mtu\n"
	    "forwarding maybe\n"
	    "help on\n");
	capture_begin();
	assert_int_equal(ARGS(err, "--config", cfg_path), -1);
	out = capture_end();
	assert_string_equal(err, "");
	snprintf(want, sizeof(want), "gwlbtund: %s:3: unknown setting 'bogus'", cfg_path);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "gwlbtund: %s:4: mtu takes one value (N)\n", cfg_path);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "gwlbtund: %s:5: forwarding: 'maybe': expected on or off\n",
	    cfg_path);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "gwlbtund: %s:6: unknown setting 'help'", cfg_path);
	assert_non_null(strstr(out, want));
	/* Nothing of it was taken. */
	assert_int_equal(conf.mtu, 8500);
}


/*
 * --check-config's promise: every error of the file, each with its line,
 * routes and rules included, and a line too long does not end the check.
 */
static void
test_every_error_collected(void **state)
{
	char err[256], text[4096], want[128], *out;
	struct conf_report rep;
	const char *const lines[] = { ":2: unknown setting 'bogus'",
	    ":3: mtu: 100 is out of range (1280-8500)",
	    ":5: prefix '192.0.2.1/24' has host bits set",
	    ":6: line too long",
	    ":8: ", ":9: debug: expected on or off" };

	(void)state;
	snprintf(text, sizeof(text), "timeout 5\n"		/* 1 */
	    "bogus 1\n"						/* 2 */
	    "mtu 100\n"						/* 3 */
	    "route 203.0.113.0/24 eni any dev out\n"		/* 4: good */
	    "route 192.0.2.1/24 eni any dev out\n"		/* 5 */
	    "cmdnew /%01100d\n"					/* 6: too long */
	    "idle 10\n"						/* 7: good */
	    "rule eni any iif in\n"				/* 8: no table */
	    "debug maybe\n", 0);				/* 9 */
	write_file(text);
	capture_begin();
	assert_int_equal(conf_load_file_report(cfg_path, true, &rep), -1);
	out = capture_end();
	assert_int_equal(rep.n_errors, 6);
	for (size_t i = 0; i < NVEC(lines); i++) {
		snprintf(want, sizeof(want), "%s%s", cfg_path, lines[i]);
		if (!strstr(out, want) || !strstr(rep.errors, want))
			fail_msg("error '%s' not reported: %s", want, out);
	}
	assert_null(strstr(out, "rule add:"));	/* the file does not say "add" */
	assert_null(strstr(out, ":4:"));
	assert_null(strstr(out, ":7:"));

	/* --check-config: the same, without "gwlbtund: " before each. */
	capture_begin();
	assert_int_equal(ARGS(err, "--check-config", "--config", cfg_path), -1);
	out = capture_end();
	assert_true(conf.check_only);
	snprintf(want, sizeof(want), "%s:2: unknown setting", cfg_path);
	assert_true(strncmp(out, want, strlen(want)) == 0);
	assert_null(strstr(out, "gwlbtund: "));

	/* And a good file passes. */
	write_file("timeout 5\nroute 203.0.113.0/24 eni any dev out\nsyslog on\n");
	assert_int_equal(ARGS(err, "--config", cfg_path, "--check-config"), 0);
	assert_true(conf.check_only);
	assert_true(conf.use_syslog);
	assert_int_equal(conf.n_cfg_routes, 1);
}

/* The command line wins over the file, for the new settings too. */
static void
test_cli_overrides_debug_syslog(void **state)
{
	char err[256];

	(void)state;
	write_file("debug on\nsyslog on\ntimeout 7\n");
	assert_int_equal(ARGS(err, "--config", cfg_path, "--logging", "all=important",
	    "--syslog"), 0);
	assert_string_equal(shown("logging"), "core=important,udp=important,"
	    "geneve=important,tunnel=important,healthcheck=important,hook=important,"
	    "netlink=important,control=important");
	assert_true(conf.use_syslog);
	assert_int_equal(conf.idle_teardown_s, 7);
	/* -d on the command line beats the file's logging line. */
	write_file("logging all=critical\n");
	assert_int_equal(ARGS(err, "-d", "--config", cfg_path), 0);
	assert_non_null(strstr(shown("logging"), "core=debug"));
	/* The file alone: debug on is all=debug. */
	write_file("debug on\n");
	assert_int_equal(ARGS(err, "--config", cfg_path), 0);
	assert_non_null(strstr(shown("logging"), "control=debug"));
}

/* What a reload reports: applied, needing a restart, nothing. */
static void
test_reload_report(void **state)
{
	struct conf_report rep;
	char err[256];

	(void)state;
	write_file("timeout 5\nmtu 8000\n");
	assert_int_equal(ARGS(err, "--config", cfg_path), 0);
	capture_begin();
	assert_int_equal(conf_load_file_report(cfg_path, false, &rep), 0);
	(void)capture_end();
	assert_string_equal(rep.changed, "");
	assert_string_equal(rep.restart, "");
	assert_int_equal(rep.n_errors, 0);

	write_file("timeout 6\nmtu 1500\ncmdnew /x\n");
	capture_begin();
	assert_int_equal(conf_load_file_report(cfg_path, false, &rep), 0);
	(void)capture_end();
	assert_string_equal(rep.changed, "cmdnew timeout");
	assert_string_equal(rep.restart, "mtu");

	write_file("timeout 6\nmtu 1500\ncmdnew /x\nroute 192.0.2.1/24 eni any dev in\n");
	capture_begin();
	assert_int_equal(conf_load_file_report(cfg_path, false, &rep), -1);
	(void)capture_end();
	assert_int_equal(rep.n_errors, 1);
	assert_non_null(strstr(rep.errors, ":4: "));
	assert_int_equal(conf.idle_teardown_s, 6);
}

/*
 * gwlbctl reload whose caller gave up (its wait ran out while the manager
 * was still reloading) and the next reload asked right after: the late
 * answer of the first must not be taken for the second's, and the second
 * must be carried out (the file may have changed in between).
 */
struct rl_req {
	unsigned	timeout_s;
	int		ret;
	struct conf_report rep;
};

static void *
rl_thread(void *p)
{
	struct rl_req *r = p;

	r->ret = conf_reload_request(rl_wake, r->timeout_s, &r->rep);
	return NULL;
}

static void
rl_wait_asked(void)
{
	struct pollfd pfd = { .fd = rl_wake, .events = POLLIN };
	uint64_t v;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(rl_wake, &v, sizeof(v)), (ssize_t)sizeof(v));
}

static void
test_reload_answer_to_its_request(void **state)
{
	struct rl_req r1 = { .timeout_s = 1, .ret = 1 }, r2 = { .timeout_s = 10, .ret = 1 };
	struct conf_report a1 = { .status = CONF_RELOADED }, a2 = { .status = CONF_RELOADED };
	pthread_t t1, t2;

	(void)state;
	rl_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(rl_wake >= 0);
	snprintf(a1.changed, sizeof(a1.changed), "first");
	snprintf(a2.changed, sizeof(a2.changed), "second");
	assert_int_equal(pthread_create(&t1, NULL, rl_thread, &r1), 0);
	rl_wait_asked();
	assert_true(conf_reload_pending());	/* the manager starts reloading ... */
	pthread_join(t1, NULL);			/* ... slowly: the caller gives up */
	assert_int_equal(r1.ret, -ETIMEDOUT);
	assert_int_equal(pthread_create(&t2, NULL, rl_thread, &r2), 0);
	rl_wait_asked();			/* the next reload is asked */
	conf_reload_answer(&a1);		/* the first one's late answer */
	if (conf_reload_pending())		/* the manager, woken again */
		conf_reload_answer(&a2);
	pthread_join(t2, NULL);
	assert_int_equal(r2.ret, 0);
	assert_string_equal(r2.rep.changed, "second");
	close(rl_wake);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_file_keyword, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_overrides_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_show_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_every_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keyword, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_error_collected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_overrides_debug_syslog, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_answer_to_its_request, setup, teardown),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
