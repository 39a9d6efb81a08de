/*
 * Fuzz harness for the configuration file parser (daemon/conf.c,
 * conf_load_stream() over fmemopen): what an operator or a tool writes to
 * --config, every keyword of the option table plus route and rule lines
 * through the command table.  Run as at start and as on SIGHUP (errors to
 * stderr or the log; both silenced here).  Checked: 0 or -1; on -1 nothing
 * changed (show config is what it was); on 0 show config has a value for
 * every setting, the routes it took are at most one per line, and loading
 * the same bytes again (a SIGHUP with an unchanged file) succeeds and
 * changes nothing.
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "replay_main.h"

struct shown {
	char	buf[16384];
	size_t	len;
	unsigned n;
};

static void
show_one(const char *name, const char *value, void *arg)
{
	struct shown *s = arg;
	int k;

	FUZZ_CHECK(name && *name && value);
	k = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "%s=%s\n", name, value);
	FUZZ_CHECK(k > 0 && (size_t)k < sizeof(s->buf) - s->len);
	s->len += (size_t)k;
	s->n++;
}

static void
show(struct shown *s)
{
	s->len = 0;
	s->n = 0;
	s->buf[0] = '\0';
	conf_show(show_one, s);
}

static int
load(const uint8_t *data, size_t size, bool at_start)
{
	static int devnull = -1, saved = -1;
	FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
	int r;

	FUZZ_CHECK(f != NULL);
	if (devnull < 0) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
	}
	fflush(stderr);
	dup2(devnull, 2);
	r = conf_load_stream(f, "fuzz.conf", at_start);
	fflush(stderr);
	dup2(saved, 2);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == -1);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shown before, after, again;
	unsigned lines = 1;
	int r;

	if (size == 0 || size > 65536)
		return 0;
	log_set_all(LOG_CRITICAL);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (int at_start = 0; at_start < 2; at_start++) {
		conf_reset();
		show(&before);
		r = load(data, size, at_start);
		show(&after);
		if (r < 0) {
			FUZZ_CHECK(after.len == before.len &&
			    memcmp(after.buf, before.buf, after.len) == 0);
			continue;
		}
		FUZZ_CHECK(after.n == before.n);
		FUZZ_CHECK(conf.n_cfg_routes <= lines);
		FUZZ_CHECK(load(data, size, false) == 0);
		show(&again);
		FUZZ_CHECK(again.len == after.len && memcmp(again.buf, after.buf, after.len) == 0);
	}
	conf_reset();
	return 0;
}
