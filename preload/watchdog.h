/* watchdog.c: starts `parkwatch watch` as a sidecar when watchdog=1. */
#ifndef PW_WATCHDOG_H
#define PW_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>

void pw_watchdog_start(void);

/* The parkwatch CLI's path (parkwatch_bin=, else beside the shim) into OUT;
 * false if there is none to run. */
bool pw_cli_find(char *out, size_t cap);
/* Runs PATH with ARGV and ENVP (no LD_PRELOAD, for the CLI) and waits for it
 * at most WAIT_MS (then kills it): stdin is /dev/null, stdout is OUT (2: our
 * stderr; -1: /dev/null), every other fd of the host is closed.  The host
 * sees none of it: no SIGCHLD, no child for its wait(), errno kept.  Returns
 * the exit status (127: could not start, 126: died), -1 when there was no
 * child or it was killed.  PTRACER: the CLI may ptrace us (Yama's
 * ptrace_scope=1 needs us to name it). */
int pw_cli_run(const char *path, char **argv, char **envp, int out, unsigned wait_ms, bool ptracer);

#endif
