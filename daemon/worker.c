/*
 * The data path.  Receive workers each own a SO_REUSEPORT UDP socket and
 * loop on recvmmsg(MSG_WAITFORONE): no select(), one syscall per batch.  A
 * datagram is decoded in place, its ENI found without a lock, and its inner
 * packet written to this worker's own queue of the ENI's gwi- link.  With
 * --offload on, a read may be a UDP GRO buffer of several datagrams, and
 * the inner TCP segments of a round that follow each other are written as
 * one GSO super-packet (lib/gro.h).
 * Tunnel workers read what the kernel sends out of the gwi-/gwo- queues
 * they are given (every queue is read by someone: the kernel spreads
 * packets over all attached queues by flow hash) and hand it to the return
 * path.
 *
 * Counters are written only by the thread that owns them (relaxed stores
 * to its own cache lines) and summed by readers.  SO_RCVTIMEO bounds every
 * blocking call so that a stop request is seen within a fraction of a second.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "eni_table.h"
#include "gro.h"
#include "qsbr.h"
#include "state.h"
#include "tun.h"
#include "worker.h"
#include "log.h"
#include "reply.h"

#define RX_BUF_SIZE	16384	/* > GWLB's 8500 MTU + GENEVE; larger is MSG_TRUNC */
#define RX_GRO_BUF_SIZE	65536	/* --offload: a UDP GRO buffer holds up to 64 KB */
/* Receive buffers lie this much further apart than their size: at a
 * power-of-two stride the same bytes of every buffer share a few cache
 * sets, and a batch's datagrams evict each other before they are written
 * on to TUN. */
#define RX_BUF_SKEW	64
#define STOP_POLL_MS	200
#define MEMINFO_NS	1000000000ull	/* how often the socket's drops are read */

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef SO_BUSY_POLL
#define SO_BUSY_POLL 46
#endif

static struct log_rl rl_drop = LOG_RL_INIT(10, 10);
/* debugdetail's dumps of datagrams received, as upstream's "GWLB Packet". */
static struct log_rl rl_dump = LOG_RL_INIT(1, 20);

static void
worker_name(struct worker *w)
{
	char name[16];
	const char *k = w->kind == WORKER_RX ? "U" : "T";

	if (w->cpu >= 0)
		snprintf(name, sizeof(name), "gwlbtun %sA%03d", k, w->cpu % 1000);
	else
		snprintf(name, sizeof(name), "gwlbtun %s%03u", k, w->kidx % 1000);
	pthread_setname_np(pthread_self(), name);
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_msg(LOG_CORE, LOG_IMPORTANT, "%s: cannot pin to CPU %d", name, w->cpu);
	}
	atomic_store_explicit(&w->tid, (pid_t)syscall(SYS_gettid), memory_order_relaxed);
}

/*
 * One received datagram, up to its ENI: NULL when it is dropped here
 * (counted).  *state is the ENI's state as read once for this datagram.
 */
static struct eni *
rx_decode(struct worker *w, const uint8_t *buf, size_t len, const struct sockaddr_in *src,
    uint64_t now, struct geneve_pkt *g, int *state)
{
	struct thread_stats *ts = &w->stats;
	enum geneve_err gerr;
	struct eni *e;

	if (!conf_origin_allowed(&conf, src->sin_addr.s_addr)) {
		STAT_ADD(ts->drops[DROP_ORIGIN], 1);
		return NULL;
	}
	gerr = geneve_decode(buf, len, g);
	if (gerr != GENEVE_OK) {
		STAT_ADD(ts->drops[drop_from_geneve(gerr)], 1);
		if (log_enabled(LOG_GENEVE, LOG_DEBUG)) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &src->sin_addr, a, sizeof(a));
			log_rl(&rl_drop, LOG_GENEVE, LOG_DEBUG, "dropped %zu bytes from %s:%u: %s",
			    len, a, ntohs(src->sin_port), geneve_err_str(gerr));
		}
		return NULL;
	}
	e = eni_lookup(g->aws.eni_id);
	if (!e) {
		e = eni_get_or_create(g->aws.eni_id, g->aws.attachment_id, w->idx, ts);
		if (!e)
			return NULL;		/* counted */
	}
	*state = atomic_load_explicit(&e->state, memory_order_acquire);
	{
		struct eni_stats *es = &e->stats[w->idx];

		STAT_ADD(es->pkts_in, 1);
		STAT_ADD(es->bytes_in, g->inner_len);
		atomic_store_explicit(&es->last_ns, now, memory_order_relaxed);
	}
	return e;
}

