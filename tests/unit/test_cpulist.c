/*
 * Unit tests for CPU lists (lib/cpulist.c): the taskset-style syntax that
 * --udpaffinity and --tunaffinity take, the errors a user gets for a bad
 * list (each must name what was wrong), and the canonical form.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"

#define NVEC(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_example(void **state)
{
	char err[128] = "";
	cpu_set_t set;

	(void)state;
	assert_int_equal(cpulist_parse("1-2,4,7-8", &set, err, sizeof(err)), 5);
	for (int c = 0; c < CPU_SETSIZE; c++)
		assert_int_equal(CPU_ISSET(c, &set) != 0,
		    c == 1 || c == 2 || c == 4 || c == 7 || c == 8);
	assert_string_equal(err, "");
}

static void
test_valid(void **state)
{
	static const struct {
		const char	*s;
		int		count;
		const char	*canon;
	} good[] = {
		{ "0", 1, "0" },
		{ "1-2,4,7-8", 5, "1-2,4,7-8" },
		{ "0-3,6", 5, "0-3,6" },
		{ "5,3", 2, "3,5" },
		{ "2,3", 2, "2-3" },
		{ "7-7", 1, "7" },
		{ "8,0-3,4", 6, "0-4,8" },
		{ "1023", 1, "1023" },
		{ "1022-1023", 2, "1022-1023" },
		{ "0-1023", 1024, "0-1023" },
		{ "0,2,4,6", 4, "0,2,4,6" },
		{ "9,8,7", 3, "7-9" },
	};

	(void)state;
	for (size_t i = 0; i < NVEC(good); i++) {
		char err[128], buf[256];
		cpu_set_t set;
		int n;

		n = cpulist_parse(good[i].s, &set, err, sizeof(err));
		if (n != good[i].count)
			print_error("'%s' gave %d\n", good[i].s, n);
		assert_int_equal(n, good[i].count);
		assert_int_equal(CPU_COUNT(&set), good[i].count);
		assert_int_equal(cpulist_format(&set, buf, sizeof(buf)), 0);
		assert_string_equal(buf, good[i].canon);
	}
}

static void
test_errors(void **state)
{
	/* want: text the message must contain (the bad item, quoted). */
	static const struct {
		const char	*s;
		const char	*want;
		const char	*want2;
	} bad[] = {
		{ "", "empty", NULL },
		{ ",", "empty", NULL },
		{ ",1", "empty", NULL },
		{ "1,", "trailing", NULL },
		{ "1,,2", "empty", "'1,,2'" },
		{ "3-1", "'3-1'", "backwards" },
		{ "a", "'a'", NULL },
		{ "1,x", "'x'", NULL },
		{ "1-", "'1-'", NULL },
		{ "-1", "'-1'", NULL },
		{ "1 2", "'1 2'", NULL },
		{ " 1", "' 1'", NULL },
		{ "1-2-3", "'1-2-3'", NULL },
		{ "1-a", "'1-a'", NULL },
		{ "0x1", "'0x1'", NULL },
		{ "1024", "'1024'", NULL },
		{ "0-1024", "'0-1024'", NULL },
		{ "4,99999999999999999999999", "'99999999999999999999999'", NULL },
		{ "1,1", "'1'", "twice" },
		{ "1-3,2", "'2'", "twice" },
		{ "0-3,2-5", "'2-5'", "twice" },
		{ "5,0-7", "'0-7'", "twice" },
	};

	(void)state;
	for (size_t i = 0; i < NVEC(bad); i++) {
		char err[160] = "";
		cpu_set_t set;
		int n;

		n = cpulist_parse(bad[i].s, &set, err, sizeof(err));
		if (n != -EINVAL || !strstr(err, bad[i].want) ||
		    (bad[i].want2 && !strstr(err, bad[i].want2)))
			print_error("'%s' gave %d \"%s\"\n", bad[i].s, n, err);
		assert_int_equal(n, -EINVAL);
		assert_non_null(strstr(err, bad[i].want));
		if (bad[i].want2)
			assert_non_null(strstr(err, bad[i].want2));
		assert_null(strchr(err, '\n'));	/* one line */
	}
}

/* A small error buffer truncates the message and is never overrun. */
static void
test_error_buffer(void **state)
{
	(void)state;
	for (size_t len = 1; len < 40; len++) {
		char *err = malloc(len);
		cpu_set_t set;

		assert_non_null(err);
		assert_int_equal(cpulist_parse("0-3,99999", &set, err, len),
		    -EINVAL);
		assert_true(strlen(err) < len);
		free(err);
	}
}

static void
test_format_space(void **state)
{
	char err[64], *buf;
	cpu_set_t set;

	(void)state;
	assert_int_equal(cpulist_parse("0-3,6", &set, err, sizeof(err)), 5);
	for (size_t size = 0; size <= 5; size++) {
		buf = malloc(size ? size : 1);
		assert_non_null(buf);
		assert_int_equal(cpulist_format(&set, buf, size), -ENOSPC);
		free(buf);
	}
	buf = malloc(6);
	assert_non_null(buf);
	assert_int_equal(cpulist_format(&set, buf, 6), 0);
	assert_string_equal(buf, "0-3,6");
	free(buf);

	CPU_ZERO(&set);
	buf = malloc(1);
	assert_non_null(buf);
	assert_int_equal(cpulist_format(&set, buf, 1), 0);
	assert_string_equal(buf, "");
	free(buf);
}

/* Canonical form round-trips, for random sets and the worst case. */
static void
test_roundtrip(void **state)
{
	static char buf[8192];
	uint32_t x = 0x2545f491;

	(void)state;
	for (int round = 0; round < 300; round++) {
		cpu_set_t set, back;
		char err[128];
		int n;

		CPU_ZERO(&set);
		if (round == 0) {
			for (int c = 0; c < CPU_SETSIZE; c += 2)
				CPU_SET(c, &set);	/* longest output */
		} else {
			int density = 1 + round % 7;

			for (int c = 0; c < CPU_SETSIZE; c++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				if ((int)(x % 8) < density)
					CPU_SET(c, &set);
			}
		}
		if (CPU_COUNT(&set) == 0)
			continue;
		assert_int_equal(cpulist_format(&set, buf, sizeof(buf)), 0);
		n = cpulist_parse(buf, &back, err, sizeof(err));
		if (n < 0)
			print_error("'%s': %s\n", buf, err);
		assert_int_equal(n, CPU_COUNT(&set));
		assert_true(CPU_EQUAL(&set, &back));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_format_space),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests_name("cpulist", tests, NULL, NULL);
}
