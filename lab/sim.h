/*
 * gwlbsim internals: the pieces the subcommands share.  sim_util.c has the
 * small utilities (time, checksums, hashing, a pkt_key map, option parsing,
 * network namespaces); sim_wire.c builds and opens what touches the wire
 * (inner packets, the outer IPv4/UDP/GENEVE packet, raw, packet and sink
 * sockets); sim_check.c is the checker that judges what comes back from an
 * appliance; sim_send.c, sim_reflect.c and sim_bridge.c are subcommands.
 */
#ifndef GWLB_SIM_H
#define GWLB_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "geneve.h"
#include "pkt.h"

/*
 * Exit status of every subcommand (documented in gwlbsim --help):
 *   0  pass: everything checked was right
 *   1  fail: a check failed (mismatch, loss over the limit, nothing received)
 *   2  usage: bad option or argument
 *   3  error: the system refused something (socket, namespace, TUN, memory)
 */
#define SIM_EXIT_PASS	0
#define SIM_EXIT_FAIL	1
#define SIM_EXIT_USAGE	2
#define SIM_EXIT_ERROR	3

#define SIM_OUTER_LEN	(20 + 8)	/* outer IPv4 + UDP */
#define SIM_ENCAP_LEN	(SIM_OUTER_LEN + GENEVE_AWS_HDR_LEN)	/* 68 */
#define SIM_MTU		9001		/* GWLB-facing link, like AWS */
#define SIM_INNER_MAX	(SIM_MTU - SIM_ENCAP_LEN)	/* 8933 */
#define SIM_GWLB_MTU	8500		/* what GWLB itself carries */
#define SIM_FRAME_MAX	(SIM_MTU + 64)	/* receive buffers: MTU + link header */
#define SIM_BATCH_MAX	256

/* The subcommands (gwlbsim.c has the table). */
int	cmd_send(int argc, char **argv);
int	cmd_run(int argc, char **argv);
int	cmd_expect(int argc, char **argv);
int	cmd_reflect(int argc, char **argv);
int	cmd_bridge(int argc, char **argv);
int	cmd_tc_stats(int argc, char **argv);
/* The long name of option value c in a getopt_long table, for messages. */
struct option;
const char *cmd_optname(const struct option *lo, int c);

/* sim_util.c ------------------------------------------------------------ */

extern volatile int sim_stop;		/* set by SIGINT/SIGTERM */
void	sim_signals(void);

uint64_t sim_now_ns(void);
void	sim_sleep_until(uint64_t t_ns);

uint32_t sim_csum_add(uint32_t sum, const void *p, size_t len);
uint16_t sim_csum_fold(uint32_t sum);
/* Copy len bytes and return their sum, as sim_csum_add(0, src, len). */
uint32_t sim_csum_copy(void *dst, const void *src, size_t len);
/* Pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 (family 4) or IPv6. */
uint32_t sim_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst,
	    uint8_t proto, uint32_t len);
/* Fill in (or, with verify, check) the L4 checksum of an inner packet. */
int	sim_l4_csum(uint8_t *ip, size_t len, bool verify);

uint64_t sim_hash64(const void *p, size_t len, uint64_t seed);
uint64_t sim_rng(uint64_t *state);

void	sim_hex(FILE *f, const char *indent, const uint8_t *p, size_t len,
	    size_t max);
void	sim_hexstr(char *out, size_t outsz, const uint8_t *p, size_t len);

/* key or its reverse, whichever is smaller: the same for both directions */
void	sim_key_canon(const struct pkt_key *k, struct pkt_key *out);

/* Open addressing map from a pkt_key to a uint32_t; grows by doubling. */
struct sim_map {
	struct sim_slot	*slot;
	size_t		 cap;
	size_t		 n;
};
int	 sim_map_init(struct sim_map *m, size_t hint);
void	 sim_map_free(struct sim_map *m);
uint32_t *sim_map_get(const struct sim_map *m, const struct pkt_key *k);
int	 sim_map_put(struct sim_map *m, const struct pkt_key *k, uint32_t v);

/* Option values; each returns 0 or -EINVAL and never exits. */
int	sim_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int	sim_parse_range(const char *s, uint64_t min, uint64_t max,
	    uint64_t *lo, uint64_t *hi);
int	sim_parse_secs(const char *s, uint64_t *ns);
int	sim_parse_ip4(const char *s, uint32_t *be);

/* Run fn in another network namespace (a name under /run/netns or a path). */
int	sim_netns_enter(const char *ns, int *saved);
int	sim_netns_leave(int saved);

/* Print "gwlbsim CMD: message" (and strerror with _warn) on stderr. */
void	sim_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	sim_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern const char *sim_cmd;

