/*
 * The JSON writer (json.h).  It keeps only a stack of "first element"
 * flags: the caller says begin/key/value/end and the writer places the
 * commas and colons, so no renderer counts separators by hand.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at s, or 0 (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF). */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	/* A NUL ends the string first: it fails the continuation test. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
json_write_string(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	fputc('"', fp);
	while (*s) {
		size_t n;

		if (*s == '"' || *s == '\\') {
			fputc('\\', fp);
			fputc(*s++, fp);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(fp, "\\u%04x", *s++);
		} else if ((n = utf8_len(s)) == 0) {
			fputs("\\ufffd", fp);
			s++;
		} else {
			fwrite(s, 1, n, fp);
			s += n;
		}
	}
	fputc('"', fp);
}

void
json_init(struct json *j, FILE *fp)
{
	*j = (struct json){ .fp = fp };
	j->first[0] = true;
}

void
json_set_pretty(struct json *j, bool pretty)
{
	j->pretty = pretty;
}

/* Pretty: a new line indented for the given depth. */
static void
indent(struct json *j, int depth)
{
	if (!j->pretty)
		return;
	fputc('\n', j->fp);
	for (int i = 0; i < depth; i++)
		fputs("  ", j->fp);
}

/* Before any value or key: the comma, unless it follows a key. */
static void
sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = false;
	if (j->depth > 0)
		indent(j, j->depth);
}

/* A value: in an object only right after its key. */
static void
value(struct json *j)
{
	if ((j->in_obj[j->depth] && !j->after_key) || (j->depth == 0 && !j->first[0]))
		j->bad = true;
	sep(j);
}

static void
push(struct json *j, char c)
{
	value(j);
	fputc(c, j->fp);
	if (j->depth + 1 >= JSON_DEPTH_MAX) {
		j->bad = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
	j->in_obj[j->depth] = c == '{';
}

static void
pop(struct json *j, char c)
{
	if (j->depth == 0 || j->after_key || j->in_obj[j->depth] != (c == '}')) {
		j->bad = true;
	} else {
		/* An empty one stays "[]" or "{}". */
		if (!j->first[j->depth])
			indent(j, j->depth - 1);
		j->depth--;
	}
	fputc(c, j->fp);
}

void
json_obj_begin(struct json *j)
{
	push(j, '{');
}

void
json_obj_end(struct json *j)
{
	pop(j, '}');
}

void
json_arr_begin(struct json *j)
{
	push(j, '[');
}

void
json_arr_end(struct json *j)
{
	pop(j, ']');
}

void
json_key(struct json *j, const char *key)
{
	if (j->after_key || !j->in_obj[j->depth])
		j->bad = true;
	sep(j);
	json_write_string(j->fp, key);
	fputs(j->pretty ? ": " : ":", j->fp);
	j->after_key = true;
}

void
json_str(struct json *j, const char *s)
{
	value(j);
	json_write_string(j->fp, s);
}

void
json_u64(struct json *j, uint64_t v)
{
	value(j);
	fprintf(j->fp, "%" PRIu64, v);
}

void
json_s64(struct json *j, int64_t v)
{
	value(j);
	fprintf(j->fp, "%" PRId64, v);
}

void
json_bool(struct json *j, bool v)
{
	value(j);
	fputs(v ? "true" : "false", j->fp);
}

int
json_finish(struct json *j)
{
	return j->bad || j->depth != 0 || j->after_key || j->first[0] ? -EINVAL : 0;
}
