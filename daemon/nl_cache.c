/*
 * The kernel's state as libnl-route-3's cache manager mirrors it: one
 * event socket subscribed to link, address, route and rule notifications
 * (both families), four caches filled by a dump at start, and a second
 * socket for dumps (start, resync).  libmnl stays the request path
 * (nl.c): this file only reads.
 *
 * The cache manager does not recover from an overflowing event socket by
 * itself (libnl 3.7's nl_cache_mngr_data_ready() returns the ENOBUFS, as
 * -NLE_NOMEM, and leaves the caches behind the kernel): nlc_read() drains
 * what is left, then fills every cache again from a dump
 * (nl_cache_refill()), and the caller reconciles everything.  Not
 * nl_cache_resync(): it drops IPv6 routes with a gateway that are still
 * there (libnl merges those into multipath objects, route_update(), and the
 * merged object keeps the mark that says "not in the dump").
 *
 * The mirror is bounded (--max-mirror, nl_cache.h): someone else's routes
 * in our namespace must not grow the daemon without end.  Past the bound
 * it is off, and what route.c checks is checked against a dump now and
 * then instead, freed after each check.
 *
 * That merging also means an IPv6 route object in the cache can hold a
 * nexthop the kernel replaced since: an IPv6 route of several nexthops is
 * checked against a fresh dump of the routes (once per batch of events)
 * before it is called changed.
 */
#include "config.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "nl.h"
#include "nl_cache.h"
#include "route_model.h"

/* Overflows before nlc_read() gives up for this wake-up (each resyncs). */
#define NLC_OVERFLOWS_MAX	4

static struct nl_sock *ev_sk, *sync_sk;
static struct nl_cache_mngr *mngr;
static struct nl_cache *c_link, *c_addr, *c_route, *c_rule;
static void (*nlc_fn)(enum nlc_event, void *);
static void *nlc_arg;
static bool routes_changed;		/* set by the change callback */
static bool routes_fresh;		/* c_route refilled since the last events */

/* The bound (nl_cache.h): the manager's, but for the reports' copies. */
static unsigned obj_max;
static bool over;			/* past obj_max: the mirror is off */
static bool dump_held;			/* over: the caches hold a dump */
static bool stale;			/* over: the kernel changed since */
static uint64_t next_dump_ns;
static _Atomic bool st_open, st_on;
static _Atomic uint64_t st_objects, st_overflows, st_dumps;
static struct log_rl rl_over = LOG_RL_INIT(60, 2);

/* libnl's NLE_* to -errno: callers see errno values only. */
static int
nlc_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_PERM:		return -EPERM;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_INVAL:		return -EINVAL;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_BAD_SOCK:	return -EBADF;
	default:		return -EIO;
	}
}

static void
nlc_changed(struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	(void)obj;
	(void)action;
	(void)arg;
	if (cache == c_route || cache == c_rule)
		routes_changed = true;
}

static void nlc_bound(void);

int
nlc_open(void (*fn)(enum nlc_event ev, void *arg), void *arg, unsigned max)
{
	static const char *const names[] = { "route/link", "route/addr", "route/route",
	    "route/rule" };
	struct nl_cache **caches[] = { &c_link, &c_addr, &c_route, &c_rule };
	int rcvbuf = 4 << 20, err;

	nlc_fn = fn;
	nlc_arg = arg;
	obj_max = max;
	over = dump_held = stale = false;
	if (!(ev_sk = nl_socket_alloc()) || !(sync_sk = nl_socket_alloc())) {
		err = -NLE_NOMEM;
		goto fail;
	}
	if ((err = nl_connect(sync_sk, NETLINK_ROUTE)) < 0)
		goto fail;
	/* Connects ev_sk and makes it non-blocking, sequence checks off. */
	if ((err = nl_cache_mngr_alloc(ev_sk, NETLINK_ROUTE, 0, &mngr)) < 0)
		goto fail;
	/* Best effort: a larger buffer makes overflows (and resyncs) rarer;
	 * a host's full table dump can be thousands of routes. */
	nl_socket_set_buffer_size(ev_sk, rcvbuf, 0);
	setsockopt(nl_socket_get_fd(ev_sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((err = nl_cache_mngr_add(mngr, names[i], nlc_changed, NULL,
		    caches[i])) < 0) {
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: cannot keep %s: %s",
			    names[i], nl_geterror(err));
			goto fail;
		}
	}
	routes_changed = false;
	atomic_store(&st_open, true);
	atomic_store(&st_on, true);
	nlc_bound();
	nlc_release();		/* the start's dump, if it was too big */
	return nl_cache_mngr_get_fd(mngr);
fail:
	nlc_close();
	return nlc_errno(err);
}