/* sim_hist.c ------------------------------------------------------------ */

/*
 * Latency histogram, HdrHistogram's log-linear layout (sim_hist.c): fixed
 * size, exact below 128, at most 1/128 relative width above; values of
 * SIM_HIST_LIMIT (about 18 minutes in ns) and more share the last bucket
 * (min and max stay exact).
 */
#define SIM_HIST_SUB_BITS	7
#define SIM_HIST_LIMIT_BITS	40
#define SIM_HIST_LIMIT		((uint64_t)1 << SIM_HIST_LIMIT_BITS)
#define SIM_HIST_BUCKETS \
	((SIM_HIST_LIMIT_BITS - SIM_HIST_SUB_BITS + 1) << SIM_HIST_SUB_BITS)

struct sim_hist {
	uint64_t	count;
	uint64_t	min, max;
	uint64_t	sum;
	uint64_t	bucket[SIM_HIST_BUCKETS];
};

void	sim_hist_reset(struct sim_hist *h);
void	sim_hist_add(struct sim_hist *h, uint64_t v);
void	sim_hist_merge(struct sim_hist *dst, const struct sim_hist *src);
/* Bucket of a value, and the smallest and largest value a bucket holds. */
size_t	sim_hist_index(uint64_t v);
uint64_t sim_hist_lower(size_t i);
uint64_t sim_hist_upper(size_t i);
/*
 * The value at quantile ppm (parts per million: 500000 = p50, 999000 =
 * p99.9): the upper bound of the bucket holding the ceil(count * ppm /
 * 10^6)-th smallest sample, clamped to [min, max]; 0 when empty.
 */
uint64_t sim_hist_quantile(const struct sim_hist *h, uint32_t ppm);
/* The non-empty buckets as text ("lower_ns upper_ns count"), # comments. */
int	sim_hist_write(const struct sim_hist *h, FILE *f);

/* sim_wire.c ------------------------------------------------------------ */

/* What one simulated flow looks like on the wire. */
struct sim_flow {
	struct geneve_aws aws;
	uint8_t		family;		/* inner 4 or 6 */
	uint8_t		proto;		/* IPPROTO_TCP/UDP/ICMP(V6) */
	uint8_t		src[16];	/* inner addresses */
	uint8_t		dst[16];
	uint16_t	sport;		/* inner ports; ICMP echo id in sport */
	uint16_t	dport;
	uint32_t	outer_src;	/* GWLB address, network order */
	uint32_t	outer_dst;	/* appliance address, network order */
	uint16_t	outer_sport;	/* GWLB per-flow source port */
	uint16_t	outer_dport;	/* 6081 */
	uint32_t	tcp_seq;
	uint64_t	seq;		/* packets sent on this flow */
};

/* Smallest inner packet for a family and protocol (IPv4 UDP: 28 bytes). */
size_t	sim_inner_min(int family, int proto);

/*
 * Build the inner packet number seq of flow f, size bytes long (clamped
 * to sim_inner_min), into buf.  The sequence number is carried in the IPv4
 * id / IPv6 flow label and, when there is room, in a tagged payload, so a
 * packet can be told from its neighbours.  Returns the length.
 */
size_t	sim_build_inner(uint8_t *buf, size_t cap, struct sim_flow *f,
	    size_t size, uint8_t ttl);

/*
 * Fill in the outer IPv4 and UDP headers in front of a GENEVE payload that
 * is already at buf + SIM_OUTER_LEN.  udp_csum false leaves it 0.
 */
void	sim_outer_finish(uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
	    uint16_t sport, uint16_t dport, uint8_t ttl, uint16_t id,
	    bool udp_csum);

/* IPv4 header checksum of the header at p (ihl from p[0]). */
uint16_t sim_ip4_csum(const uint8_t *p);

int	sim_raw_open(size_t sndbuf);		/* IPPROTO_RAW, header included */
/*
 * Packet socket that sees IPv4/UDP datagrams to or from port (not later
 * fragments), on ifindex (0 = every link).  raw: frames with their link
 * header (SOCK_RAW) rather than from the IP header on (SOCK_DGRAM).
 */
int	sim_packet_open(int ifindex, uint16_t port, bool raw, bool outgoing,
	    size_t rcvbuf);
/*
 * Packet socket that sees what a UDP socket bound to local:port does not
 * get: IPv4/UDP datagrams from or to port (not later fragments) except
 * those to local:port.  For gwlbsim bridge, which reads its own datagrams
 * from such a UDP socket but must judge misaddressed ones too.
 */
