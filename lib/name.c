/*
 * ENI naming, byte-compatible with upstream gwlbtun (REFERENCE.md):
 * 0x076bc493b822cd32f -> "e8WXgsTQDkf", 2^64-1 -> "uur953OEv0f".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "name.h"

static const char b60_digits[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";
_Static_assert(sizeof(b60_digits) == 61, "base 60 alphabet");

void
name_b60(uint64_t id, char *buf)
{
	char tmp[NAME_B60_MAX];
	int n = 0;

	do {
		tmp[n++] = b60_digits[id % 60];
		id /= 60;
	} while (id);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

void
name_ifname(uint64_t id, enum name_dir dir, char *buf)
{
	memcpy(buf, dir == NAME_IN ? "gwi-" : "gwo-", 4);
	name_b60(id, buf + 4);
}

static int
b60_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'X')
		return c - 'A' + 36;
	return -1;
}

int
name_parse_ifname(const char *name, uint64_t *id, enum name_dir *dir)
{
	const char *d;
	uint64_t v = 0;
	enum name_dir dd;

	if (strncmp(name, "gwi-", 4) == 0)
		dd = NAME_IN;
	else if (strncmp(name, "gwo-", 4) == 0)
		dd = NAME_OUT;
	else
		return -EINVAL;
	d = name + 4;
	if (*d == '\0' || strlen(d) > NAME_B60_MAX)
		return -EINVAL;
	/* A leading zero would give a second name for the same ENI. */
	if (d[0] == '0' && d[1] != '\0')
		return -EINVAL;
	for (; *d; d++) {
		int x = b60_value(*d);

		if (x < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)x) / 60)
			return -EINVAL;
		v = v * 60 + (uint64_t)x;
	}
	*id = v;
	if (dir)
		*dir = dd;
	return 0;
}

void
name_hex(uint64_t id, char *buf)
{
	snprintf(buf, NAME_HEX_MAX, "%017llx", (unsigned long long)id);
}

int
name_parse_hex(const char *s, uint64_t *id)
{
	uint64_t v = 0;
	size_t n;

	if (strncasecmp(s, "vpce-", 5) == 0)
		s += 5;
	else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n == 0 || n > NAME_HEX_LEN)
		return -EINVAL;
	for (; *s; s++) {
		int x;

		if (*s >= '0' && *s <= '9')
			x = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			x = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			x = *s - 'A' + 10;
		else
			return -EINVAL;
		if (v >> 60)
			return -EINVAL;	/* a 17th significant digit */
		v = v << 4 | (uint64_t)x;
	}
	*id = v;
	return 0;
}

int
name_parse_eni(const char *s, uint64_t *id)
{
	if (name_parse_ifname(s, id, NULL) == 0)
		return 0;
	return name_parse_hex(s, id);
}
