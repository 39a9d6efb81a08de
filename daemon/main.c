/*
 * gwlbtund: start-up and shut-down.  main() parses the configuration,
 * opens what needs privileges, starts the subsystems bottom up and then
 * becomes the manager (manager.c), which owns links, hooks and netlink
 * while the workers (worker.c) move packets.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "ctl_handlers.h"
#include "ctl_server.h"
#include "event.h"
#include "eni_table.h"
#include "health.h"
#include "log.h"
#include "manager.h"
#include "nl.h"
#include "notify.h"
#include "reply.h"
#include "route.h"
#include "state.h"
#include "worker.h"


static void
check_hook(const char *opt, const char *path)
{
	if (path && access(path, X_OK) < 0 && !strpbrk(path, " \t"))
		log_msg(LOG_HOOK, LOG_IMPORTANT, "%s %s: %s; it will fail each time it runs",
		    opt, path, strerror(errno));
}

/*
 * Descriptors: what the limits let us open at most.  Every ENI (closing
 * ones too: they count towards --max-enis) has a queue per worker slot on
 * gwi- and on gwo-; a hook holds its pidfd (or eventfd) and the read end
 * of its pipe, the one being started both ends for a moment; control and
 * health clients one each.  BASE is what does not grow: the standard
 * streams, the manager's and the workers' event descriptors, netlink,
 * sockets, with room to spare.
 */
#define FD_BASE		64
#define FD_PER_WORKER	6	/* socket, epoll, eventfd, raw socket, spare */

static unsigned
fds_needed(void)
{
	unsigned nq = conf.rx_threads > conf.tun_threads ? conf.rx_threads : conf.tun_threads;
	unsigned per_eni = nq * (conf.no_return ? 1 : 2);

	return FD_BASE + FD_PER_WORKER * (conf.rx_threads + conf.tun_threads) +
	    conf.max_enis * per_eni + 2 * conf.max_hooks + 2 +
	    (CTL_CLIENTS_MAX_DEFAULT + 1) + (conf.health_port ? HEALTH_CLIENTS_MAX + 2 : 0);
}

/* Raise RLIMIT_NOFILE's soft limit to what we need, or refuse to start. */
static void
fds_raise(void)
{
	unsigned need = fds_needed();
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fatal("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		struct rlimit want = { need, rl.rlim_max };

		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			log_msg(LOG_CORE, LOG_CRITICAL, "too few file descriptors: --max-enis %u "
			    "with %u+%u threads, %u hooks and the control and health clients "
			    "need %u, have %llu (soft) / %llu (hard); raise the limit "
			    "(LimitNOFILE=%u in the unit, ulimit -n %u) or lower --max-enis",
			    conf.max_enis, conf.rx_threads, conf.tun_threads, conf.max_hooks,
			    need, (unsigned long long)rl.rlim_cur,
			    (unsigned long long)rl.rlim_max, need, need);
			exit(1);
		}
		if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
			log_msg(LOG_CORE, LOG_CRITICAL, "too few file descriptors: need %u, "
			    "have %llu (soft) / %llu (hard), and raising the soft limit "
			    "failed: %s; raise it (LimitNOFILE=%u, ulimit -n %u) or lower "
			    "--max-enis", need, (unsigned long long)rl.rlim_cur,
			    (unsigned long long)rl.rlim_max, strerror(errno), need, need);
			exit(1);
		}
		log_msg(LOG_CORE, LOG_INFO, "file descriptor limit raised from %llu to %u "
		    "(--max-enis %u)", (unsigned long long)rl.rlim_cur, need, conf.max_enis);
		rl.rlim_cur = need;
	}
	D.fd_need = need;
	D.fd_limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > UINT_MAX ? UINT_MAX :
	    (unsigned)rl.rlim_cur;
}

/* The kernel applies max(all, link) for rp_filter: say so if "all" defeats us. */
static void
check_rp_filter_all(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/conf/all/rp_filter", "r");
	int v = 0;

	if (!f)
		return;
	if (fscanf(f, "%d", &v) == 1 && v != 0)
		log_msg(LOG_NETLINK, LOG_IMPORTANT, "net.ipv4.conf.all.rp_filter is %d: the "
		    "kernel uses the larger of it and the link's 0, so asymmetric traffic "
		    "on gwi-/gwo- links may be dropped", v);
	fclose(f);
}

