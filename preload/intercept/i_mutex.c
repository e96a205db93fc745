/* Mutex interposers.  The uncontended path is the hot path of most programs:
 * a real trylock, then the held-set push in the thread record (no event, no
 * stack, no clock).  Only EBUSY makes a park: stack, seqlocked park state,
 * PARK, the real blocking lock, UNPARK (mutrace's contention probe). */
#include <errno.h>
#include <pthread.h>
#include <sys/single_threaded.h>
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
#include "tracefile.h"
#include "util.h"

/* PC: the interposer's return address, the "A acquired here" site of later
 * lock-order edges (lockorder.c).  TRY: a trylock, which orders nothing. */
static inline __attribute__((always_inline)) void held_push_self(pthread_mutex_t *m, bool try,
                                                                 uint64_t pc)
{
    struct pw_thread_rec *t = pw_self();
    if (t != NULL)
        pw_lock_acquired(t, (uint64_t)(uintptr_t)m, PW_OBJ_MUTEX, try, pc);
}

#define CALLER_PC() ((uint64_t)(uintptr_t)__builtin_return_address(0))

/* The caller's own deadline, if any: ABS on clock CLK, which is NO_CLOCK
 * for pthread_mutex_timedlock (CLOCK_REALTIME, through its own entry point). */
#define NO_CLOCK ((clockid_t)-1)
struct deadline {
    const struct timespec *abs; /* NULL: an untimed lock */
    clockid_t clk;
};

static int real_lock(pthread_mutex_t *m, struct deadline d)
{
    if (d.abs == NULL)
        return PW_REAL(pthread_mutex_lock)(m);
    if (d.clk == NO_CLOCK)
        return PW_REAL(pthread_mutex_timedlock)(m, d.abs);
    return PW_REAL(pthread_mutex_clocklock)(m, d.clk, d.abs);
}

/* A robust mutex whose owner died: the caller holds it now and must make it
 * consistent; the note lets the report call the dead owner's hold recovered. */
static int owner_dead(pthread_mutex_t *m, bool try, uint64_t pc)
{
    held_push_self(m, try, pc);
    pw_lock_misuse(PW_MISUSE_OWNER_DEAD, PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0);
    return EOWNERDEAD;
}

/* glibc's mark of a destroyed mutex (pthread_mutex_destroy sets the kind to
 * -1; an init resets it): every lock answers EINVAL. */
static inline bool destroyed(const pthread_mutex_t *m)
{
    return PW_LOAD_RELAXED(&m->__data.__kind) == -1;
}

/* A lock answered RC: EINVAL for a destroyed mutex (glibc marks it so),
 * EDEADLK for an error-checking mutex the thread holds already: misuse. */
static void lock_failed(pthread_mutex_t *m, int rc)
{
    if (rc == EINVAL && destroyed(m))
        pw_use_destroyed(PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0, PW_CALL_LOCK);
    else if (rc == EDEADLK)
        pw_lock_misuse(PW_MISUSE_RELOCK, PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0);
}

/* How long a contended lock waits with the stack of its call site before
 * its own stack is captured and its park written to the ring: nearly all
 * contended waits are over long before. */
#define PROBE_NS 1000000u

/* glibc's private kind bits of a robust, priority-inheriting or -protecting
 * mutex (pthreadP.h: PTHREAD_MUTEX_ROBUST_NORMAL_NP 16, PRIO_INHERIT 32,
 * PRIO_PROTECT 64): those keep the plain park path, since their timed locks
 * take other kernel paths (FUTEX_LOCK_PI2 needs Linux 5.14 for a monotonic
 * clock). */
#define KIND_EXOTIC 0x70

