/*
 * gwlbctl's interactive shell: readline's callback interface in a poll()
 * loop over the terminal, the daemon connection and a signal pipe, so the
 * shell notices when gwlbtund goes away (the prompt says so) and
 * reconnects by itself once a second.
 *
 * TAB completes from the command table and, where an ENI is expected, from
 * the ENI ids and link names the daemon reports in `show enis` (cached for
 * a moment, so holding TAB does not hammer the daemon); `?` lists what may
 * come next with a line of help each.  History lives in ~/.gwlbctl_history.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "ctl_cmd.h"
#include "gwlbctl.h"

#define HISTORY_MAX		1000
#define ENI_CACHE_MS		2000
#define RECONNECT_MS		1000
#define CANDS_MAX		512

static const char prompt_up[] = "gwlbctl> ";
static const char prompt_down[] = "gwlbctl (disconnected)> ";

static struct {
	struct gwlbctl	*g;
	bool		 done;
	bool		 was_up;
	char		*histfile;
	int		 sigpipe[2];
	/* ENI ids and link names from the daemon, for completion. */
	char		*enis[CANDS_MAX];
	unsigned	 nenis;
	uint64_t	 enis_at;
	/* Candidates of the completion in progress. */
	char		*cands[CANDS_MAX];
	unsigned	 ncands;
} sh;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
prompt(void)
{
	return sh.g->cl.fd >= 0 ? prompt_up : prompt_down;
}

