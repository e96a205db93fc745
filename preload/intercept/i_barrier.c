/* Barrier interposers.  A barrier has no "try": every wait is a park, and the
 * last participant's park ends at once.  The participant count goes into the
 * notes at init (notes never wrap), so the analyzer can say how many
 * participants never arrived.  pthread_barrier_wait is not a cancellation
 * point, so no cleanup handler is needed around it. */
#include <errno.h>
#include <pthread.h>

#include "event.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"

/* glibc's barrier: { in, current_round, count, shared, out }; shared is
 * FUTEX_SHARED (non-zero, see the sem_t note in i_sem.c) for a process-shared
 * barrier, whose missing participants may live in another process. */
struct glibc_barrier {
    unsigned in, current_round, count;
    int shared;
    unsigned out;
};
_Static_assert(sizeof(struct glibc_barrier) <= sizeof(pthread_barrier_t),
               "pthread_barrier_t holds glibc's layout");

static uint16_t barrier_flags(pthread_barrier_t *b)
{
    return ((struct glibc_barrier *)(void *)b)->shared != 0 ? PW_PARK_OUTSIDE : 0;
}

PW_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    if (!pw_on())
        return PW_REAL(pthread_barrier_wait)(b);
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    if (t != NULL)
        pw_park_begin(t, PW_OP_BARRIER_WAIT, barrier_flags(b), (uint64_t)(uintptr_t)b, 0, -1,
                      pw_stack_capture());
    pw_tls.guard--;
    errno = err;
    int rc = PW_REAL(pthread_barrier_wait)(b);
    err = errno;
    pw_tls.guard++;
    if (t != NULL)
        pw_park_end(t, PW_OP_BARRIER_WAIT, (uint64_t)(uintptr_t)b, rc, 0, 0);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr,
                                   unsigned count)
{
    if (!pw_on())
        return PW_REAL(pthread_barrier_init)(b, attr, count);
    int rc = PW_REAL(pthread_barrier_init)(b, attr, count);
    if (rc != 0)
        return rc;
    int err = errno;
    pw_tls.guard++;
    int pshared = PTHREAD_PROCESS_PRIVATE;
    if (attr != NULL)
        pthread_barrierattr_getpshared(attr, &pshared);
    struct pw_event ev = {.kind = PW_EV_LOCK_INIT,
                          .op = PW_OBJ_BARRIER,
                          .obj = (uint64_t)(uintptr_t)b,
                          .obj2 = pshared != PTHREAD_PROCESS_PRIVATE,
                          .arg = count,
                          .stack = pw_stack_capture()};
    pw_note(&ev);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
    if (!pw_on())
        return PW_REAL(pthread_barrier_destroy)(b);
    int rc = PW_REAL(pthread_barrier_destroy)(b);
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_LOCK_DESTROY,
                          .op = PW_OBJ_BARRIER,
                          .obj = (uint64_t)(uintptr_t)b,
                          .result = rc};
    pw_emit(pw_self(), &ev);
    pw_tls.guard--;
    errno = err;
    return rc;
}
