/*
 * The one JSON writer: gwlbctl's -j output and the daemon's health page
 * both go through it.  Compact output (no spaces) or, pretty, one member
 * per line indented by two spaces a level; commas placed by the writer, strings escaped as RFC 8259 asks: '"' and '\\' with a backslash,
 * control characters (and DEL) as \u00XX, valid UTF-8 passed through, and
 * every byte that is not part of a valid UTF-8 sequence (overlong forms,
 * surrogates, code points past U+10FFFF included) replaced by \ufffd, so
 * the document is always valid UTF-8 whatever a daemon string holds.
 */
#ifndef GWLB_JSON_H
#define GWLB_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX	16

struct json {
	FILE	*fp;
	int	 depth;
	bool	 first[JSON_DEPTH_MAX];	/* nothing written yet at this level */
	bool	 in_obj[JSON_DEPTH_MAX];	/* this level is an object */
	bool	 after_key;		/* a key is waiting for its value */
	bool	 pretty;		/* newlines and indentation */
	bool	 bad;			/* misuse: unbalanced, too deep, key outside an object */
};

void	 json_init(struct json *j, FILE *fp);
/* After json_init, before anything is written: pretty print. */
void	 json_set_pretty(struct json *j, bool pretty);

void	 json_obj_begin(struct json *j);
void	 json_obj_end(struct json *j);
void	 json_arr_begin(struct json *j);
void	 json_arr_end(struct json *j);
/* In an object: the key, then exactly one value (or container). */
void	 json_key(struct json *j, const char *key);

void	 json_str(struct json *j, const char *s);
void	 json_u64(struct json *j, uint64_t v);
void	 json_s64(struct json *j, int64_t v);
void	 json_bool(struct json *j, bool v);

/* 0 when the document is complete and well formed, else -EINVAL. */
int	 json_finish(struct json *j);

/* A JSON string literal (quotes included) for s, on fp. */
void	 json_write_string(FILE *fp, const char *s);

#endif
