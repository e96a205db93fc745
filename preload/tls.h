/* The calling thread's shim state: the guard every interposer tests, and the
 * binding to its thread record.  Initial-exec TLS: global-dynamic TLS may call
 * malloc on first access, inside an allocator that called us.  Defined in
 * threads.c, which owns the binding; read everywhere. */
#ifndef PW_TLS_H
#define PW_TLS_H

#include "shim.h"

enum pw_tls_state {
    PW_TLS_NEW = 0,    /* never seen: adopted on first use */
    PW_TLS_LIVE = 1,   /* rec is this thread's slot */
    PW_TLS_NOSLOT = 2, /* no slot was free: events are counted as dropped */
    PW_TLS_ENDED = 3,  /* the thread's end was recorded; its slot may be recycled */
};

struct pw_tls {
    uint32_t guard;            /* > 0 while the shim runs: interposers pass through */
    uint32_t state;            /* enum pw_tls_state */
    struct pw_thread_rec *rec; /* NULL unless state == PW_TLS_LIVE */
    uint32_t serial;
    uint32_t captures; /* stacks taken with backtrace() so far (see stack.c) */
    uint32_t exit_how; /* PW_EXIT_PTHREAD_EXIT once pthread_exit was called */
    uint32_t exit_stack;
    uint32_t trampoline; /* 1 when the thread runs under our start trampoline */
    int32_t spare_slot;  /* slot + 1 kept from a failed pthread_create, 0 = none */
    uint64_t last_cond;  /* last cond this thread signalled (COND_SIGNAL dedup) */
    /* A contended mutex got within its probe (i_mutex.c): the park's events
     * are written to the ring after the thread's next unlock, or before its
     * next event, whichever comes first, so that none of that work runs while
     * the lock is held.
     * pend_obj 0: none.  Times are CLOCK_MONOTONIC: a fork child, whose trace
     * starts later, drops a pending park of its parent's. */
    uint64_t pend_obj;
    uint64_t pend_since, pend_until;
    uint32_t pend_stack;
    int32_t pend_result;
};

extern __thread struct pw_tls pw_tls __attribute__((tls_model("initial-exec")));

#endif
