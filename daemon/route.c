/*
 * Routes and rules per ENI.  Operators used to script this in hooks with
 * ip route / ip rule (upstream's example scripts); here it is declared:
 *
 *   route PREFIX eni ENI|any dev in|out [via ADDR] [table N|eni] [metric M]
 *   rule [eni ENI|any] iif in|out table N|eni
 *
 * "table eni" is a routing table of the ENI's own, allocated from
 * --table-range: the native answer to endpoints whose inner networks
 * overlap.  What applies to an ENI is installed (routes, then rules) when
 * its links come up, before its CREATE hook, and removed (rules, then
 * routes) when it goes.  Everything carries rtm_protocol RTPROT_GWLBTUN,
 * so what a crashed run left is found and removed at start.
 *
 * gwlbctl's route/rule add/del reach the manager through a one-slot
 * request queue and wait for the answer, so netlink stays on one thread
 * and the caller learns what the kernel said.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_server.h"
#include "hook.h"
#include "log.h"
#include "nl.h"
#include "route.h"
#include "route_model.h"
#include "state.h"

struct route_inst {
	struct route_spec spec;		/* a copy: specs may go first */
	int		family;
	uint32_t	table;
	int		err;		/* 0 installed, else -errno */
	char		errmsg[160];
	char		text[200];	/* as ip would print it */
	struct route_inst *next;
};

struct eni_routes {
	uint64_t	eni;
	uint32_t	table;		/* its own table, 0 = none */
	struct route_inst *list;
	struct eni_routes *next;
};

static pthread_mutex_t route_lock = PTHREAD_MUTEX_INITIALIZER;	/* specs, per-ENI lists */
static struct route_spec *specs;
static struct eni_routes *per_eni;
static uint8_t *table_used;		/* [table_hi - table_lo + 1] */

/* route_request()'s slot */
static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t req_one = PTHREAD_MUTEX_INITIALIZER;	/* one caller at a time */
static const struct ctl_cmd_args *req_args;
static int req_ret;
static bool req_done;
static char req_err[512];

int
route_init(void)
{
	table_used = calloc(conf.table_hi - conf.table_lo + 1, 1);
	return table_used ? 0 : -ENOMEM;
}

static bool
spec_applies(const struct route_spec *s, const struct eni *e)
{
	return s->eni_any || s->eni == e->id;
}

int
route_config_add(const struct ctl_cmd_args *a, char *err, size_t errlen)
{
	struct route_spec *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	route_spec_from_args(a, s);
	if (route_spec_check(s, conf.no_return, err, errlen) < 0) {
		free(s);
		return -EINVAL;
	}
	pthread_mutex_lock(&route_lock);
	{
		/* In file order: a route's gateway may need the line before. */
		struct route_spec **pp = &specs;

		while (*pp)
			pp = &(*pp)->next;
		*pp = s;
	}
	pthread_mutex_unlock(&route_lock);
	return 0;
}

static struct eni_routes *
eni_routes_get(uint64_t id, bool create)
{
	struct eni_routes *r;

	for (r = per_eni; r; r = r->next)
		if (r->eni == id)
			return r;
	if (!create || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->eni = id;
	r->next = per_eni;
	per_eni = r;
	return r;
}


static void
route_hook_done(void *arg, enum hook_state res)
{
	(void)arg;
	(void)res;	/* logged by the runner; routes do not wait for it */
}

static void
route_hook(const struct eni *e, const struct route_inst *ri, bool add)
{
	char f_action[32], f_family[32], f_route[240], f_eni[48], f_table[32], f_in[48],
	    f_out[48], table[16], tag[64];
	const char *action = ri->spec.rule ? (add ? "RULE-ADD" : "RULE-DEL") :
	    (add ? "ROUTE-ADD" : "ROUTE-DEL");
	const char *family = ri->family == AF_INET6 ? "inet6" : "inet";
	const char *args[] = { action, family, ri->text, e->hex, table, NULL };
	const char *facts[] = { f_action, f_family, f_route, f_eni, f_table, f_in, f_out, NULL };
	int err;

	if (!conf.route_hook)
		return;
	snprintf(table, sizeof(table), "%u", ri->table);
	snprintf(f_action, sizeof(f_action), "GWLB_ACTION=%s", action);
	snprintf(f_family, sizeof(f_family), "GWLB_FAMILY=%s", family);
	snprintf(f_route, sizeof(f_route), "GWLB_ROUTE=%s", ri->text);
	snprintf(f_eni, sizeof(f_eni), "GWLB_ENI=%s", e->hex);
	snprintf(f_table, sizeof(f_table), "GWLB_TABLE=%u", ri->table);
	snprintf(f_in, sizeof(f_in), "GWLB_IFACE_IN=%s", e->if_in);
	snprintf(f_out, sizeof(f_out), "GWLB_IFACE_OUT=%s", e->if_out);
	snprintf(tag, sizeof(tag), "%s %s", action, e->if_in);
	err = hook_run_argv(conf.route_hook, args, facts, tag, conf.hook_timeout_s,
	    route_hook_done, NULL);
	if (err < 0)
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s: cannot run %s: %s", tag,
		    conf.route_hook, strerror(-err));
}

