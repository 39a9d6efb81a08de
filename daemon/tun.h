/*
 * TUN links: one multi-queue device per direction and ENI, one queue
 * descriptor per data-path slot, so writers never share a descriptor.
 */
#ifndef GWLBTUND_TUN_H
#define GWLBTUND_TUN_H

/*
 * Create (or attach to) the TUN device `name` with n queues; fds[] gets the
 * non-blocking, close-on-exec descriptors.  0 or -errno; on error nothing
 * stays open.
 */
int tun_open_queues(const char *name, int *fds, unsigned n);
void tun_close_queues(int *fds, unsigned n);

#endif
