/*
 * Routes and rules per ENI.  Operators used to script this in hooks with
 * ip route / ip rule (upstream's example scripts); here it is declared:
 *
 *   route PREFIX eni ENI|any dev in|out [via ADDR] [table N|eni] [metric M]
 *   rule [eni ENI|any] iif in|out table N|eni
 *
 * "table eni" is a routing table of the ENI's own, allocated from
 * --table-range: the native answer to endpoints whose inner networks
 * overlap.  Which ENI had which table is remembered, in memory and in
 * --state-dir's "tables" file, so an ENI gets the same table again after
 * it went down and after a restart, whatever order ENIs come back in;
 * a table goes to another ENI only when no table is left that nobody
 * ever had.  What applies to an ENI is installed (routes, then rules) when
 * its links come up, before its CREATE hook, and removed (rules, then
 * routes) when it goes.  Everything carries rtm_protocol RTPROT_GWLBTUN,
 * so what a crashed run left is found and removed at start.
 *
 * The manager says which ENIs are up (route_eni_up/down with a struct
 * route_eni); this file keeps that list itself, so it never looks into
 * the ENI table.  Requests go to the kernel as the route model's
 * instances (route_model.h) through nl_route() and nl_rule(), which the
 * unit test replaces with a recorder.
 *
 * gwlbctl's route/rule add/del reach the manager through a one-slot
 * request queue and wait for the answer, so netlink stays on one thread
 * and the caller learns what the kernel said.
 *
 * What is installed is not assumed to stay: route_reconcile() checks every
 * instance against the kernel's mirror (nl_cache.c) whenever a route or
 * rule changes there, and puts back one of ours that was deleted or
 * replaced behind our back (counted, logged, the route hook run as for
 * any add).  show routes says what the kernel has.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "event.h"
#include "ctl_server.h"
#include "hook.h"
#include "log.h"
#include "name.h"
#include "nl.h"
#include "nl_cache.h"
#include "route.h"
#include "route_model.h"
#include "state.h"

/* What the kernel's mirror says of an installed instance. */
enum inst_kstate {
	KS_INSTALLED,		/* there, as we made it */
	KS_MISSING,		/* deleted or changed; putting it back failed */
	KS_RESTORING,		/* put back; the kernel's event not seen yet */
};

/* One instance as installed, and what the kernel said of it. */
struct inst {
	struct route_inst ri;
	int		err;		/* 0 installed, else -errno */
	enum inst_kstate kstate;	/* with err 0 */
	char		errmsg[160];
	char		text[200];	/* route_inst_text() */
	struct inst	*next;
};

/* An ENI that is up, as the manager described it, and what it has. */
struct eni_routes {
	struct route_eni eni;
	uint32_t	table;		/* its own table, 0 = none */
	struct inst	*list;		/* routes before the rules that use them */
	struct eni_routes *next;
};

/*
 * route_lock: specs and the per-ENI lists, held by the manager across
 * netlink requests.  table_lock: per_eni's links and tables, held briefly,
 * so route_eni_table() (called with the ENI table locked) never waits for
 * the kernel.  Order: route_lock, then table_lock.
 */
static pthread_mutex_t route_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct route_spec *specs;
static struct eni_routes *per_eni;
static uint8_t *table_used;		/* [table_hi - table_lo + 1] */
static uint8_t *table_owned;		/* [...]: table_owner holds an ENI */
static uint64_t *table_owner;		/* [...]: the last ENI that had it */
static int wake;			/* the manager's eventfd */
static bool retry_pending;		/* a restore failed: try again on the timer */

/*
 * route_request()'s slot (req_lock).  The slot holds a copy of the
 * caller's arguments and the manager serves from a copy of its own, so a
 * caller that gave up (its wait ran out) leaves nothing the manager still
 * reads; each request has a number, and an answer goes only to the
 * request of its number, never to the next one.
 */
static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t req_one = PTHREAD_MUTEX_INITIALIZER;	/* one caller at a time */
static struct ctl_cmd_args req_args;
static uint64_t req_seq;	/* the request waiting for an answer; 0: none */
static uint64_t req_last;	/* the last number given */
static bool req_taken;		/* the manager has it */
static int req_ret;
static bool req_done;
static char req_err[512];

#define TABLES_FILE	"tables"

static bool
tables_path(char *buf, size_t len, const char *suffix)
{
	int n;

	if (!conf.state_dir || !*conf.state_dir)
		return false;
	n = snprintf(buf, len, "%s/" TABLES_FILE "%s", conf.state_dir, suffix);
	return n > 0 && (size_t)n < len;
}

