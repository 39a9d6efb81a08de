/*
 * Unit tests for the health check's request parser (lib/http_req.c): what
 * GWLB's and Prometheus' probes send is answered, a request that is not
 * complete waits for more, and malformed or oversized input gets its error
 * status, never a read past the bytes given (each input is parsed from a
 * malloc'd copy of exactly its length, so ASan sees any overrun).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"

static enum http_req_status
parse_n(const char *s, size_t len, struct http_req *r)
{
	char *c = malloc(len ? len : 1);
	enum http_req_status st;

	assert_non_null(c);
	memcpy(c, s, len);
	st = http_req_parse(c, len, r);
	free(c);
	return st;
}

static enum http_req_status
parse(const char *s, struct http_req *r)
{
	return parse_n(s, strlen(s), r);
}

static void
test_probes(void **state)
{
	struct http_req r;

	(void)state;
	/* GWLB's HTTP health check, as it sends it. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: 198.18.0.2:8182\r\n"
	    "User-Agent: ELB-HealthChecker/2.0\r\nAccept-Encoding: gzip, compressed\r\n"
	    "Connection: close\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.method, HTTP_GET);
	assert_int_equal(r.path, HTTP_PATH_ROOT);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.path, HTTP_PATH_METRICS);
	assert_int_equal(parse("GET /metrics?x=1 HTTP/1.1\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.path, HTTP_PATH_METRICS);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.path, HTTP_PATH_ROOT);
	assert_int_equal(parse("HEAD /health HTTP/1.0\n\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.method, HTTP_HEAD);
	/* HTTP/0.9 style: no version. */
	assert_int_equal(parse("GET /\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.method, HTTP_GET);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.method, HTTP_OTHER);
	assert_int_equal(parse("get / HTTP/1.1\r\n\r\n", &r), HTTP_REQ_OK);
	assert_int_equal(r.method, HTTP_OTHER);	/* methods are case-sensitive */
}

static void
test_incomplete(void **state)
{
	const char *full = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_req r;

	(void)state;
	/* Every proper prefix waits for more. */
	for (size_t n = 0; n < strlen(full); n++)
		assert_int_equal(parse_n(full, n, &r), HTTP_REQ_MORE);
	assert_int_equal(parse_n(full, strlen(full), &r), HTTP_REQ_OK);
	/* Bytes after the header block (a pipelined request) do not matter. */
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", &r),
	    HTTP_REQ_OK);
	assert_int_equal(r.path, HTTP_PATH_ROOT);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"\r\n\r\n",				/* no request line */
		"\n\n",
		"GET\r\n\r\n",				/* no target */
		"GET \r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",		/* two spaces */
		" GET / HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",		/* not a token */
		"GET /\x01 HTTP/1.1\r\n\r\n",		/* control character in the target */
		"GET / HTTP/1.1\x7f\r\n\r\n",
		"GETGETGETGETGETGET / HTTP/1.1\r\n\r\n",	/* method over 16 */
		"GET\t/ HTTP/1.1\r\n\r\n",
	};
	struct http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &r), HTTP_REQ_BAD);
	}
	/* A NUL byte is a byte: the blank line after it still ends the block. */
	assert_int_equal(parse_n("GET /\0 HTTP/1.1\r\n\r\n", 19, &r), HTTP_REQ_BAD);
	assert_int_equal(parse_n("GET / HTTP/1.1\r\nX: \0\r\n\r\n", 24, &r), HTTP_REQ_OK);
}

static void
test_too_long(void **state)
{
	char *buf = malloc(HTTP_REQ_MAX + 100);
	struct http_req r;
	size_t n;

	(void)state;
	assert_non_null(buf);
	n = (size_t)snprintf(buf, HTTP_REQ_MAX + 100, "GET / HTTP/1.1\r\nX-Big: ");
	memset(buf + n, 'a', HTTP_REQ_MAX + 100 - n);
	assert_int_equal(parse_n(buf, HTTP_REQ_MAX - 1, &r), HTTP_REQ_MORE);
	assert_int_equal(parse_n(buf, HTTP_REQ_MAX, &r), HTTP_REQ_TOO_LONG);
	assert_int_equal(parse_n(buf, HTTP_REQ_MAX + 100, &r), HTTP_REQ_TOO_LONG);
	/* Exactly HTTP_REQ_MAX bytes ending in the blank line is complete. */
	memcpy(buf + HTTP_REQ_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, HTTP_REQ_MAX, &r), HTTP_REQ_OK);
	/* A target over 2048 characters is refused, one of 2048 is not. */
	n = (size_t)snprintf(buf, HTTP_REQ_MAX, "GET /");
	memset(buf + n, 'p', 2047);
	memcpy(buf + n + 2047, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(parse_n(buf, n + 2047 + 13, &r), HTTP_REQ_OK);
	memset(buf + n, 'p', 2048);
	memcpy(buf + n + 2048, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(parse_n(buf, n + 2048 + 13, &r), HTTP_REQ_BAD);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests_name("http_req", tests, NULL, NULL);
}