/* Forwarding on: /proc/sys, as the kernel offers no netlink knob for "all". */
static void
enable_forwarding(void)
{
	static const char *const files[] = { "/proc/sys/net/ipv4/ip_forward",
	    "/proc/sys/net/ipv6/conf/all/forwarding" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "we");

		if (!f || fputs("1\n", f) < 0 || fclose(f) != 0)
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "--forwarding: %s: %s", files[i],
			    strerror(errno));
		else
			log_msg(LOG_NETLINK, LOG_INFO, "forwarding on (%s)", files[i]);
	}
}

/*
 * One daemon per network namespace.  An abstract Unix socket's name belongs
 * to the namespace, and the bound socket to this process for as long as it
 * lives (kill -9 included: the kernel frees the name with the process), so
 * binding it is the lock.  Two daemons in one namespace would sweep each
 * other's routes and rules at start and split UDP 6081 between them.
 * Whoever finds the name taken connects to it and reads the holder's pid
 * with SO_PEERCRED; the manager accepts and closes those connections.
 */
#define NS_LOCK_NAME	"gwlbtund"

static void
ns_lock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(NS_LOCK_NAME));
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, c;

	memcpy(sa.sun_path + 1, NS_LOCK_NAME, strlen(NS_LOCK_NAME));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		fatal("namespace lock: socket");
	if (bind(fd, (struct sockaddr *)&sa, salen) == 0 && listen(fd, 64) == 0) {
		D.lock_fd = fd;
		return;
	}
	if (errno != EADDRINUSE)
		fatal("namespace lock @%s", NS_LOCK_NAME);
	close(fd);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c >= 0 && connect(c, (struct sockaddr *)&sa, salen) == 0 &&
	    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
		log_msg(LOG_CORE, LOG_CRITICAL, "another gwlbtund (pid %d) runs in this "
		    "network namespace (it holds @%s): one per namespace; not starting",
		    (int)cred.pid, NS_LOCK_NAME);
	else
		log_msg(LOG_CORE, LOG_CRITICAL, "another gwlbtund runs in this network "
		    "namespace (it holds @%s; its pid is unknown: %s): one per namespace; "
		    "not starting", NS_LOCK_NAME, strerror(errno));
	exit(1);
}

/* Every ENI needs /dev/net/tun: say at start, with the fix, when it cannot
 * be opened, instead of failing each ENI later. */
static void
check_tun(void)
{
	static const char path[] = "/dev/net/tun";
	int fd = open(path, O_RDWR | O_CLOEXEC);
	const char *fix;

	if (fd >= 0) {
		close(fd);
		return;
	}
	switch (errno) {
	case ENOENT: case ENODEV: case ENXIO:
		fix = "load the tun module (modprobe tun) or make the device node "
		    "(mknod /dev/net/tun c 10 200)";
		break;
	case EACCES: case EPERM:
		fix = "allow the device (systemd: DeviceAllow=/dev/net/tun rw; "
		    "containers: pass it in) and its file mode for this user";
		break;
	default:
		fix = "check the device";
		break;
	}
	log_msg(LOG_CORE, LOG_CRITICAL, "cannot open %s: %s: every ENI needs it; %s",
	    path, strerror(errno), fix);
	exit(1);
}

/* CAP_NET_ADMIN makes every link, route and rule; CAP_NET_RAW the raw and
 * packet sockets of the replies.  Without them the daemon would start,
 * say it is ready and answer the health check while every ENI fails:
 * say so at start instead, with the fix. */
static void
check_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	const char *miss = NULL;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0) {
		log_msg(LOG_CORE, LOG_IMPORTANT, "cannot read our capabilities: %s",
		    strerror(errno));
		return;
	}
	if (!(d[0].effective & (1u << CAP_NET_ADMIN)))
		miss = "CAP_NET_ADMIN (links, routes, rules)";
	else if (!conf.no_return && !(d[0].effective & (1u << CAP_NET_RAW)))
		miss = "CAP_NET_RAW (the sockets that send replies to GWLB)";
	if (!miss)
		return;
	log_msg(LOG_CORE, LOG_CRITICAL, "missing capability %s: run as root or grant "
	    "CAP_NET_ADMIN and CAP_NET_RAW (systemd: AmbientCapabilities=; setpriv "
	    "--ambient-caps); not starting", miss);
	exit(1);
}