/*
 * "ENI17HEX TABLE" per line; '#' starts a comment.  Lines that do not
 * parse, or name a table outside --table-range, are skipped (logged).
 */
static void
tables_load(void)
{
	char path[4096], line[256], hex[64];
	unsigned lineno = 0, n = 0, bad = 0;
	uint64_t id;
	uint32_t t;
	FILE *f;

	if (!tables_path(path, sizeof(path), ""))
		return;
	if (!(f = fopen(path, "re"))) {
		if (errno != ENOENT)
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "%s: %s; ENIs get new "
			    "tables", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %u", hex, &t) != 2 || name_parse_eni(hex, &id) < 0 ||
		    t < conf.table_lo || t > conf.table_hi) {
			if (bad++ < 5)
				log_msg(LOG_NETLINK, LOG_IMPORTANT, "%s:%u: skipped (not "
				    "'ENI TABLE' with TABLE in --table-range %u-%u)", path,
				    lineno, conf.table_lo, conf.table_hi);
			continue;
		}
		table_owned[t - conf.table_lo] = 1;
		table_owner[t - conf.table_lo] = id;
		n++;
	}
	fclose(f);
	log_msg(LOG_NETLINK, LOG_INFO, "%s: %u ENI tables remembered", path, n);
}

/* Written whole to a new file, then renamed over the old one. */
static void
tables_save(void)
{
	static struct log_rl save_rl = LOG_RL_INIT(1, 60);
	char path[4096], tmp[4200], hex[NAME_HEX_MAX], suffix[32];
	int fd, err = 0;
	FILE *f;

	snprintf(suffix, sizeof(suffix), ".%d", (int)getpid());
	if (!tables_path(path, sizeof(path), "") ||
	    !tables_path(tmp, sizeof(tmp), suffix))
		return;
	if (mkdir(conf.state_dir, 0755) < 0 && errno != EEXIST) {
		err = errno;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    !(f = fdopen(fd, "w"))) {
		err = errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "# gwlbtund: the routing table each ENI had ('table eni', "
	    "--table-range %u-%u).\n# Written by gwlbtund; read at start.\n",
	    conf.table_lo, conf.table_hi);
	for (uint32_t t = conf.table_lo; t <= conf.table_hi; t++) {
		if (!table_owned[t - conf.table_lo])
			continue;
		name_hex(table_owner[t - conf.table_lo], hex);
		fprintf(f, "%s %u\n", hex, t);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		err = errno;
	if (fclose(f) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err)
		unlink(tmp);
out:
	if (err)
		log_rl(&save_rl, LOG_NETLINK, LOG_IMPORTANT, "%s: %s; the tables of "
		    "ENIs are not remembered across restarts (--state-dir)", path,
		    strerror(err));
}

int
route_init(int wake_fd)
{
	size_t n = conf.table_hi - conf.table_lo + 1;

	wake = wake_fd;
	table_used = calloc(n, 1);
	table_owned = calloc(n, 1);
	table_owner = calloc(n, sizeof(*table_owner));
	if (!table_used || !table_owned || !table_owner)
		return -ENOMEM;
	tables_load();
	return 0;
}

static void
inst_free_list(struct inst *i)
{
	while (i) {
		struct inst *next = i->next;

		free(i);
		i = next;
	}
}

void
route_fini(void)
{
	/* What is installed stays: route_eni_down() is what removes it. */
	pthread_mutex_lock(&route_lock);
	pthread_mutex_lock(&table_lock);
	while (per_eni) {
		struct eni_routes *er = per_eni;

		per_eni = er->next;
		inst_free_list(er->list);
		free(er);
	}
	pthread_mutex_unlock(&table_lock);
	while (specs) {
		struct route_spec *s = specs;

		specs = s->next;
		free(s);
	}
	free(table_used);
	free(table_owned);
	free(table_owner);
	table_used = table_owned = NULL;
	table_owner = NULL;
	pthread_mutex_unlock(&route_lock);
}

static bool
spec_applies(const struct route_spec *s, const struct route_eni *e)
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
eni_routes_find(uint64_t id)
{
	struct eni_routes *er;

	for (er = per_eni; er; er = er->next)
		if (er->eni.id == id)
			return er;
	return NULL;
}

static void
route_hook_done(void *arg, enum hook_state res)
{
	(void)arg;
	(void)res;	/* logged by the runner; routes do not wait for it */
}

static void
route_hook(const struct route_eni *e, const struct inst *in, bool add)
{
	char f_action[32], f_family[32], f_route[240], f_eni[48], f_table[32], f_in[48],
	    f_out[48], table[16], tag[64];
	const struct route_inst *ri = &in->ri;
	const char *action = ri->spec.rule ? (add ? "RULE-ADD" : "RULE-DEL") :
	    (add ? "ROUTE-ADD" : "ROUTE-DEL");
	const char *family = ri->family == AF_INET6 ? "inet6" : "inet";
	const char *args[] = { action, family, in->text, e->hex, table, NULL };
	const char *facts[] = { f_action, f_family, f_route, f_eni, f_table, f_in, f_out, NULL };
	int err;

	if (!conf.route_hook)
		return;
	snprintf(table, sizeof(table), "%u", ri->table);
	snprintf(f_action, sizeof(f_action), "GWLB_ACTION=%s", action);
	snprintf(f_family, sizeof(f_family), "GWLB_FAMILY=%s", family);
	snprintf(f_route, sizeof(f_route), "GWLB_ROUTE=%s", in->text);
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

/*
 * The table id had before, if free; else the first one nobody had; else
 * the first free one (its last ENI is not up).  0 when all are in use.
 */
static uint32_t
table_alloc(uint64_t id)
{
	uint32_t n = conf.table_hi - conf.table_lo + 1, pick = UINT32_MAX;

	for (uint32_t i = 0; i < n; i++) {
		if (table_used[i])
			continue;
		if (table_owned[i] && table_owner[i] == id) {
			pick = i;
			break;
		}
		if (pick == UINT32_MAX || (table_owned[pick] && !table_owned[i]))
			pick = i;
	}
	if (pick == UINT32_MAX)
		return 0;
	table_used[pick] = 1;
	if (!table_owned[pick] || table_owner[pick] != id) {
		table_owned[pick] = 1;
		table_owner[pick] = id;
		tables_save();
	}
	return conf.table_lo + pick;
}

static void
table_free(uint32_t t)
{
	if (t >= conf.table_lo && t <= conf.table_hi)
		table_used[t - conf.table_lo] = 0;
}

/* Install or remove one instance; fills err and errmsg. */
static void
inst_apply(const struct route_eni *e, struct inst *in, bool add)
{
	const struct route_inst *ri = &in->ri;
	char what[240];

	if (ri->spec.rule) {
		snprintf(what, sizeof(what), "%s rule %s%s", add ? "add" : "delete",
		    ri->family == AF_INET6 ? "-6 " : "", in->text);
		in->err = nl_rule(add, ri, what, in->errmsg, sizeof(in->errmsg));
	} else {
		snprintf(what, sizeof(what), "%s route %s", add ? "add" : "delete", in->text);
		in->err = nl_route(add, ri, what, in->errmsg, sizeof(in->errmsg));
	}
	if (add && in->err == 0)
		in->errmsg[0] = '\0';
	if (in->err == 0)
		route_hook(e, in, add);
}

/* Instances of spec s for ENI er: a route has one family, a rule both. */
static int
eni_add_spec(struct eni_routes *er, const struct route_spec *s, char *err, size_t errlen)
{
	const struct route_eni *e = &er->eni;
	int families[2] = { s->family, 0 }, ret = 0;
	bool in = s->dev == CTL_DIR_IN;

	if (s->rule) {
		families[0] = AF_INET;
		families[1] = AF_INET6;
	}
	if (s->table_eni && !er->table) {
		uint32_t t = table_alloc(e->id);

		if (!t) {
			snprintf(err, errlen, "no free table in --table-range %u-%u",
			    conf.table_lo, conf.table_hi);
			return -ENOSPC;
		}
		pthread_mutex_lock(&table_lock);
		er->table = t;
		pthread_mutex_unlock(&table_lock);
	}
	for (int i = 0; i < 2 && families[i]; i++) {
		struct inst *n = calloc(1, sizeof(*n)), **tail;

		if (!n)
			return -ENOMEM;
		route_inst_make(&n->ri, s, families[i], s->table_eni ? er->table : s->table,
		    in ? e->if_in : e->if_out, in ? e->ifindex_in : e->ifindex_out);
		route_inst_text(&n->ri, n->text, sizeof(n->text));
		inst_apply(e, n, true);
		if (n->err && !ret) {
			ret = n->err;
			snprintf(err, errlen, "ENI %s: %s: %s", e->hex, n->text, n->errmsg);
		}
		/* Keep the order: routes before the rules that point at them. */
		for (tail = &er->list; *tail; tail = &(*tail)->next)
			;
		*tail = n;
	}
	return ret;
}

void
route_eni_up(const struct route_eni *e)
{
	struct eni_routes *er;
	char err[256];

	pthread_mutex_lock(&route_lock);
	if (eni_routes_find(e->id)) {
		pthread_mutex_unlock(&route_lock);
		log_msg(LOG_CORE, LOG_IMPORTANT, "ENI %s: routes already up", e->hex);
		return;
	}
	er = calloc(1, sizeof(*er));
	if (er) {
		er->eni = *e;
		pthread_mutex_lock(&table_lock);
		er->next = per_eni;
		per_eni = er;
		pthread_mutex_unlock(&table_lock);
		/* Routes first, then the rules that send traffic to them. */
		for (int pass = 0; pass < 2; pass++)
			for (struct route_spec *s = specs; s; s = s->next)
				if (s->rule == (pass == 1) && spec_applies(s, e) &&
				    eni_add_spec(er, s, err, sizeof(err)) < 0)
					log_msg(LOG_NETLINK, LOG_IMPORTANT, "%s", err);
	}
	pthread_mutex_unlock(&route_lock);
}

static void
inst_remove_list(struct eni_routes *er, const struct route_spec *only)
{
	/* Rules first (they point at routes), then routes. */
	for (int pass = 0; pass < 2; pass++) {
		struct inst **pp = &er->list;

		while (*pp) {
			struct inst *in = *pp;

			if (in->ri.spec.rule != (pass == 0) ||
			    (only && !route_spec_eq(&in->ri.spec, only))) {
				pp = &in->next;
				continue;
			}
			if (in->err == 0)
				inst_apply(&er->eni, in, false);
			*pp = in->next;
			free(in);
		}
	}
}

void
route_eni_down(uint64_t id)
{
	struct eni_routes **pp, *er;

	pthread_mutex_lock(&route_lock);
	for (pp = &per_eni; *pp; pp = &(*pp)->next) {
		if ((*pp)->eni.id != id)
			continue;
		er = *pp;
		inst_remove_list(er, NULL);
		table_free(er->table);
		pthread_mutex_lock(&table_lock);
		*pp = er->next;
		pthread_mutex_unlock(&table_lock);
		free(er);
		break;
	}
	pthread_mutex_unlock(&route_lock);
}

uint32_t
route_eni_table(uint64_t id)
{
	struct eni_routes *er;
	uint32_t t = 0;

	pthread_mutex_lock(&table_lock);
	for (er = per_eni; er; er = er->next)
		if (er->eni.id == id) {
			t = er->table;
			break;
		}
	pthread_mutex_unlock(&table_lock);
	return t;
}

/* Add or remove spec s on every ENI that is up and it applies to; with
 * add, the first error (in err) is returned but every ENI is tried. */
static int
apply_all(const struct route_spec *s, bool add, char *err, size_t errlen)
{
	int ret = 0;

	for (struct eni_routes *er = per_eni; er; er = er->next) {
		int r;

		if (!spec_applies(s, &er->eni))
			continue;
		if (!add) {
			inst_remove_list(er, s);
			continue;
		}
		r = eni_add_spec(er, s, err, errlen);
		if (r < 0 && !ret)
			ret = r;
		if (ret < 0) {
			/* Later errors must not replace the first one's text. */
			err = NULL;
			errlen = 0;
		}
	}
	return ret;
}

/* Manager: do one route/rule add/del for gwlbctl. */
static int
route_do(const struct ctl_cmd_args *a, char *err, size_t errlen)
{
	bool add = a->id == CTL_CMD_ROUTE_ADD || a->id == CTL_CMD_RULE_ADD;
	struct route_spec s, **pp;
	int ret;

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
		n->origin = ROUTE_FROM_CTL;
		n->next = specs;
		specs = n;
	} else {
		struct route_spec *old = *pp;

		*pp = old->next;
		free(old);
	}
	ret = apply_all(&s, add, err, errlen);
	if (add && ret < 0) {
		/* All or nothing: a refused `route add` leaves no trace, so the
		 * same command can simply be given again once it can work. */
		apply_all(&s, false, NULL, 0);
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
	return ret;
}

void
route_reload(const struct ctl_cmd_args *list, unsigned n)
{
	route_reload_count(list, n, NULL, NULL);
}

void
route_reload_count(const struct ctl_cmd_args *list, unsigned n, unsigned *added,
    unsigned *removed)
{
	struct route_spec *fresh = NULL, **tail = &fresh, *s, *next;
	unsigned nadd = 0, nrm = 0;
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
	 * through it never sees a gap.  The file's set replaces gwlbctl's
	 * additions too (gwlbtund(8), SIGHUP). */
	pthread_mutex_lock(&route_lock);
	for (struct route_spec *f = fresh; f; f = f->next) {
		for (s = specs; s && !route_spec_eq(f, s); s = s->next)
			;
		if (!s)
			nadd++;
	}
	for (s = specs; s; s = next) {
		struct route_spec *f;

		next = s->next;
		for (f = fresh; f && !route_spec_eq(f, s); f = f->next)
			;
		if (!f) {
			apply_all(s, false, NULL, 0);
			nrm++;
		}
		free(s);
	}
	specs = fresh;
	for (s = specs; s; s = s->next) {
		bool had = false;

		for (struct eni_routes *er = per_eni; er && !had; er = er->next)
			for (struct inst *in = er->list; in && !had; in = in->next)
				had = route_spec_eq(&in->ri.spec, s);
		if (!had && apply_all(s, true, err, sizeof(err)) < 0)
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "reload: %s", err);
	}
	pthread_mutex_unlock(&route_lock);
	if (added)
		*added = nadd;
	if (removed)
		*removed = nrm;
}

/* One installed instance against the kernel's mirror; true: it is fine. */
static bool
inst_reconcile(struct eni_routes *er, struct inst *in)
{
	struct route_inst *ri = &in->ri;
	uint32_t prio = 0;
	enum nlc_state st = ri->spec.rule ? nlc_rule_state(ri, &prio) : nlc_route_state(ri);
	char what[240];
	int err;

	if (st == NLC_UNKNOWN)
		return true;		/* no mirror: nothing to go by */
	if (st == NLC_PRESENT) {
		if (ri->spec.rule)
			ri->prio = prio;	/* where it goes back if deleted */
		if (in->kstate != KS_INSTALLED)
			in->errmsg[0] = '\0';
		in->kstate = KS_INSTALLED;
		return true;
	}
	/* A route through a link that is gone goes with it: the life cycle
	 * makes the link again, and its routes with it. */
	if (!ri->spec.rule && !nlc_link_exists(ri->oif))
		return true;
	if (in->kstate == KS_INSTALLED)
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "ENI %s: %s %s%s was %s behind our back; "
		    "putting it back", er->eni.hex, ri->spec.rule ? "rule" : "route",
		    ri->family == AF_INET6 && ri->spec.rule ? "-6 " : "", in->text,
		    st == NLC_CHANGED ? "changed" : "deleted");
	if (ri->spec.rule) {
		snprintf(what, sizeof(what), "put back rule %s%s",
		    ri->family == AF_INET6 ? "-6 " : "", in->text);
		err = nl_rule(true, ri, what, in->errmsg, sizeof(in->errmsg));
		if (err == -EEXIST)
			err = 0;	/* back already (the mirror is behind) */
	} else {
		snprintf(what, sizeof(what), "put back route %s", in->text);
		err = nl_route_restore(ri, what, in->errmsg, sizeof(in->errmsg));
	}
	if (err < 0) {
		in->kstate = KS_MISSING;
		return false;
	}
	atomic_fetch_add(ri->spec.rule ? &D.rules_restored : &D.routes_restored, 1);
	{
		char text[sizeof(in->text) + 16];

		snprintf(text, sizeof(text), "%s %s%s", ri->spec.rule ? "rule" : "route",
		    ri->family == AF_INET6 && ri->spec.rule ? "-6 " : "", in->text);
		event_route_restored(true, er->eni.id, text);
	}
	in->kstate = KS_RESTORING;
	in->errmsg[0] = '\0';
	route_hook(&er->eni, in, true);
	return true;
}

