/*
 * The shared run-time state (daemon/state.h) as main() leaves it for the
 * unit tests of daemon modules: n_rx receive and n_tun reply workers, the
 * manager's counter slot after them, a wake-up eventfd, a QSBR reader per
 * worker.  Include after cmocka.h and state.h; close D.wake_fd at the end.
 */
#ifndef GWLB_TEST_DAEMON_FIXTURE_H
#define GWLB_TEST_DAEMON_FIXTURE_H

#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "qsbr.h"
#include "state.h"

static inline void
fixture_daemon_state(unsigned n_rx, unsigned n_tun)
{
	memset(&D, 0, sizeof(D));
	D.n_rx = n_rx;
	D.n_tun = n_tun;
	D.mgr_slot = n_rx + n_tun;
	D.nthreads = D.mgr_slot + 1;
	D.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(D.wake_fd >= 0);
	qsbr_init(n_rx + n_tun);
}

/* How many times D.wake_fd was written since last asked (the manager woken). */
static inline uint64_t
fixture_wakes(void)
{
	uint64_t v = 0;

	if (read(D.wake_fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

#endif
