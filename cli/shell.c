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
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "ctl_commands.h"
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
	int		 sigpipe[2];	/* SIGWINCH */
	int		 intpipe[2];	/* SIGINT, also cancels a command */
	int		 tty;		/* the terminal, non-blocking */
	/* ENI ids and link names from the daemon, for completion. */
	char		*enis[CANDS_MAX];
	unsigned	 nenis;
	uint64_t	 enis_at;
	/* Candidates of the completion in progress. */
	char		*cands[CANDS_MAX];
	unsigned	 ncands;
} sh;

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

static void enis_clear(void);

static void
went_away(void)
{
	client_close(&sh.g->cl);
	enis_clear();	/* a new daemon has ENIs of its own */
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

	if (sh.nenis && gwlbctl_mono_ms() - sh.enis_at < ENI_CACHE_MS)
		return;
	enis_clear();
	sh.enis_at = gwlbctl_mono_ms();
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
	n = ctl_split_line(copy, words, GWLBCTL_LINE_WORDS);
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
	if ((n = ctl_split_line(copy, words, GWLBCTL_LINE_WORDS)) > 0) {
		add_history(line);
		if (sh.histfile && append_history(1, sh.histfile) != 0)
			write_history(sh.histfile);
		gwlbctl_run(sh.g, n, words, &quit);
		/* A ^C during the command was for the command: it is spent. */
		while (read(sh.intpipe[0], &(char){ 0 }, 1) == 1)
			;
		/*
		 * A command may end without a connection: ^C, a bad reply, or
		 * the daemon gone.  Only the last is worth a word.
		 */
		if (sh.g->cl.fd < 0) {
			char text[256];

			if (client_connect(&sh.g->cl, text, sizeof(text)) < 0 &&
			    sh.was_up)
				printf("gwlbtund went away; reconnecting\n");
		}
		sh.was_up = sh.g->cl.fd >= 0;
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
	int saved = errno;

	(void)!write(sig == SIGINT ? sh.intpipe[1] : sh.sigpipe[1], "", 1);
	errno = saved;
}

/* ^C: drop the line being edited, like a shell does. */
static void
cancel_line(void)
{
	unsigned char c;

	while (read(sh.intpipe[0], &c, 1) == 1)
		;
	rl_replace_line("", 0);
	rl_point = 0;
	fputs("^C\n", stdout);
	rl_on_new_line();
}

/* Bound to ^C, which shell_getc() returns when SIGINT came. */
static int
cancel_key(int count, int key)
{
	(void)count;
	(void)key;
	cancel_line();
	return 0;
}

static void
handle_signals(void)
{
	unsigned char c;
	bool winch = false;
	struct pollfd p = { .fd = sh.intpipe[0], .events = POLLIN };

	while (read(sh.sigpipe[0], &c, 1) == 1)
		winch = true;
	if (winch)
		rl_resize_terminal();
	if (poll(&p, 1, 0) == 1) {
		rl_free_line_state();
		rl_callback_sigcleanup();
		cancel_line();
		rl_redisplay();
	}
}

/*
 * readline reads a byte at a time.  A ^C makes the terminal drop the input
 * it holds, possibly between our poll() and readline's read(): a blocking
 * read would then sit there until the next key.  So the terminal is read
 * through its own non-blocking descriptor, and while nothing is there we
 * wait for a key or for SIGINT, which comes back as a ^C key.
 */
static int
shell_getc(FILE *fp)
{
	struct pollfd p[2] = {
		{ .fd = fileno(fp), .events = POLLIN },
		{ .fd = sh.intpipe[0], .events = POLLIN },
	};
	unsigned char ch;
	ssize_t n;

	for (;;) {
		if ((n = read(p[0].fd, &ch, 1)) == 1)
			return ch;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return EOF;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return EOF;
		if (p[1].revents & POLLIN)
			return CTRL('C');
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
	struct pollfd pfd[4];
	int r, timeout;

	sh.g = g;
	if (pipe2(sh.sigpipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(sh.intpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("gwlbctl: pipe");
		return EXIT_FAILED;
	}
	/* ^C while a command waits for the daemon gives up on it. */
	g->cl.cancel_fd = sh.intpipe[0];
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);

	using_history();
	stifle_history(HISTORY_MAX);
	if ((sh.histfile = history_path()))
		read_history(sh.histfile);

	/* A descriptor of our own: O_NONBLOCK must not reach the caller's shell. */
	sh.tty = open("/dev/tty", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (sh.tty >= 0 && (rl_instream = fdopen(sh.tty, "r")) != NULL)
		rl_getc_function = shell_getc;
	else
		sh.tty = STDIN_FILENO;	/* no controlling terminal: plain reads */
	rl_readline_name = "gwlbctl";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_initialize();
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = (char *)" \t";
	rl_bind_key('?', help_key);
	rl_bind_key(CTRL('C'), cancel_key);

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
		pfd[0] = (struct pollfd){ .fd = sh.tty, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sh.sigpipe[0], .events = POLLIN };
		/* The daemon never speaks unasked: readable means it left. */
		pfd[2] = (struct pollfd){ .fd = g->cl.fd, .events = POLLIN };
		pfd[3] = (struct pollfd){ .fd = sh.intpipe[0], .events = POLLIN };
		timeout = g->cl.fd < 0 ? RECONNECT_MS : -1;
		r = poll(pfd, 4, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("gwlbctl: poll");
			break;
		}
		if ((pfd[1].revents | pfd[3].revents) & POLLIN)
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
	g->cl.cancel_fd = -1;
	close(sh.sigpipe[0]);
	close(sh.sigpipe[1]);
	close(sh.intpipe[0]);
	close(sh.intpipe[1]);
	if (sh.tty != STDIN_FILENO)
		fclose(rl_instream);
	return EXIT_OK;
}
