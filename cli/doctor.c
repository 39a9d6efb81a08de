/*
 * gwlbctl doctor: the daemon reports the facts as its network namespace
 * sees them (the `doctor` command: settings asked and granted, sysctls,
 * each link's rp_filter and offloads); this file judges them against what
 * gwlbtund needs and the performance notes' tuning, and prints each
 * finding with the command that fixes it.
 *
 * A finding "loses packets" when packets are being or will be dropped as
 * things stand: a receive buffer smaller than asked, rp_filter on our
 * links, forwarding off with return traffic, fewer descriptors than
 * --max-enis needs, kernel receive drops rising while we watch.  The rest
 * is advice: tuning that matters at high rates (rmem_max, rmem_default,
 * netdev_max_backlog, busy polling) and offloads the kernel did not give.
 * Exit status 1 when something loses packets.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwlbctl.h"
#include "json.h"

/* The performance notes' values (sysctl.d of the Debian package). */
#define WANT_RMEM_MAX		268435456LL
#define WANT_RMEM_DEFAULT	134217728LL
#define WANT_BACKLOG		500000LL
#define DOCTOR_FINDINGS_MAX	64

struct fact {
	char		name[64];
	bool		is_str;
	int64_t		v;
	char		str[128];
};

struct dlink {
	char		link[32], side[8], eni[24], offloads[96];
	bool		has_rp;
	int64_t		rp;
};

struct finding {
	bool		loses;
	char		check[40];
	char		message[400];
	char		fix[300];
};

struct doctor {
	struct fact	 facts[48];
	unsigned	 nfacts;
	struct dlink	*links;
	unsigned	 nlinks, cap;
	struct finding	 f[DOCTOR_FINDINGS_MAX];
	unsigned	 nf, checks;
	char		 ns[32];	/* "nsenter -t PID -n " or "" */
};

