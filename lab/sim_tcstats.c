/*
 * gwlbsim tc-stats: the counters of the lab's tc GWLB (lab/gwlb_tc.bpf.c),
 * read through bpf(2) from the programs tc attached: each program's id
 * (gwlb-lab tc-ids) leads to its maps, the one named gwtc_stats is a
 * per-CPU array, summed over CPUs and programs.  Exit 1 when a check
 * counter (a datagram that came back wrong) is not 0.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "gwlb_tc.h"
#include "sim.h"

#define TS_MAPS		16

static const struct {
	const char *name;
	int bad;
	const char *help;
} stats[] = {
#define GWTC_ROW(e, n, bad, h)	[S_##e] = { n, bad, h },
	GWTC_STATS(GWTC_ROW)
#undef GWTC_ROW
};

static int
sys_bpf(int cmd, union bpf_attr *a)
{
	return (int)syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int
obj_info(int fd, void *info, uint32_t len)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = len;
	a.info.info = (uint64_t)(uintptr_t)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
}

/* CPUs a per-CPU map has a value for: /sys/devices/system/cpu/possible. */
static int
possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char buf[256], *p;
	long n = 0, lo, hi;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	for (p = buf; *p && *p != '\n';) {
		lo = strtol(p, &p, 10);
		hi = lo;
		if (*p == '-')
			hi = strtol(p + 1, &p, 10);
		n += hi - lo + 1;
		if (*p == ',')
			p++;
	}
	return n > 0 ? (int)n : -EINVAL;
}

/* Add the gwtc_stats map of program id to sum; 0, or -errno. */
static int
add_prog(uint32_t id, uint64_t *sum, int ncpu)
{
	struct bpf_prog_info pi;
	uint32_t maps[TS_MAPS];
	union bpf_attr a;
	int pfd, mfd, found = 0, e = 0;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (pfd < 0)
		return -errno;
	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = TS_MAPS;
	pi.map_ids = (uint64_t)(uintptr_t)maps;
	if (obj_info(pfd, &pi, sizeof(pi)) < 0) {
		e = -errno;
		close(pfd);
		return e;
	}
	close(pfd);
	for (uint32_t i = 0; i < pi.nr_map_ids && i < TS_MAPS && !found; i++) {
		struct bpf_map_info mi;

		memset(&a, 0, sizeof(a));
		a.map_id = maps[i];
		mfd = sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
		if (mfd < 0)
			return -errno;
		memset(&mi, 0, sizeof(mi));
		if (obj_info(mfd, &mi, sizeof(mi)) == 0 &&
		    strcmp(mi.name, "gwtc_stats") == 0 &&
		    mi.type == BPF_MAP_TYPE_PERCPU_ARRAY && mi.value_size == 8) {
			uint64_t v[ncpu];

			found = 1;
			for (uint32_t k = 0; k < S__MAX && k < mi.max_entries; k++) {
				memset(&a, 0, sizeof(a));
				a.map_fd = (uint32_t)mfd;
				a.key = (uint64_t)(uintptr_t)&k;
				a.value = (uint64_t)(uintptr_t)v;
				if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0) {
					e = -errno;
					break;
				}
				for (int c = 0; c < ncpu; c++)
					sum[k] += v[c];
			}
		}
		close(mfd);
	}
	if (e)
		return e;
	return found ? 0 : -ENOENT;
}

static void
tc_usage(FILE *f)
{
	fprintf(f, "usage: gwlbsim tc-stats [--json] PROG_ID...\n\n"
	    "The counters of the lab's tc GWLB (twoarm-tc), summed over the\n"
	    "programs given (ids from `gwlb-lab tc-ids`) and over CPUs.  Exit 1\n"
	    "when a check counter is not 0:\n\n");
	for (int i = 0; i < S__MAX; i++)
		fprintf(f, "  %-15s %s%s\n", stats[i].name, stats[i].help,
		    stats[i].bad ? " (check)" : "");
}

int
cmd_tc_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t sum[S__MAX] = { 0 }, bad = 0;
	int c, json = 0, ncpu, e;

	while ((c = getopt_long(argc, argv, "jh", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': tc_usage(stdout); return SIM_EXIT_PASS;
		default: tc_usage(stderr); return SIM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "gwlbsim tc-stats: no program id (gwlb-lab tc-ids)\n");
		return SIM_EXIT_USAGE;
	}
	ncpu = possible_cpus();
	if (ncpu < 0) {
		fprintf(stderr, "gwlbsim tc-stats: possible CPUs: %s\n", strerror(-ncpu));
		return SIM_EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++) {
		char *end;
		unsigned long id = strtoul(argv[i], &end, 10);

		if (*argv[i] == '\0' || *end || id == 0 || id > UINT32_MAX) {
			fprintf(stderr, "gwlbsim tc-stats: '%s' is not a program id\n", argv[i]);
			return SIM_EXIT_USAGE;
		}
		e = add_prog((uint32_t)id, sum, ncpu);
		if (e < 0) {
			fprintf(stderr, "gwlbsim tc-stats: program %lu: %s\n", id,
			    e == -ENOENT ? "no gwtc_stats map (not the lab's tc GWLB)" : strerror(-e));
			return SIM_EXIT_ERROR;
		}
	}
	for (int i = 0; i < S__MAX; i++)
		if (stats[i].bad)
			bad += sum[i];
	if (json) {
		printf("{");
		for (int i = 0; i < S__MAX; i++)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "", stats[i].name, sum[i]);
		printf(", \"checks_failed\": %" PRIu64 "}\n", bad);
	} else {
		for (int i = 0; i < S__MAX; i++)
			printf("%-15s %" PRIu64 "\n", stats[i].name, sum[i]);
		printf("%s: %" PRIu64 " datagrams failed a check\n", bad ? "FAIL" : "PASS", bad);
	}
	return bad ? SIM_EXIT_FAIL : SIM_EXIT_PASS;
}
