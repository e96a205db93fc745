/* Process-wide recording state: whether the shim records, and for which
 * process.  init.c moves it; read by every interposer (pw_on)
 * and turned off by the trace-file module when the disk fills up. */
#ifndef PW_PROC_H
#define PW_PROC_H

#include "shim.h"

/* Readiness lives in a MADV_WIPEONFORK page: after any fork that skipped our
 * atfork handlers (_Fork, a raw clone) the child sees 0 and re-initialises
 * before touching the parent's trace.  One load on every interposer call. */
enum pw_ready { PW_READY_NO = 0, PW_READY_OFF = 1, PW_READY_REC = 2 };
struct pw_proc {
    uint32_t ready; /* enum pw_ready */
    int32_t pid;
};
/* pw_proc points at pw_proc_boot until init maps the wipe-on-fork page, so
 * pw_on works from the very first call. */
extern struct pw_proc pw_proc_boot;
extern struct pw_proc *pw_proc;

/* The pid the shim last started recording for.  Unlike pw_proc->pid it is
 * ordinary memory: a fork child that skipped our atfork handlers still sees
 * its parent's pid here, which is how pw_fork_child knows it has work to do
 * and which ppid to record. */
extern int32_t pw_pid;

#endif