/* A contended lock of a plain mutex.  Whatever runs between the failed
 * trylock and the real lock widens the window in which the lock word is
 * fought over (the holder's next unlock finds a waiter and must wake it), and
 * whatever runs after the real lock returns lengthens the new holder's time
 * inside.  So:
 *   - before the real lock, only the park state is published (a clock read
 *     and the seqlocked fields: a snapshot or the watcher sees the park at
 *     once), with the whole stack already captured at this call site
 *     (lockorder.c's sites table, which locks taken uncontended there borrow
 *     too); a call site without one captures it now, once;
 *   - the real lock is bounded by PROBE_NS (pthread_mutex_clocklock,
 *     CLOCK_MONOTONIC).  Got within it: the park state is cleared, and the
 *     PARK/UNPARK events wait in TLS until the thread's next unlock, after
 *     the real unlock, or its next event (pw_park_flush);
 *   - a wait that lasts PROBE_NS captures its own stack, publishes it (a
 *     deadlock's report shows exactly where each thread waits), writes PARK
 *     and goes on with the untimed real lock, as every park did before. */
static int lock_contended(pthread_mutex_t *m, uint64_t pc, int err)
{
    uint64_t obj = (uint64_t)(uintptr_t)m;
    uint64_t t0 = pw_mono_abs();
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    uint32_t site = 0;
    if (t != NULL) {
        pw_park_flush(); /* an earlier one: at most one waits */
        site = pw_lock_site_stack(pc);
        if (site == 0)
            pw_lock_site_remember(pc, site = pw_stack_capture());
        pw_park_publish(t, PW_OP_MUTEX_LOCK, obj, site, t0 - pw_tf.start_mono);
    }
    pw_tls.guard--;
    uint64_t end = t0 + PROBE_NS;
    struct timespec ts = {.tv_sec = (time_t)(end / 1000000000u),
                          .tv_nsec = (long)(end % 1000000000u)};
    int rc = PW_REAL(pthread_mutex_clocklock)(m, CLOCK_MONOTONIC, &ts);
    uint32_t stack = site;
    if (rc == ETIMEDOUT) {
        pw_tls.guard++;
        if (t != NULL)
            pw_park_confirm(t, PW_OP_MUTEX_LOCK, obj, stack = pw_stack_capture(),
                            t0 - pw_tf.start_mono);
        pw_tls.guard--;
        rc = PW_REAL(pthread_mutex_lock)(m);
        pw_tls.guard++;
        if (t != NULL)
            pw_park_end(t, PW_OP_MUTEX_LOCK, obj, rc, 0, 0);
    } else {
        pw_tls.guard++;
        if (t != NULL) {
            pw_park_clear(t);
            pw_tls.pend_stack = site;
            pw_tls.pend_since = t0;
            pw_tls.pend_until = pw_mono_abs();
            pw_tls.pend_result = rc;
            pw_tls.pend_obj = obj;
        }
    }
    if (t != NULL && (rc == 0 || rc == EOWNERDEAD)) {
        pw_lock_acquired(t, obj, PW_OBJ_MUTEX, false, pc);
        if (stack != site)
            pw_lock_site_known(t, stack); /* the park's own stack is where it was taken */
    }
    pw_tls.guard--;
    if (rc == EOWNERDEAD)
        pw_lock_misuse(PW_MISUSE_OWNER_DEAD, PW_OBJ_MUTEX, obj, 0);
    else if (rc != 0)
        lock_failed(m, rc);
    errno = err;
    return rc;
}

/* The trylock said TRY_RC (not a success): block for real, as a park if the
 * mutex is simply taken, or plainly for any other answer (EINVAL, EAGAIN...). */