/*
 * Write one inner packet (not coalesced) as its ENI's state says.  buf is
 * its datagram, g what was decoded of it: the GENEVE header in front of
 * the inner packet is not needed any more and takes the vnet header.
 */
static void
rx_deliver(struct worker *w, struct eni *e, int state, uint8_t *buf,
    const struct geneve_pkt *g)
{
	struct thread_stats *ts = &w->stats;
	size_t off = (size_t)(g->inner - buf);

	switch (state) {
	case ENI_UP:
		if (off >= TUN_VNET_HDR_LEN)
			eni_deliver_room(e, w->idx, e->qfd_in[w->kidx], buf + off, g->inner_len,
			    ts);
		else
			eni_deliver(e, w->idx, e->qfd_in[w->kidx], g->inner, g->inner_len, ts);
		break;
	case ENI_PENDING:
		eni_backlog_or_deliver(e, w->idx, w->kidx, g->inner, g->inner_len, ts);
		break;
	case ENI_FAILED:
		STAT_ADD(ts->drops[DROP_ENI_FAILED], 1);
		STAT_ADD(e->stats[w->idx].drops, 1);
		eni_drop_count(e, DROP_ENI_FAILED, 1);
		break;
	default:
		STAT_ADD(ts->drops[DROP_ENI_CLOSING], 1);
		STAT_ADD(e->stats[w->idx].drops, 1);
		eni_drop_count(e, DROP_ENI_CLOSING, 1);
		break;
	}
}

/* One received datagram, --offload off: written at once. */
static void
rx_one(struct worker *w, uint8_t *buf, size_t len, const struct sockaddr_in *src,
    const struct in_addr *dst, uint64_t now)
{
	struct geneve_pkt g;
	struct eni *e;
	int state;

	e = rx_decode(w, buf, len, src, now, &g, &state);
	if (!e)
		return;
	if (!conf.no_return)
		reply_learn(e, w, &g, buf, src, dst, now);
	rx_deliver(w, e, state, buf, &g);
}

/*
 * --offload on: the datagrams of a receive round are decoded into rx_gro
 * and handed to the coalescer (lib/gro.h), then written item by item: a
 * super-packet with one writev, anything else as rx_one() would.
 */
struct rx_meta {
	struct eni	*e;
	int		state;
	uint8_t		*buf;		/* the GENEVE header */
	const struct sockaddr_in *src;
	struct in_addr	dst;
	struct geneve_pkt g;
};

struct rx_gro {
	struct gro	*gro;
	struct rx_meta	meta[GRO_BATCH_MAX];
	struct iovec	iov[2 + GRO_MAX_SEGS];
};

static void
rx_gro_flush(struct worker *w, struct rx_gro *rg, uint64_t now)
{
	struct thread_stats *ts = &w->stats;
	unsigned n = gro_finish(rg->gro);

	for (unsigned i = 0; i < n; i++) {
		const struct gro_item *it = gro_item(rg->gro, i);
		struct rx_meta *m = &rg->meta[it->first];
		unsigned iovcnt = 2;
		size_t bytes = 0;

		/* One learn per super-packet: its segments share flow and header. */
		if (!conf.no_return)
			reply_learn(m->e, w, &m->g, m->buf, m->src, &m->dst, now);
		if (it->nsegs == 1) {
			rx_deliver(w, m->e, m->state, m->buf, &m->g);
			continue;
		}
		rg->iov[0] = (struct iovec){ (void *)(uintptr_t)&it->vnet, sizeof(it->vnet) };
		rg->iov[1] = (struct iovec){ (void *)(uintptr_t)it->hdr, it->hdr_len };
		for (unsigned x = it->first; x != GRO_NONE; x = gro_next(rg->gro, x)) {
			size_t len, off;
			const uint8_t *p = gro_pkt(rg->gro, x, &len, &off);

			rg->iov[iovcnt++] = (struct iovec){ (void *)(uintptr_t)(p + off), len - off };
			bytes += len;
		}
		if (eni_deliver_gso(m->e, w->idx, m->e->qfd_in[w->kidx], rg->iov, iovcnt,
		    it->nsegs, bytes, ts) == 0) {
			STAT_ADD(ts->gro.super, 1);
			STAT_ADD(ts->gro.coalesced, it->nsegs);
		}
	}
	for (int r = 0; r < GRO_R__MAX; r++) {
		unsigned c = gro_refused(rg->gro, (enum gro_refuse)r);

		if (c)
			STAT_ADD(ts->gro.refused[r], c);
	}
	gro_reset(rg->gro);
}