/* Prints a line above the one being edited, keeping the edit intact. */
static void
notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
notify(const char *fmt, ...)
{
	char *saved = rl_copy_text(0, rl_end);
	int point = rl_point;
	va_list ap;

	rl_set_prompt("");
	rl_replace_line("", 0);
	rl_redisplay();
	fputc('\r', stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	rl_set_prompt(prompt());
	rl_replace_line(saved ? saved : "", 0);
	rl_point = point;
	rl_redisplay();
	free(saved);
}

static void
try_connect(void)
{
	char text[256];

	if (sh.g->cl.fd >= 0)
		return;
	if (client_connect(&sh.g->cl, text, sizeof(text)) == 0) {
		if (!sh.was_up)
			notify("connected to gwlbtund at %s", sh.g->cl.path);
		sh.was_up = true;
	}
}

static void
went_away(void)
{
	client_close(&sh.g->cl);
	if (sh.was_up)
		notify("gwlbtund went away; reconnecting");
	sh.was_up = false;
}

/* --- completion ---------------------------------------------------------- */

static void
enis_clear(void)
{
	for (unsigned i = 0; i < sh.nenis; i++)
		free(sh.enis[i]);
	sh.nenis = 0;
}

static void
enis_add(const char *s)
{
	if (!*s || strcmp(s, "none") == 0 || sh.nenis >= CANDS_MAX)
		return;
	for (unsigned i = 0; i < sh.nenis; i++)
		if (strcmp(sh.enis[i], s) == 0)
			return;
	if ((sh.enis[sh.nenis] = strdup(s)))
		sh.nenis++;
}

static int
enis_record(const struct ctl_record *rec, void *arg)
{
	(void)arg;
	if (strcmp(rec->type, "eni") != 0)
		return 0;
	for (unsigned i = 0; i < rec->nfields; i++) {
		const struct ctl_field *f = &rec->field[i];

		if (f->type == CTL_FT_STR && (strcmp(f->name, "eni") == 0 ||
		    strcmp(f->name, "if_in") == 0 || strcmp(f->name, "if_out") == 0))
			enis_add(f->v.str);
	}
	return 0;
}

static void
enis_fetch(void)
{
	static const char *const words[] = { "show", "enis" };
	char text[256];
	int err;

	if (sh.nenis && now_ms() - sh.enis_at < ENI_CACHE_MS)
		return;
	enis_clear();
	sh.enis_at = now_ms();
	client_request(&sh.g->cl, 2, words, enis_record, NULL, &err, text,
	    sizeof(text));
	sh.was_up = sh.g->cl.fd >= 0;
	rl_set_prompt(prompt());
}

static void
cands_clear(void)
{
	for (unsigned i = 0; i < sh.ncands; i++)
		free(sh.cands[i]);
	sh.ncands = 0;
}

static void
cand_add(const char *s, const char *text)
{
	if (strncmp(s, text, strlen(text)) != 0 || sh.ncands >= CANDS_MAX)
		return;
	for (unsigned i = 0; i < sh.ncands; i++)
		if (strcmp(sh.cands[i], s) == 0)
			return;
	if ((sh.cands[sh.ncands] = strdup(s)))
		sh.ncands++;
}

/* Words of the line before position end; *partial says end is mid-word. */
static unsigned
line_words(int end, char *copy, size_t len, const char **words, bool *partial)
{
	unsigned n;

	snprintf(copy, len, "%.*s", end, rl_line_buffer);
	*partial = end > 0 && rl_line_buffer[end - 1] != ' ' &&
	    rl_line_buffer[end - 1] != '\t';
	n = gwlbctl_split(copy, words, GWLBCTL_LINE_WORDS);
	return n;
}

static char *
cand_gen(const char *text, int state)
{
	static unsigned i;

	(void)text;
	if (state == 0)
		i = 0;
	return i < sh.ncands ? strdup(sh.cands[i++]) : NULL;
}

static char **
complete(const char *text, int start, int end)
{
	const char *words[GWLBCTL_LINE_WORDS];
	struct ctl_next nx;
	char copy[1024], err[256];
	bool partial;
	unsigned n;

	(void)end;
	rl_attempted_completion_over = 1;
	cands_clear();
	n = line_words(start, copy, sizeof(copy), words, &partial);
	if (ctl_cmd_next(n, words, &nx, err, sizeof(err)) < 0)
		return NULL;
	for (unsigned i = 0; i < nx.n; i++) {
		const struct ctl_cand *c = &nx.cand[i];

		if (c->kind == CTL_CAND_WORD) {
			cand_add(c->word, text);
		} else if (c->type == CTL_ARG_ENI || c->type == CTL_ARG_ENI_ANY) {
			enis_fetch();
			for (unsigned j = 0; j < sh.nenis; j++)
				cand_add(sh.enis[j], text);
		}
	}
	if (!sh.ncands)
		return NULL;
	return rl_completion_matches(text, cand_gen);
}

/* `?`: what may come here, and why. */
static int
help_key(int count, int key)
{
	const char *words[GWLBCTL_LINE_WORDS];
	struct ctl_next nx;
	char copy[1024], err[256];
	const char *cur = "";
	bool partial;
	unsigned n;

	(void)count;
	(void)key;
	n = line_words(rl_point, copy, sizeof(copy), words, &partial);
	if (partial && n > 0)
		cur = words[--n];
	fputc('\n', stdout);
	if (ctl_cmd_next(n, words, &nx, err, sizeof(err)) < 0) {
		printf("  %s\n", err);
	} else {
		for (unsigned i = 0; i < nx.n; i++) {
			const struct ctl_cand *c = &nx.cand[i];
			const char *w = c->kind == CTL_CAND_WORD ? c->word : c->meta;

			if (c->kind == CTL_CAND_WORD &&
			    strncmp(c->word, cur, strlen(cur)) != 0)
				continue;
			printf("  %-12s %s\n", w, c->help);
		}
		if (nx.complete && !*cur)
			printf("  %-12s %s\n", "<Enter>", "run the command");
	}
	fflush(stdout);
	rl_on_new_line();
	rl_redisplay();
	return 0;
}

/* --- lines and signals --------------------------------------------------- */

static void
on_line(char *line)
{
	const char *words[GWLBCTL_LINE_WORDS];
	char *copy;
	bool quit = false;
	unsigned n;

	if (!line) {			/* ^D */
		fputc('\n', stdout);
		sh.done = true;
		return;
	}
	/* TAB leaves a blank behind; history need not keep it. */
	for (size_t len = strlen(line); len > 0 && (line[len - 1] == ' ' ||
	    line[len - 1] == '\t'); len--)
		line[len - 1] = '\0';
	if (!(copy = strdup(line))) {
		free(line);
		return;
	}
	if ((n = gwlbctl_split(copy, words, GWLBCTL_LINE_WORDS)) > 0) {
		add_history(line);
		if (sh.histfile && append_history(1, sh.histfile) != 0)
			write_history(sh.histfile);
		gwlbctl_run(sh.g, n, words, &quit);
		if (sh.g->cl.fd < 0 && sh.was_up) {
			sh.was_up = false;
			printf("gwlbtund went away; reconnecting\n");
		} else if (sh.g->cl.fd >= 0) {
			sh.was_up = true;
		}
		fflush(stdout);
	}
	free(copy);
	free(line);
	if (quit)
		sh.done = true;
	else
		rl_set_prompt(prompt());
}

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)!write(sh.sigpipe[1], &c, 1);
	errno = saved;
}