static uint32_t
table_alloc(void)
{
	for (uint32_t t = conf.table_lo; t <= conf.table_hi; t++) {
		if (!table_used[t - conf.table_lo]) {
			table_used[t - conf.table_lo] = 1;
			return t;
		}
	}
	return 0;
}

static void
table_free(uint32_t t)
{
	if (t >= conf.table_lo && t <= conf.table_hi)
		table_used[t - conf.table_lo] = 0;
}

/* Install one instance; fills err/errmsg/text. */
static void
inst_apply(const struct eni *e, struct route_inst *ri, bool add)
{
	const struct route_spec *s = &ri->spec;
	const char *dev = s->dev == CTL_DIR_IN ? e->if_in : e->if_out;
	char what[240];

	if (s->rule) {
		struct nl_rule nr = { .family = ri->family, .iif = dev, .table = ri->table };

		snprintf(ri->text, sizeof(ri->text), "iif %s lookup %u proto %d", dev,
		    ri->table, RTPROT_GWLBTUN);
		snprintf(what, sizeof(what), "%s rule %s%s", add ? "add" : "delete",
		    ri->family == AF_INET6 ? "-6 " : "", ri->text);
		ri->err = nl_rule(add, &nr, what, ri->errmsg, sizeof(ri->errmsg));
	} else {
		struct nl_route nr = { .family = ri->family, .plen = s->plen,
		    .oif = s->dev == CTL_DIR_IN ? e->ifindex_in : e->ifindex_out,
		    .via_set = s->via_set, .table = ri->table,
		    .metric_set = s->metric_set, .metric = s->metric };
		char pfx[INET6_ADDRSTRLEN], via[INET6_ADDRSTRLEN + 5] = "", met[24] = "";

		memcpy(nr.dst, s->prefix, 16);
		memcpy(nr.via, s->via, 16);
		inet_ntop(ri->family, s->prefix, pfx, sizeof(pfx));
		if (s->via_set) {
			memcpy(via, "via ", 4);
			inet_ntop(ri->family, s->via, via + 4, sizeof(via) - 4);
			strcat(via, " ");
		}
		if (s->metric_set)
			snprintf(met, sizeof(met), " metric %u", s->metric);
		snprintf(ri->text, sizeof(ri->text), "%s/%u %sdev %s table %u proto %d%s",
		    pfx, s->plen, via, dev, ri->table, RTPROT_GWLBTUN, met);
		snprintf(what, sizeof(what), "%s route %s", add ? "add" : "delete", ri->text);
		ri->err = nl_route(add, &nr, what, ri->errmsg, sizeof(ri->errmsg));
	}
	if (add && ri->err == 0)
		ri->errmsg[0] = '\0';
	if (ri->err == 0)
		route_hook(e, ri, add);
}

/* Instances of spec s for ENI e: a route has one family, a rule both. */
static int
eni_add_spec(struct eni_routes *er, struct eni *e, const struct route_spec *s,
    char *err, size_t errlen)
{
	int families[2] = { s->family, 0 }, ret = 0;

	if (s->rule) {
		families[0] = AF_INET;
		families[1] = AF_INET6;
	}
	if (s->table_eni && !er->table) {
		er->table = table_alloc();
		if (!er->table) {
			snprintf(err, errlen, "no free table in --table-range %u-%u",
			    conf.table_lo, conf.table_hi);
			return -ENOSPC;
		}
		atomic_store(&e->table, er->table);
	}
	for (int i = 0; i < 2 && families[i]; i++) {
		struct route_inst *ri = calloc(1, sizeof(*ri)), **tail;

		if (!ri)
			return -ENOMEM;
		ri->spec = *s;
		ri->spec.next = NULL;
		ri->family = families[i];
		ri->table = s->table_eni ? er->table : s->table;
		inst_apply(e, ri, true);
		if (ri->err && !ret) {
			ret = ri->err;
			snprintf(err, errlen, "ENI %s: %s: %s", e->hex, ri->text, ri->errmsg);
		}
		/* Keep the order: routes before the rules that point at them. */
		for (tail = &er->list; *tail; tail = &(*tail)->next)
			;
		*tail = ri;
	}
	return ret;
}