int
main(int argc, char **argv)
{
	sigset_t mask;
	int err;

	log_init("gwlbtund");
	conf_parse(argc, argv);
	notify_init();		/* before any thread: it edits the environment */
	if (conf.use_syslog)
		log_use_syslog();

	/* Signals are read by the manager through a signalfd; every thread
	 * created from here on inherits this mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* First: nothing of the namespace is touched without the lock. */
	ns_lock();
	check_caps();
	check_tun();

	log_msg(LOG_CORE, LOG_INFO, "gwlbtund %s starting: %s, %u receive and %u reply "
	    "threads, idle teardown %s", PACKAGE_VERSION,
	    conf.no_return ? "no return traffic" : "return traffic on",
	    conf.rx_threads, conf.tun_threads,
	    conf.idle_teardown_s ? "on" : "off");
	if (conf.n_origins == 0)
		log_msg(LOG_CORE, LOG_IMPORTANT, "no --allowed-origin given: only private "
		    "sources (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, "
		    "198.18.0.0/15) may create ENIs and steer replies; others are dropped "
		    "(origin-not-allowed); --allowed-origin any accepts every source");
	for (unsigned i = 0; i < conf.n_origins; i++)
		if (conf.origins[i].mask == 0) {
			log_msg(LOG_CORE, LOG_IMPORTANT, "--allowed-origin any: anyone who "
			    "reaches UDP %u can create ENIs (up to --max-enis %u) and steer "
			    "replies", conf.geneve_port, conf.max_enis);
			break;
		}
	fds_raise();
	check_hook("-c", conf.create_hook);
	check_hook("-r", conf.destroy_hook);
	check_rp_filter_all();

	D.started_wall = time(NULL);
	D.started_ns = now_ns();
	D.n_rx = conf.rx_threads;
	D.n_tun = conf.tun_threads;
	D.mgr_slot = D.n_rx + D.n_tun;
	D.nthreads = D.mgr_slot + 1;
	D.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (D.wake_fd < 0)
		fatal("eventfd");
	err = event_open(EVENT_RING_DEFAULT);
	if (err < 0) {
		errno = -err;
		fatal("event ring");
	}
	err = nl_init();
	if (err < 0) {
		errno = -err;
		fatal("netlink");
	}
	if (eni_table_init(conf.max_enis) < 0 || reply_init() < 0 ||
	    route_init(D.wake_fd) < 0)
		fatalx("out of memory");
	for (unsigned i = 0; i < conf.n_cfg_routes; i++) {
		char rerr[256];

		if (route_config_add(&conf.cfg_routes[i], rerr, sizeof(rerr)) < 0) {
			fprintf(stderr, "gwlbtund: %s: %s\n", conf.config_file, rerr);
			exit(2);
		}
	}
	if (conf.forwarding)
		enable_forwarding();
	err = control_open();
	if (err < 0) {
		log_msg(LOG_CONTROL, LOG_CRITICAL, "control socket %s: %s", conf.control_path,
		    err == -EADDRINUSE ? "another gwlbtund is running there" : strerror(-err));
		exit(1);
	}
	{
		/* Under the namespace lock (ns_lock): never a live daemon's
		 * routes.  Our rtm_protocol marks what a run that died left. */
		int n = nl_sweep_leftovers();

		if (n > 0)
			log_msg(LOG_NETLINK, LOG_IMPORTANT, "removed %d routes and rules a "
			    "previous gwlbtund left behind", n);
	}

	err = worker_start_all();
	if (err < 0) {
		log_msg(LOG_CORE, LOG_CRITICAL, "cannot start the workers: %s%s", strerror(-err),
		    err == -EPERM || err == -EACCES ? " (gwlbtund needs root, or CAP_NET_ADMIN "
		    "and CAP_NET_RAW)" : "");
		control_stop();
		exit(1);
	}
	err = control_start();
	if (err < 0) {
		log_msg(LOG_CONTROL, LOG_CRITICAL, "control socket: %s", strerror(-err));
		exit(1);
	}
	err = health_start();
	if (err < 0) {
		log_msg(LOG_HEALTH, LOG_CRITICAL, "health check on TCP port %u: %s",
		    conf.health_port, strerror(-err));
		exit(1);
	}
	err = manager_run();
	health_stop();
	control_stop();
	event_close();
	nl_fini();
	log_msg(LOG_CORE, LOG_INFO, "stopped");
	return err ? 1 : 0;
}
