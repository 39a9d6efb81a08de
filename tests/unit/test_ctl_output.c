/*
 * Unit tests for gwlbctl's output (cli/output.c): records in, exact text
 * and JSON out.  Tables, detail blocks, property lists, titles when types
 * mix, every value type, and bytes a daemon string must not smuggle onto a
 * terminal or into a JSON document.
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

#include "output.h"

struct cap {
	char	*out, *err;
	size_t	 outlen, errlen;
	FILE	*fo, *fe;
	struct out *o;
};

static void
cap_open(struct cap *c, const struct out_ops *ops, enum ctl_view view)
{
	memset(c, 0, sizeof(*c));
	c->fo = open_memstream(&c->out, &c->outlen);
	c->fe = open_memstream(&c->err, &c->errlen);
	assert_non_null(c->fo);
	assert_non_null(c->fe);
	c->o = out_new(ops, c->fo, c->fe);
	assert_non_null(c->o);
	out_begin(c->o, view, NULL);
}

static void
cap_close(struct cap *c, int err, const char *text)
{
	out_end(c->o, err, text);
	fclose(c->fo);
	fclose(c->fe);
	out_free(c->o);
}

static void
cap_free(struct cap *c)
{
	free(c->out);
	free(c->err);
}

/* A record from "type name=VALUE ...": u:N s:N b:0|1, anything else a string. */
static void
rec(struct cap *c, const char *type, ...)
{
	struct ctl_record r = { .type = type };
	const char *name;
	va_list ap;

	va_start(ap, type);
	while ((name = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		struct ctl_field *f = &r.field[r.nfields++];

		f->name = name;
		if (strncmp(v, "u:", 2) == 0) {
			f->type = CTL_FT_U64;
			f->v.u64 = strtoull(v + 2, NULL, 10);
		} else if (strncmp(v, "s:", 2) == 0) {
			f->type = CTL_FT_S64;
			f->v.s64 = strtoll(v + 2, NULL, 10);
		} else if (strncmp(v, "b:", 2) == 0) {
			f->type = CTL_FT_BOOL;
			f->v.b = v[2] == '1';
		} else {
			f->type = CTL_FT_STR;
			f->v.str = v;
		}
	}
	va_end(ap);
	assert_int_equal(out_record(c->o, &r), 0);
}

static void
test_text_table(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, &out_text, CTL_VIEW_TABLE);
	rec(&c, "worker", "id", "u:0", "kind", "rx", "packets", "u:62633", "up", "b:1",
	    "skew", "s:-5", "note", "first", NULL);
	rec(&c, "worker", "id", "u:12", "kind", "tun", "packets", "u:7", "up", "b:0",
	    "skew", "s:3", "note", "x", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "id  kind  packets  up   skew  note\n"
	    " 0  rx      62633  yes    -5  first\n"
	    "12  tun         7  no      3  x\n");
	assert_string_equal(c.err, "");
	cap_free(&c);
}

static void
test_text_mixed(void **state)
{
	struct cap c;

	(void)state;
	/* Two types in a table view: each table gets its type as a title. */
	cap_open(&c, &out_text, CTL_VIEW_TABLE);
	rec(&c, "route", "prefix", "198.51.100.0/24", "metric", "u:5", NULL);
	rec(&c, "rule", "iif", "in", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "route:\n"
	    "prefix           metric\n"
	    "198.51.100.0/24       5\n"
	    "\n"
	    "rule:\n"
	    "iif\n"
	    "in\n");
	cap_free(&c);

	/* Detail: the first type as key: value, the others as tables. */
	cap_open(&c, &out_text, CTL_VIEW_DETAIL);
	rec(&c, "eni", "eni", "076bc493b822cd32f", "hook_failures", "u:0", NULL);
	rec(&c, "route", "prefix", "198.51.100.0/24", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "eni:           076bc493b822cd32f\n"
	    "hook_failures: 0\n"
	    "\n"
	    "route:\n"
	    "prefix\n"
	    "198.51.100.0/24\n");
	cap_free(&c);

	/* A property list. */
	cap_open(&c, &out_text, CTL_VIEW_DETAIL);
	rec(&c, "option", "name", "port", "value", "6081", NULL);
	rec(&c, "option", "name", "idle_timeout_s", "value", "350", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "port:           6081\n"
	    "idle_timeout_s: 350\n");
	cap_free(&c);

	/* Nothing at all, and an error after some records. */
	cap_open(&c, &out_text, CTL_VIEW_TABLE);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out, "");
	cap_free(&c);
	cap_open(&c, &out_text, CTL_VIEW_TABLE);
	rec(&c, "flow", "n", "u:1", NULL);
	cap_close(&c, EMSGSIZE, "reply too large");
	assert_string_equal(c.out, "n\n1\n");
	assert_string_equal(c.err, "gwlbctl: reply too large\n");
	cap_free(&c);
	cap_open(&c, &out_text, CTL_VIEW_NONE);
	cap_close(&c, ENOENT, "");
	assert_string_equal(c.err, "gwlbctl: No such file or directory\n");
	cap_free(&c);
}

