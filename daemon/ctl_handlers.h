/* gwlbctl's commands, answered by the daemon (ctl_handlers.c). */
#ifndef GWLBTUND_CTL_HANDLERS_H
#define GWLBTUND_CTL_HANDLERS_H

/* Take the socket: 0 or -errno (-EADDRINUSE: another daemon answers there). */
int control_open(void);
/* Serve it, once the workers exist. */
int control_start(void);
void control_stop(void);

#endif