void
route_eni_up(struct eni *e)
{
	struct eni_routes *er;
	char err[256];

	pthread_mutex_lock(&route_lock);
	er = eni_routes_get(e->id, true);
	if (er) {
		/* Routes first, then the rules that send traffic to them. */
		for (int pass = 0; pass < 2; pass++)
			for (struct route_spec *s = specs; s; s = s->next)
				if (s->rule == (pass == 1) && spec_applies(s, e) &&
				    eni_add_spec(er, e, s, err, sizeof(err)) < 0)
					log_msg(LOG_NETLINK, LOG_IMPORTANT, "%s", err);
	}
	pthread_mutex_unlock(&route_lock);
}

static void
inst_remove_list(const struct eni *e, struct route_inst **list, const struct route_spec *only)
{
	/* Rules first (they point at routes), then routes. */
	for (int pass = 0; pass < 2; pass++) {
		struct route_inst **pp = list;

		while (*pp) {
			struct route_inst *ri = *pp;

			if (ri->spec.rule != (pass == 0) || (only && !route_spec_eq(&ri->spec, only))) {
				pp = &ri->next;
				continue;
			}
			if (ri->err == 0)
				inst_apply(e, ri, false);
			*pp = ri->next;
			free(ri);
		}
	}
}

void
route_eni_down(struct eni *e)
{
	struct eni_routes **pp, *er;

	pthread_mutex_lock(&route_lock);
	for (pp = &per_eni; *pp; pp = &(*pp)->next) {
		if ((*pp)->eni != e->id)
			continue;
		er = *pp;
		inst_remove_list(e, &er->list, NULL);
		table_free(er->table);
		atomic_store(&e->table, 0);
		*pp = er->next;
		free(er);
		break;
	}
	pthread_mutex_unlock(&route_lock);
}

struct apply_ctx {
	const struct route_spec *s;
	bool		add;
	int		ret;
	char		*err;
	size_t		errlen;
	unsigned	n;
};

static void
apply_one(struct eni *e, void *arg)
{
	struct apply_ctx *c = arg;
	struct eni_routes *er;
	int ret;

	if (atomic_load(&e->state) != ENI_UP || !spec_applies(c->s, e))
		return;
	er = eni_routes_get(e->id, c->add);
	if (!er)
		return;
	c->n++;
	if (!c->add) {
		inst_remove_list(e, &er->list, c->s);
		return;
	}
	ret = eni_add_spec(er, e, c->s, c->err, c->errlen);
	if (ret < 0 && !c->ret)
		c->ret = ret;
}

/* Manager: do one route/rule add/del for gwlbctl. */
static int
route_do(const struct ctl_cmd_args *a, char *err, size_t errlen)
{
	bool add = a->id == CTL_CMD_ROUTE_ADD || a->id == CTL_CMD_RULE_ADD;
	struct route_spec s, **pp;
	struct apply_ctx c = { .s = &s, .add = add, .err = err, .errlen = errlen };

	route_spec_from_args(a, &s);
	if (route_spec_check(&s, conf.no_return, err, errlen) < 0)
		return -EINVAL;
	pthread_mutex_lock(&route_lock);
	for (pp = &specs; *pp; pp = &(*pp)->next)
		if (route_spec_eq(*pp, &s))
			break;
	if (add && *pp) {
		pthread_mutex_unlock(&route_lock);
		snprintf(err, errlen, "that %s exists already", s.rule ? "rule" : "route");
		return -EEXIST;
	}
	if (!add && !*pp) {
		pthread_mutex_unlock(&route_lock);
		snprintf(err, errlen, "no such %s", s.rule ? "rule" : "route");
		return -ENOENT;
	}
	if (add) {
		struct route_spec *n = malloc(sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&route_lock);
			return -ENOMEM;
		}
		*n = s;
		n->next = specs;
		specs = n;
	} else {
		struct route_spec *old = *pp;

		*pp = old->next;
		free(old);
	}
	/* eni_foreach takes the table lock inside ours: always in this order. */
	eni_foreach(apply_one, &c);
	if (add && c.ret < 0) {
		/* All or nothing: a refused `route add` leaves no trace, so the
		 * same command can simply be given again once it can work. */
		struct apply_ctx undo = { .s = &s, .add = false, .err = NULL, .errlen = 0 };

		eni_foreach(apply_one, &undo);
		for (pp = &specs; *pp; pp = &(*pp)->next) {
			if (route_spec_eq(*pp, &s)) {
				struct route_spec *old = *pp;

				*pp = old->next;
				free(old);
				break;
			}
		}
	}
	pthread_mutex_unlock(&route_lock);
	return c.ret;
}

