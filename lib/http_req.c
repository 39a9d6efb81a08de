/* The health check's HTTP request parser: see http_req.h. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "http_req.h"

#define METHOD_MAX	16
#define TARGET_MAX	2048

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool
is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Offset just past the blank line ending the header block, or 0. */
static size_t
header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

enum http_req_status
http_req_parse(const char *buf, size_t len, struct http_req *req)
{
	const unsigned char *p = (const unsigned char *)buf, *end;
	size_t n, m, path_len;

	if (len > HTTP_REQ_MAX)
		len = HTTP_REQ_MAX;
	n = header_end(buf, len);
	if (!n)
		return len >= HTTP_REQ_MAX ? HTTP_REQ_TOO_LONG : HTTP_REQ_MORE;
	end = memchr(p, '\n', n);	/* the request line */
	if (end > p && end[-1] == '\r')
		end--;
	for (m = 0; p + m < end && is_tchar(p[m]); m++)
		;
	if (m == 0 || m > METHOD_MAX || p + m == end || p[m] != ' ')
		return HTTP_REQ_BAD;
	if (m == 3 && memcmp(p, "GET", 3) == 0)
		req->method = HTTP_GET;
	else if (m == 4 && memcmp(p, "HEAD", 4) == 0)
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;
	p += m + 1;
	for (m = 0; p + m < end && is_vchar(p[m]); m++)
		;
	if (m == 0 || m > TARGET_MAX || (p + m < end && p[m] != ' '))
		return HTTP_REQ_BAD;
	for (path_len = 0; path_len < m && p[path_len] != '?'; path_len++)
		;
	req->path = path_len == 8 && memcmp(p, "/metrics", 8) == 0 ?
	    HTTP_PATH_METRICS : HTTP_PATH_ROOT;
	/* The version, when there is one, must be visible characters too. */
	for (p += m; p < end; p++)
		if (!is_vchar(*p) && *p != ' ')
			return HTTP_REQ_BAD;
	return HTTP_REQ_OK;
}