/* One datagram (of a GRO buffer perhaps) into the round's batch. */
static void
rx_gro_add(struct worker *w, struct rx_gro *rg, uint8_t *buf, size_t len,
    const struct sockaddr_in *src, const struct in_addr *dst, uint64_t now)
{
	struct rx_meta *m;
	struct geneve_pkt g;
	struct eni *e;
	int state, idx;
	bool merge;

	e = rx_decode(w, buf, len, src, now, &g, &state);
	if (!e)
		return;
	/* Only an ENI that is up and has vnet queues takes super-packets;
	 * the others' packets keep their place, unmerged. */
	merge = state == ENI_UP && e->vnet;
	idx = gro_add(rg->gro, g.inner, g.inner_len, e->id, merge ? buf : NULL, g.hdr_len);
	if (idx < 0) {
		rx_gro_flush(w, rg, now);
		idx = gro_add(rg->gro, g.inner, g.inner_len, e->id, merge ? buf : NULL,
		    g.hdr_len);
	}
	m = &rg->meta[idx];
	m->e = e;
	m->state = state;
	m->buf = buf;
	m->src = src;
	m->dst = *dst;
	m->g = g;
}

/* The local address of a datagram is needed only to learn its flow for the
 * replies; with --bind it is known without asking per datagram. */
static bool
rx_need_pktinfo(void)
{
	return !conf.no_return && conf.bind_addr.s_addr == htonl(INADDR_ANY);
}

static int
rx_socket(struct worker *w)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)conf.geneve_port),
		.sin_addr = conf.bind_addr,
	};
	struct timeval tv = { 0, STOP_POLL_MS * 1000 };
	int fd, one = 1, v;
	socklen_t sl;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (rx_need_pktinfo() &&
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	/* Best effort from here: report what we got. */
	v = (int)conf.rcvbuf;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl) == 0)
		w->rcvbuf_granted = v / 2;	/* the kernel reports double */
	w->busy_poll_granted = 0;
	if (conf.busy_poll_us) {
		v = (int)conf.busy_poll_us;
		if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof(v)) == 0)
			w->busy_poll_granted = v;
		else if (w->kidx == 0)
			log_msg(LOG_UDP, LOG_IMPORTANT, "SO_BUSY_POLL %u us refused: %s",
			    conf.busy_poll_us, strerror(errno));
	}
	/* Datagrams of one flow the kernel aggregated stay one buffer up to
	 * here (one skb, one copy); without it we coalesce what each round
	 * brings all the same. */
	if (conf.offload && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0 &&
	    w->kidx == 0)
		log_msg(LOG_UDP, LOG_IMPORTANT, "UDP_GRO refused: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return fd;
fail:
	v = -errno;
	close(fd);
	return v;
}

/* The socket's own drops (a full receive queue), read now and then rather
 * than with a control message on every datagram. */
static void
rx_read_drops(struct worker *w)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t sl = sizeof(mi);

	if (getsockopt(w->fd, SOL_SOCKET, SO_MEMINFO, mi, &sl) == 0 &&
	    sl > SK_MEMINFO_DROPS * sizeof(mi[0]))
		atomic_store_explicit(&w->stats.kernel_drops, mi[SK_MEMINFO_DROPS],
		    memory_order_relaxed);
}

#define CMSG_BUF	(CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int)))

