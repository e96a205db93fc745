/* watchdog.c: starts `parkwatch watch` as a sidecar when watchdog=1. */
#ifndef PW_WATCHDOG_H
#define PW_WATCHDOG_H

void pw_watchdog_start(void);

#endif
