/*
 * The control command table and its parser (see ctl_cmd.h).
 *
 * A command is one or two fixed words, then its positional arguments in
 * order, then keyword arguments ("limit N") in any order, each at most
 * once.  Every word, keyword and fixed value may be abbreviated to a unique
 * prefix; an exact match always wins ("show eni" is not ambiguous with
 * "show enis"), and an ambiguous prefix is an error, never a guess.  "any"
 * is the exception: it must be written out, because a prefix of it would
 * also be a valid hex ENI id.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ctl_commands.h"
#include "pkt.h"
#include "name.h"

#define ENI_HELP	"17 hex digits, vpce-HEX, or a gwi-/gwo- link name"

#define A_ENI_POS	{ NULL, "ENI", CTL_ARG_ENI, CTL_SLOT_ENI, true, NULL, \
			  "the ENI: " ENI_HELP }
#define ROUTE_ARGS \
	.nargs = 6, .args = {						\
	{ NULL, "PREFIX", CTL_ARG_PREFIX, CTL_SLOT_PREFIX, true, NULL,	\
	  "destination, IPv4 or IPv6, ADDR/LEN or ADDR" },		\
	{ "eni", "ENI|any", CTL_ARG_ENI_ANY, CTL_SLOT_ENI, true, NULL,	\
	  "the ENI whose links carry the route, or any ENI" },		\
	{ "dev", "in|out", CTL_ARG_DIR, CTL_SLOT_DEV, true, NULL,	\
	  "through the ENI's gwi- (in) or gwo- (out) link" },		\
	{ "via", "ADDR", CTL_ARG_ADDR, CTL_SLOT_VIA, false, NULL,	\
	  "gateway address, same family as PREFIX" },			\
	{ "table", "N|eni", CTL_ARG_TABLE, CTL_SLOT_TABLE, false, NULL,	\
	  "routing table number, or the ENI's own table" },		\
	{ "metric", "M", CTL_ARG_U32, CTL_SLOT_METRIC, false, NULL,	\
	  "route metric (priority)" } }
#define RULE_ARGS \
	.nargs = 3, .args = {						\
	{ "eni", "ENI|any", CTL_ARG_ENI_ANY, CTL_SLOT_ENI, false, "any",\
	  "the ENI the rule is for, or any ENI (default)" },		\
	{ "iif", "in|out", CTL_ARG_DIR, CTL_SLOT_IIF, true, NULL,	\
	  "match packets arriving on the gwi- (in) or gwo- (out) link" },\
	{ "table", "N|eni", CTL_ARG_TABLE, CTL_SLOT_TABLE, true, NULL,	\
	  "look them up in table N, or in the ENI's own table" } }

static const struct ctl_cmd_def cmds[] = {
	[CTL_CMD_SHOW_STATUS] = { CTL_CMD_SHOW_STATUS, { "show", "status" },
	    CTL_VIEW_DETAIL, 0, "daemon version, mode, workers and totals",
	    .rtypes = { { "status", true }, { "health", true }, { "control", true },
		{ "mirror", true } } },
	[CTL_CMD_SHOW_ENIS] = { CTL_CMD_SHOW_ENIS, { "show", "enis" },
	    CTL_VIEW_TABLE, 0, "every ENI with its links, rates and counters",
	    .rtypes = { { "eni", false } } },
	[CTL_CMD_SHOW_ENI] = { CTL_CMD_SHOW_ENI, { "show", "eni" },
	    CTL_VIEW_DETAIL, 0, "one ENI in detail, with its routes and rules",
	    .nargs = 1, .args = { A_ENI_POS },
	    .rtypes = { { "eni", true }, { "route", false }, { "rule", false } } },
	[CTL_CMD_SHOW_FLOWS] = { CTL_CMD_SHOW_FLOWS, { "show", "flows" },
	    CTL_VIEW_TABLE, 0, "flow table entries",
	    .nargs = 6, .args = {
		{ "eni", "ENI", CTL_ARG_ENI, CTL_SLOT_ENI, false, NULL,
		  "only the flows of this ENI" },
		{ "proto", "PROTO", CTL_ARG_PROTO, CTL_SLOT_PROTO, false, NULL,
		  "only flows of this protocol: tcp, udp, icmp, icmpv6, sctp or a number" },
		{ "addr", "ADDR[/LEN]", CTL_ARG_PREFIX, CTL_SLOT_PREFIX, false, NULL,
		  "only flows from or to this address or prefix" },
		{ "port", "PORT", CTL_ARG_PORT, CTL_SLOT_PORT, false, NULL,
		  "only flows from or to this port" },
		{ "cookie", "HEX", CTL_ARG_COOKIE, CTL_SLOT_COOKIE, false, NULL,
		  "only flows with this GWLB flow cookie" },
		{ "limit", "N", CTL_ARG_COUNT, CTL_SLOT_LIMIT, false, NULL,
		  "at most N flows" } },
	    .rtypes = { { "flow", false } } },
	[CTL_CMD_SHOW_DROPS] = { CTL_CMD_SHOW_DROPS, { "show", "drops" },
	    CTL_VIEW_TABLE, 0, "dropped packets by reason",
	    .rtypes = { { "drop", false } } },
	[CTL_CMD_SHOW_WORKERS] = { CTL_CMD_SHOW_WORKERS, { "show", "workers" },
	    CTL_VIEW_TABLE, 0, "receive and tunnel worker threads",
	    .rtypes = { { "worker", false } } },
	[CTL_CMD_SHOW_ROUTES] = { CTL_CMD_SHOW_ROUTES, { "show", "routes" },
	    CTL_VIEW_TABLE, 0, "configured routes and rules",
	    .rtypes = { { "route", false }, { "rule", false } } },
	[CTL_CMD_SHOW_CONFIG] = { CTL_CMD_SHOW_CONFIG, { "show", "config" },
	    CTL_VIEW_DETAIL, 0, "the running configuration",
	    .rtypes = { { "option", false }, { "declared", false } } },
	[CTL_CMD_ROUTE_ADD] = { CTL_CMD_ROUTE_ADD, { "route", "add" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING, "add a route for an ENI", ROUTE_ARGS },
	[CTL_CMD_ROUTE_DEL] = { CTL_CMD_ROUTE_DEL, { "route", "del" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING, "delete a route", ROUTE_ARGS },
	[CTL_CMD_RULE_ADD] = { CTL_CMD_RULE_ADD, { "rule", "add" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING, "add a policy routing rule for an ENI",
	    RULE_ARGS },
	[CTL_CMD_RULE_DEL] = { CTL_CMD_RULE_DEL, { "rule", "del" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING, "delete a policy routing rule",
	    RULE_ARGS },
	[CTL_CMD_ENI_DESTROY] = { CTL_CMD_ENI_DESTROY, { "eni", "destroy" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING,
	    "tear an ENI down now: DESTROY hook, links, routes",
	    .nargs = 1, .args = { A_ENI_POS } },
	[CTL_CMD_FLOWS_FLUSH] = { CTL_CMD_FLOWS_FLUSH, { "flows", "flush" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING, "empty the flow tables",
	    .nargs = 1, .args = {
		{ "eni", "ENI", CTL_ARG_ENI, CTL_SLOT_ENI, false, NULL,
		  "only the flow table of this ENI" } },
	    .rtypes = { { "flush", true } } },
	[CTL_CMD_LOG] = { CTL_CMD_LOG, { "log", NULL },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING, "set the log level of a section",
	    .nargs = 2, .args = {
		{ NULL, "SECTION", CTL_ARG_SECTION, CTL_SLOT_SECTION, true, NULL,
		  "core, udp, geneve, tunnel, healthcheck, hook, netlink, control or all" },
		{ NULL, "LEVEL", CTL_ARG_LEVEL, CTL_SLOT_LEVEL, true, NULL,
		  "critical, important, info, debug or debugdetail" } } },
	[CTL_CMD_COUNTERS_RESET] = { CTL_CMD_COUNTERS_RESET, { "counters", "reset" },
	    CTL_VIEW_NONE, CTL_CMDF_MUTATING,
	    "set gwlbctl's packet and drop counters to zero (/metrics keeps counting)" },
	[CTL_CMD_RELOAD] = { CTL_CMD_RELOAD, { "reload", NULL },
	    CTL_VIEW_DETAIL, CTL_CMDF_MUTATING,
	    "reload the --config file as SIGHUP does; say what changed",
	    .rtypes = { { "reload", true } } },
	[CTL_CMD_DRAIN] = { CTL_CMD_DRAIN, { "drain", NULL },
	    CTL_VIEW_DETAIL, CTL_CMDF_MUTATING,
	    "make the health check answer 503; traffic keeps flowing",
	    .rtypes = { { "drain", true } } },
	[CTL_CMD_UNDRAIN] = { CTL_CMD_UNDRAIN, { "undrain", NULL },
	    CTL_VIEW_DETAIL, CTL_CMDF_MUTATING, "end drain: the health check answers again",
	    .rtypes = { { "drain", true } } },
	[CTL_CMD_MONITOR] = { CTL_CMD_MONITOR, { "monitor", NULL },
	    CTL_VIEW_NONE, 0, "follow events as they happen, until interrupted",
	    .nargs = 2, .args = {
		{ "count", "N", CTL_ARG_COUNT, CTL_SLOT_LIMIT, false, NULL,
		  "stop after N events" },
		{ "timeout", "S", CTL_ARG_COUNT, CTL_SLOT_TIMEOUT, false, NULL,
		  "stop after S seconds" } } },
	[CTL_CMD_DOCTOR] = { CTL_CMD_DOCTOR, { "doctor", NULL },
	    CTL_VIEW_TABLE, 0, "check this machine's settings against what gwlbtund needs",
	    .nargs = 1, .args = {
		{ "interval", "S", CTL_ARG_COUNT, CTL_SLOT_TIMEOUT, false, NULL,
		  "watch kernel receive drops for S seconds (2)" } },
	    .rtypes = { { "doctor", true }, { "link", false } } },
	[CTL_CMD_HELP] = { CTL_CMD_HELP, { "help", NULL },
	    CTL_VIEW_TABLE, CTL_CMDF_LOCAL, "list the commands",
	    .rtypes = { { "command", false } } },
	[CTL_CMD_QUIT] = { CTL_CMD_QUIT, { "quit", NULL },
	    CTL_VIEW_NONE, CTL_CMDF_LOCAL, "leave the shell" },
};
_Static_assert(sizeof(cmds) / sizeof(cmds[0]) == CTL_CMD__MAX, "command table");

/* Help for a first word shared by several commands. */
static const struct {
	const char *word, *help;
} groups[] = {
	{ "show", "show state, counters and configuration" },
	{ "route", "add or delete a route for ENIs" },
	{ "rule", "add or delete a policy routing rule for ENIs" },
	{ "eni", "act on one ENI" },
	{ "flows", "act on the flow tables" },
	{ "counters", "act on the counters" },
};

