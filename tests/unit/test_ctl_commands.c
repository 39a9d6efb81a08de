/*
 * Unit tests for the command table and parser (lib/ctl_commands.c): a vector of
 * command lines with the canonical words they must become or the error
 * they must give (abbreviation, ambiguity, arguments, ENI forms), what
 * completion and `?` are offered, and the check that gwlbctl(8) documents
 * exactly the commands of the table, in table order.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ctl_commands.h"

static unsigned
split(const char *line, char *buf, size_t len, const char **w, unsigned max)
{
	char *save = NULL, *t;
	unsigned n = 0;

	snprintf(buf, len, "%s", line);
	for (t = strtok_r(buf, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

static void
joined(const struct ctl_cmd_args *a, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < a->nwords; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s", i ? " " : "",
		    a->words[i]);
}

/* in -> canonical words, or NULL and an error containing err. */
static const struct {
	const char *in, *out, *err;
} vec[] = {
	/* every command, written out */
	{ "show status", "show status", NULL },
	{ "show enis", "show enis", NULL },
	{ "show eni 076bc493b822cd32f", "show eni 076bc493b822cd32f", NULL },
	{ "show flows", "show flows", NULL },
	{ "show flows eni 076bc493b822cd32f limit 10",
	  "show flows eni 076bc493b822cd32f limit 10", NULL },
	{ "show drops", "show drops", NULL },
	{ "show workers", "show workers", NULL },
	{ "show routes", "show routes", NULL },
	{ "show config", "show config", NULL },
	{ "route add 198.51.100.0/24 eni any dev out",
	  "route add 198.51.100.0/24 eni any dev out", NULL },
	{ "route del 198.51.100.0/24 eni 76bc493b822cd32f dev in via 192.0.2.1 table 100 metric 5",
	  "route del 198.51.100.0/24 eni 076bc493b822cd32f dev in via 192.0.2.1 table 100 metric 5",
	  NULL },
	{ "rule add iif in table eni", "rule add eni any iif in table eni", NULL },
	{ "rule del eni 1 iif out table 7", "rule del eni 00000000000000001 iif out table 7",
	  NULL },
	{ "eni destroy 076bc493b822cd32f", "eni destroy 076bc493b822cd32f", NULL },
	{ "flows flush", "flows flush", NULL },
	{ "flows flush eni gwi-e8WXgsTQDkf", "flows flush eni 076bc493b822cd32f", NULL },
	{ "log udp debug", "log udp debug", NULL },
	{ "counters reset", "counters reset", NULL },
	{ "help", "help", NULL },
	{ "quit", "quit", NULL },

	/* unique prefixes, and exact matches beating longer words */
	{ "sh st", "show status", NULL },
	{ "s enis", "show enis", NULL },
	{ "sh eni 1", "show eni 00000000000000001", NULL },
	{ "sh f l 5 e 1", "show flows eni 00000000000000001 limit 5", NULL },
	{ "ro a 10.0.0.0/8 e any d o", "route add 10.0.0.0/8 eni any dev out", NULL },
	{ "ru a i o t e", "rule add eni any iif out table eni", NULL },
	{ "c r", "counters reset", NULL },
	{ "f fl", "flows flush", NULL },
	{ "q", "quit", NULL },
	{ "h", "help", NULL },
	{ "l c debug", NULL, "ambiguous log section 'c': core, control" },
	{ "log co debug", NULL, "ambiguous log section 'co': core, control" },
	{ "log cor debug", "log core debug", NULL },
	{ "log core debugd", "log core debugdetail", NULL },
	{ "log core deb", NULL, "ambiguous log level 'deb': debug, debugdetail" },
	{ "log core debug", "log core debug", NULL },
	{ "log ho inf", "log hook info", NULL },
	{ "log ho i", NULL, "ambiguous log level 'i': important, info" },
	{ "log h info", NULL, "ambiguous log section 'h': healthcheck, hook" },
	{ "log all crit", "log all critical", NULL },

	/* ambiguity and unknown words are errors, never guesses */
	{ "r add", NULL, "ambiguous command 'r': route, rule" },
	{ "sh en", NULL, "ambiguous command 'show en': enis, eni" },
	{ "show e 1", NULL, "ambiguous command 'show e'" },
	{ "foo", NULL, "unknown command 'foo'" },
	{ "show foo", NULL, "unknown command 'show foo' (expected status, enis, eni" },
	{ "show", NULL, "incomplete command 'show'" },
	{ "sh", NULL, "incomplete command 'sh'" },
	{ "show status now", NULL, "'show status' takes no more arguments" },

	/* ENI forms */
	{ "show eni vpce-076bc493b822cd32f", "show eni 076bc493b822cd32f", NULL },
	{ "show eni 0x76BC493B822CD32F", "show eni 076bc493b822cd32f", NULL },
	{ "show eni gwo-e8WXgsTQDkf", "show eni 076bc493b822cd32f", NULL },
	{ "show eni gwi-uur953OEv0f", "show eni 0ffffffffffffffff", NULL },
	{ "show eni xyz", NULL, "bad ENI 'xyz'" },
	{ "show eni 10000000000000000", NULL, "bad ENI" },
	{ "show eni gwx-e8WXgsTQDkf", NULL, "bad ENI" },
	{ "show eni any", NULL, "bad ENI 'any'" },
	{ "show eni", NULL, "show eni: missing ENI" },
	{ "route add 10.0.0.0/8 eni an dev out", NULL, "bad ENI 'an'" },

	/* arguments */
	{ "show flows limit", NULL, "'limit' needs a value (N)" },
	{ "show flows limit 0", NULL, "bad limit '0'" },
	{ "show flows limit 4294967296", NULL, "bad limit" },
	{ "show flows limit 4294967295", "show flows limit 4294967295", NULL },
	{ "show flows limit -1", NULL, "bad limit" },
	{ "show flows limit 1x", NULL, "bad limit" },
	{ "show flows eni 1 eni 2", NULL, "'eni' given twice" },
	{ "show flows bogus 1", NULL, "unknown argument 'bogus' (expected eni, proto, addr, "
	  "port, cookie, limit)" },

	/* show flows filters */
	{ "sh fl pr tcp po 443 a 192.0.2.7 c 0xDEADbeef e gwi-e8WXgsTQDkf l 5",
	  "show flows eni 076bc493b822cd32f proto tcp addr 192.0.2.7/32 port 443 "
	  "cookie deadbeef limit 5", NULL },
	{ "show flows proto icmp", "show flows proto icmp", NULL },	/* exact wins */
	{ "show flows proto icmpv", "show flows proto icmpv6", NULL },
	{ "show flows proto ic", NULL, "ambiguous protocol 'ic': icmp, icmpv6" },
	{ "show flows proto 17", "show flows proto udp", NULL },
	{ "show flows proto 47", "show flows proto 47", NULL },
	{ "show flows proto 256", NULL, "bad protocol '256'" },
	{ "show flows proto gre", NULL, "unknown protocol 'gre'" },
	{ "show flows port 0", "show flows port 0", NULL },
	{ "show flows port 65536", NULL, "bad port '65536'" },
	{ "show flows port http", NULL, "bad port 'http'" },
	{ "show flows addr 2001:DB8::/32", "show flows addr 2001:db8::/32", NULL },
	{ "show flows addr 192.0.2.1/24", NULL, "host bits set" },
	{ "show flows addr nowhere", NULL, "bad prefix 'nowhere'" },
	{ "show flows cookie 1", "show flows cookie 00000001", NULL },
	{ "show flows cookie 123456789", NULL, "bad cookie '123456789'" },
	{ "show flows cookie 0x", NULL, "bad cookie" },
	{ "show flows cookie xyz", NULL, "bad cookie 'xyz'" },
	{ "show flows cookie -1", NULL, "bad cookie" },
	{ "show flows port 1 port 2", NULL, "'port' given twice" },
	{ "route add 10.0.0.0/8 dev out", NULL, "route add: missing 'eni ENI|any'" },
	{ "route add 10.0.0.0/8 eni any", NULL, "route add: missing 'dev in|out'" },
	{ "route add eni any dev out", NULL, "bad prefix 'eni'" },
	{ "route add 10.0.0.1/8 eni any dev out", NULL, "host bits set" },
	{ "route add 10.0.0.0/33 eni any dev out", NULL, "bad prefix" },
	{ "route add 192.0.2.7 eni any dev out", "route add 192.0.2.7/32 eni any dev out", NULL },
	{ "route add 2001:DB8::/32 eni any dev in via 2001:db8::1",
	  "route add 2001:db8::/32 eni any dev in via 2001:db8::1", NULL },
	{ "route add 2001:db8::/32 eni any dev in via 192.0.2.1", NULL,
	  "different address families" },
	{ "route add 0.0.0.0/0 eni any dev sideways", NULL, "unknown direction 'sideways'" },
	{ "route add 0.0.0.0/0 eni any dev out table 0", NULL, "bad table '0'" },
	{ "route add 0.0.0.0/0 eni any dev out table main", NULL, "unknown table 'main'" },
	{ "route add 0.0.0.0/0 eni any dev out table 254 metric 0",
	  "route add 0.0.0.0/0 eni any dev out table 254 metric 0", NULL },
	{ "route add 0.0.0.0/0 eni any dev out via 198.51.100.300", NULL,
	  "bad address '198.51.100.300'" },
	{ "rule add table eni", NULL, "rule add: missing 'iif in|out'" },
	{ "log udp", NULL, "log: missing LEVEL" },
	{ "log udp loud", NULL, "unknown log level 'loud'" },
	{ "log nowhere info", NULL, "unknown log section 'nowhere'" },
	{ "eni destroy", NULL, "eni destroy: missing ENI" },
	{ "show status aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  NULL, "word too long" },
};

static void
test_vectors(void **state)
{
	char buf[512], out[1024], err[256];
	const char *w[CTL_WORDS_MAX + 1], *w2[CTL_WORDS_MAX];
	struct ctl_cmd_args a, b;
	unsigned n;
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = split(vec[i].in, buf, sizeof(buf), w, CTL_WORDS_MAX + 1);
		err[0] = '\0';
		r = ctl_cmd_parse(n, w, &a, err, sizeof(err));
		if (vec[i].out) {
			if (r != 0)
				fail_msg("'%s': %s", vec[i].in, err);
			joined(&a, out, sizeof(out));
			if (strcmp(out, vec[i].out) != 0)
				fail_msg("'%s' -> '%s', want '%s'", vec[i].in, out, vec[i].out);
			/* The canonical words parse to themselves. */
			ctl_cmd_words(&a, w2);
			assert_int_equal(ctl_cmd_parse(a.nwords, w2, &b, err, sizeof(err)), 0);
			assert_int_equal(b.nwords, a.nwords);
			for (unsigned k = 0; k < a.nwords; k++)
				assert_string_equal(a.words[k], b.words[k]);
			assert_int_equal(a.id, b.id);
		} else {
			if (r != -EINVAL)
				fail_msg("'%s' parsed, want error '%s'", vec[i].in, vec[i].err);
			if (!strstr(err, vec[i].err))
				fail_msg("'%s': error '%s', want '%s'", vec[i].in, err,
				    vec[i].err);
		}
	}
}

