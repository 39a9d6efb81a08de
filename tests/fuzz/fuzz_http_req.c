/*
 * Fuzz harness for http_req_parse(): the bytes a client sends to the
 * health check port (daemon/health.c hands it whatever it has read so far,
 * up to HTTP_REQ_MAX).  Checked: no read past the bytes given; the status
 * is one of the four; MORE only while there is no blank line in the first
 * HTTP_REQ_MAX bytes and TOO_LONG only at HTTP_REQ_MAX bytes without one;
 * a complete request keeps its status and fields whatever follows it (the
 * health thread may have read more than the header block); and feeding
 * the same bytes in growing prefixes, as reads deliver them, never goes
 * from a final status back to MORE.
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"
#include "replay_main.h"

static bool
has_blank_line(const uint8_t *p, size_t n)
{
	if (n > HTTP_REQ_MAX)
		n = HTTP_REQ_MAX;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && (p[i + 1] == '\n' ||
		    (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')))
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req r, r2;
	enum http_req_status st, st2;
	uint8_t *more;

	st = http_req_parse((const char *)data, size, &r);
	FUZZ_CHECK(st == HTTP_REQ_MORE || st == HTTP_REQ_OK || st == HTTP_REQ_BAD ||
	    st == HTTP_REQ_TOO_LONG);
	FUZZ_CHECK((st == HTTP_REQ_MORE) == (!has_blank_line(data, size) && size < HTTP_REQ_MAX));
	FUZZ_CHECK((st == HTTP_REQ_TOO_LONG) == (!has_blank_line(data, size) && size >= HTTP_REQ_MAX));
	if (st == HTTP_REQ_OK) {
		FUZZ_CHECK(r.method == HTTP_GET || r.method == HTTP_HEAD || r.method == HTTP_OTHER);
		FUZZ_CHECK(r.path == HTTP_PATH_ROOT || r.path == HTTP_PATH_METRICS);
	}
	/* Whatever follows a complete header block does not matter. */
	if (st == HTTP_REQ_OK || st == HTTP_REQ_BAD) {
		more = malloc(size + 7);
		FUZZ_CHECK(more != NULL);
		memcpy(more, data, size);
		memcpy(more + size, "\0X\r\n\n\n", 7);
		st2 = http_req_parse((const char *)more, size + 7, &r2);
		FUZZ_CHECK(st2 == st);
		if (st == HTTP_REQ_OK)
			FUZZ_CHECK(r2.method == r.method && r2.path == r.path);
		free(more);
	}
	/* Growing prefixes: once final, final (every 97th length, to stay fast). */
	if (size <= HTTP_REQ_MAX + 16) {
		bool final = false;

		for (size_t n = 0; n <= size; n += (n < 64 ? 1 : 97)) {
			st2 = http_req_parse((const char *)data, n, &r2);
			if (final)
				FUZZ_CHECK(st2 != HTTP_REQ_MORE);
			final = st2 != HTTP_REQ_MORE;
		}
	}
	return 0;
}