/* Protocols show flows knows by name (and prints by name); the names are
 * pkt_proto_name()'s. */
static const uint8_t protos[] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
};

const char *
ctl_proto_name(uint8_t proto, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i] == proto)
			return pkt_proto_name(proto);
	snprintf(buf, len, "%u", proto);
	return buf;
}

const struct ctl_cmd_def *
ctl_cmd_get(enum ctl_cmd_id id)
{
	return (unsigned)id < CTL_CMD__MAX ? &cmds[id] : NULL;
}

unsigned
ctl_argtype_words(enum ctl_argtype type, const char **out, unsigned max)
{
	unsigned n = 0;

#define ADD(s) do { if (n < max) out[n] = (s); n++; } while (0)
	switch (type) {
	case CTL_ARG_ENI_ANY:
		ADD("any");
		break;
	case CTL_ARG_DIR:
		ADD("in");
		ADD("out");
		break;
	case CTL_ARG_TABLE:
		ADD("eni");
		break;
	case CTL_ARG_SECTION:
		for (int i = 0; i < LOG_SECTION__MAX; i++)
			ADD(log_section_str((enum log_section)i));
		ADD("all");
		break;
	case CTL_ARG_LEVEL:
		for (int i = 0; i < LOG_LEVEL__MAX; i++)
			ADD(log_level_str((enum log_level)i));
		break;
	case CTL_ARG_PROTO:
		for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			ADD(pkt_proto_name(protos[i]));
		break;
	default:
		break;
	}
#undef ADD
	return n < max ? n : max;
}