static void *
rx_main(void *arg)
{
	struct worker *w = arg;
	unsigned batch = conf.batch;
	size_t bufsz = conf.offload ? RX_GRO_BUF_SIZE : RX_BUF_SIZE;
	size_t stride = bufsz + RX_BUF_SKEW;
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_in *names;
	uint8_t *bufs, (*cbufs)[CMSG_BUF];
	struct rx_gro *rg = NULL;
	bool pktinfo = rx_need_pktinfo();
	uint64_t drops_read = 0;

	worker_name(w);
	msgs = calloc(batch, sizeof(*msgs));
	iov = calloc(batch, sizeof(*iov));
	names = calloc(batch, sizeof(*names));
	cbufs = calloc(batch, sizeof(*cbufs));
	bufs = aligned_alloc(CACHELINE, (size_t)batch * stride);
	if (conf.offload && (!(rg = calloc(1, sizeof(*rg))) || !(rg->gro = gro_new())))
		fatalx("rx worker %u: out of memory", w->kidx);
	if (!msgs || !iov || !names || !cbufs || !bufs)
		fatalx("rx worker %u: out of memory", w->kidx);
	for (unsigned i = 0; i < batch; i++) {
		iov[i].iov_base = bufs + (size_t)i * stride;
		iov[i].iov_len = bufsz;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &names[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
		msgs[i].msg_hdr.msg_control = cbufs[i];
		msgs[i].msg_hdr.msg_controllen = CMSG_BUF;
	}

	while (!atomic_load_explicit(&D.stopping, memory_order_relaxed)) {
		int n = recvmmsg(w->fd, msgs, batch, MSG_WAITFORONE, NULL);
		uint64_t now = coarse_ns();
		unsigned dgrams = 0;

		atomic_store_explicit(&w->heartbeat_ns, now, memory_order_relaxed);
		if (now - drops_read >= MEMINFO_NS) {
			rx_read_drops(w);
			drops_read = now;
		}
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)
				log_rl(&rl_drop, LOG_UDP, LOG_IMPORTANT, "recvmmsg: %s", strerror(errno));
			continue;
		}
		qsbr_online(w->idx);
		STAT_ADD(w->stats.batches, 1);
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &msgs[i].msg_hdr;
			struct in_addr dst = conf.bind_addr;
			size_t len = msgs[i].msg_len, seg = 0;
			uint8_t *buf = iov[i].iov_base;
			struct cmsghdr *cm;

			STAT_ADD(w->stats.bytes, len);
			if (log_enabled(LOG_GENEVE, LOG_DEBUGDETAIL))
				log_hexdump(&rl_dump, LOG_GENEVE, "GWLB packet", buf, len);
			for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
				if (pktinfo && cm->cmsg_level == IPPROTO_IP &&
				    cm->cmsg_type == IP_PKTINFO) {
					struct in_pktinfo pi;

					memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
					dst = pi.ipi_addr;
				} else if (cm->cmsg_level == IPPROTO_UDP && cm->cmsg_type == UDP_GRO) {
					int gs;

					memcpy(&gs, CMSG_DATA(cm), sizeof(gs));
					if (gs > 0)
						seg = (size_t)gs;
				}
			}
			if (mh->msg_flags & MSG_TRUNC) {
				dgrams++;
				STAT_ADD(w->stats.drops[DROP_TRUNCATED], 1);
			} else if (mh->msg_namelen != sizeof(struct sockaddr_in)) {
				dgrams++;
				STAT_ADD(w->stats.drops[DROP_NOT_IPV4], 1);
			} else if (!rg) {
				dgrams++;
				rx_one(w, buf, len, &names[i], &dst, now);
			} else if (!seg || seg >= len) {
				/* One datagram: the larger buffer changes nothing
				 * of what is too large. */
				dgrams++;
				if (len > RX_BUF_SIZE)
					STAT_ADD(w->stats.drops[DROP_TRUNCATED], 1);
				else
					rx_gro_add(w, rg, buf, len, &names[i], &dst, now);
			} else {
				/* A GRO buffer: datagrams of seg bytes, the last
				 * one maybe shorter. */
				STAT_ADD(w->stats.gro.buffers, 1);
				for (size_t off = 0; off < len; off += seg, dgrams++)
					rx_gro_add(w, rg, buf + off, len - off < seg ? len - off : seg,
					    &names[i], &dst, now);
			}
			mh->msg_namelen = sizeof(names[i]);
			mh->msg_controllen = CMSG_BUF;
		}
		if (rg)
			rx_gro_flush(w, rg, now);
		STAT_ADD(w->stats.packets, dgrams);
		qsbr_offline(w->idx);
	}
	if (rg)
		gro_free(rg->gro);
	free(rg);
	free(bufs);
	free(cbufs);
	free(names);
	free(iov);
	free(msgs);
	return NULL;
}

