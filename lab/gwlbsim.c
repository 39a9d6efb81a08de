/*
 * gwlbsim: the Gateway Load Balancer simulator of the gwlbtun lab.
 *
 * It plays GWLB towards an appliance (send, run, expect, bridge) and, for
 * testing itself and the lab without gwlbtund, plays the appliance towards
 * GWLB (reflect).  One command table drives dispatch and help.
 *
 * Exit status, for every subcommand:
 *   0  pass: everything checked was right (send, reflect: ran to the end)
 *   1  fail: a check failed: a mismatched datagram, more loss than
 *      --max-loss, fewer returns than --min-received
 *   2  usage: unknown subcommand or option, bad option value
 *   3  error: the system refused something: a socket, a namespace, a TUN
 *      link, memory
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
};

static const struct cmd cmds[] = {
	{ "send", cmd_send,
	    "send GWLB GENEVE traffic to an appliance" },
	{ "run", cmd_run,
	    "send, and judge what comes back (send + expect in one)" },
	{ "expect", cmd_expect,
	    "watch the GWLB side and judge what comes back" },
	{ "reflect", cmd_reflect,
	    "play a correct (or faulty) appliance at the GENEVE level" },
	{ "bridge", cmd_bridge,
	    "userspace GWLB between client and server TUN links" },
	{ "tc-stats", cmd_tc_stats,
	    "counters and checks of the lab's tc GWLB (twoarm-tc)" },
};

const char *
cmd_optname(const struct option *lo, int c)
{
	for (; lo->name; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: gwlbsim COMMAND [OPTIONS]   (gwlbsim COMMAND --help)\n\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nExit status: 0 pass, 1 a check failed, 2 usage error,\n"
	    "3 system error (socket, namespace, TUN, memory).\n");
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return SIM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return SIM_EXIT_PASS;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			sim_cmd = cmds[i].name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "gwlbsim: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return SIM_EXIT_USAGE;
}
