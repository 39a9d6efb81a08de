/*
 * CPU list parsing for --udpaffinity and --tunaffinity ("1-2,4,7-8").
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpulist.h"

/* One decimal CPU number; returns the end or NULL. */
static const char *
parse_cpu(const char *p, unsigned *out)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v >= CPU_SETSIZE)
			return NULL;
		p++;
	}
	*out = (unsigned)v;
	return p;
}

int
cpulist_parse(const char *s, cpu_set_t *set, char *err, size_t errlen)
{
	const char *p = s;
	int count = 0;

	CPU_ZERO(set);
	if (*s == '\0') {
		snprintf(err, errlen, "empty CPU list");
		return -EINVAL;
	}
	for (;;) {
		const char *item = p;
		unsigned lo, hi;
		int ilen;

		ilen = (int)strcspn(item, ",");
		if (ilen == 0) {
			snprintf(err, errlen, "'%s': empty item in CPU list", s);
			return -EINVAL;
		}
		p = parse_cpu(p, &lo);
		if (!p) {
			snprintf(err, errlen, "'%.*s': expected a CPU number below %d",
			    ilen, item, CPU_SETSIZE);
			return -EINVAL;
		}
		hi = lo;
		if (*p == '-') {
			p = parse_cpu(p + 1, &hi);
			if (!p) {
				snprintf(err, errlen, "'%.*s': expected a CPU number "
				    "below %d after '-'", ilen, item, CPU_SETSIZE);
				return -EINVAL;
			}
			if (hi < lo) {
				snprintf(err, errlen, "'%.*s': range runs backwards",
				    ilen, item);
				return -EINVAL;
			}
		}
		if (*p != ',' && *p != '\0') {
			snprintf(err, errlen, "'%.*s': unexpected '%c'", ilen, item, *p);
			return -EINVAL;
		}
		for (unsigned c = lo; c <= hi; c++) {
			if (CPU_ISSET(c, set)) {
				snprintf(err, errlen, "'%.*s': CPU %u named twice",
				    ilen, item, c);
				return -EINVAL;
			}
			CPU_SET(c, set);
			count++;
		}
		if (*p == '\0')
			break;
		p++;
		if (*p == '\0') {
			snprintf(err, errlen, "'%s': trailing ',' in CPU list", s);
			return -EINVAL;
		}
	}
	return count;
}

int
cpulist_format(const cpu_set_t *set, char *buf, size_t size)
{
	size_t off = 0;
	int c = 0;

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	while (c < CPU_SETSIZE) {
		int lo, n;

		if (!CPU_ISSET(c, set)) {
			c++;
			continue;
		}
		lo = c;
		while (c + 1 < CPU_SETSIZE && CPU_ISSET(c + 1, set))
			c++;
		if (lo == c)
			n = snprintf(buf + off, size - off, "%s%d", off ? "," : "", lo);
		else
			n = snprintf(buf + off, size - off, "%s%d-%d", off ? "," : "", lo, c);
		if (n < 0 || (size_t)n >= size - off)
			return -ENOSPC;
		off += (size_t)n;
		c++;
	}
	return 0;
}
