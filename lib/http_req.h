/*
 * The health check's HTTP request parser (daemon/health.c): a pure
 * function over the bytes a client has sent so far, so it can be fuzzed
 * and unit tested without sockets.  Binary safe: a NUL byte is just a
 * byte.  Only what the health check needs: the method and the path of the
 * request line once the header block is complete; the headers themselves
 * are not interpreted.
 */
#ifndef GWLB_HTTP_REQ_H
#define GWLB_HTTP_REQ_H

#include <stddef.h>

#define HTTP_REQ_MAX	4096	/* request line and headers, the blank line included */

enum http_req_status {
	HTTP_REQ_MORE,		/* header block not complete yet: read more */
	HTTP_REQ_OK,		/* a request line we can answer: see http_req */
	HTTP_REQ_BAD,		/* complete, but the request line is malformed: 400 */
	HTTP_REQ_TOO_LONG,	/* HTTP_REQ_MAX bytes and still no blank line: 431 */
};

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };	/* OTHER: 405 */

enum http_path { HTTP_PATH_ROOT, HTTP_PATH_METRICS };	/* anything but /metrics is the page */

struct http_req {
	enum http_method method;
	enum http_path	path;
};

/*
 * Parse the first len bytes a client sent.  Returns HTTP_REQ_MORE until
 * the header block ends ("\r\n\r\n", or "\n\n" from a sloppy client)
 * within HTTP_REQ_MAX bytes.  The request line is METHOD SP TARGET [SP
 * VERSION]; METHOD is 1 to 16 token characters, TARGET 1 to 2048
 * visible characters; its query ("?...") does not count for the path.
 */
enum http_req_status http_req_parse(const char *buf, size_t len, struct http_req *req);

#endif
