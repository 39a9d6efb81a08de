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

#define CACHELINE	64

/* Statistics a thread keeps for itself; summed on read. */
struct thread_stats {
	_Atomic uint64_t packets;	/* rx: datagrams received; tun: replies read */
	_Atomic uint64_t bytes;
	_Atomic uint64_t batches;	/* recvmmsg / read rounds that returned data */
	_Atomic uint64_t delivered;	/* rx: written to a gwi- link; tun: sent to GWLB */
	_Atomic uint64_t delivered_bytes; /* their inner bytes */
	_Atomic uint64_t drops[DROP__MAX];
	_Atomic uint64_t kernel_drops;	/* SO_RXQ_OVFL: the socket's own drops */
	_Atomic uint64_t gso_super;	/* tun: super-packets read (TUN offloads) */
	_Atomic uint64_t gso_segments;	/* tun: their segments sent to GWLB */
} __attribute__((aligned(CACHELINE)));

/* A sum of thread counters (stats.c). */
struct stats_snap {
	uint64_t	packets, bytes, batches, delivered, delivered_bytes, kernel_drops, drops;
	uint64_t	gso_super, gso_segments;
	uint64_t	drop[DROP__MAX];
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

#endif
