/*
 * The return path: learning flows from what GWLB sends, and sending the
 * appliance's replies back to GWLB with the header the flow came with.
 */
#ifndef GWLBTUND_REPLY_H
#define GWLBTUND_REPLY_H

#include <netinet/in.h>
#include <stdint.h>

#include "geneve.h"
#include "eni_table.h"
#include "worker.h"

int reply_init(void);
/* rx side: remember the flow of an inbound packet (buf = GENEVE header). */
void reply_learn(struct eni *e, struct worker *w, const struct geneve_pkt *g,
    const uint8_t *buf, const struct sockaddr_in *src, const struct in_addr *dst,
    uint64_t now);
/* reply workers */
int reply_worker_init(struct worker *w);
void reply_worker_fini(struct worker *w);
void reply_queue_ready(struct worker *w, struct tunq *q);
void reply_flush(struct worker *w);
/* manager: expire flows a slice at a time, free what the grace period allows */
void reply_expire(uint64_t now);

#endif