void
route_reload(const struct ctl_cmd_args *list, unsigned n)
{
	struct route_spec *fresh = NULL, **tail = &fresh, *s, *next;
	char err[256];

	/* The new set, in file order, checked before anything changes. */
	for (unsigned i = 0; i < n; i++) {
		if (!(s = calloc(1, sizeof(*s))))
			break;
		route_spec_from_args(&list[i], s);
		if (route_spec_check(s, conf.no_return, err, sizeof(err)) < 0) {
			log_msg(LOG_CORE, LOG_IMPORTANT, "reload: %s", err);
			free(s);
			continue;
		}
		*tail = s;
		tail = &s->next;
	}
	/* Only what changed: a route in both sets is left alone, so traffic
	 * through it never sees a gap. */
	pthread_mutex_lock(&route_lock);
	for (s = specs; s; s = next) {
		struct route_spec *f;

		next = s->next;
		for (f = fresh; f && !route_spec_eq(f, s); f = f->next)
			;
		if (!f) {
			struct apply_ctx c = { .s = s, .add = false };

			eni_foreach(apply_one, &c);
		}
		free(s);
	}
	specs = fresh;
	for (s = specs; s; s = s->next) {
		bool had = false;

		for (struct eni_routes *er = per_eni; er && !had; er = er->next)
			for (struct route_inst *ri = er->list; ri && !had; ri = ri->next)
				had = route_spec_eq(&ri->spec, s);
		if (!had) {
			struct apply_ctx c = { .s = s, .add = true, .err = err,
			    .errlen = sizeof(err) };

			eni_foreach(apply_one, &c);
			if (c.ret < 0)
				log_msg(LOG_NETLINK, LOG_IMPORTANT, "reload: %s", err);
		}
	}
	pthread_mutex_unlock(&route_lock);
}

int
route_request(const struct ctl_cmd_args *a, char *err, size_t errlen)
{
	struct timespec deadline;
	int ret;

	pthread_mutex_lock(&req_one);
	pthread_mutex_lock(&req_lock);
	req_args = a;
	req_done = false;
	req_err[0] = '\0';
	pthread_mutex_unlock(&req_lock);
	{
		uint64_t one = 1;

		(void)!write(D.wake_fd, &one, sizeof(one));
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&req_lock);
	while (!req_done) {
		if (pthread_cond_timedwait(&req_cond, &req_lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (req_done) {
		ret = req_ret;
		snprintf(err, errlen, "%s", req_err);
	} else {
		ret = -ETIMEDOUT;
		snprintf(err, errlen, "the daemon did not answer in 10 s");
	}
	req_args = NULL;
	pthread_mutex_unlock(&req_lock);
	pthread_mutex_unlock(&req_one);
	return ret;
}

void
route_serve(void)
{
	const struct ctl_cmd_args *a;
	char err[512] = "";
	int ret;

	pthread_mutex_lock(&req_lock);
	a = req_done ? NULL : req_args;
	pthread_mutex_unlock(&req_lock);
	if (!a)
		return;
	ret = route_do(a, err, sizeof(err));
	pthread_mutex_lock(&req_lock);
	if (req_args == a) {
		req_ret = ret;
		snprintf(req_err, sizeof(req_err), "%s", err);
		req_done = true;
		pthread_cond_signal(&req_cond);
	}
	pthread_mutex_unlock(&req_lock);
}

void
route_show(struct ctl_reply *r, const uint64_t *only)
{
	pthread_mutex_lock(&route_lock);
	/* All routes, then all rules: one table each in gwlbctl. */
	for (int pass = 0; pass < 2; pass++) {
		for (struct eni_routes *er = per_eni; er; er = er->next) {
			char hex[NAME_HEX_MAX];

			if (only && er->eni != *only)
				continue;
			name_hex(er->eni, hex);
			for (struct route_inst *ri = er->list; ri; ri = ri->next) {
				if (ri->spec.rule != (pass == 1))
					continue;
				ctl_rec_begin(r, ri->spec.rule ? "rule" : "route");
				ctl_rec_str(r, "eni", hex);
				ctl_rec_str(r, "family", ri->family == AF_INET6 ? "inet6" : "inet");
				ctl_rec_str(r, ri->spec.rule ? "rule" : "route", ri->text);
				ctl_rec_u64(r, "table", ri->table);
				ctl_rec_str(r, "state", ri->err ? "error" : "installed");
				ctl_rec_str(r, "error", ri->err ? ri->errmsg : "");
				ctl_rec_end(r);
			}
		}
	}
	pthread_mutex_unlock(&route_lock);
}
