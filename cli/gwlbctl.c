/*
 * gwlbctl: the control tool for gwlbtund.  With a command on the command
 * line it runs that one command; with none it reads commands from stdin,
 * one per line, or opens the interactive shell when stdin is a terminal.
 * The exit status says what happened: 0 done, 1 refused or failed by the
 * daemon, 2 usage error, 3 daemon not reachable.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "ctl_commands.h"
#include "gwlbctl.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: gwlbctl [-j] [-s socket] [command [argument ...]]\n"
	    "       gwlbctl -h | -V\n"
	    "  -j         JSON output, one document per command\n"
	    "  -s socket  control socket (default %s)\n"
	    "  -h         this help; 'gwlbctl help' lists the commands\n"
	    "  -V         version\n"
	    "Without a command: an interactive shell on a terminal, else one\n"
	    "command per line from stdin.\n", CTL_SOCKET_PATH);
}

#define HELP_COL	32

static int
show_help(struct gwlbctl *g)
{
	struct ctl_record rec;
	char usage_line[256];

	/* A table would be as wide as the longest usage: two columns instead. */
	if (!g->json) {
		for (int i = 0; i < CTL_CMD__MAX; i++) {
			const struct ctl_cmd_def *def = ctl_cmd_get((enum ctl_cmd_id)i);

			ctl_cmd_usage(def, usage_line, sizeof(usage_line));
			if (strlen(usage_line) + 2 <= HELP_COL)
				printf("%-*s%s\n", HELP_COL, usage_line, def->help);
			else
				printf("%s\n%*s%s\n", usage_line, HELP_COL, "", def->help);
		}
		fflush(stdout);
		return EXIT_OK;
	}
	out_begin(g->out, CTL_VIEW_TABLE);
	for (int i = 0; i < CTL_CMD__MAX; i++) {
		const struct ctl_cmd_def *def = ctl_cmd_get((enum ctl_cmd_id)i);

		ctl_cmd_usage(def, usage_line, sizeof(usage_line));
		rec.type = "command";
		rec.nfields = 2;
		rec.field[0] = (struct ctl_field){ .name = "command",
		    .type = CTL_FT_STR, .v.str = usage_line };
		rec.field[1] = (struct ctl_field){ .name = "help",
		    .type = CTL_FT_STR, .v.str = def->help };
		if (out_record(g->out, &rec) < 0) {
			out_end(g->out, ENOMEM, NULL);
			return EXIT_FAILED;
		}
	}
	out_end(g->out, 0, NULL);
	return EXIT_OK;
}

int
gwlbctl_run(struct gwlbctl *g, unsigned n, const char *const *words, bool *quit)
{
	struct ctl_cmd_args a;
	const char *w[CTL_WORDS_MAX];
	char text[CTL_ERRTEXT_MAX];
	int err, status;

	if (ctl_cmd_parse(n, words, &a, text, sizeof(text)) < 0) {
		out_begin(g->out, CTL_VIEW_NONE);
		out_end(g->out, EINVAL, text);
		return EXIT_USAGE;
	}
	if (a.id == CTL_CMD_QUIT) {
		*quit = true;
		return EXIT_OK;
	}
	if (a.id == CTL_CMD_HELP)
		return show_help(g);
	out_begin(g->out, a.def->view);
	ctl_cmd_words(&a, w);
	status = client_request(&g->cl, a.nwords, w, out_record_cb, g->out, &err,
	    text, sizeof(text));
	out_end(g->out, status == EXIT_OK ? 0 : err ? err : EIO, text);
	return status;
}

static int
run_stdin(struct gwlbctl *g)
{
	const char *words[GWLBCTL_LINE_WORDS];
	char *line = NULL;
	size_t cap = 0;
	bool quit = false;
	int status = EXIT_OK, r;
	unsigned n;

	while (!quit && getline(&line, &cap, stdin) > 0) {
		if ((n = ctl_split_line(line, words, GWLBCTL_LINE_WORDS)) == 0)
			continue;
		r = gwlbctl_run(g, n, words, &quit);
		if (r > status)
			status = r;
	}
	free(line);
	return status;
}

/* For tests/unit/man-check: the words of every command, one per line. */
static void
list_commands(void)
{
	for (int i = 0; i < CTL_CMD__MAX; i++) {
		const struct ctl_cmd_def *def = ctl_cmd_get((enum ctl_cmd_id)i);

		printf("%s%s%s\n", def->words[0], def->words[1] ? " " : "",
		    def->words[1] ? def->words[1] : "");
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list-commands", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_SOCKET_PATH;
	struct gwlbctl g = { .json = false };
	bool quit = false;
	int ch, status;

	while ((ch = getopt_long(argc, argv, "+hjs:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'L':
			list_commands();
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'j':
			g.json = true;
			break;
		case 's':
			path = optarg;
			break;
		case 'V':
			printf("gwlbctl %s (control protocol %d)\n", PACKAGE_VERSION,
			    CTL_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (strlen(path) >= sizeof(g.cl.path)) {
		fprintf(stderr, "gwlbctl: socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	client_init(&g.cl, path);
	if (!(g.out = out_new(g.json ? &out_json : &out_text, stdout, stderr))) {
		fprintf(stderr, "gwlbctl: out of memory\n");
		return EXIT_FAILED;
	}
	if (argc > 0)
		status = gwlbctl_run(&g, (unsigned)argc, (const char *const *)argv, &quit);
	else if (isatty(STDIN_FILENO))
		status = shell_run(&g);
	else
		status = run_stdin(&g);
	client_close(&g.cl);
	out_free(g.out);
	return status;
}
