/*
 * The data-path threads (worker.c): receive workers (GENEVE in, inner
 * packets to gwi- links) and reply workers (replies read from the links,
 * handed to the return path).
 */
#ifndef GWLBTUND_WORKER_H
#define GWLBTUND_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "counters.h"

/* Threads of the data path. */
enum worker_kind { WORKER_RX, WORKER_REPLY };

struct worker {
	struct thread_stats stats;
	_Atomic uint64_t heartbeat_ns __attribute__((aligned(CACHELINE)));	/* each loop round: a stuck worker shows */
	unsigned	idx;		/* slot in eni->stats and the QSBR array */
	unsigned	kidx;		/* index among its kind */
	enum worker_kind kind;
	int		cpu;		/* pinned CPU or -1 */
	_Atomic pid_t	tid;		/* set by the thread itself, read by reporters */
	pthread_t	thread;
	int		fd;		/* rx: the UDP socket; reply: epoll */
	int		kick_fd;	/* reply: eventfd in the epoll set (qsbr_kick) */
	int		rcvbuf_granted;
	int		busy_poll_granted;
	void		*reply;		/* return-path state of a reply worker */
	struct stats_snap base;		/* counters reset: subtracted on read */
};

int worker_start_all(void);
/* Stop and join every worker (shutdown). */
void worker_stop_all(void);

#endif