static void
handle_signals(void)
{
	unsigned char c;

	while (read(sh.sigpipe[0], &c, 1) == 1) {
		if (c == SIGINT) {
			/* Drop the line being edited, like a shell does. */
			rl_free_line_state();
			rl_callback_sigcleanup();
			rl_replace_line("", 0);
			fputs("^C\n", stdout);
			rl_on_new_line();
			rl_redisplay();
		} else if (c == SIGWINCH) {
			rl_resize_terminal();
		}
	}
}

static char *
history_path(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *p;
	int fd;

	if (!home || !*home)
		home = (pw = getpwuid(getuid())) ? pw->pw_dir : NULL;
	if (!home || asprintf(&p, "%s/.gwlbctl_history", home) < 0)
		return NULL;
	/* append_history() wants the file to exist. */
	if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	return p;
}

int
shell_run(struct gwlbctl *g)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[3];
	int r, timeout;

	sh.g = g;
	if (pipe2(sh.sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("gwlbctl: pipe");
		return EXIT_FAILED;
	}
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);

	using_history();
	stifle_history(HISTORY_MAX);
	if ((sh.histfile = history_path()))
		read_history(sh.histfile);

	rl_readline_name = "gwlbctl";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_initialize();
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = (char *)" \t";
	rl_bind_key('?', help_key);

	printf("gwlbctl %s: type help for the commands, ? for what may come next, "
	    "TAB to complete.\n", PACKAGE_VERSION);
	{
		char text[256];

		if (client_connect(&g->cl, text, sizeof(text)) < 0)
			printf("%s; retrying every second\n", text);
	}
	sh.was_up = g->cl.fd >= 0;
	rl_callback_handler_install(prompt(), on_line);

	while (!sh.done) {
		pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sh.sigpipe[0], .events = POLLIN };
		/* The daemon never speaks unasked: readable means it left. */
		pfd[2] = (struct pollfd){ .fd = g->cl.fd, .events = POLLIN };
		timeout = g->cl.fd < 0 ? RECONNECT_MS : -1;
		r = poll(pfd, 3, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("gwlbctl: poll");
			break;
		}
		if (pfd[1].revents & POLLIN)
			handle_signals();
		if (g->cl.fd >= 0 && pfd[2].revents)
			went_away();
		if (g->cl.fd < 0 && r == 0)
			try_connect();
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			rl_callback_read_char();
	}
	rl_callback_handler_remove();
	if (sh.histfile) {
		history_truncate_file(sh.histfile, HISTORY_MAX);
		free(sh.histfile);
	}
	cands_clear();
	enis_clear();
	close(sh.sigpipe[0]);
	close(sh.sigpipe[1]);
	return EXIT_OK;
}
