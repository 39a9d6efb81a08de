/*
 * Deferred freeing for memory the data-path threads read without locks
 * (flow entries and headers, ENI slot arrays).  Retired pointers collect in a generation;
 * on each manager tick the generation is closed with a snapshot of every
 * worker's QSBR counter and freed once all workers have passed a quiescent
 * point since (or were quiescent at the snapshot).
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "qsbr.h"

struct retire_gen {
	void		**ptrs;
	size_t		n, cap;
	uint64_t	snap[QSBR_MAX_READERS];
	struct retire_gen *next;
};

static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
static struct retire_gen *cur;
static struct retire_gen *pending;	/* manager only */
static struct log_rl rl_leak = LOG_RL_INIT(60, 1);

struct qsbr_reader qsbr_readers[QSBR_MAX_READERS];
static unsigned n_readers;
#define WALK0	(QSBR_MAX_READERS - QSBR_WALKERS)
static atomic_bool walk_busy[QSBR_WALKERS];

void
qsbr_init(unsigned n)
{
	n_readers = n < WALK0 ? n : WALK0;
	for (unsigned i = 0; i < QSBR_MAX_READERS; i++)
		qsbr_readers[i].kick_fd = -1;
}

unsigned
qsbr_walk_begin(void)
{
	for (;;) {
		for (unsigned i = 0; i < QSBR_WALKERS; i++) {
			bool free_ = false;

			if (atomic_compare_exchange_strong(&walk_busy[i], &free_, true)) {
				qsbr_online(WALK0 + i);
				return WALK0 + i;
			}
		}
		sched_yield();
	}
}

void
qsbr_walk_end(unsigned reader)
{
	qsbr_offline(reader);
	atomic_store(&walk_busy[reader - WALK0], false);
}

void
qsbr_set_kick(unsigned reader, int fd)
{
	if (reader < n_readers)
		qsbr_readers[reader].kick_fd = fd;
}

void
qsbr_kick(void)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < n_readers; i++)
		if (qsbr_readers[i].kick_fd >= 0)
			(void)!write(qsbr_readers[i].kick_fd, &one, sizeof(one));
}

void
qsbr_snapshot_into(uint64_t *snap)
{
	for (unsigned i = 0; i < n_readers; i++)
		snap[i] = atomic_load(&qsbr_readers[i].ctr);
	for (unsigned i = WALK0; i < QSBR_MAX_READERS; i++)
		snap[i] = atomic_load(&qsbr_readers[i].ctr);
}

bool
qsbr_passed_since(const uint64_t *snap)
{
	for (unsigned i = 0; i < n_readers; i++)
		if ((snap[i] & 1) && atomic_load(&qsbr_readers[i].ctr) == snap[i])
			return false;
	for (unsigned i = WALK0; i < QSBR_MAX_READERS; i++)
		if ((snap[i] & 1) && atomic_load(&qsbr_readers[i].ctr) == snap[i])
			return false;
	return true;
}

void
qsbr_retire(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&retire_lock);
	if (!cur)
		cur = calloc(1, sizeof(*cur));
	if (cur && cur->n == cur->cap) {
		size_t cap = cur->cap ? cur->cap * 2 : 256;
		void **n = realloc(cur->ptrs, cap * sizeof(*n));

		if (n) {
			cur->ptrs = n;
			cur->cap = cap;
		}
	}
	if (cur && cur->n < cur->cap) {
		cur->ptrs[cur->n++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&retire_lock);
	if (p)	/* out of memory: leaking is safe, freeing is not */
		log_rl(&rl_leak, LOG_CORE, LOG_IMPORTANT, "out of memory retiring memory "
		    "readers may hold: leaked");
}

void
qsbr_reclaim(void)
{
	struct retire_gen *g, **pp;

	pthread_mutex_lock(&retire_lock);
	g = cur;
	cur = NULL;
	pthread_mutex_unlock(&retire_lock);
	if (g) {
		qsbr_snapshot_into(g->snap);
		qsbr_kick();
		g->next = pending;
		pending = g;
	}
	for (pp = &pending; *pp;) {
		g = *pp;
		if (qsbr_passed_since(g->snap)) {
			*pp = g->next;
			for (size_t i = 0; i < g->n; i++)
				free(g->ptrs[i]);
			free(g->ptrs);
			free(g);
		} else {
			pp = &g->next;
		}
	}
}
