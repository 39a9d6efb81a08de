/*
 * Tests of the routes and rules per ENI (daemon/route.c with the route
 * model, daemon/route_model.c), without root: the netlink requests
 * (nl_route, nl_rule, nl_route_restore), the kernel's mirror (nlc_*), the
 * route hook (hook_run_argv) and the control records (ctl_rec_*) are this
 * file's own recorders and fakes, linked in place of nl.c, nl_cache.c,
 * hook.c and ctl_server.c.  Commands are parsed with the real
 * command table (lib/ctl_commands.c), as the configuration file and
 * gwlbctl are.  gwlbctl's requests go through route_request() on a thread
 * of their own, with this thread as the manager calling route_serve().
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/conf.h"
#include "daemon/ctl_server.h"
#include "daemon/hook.h"
#include "daemon/nl.h"
#include "daemon/nl_cache.h"
#include "daemon/route.h"
#include "daemon/route_model.h"
#include "daemon/state.h"
#include "name.h"

#define TABLE_LO	1000
#define TABLE_HI	1001	/* two tables: room for two ENIs */
#define ENI_A		0x1234u
#define ENI_B		0x5678u
#define ENI_C		0x9abcu

struct config conf;

/* --- netlink recorder ---------------------------------------------------- */

struct nlreq {
	uint32_t	prio;		/* a rule's FRA_PRIORITY, 0: none */
	bool		add;
	bool		restore;	/* nl_route_restore(): NLM_F_REPLACE */
	bool		rule;
	int		family;
	uint32_t	table;
	int		oif;
	char		dev[NAME_IF_MAX];
	char		text[200];	/* route_inst_text() of what was sent */
};

#define NLREQ_MAX	64
static struct nlreq reqs[NLREQ_MAX];
static unsigned nreq;
/* Adds on this link are refused with refuse_err and refuse_msg. */
static char refuse_dev[NAME_IF_MAX];
static char refuse_prefix[64];	/* or: routes whose text starts with this */
static int refuse_err;
static const char *refuse_msg;

static void mirror_back(const struct route_inst *ri);

/* Called once, at the next request, then cleared: the kernel is slow. */
static void (*nl_stall)(void);

static int
fake_nl(bool add, const struct route_inst *ri, char *err, size_t errlen)
{
	struct nlreq *q;

	if (nl_stall) {
		void (*f)(void) = nl_stall;

		nl_stall = NULL;
		f();
	}

	assert_true(nreq < NLREQ_MAX);
	q = &reqs[nreq++];
	q->add = add;
	q->restore = false;
	q->prio = ri->prio;
	q->rule = ri->spec.rule;
	q->family = ri->family;
	q->table = ri->table;
	q->oif = ri->oif;
	snprintf(q->dev, sizeof(q->dev), "%s", ri->dev);
	route_inst_text(ri, q->text, sizeof(q->text));
	if (add && ((refuse_dev[0] && strcmp(ri->dev, refuse_dev) == 0) ||
	    (refuse_prefix[0] && strncmp(q->text, refuse_prefix, strlen(refuse_prefix)) == 0))) {
		snprintf(err, errlen, "%s", refuse_msg);
		return refuse_err;
	}
	if (add)
		mirror_back(ri);	/* the kernel has it now */
	return 0;
}

int
nl_route(bool add, const struct route_inst *ri, const char *what, char *err, size_t errlen)
{
	assert_false(ri->spec.rule);
	assert_non_null(strstr(what, add ? "add route " : "delete route "));
	return fake_nl(add, ri, err, errlen);
}

int
nl_rule(bool add, const struct route_inst *ri, const char *what, char *err, size_t errlen)
{
	assert_true(ri->spec.rule);
	assert_true(strstr(what, add ? "add rule " : "delete rule ") ||
	    (add && strstr(what, "put back rule ")));
	return fake_nl(add, ri, err, errlen);
}

/* --- the kernel's mirror ------------------------------------------------- */

/* Off: NLC_UNKNOWN.  On: everything is there except what is listed here
 * (by route_inst_text() and family) as deleted or changed behind our back;
 * putting one back (not refused) takes it off the list. */
static bool mirror_on;
static struct { char text[200]; int family; enum nlc_state st; } gone[8];
static unsigned ngone;
static int gone_link;		/* nlc_link_exists() says no for this ifindex */

static void
kernel_loses(const char *text, int family, enum nlc_state st)
{
	assert_true(ngone < 8);
	snprintf(gone[ngone].text, sizeof(gone[0].text), "%s", text);
	gone[ngone].family = family;
	gone[ngone++].st = st;
}

static enum nlc_state
mirror_state(const struct route_inst *ri)
{
	char t[200];

	if (!mirror_on)
		return NLC_UNKNOWN;
	route_inst_text(ri, t, sizeof(t));
	for (unsigned i = 0; i < ngone; i++)
		if (strcmp(gone[i].text, t) == 0 && gone[i].family == ri->family)
			return gone[i].st;
	return NLC_PRESENT;
}

static void
mirror_back(const struct route_inst *ri)
{
	char t[200];

	route_inst_text(ri, t, sizeof(t));
	for (unsigned i = 0; i < ngone; i++)
		if (strcmp(gone[i].text, t) == 0 && gone[i].family == ri->family) {
			gone[i] = gone[--ngone];
			return;
		}
}

