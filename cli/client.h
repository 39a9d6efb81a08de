/*
 * gwlbctl's connection to gwlbtund: connect (and reconnect), send one
 * command, collect its reply.
 */
#ifndef GWLBCTL_CLIENT_H
#define GWLBCTL_CLIENT_H

#include <stdint.h>

#include "ctl_proto.h"

/* gwlbctl's exit statuses, also what client_request() returns. */
enum {
	EXIT_OK		= 0,
	EXIT_FAILED	= 1,	/* the daemon refused or failed the command */
	EXIT_USAGE	= 2,
	EXIT_UNREACHABLE = 3,	/* no daemon, or it went away */
};

#define CLIENT_TIMEOUT_MS	30000

struct client {
	char		 path[108];
	int		 fd;		/* -1: not connected */
	uint32_t	 seq;
	int		 timeout_ms;
	int		 cancel_fd;	/* readable: give up waiting (^C), or -1 */
	struct ctl_msg	 msg;
	_Alignas(8) unsigned char buf[CTL_MSG_MAX];
};

void	 client_init(struct client *c, const char *path);
/* 0, or -errno with a message naming the socket in text. */
int	 client_connect(struct client *c, char *text, size_t len);
void	 client_close(struct client *c);

/*
 * Runs one command (already normalized words) and feeds the records to fn.
 * EXIT_OK when the daemon said DONE; EXIT_FAILED with *err and text when it
 * said ERROR or answered nonsense; EXIT_UNREACHABLE with text when it could
 * not be reached or went away.
 */
int	 client_request(struct client *c, unsigned n, const char *const *words,
	    ctl_record_fn fn, void *arg, int *err, char *text, size_t len);

#endif
