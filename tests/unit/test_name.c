/*
 * Unit tests for ENI naming (lib/name.c).  The expected strings come from
 * upstream gwlbtun's naming (REFERENCE.md) and from base-60 arithmetic done
 * outside this code, never from name_b60() itself.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "name.h"

#define ENI_ID		0x076bc493b822cd32fULL

static const struct {
	uint64_t	id;
	const char	*b60;
} b60_vectors[] = {
	{ 0, "0" },
	{ 1, "1" },
	{ 9, "9" },
	{ 10, "a" },
	{ 35, "z" },
	{ 36, "A" },
	{ 59, "X" },
	{ 60, "10" },
	{ 61, "11" },
	{ 3599, "XX" },
	{ 3600, "100" },
	{ 0x86430aac60fffffULL, "XXXXXXXXXX" },		/* 60^10 - 1 */
	{ 0x86430aac6100000ULL, "10000000000" },	/* 60^10 */
	{ 0x0123456789abcdefULL, "887epl1uMf" },
	{ 0x8000000000000000ULL, "ffdywvTkfu8" },
	{ 0xabcdef0123456789ULL, "ksqcQDE1spJ" },
	{ ENI_ID, "e8WXgsTQDkf" },
	{ UINT64_MAX - 1, "uur953OEv0e" },
	{ UINT64_MAX, "uur953OEv0f" },
};

#define NVEC(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_b60(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC(b60_vectors); i++) {
		char buf[NAME_B60_MAX + 1 + 4];

		memset(buf, 'Z', sizeof(buf));
		name_b60(b60_vectors[i].id, buf);
		assert_string_equal(buf, b60_vectors[i].b60);
		for (size_t j = strlen(buf) + 1; j < sizeof(buf); j++)
			assert_int_equal(buf[j], 'Z');	/* nothing past the NUL */
	}
}

static void
test_ifname(void **state)
{
	char buf[NAME_IF_MAX];

	(void)state;
	name_ifname(ENI_ID, NAME_IN, buf);
	assert_string_equal(buf, "gwi-e8WXgsTQDkf");
	name_ifname(ENI_ID, NAME_OUT, buf);
	assert_string_equal(buf, "gwo-e8WXgsTQDkf");
	name_ifname(0, NAME_IN, buf);
	assert_string_equal(buf, "gwi-0");
	/* The longest name fits IFNAMSIZ (16 with the NUL). */
	name_ifname(UINT64_MAX, NAME_OUT, buf);
	assert_string_equal(buf, "gwo-uur953OEv0f");
	assert_int_equal(strlen(buf), 15);
}

static void
test_parse_ifname(void **state)
{
	enum name_dir dir;
	uint64_t id;

	(void)state;
	for (size_t i = 0; i < NVEC(b60_vectors); i++) {
		char name[NAME_IF_MAX + 8];

		strcpy(name, "gwi-");
		strcat(name, b60_vectors[i].b60);
		id = 12345;
		dir = NAME_OUT;
		assert_int_equal(name_parse_ifname(name, &id, &dir), 0);
		assert_true(id == b60_vectors[i].id);
		assert_int_equal(dir, NAME_IN);
		name[2] = 'o';
		assert_int_equal(name_parse_ifname(name, &id, &dir), 0);
		assert_true(id == b60_vectors[i].id);
		assert_int_equal(dir, NAME_OUT);
		/* dir may be NULL */
		assert_int_equal(name_parse_ifname(name, &id, NULL), 0);
		assert_true(id == b60_vectors[i].id);
	}
}

static void
test_parse_ifname_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"gwi-",
		"gwo-",
		"gwi",
		"gw-1",
		"gwx-1",
		"gwt-1",
		"GWI-1",
		"gwi_1",
		"eth0",
		"gwi-Y",		/* not a base-60 digit */
		"gwi-Z",
		"gwi--",
		"gwi--1",
		"gwi-+1",
		"gwi- 1",
		"gwi-1 ",
		"gwi-1.",
		"gwi-e8WXgsTQDk!",
		"gwi-00",		/* leading zeros: a second name for one id */
		"gwi-01",
		"gwi-0e8WXgsTQDkf",
		"gwi-uur953OEv0g",	/* 2^64 */
		"gwi-uur953OEv10",
		"gwi-uus00000000",
		"gwi-XXXXXXXXXXX",
		"gwi-100000000000",	/* 12 digits */
		"gwi-e8WXgsTQDkf0",
		"gwi-e8WXgsTQDkfe8WXgsTQDkf",
	};
	uint64_t id;
	enum name_dir dir;

	(void)state;
	for (size_t i = 0; i < NVEC(bad); i++) {
		int r = name_parse_ifname(bad[i], &id, &dir);

		if (r != -EINVAL)
			print_error("'%s' gave %d\n", bad[i], r);
		assert_int_equal(r, -EINVAL);
	}
}

/* Format and parse agree across the whole range (fixed-seed sample). */
static void
test_ifname_roundtrip(void **state)
{
	uint64_t x = 0x243f6a8885a308d3ULL;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		char buf[NAME_IF_MAX];
		uint64_t id, got;
		enum name_dir dir;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		id = x >> (i % 64);	/* all magnitudes, not only 64-bit ones */
		name_ifname(id, (i & 1) ? NAME_OUT : NAME_IN, buf);
		assert_true(strlen(buf) < NAME_IF_MAX);
		assert_int_equal(name_parse_ifname(buf, &got, &dir), 0);
		assert_true(got == id);
		assert_int_equal(dir, (i & 1) ? NAME_OUT : NAME_IN);
	}
}

