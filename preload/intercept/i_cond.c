/* Condition variable interposers (the GLIBC_2.3.2 versions, see real.h).
 *
 * A wait is a park on the cond; the mutex it releases leaves the held set for
 * the wait and comes back after, also on cancellation (glibc re-acquires the
 * mutex before running cleanup handlers).  Signals are recorded once per run of
 * signals on the same cond by the same thread, so a producer loop costs one
 * compare per signal. */
#include <errno.h>
#include <pthread.h>

#include "acts.h"
#include "event.h"
#include "init.h"
#include "lockmisuse.h"
#include "lockorder.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "userchan.h"

struct cond_wait_ctx {
    struct pw_thread_rec *t;
    pthread_mutex_t *m;
    uint16_t op;  /* PW_OP_COND_WAIT, or the annotated queue op it waits in */
    uint64_t obj; /* the cond, or the queue's channel id */
    uint64_t pc;  /* the wait's call site: where the mutex is taken again */
};

/* Threads inside a wait on C: glibc counts them in the upper bits of __wrefs
 * (a waiter holds a reference from before it releases the mutex until it has
 * left; destroy waits for the count to drop to zero). */
static inline unsigned cond_waiters(pthread_cond_t *c)
{
    return PW_LOAD_RELAXED(&c->__data.__wrefs) >> 3;
}

/* Bit 2 of __wrefs is destroy's wake-request flag: set by
 * pthread_cond_destroy, cleared only by an init (or an initializer). */
#define COND_DESTROYED 4u

static inline bool cond_destroyed(pthread_cond_t *c)
{
    return PW_LOAD_RELAXED(&c->__data.__wrefs) & COND_DESTROYED;
}

/* Neither waiters nor destroyed: the signal fast path's one test (the
 * same compare as "no waiters" alone). */
static inline bool cond_quiet(pthread_cond_t *c)
{
    return (PW_LOAD_RELAXED(&c->__data.__wrefs) & ~3u) == 0;
}

static void cond_wait_cancelled(void *p)
{
    struct cond_wait_ctx *ctx = p;
    if (ctx->t == NULL)
        return;
    pw_park_cancelled((void *)(uintptr_t)ctx->op);
    pw_uq_cur.op = PW_OP_NONE; /* the queue op's end will never run */
    if (pw_tls.rec == ctx->t)
        pw_lock_retaken(ctx->t, (uint64_t)(uintptr_t)ctx->m, PW_OBJ_MUTEX, ctx->pc);
}

static int real_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
    return abs != NULL ? PW_REAL(pthread_cond_timedwait)(c, m, abs)
                       : PW_REAL(pthread_cond_wait)(c, m);
}

