/*
 * no-pidfd PROGRAM ARGS...: run PROGRAM with pidfd_open(2) failing with
 * ENOSYS, as on kernels before 5.3 or under a seccomp filter that does not
 * know the call (older container runtimes).  The e2e scenarios run gwlbtund
 * under it to exercise the hook runner's polled fallback with no switch in
 * the daemon.  A seccomp filter: it stays for PROGRAM and its children.
 */
#include "config.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH	AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define ARCH	AUDIT_ARCH_I386
#else
#error "no-pidfd: add this architecture's AUDIT_ARCH_*"
#endif

int
main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (argc < 2) {
		fprintf(stderr, "usage: no-pidfd PROGRAM [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "no-pidfd: seccomp: %s\n", strerror(errno));
		return 1;
	}
	if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS) {
		fprintf(stderr, "no-pidfd: pidfd_open still works\n");
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-pidfd: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
