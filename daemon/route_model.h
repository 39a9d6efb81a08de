/*
 * The route model: a route or rule as gwlbtund declares it, from the
 * parsed command (the configuration file's lines and gwlbctl's route/rule
 * add/del share lib/ctl_commands.c's grammar) to what route.c installs per
 * ENI and nl.c sends to the kernel.  One declaration (struct route_spec)
 * becomes one instance per ENI and family (struct route_inst): the same
 * declaration plus what the ENI resolves it to.  A leaf: it depends on
 * nothing of the daemon.
 */
#ifndef GWLBTUND_ROUTE_MODEL_H
#define GWLBTUND_ROUTE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_commands.h"
#include "name.h"

struct route_spec {
	bool		rule;
	int		family;		/* rules: AF_INET and AF_INET6 both */
	uint8_t		prefix[16];
	uint8_t		plen;
	enum ctl_dir	dev;		/* route: dev; rule: iif */
	bool		via_set;
	uint8_t		via[16];
	bool		table_eni;
	uint32_t	table;
	bool		metric_set;
	uint32_t	metric;
	bool		eni_any;
	uint64_t	eni;
	uint8_t		origin;		/* ROUTE_FROM_FILE or _CTL; not compared */
	struct route_spec *next;
};

enum { ROUTE_FROM_FILE = 0, ROUTE_FROM_CTL = 1 };

/* A declaration as installed for one ENI: what nl_route()/nl_rule() take. */
struct route_inst {
	struct route_spec spec;		/* a copy: specs may go first */
	int		family;		/* a rule's: one instance per family */
	uint32_t	table;		/* spec.table, or the ENI's own */
	int		oif;		/* route: ifindex of dev */
	char		dev[NAME_IF_MAX];	/* route: dev; rule: iif */
	uint32_t	prio;		/* rule: the priority the kernel gave it,
					 * kept to put it back in place; 0: none yet */
};

/* The one conversion from the parser's result. */
void route_spec_from_args(const struct ctl_cmd_args *a, struct route_spec *s);
bool route_spec_eq(const struct route_spec *a, const struct route_spec *b);
/* What the daemon refuses beyond the grammar; 0, or -EINVAL with err. */
int route_spec_check(const struct route_spec *s, bool no_return, char *err, size_t errlen);
int route_args_check(const struct ctl_cmd_args *a, bool no_return, char *err, size_t errlen);
/* s for one ENI's link: the resolved parts filled in. */
void route_inst_make(struct route_inst *ri, const struct route_spec *s, int family,
    uint32_t table, const char *dev, int oif);
/* The instance as `ip` would print it: show routes, the log, the route hook. */
void route_inst_text(const struct route_inst *ri, char *buf, size_t len);

#endif