void
nlc_close(void)
{
	/* The manager frees its caches and closes ev_sk; the socket stays ours. */
	if (mngr)
		nl_cache_mngr_free(mngr);
	mngr = NULL;
	c_link = c_addr = c_route = c_rule = NULL;
	atomic_store(&st_open, false);
	if (ev_sk)
		nl_socket_free(ev_sk);
	if (sync_sk)
		nl_socket_free(sync_sk);
	ev_sk = sync_sk = NULL;
}

/* Every cache read again from the kernel: 0 or the first -errno. */
static int
nlc_refill(void)
{
	struct nl_cache *caches[] = { c_link, c_addr, c_route, c_rule };
	static const char *const names[] = { "links", "addresses", "routes", "rules" };
	int ret = 0;

	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++) {
		int err = nl_cache_refill(sync_sk, caches[i]);

		if (err < 0) {
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: resync of %s: %s",
			    names[i], nl_geterror(err));
			if (!ret)
				ret = nlc_errno(err);
		}
	}
	routes_fresh = true;
	return ret;
}

int
nlc_resync(void)
{
	int ret;

	if (!mngr)
		return -ENOTCONN;
	if (over) {
		stale = true;	/* nlc_tick's next dump */
		return 0;
	}
	ret = nlc_refill();
	nlc_bound();
	if (nlc_fn)
		nlc_fn(NLC_EV_RESYNC, nlc_arg);
	return ret;
}

static uint64_t
nlc_objects(void)
{
	struct nl_cache *caches[] = { c_link, c_addr, c_route, c_rule };
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
		if (caches[i])
			n += (uint64_t)nl_cache_nitems(caches[i]);
	return n;
}

/* The mirror on, after events or a dump: past the bound, it goes off; what
 * the caches hold stays until nlc_release(), for the checks now due. */
static void
nlc_bound(void)
{
	uint64_t n = nlc_objects();

	atomic_store(&st_objects, n);
	if (n <= obj_max)
		return;
	over = true;
	dump_held = true;
	stale = false;
	next_dump_ns = 0;
	atomic_store(&st_on, false);
	atomic_fetch_add(&st_overflows, 1);
	log_rl(&rl_over, LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: %llu links, addresses, "
	    "routes and rules, over --max-mirror %u: not kept any more; routes and rules "
	    "are checked against a dump of the kernel's after changes, every %u s at most",
	    (unsigned long long)n, obj_max, NLC_DUMP_EVERY_S);
}

void
nlc_release(void)
{
	struct nl_cache *caches[] = { c_link, c_addr, c_route, c_rule };

	if (!over || !dump_held)
		return;
	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
		if (caches[i])
			nl_cache_clear(caches[i]);
	dump_held = false;
}

/* The mirror off: the events only say that something changed. */
static void
nlc_drain(void)
{
	int fd = nl_socket_get_fd(ev_sk);
	char buf[16384];

	/* Bounded: the descriptor is level-triggered, the rest comes back. */
	for (unsigned i = 0; i < 256; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != ENOBUFS)
			break;
		stale = true;	/* (ENOBUFS: events were lost; the dump has all) */
	}
}

void
nlc_tick(uint64_t now)
{
	uint64_t n;

	if (!mngr || !over || !stale || now < next_dump_ns)
		return;
	next_dump_ns = now + NLC_DUMP_EVERY_S * 1000000000ull;
	stale = false;
	atomic_fetch_add(&st_dumps, 1);
	nlc_refill();
	n = nlc_objects();
	atomic_store(&st_objects, n);
	if (n <= obj_max) {
		over = false;
		atomic_store(&st_on, true);
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: %llu links, addresses, "
		    "routes and rules, within --max-mirror %u: kept again",
		    (unsigned long long)n, obj_max);
	}
	dump_held = over;
	if (nlc_fn)
		nlc_fn(NLC_EV_DUMP, nlc_arg);
}

void
nlc_status(struct nlc_status *st)
{
	st->open = atomic_load(&st_open);
	st->on = atomic_load(&st_on);
	st->objects = atomic_load(&st_objects);
	st->max = obj_max;
	st->overflows = atomic_load(&st_overflows);
	st->dumps = atomic_load(&st_dumps);
}

void
nlc_read(void)
{
	bool overflowed = false;
	int err;

	if (!mngr)
		return;
	if (over) {
		nlc_drain();
		return;
	}
	for (unsigned i = 0; i < NLC_OVERFLOWS_MAX; i++) {
		/* Reads until the socket is empty (EAGAIN is not an error). */
		err = nl_cache_mngr_data_ready(mngr);
		if (err != -NLE_NOMEM)
			break;
		/* ENOBUFS: events were lost.  What is still queued is read
		 * first, so the dump is the last word. */
		overflowed = true;
	}
	if (err < 0 && err != -NLE_NOMEM)
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: reading events: %s",
		    nl_geterror(err));
	if (overflowed) {
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: netlink events "
		    "overflowed (ENOBUFS): reading links, addresses, routes and rules again");
		nlc_resync();
	}
	if (!over)
		nlc_bound();
	if (routes_changed) {
		routes_changed = false;
		routes_fresh = false;
		if (nlc_fn)
			nlc_fn(NLC_EV_ROUTES, nlc_arg);
	}
}

