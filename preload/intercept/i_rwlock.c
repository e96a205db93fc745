/* Reader-writer lock interposers.
 *
 * Owners are one writer or a set of readers: every holder has the lock in its
 * held set, the read side marked PW_OBJ_RWLOCK | 0x80 (trace.h), so the
 * analyzer can tell a writer waiting for all readers from a reader waiting for
 * the writer.  Like mutexes (i_mutex.c): a real try first, and only EBUSY makes
 * a park with a stack; every other answer of the try (EAGAIN: too many readers,
 * EDEADLK, EINVAL...) goes to the real blocking call unrecorded, which gives the
 * program the answer it would have had without us. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "event.h"
#include "init.h"
#include "lockmisuse.h"
#include "lockorder.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"

enum rw_mode { RW_PLAIN, RW_TIMED, RW_CLOCK };

/* How the blocking call was made: the three families share one worker. */
struct rw_call {
    bool rd;
    enum rw_mode mode;
    clockid_t clock;
    const struct timespec *abs;
    uint64_t pc; /* the exported interposer's return address (lockorder.c) */
};

#define CALLER_PC() ((uint64_t)(uintptr_t)__builtin_return_address(0))

static uint8_t held_type(bool rd)
{
    return rd ? (uint8_t)(PW_OBJ_RWLOCK | PW_HELD_READ) : (uint8_t)PW_OBJ_RWLOCK;
}

/* Into the held set, with the lock-order edges from the locks already held
 * (none for a try: a trylock cannot deadlock). */
static void held_push_self(pthread_rwlock_t *rw, bool rd, bool try, uint64_t pc)
{
    struct pw_thread_rec *t = pw_self();
    if (t != NULL)
        pw_lock_acquired(t, (uint64_t)(uintptr_t)rw, held_type(rd), try, pc);
}

static int real_try(pthread_rwlock_t *rw, bool rd)
{
    return rd ? PW_REAL(pthread_rwlock_tryrdlock)(rw) : PW_REAL(pthread_rwlock_trywrlock)(rw);
}

static int real_block(pthread_rwlock_t *rw, const struct rw_call *c)
{
    switch (c->mode) {
    case RW_TIMED:
        return c->rd ? PW_REAL(pthread_rwlock_timedrdlock)(rw, c->abs)
                     : PW_REAL(pthread_rwlock_timedwrlock)(rw, c->abs);
    case RW_CLOCK:
        return c->rd ? PW_REAL(pthread_rwlock_clockrdlock)(rw, c->clock, c->abs)
                     : PW_REAL(pthread_rwlock_clockwrlock)(rw, c->clock, c->abs);
    default:
        return c->rd ? PW_REAL(pthread_rwlock_rdlock)(rw) : PW_REAL(pthread_rwlock_wrlock)(rw);
    }
}

/* glibc answers EDEADLK to the write holder locking again (either side):
 * without the check it would hang forever, so it is a misuse, not a park. */
static void relocked(pthread_rwlock_t *rw)
{
    pw_lock_misuse(PW_MISUSE_RELOCK, PW_OBJ_RWLOCK, (uint64_t)(uintptr_t)rw, 0);
}

/* The try answered TRY_RC (not a success).  rwlock waits are not cancellation
 * points, so no cleanup handler is needed around the real call. */
static int lock_slow(pthread_rwlock_t *rw, int try_rc, const struct rw_call *c)
{
    /* a lock the shim marked destroyed (lockmisuse.h): noted and restored,
     * then tried again, so the program gets glibc's answer */
    if (try_rc == EBUSY && pw_rwlock_dead(rw, c->rd ? PW_CALL_RDLOCK : PW_CALL_WRLOCK)) {
        try_rc = real_try(rw, c->rd);
        if (try_rc == 0) {
            held_push_self(rw, c->rd, false, c->pc);
            return 0;
        }
    }
    int err = errno;
    int rc;
    if (try_rc != EBUSY) {
        rc = real_block(rw, c);
        if (rc == 0)
            held_push_self(rw, c->rd, false, c->pc);
        else if (rc == EDEADLK)
            relocked(rw);
        errno = err;
        return rc;
    }
    uint16_t op = c->rd ? PW_OP_RWLOCK_RD : PW_OP_RWLOCK_WR;
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    uint32_t stack = 0;
    if (t != NULL)
        pw_park_begin(t, op, c->mode != RW_PLAIN ? PW_PARK_TIMED : 0, (uint64_t)(uintptr_t)rw, 0,
                      -1, stack = pw_stack_capture());
    pw_tls.guard--;
    rc = real_block(rw, c);
    pw_tls.guard++;
    if (t != NULL) {
        pw_park_end(t, op, (uint64_t)(uintptr_t)rw, rc, 0, 0);
        if (rc == 0) {
            pw_lock_acquired(t, (uint64_t)(uintptr_t)rw, held_type(c->rd), false, c->pc);
            pw_lock_site_known(t, stack); /* the park's stack is where it was taken */
        }
    }
    pw_tls.guard--;
    if (rc == EDEADLK)
        relocked(rw);
    errno = err;
    return rc;
}

