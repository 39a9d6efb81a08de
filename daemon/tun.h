/*
 * TUN links: one multi-queue device per direction and ENI, one queue
 * descriptor per data-path slot, so writers never share a descriptor.
 */
#ifndef GWLBTUND_TUN_H
#define GWLBTUND_TUN_H

#include <stdbool.h>

/* What every packet read from or written to a vnet queue starts with. */
#define TUN_VNET_HDR_LEN	10	/* struct virtio_net_hdr */

/*
 * Create (or attach to) the TUN device `name` with n queues; fds[] gets the
 * non-blocking, close-on-exec descriptors.  With vnet, every packet read or
 * written carries a struct virtio_net_hdr first, and the kernel may hand us
 * what offloads (TUN_F_*) allows.  0 or -errno; on error nothing stays open.
 */
int tun_open_queues(const char *name, int *fds, unsigned n, bool vnet, unsigned offloads);
void tun_close_queues(int *fds, unsigned n);

#endif