static int lock_slow(pthread_mutex_t *m, int try_rc, struct deadline d, uint64_t pc)
{
    int err = errno;
    int rc;
    if (try_rc != EBUSY) {
        rc = real_lock(m, d);
        if (rc == 0)
            held_push_self(m, false, pc);
        else if (rc == EOWNERDEAD)
            owner_dead(m, false, pc);
        else
            lock_failed(m, rc);
        errno = err;
        return rc;
    }
    /* a glibc older than 2.30 has no clocklock: the plain park path */
    if (d.abs == NULL && (PW_LOAD_RELAXED(&m->__data.__kind) & KIND_EXOTIC) == 0 &&
        PW_REAL(pthread_mutex_clocklock) != NULL)
        return lock_contended(m, pc, err);
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    uint16_t flags = d.abs != NULL ? PW_PARK_TIMED : 0;
    uint32_t stack = 0;
    if (t != NULL)
        pw_park_begin(t, PW_OP_MUTEX_LOCK, flags, (uint64_t)(uintptr_t)m, 0, -1,
                      stack = pw_stack_capture());
    pw_tls.guard--;
    rc = real_lock(m, d);
    pw_tls.guard++;
    if (t != NULL) {
        pw_park_end(t, PW_OP_MUTEX_LOCK, (uint64_t)(uintptr_t)m, rc, 0, 0);
        if (rc == 0 || rc == EOWNERDEAD) {
            pw_lock_acquired(t, (uint64_t)(uintptr_t)m, PW_OBJ_MUTEX, false, pc);
            pw_lock_site_known(t, stack); /* the park's stack is where it was taken */
        }
    }
    pw_tls.guard--;
    if (rc == EOWNERDEAD)
        pw_lock_misuse(PW_MISUSE_OWNER_DEAD, PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0);
    else if (rc != 0)
        lock_failed(m, rc);
    errno = err;
    return rc;
}

/* glibc's lock skips its atomic while the process is single-threaded; trylock
 * never does (it costs twice a lock+unlock pair there).  With one thread and a
 * free lock word (0 = free for every mutex kind) the real lock cannot block,
 * so it is called directly: no park can be missed. */
static inline bool lock_cannot_block(pthread_mutex_t *m)
{
    return __libc_single_threaded && PW_LOAD_RELAXED(&m->__data.__lock) == 0;
}

/* Every lock but the common one: not recording, a thread without a live
 * record, or a lock that was not simply taken. */
static __attribute__((noinline)) int lock_other(pthread_mutex_t *m, int rc, uint64_t pc)
{
    if (rc < 0) {
        if (PW_UNLIKELY(!pw_on())) /* no table yet: single-threaded, nothing to lock */
            return PW_REAL(pthread_mutex_lock) ? PW_REAL(pthread_mutex_lock)(m) : 0;
        rc = lock_cannot_block(m) ? PW_REAL(pthread_mutex_lock)(m)
                                  : PW_REAL(pthread_mutex_trylock)(m);
        if (rc == 0) {
            held_push_self(m, false, pc);
            return 0;
        }
    }
    if (rc == EOWNERDEAD)
        return owner_dead(m, false, pc);
    return lock_slow(m, rc, (struct deadline){NULL, NO_CLOCK}, pc);
}

/* The common lock, written out as unlock is: recording (pw_on's test) and
 * the thread's record live are known before the real call, so that after it
 * only the held-set push remains. */
PW_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    struct pw_thread_rec *t = pw_tls.rec;
    if (PW_UNLIKELY(PW_LOAD_RELAXED(&pw_proc->ready) != PW_READY_REC || pw_tls.guard != 0 ||
                    t == NULL))
        return lock_other(m, -1, CALLER_PC());
    int rc = lock_cannot_block(m) ? PW_REAL(pthread_mutex_lock)(m)
                                  : PW_REAL(pthread_mutex_trylock)(m);
    if (PW_UNLIKELY(rc != 0))
        return lock_other(m, rc, CALLER_PC());
    pw_lock_acquired(t, (uint64_t)(uintptr_t)m, PW_OBJ_MUTEX, false, CALLER_PC());
    return 0;
}

PW_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_mutex_timedlock)(m, abs);
    int rc = PW_REAL(pthread_mutex_trylock)(m);
    if (rc == 0) {
        held_push_self(m, false, CALLER_PC());
        return 0;
    }
    if (rc == EOWNERDEAD)
        return owner_dead(m, false, CALLER_PC());
    return lock_slow(m, rc, (struct deadline){abs, NO_CLOCK}, CALLER_PC());
}

/* glibc 2.30's timedlock on a chosen clock.  It refuses any clock but these
 * two with EINVAL before it looks at the lock: left to it, so a bad clock
 * never takes a free lock through our trylock. */
PW_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
    if (!pw_on() || (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC))
        return PW_REAL(pthread_mutex_clocklock)(m, clk, abs);
    int rc = PW_REAL(pthread_mutex_trylock)(m);
    if (rc == 0) {
        held_push_self(m, false, CALLER_PC());
        return 0;
    }
    if (rc == EOWNERDEAD)
        return owner_dead(m, false, CALLER_PC());
    return lock_slow(m, rc, (struct deadline){abs, clk}, CALLER_PC());
}

