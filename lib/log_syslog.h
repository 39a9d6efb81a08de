/* syslog(3) for lib/log.c (see log_syslog.c). */
#ifndef GWLB_LOG_SYSLOG_H
#define GWLB_LOG_SYSLOG_H

void log_syslog_open(const char *ident);
void log_syslog_write(int prio, const char *line);

#endif