void
route_reconcile(void)
{
	bool ok = true;

	pthread_mutex_lock(&route_lock);
	/* The list keeps routes before the rules that use them. */
	for (struct eni_routes *er = per_eni; er; er = er->next)
		for (struct inst *in = er->list; in; in = in->next)
			if (in->err == 0 && !inst_reconcile(er, in))
				ok = false;
	retry_pending = !ok;
	pthread_mutex_unlock(&route_lock);
}

void
route_retry(void)
{
	static time_t last;
	time_t now = time(NULL);

	/* Once a second: each failure is logged with the kernel's reason. */
	if (retry_pending && now != last) {
		last = now;
		route_reconcile();
	}
}

int
route_request(const struct ctl_cmd_args *a, unsigned wait_ms, char *err, size_t errlen)
{
	struct timespec deadline;
	int ret;

	pthread_mutex_lock(&req_one);
	pthread_mutex_lock(&req_lock);
	req_args = *a;
	req_seq = ++req_last;
	req_taken = false;
	req_done = false;
	req_err[0] = '\0';
	pthread_mutex_unlock(&req_lock);
	{
		uint64_t one = 1;

		(void)!write(wake, &one, sizeof(one));
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
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
		/* Not taken yet: withdrawn.  Taken: it goes on without us. */
		snprintf(err, errlen, "the daemon did not answer in %u ms%s", wait_ms,
		    req_taken ? " (still at it: see show routes)" : "; nothing was changed");
	}
	req_seq = 0;
	pthread_mutex_unlock(&req_lock);
	pthread_mutex_unlock(&req_one);
	return ret;
}

