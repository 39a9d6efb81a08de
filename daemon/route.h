/*
 * Routes and policy rules gwlbtund installs for ENIs, declared in the
 * configuration file or added with gwlbctl.  Manager thread only, except
 * route_request(), route_show() and route_eni_table(), which any thread
 * may call.  route.c knows nothing of the ENI table: the manager tells it
 * which ENIs are up with a struct route_eni.
 */
#ifndef GWLBTUND_ROUTE_H
#define GWLBTUND_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_commands.h"
#include "name.h"

struct ctl_reply;

/* What routes need to know of an ENI whose links are up. */
struct route_eni {
	uint64_t	id;
	char		hex[NAME_HEX_MAX];
	char		if_in[NAME_IF_MAX];
	char		if_out[NAME_IF_MAX];
	int		ifindex_in;
	int		ifindex_out;	/* 0 with --no-return */
};

/* wake_fd: the manager's eventfd, written when route_request() has work. */
int route_init(int wake_fd);
/* Forget everything (what is installed stays installed). */
void route_fini(void);
/* A route/rule from the configuration (a parsed "route add ..."). */
int route_config_add(const struct ctl_cmd_args *a, char *err, size_t errlen);
/* Links up: install what applies, before the CREATE hook.  Manager. */
void route_eni_up(const struct route_eni *e);
/* Links about to go: remove what we installed for ENI id.  Manager. */
void route_eni_down(uint64_t id);
/* The ENI's own routing table ("table eni"), 0 = none.  Any thread. */
uint32_t route_eni_table(uint64_t id);
/* gwlbctl route/rule add/del: runs on the manager, waits for it at most
 * wait_ms (ROUTE_REQUEST_WAIT_MS for gwlbctl), then -ETIMEDOUT. */
#define ROUTE_REQUEST_WAIT_MS	10000
int route_request(const struct ctl_cmd_args *a, unsigned wait_ms, char *err,
    size_t errlen);
/* The manager's side of route_request(): call on every wake-up. */
void route_serve(void);
/* Records "route" and "rule" for show routes / show eni (one ENI or all). */
void route_show(struct ctl_reply *r, const uint64_t *only);
/*
 * Manager: check every installed route and rule against the kernel's
 * mirror (nl_cache.h) and put back what was deleted or changed behind our
 * back.  Call when the mirror reports a route or rule change or a resync.
 */
void route_reconcile(void);
/* Manager, on the timer: route_reconcile() again if putting back failed. */
void route_retry(void);
/* SIGHUP: the configuration's routes and rules replace the current ones. */
void route_reload(const struct ctl_cmd_args *list, unsigned n);
/* route_reload, counting the file's declarations added and removed. */
void route_reload_count(const struct ctl_cmd_args *list, unsigned n, unsigned *added,
    unsigned *removed);
/* Records "declared" for show config: every route and rule declared, ENIs
 * up or not, and whether the file or gwlbctl declared it.  Any thread. */
void route_show_declared(struct ctl_reply *r);

#endif
