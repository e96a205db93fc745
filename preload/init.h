/* Lazy, idempotent initialisation, fork handling and the exit path (init.c).
 * pw_on is what every interposer asks first. */
#ifndef PW_INIT_H
#define PW_INIT_H

#include "proc.h"
#include "shim.h"
#include "tls.h"

bool pw_on_slow(void);
void pw_fork_prepare(void);
void pw_fork_parent(void);
void pw_fork_child(void);
/* _exit(STATUS) is about to end the process, skipping exit handlers and
 * destructors: mark the trace's end as pw_dtor would, with the status. */
void pw_process_exit(int status);

/* True when the calling interposer should record.  Everything it needs (the real
 * table, the trace) is ready when it returns true. */
static inline bool pw_on(void)
{
    if (PW_LIKELY(PW_LOAD_RELAXED(&pw_proc->ready) == PW_READY_REC && pw_tls.guard == 0))
        return true;
    return pw_on_slow();
}

#endif
