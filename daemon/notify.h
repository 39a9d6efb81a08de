/*
 * The service manager's notification protocol (notify.c): sd_notify(3)'s
 * datagrams to $NOTIFY_SOCKET, written from its documentation, so that
 * gwlbtund needs no libsystemd.  Without NOTIFY_SOCKET every call is a
 * no-op.
 */
#ifndef GWLBTUND_NOTIFY_H
#define GWLBTUND_NOTIFY_H

#include <stdint.h>

/* Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and take them out of
 * the environment (hooks must not talk to the service manager in our
 * name).  Call before any thread starts: it changes the environment. */
void notify_init(void);
/* One datagram of NAME=VALUE lines ("READY=1\nSTATUS=..."); 0 or -errno
 * (0 also without a socket).  Safe from any thread. */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval asked for, in nanoseconds; 0 = no watchdog. */
uint64_t notify_watchdog_ns(void);

#endif
