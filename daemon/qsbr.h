/*
 * QSBR: quiescent-state-based reclamation for what the data-path threads
 * read without locks (ENIs, flow entries and headers).  Each reader has a
 * slot whose counter it makes odd when it starts on a batch and even when
 * it is done; a grace period has passed for a snapshot once every slot has
 * been seen even or has moved on.  A reader that waits online (a reply
 * worker in epoll_wait) registers an eventfd that qsbr_kick() writes, so a
 * grace period started now ends soon.  Threads that are no worker (the
 * control and health threads, the manager) walk shared structures as
 * readers too, through one of QSBR_WALKERS walk slots held for one walk
 * (qsbr_walk_begin/end), so that a walk needs no lock the workers take.
 * A leaf: it knows nothing of workers or ENIs.
 */
#ifndef GWLBTUND_QSBR_H
#define GWLBTUND_QSBR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

#define QSBR_WALKERS		8	/* the last slots: walks at once */
/* Every worker (MAX_WORKERS in conf.h, checked where both are known) and
 * the walk slots. */
#define QSBR_MAX_READERS	(256 + QSBR_WALKERS)

struct qsbr_reader {
	_Atomic uint64_t ctr;		/* odd = online */
	int		kick_fd;	/* -1: none */
} __attribute__((aligned(CACHELINE)));

extern struct qsbr_reader qsbr_readers[QSBR_MAX_READERS];

/* Readers 0..n-1 take part (n at most QSBR_MAX_READERS - QSBR_WALKERS),
 * none with a kick fd yet. */
void qsbr_init(unsigned n);
void qsbr_set_kick(unsigned reader, int fd);

static inline void
qsbr_online(unsigned reader)
{
	atomic_fetch_add(&qsbr_readers[reader].ctr, 1);	/* becomes odd */
}

static inline void
qsbr_offline(unsigned reader)
{
	atomic_fetch_add(&qsbr_readers[reader].ctr, 1);	/* becomes even */
}

/* A walk by a thread that is no worker: online in a free walk slot until
 * qsbr_walk_end(the slot returned).  Waits (yielding) while every walk
 * slot is taken.  A walk must not wait for a grace period. */
unsigned qsbr_walk_begin(void);
void qsbr_walk_end(unsigned reader);

void qsbr_snapshot_into(uint64_t *snap);	/* snap[QSBR_MAX_READERS] */
bool qsbr_passed_since(const uint64_t *snap);
/* Wake the readers that wait online, so a grace period started now ends soon. */
void qsbr_kick(void);
/* Free p once every reader has passed a quiescent point (manager ticks). */
void qsbr_retire(void *p);
void qsbr_reclaim(void);

#endif
