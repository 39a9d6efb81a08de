/*
 * QSBR: quiescent-state-based reclamation for what the data-path threads
 * read without locks (ENIs, flow entries and headers).  Each reader has a
 * slot whose counter it makes odd when it starts on a batch and even when
 * it is done; a grace period has passed for a snapshot once every slot has
 * been seen even or has moved on.  A reader that waits online (a reply
 * worker in epoll_wait) registers an eventfd that qsbr_kick() writes, so a
 * grace period started now ends soon.  A leaf: it knows nothing of workers
 * or ENIs.
 */
#ifndef GWLBTUND_QSBR_H
#define GWLBTUND_QSBR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

#define QSBR_MAX_READERS	256

struct qsbr_reader {
	_Atomic uint64_t ctr;		/* odd = online */
	int		kick_fd;	/* -1: none */
} __attribute__((aligned(CACHELINE)));

extern struct qsbr_reader qsbr_readers[QSBR_MAX_READERS];

/* Readers 0..n-1 take part, none with a kick fd yet. */
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

void qsbr_snapshot_into(uint64_t *snap);	/* snap[QSBR_MAX_READERS] */
bool qsbr_passed_since(const uint64_t *snap);
/* Wake the readers that wait online, so a grace period started now ends soon. */
void qsbr_kick(void);
/* Free p once every reader has passed a quiescent point (manager ticks). */
void qsbr_retire(void *p);
void qsbr_reclaim(void);

#endif
