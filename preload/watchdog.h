/* watchdog.c: starts `parkwatch watch` as a sidecar when watchdog=1. */
#ifndef PW_WATCHDOG_H
#define PW_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>

void pw_watchdog_start(void);

/* The parkwatch CLI's path (parkwatch_bin=, else beside the shim) into OUT;
 * false if there is none to run. */
bool pw_cli_find(char *out, size_t cap);
/* In a raw clone child, before anything else: stdin and stdout become
 * /dev/null, every fd of the host but stderr is closed, the signal mask is
 * cleared, then PATH is executed.  Raw system calls only; never returns. */
void __attribute__((noreturn)) pw_cli_exec(const char *path, char **argv, char **envp);

#endif