static void
test_hex(void **state)
{
	char buf[NAME_HEX_MAX];

	(void)state;
	name_hex(ENI_ID, buf);
	assert_string_equal(buf, "076bc493b822cd32f");
	name_hex(0, buf);
	assert_string_equal(buf, "00000000000000000");
	name_hex(1, buf);
	assert_string_equal(buf, "00000000000000001");
	name_hex(UINT64_MAX, buf);
	assert_string_equal(buf, "0ffffffffffffffff");
	name_hex(0xABCDEF0123456789ULL, buf);
	assert_string_equal(buf, "0abcdef0123456789");
}

static void
test_parse_hex(void **state)
{
	static const struct {
		const char	*s;
		uint64_t	id;
	} good[] = {
		{ "076bc493b822cd32f", ENI_ID },
		{ "76bc493b822cd32f", ENI_ID },
		{ "076BC493B822CD32F", ENI_ID },
		{ "vpce-076bc493b822cd32f", ENI_ID },
		{ "0x76bc493b822cd32f", ENI_ID },
		{ "0X076bc493b822cd32f", ENI_ID },
		{ "0", 0 },
		{ "1", 1 },
		{ "00000000000000000", 0 },
		{ "0ffffffffffffffff", UINT64_MAX },
		{ "ffffffffffffffff", UINT64_MAX },
		{ "vpce-1", 1 },
	};
	static const char *const bad[] = {
		"",
		"vpce-",
		"0x",
		"g",
		"x1",
		"0x-1",
		"-1",
		"+1",
		" 1",
		"1 ",
		"0x 1",
		"vpce-0x1",
		"vpc-1",
		"vpce_1",
		"076bc493b822cd32f0",		/* 18 digits */
		"000000000000000000",		/* 18 digits, even if zero */
		"vpce-076bc493b822cd32f0",
		"10000000000000000",		/* 17 digits, 2^64 */
		"1ffffffffffffffff",
		"fffffffffffffffff",
		"gwi-e8WXgsTQDkf",
	};
	uint64_t id;

	(void)state;
	for (size_t i = 0; i < NVEC(good); i++) {
		id = 42;
		if (name_parse_hex(good[i].s, &id) != 0)
			print_error("'%s' refused\n", good[i].s);
		assert_int_equal(name_parse_hex(good[i].s, &id), 0);
		assert_true(id == good[i].id);
		/* and through the catch-all */
		id = 42;
		assert_int_equal(name_parse_eni(good[i].s, &id), 0);
		assert_true(id == good[i].id);
	}
	for (size_t i = 0; i < NVEC(bad); i++) {
		int r = name_parse_hex(bad[i], &id);

		if (r != -EINVAL)
			print_error("'%s' gave %d\n", bad[i], r);
		assert_int_equal(r, -EINVAL);
	}
}

static void
test_parse_eni(void **state)
{
	static const char *const bad[] = {
		"", "gwi-", "gwi-Y", "gwi-00", "gwx-1", "eth0", "lo",
		"gwi-uur953OEv0g", "076bc493b822cd32f0", "1ffffffffffffffff",
	};
	uint64_t id;

	(void)state;
	assert_int_equal(name_parse_eni("gwi-e8WXgsTQDkf", &id), 0);
	assert_true(id == ENI_ID);
	assert_int_equal(name_parse_eni("gwo-e8WXgsTQDkf", &id), 0);
	assert_true(id == ENI_ID);
	assert_int_equal(name_parse_eni("gwi-uur953OEv0f", &id), 0);
	assert_true(id == UINT64_MAX);
	assert_int_equal(name_parse_eni("076bc493b822cd32f", &id), 0);
	assert_true(id == ENI_ID);
	assert_int_equal(name_parse_eni("vpce-076bc493b822cd32f", &id), 0);
	assert_true(id == ENI_ID);
	for (size_t i = 0; i < NVEC(bad); i++) {
		int r = name_parse_eni(bad[i], &id);

		if (r != -EINVAL)
			print_error("'%s' gave %d\n", bad[i], r);
		assert_int_equal(r, -EINVAL);
	}
}

/* What a hook prints, parsed back, is the same id. */
static void
test_hex_roundtrip(void **state)
{
	uint64_t x = 0x13198a2e03707344ULL;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		char buf[NAME_HEX_MAX];
		uint64_t id, got;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		id = x >> (i % 64);
		name_hex(id, buf);
		assert_int_equal(strlen(buf), NAME_HEX_LEN);
		assert_int_equal(name_parse_hex(buf, &got), 0);
		assert_true(got == id);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b60),
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_parse_ifname),
		cmocka_unit_test(test_parse_ifname_bad),
		cmocka_unit_test(test_ifname_roundtrip),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_parse_hex),
		cmocka_unit_test(test_parse_eni),
		cmocka_unit_test(test_hex_roundtrip),
	};

	return cmocka_run_group_tests_name("name", tests, NULL, NULL);
}