void
route_serve(void)
{
	struct ctl_cmd_args a;
	char err[512] = "";
	uint64_t seq;
	int ret;

	pthread_mutex_lock(&req_lock);
	seq = req_taken ? 0 : req_seq;
	if (seq) {
		a = req_args;
		req_taken = true;
	}
	pthread_mutex_unlock(&req_lock);
	if (!seq)
		return;
	ret = route_do(&a, err, sizeof(err));
	pthread_mutex_lock(&req_lock);
	if (req_seq == seq) {
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
			if (only && er->eni.id != *only)
				continue;
			for (struct inst *in = er->list; in; in = in->next) {
				const struct route_inst *ri = &in->ri;

				if (ri->spec.rule != (pass == 1))
					continue;
				ctl_rec_begin(r, ri->spec.rule ? "rule" : "route");
				ctl_rec_str(r, "eni", er->eni.hex);
				ctl_rec_str(r, "family", ri->family == AF_INET6 ? "inet6" : "inet");
				ctl_rec_str(r, ri->spec.rule ? "rule" : "route", in->text);
				ctl_rec_u64(r, "table", ri->table);
				ctl_rec_str(r, "state", in->err ? "error" :
				    in->kstate == KS_MISSING ? "missing" :
				    in->kstate == KS_RESTORING ? "restoring" : "installed");
				ctl_rec_str(r, "error", in->err || in->kstate == KS_MISSING ?
				    in->errmsg : "");
				ctl_rec_end(r);
			}
		}
	}
	pthread_mutex_unlock(&route_lock);
}

