/*
 * Small utilities for gwlbsim: clocks, Internet checksums, a fast hash and
 * random numbers, hex dumps, a map keyed by inner 5-tuples, option value
 * parsing that never exits, and entering another network namespace.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "sim.h"

volatile int sim_stop;
const char *sim_cmd = "gwlbsim";

static void
sim_on_signal(int sig)
{
	(void)sig;
	sim_stop = 1;
}

void
sim_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sim_on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocked recv or poll returns EINTR and we stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

uint64_t
sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
sim_sleep_until(uint64_t t_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t_ns / 1000000000u),
		.tv_nsec = (long)(t_ns % 1000000000u),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	    !sim_stop)
		;
}

/*
 * One's complement sum, 32 bits at a time in host order: the folded result
 * swapped to network order is the sum of big-endian 16-bit words (RFC 1071,
 * byte order independence).  An odd last byte is the high half of a word.
 */
uint32_t
sim_csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t s = 0, w[4], c = 0;
	uint32_t v;
	uint16_t h;

	/* 64-bit words, the carries counted apart and added back */
	while (len >= 32) {
		memcpy(w, b, 32);
		s += w[0];
		c += s < w[0];
		s += w[1];
		c += s < w[1];
		s += w[2];
		c += s < w[2];
		s += w[3];
		c += s < w[3];
		b += 32;
		len -= 32;
	}
	s = (s & 0xffffffffu) + (s >> 32) + c;
	while (len >= 4) {
		memcpy(&v, b, 4);
		s += v;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, b, 2);
		s += h;
		b += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { b[0], 0 };

		memcpy(&h, last, 2);
		s += h;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	h = (uint16_t)s;
	s = (uint64_t)sum + ntohs(h);
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/*
 * memcpy and sim_csum_add(0, src, len) in one pass over the bytes (the
 * segments of a super-packet are copied and summed anyway).
 */
uint32_t
sim_csum_copy(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *b = src;
	size_t n = len & ~(size_t)31;
	uint64_t s = 0, c = 0, w[4];

	for (size_t i = 0; i < n; i += 32) {
		memcpy(w, b + i, 32);
		memcpy(d + i, w, 32);
		s += w[0];
		c += s < w[0];
		s += w[1];
		c += s < w[1];
		s += w[2];
		c += s < w[2];
		s += w[3];
		c += s < w[3];
	}
	s = (s & 0xffffffffu) + (s >> 32) + c;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	memcpy(d + n, b + n, len - n);
	return sim_csum_add(ntohs((uint16_t)s), b + n, len - n);
}

/* One's complement of the folded sum; the value to store in a header. */
uint16_t
sim_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t
sim_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst,
    uint8_t proto, uint32_t len)
{
	uint32_t s;
	uint8_t tail[8];

	s = sim_csum_add(0, src, family == 4 ? 4 : 16);
	s = sim_csum_add(s, dst, family == 4 ? 4 : 16);
	if (family == 4) {
		tail[0] = 0;
		tail[1] = proto;
		tail[2] = (uint8_t)(len >> 8);
		tail[3] = (uint8_t)len;
		return sim_csum_add(s, tail, 4);
	}
	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = proto;
	return sim_csum_add(s, tail, 8);
}

/*
 * The inner packets gwlbsim makes have no IPv4 options and no IPv6
 * extension headers, and neither do the replies it checks; anything else
 * is left alone (returns 0 when filling, -EPROTO when verifying).
 */