enum nlc_state
nlc_route_state(const struct route_inst *ri)
{
	assert_false(ri->spec.rule);
	return mirror_state(ri);
}

enum nlc_state
nlc_rule_state(const struct route_inst *ri, uint32_t *prio)
{
	assert_true(ri->spec.rule);
	*prio = ri->family == AF_INET6 ? 32001 : 32000;
	return mirror_state(ri);
}

bool
nlc_link_exists(int ifindex)
{
	return ifindex != gone_link;
}

int
nl_route_restore(const struct route_inst *ri, const char *what, char *err, size_t errlen)
{
	int ret;

	assert_false(ri->spec.rule);
	assert_non_null(strstr(what, "put back route "));
	ret = fake_nl(true, ri, err, errlen);
	reqs[nreq - 1].restore = true;
	return ret;
}

/* --- hook recorder ------------------------------------------------------- */

struct hookcall {
	char		path[64];
	char		args[HOOK_ARGS_MAX][200];
	unsigned	nargs;
	char		facts[10][240];
	unsigned	nfacts;
	unsigned	timeout_s;
};

static struct hookcall hooks[16];
static unsigned nhook;

int
hook_run_argv(const char *path, const char *const *args, const char *const *facts,
    const char *tag, unsigned timeout_s, hook_done_fn done, void *arg)
{
	struct hookcall *h;

	(void)tag;
	(void)done;
	(void)arg;
	assert_true(nhook < 16);
	h = &hooks[nhook++];
	snprintf(h->path, sizeof(h->path), "%s", path);
	for (h->nargs = 0; args[h->nargs]; h->nargs++) {
		assert_true(h->nargs < HOOK_ARGS_MAX);
		snprintf(h->args[h->nargs], sizeof(h->args[0]), "%s", args[h->nargs]);
	}
	for (h->nfacts = 0; facts[h->nfacts]; h->nfacts++) {
		assert_true(h->nfacts < 10);
		snprintf(h->facts[h->nfacts], sizeof(h->facts[0]), "%s", facts[h->nfacts]);
	}
	h->timeout_s = timeout_s;
	return 0;
}

static bool
hook_has_fact(const struct hookcall *h, const char *fact)
{
	for (unsigned i = 0; i < h->nfacts; i++)
		if (strcmp(h->facts[i], fact) == 0)
			return true;
	return false;
}

/* --- control records recorder ---------------------------------------------- */

struct rec {
	char		type[16];
	char		keys[8][16];
	char		vals[8][200];
	unsigned	n;
};

static struct rec recs[32];
static unsigned nrec;

void
ctl_rec_begin(struct ctl_reply *r, const char *type)
{
	(void)r;
	assert_true(nrec < 32);
	memset(&recs[nrec], 0, sizeof(recs[nrec]));
	snprintf(recs[nrec].type, sizeof(recs[0].type), "%s", type);
}

void
ctl_rec_str(struct ctl_reply *r, const char *key, const char *v)
{
	struct rec *c = &recs[nrec];

	(void)r;
	assert_true(c->n < 8);
	snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
	snprintf(c->vals[c->n], sizeof(c->vals[0]), "%s", v);
	c->n++;
}

void
ctl_rec_u64(struct ctl_reply *r, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	ctl_rec_str(r, key, buf);
}

void
ctl_rec_end(struct ctl_reply *r)
{
	(void)r;
	nrec++;
}

static const char *
rec_get(unsigned i, const char *key)
{
	assert_true(i < nrec);
	for (unsigned k = 0; k < recs[i].n; k++)
		if (strcmp(recs[i].keys[k], key) == 0)
			return recs[i].vals[k];
	fail_msg("record %u has no %s", i, key);
	return NULL;
}

static void
show(const uint64_t *only)
{
	nrec = 0;
	route_show(NULL, only);
}

/* --- helpers ------------------------------------------------------------- */

static int wake_fd = -1;

static void
parse(const char *line, struct ctl_cmd_args *a)
{
	char buf[256], *save = NULL, err[256] = "";
	const char *words[CTL_WORDS_MAX];
	unsigned n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		assert_true(n < CTL_WORDS_MAX);
		words[n++] = w;
	}
	if (ctl_cmd_parse(n, words, a, err, sizeof(err)) != 0)
		fail_msg("%s: %s", line, err);
}

static void
config(const char *const *lines, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct ctl_cmd_args a;
		char err[256] = "";

		parse(lines[i], &a);
		if (route_config_add(&a, err, sizeof(err)) != 0)
			fail_msg("%s: %s", lines[i], err);
	}
}

static struct route_eni
mk_eni(uint64_t id)
{
	struct route_eni e = { .id = id, .ifindex_in = (int)(100 + 2 * id),
	    .ifindex_out = (int)(101 + 2 * id) };

	name_hex(id, e.hex);
	name_ifname(id, NAME_IN, e.if_in);
	name_ifname(id, NAME_OUT, e.if_out);
	return e;
}

static void
up(uint64_t id)
{
	struct route_eni e = mk_eni(id);

	route_eni_up(&e);
}

