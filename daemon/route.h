/*
 * Routes and policy rules gwlbtund installs for ENIs, declared in the
 * configuration file or added with gwlbctl.  Manager thread only, except
 * route_request() and route_show(), which any thread may call.
 */
#ifndef GWLBTUND_ROUTE_H
#define GWLBTUND_ROUTE_H

#include <stddef.h>

#include "ctl_commands.h"
#include "eni_table.h"

struct ctl_reply;

int route_init(void);
/* A route/rule from the configuration (a parsed "route add ..."). */
int route_config_add(const struct ctl_cmd_args *a, char *err, size_t errlen);
/* Links up: install what applies, before the CREATE hook.  Manager. */
void route_eni_up(struct eni *e);
/* Links about to go: remove what we installed.  Manager. */
void route_eni_down(struct eni *e);
/* gwlbctl route/rule add/del: runs on the manager, waits for it. */
int route_request(const struct ctl_cmd_args *a, char *err, size_t errlen);
/* The manager's side of route_request(): call on every wake-up. */
void route_serve(void);
/* Records "route" and "rule" for show routes / show eni (one ENI or all). */
void route_show(struct ctl_reply *r, const uint64_t *only);
/* SIGHUP: the configuration's routes and rules replace the current ones. */
void route_reload(const struct ctl_cmd_args *list, unsigned n);

#endif