static int lock_work(pthread_rwlock_t *rw, const struct rw_call *c)
{
    int rc = real_try(rw, c->rd);
    if (PW_LIKELY(rc == 0)) {
        held_push_self(rw, c->rd, false, c->pc);
        return 0;
    }
    return lock_slow(rw, rc, c);
}

/* Before the real table exists (dlsym calling an allocator that locks) the
 * process has a single thread: nothing to lock, nothing to record. */
#define RW_EARLY(name, ...) (PW_REAL(name) ? PW_REAL(name)(__VA_ARGS__) : 0)

PW_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    if (PW_UNLIKELY(!pw_on()))
        return RW_EARLY(pthread_rwlock_rdlock, rw);
    struct rw_call c = {.rd = true, .mode = RW_PLAIN, .pc = CALLER_PC()};
    return lock_work(rw, &c);
}

PW_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    if (PW_UNLIKELY(!pw_on()))
        return RW_EARLY(pthread_rwlock_wrlock, rw);
    struct rw_call c = {.rd = false, .mode = RW_PLAIN, .pc = CALLER_PC()};
    return lock_work(rw, &c);
}

PW_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_rwlock_timedrdlock)(rw, abs);
    struct rw_call c = {.rd = true, .mode = RW_TIMED, .abs = abs, .pc = CALLER_PC()};
    return lock_work(rw, &c);
}

PW_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_rwlock_timedwrlock)(rw, abs);
    struct rw_call c = {.rd = false, .mode = RW_TIMED, .abs = abs, .pc = CALLER_PC()};
    return lock_work(rw, &c);
}

PW_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_rwlock_clockrdlock)(rw, clock, abs);
    struct rw_call c = {.rd = true,
                        .mode = RW_CLOCK,
                        .clock = clock,
                        .abs = abs,
                        .pc = CALLER_PC()};
    return lock_work(rw, &c);
}

PW_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_rwlock_clockwrlock)(rw, clock, abs);
    struct rw_call c = {.rd = false,
                        .mode = RW_CLOCK,
                        .clock = clock,
                        .abs = abs,
                        .pc = CALLER_PC()};
    return lock_work(rw, &c);
}

PW_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    if (PW_UNLIKELY(!pw_on()))
        return RW_EARLY(pthread_rwlock_tryrdlock, rw);
    int rc = PW_REAL(pthread_rwlock_tryrdlock)(rw);
    if (rc == EBUSY && pw_rwlock_dead(rw, PW_CALL_RDLOCK))
        rc = PW_REAL(pthread_rwlock_tryrdlock)(rw);
    if (rc == 0)
        held_push_self(rw, true, true, CALLER_PC());
    return rc;
}

PW_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    if (PW_UNLIKELY(!pw_on()))
        return RW_EARLY(pthread_rwlock_trywrlock, rw);
    int rc = PW_REAL(pthread_rwlock_trywrlock)(rw);
    if (rc == EBUSY && pw_rwlock_dead(rw, PW_CALL_WRLOCK))
        rc = PW_REAL(pthread_rwlock_trywrlock)(rw);
    if (rc == 0)
        held_push_self(rw, false, true, CALLER_PC());
    return rc;
}

/* The lock leaves the held set before the real unlock (see i_mutex.c).  One
 * unlock for either side: a reader that took the lock twice holds two entries
 * and pw_held_pop drops the most recent one. */
PW_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    if (PW_UNLIKELY(!pw_on()))
        return RW_EARLY(pthread_rwlock_unlock, rw);
    struct pw_thread_rec *t = pw_tls.rec;
    if (PW_LIKELY(t != NULL) && PW_UNLIKELY(!pw_held_pop(t, (uint64_t)(uintptr_t)rw)) &&
        !pw_rwlock_dead(rw, PW_CALL_UNLOCK))
        pw_lock_misuse(PW_MISUSE_UNLOCK_NOT_HELD, PW_OBJ_RWLOCK, (uint64_t)(uintptr_t)rw, 0);
    return PW_REAL(pthread_rwlock_unlock)(rw);
}

static void rw_life(uint16_t kind, pthread_rwlock_t *rw, int rc)
{
    pw_lock_life(kind, PW_OBJ_RWLOCK, (uint64_t)(uintptr_t)rw, rc);
}

PW_EXPORT int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr)
{
    if (!pw_on())
        return RW_EARLY(pthread_rwlock_init, rw, attr);
    int rc = PW_REAL(pthread_rwlock_init)(rw, attr);
    rw_life(PW_EV_LOCK_INIT, rw, rc);
    return rc;
}

PW_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
    if (!pw_on())
        return RW_EARLY(pthread_rwlock_destroy, rw);
    int rc = PW_REAL(pthread_rwlock_destroy)(rw);
    if (rc == 0)
        pw_rwlock_destroyed(rw); /* glibc leaves no mark: the shim's (lockmisuse.h) */
    rw_life(PW_EV_LOCK_DESTROY, rw, rc);
    return rc;
}