/* Does the type take values other than its fixed words? */
static bool
type_has_free_value(enum ctl_argtype type)
{
	switch (type) {
	case CTL_ARG_DIR:
	case CTL_ARG_SECTION:
	case CTL_ARG_LEVEL:
		return false;
	default:
		return true;	/* CTL_ARG_PROTO too: a number */
	}
}

static void
join(char *buf, size_t len, const char *const *list, unsigned n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && off < len; i++) {
		int r = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", list[i]);
		if (r < 0)
			break;
		off += (size_t)r;
	}
}

/*
 * Index of word in list: an exact match, else the only entry it is a prefix
 * of.  -ENOENT when nothing matches, -EINVAL when several do.
 */
static int
match(const char *word, const char *const *list, unsigned n)
{
	size_t len = strlen(word);
	int found = -ENOENT;

	if (len == 0)
		return -ENOENT;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(word, list[i]) == 0)
			return (int)i;
	for (unsigned i = 0; i < n; i++) {
		if (strncmp(word, list[i], len) == 0) {
			if (found >= 0)
				return -EINVAL;
			found = (int)i;
		}
	}
	return found;
}

/* As match(), with a message naming the choices on failure. */
static int
match_err(const char *word, const char *const *list, unsigned n, const char *what,
    char *err, size_t errlen)
{
	char choices[200];
	const char *amb[CTL_CANDS_MAX];
	unsigned na = 0;
	int r;

	if ((r = match(word, list, n)) >= 0)
		return r;
	if (r == -EINVAL) {
		for (unsigned i = 0; i < n && na < CTL_CANDS_MAX; i++)
			if (strncmp(word, list[i], strlen(word)) == 0)
				amb[na++] = list[i];
		join(choices, sizeof(choices), amb, na);
		snprintf(err, errlen, "ambiguous %s '%s': %s", what, word, choices);
	} else {
		join(choices, sizeof(choices), list, n);
		snprintf(err, errlen, "unknown %s '%s' (expected %s)", what, word, choices);
	}
	return -EINVAL;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* A flow cookie as show flows prints it: 8 hex digits; 0x and fewer allowed. */
static int
parse_cookie(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (strncasecmp(s, "0x", 2) == 0)
		s += 2;
	if (*s == '\0' || strlen(s) > 8 || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
		return -EINVAL;
	v = strtoul(s, &end, 16);
	if (*end)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_addr(const char *s, int *family, union ctl_addr *a)
{
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int
parse_prefix(const char *s, int *family, union ctl_addr *a, uint8_t *plen,
    char *err, size_t errlen)
{
	char buf[CTL_WORD_MAX];
	const char *slash = strchr(s, '/');
	unsigned bits, max;
	uint32_t len;
	unsigned char *bytes;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	if (slash)
		buf[slash - s] = '\0';
	if (parse_addr(buf, family, a) < 0)
		goto bad;
	max = *family == AF_INET ? 32 : 128;
	if (slash) {
		if (parse_u32(slash + 1, 0, &len) < 0 || len > max)
			goto bad;
	} else {
		len = max;
	}
	bytes = *family == AF_INET ? (unsigned char *)&a->v4 : a->v6.s6_addr;
	for (bits = len; bits < max; bits++) {
		if (bytes[bits / 8] & (0x80 >> (bits % 8))) {
			snprintf(err, errlen, "prefix '%s' has host bits set", s);
			return -EINVAL;
		}
	}
	*plen = (uint8_t)len;
	return 0;
bad:
	snprintf(err, errlen, "bad prefix '%s' (expected ADDR/LEN, IPv4 or IPv6)", s);
	return -EINVAL;
}

static void
addr_str(int family, const union ctl_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

struct pstate {
	const struct ctl_cmd_def *def;
	bool		 live[CTL_CMD__MAX];	/* commands the words so far allow */
	unsigned	 depth;			/* command words matched */
	unsigned	 pos;			/* positionals parsed */
	bool		 used[CTL_CMD_ARGS];
	int		 pending;		/* keyword waiting for its value */
	int		 via_family;
	char		 val[CTL_CMD_ARGS][CTL_WORD_MAX];	/* normalized */
	struct ctl_cmd_args *a;
};

static unsigned
npositional(const struct ctl_cmd_def *def)
{
	unsigned n = 0;

	while (n < def->nargs && !def->args[n].kw)
		n++;
	return n;
}

/* Parses the value s of argument i of the command into st->a. */
static int
parse_value(struct pstate *st, unsigned i, const char *s, char *err, size_t errlen)
{
	const struct ctl_argdef *ad = &st->def->args[i];
	struct ctl_cmd_args *a = st->a;
	char *out = st->val[i];
	const char *words[16];
	unsigned nw = ctl_argtype_words(ad->type, words, 16);
	char abuf[INET6_ADDRSTRLEN];
	union ctl_addr addr;
	uint64_t eni;
	uint32_t u;
	int family, r;

	switch (ad->type) {
	case CTL_ARG_ENI_ANY:
		if (strcmp(s, "any") == 0) {
			a->eni_set = a->eni_any = true;
			strcpy(out, "any");
			return 0;
		}
		/* FALLTHROUGH */
	case CTL_ARG_ENI:
		if (name_parse_eni(s, &eni) < 0) {
			snprintf(err, errlen, "bad ENI '%s' (expected %s%s)", s,
			    ENI_HELP, ad->type == CTL_ARG_ENI_ANY ? ", or any" : "");
			return -EINVAL;
		}
		a->eni_set = true;
		a->eni_any = false;
		a->eni = eni;
		name_hex(eni, out);
		return 0;
	case CTL_ARG_COUNT:
	case CTL_ARG_U32:
		if (parse_u32(s, ad->type == CTL_ARG_COUNT ? 1 : 0, &u) < 0) {
			snprintf(err, errlen, "bad %s '%s' (expected a number from %d to %" PRIu32 ")",
			    ad->kw ? ad->kw : ad->meta, s,
			    ad->type == CTL_ARG_COUNT ? 1 : 0, UINT32_MAX);
			return -EINVAL;
		}
		if (ad->slot == CTL_SLOT_LIMIT) {
			a->limit_set = true;
			a->limit = u;
		} else if (ad->slot == CTL_SLOT_TIMEOUT) {
			a->timeout_set = true;
			a->timeout = u;
		} else {
			a->metric_set = true;
			a->metric = u;
		}
		snprintf(out, CTL_WORD_MAX, "%" PRIu32, u);
		return 0;
	case CTL_ARG_PREFIX:
		if ((r = parse_prefix(s, &a->family, &a->prefix, &a->prefix_len,
		    err, errlen)) < 0)
			return r;
		a->prefix_set = true;
		addr_str(a->family, &a->prefix, abuf, sizeof(abuf));
		snprintf(out, CTL_WORD_MAX, "%s/%u", abuf, a->prefix_len);
		return 0;
	case CTL_ARG_ADDR:
		if (parse_addr(s, &family, &addr) < 0) {
			snprintf(err, errlen, "bad address '%s' (expected IPv4 or IPv6)", s);
			return -EINVAL;
		}
		/* Checked against the prefix's family once all is parsed. */
		st->via_family = family;
		a->via_set = true;
		a->via = addr;
		addr_str(family, &addr, out, CTL_WORD_MAX);
		return 0;
	case CTL_ARG_TABLE:
		if (*s >= '0' && *s <= '9') {
			if (parse_u32(s, 1, &u) < 0) {
				snprintf(err, errlen, "bad table '%s' (expected 1 to %" PRIu32
				    " or eni)", s, UINT32_MAX);
				return -EINVAL;
			}
			a->table_set = true;
			a->table_eni = false;
			a->table = u;
			snprintf(out, CTL_WORD_MAX, "%" PRIu32, u);
			return 0;
		}
		if (match_err(s, words, nw, "table", err, errlen) < 0)
			return -EINVAL;
		a->table_set = a->table_eni = true;
		a->table = 0;
		strcpy(out, "eni");
		return 0;
	case CTL_ARG_DIR:
	case CTL_ARG_SECTION:
	case CTL_ARG_LEVEL:
		r = match_err(s, words, nw, ad->type == CTL_ARG_DIR ? "direction" :
		    ad->type == CTL_ARG_SECTION ? "log section" : "log level",
		    err, errlen);
		if (r < 0)
			return r;
		strcpy(out, words[r]);
		if (ad->slot == CTL_SLOT_DEV) {
			a->dev_set = true;
			a->dev = r == 0 ? CTL_DIR_IN : CTL_DIR_OUT;
		} else if (ad->slot == CTL_SLOT_IIF) {
			a->iif_set = true;
			a->iif = r == 0 ? CTL_DIR_IN : CTL_DIR_OUT;
		} else if (ad->slot == CTL_SLOT_SECTION) {
			a->section_set = true;
			a->section = (enum log_section)r;	/* "all" is the last */
		} else {
			a->level_set = true;
			a->level = (enum log_level)r;
		}
		return 0;
	case CTL_ARG_PROTO:
		if (*s >= '0' && *s <= '9') {
			if (parse_u32(s, 0, &u) < 0 || u > 255) {
				snprintf(err, errlen, "bad protocol '%s' (expected tcp, udp, "
				    "icmp, icmpv6, sctp or 0 to 255)", s);
				return -EINVAL;
			}
		} else {
			if ((r = match_err(s, words, nw, "protocol", err, errlen)) < 0)
				return r;
			u = protos[r];
		}
		a->proto_set = true;
		a->proto = (uint8_t)u;
		snprintf(out, CTL_WORD_MAX, "%s", ctl_proto_name(a->proto, abuf,
		    sizeof(abuf)));
		return 0;
	case CTL_ARG_PORT:
		if (parse_u32(s, 0, &u) < 0 || u > 65535) {
			snprintf(err, errlen, "bad port '%s' (expected 0 to 65535)", s);
			return -EINVAL;
		}
		a->port_set = true;
		a->port = (uint16_t)u;
		snprintf(out, CTL_WORD_MAX, "%" PRIu32, u);
		return 0;
	case CTL_ARG_COOKIE:
		if ((r = parse_cookie(s, &u)) < 0) {
			snprintf(err, errlen, "bad cookie '%s' (expected 1 to 8 hex digits)", s);
			return r;
		}
		a->cookie_set = true;
		a->cookie = u;
		snprintf(out, CTL_WORD_MAX, "%08" PRIx32, u);
		return 0;
	case CTL_ARG__MAX:
		break;
	}
	snprintf(err, errlen, "internal error: argument type %d", (int)ad->type);
	return -EINVAL;
}
_Static_assert(LOG_SECTION__MAX < 15, "log sections and \"all\" fit the word list");

static const char *
cmd_name(const struct pstate *st, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", st->def->words[0], st->def->words[1] ? " " : "",
	    st->def->words[1] ? st->def->words[1] : "");
	return buf;
}

/* The distinct next command words the live commands allow at st->depth. */
static unsigned
next_cmd_words(const struct pstate *st, const char **out, const char **help)
{
	unsigned n = 0;

	for (int c = 0; c < CTL_CMD__MAX; c++) {
		const char *w;
		bool dup = false;

		if (!st->live[c] || st->depth >= CTL_CMD_WORDS ||
		    !(w = cmds[c].words[st->depth]))
			continue;
		for (unsigned j = 0; j < n; j++)
			dup |= strcmp(out[j], w) == 0;
		if (dup)
			continue;
		help[n] = cmds[c].help;
		if (st->depth == 0 && cmds[c].words[1]) {
			for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
				if (strcmp(groups[g].word, w) == 0)
					help[n] = groups[g].help;
		}
		out[n++] = w;
	}
	return n;
}

/*
 * Runs the words through the table.  Stops without error where the words
 * end, wherever that is: the caller decides whether that is complete.
 */
static int
walk(unsigned n, const char *const *words, struct pstate *st, char *err,
    size_t errlen)
{
	const char *cw[CTL_CMD__MAX], *ch[CTL_CMD__MAX];
	const char *kws[CTL_CMD_ARGS];
	unsigned kwi[CTL_CMD_ARGS], nkw = 0, i = 0, ncw;
	const char *first = "";
	char name[64];
	int r;

	memset(st, 0, offsetof(struct pstate, a));
	st->pending = -1;
	for (int c = 0; c < CTL_CMD__MAX; c++)
		st->live[c] = true;

	/* The command words. */
	for (;;) {
		int only = -1, nlive = 0;

		for (int c = 0; c < CTL_CMD__MAX; c++) {
			if (st->live[c]) {
				only = c;
				nlive++;
			}
		}
		if (nlive == 1 && (st->depth == CTL_CMD_WORDS ||
		    !cmds[only].words[st->depth])) {
			st->def = &cmds[only];
			break;
		}
		if (i == n)
			return 0;
		ncw = next_cmd_words(st, cw, ch);
		if ((r = match(words[i], cw, ncw)) < 0) {
			char choices[200];

			if (r == -EINVAL) {
				const char *amb[CTL_CMD__MAX];
				unsigned na = 0;

				for (unsigned j = 0; j < ncw; j++)
					if (strncmp(words[i], cw[j], strlen(words[i])) == 0)
						amb[na++] = cw[j];
				join(choices, sizeof(choices), amb, na);
				snprintf(err, errlen, "ambiguous command '%s%s%s': %s",
				    first, *first ? " " : "", words[i], choices);
			} else if (st->depth == 0) {
				snprintf(err, errlen, "unknown command '%s' (try help)",
				    words[i]);
			} else {
				join(choices, sizeof(choices), cw, ncw);
				snprintf(err, errlen, "unknown command '%s %s' (expected %s)",
				    first, words[i], choices);
			}
			return -EINVAL;
		}
		for (int c = 0; c < CTL_CMD__MAX; c++)
			if (st->live[c] && (!cmds[c].words[st->depth] ||
			    strcmp(cmds[c].words[st->depth], cw[r]) != 0))
				st->live[c] = false;
		if (st->depth == 0)
			first = cw[r];
		st->depth++;
		i++;
	}

	/* The arguments. */
	for (unsigned k = 0; k < st->def->nargs; k++) {
		if (st->def->args[k].kw) {
			kws[nkw] = st->def->args[k].kw;
			kwi[nkw++] = k;
		}
	}
	for (; i < n; i++) {
		unsigned np = npositional(st->def);

		if (st->pending >= 0) {
			if ((r = parse_value(st, (unsigned)st->pending, words[i],
			    err, errlen)) < 0)
				return r;
			st->used[st->pending] = true;
			st->pending = -1;
			continue;
		}
		if (st->pos < np) {
			if ((r = parse_value(st, st->pos, words[i], err, errlen)) < 0)
				return r;
			st->used[st->pos++] = true;
			continue;
		}
		if (nkw == 0) {
			snprintf(err, errlen, "'%s' takes no more arguments (got '%s')",
			    cmd_name(st, name, sizeof(name)), words[i]);
			return -EINVAL;
		}
		if ((r = match_err(words[i], kws, nkw, "argument", err, errlen)) < 0)
			return r;
		if (st->used[kwi[r]]) {
			snprintf(err, errlen, "'%s' given twice", kws[r]);
			return -EINVAL;
		}
		st->pending = (int)kwi[r];
	}
	return 0;
}

static void
args_init(struct ctl_cmd_args *a)
{
	memset(a, 0, sizeof(*a));
	a->section = LOG_SECTION__MAX;
}

int
ctl_cmd_parse(unsigned n, const char *const *words, struct ctl_cmd_args *a,
    char *err, size_t errlen)
{
	struct pstate st;
	const char *cw[CTL_CMD__MAX], *ch[CTL_CMD__MAX];
	char name[64], choices[200];
	unsigned ncw, np;
	int r;

	args_init(a);
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		return -EINVAL;
	}
	if (n > CTL_WORDS_MAX) {
		snprintf(err, errlen, "too many words (at most %d)", CTL_WORDS_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		if (strlen(words[i]) >= CTL_WORD_MAX) {
			snprintf(err, errlen, "word too long: '%.20s...'", words[i]);
			return -EINVAL;
		}
	}
	st.a = a;
	if ((r = walk(n, words, &st, err, errlen)) < 0)
		return r;
	if (!st.def) {
		ncw = next_cmd_words(&st, cw, ch);
		join(choices, sizeof(choices), cw, ncw);
		snprintf(err, errlen, "incomplete command '%s': expected %s",
		    words[0], choices);
		return -EINVAL;
	}
	cmd_name(&st, name, sizeof(name));
	if (st.pending >= 0) {
		snprintf(err, errlen, "'%s' needs a value (%s)",
		    st.def->args[st.pending].kw, st.def->args[st.pending].meta);
		return -EINVAL;
	}
	np = npositional(st.def);
	if (st.pos < np) {
		snprintf(err, errlen, "%s: missing %s", name, st.def->args[st.pos].meta);
		return -EINVAL;
	}
	for (unsigned k = 0; k < st.def->nargs; k++) {
		const struct ctl_argdef *ad = &st.def->args[k];

		if (st.used[k])
			continue;
		if (ad->required) {
			snprintf(err, errlen, "%s: missing '%s %s'", name, ad->kw, ad->meta);
			return -EINVAL;
		}
		if (ad->dflt) {
			if ((r = parse_value(&st, k, ad->dflt, err, errlen)) < 0)
				return r;
			st.used[k] = true;
		}
	}
	if (a->via_set && a->prefix_set && st.via_family != a->family) {
		snprintf(err, errlen, "%s: gateway and prefix are of different "
		    "address families", name);
		return -EINVAL;
	}

	a->id = st.def->id;
	a->def = st.def;
	for (unsigned j = 0; j < CTL_CMD_WORDS && st.def->words[j]; j++)
		strcpy(a->words[a->nwords++], st.def->words[j]);
	for (unsigned k = 0; k < st.def->nargs; k++) {
		if (!st.used[k])
			continue;
		if (st.def->args[k].kw)
			strcpy(a->words[a->nwords++], st.def->args[k].kw);
		strcpy(a->words[a->nwords++], st.val[k]);
	}
	return 0;
}

void
ctl_cmd_words(const struct ctl_cmd_args *a, const char *out[CTL_WORDS_MAX])
{
	for (unsigned i = 0; i < a->nwords; i++)
		out[i] = a->words[i];
}

static void
add_value_cands(struct ctl_next *nx, const struct ctl_argdef *ad)
{
	const char *words[16];
	unsigned nw = ctl_argtype_words(ad->type, words, 16);

	for (unsigned i = 0; i < nw && nx->n < CTL_CANDS_MAX; i++) {
		nx->cand[nx->n++] = (struct ctl_cand){
			.kind = CTL_CAND_WORD, .word = words[i], .help = ad->help,
		};
	}
	if (type_has_free_value(ad->type) && nx->n < CTL_CANDS_MAX) {
		nx->cand[nx->n++] = (struct ctl_cand){
			.kind = CTL_CAND_VALUE, .meta = ad->meta, .type = ad->type,
			.help = ad->help,
		};
	}
}

int
ctl_cmd_next(unsigned n, const char *const *words, struct ctl_next *nx,
    char *err, size_t errlen)
{
	struct ctl_cmd_args a;
	struct pstate st;
	const char *cw[CTL_CMD__MAX], *ch[CTL_CMD__MAX];
	unsigned ncw, np;
	int r;

	memset(nx, 0, sizeof(*nx));
	args_init(&a);
	st.a = &a;
	if (n > CTL_WORDS_MAX) {
		snprintf(err, errlen, "too many words (at most %d)", CTL_WORDS_MAX);
		return -EINVAL;
	}
	if ((r = walk(n, words, &st, err, errlen)) < 0)
		return r;
	if (!st.def) {
		ncw = next_cmd_words(&st, cw, ch);
		for (unsigned i = 0; i < ncw && nx->n < CTL_CANDS_MAX; i++)
			nx->cand[nx->n++] = (struct ctl_cand){
				.kind = CTL_CAND_WORD, .word = cw[i], .help = ch[i],
			};
		return 0;
	}
	if (st.pending >= 0) {
		add_value_cands(nx, &st.def->args[st.pending]);
		return 0;
	}
	np = npositional(st.def);
	if (st.pos < np) {
		add_value_cands(nx, &st.def->args[st.pos]);
		return 0;
	}
	nx->complete = true;
	for (unsigned k = 0; k < st.def->nargs; k++) {
		const struct ctl_argdef *ad = &st.def->args[k];

		if (st.used[k] || !ad->kw)
			continue;
		if (ad->required)
			nx->complete = false;
		if (nx->n < CTL_CANDS_MAX)
			nx->cand[nx->n++] = (struct ctl_cand){
				.kind = CTL_CAND_WORD, .word = ad->kw, .help = ad->help,
			};
	}
	return 0;
}

void
ctl_cmd_usage(const struct ctl_cmd_def *def, char *buf, size_t len)
{
	size_t off = 0;
	int r;

#define PUT(...) do {							\
	r = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__);\
	if (r > 0)							\
		off += (size_t)r;					\
} while (0)
	buf[0] = '\0';
	PUT("%s", def->words[0]);
	if (def->words[1])
		PUT(" %s", def->words[1]);
	for (unsigned k = 0; k < def->nargs; k++) {
		const struct ctl_argdef *ad = &def->args[k];

		if (!ad->kw)
			PUT(" %s", ad->meta);
		else if (ad->required)
			PUT(" %s %s", ad->kw, ad->meta);
		else
			PUT(" [%s %s]", ad->kw, ad->meta);
	}
#undef PUT
}

unsigned
ctl_split_line(char *line, const char **words, unsigned max)
{
	char *save = NULL, *w;
	unsigned n = 0;

	for (w = strtok_r(line, " \t\r\n", &save); w && n < max;
	    w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 0 && w[0] == '#')
			return 0;
		words[n++] = w;
	}
	return n;
}
