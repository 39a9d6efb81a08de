/*
 * An ENI's TUN links (link.c): made, watched by the reply workers, removed.
 * Manager thread only.
 */
#ifndef GWLBTUND_LINK_H
#define GWLBTUND_LINK_H

#include <stdbool.h>

struct eni;

/* gwi-X (and gwo-X) with their queues, set up; 0 or -errno (logged). */
int link_make(struct eni *e);
/* Hand the queues to the reply workers' epoll sets, or take them back. */
void link_watch_queues(struct eni *e, bool on);
/* Delete the links (when del_links) and close their queues. */
void link_remove(struct eni *e, bool del_links);
/* Every link of ours in one RTM_DELLINK (shutdown); 0 or -errno. */
int link_remove_group(void);

#endif
