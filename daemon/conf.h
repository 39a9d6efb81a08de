/*
 * The daemon's configuration: command line and configuration file
 * (conf.c), both driven by one option table.  Filled at start, before any
 * thread; SIGHUP replaces the routes and the options marked reloadable on
 * the manager thread.  Threads other than the manager read only settings
 * fixed at start from conf; `show config` (control thread) reads a copy
 * that each load builds whole and swaps in (conf_show).  A leaf: it depends
 * on nothing of the daemon.
 */
#ifndef GWLBTUND_CONF_H
#define GWLBTUND_CONF_H

#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct ctl_cmd_args;

#define MAX_WORKERS	256
#define MAX_ORIGINS	32

struct origin {
	uint32_t	addr;	/* network order */
	uint32_t	mask;	/* network order */
};

struct config {
	const char	*create_hook;		/* -c */
	const char	*destroy_hook;		/* -r */
	unsigned	idle_teardown_s;	/* -t, 0 = never */
	unsigned	tcp_idle_s;		/* -i */
	unsigned	udp_idle_s;		/* --udp-idle */
	unsigned	health_port;		/* -p, 0 = off */
	bool		health_json;		/* -j */
	bool		health_status_only;	/* -s */
	struct in_addr	health_bind;		/* --health-bind, INADDR_ANY = every address */
	unsigned	rx_threads;		/* in force (see rx_threads_req) */
	unsigned	rx_threads_req;		/* --udpthreads, 0 = default */
	cpu_set_t	rx_cpus;
	bool		rx_pinned;
	unsigned	tun_threads;
	unsigned	tun_threads_req;	/* --tunthreads, 0 = default */
	cpu_set_t	tun_cpus;
	bool		tun_pinned;
	bool		no_return;
	bool		offload;		/* --offload: vnet_hdr on the TUN queues */
	unsigned	geneve_port;
	struct in_addr	bind_addr;
	unsigned	batch;
	unsigned	rcvbuf;
	unsigned	busy_poll_us;
	struct origin	origins[MAX_ORIGINS];
	unsigned	n_origins;
	unsigned	max_enis;
	unsigned	mtu;
	unsigned	txqueuelen;
	unsigned	hook_timeout_s;
	unsigned	max_hooks;		/* --max-hooks: hooks running at once */
	unsigned	backlog_bytes;		/* --backlog-bytes: all pending ENIs together */
	unsigned	max_flows_per_eni;
	const char	*control_path;
	const char	*control_group;		/* --control-group, its name */
	gid_t		control_gid;	/* (gid_t)-1: root only */
	const char	*logging;		/* --logging as given */
	const char	*config_file;		/* --config */
	const char	*route_hook;		/* --route-hook */
	uint32_t	table_lo, table_hi;	/* --table-range */
	const char	*state_dir;		/* --state-dir */
	unsigned	max_mirror;		/* --max-mirror: objects nl_cache holds */
	bool		forwarding;		/* --forwarding */
	bool		use_syslog;		/* --syslog */
	bool		check_only;		/* --check-config */
	struct ctl_cmd_args *cfg_routes;	/* route/rule lines of the config */
	unsigned	n_cfg_routes;
};

extern struct config conf;

/* May a datagram from addr (network order) make ENIs and steer replies:
 * in c's --allowed-origin, or private address space when none was given. */
bool conf_origin_allowed(const struct config *c, uint32_t addr);

/* Command line, then the --config file: exits 2 on an error (one line on
 * stderr), 0 after --help or --version.  With --check-config, exits after
 * the check: 0, or 1 with every error found (FILE:LINE: message). */
void conf_parse(int argc, char **argv);
/* conf_parse without exit: 0 to run, 1 when --help/--version/--list-options
 * printed what was asked, -1 on an error, with err filled (empty when the
 * message was printed already: getopt's, the file's). */
int conf_args(int argc, char **argv, char *err, size_t errlen);
/* The defaults, nothing given on the command line, no routes. */
void conf_reset(void);
/*
 * Read the configuration file: routes into cfg_routes, settings into conf
 * unless given on the command line.  At start every setting is taken; on
 * reload (at_start false) only the reloadable ones, a change to another is
 * logged as needing a restart.  0, or -1 with "file:line: reason" messages
 * printed to stderr (at start) or logged, and nothing changed.
 */
int conf_load_file(const char *path, bool at_start);
/* The same from an open stream (the fuzz harness: fmemopen); path names it. */
int conf_load_stream(FILE *f, const char *path, bool at_start);

/* What a reload did, for gwlbctl reload and the log. */
enum conf_reload_status {
	CONF_RELOADED = 0,	/* something changed */
	CONF_UNCHANGED,		/* the file says what is in force already */
	CONF_RELOAD_FAILED,	/* errors: nothing changed */
	CONF_NO_FILE,		/* no --config */
};

struct conf_report {
	enum conf_reload_status status;
	char		changed[512];	/* options applied, space-separated */
	char		restart[512];	/* options changed that need a restart */
	char		errors[2048];	/* "FILE:LINE: message" lines */
	unsigned	n_errors;
	unsigned	routes_added, routes_removed;	/* declarations of the file */
};

/* conf_load_file, saying in rep (which it clears) what it changed or why not. */
int conf_load_file_report(const char *path, bool at_start, struct conf_report *rep);

/*
 * gwlbctl reload asks the manager through this one-slot queue (the manager
 * owns reload): conf_reload_request() wakes it through wake_fd and waits
 * up to timeout_s for conf_reload_answer(); -ETIMEDOUT otherwise.  The
 * manager checks conf_reload_pending() when woken: true takes the request,
 * which conf_reload_answer() then answers (only it: a caller that gave up
 * is answered by no one, and the next request is taken on its own).
 */
int conf_reload_request(int wake_fd, unsigned timeout_s, struct conf_report *rep);
bool conf_reload_pending(void);
void conf_reload_answer(const struct conf_report *rep);
void conf_usage(FILE *f);
/* One line per option: NAME SHORT|- ARG|- file|- reload|restart|- GROUP. */
void conf_list_options(FILE *f);
/* Every setting with its value in force, as `gwlbctl show config` shows it:
 * from the last configuration loaded, whole, whatever a reload does meanwhile. */
void conf_show(void (*fn)(const char *name, const char *value, void *arg), void *arg);

#endif
