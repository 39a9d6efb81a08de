/*
 * The flow table of one ENI: inner 5-tuple -> the GENEVE header GWLB sent
 * with that flow and the outer addresses and ports to answer on.
 *
 * Receive workers learn (insert or refresh) on every inbound packet; tunnel
 * workers look replies up, in either orientation (a reply matches its
 * reversed tuple, a forwarded packet matches as is).  Readers take no lock:
 * buckets are lists of atomic pointers, a header is immutable once
 * published and replaced whole when it changes (a new cookie for a reused
 * 5-tuple is used from the next reply on).  What is unlinked goes to the
 * retire callback, which must free it only when no reader can hold it (the
 * daemon uses QSBR; single-threaded tests free at once).  Writers lock one
 * stripe of buckets.  The bucket index is symmetric in source and
 * destination, so both orientations live in one bucket.
 *
 * Memory: an entry is two allocations, struct flow (64 bytes) and its
 * header copy (16 + the GENEVE header: 56 bytes with GWLB's 40), about 144
 * bytes of heap with glibc, plus 2 to 4 bytes of bucket array per entry at
 * the bound (buckets are a quarter of the bound, 8 bytes each): about 146
 * to 148 bytes per flow, 9.1 MiB for 65536.
 */
#ifndef GWLB_FLOW_H
#define GWLB_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

struct flow_hdr {
	uint32_t	gwlb_addr;	/* network order: GWLB's address */
	uint32_t	local_addr;	/* network order: the address GWLB sent to */
	uint16_t	gwlb_port;	/* network order: GWLB's source port */
	uint16_t	local_port;	/* network order: our GENEVE port */
	uint16_t	len;		/* GENEVE header length */
	uint8_t		geneve[];	/* the header exactly as received */
};

struct flow_table;

/* Called with everything the table unlinks; see above. */
void flow_set_retire(void (*retire)(void *ptr));
/* Idle timeouts: TCP, and everything else. */
void flow_set_timeouts(uint64_t tcp_ns, uint64_t other_ns);

struct flow_table *flow_table_new(unsigned max_entries);
/* Frees the table and every entry now: no reader may be left. */
void flow_table_free(struct flow_table *t);

/*
 * Insert or refresh the flow of an inbound packet.  Returns 1 for a new
 * entry, 0 for a refresh, -ENOMEM when no memory or nothing evictable.
 * At the size bound the least recently seen entry of a small sample is
 * evicted (counted in flow_stats).
 */
int flow_learn(struct flow_table *t, const struct pkt_key *k,
    const struct flow_hdr *h, uint64_t now);

/*
 * The header to answer a packet with key k on (k as is, or reversed), or
 * NULL.  Never returns an entry idle past its timeout.  Refreshes the
 * entry's last-seen time.  The pointer stays valid until the caller's next
 * quiescent point.
 */
const struct flow_hdr *flow_lookup(struct flow_table *t, const struct pkt_key *k,
    uint64_t now);

/* Unlink up to `budget` buckets' worth of expired entries; returns how many. */
unsigned flow_expire(struct flow_table *t, uint64_t now, unsigned budget);
/* Unlink everything; returns how many. */
unsigned flow_flush(struct flow_table *t);

struct flow_stats {
	uint64_t	entries;
	uint64_t	inserts;
	uint64_t	evictions;
	uint64_t	expired;
	uint64_t	refused;	/* full and nothing evictable, or ENOMEM */
};
void flow_table_stats(const struct flow_table *t, struct flow_stats *out);

/*
 * Visit live entries; stop when fn returns false.  Takes no lock: the
 * caller is a reader as for flow_lookup (what it is handed stays valid
 * until its next quiescent point).  An entry learnt or unlinked during the
 * walk may or may not be visited; none twice.
 */
void flow_foreach(struct flow_table *t, uint64_t now,
    bool (*fn)(const struct pkt_key *k, const struct flow_hdr *h,
    uint64_t idle_ns, void *arg), void *arg);

/* Number of buckets a table of max_entries gets (for the documentation). */
unsigned flow_buckets_for(unsigned max_entries);

#endif
