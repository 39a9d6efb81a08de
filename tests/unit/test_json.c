/*
 * Unit tests for the JSON writer (lib/json.c): exact bytes out for
 * escaping (quotes, backslash, every control character, DEL), UTF-8 (valid
 * sequences passed through, each invalid byte as \ufffd), nesting and
 * commas, the extremes of both number types, and misuse reported by
 * json_finish.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* The string literal json_write_string makes of s. */
static char *
lit(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	json_write_string(fp, s);
	fclose(fp);
	return buf;
}

static void
check_lit(const char *in, const char *want)
{
	char *got = lit(in);

	assert_string_equal(got, want);
	free(got);
}

static void
test_escape(void **state)
{
	(void)state;
	check_lit("", "\"\"");
	check_lit("plain text", "\"plain text\"");
	check_lit("say \"hi\"", "\"say \\\"hi\\\"\"");
	check_lit("C:\\path\\", "\"C:\\\\path\\\\\"");
	check_lit("a/b", "\"a/b\"");		/* '/' needs no escape */
	check_lit("tab\there\nnl\rcr", "\"tab\\u0009here\\u000anl\\u000dcr\"");
	check_lit("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check_lit("\x1b[31mred", "\"\\u001b[31mred\"");
}

static void
test_every_control_char(void **state)
{
	(void)state;
	for (int c = 1; c < 0x20; c++) {
		char in[2] = { (char)c, 0 }, want[16];

		snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		check_lit(in, want);
	}
}

static void
test_utf8_valid(void **state)
{
	(void)state;
	check_lit("caf\xc3\xa9", "\"caf\xc3\xa9\"");			/* U+00E9 */
	check_lit("\xe2\x82\xac", "\"\xe2\x82\xac\"");			/* U+20AC */
	check_lit("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");		/* U+1F600 */
	check_lit("\xc2\x80", "\"\xc2\x80\"");				/* U+0080, smallest 2-byte */
	check_lit("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");			/* U+FFFF */
	check_lit("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");		/* U+10FFFF, the last */
}

static void
test_utf8_invalid(void **state)
{
	(void)state;
	/* A lone continuation byte, a lone lead byte, bytes never valid. */
	check_lit("a\x80z", "\"a\\ufffdz\"");
	check_lit("a\xc3", "\"a\\ufffd\"");
	check_lit("\xff\xfe", "\"\\ufffd\\ufffd\"");
	/* A truncated sequence: the lead byte is replaced, what follows kept. */
	check_lit("\xe2\x82z", "\"\\ufffd\\ufffdz\"");
	/* Overlong forms of '/' and of NUL. */
	check_lit("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check_lit("\xe0\x80\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	/* A UTF-16 surrogate encoded as UTF-8 (U+D800). */
	check_lit("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	/* Past U+10FFFF. */
	check_lit("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Valid after invalid: resynchronised. */
	check_lit("\x80\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
}

struct doc {
	char	*buf;
	size_t	 len;
	FILE	*fp;
	struct json j;
};

static void
doc_open(struct doc *d)
{
	memset(d, 0, sizeof(*d));
	d->fp = open_memstream(&d->buf, &d->len);
	assert_non_null(d->fp);
	json_init(&d->j, d->fp);
}

/* Closes the stream; returns json_finish's verdict. */
static int
doc_close(struct doc *d)
{
	int err = json_finish(&d->j);

	fclose(d->fp);
	return err;
}

static void
nested(struct doc *d)
{
	json_obj_begin(&d->j);
	json_key(&d->j, "empty_obj");
	json_obj_begin(&d->j);
	json_obj_end(&d->j);
	json_key(&d->j, "empty_arr");
	json_arr_begin(&d->j);
	json_arr_end(&d->j);
	json_key(&d->j, "list");
	json_arr_begin(&d->j);
	json_u64(&d->j, 1);
	json_obj_begin(&d->j);
	json_key(&d->j, "k\"ey");
	json_str(&d->j, "v");
	json_key(&d->j, "deep");
	json_arr_begin(&d->j);
	json_arr_begin(&d->j);
	json_bool(&d->j, false);
	json_arr_end(&d->j);
	json_arr_end(&d->j);
	json_obj_end(&d->j);
	json_bool(&d->j, true);
	json_arr_end(&d->j);
	json_key(&d->j, "last");
	json_str(&d->j, "x");
	json_obj_end(&d->j);
}

/* Pretty: the same document, a member per line, two spaces a level,
 * empty containers kept on their line. */
static void
test_pretty(void **state)
{
	struct doc d;

	(void)state;
	doc_open(&d);
	json_set_pretty(&d.j, true);
	nested(&d);
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf,
	    "{\n"
	    "  \"empty_obj\": {},\n"
	    "  \"empty_arr\": [],\n"
	    "  \"list\": [\n"
	    "    1,\n"
	    "    {\n"
	    "      \"k\\\"ey\": \"v\",\n"
	    "      \"deep\": [\n"
	    "        [\n"
	    "          false\n"
	    "        ]\n"
	    "      ]\n"
	    "    },\n"
	    "    true\n"
	    "  ],\n"
	    "  \"last\": \"x\"\n"
	    "}");
	free(d.buf);

	doc_open(&d);
	json_set_pretty(&d.j, true);
	json_arr_begin(&d.j);
	json_arr_end(&d.j);
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf, "[]");
	free(d.buf);
}

static void
test_nesting(void **state)
{
	struct doc d;

	(void)state;
	doc_open(&d);
	nested(&d);
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf,
	    "{\"empty_obj\":{},\"empty_arr\":[],\"list\":[1,{\"k\\\"ey\":\"v\","
	    "\"deep\":[[false]]},true],\"last\":\"x\"}");
	free(d.buf);
}

static void
test_numbers(void **state)
{
	struct doc d;

	(void)state;
	doc_open(&d);
	json_arr_begin(&d.j);
	json_u64(&d.j, 0);
	json_u64(&d.j, UINT64_MAX);
	json_s64(&d.j, -1);
	json_s64(&d.j, INT64_MIN);
	json_s64(&d.j, INT64_MAX);
	json_arr_end(&d.j);
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf, "[0,18446744073709551615,-1,-9223372036854775808,"
	    "9223372036854775807]");
	free(d.buf);
}

static void
test_misuse(void **state)
{
	struct doc d;

	(void)state;
	/* Unclosed object. */
	doc_open(&d);
	json_obj_begin(&d.j);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Value without a key inside an object. */
	doc_open(&d);
	json_obj_begin(&d.j);
	json_u64(&d.j, 1);
	json_obj_end(&d.j);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Key without a value. */
	doc_open(&d);
	json_obj_begin(&d.j);
	json_key(&d.j, "k");
	json_obj_end(&d.j);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Key inside an array. */
	doc_open(&d);
	json_arr_begin(&d.j);
	json_key(&d.j, "k");
	json_u64(&d.j, 1);
	json_arr_end(&d.j);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Mismatched close. */
	doc_open(&d);
	json_arr_begin(&d.j);
	json_obj_end(&d.j);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Two documents. */
	doc_open(&d);
	json_u64(&d.j, 1);
	json_u64(&d.j, 2);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Nothing at all. */
	doc_open(&d);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Too deep. */
	doc_open(&d);
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		json_arr_begin(&d.j);
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		json_arr_end(&d.j);
	assert_int_equal(doc_close(&d), -EINVAL);
	free(d.buf);
	/* Just deep enough is fine. */
	doc_open(&d);
	for (int i = 0; i < JSON_DEPTH_MAX - 1; i++)
		json_arr_begin(&d.j);
	for (int i = 0; i < JSON_DEPTH_MAX - 1; i++)
		json_arr_end(&d.j);
	assert_int_equal(doc_close(&d), 0);
	free(d.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_every_control_char),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