static int cond_wait_work(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs,
                          uint64_t pc)
{
    int err = errno;
    struct cond_wait_ctx ctx = {NULL, m, PW_OP_COND_WAIT, (uint64_t)(uintptr_t)c, pc};
    uint64_t obj2 = (uint64_t)(uintptr_t)m;
    pw_tls.guard++;
    ctx.t = pw_self();
    /* inside an annotated queue send/receive (userchan.c) the thread waits
     * for the queue, and the report should say so, not "cond#3" */
    pw_uq_park(&ctx.op, &ctx.obj, &obj2);
    if (ctx.t != NULL) {
        /* waiting with a mutex the thread does not hold (glibc's default mutex
         * does not check), or with another mutex than the cond's other waiters */
        if (!pw_held_pop(ctx.t, (uint64_t)(uintptr_t)m))
            pw_lock_misuse(PW_MISUSE_COND_MUTEX_NOT_HELD, PW_OBJ_COND, (uint64_t)(uintptr_t)c,
                           (uint64_t)(uintptr_t)m);
        /* the check scans every thread record ever used (a cache miss each):
         * only a cond other threads are inside a wait on can have a waiter
         * with another mutex (parkonce: 2000 short threads made each wait
         * scan up to 2000 records, half the instructions of the benchmark) */
        if (ctx.op == PW_OP_COND_WAIT && cond_waiters(c) != 0)
            pw_cond_wait_check((uint64_t)(uintptr_t)c, (uint64_t)(uintptr_t)m);
        if (PW_UNLIKELY(cond_destroyed(c)))
            pw_use_destroyed(PW_OBJ_COND, (uint64_t)(uintptr_t)c, (uint64_t)(uintptr_t)m,
                             PW_CALL_WAIT);
        pw_park_begin(ctx.t, ctx.op, abs != NULL ? PW_PARK_TIMED : 0, ctx.obj, obj2, -1,
                      pw_stack_capture());
    }
    pw_tls.guard--;
    int rc;
    pthread_cleanup_push(cond_wait_cancelled, &ctx);
    errno = err;
    rc = real_wait(c, m, abs);
    pthread_cleanup_pop(0);
    err = errno;
    pw_tls.guard++;
    if (ctx.t != NULL) {
        pw_park_end(ctx.t, ctx.op, ctx.obj, rc, 0, 0);
        if (rc != EINVAL && rc != EPERM) /* otherwise the mutex was never released */
            pw_lock_retaken(ctx.t, (uint64_t)(uintptr_t)m, PW_OBJ_MUTEX, pc);
    }
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (!pw_on())
        return PW_REAL(pthread_cond_wait)(c, m);
    return cond_wait_work(c, m, NULL, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

PW_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_cond_timedwait)(c, m, abs);
    return cond_wait_work(c, m, abs, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

/* A run of signals by one thread on one cond costs a compare, unless the cond
 * has waiters: then the signal wakes one (a futex syscall anyway), and the
 * analyzer must see that it came after the wait began, from whom holding what
 * (a woken waiter that is still parked waits for its mutex's holder). */
static __attribute__((noinline)) void signal_record(pthread_cond_t *c, uint64_t key, bool again)
{
    uint64_t broadcast = key & 1;
    pw_tls.last_cond = key;
    int err = errno;
    pw_tls.guard++;
    /* destroyed, and no waiter left for the destroy to wait for (the wake-up
     * that lets a destroy with waiters finish is no misuse); once per run */
    uint32_t w = PW_LOAD_RELAXED(&c->__data.__wrefs);
    if (PW_UNLIKELY((w & COND_DESTROYED) && (w >> 3) == 0 && !again))
        pw_use_destroyed(PW_OBJ_COND, (uint64_t)(uintptr_t)c, 0,
                         broadcast ? PW_CALL_BROADCAST : PW_CALL_SIGNAL);
    struct pw_thread_rec *t = pw_self();
    uint32_t n = t != NULL ? t->nheld : 0;
    struct pw_event ev = {.kind = PW_EV_COND_SIGNAL,
                          .obj = (uint64_t)(uintptr_t)c,
                          .obj2 = n != 0 && n <= PW_HELD_MAX ? t->held[n - 1] : 0,
                          .arg = broadcast};
    /* who signals is evidence: a thread's first signal is a note (pw_act);
     * the run's previous signal went through pw_act already, so a signal to
     * waiters in a run (a producer loop) is ring history only */
    if (again)
        pw_emit(t, &ev);
    else
        pw_act(&ev);
    pw_tls.guard--;
    errno = err;
}

/* The recording, the real call, and the time of a wake-up that had waiters
 * (after it returned: pw_cond_woke), out of line. */
static __attribute__((noinline)) int signal_slow(pthread_cond_t *c, uint64_t key, bool again)
{
    bool broadcast = key & 1;
    bool waiters = cond_waiters(c) != 0;
    signal_record(c, key, again);
    int rc = broadcast ? PW_REAL(pthread_cond_broadcast)(c) : PW_REAL(pthread_cond_signal)(c);
    if (waiters)
        pw_cond_woke((uint64_t)(uintptr_t)c, broadcast);
    return rc;
}

/* The run test inline, the rest out of line: a signal nobody waits for costs a
 * few instructions and no stack frame. */
static inline int signal_seen(pthread_cond_t *c, uint64_t broadcast)
{
    /* conds are 8-byte aligned: the low bit tells a broadcast run apart */
    uint64_t key = (uint64_t)(uintptr_t)c | broadcast;
    bool again = pw_tls.last_cond == key;
    if (PW_LIKELY(again) && cond_quiet(c)) /* no waiters, not destroyed */
        return broadcast ? PW_REAL(pthread_cond_broadcast)(c) : PW_REAL(pthread_cond_signal)(c);
    return signal_slow(c, key, again);
}

PW_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    if (pw_on())
        return signal_seen(c, 0);
    return PW_REAL(pthread_cond_signal)(c);
}

PW_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    if (pw_on())
        return signal_seen(c, 1);
    return PW_REAL(pthread_cond_broadcast)(c);
}

/* glibc (2.25 and later) makes destroy wait until every thread inside a wait
 * on the cond has left it: a destroy with waiters is a park (a waiter nobody
 * signals keeps it forever), one without cannot block and is passed through.
 * A destroy with a thread parked on the cond is also a lock misuse. */
PW_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
    if (!pw_on())
        return PW_REAL(pthread_cond_destroy)(c);
    bool again = cond_destroyed(c);
    if (PW_UNLIKELY(again))
        pw_use_destroyed(PW_OBJ_COND, (uint64_t)(uintptr_t)c, 0, PW_CALL_DESTROY);
    /* this thread's next signal of C is a new run: checked */
    if ((pw_tls.last_cond & ~1ull) == (uint64_t)(uintptr_t)c)
        pw_tls.last_cond = 0;
    if (cond_waiters(c) == 0) {
        int rc = PW_REAL(pthread_cond_destroy)(c);
        if (rc == 0 && !again)
            pw_lock_destroyed((uint64_t)(uintptr_t)c); /* who and where, for a later use */
        return rc;
    }
    pw_cond_destroy_check((uint64_t)(uintptr_t)c);
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    if (t != NULL)
        pw_park_begin(t, PW_OP_COND_DESTROY, 0, (uint64_t)(uintptr_t)c, 0, -1, pw_stack_capture());
    pw_tls.guard--;
    errno = err;
    int rc = PW_REAL(pthread_cond_destroy)(c);
    err = errno;
    pw_tls.guard++;
    if (t != NULL)
        pw_park_end(t, PW_OP_COND_DESTROY, (uint64_t)(uintptr_t)c, rc, 0, 0);
    pw_tls.guard--;
    if (rc == 0 && !again)
        pw_lock_destroyed((uint64_t)(uintptr_t)c);
    errno = err;
    return rc;
}