int
sim_l4_csum(uint8_t *ip, size_t len, bool verify)
{
	const uint8_t *src, *dst;
	uint8_t *l4, proto;
	size_t hl, l4len;
	int family = ip[0] >> 4;
	uint32_t s;
	size_t off;

	if (family == 4) {
		hl = (size_t)(ip[0] & 0x0f) * 4;
		if (len < hl || (ip[6] & 0x3f) || ip[7])
			return verify ? -EPROTO : 0;	/* fragments: skip */
		proto = ip[9];
		src = ip + 12;
		dst = ip + 16;
	} else {
		hl = 40;
		proto = ip[6];
		src = ip + 8;
		dst = ip + 24;
	}
	if (len < hl)
		return -EPROTO;
	l4 = ip + hl;
	l4len = len - hl;
	switch (proto) {
	case IPPROTO_TCP:
		off = 16;
		break;
	case IPPROTO_UDP:
		off = 6;
		break;
	case IPPROTO_ICMP:
		off = 2;
		break;
	case IPPROTO_ICMPV6:
		off = 2;
		break;
	default:
		return 0;
	}
	if (l4len < off + 2)
		return -EPROTO;
	if (proto == IPPROTO_ICMP)
		s = 0;
	else
		s = sim_csum_pseudo(family, src, dst, proto, (uint32_t)l4len);
	if (verify) {
		if (proto == IPPROTO_UDP && family == 4 &&
		    l4[off] == 0 && l4[off + 1] == 0)
			return 0;	/* no checksum: allowed over IPv4 */
		return sim_csum_fold(sim_csum_add(s, l4, l4len)) == 0 ? 0 : -EBADMSG;
	}
	l4[off] = l4[off + 1] = 0;
	s = sim_csum_fold(sim_csum_add(s, l4, l4len));
	if (proto == IPPROTO_UDP && s == 0)
		s = 0xffff;
	l4[off] = (uint8_t)(s >> 8);
	l4[off + 1] = (uint8_t)s;
	return 0;
}

