/*
 * Events for `gwlbctl monitor`: what happened to ENIs, links, hooks, routes
 * and the configuration, posted where it happens and kept in one bounded
 * ring that the control server reads for its subscribers.
 *
 * A leaf, so that every layer may post.  Posting never waits on a reader:
 * the ring overwrites its oldest event, and each reader holds only a
 * cursor (its own queue is the ring, bounded by the ring's size); a reader
 * that falls behind by more than the ring loses the oldest events and is
 * told how many.  Events are rare (no per-packet events): one mutex.
 */
#ifndef GWLBTUND_EVENT_H
#define GWLBTUND_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum event_type {
	EVENT_ENI_UP,		/* links made, routes installed */
	EVENT_ENI_DOWN,		/* torn down: reason */
	EVENT_HOOK_STARTED,	/* hook, pid */
	EVENT_HOOK_FINISHED,	/* hook, result, exit_status, duration_ms */
	EVENT_ROUTE_RESTORED,	/* a route or rule put back */
	EVENT_RP_FILTER_REVERTED, /* link, value */
	EVENT_LINK_RECREATED,	/* link: deleted behind our back, made again */
	EVENT_RELOAD,		/* result, routes */
	EVENT_LOST,		/* synthetic, for a reader: count */
	EVENT__MAX
};

const char *event_type_str(enum event_type t);

#define EVENT_FIELDS_MAX	6
#define EVENT_STR_MAX		128
/* Events the daemon keeps for its subscribers. */
#define EVENT_RING_DEFAULT	1024

enum event_ftype { EVENT_F_U64, EVENT_F_S64, EVENT_F_STR };

struct event_field {
	const char	*name;		/* a string literal */
	enum event_ftype type;
	union {
		uint64_t	u64;
		int64_t		s64;
		char		str[EVENT_STR_MAX];	/* cut to fit */
	} v;
};

struct event {
	uint64_t	seq;		/* set by the ring: 1, 2, ... */
	uint64_t	time_us;	/* CLOCK_REALTIME, set when posted */
	enum event_type	type;
	bool		has_eni;
	uint64_t	eni;
	unsigned	nfields;
	struct event_field f[EVENT_FIELDS_MAX];
};

/* Building one event on the stack; fields past EVENT_FIELDS_MAX are left out. */
void	 event_init(struct event *ev, enum event_type type, bool has_eni,
	    uint64_t eni);
void	 event_u64(struct event *ev, const char *name, uint64_t v);
void	 event_s64(struct event *ev, const char *name, int64_t v);
void	 event_str(struct event *ev, const char *name, const char *v);

/* A ring (capacity rounded up to a power of two, at least 2). */
struct event_ring;
struct event_ring *event_ring_new(unsigned capacity);
void	 event_ring_free(struct event_ring *r);
/* Copies ev in (seq and time_us set); returns its seq. */
uint64_t event_ring_post(struct event_ring *r, struct event *ev);
/* The seq the next post gets: a new reader's cursor (no history). */
uint64_t event_ring_next(struct event_ring *r);
/*
 * The reader at *cursor: true with the next event in *out and the cursor
 * advanced, false when there is nothing new.  *lost is the number of events
 * overwritten before this reader got them (0 mostly): they are skipped.
 */
bool	 event_ring_read(struct event_ring *r, uint64_t *cursor,
	    struct event *out, uint64_t *lost);

/*
 * The daemon's ring.  Until event_open() (and in unit tests of other
 * modules) posting does nothing.  event_fd() is readable after a post
 * (eventfd: read it to clear), -1 before event_open().
 */
int	 event_open(unsigned capacity);
void	 event_close(void);
int	 event_fd(void);
void	 event_post(struct event *ev);
uint64_t event_next(void);
bool	 event_read(uint64_t *cursor, struct event *out, uint64_t *lost);

/*
 * A route or rule of ours found missing from the kernel and put back: for
 * the kernel-state reconciliation in route.c to call where it restores one
 * (what: the route as text, e.g. "198.51.100.0/24 dev gwi-X table 100").
 */
void	 event_route_restored(bool has_eni, uint64_t eni, const char *what);

/* Events posted since start, for reports. */
uint64_t event_posted(void);

#endif
