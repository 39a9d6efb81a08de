/*
 * Counters of the data path.  Each is written only by the thread that owns
 * it (a relaxed load and store: no locked instruction on the hot path) and
 * summed by readers (stats.c).  A leaf: it depends only on drop.h.
 */
#ifndef GWLBTUND_COUNTERS_H
#define GWLBTUND_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "drop.h"
#include "gro.h"

#define CACHELINE	64

/* Receive-side coalescing (--offload; lib/gro.h), rx workers only. */
struct gro_counters {
	_Atomic uint64_t buffers;	/* UDP GRO buffers: several datagrams in one read */
	_Atomic uint64_t coalesced;	/* segments written inside super-packets */
	_Atomic uint64_t super;		/* super-packets written */
	_Atomic uint64_t refused[GRO_R__MAX];	/* segments not merged, by reason */
};

/*
 * The return path's packet socket (--offload, reply.c): a super-packet's
 * segments sent as one UDP GSO write, or why they went by the raw socket.
 */
enum uso_fallback {
	USO_FB_UNRESOLVED,	/* no route, next hop's MAC not known, no socket */
	USO_FB_NOT_ETHER,	/* egress link without Ethernet addresses */
	USO_FB_TOO_BIG,		/* over 64 KB, a datagram over the link MTU, too many */
	USO_FB_ONE_SEGMENT,	/* a super-packet of one segment */
	USO_FB_PARTIAL,		/* a segment of it was dropped */
	USO_FB_SEND,		/* the packet socket refused it */
	USO_FB_NO_KERNEL,	/* the kernel has no UDP GSO in vnet headers (< 6.2) */
	USO_FB__MAX
};

static inline const char *
uso_fallback_name(int r)
{
	static const char *const names[] = {
		[USO_FB_UNRESOLVED] = "unresolved",
		[USO_FB_NOT_ETHER] = "not-ethernet",
		[USO_FB_TOO_BIG] = "too-big",
		[USO_FB_ONE_SEGMENT] = "one-segment",
		[USO_FB_PARTIAL] = "partial",
		[USO_FB_SEND] = "send-error",
		[USO_FB_NO_KERNEL] = "no-kernel-uso",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == USO_FB__MAX, "uso names");

	return names[r];
}

/* Statistics a thread keeps for itself; summed on read. */
struct thread_stats {
	_Atomic uint64_t packets;	/* rx: datagrams received; tun: replies read */
	_Atomic uint64_t bytes;
	_Atomic uint64_t batches;	/* recvmmsg / read rounds that returned data */
	_Atomic uint64_t delivered;	/* rx: written to a gwi- link; tun: sent to GWLB */
	_Atomic uint64_t delivered_bytes; /* their inner bytes */
	_Atomic uint64_t drops[DROP__MAX];
	_Atomic uint64_t kernel_drops;	/* SO_MEMINFO: the socket's own drops */
	_Atomic uint64_t gso_super;	/* tun: super-packets read (TUN offloads) */
	_Atomic uint64_t gso_segments;	/* tun: their segments sent to GWLB */
	_Atomic uint64_t uso_super;	/* tun: super-packets sent by the packet socket */
	_Atomic uint64_t uso_segments;	/* tun: the segments they carried */
	_Atomic uint64_t uso_fallback[USO_FB__MAX];	/* tun: super-packets sent raw */
	struct gro_counters gro;
} __attribute__((aligned(CACHELINE)));

struct gro_snap {
	uint64_t	buffers, coalesced, super, refused[GRO_R__MAX];
};

/* A sum of thread counters (stats.c). */
struct stats_snap {
	uint64_t	packets, bytes, batches, delivered, delivered_bytes, kernel_drops, drops;
	uint64_t	gso_super, gso_segments;
	uint64_t	uso_super, uso_segments, uso_fallback[USO_FB__MAX];
	uint64_t	drop[DROP__MAX];
	struct gro_snap	gro;
};

/* Per-ENI counters, one slot per thread. */
struct eni_stats {
	_Atomic uint64_t pkts_in;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t pkts_out;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t drops;
	_Atomic uint64_t last_ns;	/* monotonic, last packet either way */
} __attribute__((aligned(CACHELINE)));

#define STAT_ADD(field, v) \
	atomic_store_explicit(&(field), atomic_load_explicit(&(field), \
	    memory_order_relaxed) + (v), memory_order_relaxed)
#define STAT_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* Read c; add (r - base) to out (stats.c's sums and resets). */
static inline void
gro_snap_read(const struct gro_counters *c, struct gro_snap *out)
{
	out->buffers = STAT_GET(c->buffers);
	out->coalesced = STAT_GET(c->coalesced);
	out->super = STAT_GET(c->super);
	for (int i = 0; i < GRO_R__MAX; i++)
		out->refused[i] = STAT_GET(c->refused[i]);
}

static inline void
gro_snap_add(struct gro_snap *out, const struct gro_snap *r, const struct gro_snap *base)
{
	out->buffers += r->buffers - base->buffers;
	out->coalesced += r->coalesced - base->coalesced;
	out->super += r->super - base->super;
	for (int i = 0; i < GRO_R__MAX; i++)
		out->refused[i] += r->refused[i] - base->refused[i];
}

#endif
