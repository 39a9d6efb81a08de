/*
 * The daemon's answers to gwlbctl: one handler per command of the shared
 * table (lib/ctl_commands.h), each filling records through daemon/ctl_server.h.
 * Status, workers, drops and ENIs come from the producers of record.h (the
 * health page and /metrics use the same ones).  Field names are part of
 * the interface (scripts read them with gwlbctl -j): change them only by
 * adding new ones.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_handlers.h"
#include "ctl_proto.h"
#include "ctl_server.h"
#include "flow.h"
#include "clock.h"
#include "eni_table.h"
#include "state.h"
#include "worker.h"
#include "stats.h"
#include "hook.h"
#include "log.h"
#include "name.h"
#include "pkt.h"
#include "record.h"
#include "report.h"
#include "route.h"

/* Without `limit`, show flows stops here: a reply must fit the client's queue. */
#define SHOW_FLOWS_DEFAULT_LIMIT	10000

static struct ctl_server *srv;

/*
 * The control reply as a record sink: the producers of record.h write
 * gwlbctl's records.  Lists are only brackets here (a reply is a flat
 * sequence of records) and metrics are for /metrics.
 */
struct ctl_sink {
	struct rec_sink	 s;
	struct ctl_reply *r;
};

#define CTL_SINK(sink)	((struct ctl_sink *)(void *)(sink))

static void
cs_list(struct rec_sink *s, const char *type)
{
	(void)s;
	(void)type;
}

static void
cs_begin(struct rec_sink *s, const char *type)
{
	ctl_rec_begin(CTL_SINK(s)->r, type);
}

static void
cs_field(struct rec_sink *s, const struct rec_field *f)
{
	struct ctl_reply *r = CTL_SINK(s)->r;

	if (f->metric_only)
		return;
	switch (f->type) {
	case REC_U64:
		ctl_rec_u64(r, f->key, f->v.u64);
		break;
	case REC_S64:
		ctl_rec_s64(r, f->key, f->v.s64);
		break;
	case REC_STR:
		ctl_rec_str(r, f->key, f->v.str);
		break;
	case REC_BOOL:
		ctl_rec_bool(r, f->key, f->v.b);
		break;
	}
}

static void
cs_end(struct rec_sink *s)
{
	ctl_rec_end(CTL_SINK(s)->r);
}

static int
cs_finish(struct rec_sink *s)
{
	(void)s;
	return 0;
}

static const struct rec_sink_ops ctl_sink_ops = {
	cs_list, cs_list, cs_begin, cs_field, cs_end, cs_finish,
};

#define CTL_SINK_INIT(reply)	{ .s = { &ctl_sink_ops }, .r = (reply) }

static int
h_show_status(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct ctl_sink cs = CTL_SINK_INIT(r);

	(void)a;
	(void)arg;
	report_status(&cs.s, now_ns());
	return 0;
}

static int
h_doctor(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct ctl_sink cs = CTL_SINK_INIT(r);

	(void)a;
	(void)arg;
	report_doctor(&cs.s);
	return 0;
}

struct walk {
	struct ctl_reply *r;
	struct ctl_sink	*cs;
	uint64_t	now;
	uint64_t	want;		/* one ENI, when one_set */
	bool		one_set;
	bool		found;
	uint32_t	limit;		/* flows still to show */
	uint64_t	count;
	const struct ctl_cmd_args *a;	/* show flows: the filters */
};

static void
walk_show_eni(struct eni *e, void *arg)
{
	struct walk *w = arg;

	if (w->one_set && e->id != w->want)
		return;
	w->found = true;
	report_eni(&w->cs->s, e, w->now, true);
}

static int
h_show_enis(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct ctl_sink cs = CTL_SINK_INIT(r);

	(void)a;
	(void)arg;
	report_enis(&cs.s, now_ns(), false);
	return 0;
}

static int
h_show_eni(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct ctl_sink cs = CTL_SINK_INIT(r);
	struct walk w = { .r = r, .cs = &cs, .now = now_ns(), .want = a->eni, .one_set = true };
	char hex[NAME_HEX_MAX];

	(void)arg;
	eni_foreach(walk_show_eni, &w);
	if (!w.found) {
		name_hex(a->eni, hex);
		return ctl_reply_error(r, ENOENT, "no ENI %s", hex);
	}
	route_show(r, &a->eni);
	return 0;
}

/* The flow cookie in a stored GENEVE header (0 if somehow absent). */
static uint32_t
hdr_cookie(const struct flow_hdr *h)
{
	size_t off = GENEVE_BASE_LEN;

	while (off + GENEVE_OPT_HDR_LEN <= h->len) {
		const uint8_t *o = h->geneve + off;
		size_t dlen = (size_t)(o[3] & 0x1f) * 4;

		if (((o[0] << 8) | o[1]) == GENEVE_CLASS_AWS && o[2] == GENEVE_AWS_COOKIE &&
		    dlen == 4 && off + 8 <= h->len)
			return (uint32_t)o[4] << 24 | (uint32_t)o[5] << 16 |
			    (uint32_t)o[6] << 8 | o[7];
		off += GENEVE_OPT_HDR_LEN + dlen;
	}
	return 0;
}

