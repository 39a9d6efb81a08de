/*
 * CPU lists as taskset and upstream's --udpaffinity take them: "1-2,4,7-8".
 * Upstream terminates on a bad list; we return a message that says what
 * is wrong and where.
 */
#ifndef GWLB_CPULIST_H
#define GWLB_CPULIST_H

#include <sched.h>
#include <stddef.h>

/*
 * Parse s into *set.  Returns the number of CPUs in the list (> 0), or
 * -EINVAL with a one-line reason in err ("'3-1': range runs backwards").
 * Rejected: empty lists and items, junk, descending ranges, CPUs at or
 * above CPU_SETSIZE, a CPU named twice.
 */
int cpulist_parse(const char *s, cpu_set_t *set, char *err, size_t errlen);

/* The set as a canonical list ("0-3,6") into buf. */
int cpulist_format(const cpu_set_t *set, char *buf, size_t size);

#endif
