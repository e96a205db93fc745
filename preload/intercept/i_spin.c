/* Spinlock interposers.  Spinning is not parking: a thread spinning is running
 * and burning its CPU, so no park is ever recorded and the uncontended and the
 * contended path are the same (real call, then the held-set push).  The held
 * set is what matters: a spinlock still held when its thread ends is reported
 * as lock-held-by-exited-thread, like a mutex, and a spinlock taken while
 * holding another lock is a lock-order edge (two threads spinning on each
 * other's spinlock hang as surely as on mutexes, only hotter). */
#include <pthread.h>

#include "init.h"
#include "lockorder.h"
#include "real.h"
#include "shim.h"
#include "threads.h"
#include "tls.h"

/* PC: the interposer's return address (the lock's site); TRY: orders nothing. */
static inline __attribute__((always_inline)) void held_push_self(pthread_spinlock_t *s, bool try,
                                                                 uint64_t pc)
{
    struct pw_thread_rec *t = pw_self();
    if (t != NULL)
        pw_lock_acquired(t, (uint64_t)(uintptr_t)s, PW_OBJ_SPIN, try, pc);
}

#define CALLER_PC() ((uint64_t)(uintptr_t)__builtin_return_address(0))

/* Before the real table exists the process is single-threaded (see
 * i_mutex.c): a spinlock cannot be contended, nothing to do. */
PW_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(pthread_spin_lock) ? PW_REAL(pthread_spin_lock)(s) : 0;
    int rc = PW_REAL(pthread_spin_lock)(s);
    if (PW_LIKELY(rc == 0))
        held_push_self(s, false, CALLER_PC());
    return rc;
}

PW_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(pthread_spin_trylock) ? PW_REAL(pthread_spin_trylock)(s) : 0;
    int rc = PW_REAL(pthread_spin_trylock)(s);
    if (rc == 0)
        held_push_self(s, true, CALLER_PC());
    return rc;
}

/* Leaves the held set before the real unlock: once released another thread
 * may take it, and both must never claim it at once. */
PW_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(pthread_spin_unlock) ? PW_REAL(pthread_spin_unlock)(s) : 0;
    struct pw_thread_rec *t = pw_tls.rec;
    if (PW_LIKELY(t != NULL))
        pw_held_pop(t, (uint64_t)(uintptr_t)s);
    return PW_REAL(pthread_spin_unlock)(s);
}