/* Does the prefix hold the address (of the flow's family)? */
static bool
prefix_holds(const struct ctl_cmd_args *a, int family, const uint8_t *addr)
{
	const uint8_t *p = (const uint8_t *)&a->prefix;
	unsigned full = a->prefix_len / 8, rest = a->prefix_len % 8;

	if (family != a->family)
		return false;
	if (memcmp(p, addr, full) != 0)
		return false;
	return rest == 0 || ((p[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* show flows' filters: all given must match; addr and port either end. */
static bool
flow_wanted(const struct ctl_cmd_args *a, const struct pkt_key *k,
    const struct flow_hdr *h)
{
	int af = k->family == 6 ? AF_INET6 : AF_INET;

	if (a->proto_set && k->proto != a->proto)
		return false;
	if (a->port_set && k->sport != a->port && k->dport != a->port)
		return false;
	if (a->prefix_set && !prefix_holds(a, af, k->src) && !prefix_holds(a, af, k->dst))
		return false;
	if (a->cookie_set && hdr_cookie(h) != a->cookie)
		return false;
	return true;
}

struct flow_walk {
	struct walk	*w;
	struct eni	*e;
};

static bool
walk_flow(const struct pkt_key *k, const struct flow_hdr *h, uint64_t idle_ns, void *arg)
{
	struct flow_walk *fw = arg;
	struct ctl_reply *r = fw->w->r;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[8], gw[INET_ADDRSTRLEN];
	int af = k->family == 6 ? AF_INET6 : AF_INET;

	/* The limit reached, or the reply cut (the client is told so): the
	 * rest of a million flows would be walked for nobody. */
	if (fw->w->limit == 0 || !ctl_reply_live(r))
		return false;
	if (!flow_wanted(fw->w->a, k, h))
		return true;
	fw->w->limit--;
	fw->w->count++;
	inet_ntop(af, k->src, src, sizeof(src));
	inet_ntop(af, k->dst, dst, sizeof(dst));
	inet_ntop(AF_INET, &h->gwlb_addr, gw, sizeof(gw));
	ctl_rec_begin(r, "flow");
	ctl_rec_str(r, "eni", fw->e->hex);
	ctl_rec_str(r, "proto", ctl_proto_name(k->proto, pb, sizeof(pb)));
	ctl_rec_str(r, "src", src);
	ctl_rec_u64(r, "sport", k->sport);
	ctl_rec_str(r, "dst", dst);
	ctl_rec_u64(r, "dport", k->dport);
	ctl_rec_strf(r, "cookie", "%08x", hdr_cookie(h));
	ctl_rec_strf(r, "gwlb", "%s:%u", gw, ntohs(h->gwlb_port));
	ctl_rec_u64(r, "idle_s", idle_ns / 1000000000ull);
	ctl_rec_end(r);
	return true;
}

static void
walk_flows_eni(struct eni *e, void *arg)
{
	struct walk *w = arg;
	struct flow_walk fw = { w, e };

	if ((w->one_set && e->id != w->want) || !e->flows || w->limit == 0)
		return;
	w->found = true;
	flow_foreach(e->flows, w->now, walk_flow, &fw);
}

static int
h_show_flows(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct walk w = { .r = r, .now = now_ns(), .want = a->eni,
	    .one_set = a->eni_set && !a->eni_any,
	    .limit = a->limit_set ? a->limit : SHOW_FLOWS_DEFAULT_LIMIT, .a = a };
	char hex[NAME_HEX_MAX];

	(void)arg;
	if (conf.no_return)
		return ctl_reply_error(r, ENOTSUP, "no flow table: gwlbtund runs with --no-return");
	eni_foreach(walk_flows_eni, &w);
	if (w.one_set && !w.found) {
		name_hex(a->eni, hex);
		return ctl_reply_error(r, ENOENT, "no ENI %s", hex);
	}
	return 0;
}

static int
h_show_drops(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct ctl_sink cs = CTL_SINK_INIT(r);

	(void)a;
	(void)arg;
	report_drops(&cs.s);
	return 0;
}

static int
h_show_workers(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct ctl_sink cs = CTL_SINK_INIT(r);

	(void)a;
	(void)arg;
	report_workers(&cs.s, now_ns());
	return 0;
}

static int
h_show_routes(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	route_show(r, NULL);
	return 0;
}

static int
h_route_rule(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	char err[512];
	int ret;

	(void)arg;
	ret = route_request(a, ROUTE_REQUEST_WAIT_MS, err, sizeof(err));
	if (ret < 0)
		return ctl_reply_error(r, -ret, "%s", err[0] ? err : strerror(-ret));
	log_msg(LOG_CONTROL, LOG_INFO, "%s %s by uid %u", a->words[0], a->words[1],
	    (unsigned)ctl_reply_peer(r)->uid);
	return 0;
}

static void
opt_rec(const char *name, const char *value, void *arg)
{
	struct ctl_reply *r = arg;

	ctl_rec_begin(r, "option");
	ctl_rec_str(r, "name", name);
	ctl_rec_str(r, "value", value);
	ctl_rec_end(r);
}

/* Every option of conf.c's table, in its order; then every route and rule
 * declared, whether an ENI is up or not. */
static int
h_show_config(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	conf_show(opt_rec, r);
	route_show_declared(r);
	return 0;
}

/* The manager reloads (it owns reload); we ask and report what it did. */
static int
h_reload(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	static const char *const st[] = { [CONF_RELOADED] = "reloaded",
	    [CONF_UNCHANGED] = "unchanged", [CONF_RELOAD_FAILED] = "error",
	    [CONF_NO_FILE] = "no-config" };
	struct conf_report rep;
	int err;

	(void)a;
	(void)arg;
	err = conf_reload_request(D.wake_fd, 30, &rep);
	if (err < 0)
		return ctl_reply_error(r, -err, "the daemon did not answer in 30 s");
	log_msg(LOG_CONTROL, LOG_INFO, "reload by uid %u: %s",
	    (unsigned)ctl_reply_peer(r)->uid, st[rep.status]);
	switch (rep.status) {
	case CONF_NO_FILE:
		return ctl_reply_error(r, ENOENT, "nothing to reload: gwlbtund runs "
		    "without --config");
	case CONF_RELOAD_FAILED: {
		/* The error text is short (CTL_ERRTEXT_MAX): whole lines, as many
		 * as fit; the log and --check-config have them all. */
		char text[CTL_ERRTEXT_MAX];
		unsigned shown = 0;
		int n = snprintf(text, sizeof(text), "not reloaded, nothing changed (%u "
		    "error%s):", rep.n_errors, rep.n_errors == 1 ? "" : "s");

		for (char *l = rep.errors, *nl; l && *l && n > 0; l = nl ? nl + 1 : NULL) {
			size_t len;

			nl = strchr(l, '\n');
			len = nl ? (size_t)(nl - l) : strlen(l);
			if ((size_t)n + 1 + len + 24 >= sizeof(text))
				break;
			n += snprintf(text + n, sizeof(text) - (size_t)n, "\n%.*s", (int)len, l);
			shown++;
		}
		if (shown < rep.n_errors && n > 0)
			snprintf(text + n, sizeof(text) - (size_t)n, "\n(%u more: see the log)",
			    rep.n_errors - shown);
		return ctl_reply_error(r, EINVAL, "%s", text);
	}
	default:
		break;
	}
	ctl_rec_begin(r, "reload");
	ctl_rec_str(r, "file", conf.config_file);
	ctl_rec_str(r, "result", st[rep.status]);
	ctl_rec_str(r, "options_changed", rep.changed);
	ctl_rec_str(r, "options_need_restart", rep.restart);
	ctl_rec_u64(r, "routes_added", rep.routes_added);
	ctl_rec_u64(r, "routes_removed", rep.routes_removed);
	if (rep.status == CONF_UNCHANGED)
		ctl_rec_str(r, "why", rep.restart[0] ? "only options that need a restart "
		    "differ" : "the file declares what is in force already");
	else
		ctl_rec_str(r, "why", "");
	ctl_rec_end(r);
	return 0;
}

static int
h_eni_destroy(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	char hex[NAME_HEX_MAX];
	int err;

	(void)arg;
	name_hex(a->eni, hex);
	err = eni_request_destroy(a->eni);
	if (err == -ENOENT)
		return ctl_reply_error(r, ENOENT, "no ENI %s", hex);
	if (err < 0)
		return ctl_reply_error(r, -err, "cannot destroy ENI %s now: %s", hex,
		    strerror(-err));
	log_msg(LOG_CONTROL, LOG_INFO, "ENI %s: destroy requested by uid %u", hex,
	    (unsigned)ctl_reply_peer(r)->uid);
	return 0;
}

static void
walk_flush(struct eni *e, void *arg)
{
	struct walk *w = arg;

	if ((w->one_set && e->id != w->want) || !e->flows)
		return;
	w->found = true;
	w->count += flow_flush(e->flows);
}

static int
h_flows_flush(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	struct walk w = { .r = r, .want = a->eni, .one_set = a->eni_set && !a->eni_any };
	char hex[NAME_HEX_MAX];

	(void)arg;
	if (conf.no_return)
		return ctl_reply_error(r, ENOTSUP, "no flow table: gwlbtund runs with --no-return");
	eni_foreach(walk_flush, &w);
	if (w.one_set && !w.found) {
		name_hex(a->eni, hex);
		return ctl_reply_error(r, ENOENT, "no ENI %s", hex);
	}
	ctl_rec_begin(r, "flush");
	ctl_rec_u64(r, "flows", w.count);
	ctl_rec_end(r);
	log_msg(LOG_CONTROL, LOG_INFO, "%llu flows flushed by uid %u",
	    (unsigned long long)w.count, (unsigned)ctl_reply_peer(r)->uid);
	return 0;
}

static int
h_log(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)arg;
	if (a->section == LOG_SECTION__MAX)
		log_set_all(a->level);
	else
		log_level_set(a->section, a->level);
	log_msg(LOG_CONTROL, LOG_INFO, "log %s set to %s by uid %u",
	    a->section == LOG_SECTION__MAX ? "all" : log_section_str(a->section),
	    log_level_str(a->level), (unsigned)ctl_reply_peer(r)->uid);
	return 0;
}

static int
h_counters_reset(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	(void)a;
	(void)arg;
	stats_reset();
	log_msg(LOG_CONTROL, LOG_INFO, "counters reset by uid %u",
	    (unsigned)ctl_reply_peer(r)->uid);
	return 0;
}

/* drain / undrain: GWLB stops sending new flows to a target whose health
 * check fails, the flows it has keep coming (rolling upgrades). */
static int
h_drain(struct ctl_reply *r, const struct ctl_cmd_args *a, void *arg)
{
	bool on = (uintptr_t)arg != 0, was = report_drain(on);

	(void)a;
	ctl_rec_begin(r, "drain");
	ctl_rec_bool(r, "draining", on);
	ctl_rec_bool(r, "changed", was != on);
	ctl_rec_end(r);
	if (was != on)
		log_msg(LOG_CONTROL, LOG_IMPORTANT, "%s by uid %u: the health check answers %s",
		    on ? "draining" : "drain ended", (unsigned)ctl_reply_peer(r)->uid,
		    on ? "503" : "as the daemon's health says");
	return 0;
}

int
control_open(void)
{
	int err = 0;

	srv = ctl_server_open(conf.control_path, conf.control_gid, &err);
	if (!srv)
		return err ? err : -EIO;
	return 0;
}

int
control_start(void)
{
	int err;
	ctl_server_set_handler(srv, CTL_CMD_SHOW_STATUS, h_show_status, NULL);
	ctl_server_set_handler(srv, CTL_CMD_DOCTOR, h_doctor, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_ENIS, h_show_enis, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_ENI, h_show_eni, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_FLOWS, h_show_flows, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_DROPS, h_show_drops, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_WORKERS, h_show_workers, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_ROUTES, h_show_routes, NULL);
	ctl_server_set_handler(srv, CTL_CMD_SHOW_CONFIG, h_show_config, NULL);
	ctl_server_set_handler(srv, CTL_CMD_ROUTE_ADD, h_route_rule, NULL);
	ctl_server_set_handler(srv, CTL_CMD_ROUTE_DEL, h_route_rule, NULL);
	ctl_server_set_handler(srv, CTL_CMD_RULE_ADD, h_route_rule, NULL);
	ctl_server_set_handler(srv, CTL_CMD_RULE_DEL, h_route_rule, NULL);
	ctl_server_set_handler(srv, CTL_CMD_ENI_DESTROY, h_eni_destroy, NULL);
	ctl_server_set_handler(srv, CTL_CMD_FLOWS_FLUSH, h_flows_flush, NULL);
	ctl_server_set_handler(srv, CTL_CMD_LOG, h_log, NULL);
	ctl_server_set_handler(srv, CTL_CMD_COUNTERS_RESET, h_counters_reset, NULL);
	ctl_server_set_handler(srv, CTL_CMD_RELOAD, h_reload, NULL);
	ctl_server_set_handler(srv, CTL_CMD_DRAIN, h_drain, (void *)(uintptr_t)1);
	ctl_server_set_handler(srv, CTL_CMD_UNDRAIN, h_drain, NULL);
	err = ctl_server_start(srv);
	if (err < 0) {
		ctl_server_close(srv);
		srv = NULL;
		return err;
	}
	atomic_store(&D.ctl, srv);
	log_msg(LOG_CONTROL, LOG_INFO, "control socket %s", conf.control_path);
	return 0;
}

void
control_stop(void)
{
	atomic_store(&D.ctl, NULL);	/* the health thread has stopped */
	if (srv)
		ctl_server_close(srv);
	srv = NULL;
}
