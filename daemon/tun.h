/*
 * TUN links: one multi-queue device per direction and ENI, one queue
 * descriptor per data-path slot, so writers never share a descriptor.
 */
#ifndef GWLBTUND_TUN_H
#define GWLBTUND_TUN_H

#include <stdbool.h>
#include <linux/if_tun.h>

/* UDP segmentation offload (kernel 6.2); older headers lack the bits. */
#ifndef TUN_F_USO4
#define TUN_F_USO4	0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6	0x40
#endif
/* What --offload asks of the gwi-/gwo- links. */
#define TUN_OFFLOADS_WANTED	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | \
	TUN_F_USO4 | TUN_F_USO6)

/* What every packet read from or written to a vnet queue starts with. */
#define TUN_VNET_HDR_LEN	10	/* struct virtio_net_hdr */

/*
 * Create (or attach to) the TUN device `name` with n queues; fds[] gets the
 * non-blocking, close-on-exec descriptors.  With vnet, every packet read or
 * written carries a struct virtio_net_hdr first, and the kernel may hand us
 * what *offloads (TUN_F_*) allows; the USO bits are dropped from it when
 * the kernel does not know them.  0 or -errno; on error nothing stays open.
 */
int tun_open_queues(const char *name, int *fds, unsigned n, bool vnet, unsigned *offloads);
/* "csum,tso4,tso6,uso4,uso6" for the TUN_F_* bits set ("" for none). */
const char *tun_offloads_str(unsigned offloads, char *buf, unsigned len);
void tun_close_queues(int *fds, unsigned n);

#endif