static void
test_text_hostile(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, &out_text, CTL_VIEW_DETAIL);
	rec(&c, "status", "mode", "ret\033[2Jurn\r\n", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out, "mode: ret?[2Jurn??\n");
	cap_free(&c);
}

static void
test_json(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, &out_json, CTL_VIEW_DETAIL);
	rec(&c, "eni", "eni", "076bc493b822cd32f", "up", "b:1", "n", "u:18446744073709551615",
	    "d", "s:-9223372036854775807", NULL);
	rec(&c, "route", "via", "-", NULL);
	rec(&c, "rule", "iif", "in", NULL);
	rec(&c, "route", "via", "192.0.2.1", NULL);	/* grouped with its type */
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "{\"eni\":[{\"eni\":\"076bc493b822cd32f\",\"up\":true,"
	    "\"n\":18446744073709551615,\"d\":-9223372036854775807}],"
	    "\"route\":[{\"via\":\"-\"},{\"via\":\"192.0.2.1\"}],"
	    "\"rule\":[{\"iif\":\"in\"}]}\n");
	cap_free(&c);

	/* Escapes: quotes, backslashes, control bytes, bad and good UTF-8. */
	cap_open(&c, &out_json, CTL_VIEW_TABLE);
	rec(&c, "t", "s", "a\"b\\c\001d\te\x7f", "u", "\xc3\xa9\xe2\x82\xac", "bad",
	    "x\xc3(\xff\xed\xa0\x80y", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "{\"t\":[{\"s\":\"a\\\"b\\\\c\\u0001d\\u0009e\\u007f\","
	    "\"u\":\"\xc3\xa9\xe2\x82\xac\","
	    "\"bad\":\"x\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffdy\"}]}\n");
	cap_free(&c);

	/* Nothing, an error, and an error after records. */
	cap_open(&c, &out_json, CTL_VIEW_NONE);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out, "{}\n");
	cap_free(&c);
	cap_open(&c, &out_json, CTL_VIEW_NONE);
	cap_close(&c, EPERM, "permission denied: 'counters reset' needs root");
	assert_string_equal(c.out, "{\"error\":{\"errno\":1,\"code\":\"EPERM\","
	    "\"message\":\"permission denied: 'counters reset' needs root\"}}\n");
	assert_string_equal(c.err, "gwlbctl: permission denied: 'counters reset' needs root\n");
	cap_free(&c);
	cap_open(&c, &out_json, CTL_VIEW_TABLE);
	rec(&c, "flow", "n", "u:1", NULL);
	cap_close(&c, EMSGSIZE, "reply too large");
	assert_string_equal(c.out, "{\"flow\":[{\"n\":1}],\"error\":{\"errno\":90,"
	    "\"code\":\"EMSGSIZE\",\"message\":\"reply too large\"}}\n");
	cap_free(&c);
}

