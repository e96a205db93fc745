/* A look at a live process from outside: every task's name, state, blocked
 * system call and fd from /proc, and (with STACKS) its stack, unwound with
 * libdwfl as eu-stack does.  Used by `parkwatch stack` and, through it, by the
 * shim at exit.
 *
 * The stacks need ptrace: each task is seized (PTRACE_SEIZE, which sends no
 * signal), interrupted (PTRACE_INTERRUPT), unwound, and detached at once.  A
 * task blocked in a system call leaves it for that moment and re-enters it on
 * detach (the kernel restarts it; the program does not see an EINTR for a call
 * without a signal handler involved); a task in uninterruptible sleep is not
 * waited for (its stack is then "not available"). */
#ifndef PW_ATTACH_H
#define PW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "ktasks.h"
#include "parkwatch/trace.h"

/* A snapshot of process PID. */
struct pw_live {
    struct pw_ktasks tasks;
    char comm[32];
    char exe[4096];
    size_t nmods;
    struct pw_module *mods; /* the modules mapped now, for pw_sym_new_modules */
};

/* Fills *OUT.  With STACKS, each task but SKIP_TID (0: none) is unwound.
 * Returns 0, or -1 with errno: ESRCH (no such process), EPERM/EACCES (no
 * permission to look at it); ERR then gets a one-line reason.  A stack that
 * cannot be taken is no failure: the task says why in why_no_stack. */
int pw_live_capture(int pid, bool stacks, int skip_tid, struct pw_live *out, char *err,
                    size_t errlen);
void pw_live_free(struct pw_live *l);

#endif