static inline uint64_t
rotl64(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

/*
 * Multiply-rotate hash over 8-byte words, four independent lanes with one
 * multiply per word so that they overlap (the checker hashes every packet
 * twice, this is its main cost), then a full mix; good enough to tell
 * packets apart, not meant to resist anyone.
 */
static inline uint64_t
hash_round(uint64_t h, uint64_t w)
{
	h ^= rotl64(w * 0x87c37b91114253d5ULL, 31) * 0x4cf5ad432745937fULL;
	return rotl64(h, 27) * 5 + 0x52dce729;
}

static inline uint64_t
lane(uint64_t l, uint64_t w)
{
	return rotl64((l ^ w) * 0x9fb21c651e98df25ULL, 29);
}

uint64_t
sim_hash64(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
	uint64_t l0 = h, l1 = h ^ 0x5bd1e995, l2 = h ^ 0x27d4eb2f165667c5ULL,
	    l3 = h ^ 0x94d049bb133111ebULL;
	uint64_t w[4];

	while (len >= 32) {
		memcpy(w, b, 32);
		l0 = lane(l0, w[0]);
		l1 = lane(l1, w[1]);
		l2 = lane(l2, w[2]);
		l3 = lane(l3, w[3]);
		b += 32;
		len -= 32;
	}
	h = hash_round(hash_round(hash_round(hash_round(h, l0), l1), l2), l3);
	while (len >= 8) {
		memcpy(w, b, 8);
		h = hash_round(h, w[0]);
		b += 8;
		len -= 8;
	}
	w[0] = 0;
	memcpy(w, b, len);
	h ^= rotl64(w[0] * 0x87c37b91114253d5ULL, 31) * 0x4cf5ad432745937fULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* splitmix64: a seedable generator, so runs can be repeated. */
uint64_t
sim_rng(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
sim_hex(FILE *f, const char *indent, const uint8_t *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	for (size_t i = 0; i < n; i += 16) {
		fprintf(f, "%s%04zx:", indent, i);
		for (size_t j = i; j < i + 16 && j < n; j++)
			fprintf(f, "%s%02x", j % 8 == 0 ? "  " : " ", p[j]);
		fputc('\n', f);
	}
	if (n < len)
		fprintf(f, "%s... (%zu bytes in all)\n", indent, len);
}

void
sim_hexstr(char *out, size_t outsz, const uint8_t *p, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 3 <= outsz; i++) {
		out[o++] = hx[p[i] >> 4];
		out[o++] = hx[p[i] & 15];
	}
	if (outsz)
		out[o < outsz ? o : outsz - 1] = '\0';
}

void
sim_key_canon(const struct pkt_key *k, struct pkt_key *out)
{
	struct pkt_key r;

	pkt_key_reverse(k, &r);
	r.pad[0] = r.pad[1] = 0;
	if (memcmp(k, &r, sizeof(r)) <= 0) {
		*out = *k;
		out->pad[0] = out->pad[1] = 0;
	} else {
		*out = r;
	}
}

struct sim_slot {
	struct pkt_key	key;
	uint32_t	val;
	uint32_t	used;
};

int
sim_map_init(struct sim_map *m, size_t hint)
{
	size_t cap = 64;

	while (cap < hint * 2)
		cap <<= 1;
	m->slot = calloc(cap, sizeof(*m->slot));
	if (m->slot == NULL)
		return -ENOMEM;
	m->cap = cap;
	m->n = 0;
	return 0;
}

void
sim_map_free(struct sim_map *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n = 0;
}

static size_t
sim_map_find(const struct sim_map *m, const struct pkt_key *k)
{
	size_t i = sim_hash64(k, sizeof(*k), 0x5eed) & (m->cap - 1);

	while (m->slot[i].used && memcmp(&m->slot[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

uint32_t *
sim_map_get(const struct sim_map *m, const struct pkt_key *k)
{
	size_t i = sim_map_find(m, k);

	return m->slot[i].used ? &m->slot[i].val : NULL;
}

int
sim_map_put(struct sim_map *m, const struct pkt_key *k, uint32_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct sim_map big;

		if (sim_map_init(&big, m->cap) < 0)
			return -ENOMEM;
		for (size_t j = 0; j < m->cap; j++) {
			if (!m->slot[j].used)
				continue;
			i = sim_map_find(&big, &m->slot[j].key);
			big.slot[i] = m->slot[j];
			big.n++;
		}
		free(m->slot);
		*m = big;
	}
	i = sim_map_find(m, k);
	if (!m->slot[i].used) {
		m->slot[i].key = *k;
		m->slot[i].used = 1;
		m->n++;
	}
	m->slot[i].val = v;
	return 0;
}

int
sim_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "N" or "LO-HI" */
int
sim_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *lo,
    uint64_t *hi)
{
	char buf[64];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash == NULL) {
		if (sim_parse_u64(buf, min, max, lo) < 0)
			return -EINVAL;
		*hi = *lo;
		return 0;
	}
	*dash = '\0';
	if (sim_parse_u64(buf, min, max, lo) < 0 ||
	    sim_parse_u64(dash + 1, min, max, hi) < 0 || *hi < *lo)
		return -EINVAL;
	return 0;
}

/* Seconds as a decimal ("2", "0.5"), into nanoseconds. */
int
sim_parse_secs(const char *s, uint64_t *ns)
{
	double v;
	char *end;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end != '\0' || !(v >= 0) || v > 86400.0 * 365)
		return -EINVAL;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

int
sim_parse_ip4(const char *s, uint32_t *be)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*be = a.s_addr;
	return 0;
}

int
sim_netns_enter(const char *ns, int *saved)
{
	char path[PATH_MAX];
	int fd, self, err;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		close(self);
		return err;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		err = -errno;
		close(fd);
		close(self);
		return err;
	}
	close(fd);
	*saved = self;
	return 0;
}

int
sim_netns_leave(int saved)
{
	int err = 0;

	if (setns(saved, CLONE_NEWNET) < 0)
		err = -errno;
	close(saved);
	return err;
}

static void
sim_vwarn(int err, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "gwlbsim %s: %s: %s\n", sim_cmd, msg, strerror(err));
	else
		fprintf(stderr, "gwlbsim %s: %s\n", sim_cmd, msg);
}

void
sim_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	sim_vwarn(err, fmt, ap);
	va_end(ap);
	errno = err;
}

void
sim_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sim_vwarn(0, fmt, ap);
	va_end(ap);
}