/* The command's declared shapes: one record an object, a list a list. */
static void
test_json_shapes(void **state)
{
	static const struct ctl_rtype eni[CTL_CMD_RTYPES] = {
		{ "eni", true }, { "route", false }, { "rule", false },
	};
	static const struct ctl_rtype enis[CTL_CMD_RTYPES] = { { "eni", false } };
	struct cap c;

	(void)state;
	/* Declared types first, in the command's order; an empty list is [];
	 * an undeclared type is a list after them. */
	cap_open(&c, &out_json, CTL_VIEW_DETAIL);
	out_begin(c.o, CTL_VIEW_DETAIL, eni);
	rec(&c, "extra", "n", "u:1", NULL);
	rec(&c, "route", "via", "-", NULL);
	rec(&c, "eni", "eni", "076bc493b822cd32f", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "{\"eni\":{\"eni\":\"076bc493b822cd32f\"},\"route\":[{\"via\":\"-\"}],"
	    "\"rule\":[],\"extra\":[{\"n\":1}]}\n");
	cap_free(&c);

	/* No records: the list is there, empty; the object is not. */
	cap_open(&c, &out_json, CTL_VIEW_TABLE);
	out_begin(c.o, CTL_VIEW_TABLE, enis);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out, "{\"eni\":[]}\n");
	cap_free(&c);
	cap_open(&c, &out_json, CTL_VIEW_DETAIL);
	out_begin(c.o, CTL_VIEW_DETAIL, eni);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out, "{\"route\":[],\"rule\":[]}\n");
	cap_free(&c);

	/* A failure shows only what came, and the error. */
	cap_open(&c, &out_json, CTL_VIEW_DETAIL);
	out_begin(c.o, CTL_VIEW_DETAIL, eni);
	cap_close(&c, ENOENT, "no ENI 00000000000000001");
	assert_string_equal(c.out, "{\"error\":{\"errno\":2,\"code\":\"ENOENT\","
	    "\"message\":\"no ENI 00000000000000001\"}}\n");
	cap_free(&c);

	/* More than the one promised: all of them, as a list (never lost). */
	cap_open(&c, &out_json, CTL_VIEW_DETAIL);
	out_begin(c.o, CTL_VIEW_DETAIL, eni);
	rec(&c, "eni", "n", "u:1", NULL);
	rec(&c, "eni", "n", "u:2", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out, "{\"eni\":[{\"n\":1},{\"n\":2}],\"route\":[],"
	    "\"rule\":[]}\n");
	cap_free(&c);

	/* Pretty. */
	cap_open(&c, &out_json_pretty, CTL_VIEW_TABLE);
	out_begin(c.o, CTL_VIEW_TABLE, enis);
	rec(&c, "eni", "eni", "076bc493b822cd32f", "up", "b:1", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "{\n"
	    "  \"eni\": [\n"
	    "    {\n"
	    "      \"eni\": \"076bc493b822cd32f\",\n"
	    "      \"up\": true\n"
	    "    }\n"
	    "  ]\n"
	    "}\n");
	cap_free(&c);
}

/* Rates (pps_*, bps_*) in text: 3 significant digits and an SI prefix. */
static void
test_text_rates(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, &out_text, CTL_VIEW_DETAIL);
	rec(&c, "eni", "pps_in", "u:999", "bps_in", "u:1000", "pps_out", "u:1234",
	    "bps_out", "u:99949", "pps_x", "u:99950", "bps_x", "u:999499",
	    "bps_y", "u:999500", "bps_z", "u:18446744073709551615",
	    "packets_in", "u:1234567", "bps_s", "s:5000", NULL);
	cap_close(&c, 0, NULL);
	assert_string_equal(c.out,
	    "pps_in:     999\n"
	    "bps_in:     1.00k\n"
	    "pps_out:    1.23k\n"
	    "bps_out:    99.9k\n"
	    "pps_x:      100k\n"
	    "bps_x:      999k\n"
	    "bps_y:      1.00M\n"
	    "bps_z:      18.4E\n"
	    "packets_in: 1234567\n"
	    "bps_s:      5000\n");
	cap_free(&c);
}

/* One out serves many commands; nothing leaks from one to the next. */
static void
test_reuse(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fo = open_memstream(&buf, &len), *fe = fopen("/dev/null", "w");
	struct out *o = out_new(&out_json, fo, fe);
	struct ctl_record r = { .type = "t", .nfields = 1 };

	(void)state;
	r.field[0] = (struct ctl_field){ .name = "n", .type = CTL_FT_U64, .v.u64 = 1 };
	for (int i = 0; i < 3; i++) {
		out_begin(o, CTL_VIEW_TABLE, NULL);
		for (int k = 0; k < 1000; k++)
			assert_int_equal(out_record(o, &r), 0);
		out_end(o, 0, NULL);
	}
	out_begin(o, CTL_VIEW_TABLE, NULL);
	out_end(o, 0, NULL);
	fflush(fo);
	assert_non_null(strstr(buf, "{}\n"));
	assert_string_equal(strstr(buf, "{}\n"), "{}\n");
	out_free(o);
	fclose(fo);
	fclose(fe);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_table),
		cmocka_unit_test(test_text_mixed),
		cmocka_unit_test(test_text_hostile),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_text_rates),
	};

	return cmocka_run_group_tests_name("ctl_output", tests, NULL, NULL);
}
