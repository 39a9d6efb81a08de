/*
 * What gwlbctl's modes share: the connection, the output, and running one
 * command line through the command table.
 */
#ifndef GWLBCTL_H
#define GWLBCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "output.h"

struct gwlbctl {
	struct client	 cl;
	struct out	*out;
	bool		 json;
	bool		 pretty;	/* -p: JSON indented */
};

/* Room for one word more than a command may have, to say it is too long. */
#define GWLBCTL_LINE_WORDS	(CTL_WORDS_MAX + 1)

/* Milliseconds of CLOCK_MONOTONIC: deadlines and cache ages. */
uint64_t gwlbctl_mono_ms(void);

/* Runs one command; returns an exit status; sets *quit for quit. */
int	 gwlbctl_run(struct gwlbctl *g, unsigned n, const char *const *words,
	    bool *quit);

/* `monitor`: follows the daemon's events; returns the exit status. */
int	 monitor_run(struct gwlbctl *g, const struct ctl_cmd_args *a);

/* `doctor`: judges the daemon's facts; 1 when something loses packets. */
int	 doctor_run(struct gwlbctl *g, const struct ctl_cmd_args *a);

/* The interactive shell (shell.c); returns the exit status. */
int	 shell_run(struct gwlbctl *g);

#endif
