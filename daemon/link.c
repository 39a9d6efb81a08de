/*
 * An ENI's links: the multi-queue TUN links gwi-X (and gwo-X) made with
 * TUNSETIFF and set up over rtnetlink (MTU, up, rp_filter 0, link group),
 * their queues handed to the reply workers' epoll sets, and their removal.
 * Manager thread only.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "eni_table.h"
#include "link.h"
#include "log.h"
#include "nl.h"
#include "state.h"
#include "tun.h"
#include "worker.h"

void
link_watch_queues(struct eni *e, bool on)
{
	if (conf.no_return || D.n_tun == 0)
		return;
	for (unsigned q = 0; q < e->nqueues; q++) {
		struct worker *w = &D.workers[D.n_rx + q % D.n_tun];

		for (int dir = 0; dir < 2; dir++) {
			struct tunq *t = &e->tq[dir * e->nqueues + q];
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = t };

			/* The tags are written before the queue is handed over and
			 * never after: a reply worker may read them until the
			 * grace period that follows taking the queue back. */
			if (on) {
				t->eni = e;
				t->fd = dir ? e->qfd_out[q] : e->qfd_in[q];
				t->out = dir;
			}
			if (t->fd < 0)
				continue;
			if (on)
				epoll_ctl(w->fd, EPOLL_CTL_ADD, t->fd, &ev);
			else
				epoll_ctl(w->fd, EPOLL_CTL_DEL, t->fd, NULL);
		}
	}
}

static int
link_make_one(struct eni *e, const char *name, int *fds, int *ifindex,
    const char *dir)
{
	char alias[96];
	uint32_t group;
	unsigned off;
	int err;

	/* TUNSETIFF on the name of a multi-queue link that exists attaches
	 * one more queue to it: never to a link that is not ours (another
	 * daemon's, upstream gwlbtun's, an operator's).  Ours (our group)
	 * is the old link of a twin, which waits for it to go, or one of a
	 * gwlbtund killed a moment ago, vanishing as its descriptors close:
	 * the namespace lock keeps any other daemon out. */
	err = nl_link_lookup(name, &group);
	if (err > 0 && group != NL_LINK_GROUP) {
		log_msg(LOG_TUNNEL, LOG_CRITICAL, "%s: a link of that name exists and is not "
		    "ours (link group %#x, ours %#x): not attaching to it", name,
		    (unsigned)group, (unsigned)NL_LINK_GROUP);
		return -EEXIST;
	}
	off = e->offloads;
	err = tun_open_queues(name, fds, e->nqueues, e->vnet, &off);
	ENI_SET(e->offloads, off);
	if (err < 0) {
		log_msg(LOG_TUNNEL, LOG_CRITICAL, "%s: cannot create TUN link: %s",
		    name, strerror(-err));
		return err;
	}
	err = nl_link_index(name);
	if (err < 0) {
		log_msg(LOG_NETLINK, LOG_CRITICAL, "%s: cannot find the new link: %s",
		    name, strerror(-err));
		return err;
	}
	ENI_SET(*ifindex, err);
	/* The ENI id is also its GWLB endpoint's id (vpce-HEX). */
	snprintf(alias, sizeof(alias), "gwlbtun ENI %s (vpce-%s) %s", e->hex, e->hex, dir);
	err = nl_link_setup(*ifindex, name, conf.mtu, conf.txqueuelen, NL_LINK_GROUP,
	    alias);
	if (err < 0) {
		log_msg(LOG_NETLINK, LOG_CRITICAL, "%s: cannot set MTU %u, up, rp_filter 0: %s",
		    name, conf.mtu, strerror(-err));
		return err;
	}
	return 0;
}

int
link_make(struct eni *e)
{
	int err;

	/* What the queues carry is settled when the links are made. */
	e->vnet = conf.offload;
	/* The kernel may then hand back TCP (and, from 6.2, UDP) super-packets
	 * and packets with their checksum left to finish: reply.c segments
	 * them.  The first link settles the set (USO dropped where unknown);
	 * the second asks for what the first got. */
	ENI_SET(e->offloads, conf.offload ? TUN_OFFLOADS_WANTED : 0u);

	err = link_make_one(e, e->if_in, e->qfd_in, &e->ifindex_in, "in");
	if (!err && !conf.no_return)
		err = link_make_one(e, e->if_out, e->qfd_out, &e->ifindex_out, "out");
	if (err) {
		tun_close_queues(e->qfd_in, e->nqueues);
		tun_close_queues(e->qfd_out, e->nqueues);
	}
	return err;
}

/* The links (deleted first when del_links: one unregister per link is much
 * faster than detaching its queues one close at a time), then the queues. */
void
link_remove(struct eni *e, bool del_links)
{
	if (del_links) {
		nl_link_del(e->ifindex_in);
		if (!conf.no_return)
			nl_link_del(e->ifindex_out);
	}
	tun_close_queues(e->qfd_in, e->nqueues);
	tun_close_queues(e->qfd_out, e->nqueues);
}

int
link_remove_group(void)
{
	return nl_link_del_group(NL_LINK_GROUP);
}
