/*
 * syslog(3) for lib/log.c, kept apart: <syslog.h> defines LOG_INFO and
 * LOG_DEBUG, which are log.h's level names.
 */
#include "config.h"

#include <syslog.h>

#include "log_syslog.h"

void
log_syslog_open(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_syslog_write(int prio, const char *line)
{
	syslog(prio, "%s", line);
}
