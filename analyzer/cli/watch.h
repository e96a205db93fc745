/* Live deadlock detection: watch traced processes while they run. */
#ifndef PW_WATCH_H
#define PW_WATCH_H

#include <sys/types.h>

#include "parkwatch/options.h" /* enum pw_on_deadlock and its parser */

struct pw_watch_opts {
    unsigned interval_ms;       /* watchdog_ms */
    enum pw_on_deadlock action; /* OFF: no watching at all */
    unsigned halt_on_deadlock;  /* 1: a partial wait-for cycle stops the program too */
    unsigned timeout_s;         /* run: stop the program after this long (0 = never) */
    int dump_signal;            /* dump_signal: print the live report on it, 0 = none */
};

/* A dump_signal value ("SIGUSR2", "USR2" or a number) as a signal number; 0
 * for "" (none), -1 if unknown or not allowed: SIGQUIT stays the program's
 * own (a terminal's Ctrl-\ goes to the whole foreground group), and SIGKILL,
 * SIGSTOP and the synchronous fault signals cannot be caught usefully. */
int pw_dump_signal_parse(const char *s);

/* The defaults of the shim's watchdog_ms and on_deadlock (parkwatch/options.h). */
void pw_watch_opts_default(struct pw_watch_opts *o);
/* The largest interval: watchdog_ms's bound. */
unsigned pw_watch_interval_max(void);

/* Waits for child PID like waitpid(PID, STATUS, 0), checking the traces in DIR
 * every interval meanwhile.  Returns 0, or -1 with errno from waitpid. */
int pw_watch_wait(pid_t pid, const char *dir, const struct pw_watch_opts *o, int *status);

/* Watches PID (not necessarily a child) and its descendants until they are
 * gone, acting on PID through PIDFD (taken over), or through a pidfd opened
 * now if PIDFD is -1 (trust.h). */
int pw_watch_pid(pid_t pid, int pidfd, const char *dir, const struct pw_watch_opts *o);

#endif
