/*
 * TUN queues.  The device is not persistent: when the last queue closes the
 * kernel removes the link, so a crash cannot leave gwi-/gwo- links behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun.h"

int
tun_open_queues(const char *name, int *fds, unsigned n, bool vnet, unsigned offloads)
{
	struct ifreq ifr;
	unsigned i;
	int err;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (vnet ? IFF_VNET_HDR : 0);
		strcpy(ifr.ifr_name, name);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
		    (vnet && ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0)) {
			err = -errno;
			close(fd);
			goto fail;
		}
		fds[i] = fd;
	}
	return 0;
fail:
	tun_close_queues(fds, i);
	return err;
}

void
tun_close_queues(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}