static void *
reply_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];

	worker_name(w);
	while (!atomic_load_explicit(&D.stopping, memory_order_relaxed)) {
		int n;

		/* Online across epoll_wait: the tags it returns point into ENIs,
		 * and a worker preempted between the wait and its first use of
		 * one must still hold off their reclamation.  A grace period
		 * waits at most one STOP_POLL_MS for an idle worker. */
		qsbr_online(w->idx);
		n = epoll_wait(w->fd, evs, 64, STOP_POLL_MS);
		atomic_store_explicit(&w->heartbeat_ns, coarse_ns(), memory_order_relaxed);
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {		/* qsbr_kick() */
				uint64_t v;

				(void)!read(w->kick_fd, &v, sizeof(v));
				continue;
			}
			reply_queue_ready(w, evs[i].data.ptr);
		}
		if (n > 0)
			reply_flush(w);
		qsbr_offline(w->idx);
	}
	reply_worker_fini(w);
	return NULL;
}

int
worker_start_all(void)
{
	unsigned total = conf.rx_threads + conf.tun_threads;
	int cpu = -1, err;

	D.n_rx = conf.rx_threads;
	D.n_tun = conf.tun_threads;
	D.workers = aligned_alloc(CACHELINE, sizeof(struct worker) * total);
	if (!D.workers)
		return -ENOMEM;
	memset(D.workers, 0, sizeof(struct worker) * total);
	qsbr_init(total);
	for (unsigned i = 0; i < total; i++) {
		struct worker *w = &D.workers[i];

		w->idx = i;
		w->kind = i < D.n_rx ? WORKER_RX : WORKER_REPLY;
		w->kidx = w->kind == WORKER_RX ? i : i - D.n_rx;
		w->cpu = -1;
		if (w->kidx == 0)
			cpu = -1;
		if (w->kind == WORKER_RX && conf.rx_pinned) {
			while (!CPU_ISSET(++cpu, &conf.rx_cpus))
				;
			w->cpu = cpu;
		} else if (w->kind == WORKER_REPLY && conf.tun_pinned) {
			while (!CPU_ISSET(++cpu, &conf.tun_cpus))
				;
			w->cpu = cpu;
		}
		if (w->kind == WORKER_RX) {
			w->fd = rx_socket(w);
			if (w->fd < 0) {
				log_msg(LOG_UDP, LOG_CRITICAL, "UDP port %u: %s",
				    conf.geneve_port, strerror(-w->fd));
				return w->fd;
			}
		} else {
			w->fd = epoll_create1(EPOLL_CLOEXEC);
			if (w->fd < 0)
				return -errno;
			w->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (w->kick_fd < 0 || epoll_ctl(w->fd, EPOLL_CTL_ADD, w->kick_fd,
			    &(struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL }) < 0)
				return -errno;
			/* It waits online in epoll_wait: a grace period wakes it. */
			qsbr_set_kick(w->idx, w->kick_fd);
			/* Here, not in the thread: a missing privilege stops the
			 * start with one clear message. */
			err = reply_worker_init(w);
			if (err < 0)
				return err;
		}
	}
	{
		struct worker *w0 = &D.workers[0];

		log_msg(LOG_UDP, LOG_INFO, "receiving on UDP %u with %u workers, batch %u, "
		    "rcvbuf %d bytes granted (asked %u), busy poll %d us",
		    conf.geneve_port, D.n_rx, conf.batch, w0->rcvbuf_granted,
		    conf.rcvbuf, w0->busy_poll_granted);
		if ((unsigned)w0->rcvbuf_granted < conf.rcvbuf)
			log_msg(LOG_UDP, LOG_IMPORTANT, "receive buffer is %d bytes, not the "
			    "%u asked: SO_RCVBUFFORCE needs CAP_NET_ADMIN; raise "
			    "net.core.rmem_max", w0->rcvbuf_granted, conf.rcvbuf);
	}
	for (unsigned i = 0; i < total; i++) {
		struct worker *w = &D.workers[i];

		err = pthread_create(&w->thread, NULL,
		    w->kind == WORKER_RX ? rx_main : reply_main, w);
		if (err)
			return -err;
	}
	return 0;
}

void
worker_stop_all(void)
{
	unsigned total = D.n_rx + D.n_tun;

	atomic_store(&D.stopping, true);
	for (unsigned i = 0; i < total; i++)
		pthread_join(D.workers[i].thread, NULL);
	for (unsigned i = 0; i < total; i++) {
		close(D.workers[i].fd);
		if (D.workers[i].kind == WORKER_REPLY)
			close(D.workers[i].kick_fd);
	}
}
