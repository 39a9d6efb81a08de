/*
 * TUN queues.  The device is not persistent: when the last queue closes the
 * kernel removes the link, so a crash cannot leave gwi-/gwo- links behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun.h"

/*
 * TUNSETOFFLOAD with what is wanted; a kernel that does not know UDP
 * segmentation offload (before 6.2) refuses the whole set with EINVAL:
 * then without USO.  *offloads becomes what the kernel took.
 */
static int
tun_set_offload(int fd, unsigned *offloads)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)*offloads) == 0)
		return 0;
	if (errno != EINVAL || !(*offloads & (TUN_F_USO4 | TUN_F_USO6)))
		return -errno;
	*offloads &= ~(unsigned)(TUN_F_USO4 | TUN_F_USO6);
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)*offloads) == 0 ? 0 : -errno;
}

int
tun_open_queues(const char *name, int *fds, unsigned n, bool vnet, unsigned *offloads)
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
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			err = -errno;
			close(fd);
			goto fail;
		}
		/* Offloads are the device's: every queue sets the same. */
		if (vnet && (err = tun_set_offload(fd, offloads)) < 0) {
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

const char *
tun_offloads_str(unsigned offloads, char *buf, unsigned len)
{
	static const struct {
		unsigned	bit;
		const char	*name;
	} names[] = {
		{ TUN_F_CSUM, "csum" }, { TUN_F_TSO4, "tso4" }, { TUN_F_TSO6, "tso6" },
		{ TUN_F_TSO_ECN, "tso_ecn" }, { TUN_F_USO4, "uso4" }, { TUN_F_USO6, "uso6" },
	};
	unsigned at = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int r;

		if (!(offloads & names[i].bit))
			continue;
		r = snprintf(buf + at, len - at, "%s%s", at ? "," : "", names[i].name);
		if (r < 0 || (unsigned)r >= len - at)
			break;
		at += (unsigned)r;
	}
	return buf;
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
