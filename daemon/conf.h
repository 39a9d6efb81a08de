/*
 * The daemon's configuration: command line and configuration file
 * (conf.c).  Filled at start, before any thread; SIGHUP replaces the
 * routes and the route hook on the manager thread.  A leaf: it depends on
 * nothing of the daemon.
 */
#ifndef GWLBTUND_CONF_H
#define GWLBTUND_CONF_H

#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
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
	unsigned	rx_threads;
	cpu_set_t	rx_cpus;
	bool		rx_pinned;
	unsigned	tun_threads;
	cpu_set_t	tun_cpus;
	bool		tun_pinned;
	bool		no_return;
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
	unsigned	max_flows_per_eni;
	const char	*control_path;
	gid_t		control_gid;	/* (gid_t)-1: root only */
	const char	*logging;
	const char	*config_file;		/* --config */
	const char	*route_hook;		/* --route-hook */
	uint32_t	table_lo, table_hi;	/* --table-range */
	bool		forwarding;		/* --forwarding */
	struct ctl_cmd_args *cfg_routes;	/* route/rule lines of the config */
	unsigned	n_cfg_routes;
};

extern struct config conf;

int conf_parse(int argc, char **argv);
/* Read the configuration file into conf (routes in cfg_routes). 0, or -1
 * with a "file:line: reason" message printed to stderr / logged. */
int conf_load_file(const char *path, bool at_start);

#endif
