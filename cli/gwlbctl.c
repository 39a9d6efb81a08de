/*
 * gwlbctl: the control tool for gwlbtund.  With a command on the command
 * line it runs that one command; with none it reads commands from stdin,
 * one per line, or opens the interactive shell when stdin is a terminal.
 * With -w it runs the one command again every so many seconds (watch).
 * The exit status says what happened: 0 done, 1 refused or failed by the
 * daemon, 2 usage error, 3 daemon not reachable.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "ctl_commands.h"
#include "gwlbctl.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: gwlbctl [-jp] [-s socket] [-w seconds [-c count]] [command [argument ...]]\n"
	    "       gwlbctl -h | -V\n"
	    "  -j         JSON output, one document per command\n"
	    "  -p         JSON output, indented (implies -j)\n"
	    "  -s socket  control socket (default %s)\n"
	    "  -w seconds watch: run the command again every so many seconds\n"
	    "  -c count   watch: stop after count times (-w 1 unless given)\n"
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
	out_begin(g->out, CTL_VIEW_TABLE, ctl_cmd_get(CTL_CMD_HELP)->rtypes);
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
		out_begin(g->out, CTL_VIEW_NONE, NULL);
		out_end(g->out, EINVAL, text);
		return EXIT_USAGE;
	}
	if (a.id == CTL_CMD_QUIT) {
		*quit = true;
		return EXIT_OK;
	}
	if (a.id == CTL_CMD_HELP)
		return show_help(g);
	if (a.id == CTL_CMD_MONITOR)
		return monitor_run(g, &a);
	if (a.id == CTL_CMD_DOCTOR)
		return doctor_run(g, &a);
	out_begin(g->out, a.def->view, a.def->rtypes);
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

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

uint64_t
gwlbctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleeps until *next (CLOCK_MONOTONIC), then moves it on by step; false
 * when interrupted. */
static bool
sleep_until(struct timespec *next, double step)
{
	long long ns = next->tv_nsec + (long long)(step * 1e9);

	next->tv_sec += (time_t)(ns / 1000000000);
	next->tv_nsec = ns % 1000000000;
	while (!interrupted) {
		int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);

		if (r == 0)
			return true;
		if (r != EINTR)
			return false;
	}
	return false;
}

/*
 * Watch: the command again every interval seconds, count times (0: until
 * interrupted).  On a terminal, text output replaces the last one (cursor
 * home, clear screen); otherwise each output follows the last, text under
 * a header line, JSON one document after the other.  Stops at the first
 * failure, with its status; Ctrl-C ends it with status 0.
 */
static int
watch(struct gwlbctl *g, double interval, unsigned long count, int argc,
    const char *const *argv)
{
	/* SA_RESTART: a request under way completes; the sleep between
	 * runs ends at once (clock_nanosleep is never restarted). */
	struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESTART };
	struct ctl_cmd_args a;
	char text[CTL_ERRTEXT_MAX], cmd[256], stamp[32];
	bool quit = false, tty = !g->json && isatty(STDOUT_FILENO);
	struct timespec next;
	int status = EXIT_OK;

	if (ctl_cmd_parse((unsigned)argc, argv, &a, text, sizeof(text)) < 0) {
		out_begin(g->out, CTL_VIEW_NONE, NULL);
		out_end(g->out, EINVAL, text);
		return EXIT_USAGE;
	}
	if (a.def->flags & (CTL_CMDF_MUTATING | CTL_CMDF_LOCAL)) {
		snprintf(text, sizeof(text), "-w: '%s%s%s' cannot be watched (only "
		    "commands that show something)", a.def->words[0],
		    a.def->words[1] ? " " : "", a.def->words[1] ? a.def->words[1] : "");
		out_begin(g->out, CTL_VIEW_NONE, NULL);
		out_end(g->out, EINVAL, text);
		return EXIT_USAGE;
	}
	cmd[0] = '\0';
	for (unsigned i = 0; i < a.nwords; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s",
		    i ? " " : "", a.words[i]);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long n = 0; !interrupted && (count == 0 || n < count); n++) {
		if (n > 0 && !sleep_until(&next, interval))
			break;
		if (!g->json) {
			time_t now = time(NULL);
			struct tm tm;

			localtime_r(&now, &tm);
			strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
			if (tty)
				fputs("\033[H\033[2J", stdout);
			else if (n > 0)
				fputc('\n', stdout);
			printf("every %gs: %s%*s%s\n\n", interval, cmd,
			    (int)(strlen(cmd) < 40 ? 40 - strlen(cmd) : 1), "", stamp);
		}
		status = gwlbctl_run(g, (unsigned)argc, argv, &quit);
		if (status != EXIT_OK)
			break;
	}
	return status;
}

static int
parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.1 || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
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
	bool quit = false, pretty = false;
	double interval = 0;
	unsigned long count = 0;
	char *end;
	int ch, status;

	while ((ch = getopt_long(argc, argv, "+c:hjps:Vw:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || *end || count == 0 || *optarg < '0' || *optarg > '9') {
				fprintf(stderr, "gwlbctl: -c: bad count '%s' (expected 1 or more)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'L':
			list_commands();
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'j':
			g.json = true;
			break;
		case 'p':
			g.json = g.pretty = pretty = true;
			break;
		case 'w':
			if (parse_interval(optarg, &interval) < 0) {
				fprintf(stderr, "gwlbctl: -w: bad interval '%s' (expected seconds, "
				    "0.1 to 86400)\n", optarg);
				return EXIT_USAGE;
			}
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
	if ((interval > 0 || count > 0) && argc == 0) {
		fprintf(stderr, "gwlbctl: -w and -c need a command to watch\n");
		return EXIT_USAGE;
	}
	if (count > 0 && interval == 0)
		interval = 1;
	client_init(&g.cl, path);
	if (!(g.out = out_new(pretty ? &out_json_pretty : g.json ? &out_json : &out_text,
	    stdout, stderr))) {
		fprintf(stderr, "gwlbctl: out of memory\n");
		return EXIT_FAILED;
	}
	if (interval > 0)
		status = watch(&g, interval, count, argc, (const char *const *)argv);
	else if (argc > 0)
		status = gwlbctl_run(&g, (unsigned)argc, (const char *const *)argv, &quit);
	else if (isatty(STDIN_FILENO))
		status = shell_run(&g);
	else
		status = run_stdin(&g);
	client_close(&g.cl);
	out_free(g.out);
	return status;
}
