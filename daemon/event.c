/*
 * The event ring (see event.h).  A slot holds the event whose seq maps to
 * it; a reader whose cursor is older than the oldest seq still held has
 * lost the difference.  Readers and writers take one mutex for a copy of
 * one event, so a slow reader costs a writer nothing but that copy.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

static const char *const event_names[] = {
	[EVENT_ENI_UP] = "eni-up",
	[EVENT_ENI_DOWN] = "eni-down",
	[EVENT_HOOK_STARTED] = "hook-started",
	[EVENT_HOOK_FINISHED] = "hook-finished",
	[EVENT_ROUTE_RESTORED] = "route-restored",
	[EVENT_RP_FILTER_REVERTED] = "rp-filter-reverted",
	[EVENT_LINK_RECREATED] = "link-recreated",
	[EVENT_RELOAD] = "reload",
	[EVENT_LOST] = "lost",
};
_Static_assert(sizeof(event_names) / sizeof(event_names[0]) == EVENT__MAX,
    "event_names");

const char *
event_type_str(enum event_type t)
{
	return (unsigned)t < EVENT__MAX ? event_names[t] : "unknown";
}

struct event_ring {
	pthread_mutex_t	 lock;
	unsigned	 mask;
	uint64_t	 next;		/* seq of the next post; the first is 1 */
	struct event	 slot[];
};

void
event_init(struct event *ev, enum event_type type, bool has_eni, uint64_t eni)
{
	ev->seq = 0;
	ev->time_us = 0;
	ev->type = type;
	ev->has_eni = has_eni;
	ev->eni = has_eni ? eni : 0;
	ev->nfields = 0;
}

static struct event_field *
field_add(struct event *ev, const char *name, enum event_ftype type)
{
	struct event_field *f;

	if (ev->nfields >= EVENT_FIELDS_MAX)
		return NULL;
	f = &ev->f[ev->nfields++];
	f->name = name;
	f->type = type;
	return f;
}

void
event_u64(struct event *ev, const char *name, uint64_t v)
{
	struct event_field *f = field_add(ev, name, EVENT_F_U64);

	if (f)
		f->v.u64 = v;
}

void
event_s64(struct event *ev, const char *name, int64_t v)
{
	struct event_field *f = field_add(ev, name, EVENT_F_S64);

	if (f)
		f->v.s64 = v;
}

void
event_str(struct event *ev, const char *name, const char *v)
{
	struct event_field *f = field_add(ev, name, EVENT_F_STR);
	size_t n;

	if (!f)
		return;
	n = v ? strlen(v) : 0;
	if (n >= sizeof(f->v.str))
		n = sizeof(f->v.str) - 1;
	if (n)
		memcpy(f->v.str, v, n);
	f->v.str[n] = '\0';
}

struct event_ring *
event_ring_new(unsigned capacity)
{
	struct event_ring *r;
	unsigned n = 2;

	while (n < capacity && n < (1u << 20))
		n <<= 1;
	if (!(r = calloc(1, sizeof(*r) + (size_t)n * sizeof(r->slot[0]))))
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->mask = n - 1;
	r->next = 1;
	return r;
}

void
event_ring_free(struct event_ring *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

uint64_t
event_ring_post(struct event_ring *r, struct event *ev)
{
	struct timespec ts;
	uint64_t seq;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev->time_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	pthread_mutex_lock(&r->lock);
	seq = ev->seq = r->next++;
	r->slot[seq & r->mask] = *ev;
	pthread_mutex_unlock(&r->lock);
	return seq;
}

uint64_t
event_ring_next(struct event_ring *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->next;
	pthread_mutex_unlock(&r->lock);
	return n;
}

bool
event_ring_read(struct event_ring *r, uint64_t *cursor, struct event *out,
    uint64_t *lost)
{
	uint64_t oldest;
	bool got = false;

	*lost = 0;
	pthread_mutex_lock(&r->lock);
	/* The ring holds seqs [oldest, next). */
	oldest = r->next > (uint64_t)r->mask + 1 ? r->next - r->mask - 1 : 1;
	if (*cursor < oldest) {
		*lost = oldest - *cursor;
		*cursor = oldest;
	}
	if (*cursor < r->next) {
		*out = r->slot[*cursor & r->mask];
		++*cursor;
		got = true;
	}
	pthread_mutex_unlock(&r->lock);
	return got;
}

/* --- the daemon's ring ---------------------------------------------------- */

static struct event_ring *ring;
/* Atomic: a server thread may already poll event_fd() when the ring is
 * opened or closed (the daemon opens it first; tests do not). */
static _Atomic int ring_fd = -1;
static uint64_t posted;		/* atomic */

int
event_open(unsigned capacity)
{
	if (ring)
		return -EALREADY;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (!(ring = event_ring_new(capacity ? capacity : EVENT_RING_DEFAULT))) {
		close(fd);
		return -ENOMEM;
	}
	atomic_store(&ring_fd, fd);
	return 0;
}

void
event_close(void)
{
	event_ring_free(ring);
	ring = NULL;
	int fd = atomic_exchange(&ring_fd, -1);

	if (fd >= 0)
		close(fd);
}

int
event_fd(void)
{
	return atomic_load(&ring_fd);
}

void
event_post(struct event *ev)
{
	uint64_t one = 1;

	if (!ring)
		return;
	event_ring_post(ring, ev);
	__atomic_fetch_add(&posted, 1, __ATOMIC_RELAXED);
	/* Only fails when the counter is at its maximum: still readable. */
	(void)!write(ring_fd, &one, sizeof(one));
}

uint64_t
event_next(void)
{
	return ring ? event_ring_next(ring) : 1;
}

bool
event_read(uint64_t *cursor, struct event *out, uint64_t *lost)
{
	*lost = 0;
	return ring ? event_ring_read(ring, cursor, out, lost) : false;
}

void
event_route_restored(bool has_eni, uint64_t eni, const char *what)
{
	struct event ev;

	event_init(&ev, EVENT_ROUTE_RESTORED, has_eni, eni);
	event_str(&ev, "route", what);
	event_post(&ev);
}

uint64_t
event_posted(void)
{
	return __atomic_load_n(&posted, __ATOMIC_RELAXED);
}