static void
clear(void)
{
	nreq = 0;
	nhook = 0;
	nrec = 0;
}

/* The request as `ip` would print it: "add route ..." / "del rule -6 ...". */
static void
req_is(unsigned i, bool add, const char *text, int family)
{
	assert_true(i < nreq);
	assert_int_equal(reqs[i].add, add);
	assert_string_equal(reqs[i].text, text);
	assert_int_equal(reqs[i].family, family);
}

struct rq {
	struct ctl_cmd_args a;
	unsigned	wait_ms;
	char		err[512];
	int		ret;
};

static void *
rq_thread(void *p)
{
	struct rq *r = p;

	r->ret = route_request(&r->a, r->wait_ms, r->err, sizeof(r->err));
	return NULL;
}

/* gwlbctl's way in: a control thread asks, this thread serves as the manager. */
static int
request(const char *line, char *err, size_t errlen)
{
	struct rq r = { .ret = 1, .wait_ms = ROUTE_REQUEST_WAIT_MS };
	pthread_t t;
	bool served = false;

	parse(line, &r.a);
	assert_int_equal(pthread_create(&t, NULL, rq_thread, &r), 0);
	for (int i = 0; i < 100 && !served; i++) {
		struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
		uint64_t v;

		if (poll(&pfd, 1, 100) == 1) {
			assert_int_equal(read(wake_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
			route_serve();
			served = true;
		}
	}
	pthread_join(t, NULL);
	assert_true(served);
	snprintf(err, errlen, "%s", r.err);
	return r.ret;
}

/*
 * A caller that gave up: gwlbctl's first request takes the manager longer
 * than its wait (the kernel is slow), and the control thread goes on to the
 * next request, whose arguments lie where the first one's did.  The second
 * request must be carried out and answered for itself, not with the late
 * answer to the first.
 */
static struct rq slow_rq;
static pthread_t slow_t;

static void
slow_kernel(void)
{
	struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };

	/* The first caller gives up meanwhile ... */
	pthread_join(slow_t, NULL);
	assert_int_equal(slow_rq.ret, -ETIMEDOUT);
	assert_non_null(strstr(slow_rq.err, "did not answer"));
	/* ... and the next request comes, in the same place. */
	memset(&slow_rq, 0, sizeof(slow_rq));
	slow_rq.ret = 1;
	slow_rq.wait_ms = 5000;
	parse("route add 198.51.100.0/24 eni any dev in", &slow_rq.a);
	assert_int_equal(pthread_create(&slow_t, NULL, rq_thread, &slow_rq), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);	/* it is asked */
}

static void
request_outlives_its_caller(void **state)
{
	struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
	struct route_eni a = mk_eni(ENI_A);
	char t1[200], t2[200];
	uint64_t v;

	(void)state;
	up(ENI_A);
	slow_rq = (struct rq){ .ret = 1, .wait_ms = 200 };
	parse("route add 192.0.2.0/24 eni any dev in", &slow_rq.a);
	assert_int_equal(pthread_create(&slow_t, NULL, rq_thread, &slow_rq), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(wake_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	nl_stall = slow_kernel;
	route_serve();			/* the first, which its caller gave up on */
	assert_null(nl_stall);
	for (int i = 0; i < 50 && poll(&pfd, 1, 100) == 1; i++) {
		assert_int_equal(read(wake_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
		route_serve();
	}
	pthread_join(slow_t, NULL);
	assert_int_equal(slow_rq.ret, 0);
	/* The first was done (late), then the second, each once. */
	snprintf(t1, sizeof(t1), "192.0.2.0/24 dev %s table 254 proto 247", a.if_in);
	snprintf(t2, sizeof(t2), "198.51.100.0/24 dev %s table 254 proto 247", a.if_in);
	assert_int_equal(nreq, 2);
	req_is(0, true, t1, AF_INET);
	req_is(1, true, t2, AF_INET);
}

static int
setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.table_lo = TABLE_LO;
	conf.table_hi = TABLE_HI;
	conf.hook_timeout_s = 7;
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(wake_fd >= 0);
	assert_int_equal(route_init(wake_fd), 0);
	clear();
	refuse_dev[0] = '\0';
	refuse_prefix[0] = '\0';
	mirror_on = false;
	ngone = 0;
	gone_link = 0;
	nl_stall = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	route_fini();
	close(wake_fd);
	wake_fd = -1;
	return 0;
}

static const char *const cfg_mixed[] = {
	"rule add eni any iif in table eni",
	"route add 192.0.2.0/24 eni any dev in table eni",
	"route add 2001:db8:1::/64 eni any dev out via 2001:db8::1 table 100 metric 5",
	"route add 198.51.100.0/24 eni any dev out",
	"route add 203.0.113.0/24 eni 5678 dev in",	/* ENI_B's only */
};

/* --- tests --------------------------------------------------------------- */

/* Up: every route that applies, in file order, then the rules. */
static void
up_installs_routes_then_rules(void **state)
{
	struct route_eni a = mk_eni(ENI_A);
	char t[200];

	(void)state;
	config(cfg_mixed, 5);
	up(ENI_A);
	assert_int_equal(nreq, 5);
	snprintf(t, sizeof(t), "192.0.2.0/24 dev %s table 1000 proto 247", a.if_in);
	req_is(0, true, t, AF_INET);
	assert_int_equal(reqs[0].oif, a.ifindex_in);
	snprintf(t, sizeof(t), "2001:db8:1::/64 via 2001:db8::1 dev %s table 100 proto 247 "
	    "metric 5", a.if_out);
	req_is(1, true, t, AF_INET6);
	assert_int_equal(reqs[1].oif, a.ifindex_out);
	snprintf(t, sizeof(t), "198.51.100.0/24 dev %s table 254 proto 247", a.if_out);
	req_is(2, true, t, AF_INET);
	/* A rule is one instance per family, on the ENI's own table. */
	snprintf(t, sizeof(t), "iif %s lookup 1000 proto 247", a.if_in);
	req_is(3, true, t, AF_INET);
	assert_true(reqs[3].rule);
	assert_string_equal(reqs[3].dev, a.if_in);
	req_is(4, true, t, AF_INET6);
	assert_int_equal(route_eni_table(ENI_A), TABLE_LO);
	/* show routes: four routes would be wrong (ENI_B's is not A's). */
	show(NULL);
	assert_int_equal(nrec, 5);
	assert_string_equal(recs[0].type, "route");
	assert_string_equal(rec_get(0, "eni"), a.hex);
	assert_string_equal(rec_get(0, "state"), "installed");
	assert_string_equal(recs[3].type, "rule");
	assert_string_equal(rec_get(4, "family"), "inet6");
	assert_string_equal(rec_get(4, "table"), "1000");
}

/* "table eni": one table per ENI from --table-range, given back on down. */
static void
table_eni_from_range(void **state)
{
	static const char *const cfg[] = { "route add 192.0.2.0/24 eni any dev in table eni" };

	(void)state;
	config(cfg, 1);
	up(ENI_A);
	up(ENI_B);
	assert_int_equal(route_eni_table(ENI_A), TABLE_LO);
	assert_int_equal(route_eni_table(ENI_B), TABLE_LO + 1);
	assert_int_equal(nreq, 2);
	assert_int_equal(reqs[1].table, TABLE_LO + 1);
	/* The range is used up: nothing is installed in a table of no one. */
	clear();
	up(ENI_C);
	assert_int_equal(nreq, 0);
	assert_int_equal(route_eni_table(ENI_C), 0);
	route_eni_down(ENI_C);
	route_eni_down(ENI_A);
	assert_int_equal(route_eni_table(ENI_A), 0);
	assert_int_equal(nreq, 1);
	assert_false(reqs[0].add);
	assert_int_equal(reqs[0].table, TABLE_LO);
	/* A's table is free again: C gets it. */
	clear();
	up(ENI_C);
	assert_int_equal(route_eni_table(ENI_C), TABLE_LO);
	assert_int_equal(nreq, 1);
	assert_true(reqs[0].add);
	assert_int_equal(reqs[0].table, TABLE_LO);
}

/*
 * "table eni" across restarts: the tables file under --state-dir gives
 * each ENI the table it had, whatever order they come back in; a table
 * is given to another ENI only when none is left that nobody had.
 */
static void
table_eni_kept_across_restart(void **state)
{
	static const char *const cfg[] = { "route add 192.0.2.0/24 eni any dev in table eni" };
	char dir[] = "/tmp/routetest.XXXXXX", path[64], line[128], cmd[96];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	conf.state_dir = dir;
	config(cfg, 1);
	up(ENI_A);
	up(ENI_B);
	assert_int_equal(route_eni_table(ENI_A), TABLE_LO);
	assert_int_equal(route_eni_table(ENI_B), TABLE_LO + 1);
	/* Down and up again, B first: the same tables. */
	route_eni_down(ENI_A);
	route_eni_down(ENI_B);
	up(ENI_B);
	up(ENI_A);
	assert_int_equal(route_eni_table(ENI_A), TABLE_LO);
	assert_int_equal(route_eni_table(ENI_B), TABLE_LO + 1);

	/* A restart: B comes back first and still gets its own. */
	route_fini();
	assert_int_equal(route_init(wake_fd), 0);
	config(cfg, 1);
	up(ENI_B);
	up(ENI_A);
	assert_int_equal(route_eni_table(ENI_B), TABLE_LO + 1);
	assert_int_equal(route_eni_table(ENI_A), TABLE_LO);

	/* The file, as an operator reads it; a bad line and a table out of
	 * the range are skipped, the rest still holds. */
	snprintf(path, sizeof(path), "%s/tables", dir);
	assert_non_null(f = fopen(path, "r"));
	{
		char a[NAME_HEX_MAX], b[NAME_HEX_MAX], want[64];
		bool seen_a = false, seen_b = false;

		name_hex(ENI_A, a);
		name_hex(ENI_B, b);
		while (fgets(line, sizeof(line), f)) {
			snprintf(want, sizeof(want), "%s %u\n", a, TABLE_LO);
			seen_a |= strcmp(line, want) == 0;
			snprintf(want, sizeof(want), "%s %u\n", b, TABLE_LO + 1);
			seen_b |= strcmp(line, want) == 0;
		}
		assert_true(seen_a && seen_b);
	}
	fclose(f);
	assert_non_null(f = fopen(path, "a"));
	fprintf(f, "garbage\n%s 99999\n", "0000000000000000c");
	fclose(f);
	route_fini();
	assert_int_equal(route_init(wake_fd), 0);
	config(cfg, 1);
	up(ENI_B);
	assert_int_equal(route_eni_table(ENI_B), TABLE_LO + 1);
	/* C never had one, and A's is free: C gets A's (the range is full). */
	up(ENI_C);
	assert_int_equal(route_eni_table(ENI_C), TABLE_LO);

	conf.state_dir = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Down: the rules go first (traffic stops being steered), then routes. */
static void
down_removes_rules_then_routes(void **state)
{
	struct route_eni a = mk_eni(ENI_A);
	char t[200];

	(void)state;
	config(cfg_mixed, 5);
	up(ENI_A);
	up(ENI_B);
	clear();
	route_eni_down(ENI_A);
	assert_int_equal(nreq, 5);
	snprintf(t, sizeof(t), "iif %s lookup 1000 proto 247", a.if_in);
	req_is(0, false, t, AF_INET);
	req_is(1, false, t, AF_INET6);
	snprintf(t, sizeof(t), "192.0.2.0/24 dev %s table 1000 proto 247", a.if_in);
	req_is(2, false, t, AF_INET);
	assert_false(reqs[3].rule);
	assert_int_equal(reqs[3].family, AF_INET6);
	snprintf(t, sizeof(t), "198.51.100.0/24 dev %s table 254 proto 247", a.if_out);
	req_is(4, false, t, AF_INET);
	/* B keeps all of its own, and A is gone from show routes. */
	show(NULL);
	assert_int_equal(nrec, 6);
	for (unsigned i = 0; i < nrec; i++)
		assert_string_equal(rec_get(i, "eni"), mk_eni(ENI_B).hex);
	clear();
	route_eni_down(ENI_A);
	assert_int_equal(nreq, 0);
}

/* A route add the kernel refuses for one ENI is taken back from all. */
static void
route_add_all_or_nothing(void **state)
{
	struct route_eni b = mk_eni(ENI_B);
	const char *cmd = "route add 192.0.2.0/24 eni any dev in";
	char err[512], t[200];
	unsigned dels = 0;

	(void)state;
	up(ENI_A);
	up(ENI_B);
	snprintf(refuse_dev, sizeof(refuse_dev), "%s", b.if_in);
	refuse_err = -ENETDOWN;
	refuse_msg = "Network is down: Nexthop device is not up";
	assert_int_equal(request(cmd, err, sizeof(err)), -ENETDOWN);
	assert_non_null(strstr(err, b.hex));
	assert_non_null(strstr(err, "Nexthop device is not up"));
	assert_int_equal(nreq, 3);
	for (unsigned i = 0; i < nreq; i++) {
		if (reqs[i].add)
			continue;
		dels++;
		snprintf(t, sizeof(t), "192.0.2.0/24 dev %s table 254 proto 247",
		    mk_eni(ENI_A).if_in);
		assert_string_equal(reqs[i].text, t);
	}
	assert_int_equal(dels, 1);
	show(NULL);
	assert_int_equal(nrec, 0);
	/* Not kept: once the kernel agrees, the same command works. */
	refuse_dev[0] = '\0';
	clear();
	assert_int_equal(request(cmd, err, sizeof(err)), 0);
	assert_int_equal(nreq, 2);
	assert_true(reqs[0].add && reqs[1].add);
	show(NULL);
	assert_int_equal(nrec, 2);
	clear();
	assert_int_equal(request(cmd, err, sizeof(err)), -EEXIST);
	assert_int_equal(nreq, 0);
	/* route del: gone from every ENI, then unknown. */
	assert_int_equal(request("route del 192.0.2.0/24 eni any dev in", err, sizeof(err)), 0);
	assert_int_equal(nreq, 2);
	assert_false(reqs[0].add || reqs[1].add);
	assert_int_equal(request("route del 192.0.2.0/24 eni any dev in", err, sizeof(err)),
	    -ENOENT);
	assert_int_equal(nreq, 2);
}

static void
parse_all(const char *const *lines, unsigned n, struct ctl_cmd_args *out)
{
	for (unsigned i = 0; i < n; i++)
		parse(lines[i], &out[i]);
}

/* SIGHUP with the same file: nothing is touched. */
static void
reload_unchanged(void **state)
{
	struct ctl_cmd_args list[5];

	(void)state;
	config(cfg_mixed, 5);
	up(ENI_A);
	up(ENI_B);
	clear();
	parse_all(cfg_mixed, 5, list);
	route_reload(list, 5);
	assert_int_equal(nreq, 0);
	show(NULL);
	assert_int_equal(nrec, 5 + 6);
}

/* SIGHUP with one route changed: only that one is replaced. */
static void
reload_one_changed(void **state)
{
	static const char *const changed[] = {
		"rule add eni any iif in table eni",
		"route add 192.0.2.0/24 eni any dev in table eni",
		"route add 2001:db8:1::/64 eni any dev out via 2001:db8::1 table 100 metric 6",
		"route add 198.51.100.0/24 eni any dev out",
		"route add 203.0.113.0/24 eni 5678 dev in",
	};
	struct route_eni a = mk_eni(ENI_A);
	struct ctl_cmd_args list[5];
	char t[200];

	(void)state;
	config(cfg_mixed, 5);
	up(ENI_A);
	clear();
	parse_all(changed, 5, list);
	route_reload(list, 5);
	assert_int_equal(nreq, 2);
	snprintf(t, sizeof(t), "2001:db8:1::/64 via 2001:db8::1 dev %s table 100 proto 247 "
	    "metric 5", a.if_out);
	req_is(0, false, t, AF_INET6);
	snprintf(t, sizeof(t), "2001:db8:1::/64 via 2001:db8::1 dev %s table 100 proto 247 "
	    "metric 6", a.if_out);
	req_is(1, true, t, AF_INET6);
	/* The ENI's table survives a reload that keeps "table eni". */
	assert_int_equal(route_eni_table(ENI_A), TABLE_LO);
}


/* show config's declared list: every declaration, ENIs up or not, with
 * where it came from; a reload counts what it added and removed. */
static void
declared_with_origin(void **state)
{
	static const char *const next[] = {
		"rule add eni any iif in table eni",
		"route add 192.0.2.0/24 eni any dev in table eni",
		"route add 10.9.0.0/16 eni any dev out table 7",
	};
	struct ctl_cmd_args list[3];
	unsigned added = 99, removed = 99;
	char err[256];

	(void)state;
	config(cfg_mixed, 5);		/* no ENI is up */
	assert_int_equal(request("route add 198.51.100.0/24 eni 1234 dev in metric 3", err,
	    sizeof(err)), 0);
	nrec = 0;
	route_show_declared(NULL);
	assert_int_equal(nrec, 6);
	for (unsigned i = 0; i < nrec; i++)
		assert_string_equal(recs[i].type, "declared");
	/* gwlbctl's first (the newest), then the file's in file order. */
	assert_string_equal(rec_get(0, "declaration"),
	    "route 198.51.100.0/24 eni 00000000000001234 dev in metric 3");
	assert_string_equal(rec_get(0, "origin"), "gwlbctl");
	assert_string_equal(rec_get(1, "declaration"), "rule eni any iif in table eni");
	assert_string_equal(rec_get(1, "kind"), "rule");
	assert_string_equal(rec_get(2, "declaration"),
	    "route 192.0.2.0/24 eni any dev in table eni");
	assert_string_equal(rec_get(3, "declaration"),
	    "route 2001:db8:1::/64 eni any dev out via 2001:db8::1 table 100 metric 5");
	assert_string_equal(rec_get(4, "declaration"), "route 198.51.100.0/24 eni any dev out");
	assert_string_equal(rec_get(5, "declaration"),
	    "route 203.0.113.0/24 eni 00000000000005678 dev in");
	for (unsigned i = 1; i < nrec; i++)
		assert_string_equal(rec_get(i, "origin"), "file");

	/* Keeps 2, drops 3 of the file's and gwlbctl's one, adds 1. */
	parse_all(next, 3, list);
	route_reload_count(list, 3, &added, &removed);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 4);
	nrec = 0;
	route_show_declared(NULL);
	assert_int_equal(nrec, 3);
	assert_string_equal(rec_get(2, "declaration"),
	    "route 10.9.0.0/16 eni any dev out table 7");
	route_reload_count(list, 3, &added, &removed);
	assert_int_equal(added + removed, 0);
}

/* What the kernel refused stays visible with its words; nothing to undo. */
static void
refused_route_shows_error(void **state)
{
	static const char *const cfg[] = {
		"route add 192.0.2.0/24 eni any dev out via 198.51.100.1",
		"route add 203.0.113.0/24 eni any dev in",
	};
	struct route_eni a = mk_eni(ENI_A);
	uint64_t other = ENI_B, id = ENI_A;
	char t[200];

	(void)state;
	config(cfg, 2);
	snprintf(refuse_prefix, sizeof(refuse_prefix), "192.0.2.0/24");
	refuse_err = -ENETUNREACH;
	refuse_msg = "Network is unreachable: Nexthop has invalid gateway";
	up(ENI_A);
	show(NULL);
	assert_int_equal(nrec, 2);
	snprintf(t, sizeof(t), "192.0.2.0/24 via 198.51.100.1 dev %s table 254 proto 247",
	    a.if_out);
	assert_string_equal(rec_get(0, "route"), t);
	assert_string_equal(rec_get(0, "state"), "error");
	assert_string_equal(rec_get(0, "error"),
	    "Network is unreachable: Nexthop has invalid gateway");
	assert_string_equal(rec_get(1, "state"), "installed");
	assert_string_equal(rec_get(1, "error"), "");
	show(&other);
	assert_int_equal(nrec, 0);
	show(&id);
	assert_int_equal(nrec, 2);
	clear();
	route_eni_down(ENI_A);
	assert_int_equal(nreq, 1);
	snprintf(t, sizeof(t), "203.0.113.0/24 dev %s table 254 proto 247", a.if_in);
	req_is(0, false, t, AF_INET);
}

/* The route hook: what was done, with the same facts as the ENI hooks. */
static void
route_hook_runs(void **state)
{
	static const char *const cfg[] = {
		"route add 192.0.2.0/24 eni any dev in table 100",
		"route add 198.51.100.0/24 eni any dev out",
		"rule add eni any iif in table 100",
	};
	struct route_eni a = mk_eni(ENI_A);
	char t[200], f[240];

	(void)state;
	conf.route_hook = "/etc/gwlbtun/route-hook";
	config(cfg, 3);
	snprintf(refuse_prefix, sizeof(refuse_prefix), "198.51.100.0/24");
	refuse_err = -EINVAL;
	refuse_msg = "Invalid argument";
	up(ENI_A);
	/* The refused route runs no hook. */
	assert_int_equal(nhook, 3);
	assert_string_equal(hooks[0].path, "/etc/gwlbtun/route-hook");
	assert_int_equal(hooks[0].timeout_s, 7);
	assert_int_equal(hooks[0].nargs, 5);
	snprintf(t, sizeof(t), "192.0.2.0/24 dev %s table 100 proto 247", a.if_in);
	assert_string_equal(hooks[0].args[0], "ROUTE-ADD");
	assert_string_equal(hooks[0].args[1], "inet");
	assert_string_equal(hooks[0].args[2], t);
	assert_string_equal(hooks[0].args[3], a.hex);
	assert_string_equal(hooks[0].args[4], "100");
	assert_true(hook_has_fact(&hooks[0], "GWLB_ACTION=ROUTE-ADD"));
	assert_true(hook_has_fact(&hooks[0], "GWLB_FAMILY=inet"));
	snprintf(f, sizeof(f), "GWLB_ROUTE=%s", t);
	assert_true(hook_has_fact(&hooks[0], f));
	snprintf(f, sizeof(f), "GWLB_ENI=%s", a.hex);
	assert_true(hook_has_fact(&hooks[0], f));
	assert_true(hook_has_fact(&hooks[0], "GWLB_TABLE=100"));
	snprintf(f, sizeof(f), "GWLB_IFACE_IN=%s", a.if_in);
	assert_true(hook_has_fact(&hooks[0], f));
	snprintf(f, sizeof(f), "GWLB_IFACE_OUT=%s", a.if_out);
	assert_true(hook_has_fact(&hooks[0], f));
	snprintf(t, sizeof(t), "iif %s lookup 100 proto 247", a.if_in);
	assert_string_equal(hooks[1].args[0], "RULE-ADD");
	assert_string_equal(hooks[1].args[1], "inet");
	assert_string_equal(hooks[1].args[2], t);
	assert_string_equal(hooks[2].args[0], "RULE-ADD");
	assert_string_equal(hooks[2].args[1], "inet6");
	clear();
	route_eni_down(ENI_A);
	assert_int_equal(nhook, 3);
	assert_string_equal(hooks[0].args[0], "RULE-DEL");
	assert_string_equal(hooks[1].args[0], "RULE-DEL");
	assert_string_equal(hooks[2].args[0], "ROUTE-DEL");
	assert_true(hook_has_fact(&hooks[2], "GWLB_ACTION=ROUTE-DEL"));
}

static const char *const cfg_reconcile[] = {
	"route add 192.0.2.0/24 eni any dev in table eni",
	"route add 2001:db8:1::/64 eni any dev out via 2001:db8::1 metric 5",
	"rule add eni any iif in table eni",
};

/* show routes' state of the instance whose text is t (and family). */
static const char *
shown_state(const char *t, const char *family)
{
	show(NULL);
	for (unsigned i = 0; i < nrec; i++)
		if ((strcmp(rec_get(i, "eni"), "") != 0) &&
		    strcmp(rec_get(i, recs[i].type), t) == 0 &&
		    strcmp(rec_get(i, "family"), family) == 0)
			return rec_get(i, "state");
	fail_msg("%s (%s) not shown", t, family);
	return NULL;
}

/* Deleted or changed behind our back: put back, counted, hook run, shown. */
static void
reconcile_puts_back(void **state)
{
	struct route_eni a = mk_eni(ENI_A);
	char r4[200], r6[200], rule[200];
	uint64_t routes0 = atomic_load(&D.routes_restored),
	    rules0 = atomic_load(&D.rules_restored);

	(void)state;
	conf.route_hook = "/etc/gwlbtun/route-hook";
	config(cfg_reconcile, 3);
	up(ENI_A);
	snprintf(r4, sizeof(r4), "192.0.2.0/24 dev %s table 1000 proto 247", a.if_in);
	snprintf(r6, sizeof(r6), "2001:db8:1::/64 via 2001:db8::1 dev %s table 254 proto 247 "
	    "metric 5", a.if_out);
	snprintf(rule, sizeof(rule), "iif %s lookup 1000 proto 247", a.if_in);
	/* Nothing lost: nothing done. */
	mirror_on = true;
	clear();
	route_reconcile();
	assert_int_equal(nreq, 0);
	assert_int_equal(nhook, 0);
	/* ip route del; ip -6 route replace ... via another; ip -6 rule del */
	kernel_loses(r4, AF_INET, NLC_MISSING);
	kernel_loses(r6, AF_INET6, NLC_CHANGED);
	kernel_loses(rule, AF_INET6, NLC_MISSING);
	route_reconcile();
	/* Routes first (with NLM_F_REPLACE: a changed one has our key), then
	 * the rule; its IPv4 twin was not touched. */
	assert_int_equal(nreq, 3);
	req_is(0, true, r4, AF_INET);
	assert_true(reqs[0].restore);
	req_is(1, true, r6, AF_INET6);
	assert_true(reqs[1].restore);
	req_is(2, true, rule, AF_INET6);
	assert_true(reqs[2].rule);
	/* Where it was: the priority the kernel had given it. */
	assert_int_equal(reqs[2].prio, 32001);
	assert_int_equal(atomic_load(&D.routes_restored) - routes0, 2);
	assert_int_equal(atomic_load(&D.rules_restored) - rules0, 1);
	/* The route hook runs as for any add. */
	assert_int_equal(nhook, 3);
	assert_string_equal(hooks[0].args[0], "ROUTE-ADD");
	assert_string_equal(hooks[0].args[2], r4);
	assert_string_equal(hooks[2].args[0], "RULE-ADD");
	assert_string_equal(hooks[2].args[1], "inet6");
	/* Until the kernel's event confirms it: restoring. */
	assert_string_equal(shown_state(r4, "inet"), "restoring");
	assert_string_equal(shown_state(rule, "inet"), "installed");
	clear();
	route_reconcile();
	assert_int_equal(nreq, 0);
	assert_string_equal(shown_state(r4, "inet"), "installed");
	assert_string_equal(shown_state(r6, "inet6"), "installed");
	assert_string_equal(shown_state(rule, "inet6"), "installed");
	mirror_on = false;
}

/* Putting back refused: shown missing with the kernel's reason, retried. */
static void
reconcile_refused_shows_missing(void **state)
{
	struct route_eni a = mk_eni(ENI_A);
	char r4[200];
	uint64_t routes0 = atomic_load(&D.routes_restored);

	(void)state;
	config(cfg_reconcile, 1);
	up(ENI_A);
	snprintf(r4, sizeof(r4), "192.0.2.0/24 dev %s table 1000 proto 247", a.if_in);
	mirror_on = true;
	kernel_loses(r4, AF_INET, NLC_MISSING);
	snprintf(refuse_prefix, sizeof(refuse_prefix), "192.0.2.0/24");
	refuse_err = -ENETUNREACH;
	refuse_msg = "Network is unreachable: Nexthop device is not up";
	clear();
	route_reconcile();
	assert_int_equal(nreq, 1);
	assert_string_equal(shown_state(r4, "inet"), "missing");
	show(NULL);
	assert_string_equal(rec_get(0, "error"), refuse_msg);
	assert_int_equal(atomic_load(&D.routes_restored), routes0);
	/* Tried again until it works. */
	refuse_prefix[0] = '\0';
	clear();
	route_reconcile();
	assert_int_equal(nreq, 1);
	assert_int_equal(atomic_load(&D.routes_restored) - routes0, 1);
	route_reconcile();
	assert_string_equal(shown_state(r4, "inet"), "installed");
	show(NULL);
	assert_string_equal(rec_get(0, "error"), "");
	mirror_on = false;
}

/* What we never installed, or without a mirror, or with its link gone
 * (the life cycle makes it again): left alone. */
static void
reconcile_leaves_alone(void **state)
{
	static const char *const cfg[] = {
		"route add 192.0.2.0/24 eni any dev in",
		"route add 198.51.100.0/24 eni any dev out",
	};
	struct route_eni a = mk_eni(ENI_A);
	char r_in[200], r_out[200];

	(void)state;
	config(cfg, 2);
	snprintf(refuse_prefix, sizeof(refuse_prefix), "198.51.100.0/24");
	refuse_err = -EEXIST;
	refuse_msg = "File exists";	/* someone else's route has that key */
	up(ENI_A);
	refuse_prefix[0] = '\0';
	snprintf(r_in, sizeof(r_in), "192.0.2.0/24 dev %s table 254 proto 247", a.if_in);
	snprintf(r_out, sizeof(r_out), "198.51.100.0/24 dev %s table 254 proto 247", a.if_out);
	kernel_loses(r_in, AF_INET, NLC_MISSING);
	kernel_loses(r_out, AF_INET, NLC_CHANGED);
	clear();
	route_reconcile();		/* no mirror */
	assert_int_equal(nreq, 0);
	mirror_on = true;
	gone_link = a.ifindex_in;
	route_reconcile();
	/* r_out was never ours (refused at install): never replaced. */
	assert_int_equal(nreq, 0);
	assert_string_equal(shown_state(r_out, "inet"), "error");
	gone_link = 0;
	route_reconcile();
	assert_int_equal(nreq, 1);
	req_is(0, true, r_in, AF_INET);
	mirror_on = false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(up_installs_routes_then_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(table_eni_from_range, setup, teardown),
		cmocka_unit_test_setup_teardown(table_eni_kept_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(down_removes_rules_then_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(route_add_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(reload_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(reload_one_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(declared_with_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_route_shows_error, setup, teardown),
		cmocka_unit_test_setup_teardown(route_hook_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_puts_back, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_refused_shows_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_leaves_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(request_outlives_its_caller, setup, teardown),
	};

	log_set_all(LOG_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