/* The route with ri's key (family, table, destination, metric, tos 0). */
static struct rtnl_route *
nlc_route_find(const struct route_inst *ri)
{
	const struct route_spec *s = &ri->spec;
	struct rtnl_route *needle, *found = NULL;
	struct nl_addr *dst;
	unsigned alen = ri->family == AF_INET ? 4 : 16;

	if (!(needle = rtnl_route_alloc()))
		return NULL;
	/* As libnl parses it: a default route has an empty address. */
	dst = s->plen ? nl_addr_build(ri->family, s->prefix, alen) : nl_addr_alloc(0);
	if (!dst)
		goto out;
	nl_addr_set_family(dst, ri->family);
	nl_addr_set_prefixlen(dst, s->plen);
	rtnl_route_set_family(needle, (uint8_t)ri->family);
	rtnl_route_set_tos(needle, 0);
	rtnl_route_set_table(needle, ri->table);
	rtnl_route_set_dst(needle, dst);
	/* Without a metric the kernel gives IPv6 routes 1024, IPv4 ones 0. */
	rtnl_route_set_priority(needle, s->metric_set ? s->metric :
	    ri->family == AF_INET6 ? 1024 : 0);
	nl_addr_put(dst);
	found = (struct rtnl_route *)nl_cache_search(c_route, OBJ_CAST(needle));
out:
	rtnl_route_put(needle);
	return found;
}

enum nlc_state
nlc_route_state(const struct route_inst *ri)
{
	const struct route_spec *s = &ri->spec;
	enum nlc_state st = NLC_PRESENT;
	struct rtnl_route *r;
	struct rtnl_nexthop *nh;
	struct nl_addr *gw;
	unsigned alen = ri->family == AF_INET ? 4 : 16;

	if (!c_route || (over && !dump_held))
		return NLC_UNKNOWN;
	if (!(r = nlc_route_find(ri)))
		return NLC_MISSING;
	if (ri->family == AF_INET6 && rtnl_route_get_nnexthops(r) > 1 && !routes_fresh) {
		/* Perhaps libnl's merging (above): ask the kernel. */
		int err = nl_cache_refill(sync_sk, c_route);

		rtnl_route_put(r);
		routes_fresh = true;
		if (err < 0)
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "kernel mirror: reading routes: %s",
			    nl_geterror(err));
		if (!(r = nlc_route_find(ri)))
			return NLC_MISSING;
	}
	if (rtnl_route_get_protocol(r) != RTPROT_GWLBTUN ||
	    rtnl_route_get_type(r) != RTN_UNICAST || rtnl_route_get_nnexthops(r) != 1 ||
	    !(nh = rtnl_route_nexthop_n(r, 0)) || rtnl_route_nh_get_ifindex(nh) != ri->oif) {
		st = NLC_CHANGED;
	} else {
		gw = rtnl_route_nh_get_gateway(nh);
		if (s->via_set ? !gw || nl_addr_get_len(gw) != alen ||
		    memcmp(nl_addr_get_binary_addr(gw), s->via, alen) != 0 :
		    gw != NULL && nl_addr_get_len(gw) != 0)
			st = NLC_CHANGED;
	}
	rtnl_route_put(r);
	return st;
}

enum nlc_state
nlc_rule_state(const struct route_inst *ri, uint32_t *prio)
{
	if (!c_rule || (over && !dump_held))
		return NLC_UNKNOWN;
	for (struct nl_object *o = nl_cache_get_first(c_rule); o; o = nl_cache_get_next(o)) {
		struct rtnl_rule *r = (struct rtnl_rule *)o;
		const char *iif = rtnl_rule_get_iif(r);
		uint8_t proto;

		if (rtnl_rule_get_family(r) != ri->family ||
		    rtnl_rule_get_action(r) != FR_ACT_TO_TBL ||
		    rtnl_rule_get_table(r) != ri->table || !iif || strcmp(iif, ri->dev) != 0)
			continue;
		/* Kernels before 4.17 keep no protocol: the rest has to do. */
		if (rtnl_rule_get_protocol(r, &proto) == 0 && proto != RTPROT_GWLBTUN)
			continue;
		*prio = rtnl_rule_get_prio(r);
		return NLC_PRESENT;
	}
	return NLC_MISSING;
}

bool
nlc_link_exists(int ifindex)
{
	struct rtnl_link *l;

	if (!c_link || (over && !dump_held))
		return true;
	if (!(l = rtnl_link_get(c_link, ifindex)))
		return false;
	rtnl_link_put(l);
	return true;
}
