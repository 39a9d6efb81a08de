/*
 * The manager (manager.c): the main thread's event loop on top of every
 * subsystem.
 */
#ifndef GWLBTUND_MANAGER_H
#define GWLBTUND_MANAGER_H

/* Runs until SIGTERM/SIGINT, returns once every ENI is gone; 0 or -1. */
int manager_run(void);

#endif
