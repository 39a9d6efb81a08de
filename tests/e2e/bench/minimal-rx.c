/*
 * minimal-rx: the least a GENEVE receiver can do, as a yardstick for
 * gwlbtund's receive path in tests/e2e/bench/rx-bench.sh.  One UDP socket,
 * one TUN queue, one thread: recvmmsg() a batch of 64, cut the 40-byte
 * header GWLB sends (no parsing, no checks, no counters per ENI), write()
 * each inner packet to the TUN link.  Whatever gwlbtund costs on top of
 * this loop is the price of its parsing, dispatch and accounting.
 *
 *	minimal-rx TUNNAME [PORT [SECONDS [RCVBUF-MIB]]]
 *
 * Brings TUNNAME up itself, asks for a receive buffer of RCVBUF-MIB
 * (default 128, gwlbtund's default), runs SECONDS (default 10) or until
 * SIGTERM or SIGINT, then prints one line: received, written, write
 * errors, short datagrams and the socket's kernel drop count (SO_RXQ_OVFL).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH		64
#define BUF_SIZE	9216
#define GWLB_HDR	40	/* 8-byte base + 32 bytes of AWS options */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
tun_open(const char *name)
{
	struct ifreq ifr;
	int fd, s;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* Up, or every write fails with EIO. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto fail;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		close(s);
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		close(s);
		goto fail;
	}
	close(s);
	return fd;
fail:
	close(fd);
	return -1;
}

static int
udp_open(unsigned port, int rcvbuf)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
	};
	/* Wake up now and then to notice a signal or the deadline. */
	struct timeval tv = { 0, 100000 };
	int fd, one = 1, size = rcvbuf;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* The same buffer as gwlbtund's, so the comparison is fair. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][BUF_SIZE];
	static uint8_t cbufs[BATCH][CMSG_SPACE(sizeof(uint32_t))];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct timespec t0, now;
	unsigned long long rx = 0, written = 0, werr = 0, shorts = 0;
	uint32_t ovfl = 0;
	double secs;
	int tun, udp;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: minimal-rx TUNNAME [PORT [SECONDS [RCVBUF-MIB]]]\n");
		return 2;
	}
	secs = argc > 3 ? atof(argv[3]) : 10.0;
	tun = tun_open(argv[1]);
	if (tun < 0) {
		perror("minimal-rx: TUN");
		return 3;
	}
	udp = udp_open(argc > 2 ? (unsigned)atoi(argv[2]) : 6081,
	    (argc > 4 ? atoi(argv[4]) : 128) << 20);
	if (udp < 0) {
		perror("minimal-rx: UDP");
		return 3;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BUF_SIZE;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fprintf(stderr, "minimal-rx: ready on %s\n", argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			msgs[i].msg_hdr.msg_control = cbufs[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(cbufs[i]);
		}
		n = recvmmsg(udp, msgs, BATCH, MSG_WAITFORONE, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) +
		    (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			stop = 1;
		if (n <= 0)
			continue;
		rx += (unsigned)n;
		for (int i = 0; i < n; i++) {
			struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
			unsigned len = msgs[i].msg_len;

			if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
				memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
			if (len <= GWLB_HDR) {
				shorts++;
				continue;
			}
			if (write(tun, bufs[i] + GWLB_HDR, len - GWLB_HDR) < 0)
				werr++;
			else
				written++;
		}
	}
	printf("{\"received\":%llu,\"written\":%llu,\"write_errors\":%llu,"
	    "\"short\":%llu,\"kernel_drops\":%u}\n", rx, written, werr, shorts, ovfl);
	return 0;
}