static int
collect(const struct ctl_record *rec, void *arg)
{
	struct doctor *d = arg;

	if (strcmp(rec->type, "doctor") == 0) {
		d->nfacts = 0;
		for (unsigned i = 0; i < rec->nfields && d->nfacts < 48; i++) {
			const struct ctl_field *f = &rec->field[i];
			struct fact *x = &d->facts[d->nfacts++];

			snprintf(x->name, sizeof(x->name), "%s", f->name);
			x->is_str = f->type == CTL_FT_STR;
			x->v = f->type == CTL_FT_U64 ? (int64_t)f->v.u64 :
			    f->type == CTL_FT_S64 ? f->v.s64 :
			    f->type == CTL_FT_BOOL ? f->v.b : 0;
			if (x->is_str)
				snprintf(x->str, sizeof(x->str), "%s", f->v.str);
		}
	} else if (strcmp(rec->type, "link") == 0) {
		struct dlink *l;

		if (d->nlinks == d->cap) {
			unsigned cap = d->cap ? d->cap * 2 : 64;
			struct dlink *n = realloc(d->links, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			d->links = n;
			d->cap = cap;
		}
		l = &d->links[d->nlinks++];

		memset(l, 0, sizeof(*l));
		for (unsigned i = 0; i < rec->nfields; i++) {
			const struct ctl_field *f = &rec->field[i];

			if (f->type == CTL_FT_STR && strcmp(f->name, "link") == 0)
				snprintf(l->link, sizeof(l->link), "%s", f->v.str);
			else if (f->type == CTL_FT_STR && strcmp(f->name, "side") == 0)
				snprintf(l->side, sizeof(l->side), "%s", f->v.str);
			else if (f->type == CTL_FT_STR && strcmp(f->name, "eni") == 0)
				snprintf(l->eni, sizeof(l->eni), "%s", f->v.str);
			else if (f->type == CTL_FT_STR && strcmp(f->name, "offloads") == 0)
				snprintf(l->offloads, sizeof(l->offloads), "%s", f->v.str);
			else if (f->type == CTL_FT_S64 && strcmp(f->name, "rp_filter") == 0) {
				l->has_rp = true;
				l->rp = f->v.s64;
			}
		}
	}
	return 0;
}

static const struct fact *
fact(const struct doctor *d, const char *name)
{
	for (unsigned i = 0; i < d->nfacts; i++)
		if (strcmp(d->facts[i].name, name) == 0)
			return &d->facts[i];
	return NULL;
}

static void add(struct doctor *d, bool loses, const char *check, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
add(struct doctor *d, bool loses, const char *check, const char *fix,
    const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (d->nf >= DOCTOR_FINDINGS_MAX)
		return;
	f = &d->f[d->nf++];
	f->loses = loses;
	snprintf(f->check, sizeof(f->check), "%s", check);
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

/*
 * A sysctl as the daemon read it.  The host-wide ones (netdev_max_backlog,
 * busy_read, busy_poll) exist only in the host's network namespace: when
 * the daemon runs in another one, gwlbctl reads them itself.  One that
 * nobody could read is said once, as advice.
 */
static const struct fact *
sysctl_fact(struct doctor *d, const char *name, bool hostwide)
{
	const struct fact *x = fact(d, name);
	char path[128], buf[64];
	long long v;
	FILE *f;

	d->checks++;
	if (!x && hostwide && d->nfacts < sizeof(d->facts) / sizeof(d->facts[0])) {
		snprintf(path, sizeof(path), "/proc/sys/%s", name);
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		if ((f = fopen(path, "re"))) {
			if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%lld", &v) == 1) {
				struct fact *n = &d->facts[d->nfacts++];

				snprintf(n->name, sizeof(n->name), "%s", name);
				n->is_str = false;
				n->v = v;
				x = n;
			}
			fclose(f);
		}
	}
	if (!x)
		add(d, false, name, "", "%s: could not be read%s", name, hostwide ?
		    " (it exists only in the host's network namespace)" : "");
	return x;
}

/* "sysctl -w NAME=VALUE", in the daemon's network namespace unless the
 * sysctl is host-wide. */
static void
fix_sysctl(const struct doctor *d, char *buf, size_t len, const char *name,
    long long v, bool hostwide)
{
	snprintf(buf, len, "%ssysctl -w %s=%lld", hostwide ? "" : d->ns, name, v);
}

static void
judge(struct doctor *d, uint64_t drops_before, uint64_t drops_after,
    unsigned interval)
{
	const struct fact *x, *all, *asked, *granted;
	const struct fact *mode = fact(d, "mode"), *pid = fact(d, "pid");
	bool ret = mode && mode->is_str && strcmp(mode->str, "return") == 0;
	char fix[300];

	/* The receive buffer: asked, granted, and the limit. */
	asked = fact(d, "rcvbuf_asked");
	granted = fact(d, "rcvbuf_granted");
	x = sysctl_fact(d, "net.core.rmem_max", false);
	d->checks++;
	if (asked && granted && granted->v < asked->v) {
		fix_sysctl(d, fix, sizeof(fix), "net.core.rmem_max",
		    asked->v > WANT_RMEM_MAX ? asked->v : WANT_RMEM_MAX, false);
		add(d, true, "rcvbuf", fix, "receive buffer: %" PRId64 " bytes granted of "
		    "%" PRId64 " asked (--rcvbuf); net.core.rmem_max limits it: bursts "
		    "overflow the socket; restart gwlbtund after the fix",
		    granted->v, asked->v);
	} else if (x && x->v < WANT_RMEM_MAX) {
		fix_sysctl(d, fix, sizeof(fix), "net.core.rmem_max", WANT_RMEM_MAX, false);
		add(d, false, "net.core.rmem_max", fix, "net.core.rmem_max is %" PRId64
		    ", the performance notes ask %lld (gwlbtund forces its own buffer "
		    "with CAP_NET_ADMIN; other sockets and a daemon without it are "
		    "held to this)", x->v, WANT_RMEM_MAX);
	}
	if ((x = sysctl_fact(d, "net.core.rmem_default", false)) && x->v < WANT_RMEM_DEFAULT) {
		fix_sysctl(d, fix, sizeof(fix), "net.core.rmem_default", WANT_RMEM_DEFAULT, false);
		add(d, false, "net.core.rmem_default", fix, "net.core.rmem_default is %"
		    PRId64 ", the performance notes ask %lld", x->v, WANT_RMEM_DEFAULT);
	}
	if ((x = sysctl_fact(d, "net.core.netdev_max_backlog", true)) && x->v < WANT_BACKLOG) {
		fix_sysctl(d, fix, sizeof(fix), "net.core.netdev_max_backlog", WANT_BACKLOG,
		    true);
		add(d, false, "net.core.netdev_max_backlog", fix, "net.core.netdev_max_backlog "
		    "is %" PRId64 ": at high rates the per-CPU input queue drops before "
		    "the socket (performance notes: %lld)", x->v, WANT_BACKLOG);
	}

	/* Busy polling: SO_BUSY_POLL per socket; busy_read/busy_poll for the rest. */
	asked = fact(d, "busy_poll_asked");
	granted = fact(d, "busy_poll_granted");
	x = sysctl_fact(d, "net.core.busy_read", true);
	all = sysctl_fact(d, "net.core.busy_poll", true);
	d->checks++;
	/* Off (the default) is no finding: it only pays with a CPU per
	 * receive worker that nothing else needs (docs/PERFORMANCE.md). */
	if (asked && granted && asked->v > 0 && granted->v < asked->v)
		add(d, false, "busy_poll", "give gwlbtund CAP_NET_ADMIN, or gwlbtund "
		    "--busy-poll 0", "SO_BUSY_POLL %" PRId64 " us was refused", asked->v);
	(void)x;
	(void)all;

	/* rp_filter: the kernel applies max(all, link). */
	all = sysctl_fact(d, "net.ipv4.conf.all.rp_filter", false);
	d->checks++;
	if (all && all->v != 0) {
		fix_sysctl(d, fix, sizeof(fix), "net.ipv4.conf.all.rp_filter", 0, false);
		add(d, true, "rp_filter", fix, "net.ipv4.conf.all.rp_filter is %" PRId64
		    ": the kernel applies it to every link over the links' own 0, and "
		    "drops packets on %u gwi-/gwo- links whose source it would not "
		    "route back there", all->v, d->nlinks);
	}
	for (unsigned i = 0; i < d->nlinks; i++) {
		const struct dlink *l = &d->links[i];
		char name[96];

		if (!l->has_rp) {
			add(d, false, "rp_filter", "", "%s: gwlbtund could not read its "
			    "rp_filter", l->link);
			continue;
		}
		if (l->rp == 0)
			continue;
		snprintf(name, sizeof(name), "net.ipv4.conf.%s.rp_filter", l->link);
		fix_sysctl(d, fix, sizeof(fix), name, 0, false);
		add(d, true, "rp_filter", fix, "rp_filter on %s (ENI %s) is %" PRId64
		    " (gwlbtund sets it back to 0 when it sees the change: look for "
		    "what sets it)", l->link, l->eni, l->rp);
	}

	/* Forwarding: traffic in gwi- leaves by gwo- (or elsewhere) routed. */
	if ((x = sysctl_fact(d, "net.ipv4.ip_forward", false)) && x->v == 0) {
		fix_sysctl(d, fix, sizeof(fix), "net.ipv4.ip_forward", 1, false);
		add(d, ret, "forwarding", fix, "IPv4 forwarding is off: packets from "
		    "GWLB are not routed on%s (or start gwlbtund with --forwarding)",
		    ret ? ", return traffic never leaves by gwo-" : "");
	}
	if ((x = sysctl_fact(d, "net.ipv6.conf.all.forwarding", false)) && x->v == 0) {
		fix_sysctl(d, fix, sizeof(fix), "net.ipv6.conf.all.forwarding", 1, false);
		add(d, ret, "forwarding", fix, "IPv6 forwarding is off: IPv6 packets "
		    "from GWLB are not routed on (or start gwlbtund with --forwarding)");
	}

	/* Descriptors: what --max-enis ENIs need. */
	asked = fact(d, "fds_needed");
	granted = fact(d, "fds_limit");
	d->checks++;
	if (asked && granted && pid && granted->v < asked->v) {
		const struct fact *m = fact(d, "max_enis");

		snprintf(fix, sizeof(fix), "prlimit --pid %" PRId64 " --nofile=%" PRId64
		    ":%" PRId64, pid->v, asked->v, asked->v);
		add(d, true, "descriptors", fix, "the descriptor limit is %" PRId64 ", "
		    "--max-enis %" PRId64 " needs %" PRId64 ": ENIs past the limit fail "
		    "and their packets are dropped (for good: LimitNOFILE=%" PRId64
		    " in the unit, or a lower --max-enis)", granted->v, m ? m->v : 0,
		    asked->v, asked->v);
	}

	/* Kernel receive drops while we watched. */
	d->checks++;
	if (drops_after > drops_before) {
		const struct fact *rb = fact(d, "rcvbuf_asked");
		long long want = rb ? rb->v * 2 : WANT_RMEM_MAX;

		fix_sysctl(d, fix, sizeof(fix), "net.core.rmem_max", want, false);
		add(d, true, "kernel_drops", fix, "the kernel dropped %" PRIu64 " GENEVE "
		    "datagrams in %u s because the receive sockets were full (%" PRIu64
		    " since start); after the fix, restart gwlbtund with --rcvbuf %lld "
		    "(or more --udpthreads)", drops_after - drops_before, interval,
		    drops_after, want);
	}

	/* Offloads the links negotiated. */
	x = fact(d, "offload");
	d->checks++;
	if (x && x->v) {
		for (unsigned i = 0; i < d->nlinks; i++) {
			const struct dlink *l = &d->links[i];

			if (!strstr(l->offloads, "tso4")) {
				add(d, false, "offloads", "a kernel with TUN offloads (or "
				    "gwlbtund --offload off)", "%s: the kernel gave no TCP "
				    "segmentation offload (offloads '%s'): one packet per "
				    "write", l->link, l->offloads);
				break;
			}
			if (!strstr(l->offloads, "uso4")) {
				add(d, false, "offloads", "Linux 6.2 or later", "%s: no UDP "
				    "segmentation offload (offloads '%s', Linux before "
				    "6.2): UDP is written one datagram at a time",
				    l->link, l->offloads);
				break;
			}
		}
	} else if (x) {
		add(d, false, "offloads", "gwlbtund --offload on", "TUN offloads are off "
		    "(--offload off): one packet per system call");
	}
}

/* nsenter when the daemon's network namespace is not ours. */
static void
ns_prefix(struct doctor *d)
{
	const struct fact *pid = fact(d, "pid");
	char path[64], a[64] = "", b[64] = "";
	ssize_t n;

	d->ns[0] = '\0';
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%" PRId64 "/ns/net", pid->v);
	if ((n = readlink("/proc/self/ns/net", a, sizeof(a) - 1)) > 0)
		a[n] = '\0';
	if ((n = readlink(path, b, sizeof(b) - 1)) > 0)
		b[n] = '\0';
	if (a[0] && b[0] && strcmp(a, b) != 0)
		snprintf(d->ns, sizeof(d->ns), "nsenter -t %" PRId64 " -n ", pid->v);
}

static int
ask(struct gwlbctl *g, const struct ctl_cmd_args *a, struct doctor *d)
{
	const char *w[CTL_WORDS_MAX];
	char text[CTL_ERRTEXT_MAX];
	int err, status;

	d->nlinks = 0;
	d->nfacts = 0;
	ctl_cmd_words(a, w);
	status = client_request(&g->cl, a->nwords, w, collect, d, &err, text,
	    sizeof(text));
	if (status != EXIT_OK) {
		out_begin(g->out, CTL_VIEW_NONE, NULL);
		out_end(g->out, err ? err : EIO, text);
	}
	return status;
}

static void
print(struct gwlbctl *g, const struct doctor *d, unsigned nloses)
{
	if (g->json) {
		struct json j;

		json_init(&j, stdout);
		json_set_pretty(&j, g->pretty);
		json_obj_begin(&j);
		json_key(&j, "ok");
		json_bool(&j, nloses == 0);
		json_key(&j, "checks");
		json_u64(&j, d->checks);
		json_key(&j, "findings");
		json_arr_begin(&j);
		for (unsigned i = 0; i < d->nf; i++) {
			json_obj_begin(&j);
			json_key(&j, "check");
			json_str(&j, d->f[i].check);
			json_key(&j, "severity");
			json_str(&j, d->f[i].loses ? "loses-packets" : "advice");
			json_key(&j, "message");
			json_str(&j, d->f[i].message);
			json_key(&j, "fix");
			json_str(&j, d->f[i].fix);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		for (unsigned pass = 0; pass < 2; pass++)
			for (unsigned i = 0; i < d->nf; i++) {
				if (d->f[i].loses != (pass == 0))
					continue;
				printf("%-14s %s\n", d->f[i].loses ? "LOSES PACKETS" :
				    "advice", d->f[i].message);
				if (d->f[i].fix[0])
					printf("%-14s fix: %s\n", "", d->f[i].fix);
			}
		printf("%u checks: %u lose packets, %u advice\n", d->checks, nloses,
		    d->nf - nloses);
	}
	fflush(stdout);
}

int
doctor_run(struct gwlbctl *g, const struct ctl_cmd_args *a)
{
	struct doctor *d = calloc(1, sizeof(*d));
	unsigned interval = a->timeout_set ? a->timeout : 2, nloses = 0;
	const struct fact *x;
	uint64_t before = 0;
	bool have_before;
	int status;

	if (!d) {
		fprintf(stderr, "gwlbctl: out of memory\n");
		return EXIT_FAILED;
	}
	/* Two looks at the kernel's drop counter, interval apart (the daemon
	 * reads it every second). */
	if ((status = ask(g, a, d)) != EXIT_OK)
		goto out;
	x = fact(d, "kernel_drops");
	have_before = x != NULL;
	before = x ? (uint64_t)x->v : 0;
	sleep(interval);
	if ((status = ask(g, a, d)) != EXIT_OK)
		goto out;
	x = fact(d, "kernel_drops");
	if (!have_before || !x) {
		fprintf(stderr, "gwlbctl: doctor: the daemon sent no kernel_drops\n");
		status = EXIT_FAILED;
		goto out;
	}
	ns_prefix(d);
	judge(d, before, (uint64_t)x->v, interval);
	for (unsigned i = 0; i < d->nf; i++)
		nloses += d->f[i].loses;
	print(g, d, nloses);
	status = nloses ? EXIT_FAILED : EXIT_OK;
out:
	free(d->links);
	free(d);
	return status;
}