int	sim_packet_open_stray(uint16_t port, uint32_t local, size_t rcvbuf);
/*
 * Bind UDP port so that datagrams sent to it do not draw ICMP port
 * unreachable, and attach a filter that drops them all (nobody reads it).
 * Returns the fd, -EADDRINUSE if someone else has it, or another -errno.
 */
int	sim_sink_open(uint16_t port);
/* The source address the kernel would pick for dst (network order). */
int	sim_route_src(uint32_t dst, uint32_t *src);

/* Batched reads from a packet socket (recvmmsg), with the aux data. */
struct sim_rx {
	int		 fd;
	unsigned	 batch;
	unsigned	 n;		/* datagrams in the last sim_rx_recv */
	uint8_t		*buf;
	struct mmsghdr	*msg;
	struct iovec	*iov;
	struct sockaddr_ll *sll;
	uint8_t		*ctl;
	int64_t		 mono_off;	/* CLOCK_MONOTONIC - CLOCK_REALTIME, ns */
};
struct sim_rx_pkt {
	uint8_t		*data;
	size_t		 len;
	int		 ifindex;
	bool		 outgoing;	/* we (this namespace) sent it */
	bool		 csum_ready;	/* UDP checksum final, not offloaded */
	uint64_t	 ts_ns;		/* kernel's receive time (monotonic), 0: none */
};
/*
 * Ask the kernel to timestamp what fd receives (SO_TIMESTAMPNS): the time
 * it reached this namespace, not when we got round to reading it, so our
 * own scheduling stays out of a round trip.  sim_rx_get gives it in ts_ns.
 */
int	sim_rx_timestamps(int fd);
int	sim_rx_init(struct sim_rx *rx, int fd, unsigned batch);
void	sim_rx_free(struct sim_rx *rx);
/* Wait up to timeout_ms (-1 forever, 0 not at all); count or -errno. */
int	sim_rx_recv(struct sim_rx *rx, int timeout_ms);
void	sim_rx_get(const struct sim_rx *rx, unsigned i, struct sim_rx_pkt *p);

/* sim_check.c ----------------------------------------------------------- */

/* How a returned inner packet must relate to what was sent. */
enum chk_inner {
	CHK_INNER_FORWARDED,	/* a packet we sent, TTL/hop limit same or -1 */
	CHK_INNER_REPLY,	/* a sane packet of a known flow, reversed */
	CHK_INNER_ANY,		/* either */
};

/* Why a returned packet was judged wrong; one packet can have several. */
enum chk_reason {
	CHK_OUTER_IP = 0,	/* outer IPv4 header malformed or fragmented */
	CHK_OUTER_IPCSUM,
	CHK_OUTER_TTL,		/* TTL 0 or 1 */
	CHK_OUTER_UDP,		/* UDP length wrong */
	CHK_OUTER_UDPCSUM,	/* neither 0 nor right */
	CHK_OUTER_SRC,		/* not the appliance address the flow went to */
	CHK_OUTER_DST,		/* not the GWLB address the flow came from */
	CHK_OUTER_SPORT,	/* not the GWLB source port of the flow */
	CHK_OUTER_DPORT,	/* not 6081 */
	CHK_GENEVE,		/* does not decode as GWLB GENEVE */
	CHK_ENI,
	CHK_ATTACHMENT,
	CHK_COOKIE,		/* not the latest cookie of the flow */
	CHK_GENEVE_HDR,		/* other header bytes differ */
	CHK_TRAILING,		/* bytes after the inner packet */
	CHK_UNKNOWN_FLOW,	/* inner 5-tuple of no flow sent */
	CHK_INNER,		/* inner not a packet we sent (forwarded) */
	CHK_INNER_TTL,		/* inner TTL neither same nor one less */
	CHK_NOT_REPLY,		/* --inner reply but a packet we sent came back */
	CHK_BAD_REPLY,		/* reply with a bad header or checksum */
	CHK_DUPLICATE,		/* the same sent packet came back twice */
	CHK__MAX
};

struct chk_opts {
	enum chk_inner	inner;
	uint16_t	port;		/* 6081 */
	uint64_t	grace_ns;	/* superseded headers accepted this long */
	size_t		window;		/* sent packets remembered (power of 2) */
};

struct chk_stats {
	uint64_t	sent;		/* GENEVE packets noted as sent */
	uint64_t	sent_bad;	/* noted but not GWLB GENEVE: ignored */
	uint64_t	received;	/* returned datagrams judged */
	uint64_t	ok;
	uint64_t	mismatched;
	uint64_t	duplicates;
	uint64_t	matched;	/* distinct sent packets returned */
	uint64_t	evicted;	/* left the window unreturned */
	uint64_t	csum_unverified; /* UDP checksum left to offload */
	uint64_t	bytes_sent;	/* outer bytes */
	uint64_t	bytes_received;
	uint64_t	flows;
	uint64_t	reasons[CHK__MAX];
	uint64_t	first_sent_ns, last_sent_ns;
	uint64_t	first_recv_ns, last_recv_ns;
};