PW_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(pthread_mutex_trylock) ? PW_REAL(pthread_mutex_trylock)(m) : 0;
    int rc = PW_REAL(pthread_mutex_trylock)(m);
    if (rc == 0)
        held_push_self(m, true, CALLER_PC());
    else if (rc == EOWNERDEAD)
        owner_dead(m, true, CALLER_PC());
    else if (rc == EINVAL)
        lock_failed(m, rc);
    return rc;
}

/* The lock leaves the held set before the real unlock: once it is released
 * another thread may take it, and both must never claim it at once. */
static __attribute__((noinline)) int unlock_slow(pthread_mutex_t *m)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(pthread_mutex_unlock) ? PW_REAL(pthread_mutex_unlock)(m) : 0;
    struct pw_thread_rec *t = pw_tls.rec;
    if (PW_LIKELY(t != NULL) && PW_UNLIKELY(!pw_held_pop(t, (uint64_t)(uintptr_t)m))) {
        if (destroyed(m))
            pw_use_destroyed(PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0, PW_CALL_UNLOCK);
        else
            pw_lock_misuse(PW_MISUSE_UNLOCK_NOT_HELD, PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0);
    }
    if (PW_LIKELY(pw_tls.pend_obj == 0))
        return PW_REAL(pthread_mutex_unlock)(m);
    /* after a contended lock: the real unlock first, then the park the probe
     * left pending (probe_done), so that no waiter waits for its writing */
    int rc = PW_REAL(pthread_mutex_unlock)(m);
    int err = errno;
    pw_tls.guard++;
    pw_park_flush();
    pw_tls.guard--;
    errno = err;
    return rc;
}

/* The common unlock, written out so that it needs no stack frame and ends in
 * a jump to the real unlock: recording (pw_on's test), the thread live, M the
 * last lock it took, no park pending.  Everything else is unlock_slow. */
PW_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    struct pw_thread_rec *t = pw_tls.rec;
    if (PW_LIKELY(PW_LOAD_RELAXED(&pw_proc->ready) == PW_READY_REC && pw_tls.guard == 0 &&
                  t != NULL && pw_tls.pend_obj == 0)) {
        uint32_t n = t->nheld;
        if (PW_LIKELY(n - 1 < PW_HELD_MAX && t->held[n - 1] == (uint64_t)(uintptr_t)m)) {
            PW_STORE_RELAXED(&t->nheld, n - 1);
            return PW_REAL(pthread_mutex_unlock)(m);
        }
    }
    return unlock_slow(m);
}

static void lock_life(uint16_t kind, pthread_mutex_t *m, int rc)
{
    pw_lock_life(kind, PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, rc);
}

PW_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    if (!pw_on())
        return PW_REAL(pthread_mutex_init) ? PW_REAL(pthread_mutex_init)(m, attr) : 0;
    int rc = PW_REAL(pthread_mutex_init)(m, attr);
    lock_life(PW_EV_LOCK_INIT, m, rc);
    return rc;
}

PW_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    if (!pw_on())
        return PW_REAL(pthread_mutex_destroy) ? PW_REAL(pthread_mutex_destroy)(m) : 0;
    bool again = destroyed(m); /* glibc destroys it again without a word */
    if (PW_UNLIKELY(again))
        pw_use_destroyed(PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0, PW_CALL_DESTROY);
    int rc = PW_REAL(pthread_mutex_destroy)(m);
    if (PW_UNLIKELY(rc == EBUSY)) /* still locked (or a thread still uses it) */
        pw_lock_misuse(PW_MISUSE_DESTROY_LOCKED, PW_OBJ_MUTEX, (uint64_t)(uintptr_t)m, 0);
    else if (rc == 0 && !again)
        pw_lock_destroyed((uint64_t)(uintptr_t)m); /* who and where, for a later use */
    lock_life(PW_EV_LOCK_DESTROY, m, rc);
    return rc;
}