/* A declaration as it was written: "route PREFIX eni ENI|any dev ...". */
static void
spec_text(const struct route_spec *s, char *buf, size_t len)
{
	char eni[NAME_HEX_MAX] = "any", pfx[INET6_ADDRSTRLEN] = "", via[INET6_ADDRSTRLEN] = "";
	char table[16] = "eni";
	const char *dev = s->dev == CTL_DIR_OUT ? "out" : "in";

	if (!s->eni_any)
		name_hex(s->eni, eni);
	if (!s->table_eni)
		snprintf(table, sizeof(table), "%u", s->table);
	if (s->rule) {
		snprintf(buf, len, "rule eni %s iif %s table %s", eni, dev, table);
		return;
	}
	inet_ntop(s->family, s->prefix, pfx, sizeof(pfx));
	if (s->via_set)
		inet_ntop(s->family, s->via, via, sizeof(via));
	/* The main table is the default: not written, as in the file. */
	snprintf(buf, len, "route %s/%u eni %s dev %s%s%s%s%s", pfx, s->plen, eni, dev,
	    s->via_set ? " via " : "", via, s->table != NL_TABLE_MAIN ? " table " : "",
	    s->table != NL_TABLE_MAIN ? table : "");
	if (s->metric_set)
		snprintf(buf + strlen(buf), len - strlen(buf), " metric %u", s->metric);
}

void
route_show_declared(struct ctl_reply *r)
{
	char text[256];

	pthread_mutex_lock(&route_lock);
	for (const struct route_spec *s = specs; s; s = s->next) {
		spec_text(s, text, sizeof(text));
		ctl_rec_begin(r, "declared");
		ctl_rec_str(r, "kind", s->rule ? "rule" : "route");
		ctl_rec_str(r, "declaration", text);
		ctl_rec_str(r, "origin", s->origin == ROUTE_FROM_CTL ? "gwlbctl" : "file");
		ctl_rec_end(r);
	}
	pthread_mutex_unlock(&route_lock);
}