static void
test_args(void **state)
{
	char buf[256], err[256];
	const char *w[CTL_WORDS_MAX + 1];
	struct ctl_cmd_args a;
	struct in6_addr v6;
	unsigned n;

	(void)state;
	n = split("route add 2001:db8::/48 eni gwi-e8WXgsTQDkf dev out via 2001:db8::1 "
	    "table eni metric 7", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
	assert_int_equal(a.id, CTL_CMD_ROUTE_ADD);
	assert_ptr_equal(a.def, ctl_cmd_get(CTL_CMD_ROUTE_ADD));
	assert_true(a.def->flags & CTL_CMDF_MUTATING);
	assert_true(a.eni_set);
	assert_false(a.eni_any);
	assert_true(a.eni == 0x076bc493b822cd32fULL);
	assert_int_equal(a.family, AF_INET6);
	assert_true(a.prefix_set);
	assert_int_equal(a.prefix_len, 48);
	inet_pton(AF_INET6, "2001:db8::", &v6);
	assert_memory_equal(&a.prefix.v6, &v6, sizeof(v6));
	assert_true(a.via_set);
	inet_pton(AF_INET6, "2001:db8::1", &v6);
	assert_memory_equal(&a.via.v6, &v6, sizeof(v6));
	assert_true(a.dev_set);
	assert_int_equal(a.dev, CTL_DIR_OUT);
	assert_true(a.table_set);
	assert_true(a.table_eni);
	assert_true(a.metric_set);
	assert_int_equal(a.metric, 7);
	assert_false(a.limit_set);

	n = split("rule add iif in table 100", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
	assert_true(a.eni_set && a.eni_any);	/* defaulted */
	assert_true(a.iif_set);
	assert_int_equal(a.iif, CTL_DIR_IN);
	assert_false(a.table_eni);
	assert_int_equal(a.table, 100);

	n = split("log all debugdetail", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
	assert_int_equal(a.section, LOG_SECTION__MAX);
	assert_int_equal(a.level, LOG_DEBUGDETAIL);
	n = split("log healthcheck important", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
	assert_int_equal(a.section, LOG_HEALTH);
	assert_int_equal(a.level, LOG_IMPORTANT);

	n = split("show flows", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
	assert_false(a.eni_set);
	assert_false(a.limit_set);
	assert_int_equal(a.def->view, CTL_VIEW_TABLE);
	assert_int_equal(ctl_cmd_get(CTL_CMD_SHOW_ENI)->view, CTL_VIEW_DETAIL);
	assert_true(ctl_cmd_get(CTL_CMD_HELP)->flags & CTL_CMDF_LOCAL);
	assert_null(ctl_cmd_get(CTL_CMD__MAX));

	/* Too many words, and none. */
	for (n = 0; n <= CTL_WORDS_MAX; n++)
		w[n] = "x";
	assert_int_equal(ctl_cmd_parse(CTL_WORDS_MAX + 1, w, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many words"));
	assert_int_equal(ctl_cmd_parse(0, w, &a, err, sizeof(err)), -EINVAL);
	/* A tiny error buffer is filled, not overrun. */
	n = split("show nonsense", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
}

/* Words of the candidates, "|" separated, values as <META>. */
static void
next_str(const char *line, char *out, size_t len, bool *complete, int *ret)
{
	char buf[256], err[256];
	const char *w[CTL_WORDS_MAX];
	struct ctl_next nx;
	size_t off = 0;
	unsigned n = split(line, buf, sizeof(buf), w, CTL_WORDS_MAX);

	out[0] = '\0';
	*ret = ctl_cmd_next(n, w, &nx, err, sizeof(err));
	if (*ret < 0) {
		snprintf(out, len, "error: %s", err);
		return;
	}
	for (unsigned i = 0; i < nx.n; i++) {
		assert_non_null(nx.cand[i].help);
		off += (size_t)snprintf(out + off, len - off, "%s%s%s%s", i ? "|" : "",
		    nx.cand[i].kind == CTL_CAND_VALUE ? "<" : "",
		    nx.cand[i].kind == CTL_CAND_VALUE ? nx.cand[i].meta : nx.cand[i].word,
		    nx.cand[i].kind == CTL_CAND_VALUE ? ">" : "");
	}
	*complete = nx.complete;
}

static void
test_next(void **state)
{
	static const struct {
		const char *line, *want;
		bool complete;
	} v[] = {
		{ "", "show|route|rule|eni|flows|log|counters|reload|drain|undrain|monitor|doctor|help|quit", false },
		{ "show", "status|enis|eni|flows|drops|workers|routes|config", false },
		{ "sh", "status|enis|eni|flows|drops|workers|routes|config", false },
		{ "show status", "", true },
		{ "show flows", "eni|proto|addr|port|cookie|limit", true },
		{ "show flows proto", "tcp|udp|icmp|icmpv6|sctp|<PROTO>", false },
		{ "show flows cookie", "<HEX>", false },
		{ "show flows eni", "<ENI>", false },
		{ "show flows limit 5", "eni|proto|addr|port|cookie", true },
		{ "show eni", "<ENI>", false },
		{ "route add", "<PREFIX>", false },
		{ "route add 10.0.0.0/8", "eni|dev|via|table|metric", false },
		{ "route add 10.0.0.0/8 eni", "any|<ENI|any>", false },
		{ "route add 10.0.0.0/8 eni any dev", "in|out", false },
		{ "route add 10.0.0.0/8 eni any dev out", "via|table|metric", true },
		{ "route add 10.0.0.0/8 eni any dev out table", "eni|<N|eni>", false },
		{ "rule add", "eni|iif|table", false },
		{ "log", "core|udp|geneve|tunnel|healthcheck|hook|netlink|control|all", false },
		{ "log udp", "critical|important|info|debug|debugdetail", false },
		{ "log udp info", "", true },
		{ "eni", "destroy", false },
		{ "help", "", true },
	};
	char out[512];
	bool complete = false;
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		next_str(v[i].line, out, sizeof(out), &complete, &r);
		if (r != 0 || strcmp(out, v[i].want) != 0 || complete != v[i].complete)
			fail_msg("next('%s') = '%s' complete %d, want '%s' %d", v[i].line,
			    out, complete, v[i].want, v[i].complete);
	}
	next_str("show bogus", out, sizeof(out), &complete, &r);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(out, "unknown command 'show bogus'"));
	next_str("show eni nothex", out, sizeof(out), &complete, &r);
	assert_int_equal(r, -EINVAL);
}

static void
test_usage(void **state)
{
	char buf[256];

	(void)state;
	ctl_cmd_usage(ctl_cmd_get(CTL_CMD_ROUTE_ADD), buf, sizeof(buf));
	assert_string_equal(buf, "route add PREFIX eni ENI|any dev in|out [via ADDR] "
	    "[table N|eni] [metric M]");
	ctl_cmd_usage(ctl_cmd_get(CTL_CMD_RULE_DEL), buf, sizeof(buf));
	assert_string_equal(buf, "rule del [eni ENI|any] iif in|out table N|eni");
	ctl_cmd_usage(ctl_cmd_get(CTL_CMD_SHOW_FLOWS), buf, sizeof(buf));
	assert_string_equal(buf, "show flows [eni ENI] [proto PROTO] [addr ADDR[/LEN]] "
	    "[port PORT] [cookie HEX] [limit N]");
	ctl_cmd_usage(ctl_cmd_get(CTL_CMD_LOG), buf, sizeof(buf));
	assert_string_equal(buf, "log SECTION LEVEL");
	ctl_cmd_usage(ctl_cmd_get(CTL_CMD_QUIT), buf, sizeof(buf));
	assert_string_equal(buf, "quit");
	/* Truncated into a small buffer, still terminated. */
	ctl_cmd_usage(ctl_cmd_get(CTL_CMD_ROUTE_ADD), buf, 10);
	assert_string_equal(buf, "route add");
	/* Every command has help and a sane table entry. */
	for (int i = 0; i < CTL_CMD__MAX; i++) {
		const struct ctl_cmd_def *d = ctl_cmd_get((enum ctl_cmd_id)i);

		assert_int_equal(d->id, i);
		assert_non_null(d->words[0]);
		assert_non_null(d->help);
		assert_true(d->nargs <= CTL_CMD_ARGS);
		for (unsigned k = 0; k < d->nargs; k++) {
			assert_non_null(d->args[k].help);
			assert_non_null(d->args[k].meta);
			/* positionals come first */
			if (k > 0 && !d->args[k].kw)
				assert_null(d->args[k - 1].kw);
		}
		/* What it shows is declared (JSON shapes), without gaps or twins. */
		if (d->view != CTL_VIEW_NONE)
			assert_non_null(d->rtypes[0].type);
		for (unsigned t = 1; t < CTL_CMD_RTYPES; t++) {
			if (!d->rtypes[t - 1].type)
				assert_null(d->rtypes[t].type);
			for (unsigned u = 0; u < t && d->rtypes[t].type; u++)
				assert_string_not_equal(d->rtypes[t].type, d->rtypes[u].type);
		}
	}
	assert_true(ctl_cmd_get(CTL_CMD_SHOW_STATUS)->rtypes[0].one);
	assert_true(ctl_cmd_get(CTL_CMD_SHOW_ENI)->rtypes[0].one);
	assert_false(ctl_cmd_get(CTL_CMD_SHOW_ENIS)->rtypes[0].one);
}

/*
 * gwlbctl(8) against the table: the command items are the ".It Cm ..."
 * lines; their leading Cm words name a command.  Every command of the table
 * must be there, in table order, and nothing else.
 */
static void
test_man_page(void **state)
{
	FILE *fp = fopen(CTL_MAN_PAGE, "r");
	char line[1024], name[128], *save, *t;
	int next = 0;

	(void)state;
	if (!fp)
		fail_msg("%s: %s", CTL_MAN_PAGE, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		bool cm = false;
		int found = -1;

		if (strncmp(line, ".It Cm ", 7) != 0)
			continue;
		name[0] = '\0';
		for (t = strtok_r(line + 4, " \t\n", &save); t;
		    t = strtok_r(NULL, " \t\n", &save)) {
			if (strcmp(t, "Cm") == 0) {
				cm = true;
				continue;
			}
			/* Any other macro ends the command words. */
			if (t[0] >= 'A' && t[0] <= 'Z' && t[1] >= 'a' && t[1] <= 'z' &&
			    t[2] == '\0')
				break;
			if (!cm)
				break;
			if (name[0])
				strcat(name, " ");
			strncat(name, t, sizeof(name) - strlen(name) - 1);
		}
		for (int i = 0; i < CTL_CMD__MAX; i++) {
			const struct ctl_cmd_def *d = ctl_cmd_get((enum ctl_cmd_id)i);
			char cmd[128];

			snprintf(cmd, sizeof(cmd), "%s%s%s", d->words[0],
			    d->words[1] ? " " : "", d->words[1] ? d->words[1] : "");
			if (strcmp(cmd, name) == 0)
				found = i;
		}
		if (found < 0)
			fail_msg("gwlbctl.8 documents '%s', which is not a command", name);
		if (found != next)
			fail_msg("gwlbctl.8: '%s' is out of table order (or a command "
			    "before it is missing)", name);
		next++;
	}
	fclose(fp);
	if (next != CTL_CMD__MAX) {
		const struct ctl_cmd_def *d = ctl_cmd_get((enum ctl_cmd_id)next);

		fail_msg("gwlbctl.8 does not document '%s%s%s'", d->words[0],
		    d->words[1] ? " " : "", d->words[1] ? d->words[1] : "");
	}
}

/* gwlbctl log takes every section of lib/log.c (and all) with every level;
 * reload takes nothing and needs privileges. */
static void
test_log_every_section_reload(void **state)
{
	char buf[256], err[256], line[96];
	const char *w[CTL_WORDS_MAX + 1];
	struct ctl_cmd_args a;
	unsigned n;

	(void)state;
	for (int s = 0; s <= LOG_SECTION__MAX; s++) {
		for (int l = 0; l < LOG_LEVEL__MAX; l++) {
			snprintf(line, sizeof(line), "log %s %s", s == LOG_SECTION__MAX ? "all" :
			    log_section_str((enum log_section)s), log_level_str((enum log_level)l));
			n = split(line, buf, sizeof(buf), w, CTL_WORDS_MAX);
			if (ctl_cmd_parse(n, w, &a, err, sizeof(err)) != 0)
				fail_msg("%s: %s", line, err);
			assert_int_equal(a.id, CTL_CMD_LOG);
			assert_int_equal(a.section, s);
			assert_int_equal(a.level, l);
		}
	}
	n = split("reload", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
	assert_int_equal(a.id, CTL_CMD_RELOAD);
	assert_true(a.def->flags & CTL_CMDF_MUTATING);
	n = split("reload now", buf, sizeof(buf), w, CTL_WORDS_MAX);
	assert_int_not_equal(ctl_cmd_parse(n, w, &a, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_man_page),
		cmocka_unit_test(test_log_every_section_reload),
	};

	return cmocka_run_group_tests_name("ctl_cmd", tests, NULL, NULL);
}