struct chk;

const char *chk_reason_str(enum chk_reason r);
/* "forwarded", "reply" or "any" (--inner of run, expect and bridge): 0 or -EINVAL. */
int	chk_inner_parse(const char *s, enum chk_inner *out);
int	chk_new(const struct chk_opts *o, struct chk **out);
void	chk_free(struct chk *c);
/* A datagram that left for the appliance: outer IPv4 packet. */
void	chk_note_sent(struct chk *c, const uint8_t *ip, size_t len, uint64_t now);
/*
 * Judge a datagram that came back (outer IPv4 packet).  csum_ready false:
 * the UDP checksum was left to offload and cannot be checked.  Returns 0
 * when it passed, else a bit mask of (1 << enum chk_reason).
 */
uint32_t chk_returned(struct chk *c, const uint8_t *ip, size_t len,
	    bool csum_ready, uint64_t now);
const struct chk_stats *chk_stats(const struct chk *c);
/* Lost so far: sent packets not returned (forwarded) or sent - received. */
uint64_t chk_lost(const struct chk *c);
/* Every sent packet returned (forwarded mode); else received >= sent. */
bool	chk_complete(const struct chk *c);
/*
 * Also reports the round-trip latency of the packets that came back as
 * sent and passed (forwarded; a reply of the appliance's own has none):
 * text "latency (us, N round trips): p50 .." and JSON "latency_samples"
 * and "latency_us": {"p50","p90","p99","p999","max","min","mean"} or null.
 */
void	chk_report(const struct chk *c, FILE *f, bool json, const char *extra);
/* The histogram of those round trips, in ns (the now of chk_returned less
 * the now of chk_note_sent). */
const struct sim_hist *chk_latency(const struct chk *c);

/* sim_offload.c --------------------------------------------------------- */

struct virtio_net_hdr;
#define SIM_VNET_LEN	10	/* struct virtio_net_hdr, TUN's default size */
#define SIM_COAL_MAX	64	/* segments glued into one TUN write */

/* One packet cut out of a super-packet. */
struct sim_seg {
	uint8_t		*data;
	size_t		 len;
};

/*
 * Cut pkt (len bytes, read from a TUN link with vnet header vh) into the
 * packets a NIC would send: TCP (TSO) into MSS-sized segments, UDP (USO)
 * into datagrams, each with its IPv4 length, id and header checksum or
 * IPv6 payload length, its sequence number, PSH/FIN on the last only and a
 * finished checksum; a packet with a partial checksum and no GSO gets its
 * checksum finished.  The packets go one after the other into out (cap
 * bytes), each with room free bytes in front of it, and seg[] (maxseg)
 * says where.  Returns how many, -EPROTO (not something to cut) or
 * -ENOSPC.
 */
int	sim_gso_segment(const struct virtio_net_hdr *vh, const uint8_t *pkt,
	    size_t len, uint8_t *out, size_t cap, size_t room,
	    struct sim_seg *seg, unsigned maxseg);

/*
 * Consecutive TCP segments of one connection glued into one super-packet
 * for one TUN write, as GRO would: the first segment's headers (changed in
 * place by sim_coal_finish), then the payloads of the others, by iovec (the
 * segments must stay where they are until written).
 */
struct sim_coal {
	struct iovec	 iov[SIM_COAL_MAX];
	unsigned	 n;		/* segments held */
	bool		 closed;	/* PSH or a short segment: no more */
	uint8_t		*first;
	size_t		 hlen, l3len, mss, total;
	int		 family;
	uint32_t	 next_seq;
};
void	sim_coal_reset(struct sim_coal *c);
/*
 * Take pkt into the burst held: true if it was taken, false if it cannot
 * join (not a TCP data segment with only ACK/PSH, another flow, a gap, a
 * full or closed burst): write what is held, reset, and try again; false
 * on an empty burst means pkt goes alone.
 */
bool	sim_coal_add(struct sim_coal *c, uint8_t *pkt, size_t len);
/*
 * Fill vh for what is held (a TCPV4/TCPV6 GSO header with a partial
 * checksum for two or more segments, an empty one for one) and return the
 * number of iovecs in c->iov to write after it.
 */
unsigned sim_coal_finish(struct sim_coal *c, struct virtio_net_hdr *vh);

#endif
