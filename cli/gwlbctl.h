/*
 * What gwlbctl's modes share: the connection, the output, and running one
 * command line through the command table.
 */
#ifndef GWLBCTL_H
#define GWLBCTL_H

#include <stdbool.h>

#include "client.h"
#include "output.h"

struct gwlbctl {
	struct client	 cl;
	struct out	*out;
	bool		 json;
};

/* Room for one word more than a command may have, to say it is too long. */
#define GWLBCTL_LINE_WORDS	(CTL_WORDS_MAX + 1)

/* Runs one command; returns an exit status; sets *quit for quit. */
int	 gwlbctl_run(struct gwlbctl *g, unsigned n, const char *const *words,
	    bool *quit);

/* The interactive shell (shell.c); returns the exit status. */
int	 shell_run(struct gwlbctl *g);

#endif
