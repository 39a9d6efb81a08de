/*
 * sd_notify(3) without libsystemd: the service manager passes the path of
 * a Unix datagram socket in NOTIFY_SOCKET (a leading '@' names an abstract
 * one) and reads each datagram as newline-separated NAME=VALUE
 * assignments.  WATCHDOG_USEC asks for WATCHDOG=1 at least that often,
 * for us only if WATCHDOG_PID is unset or our pid (sd_watchdog_enabled(3)).
 * When to say what is the manager's business (manager.c); this module
 * only knows the wire.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static uint64_t watchdog_ns;

static void
notify_watchdog_init(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (!usec)
		return;
	if (pid) {
		errno = 0;
		v = strtoull(pid, &end, 10);
		if (errno || *end || end == pid || v != (unsigned long long)getpid())
			return;		/* meant for another process */
	}
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno || *end || end == usec || v == 0 || v > UINT64_MAX / 1000) {
		log_msg(LOG_CORE, LOG_IMPORTANT, "WATCHDOG_USEC=%s: not a number of "
		    "microseconds; no watchdog", usec);
		return;
	}
	watchdog_ns = v * 1000;
}

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	if (path && *path) {
		len = strlen(path);
		if ((path[0] != '/' && path[0] != '@') || len >= sizeof(notify_addr.sun_path)) {
			log_msg(LOG_CORE, LOG_IMPORTANT, "NOTIFY_SOCKET=%s: neither an absolute "
			    "path nor an abstract name that fits a socket address; the service "
			    "manager will not hear from us", path);
		} else {
			notify_addr.sun_family = AF_UNIX;
			memcpy(notify_addr.sun_path, path, len);
			if (path[0] == '@')
				notify_addr.sun_path[0] = '\0';
			notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
			notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (notify_fd < 0)
				log_msg(LOG_CORE, LOG_IMPORTANT, "NOTIFY_SOCKET: socket: %s",
				    strerror(errno));
		}
		if (notify_fd >= 0)
			notify_watchdog_init();
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
notify_send(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;	/* a STATUS= line cut short, never the rest */
	if (sendto(notify_fd, buf, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
	    notify_len) < 0) {
		static struct log_rl rl = LOG_RL_INIT(60, 1);
		int err = errno;

		log_rl(&rl, LOG_CORE, LOG_IMPORTANT, "NOTIFY_SOCKET: the service manager "
		    "did not take our notification: %s", strerror(err));
		return -err;
	}
	return 0;
}

uint64_t
notify_watchdog_ns(void)
{
	return watchdog_ns;
}
