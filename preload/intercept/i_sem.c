/* Semaphore interposers: unnamed (sem_init) and named (sem_open) semaphores,
 * both known by address.
 *
 * A wait tries first (sem_trywait) and parks only when the count is zero, so a
 * semaphore used as a counter costs one extra atomic.  Posts are recorded like
 * cond signals (COND_SIGNAL with op = PW_OBJ_SEM, once per run of posts by the
 * same thread), so a blocked chain can name who posts.
 *
 * POSIX says sem_wait and sem_timedwait *shall* act on a pending cancellation
 * even when they need not block, and sem_timedwait rejects a bad timeout before
 * looking at the count: the wrappers keep both orders, or a program would see
 * a different answer under the shim.
 *
 * sem_unlink is not interposed: it removes a name, not a semaphore (every
 * sem_t already opened stays valid until sem_close), so it changes nothing the
 * trace knows about. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <time.h>

#include "acts.h"
#include "event.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "userchan.h"

/* glibc's sem_t on 64-bit targets: { uint64_t value and waiters; int private; }.
 * private is FUTEX_PRIVATE (0) for sem_init(pshared = 0) and FUTEX_SHARED (128,
 * the kernel's FUTEX_PRIVATE_FLAG turned around) for a process-shared or named
 * semaphore.  Another process may post a shared one, so a park on it is never
 * "in-process only" (the watcher must not kill a process whose waiter another
 * process will wake). */
struct glibc_sem64 {
    uint64_t data;
    int private;
    int pad;
};
_Static_assert(sizeof(struct glibc_sem64) <= sizeof(sem_t), "sem_t holds glibc's layout");

static uint16_t sem_flags(sem_t *s)
{
#if (defined(__x86_64__) && !defined(__ILP32__)) || defined(__aarch64__)
    return ((struct glibc_sem64 *)(void *)s)->private != 0 ? PW_PARK_OUTSIDE : 0;
#else
    (void)s;
    return PW_PARK_OUTSIDE; /* layout unknown here: never claim it is private */
#endif
}

enum sem_mode { SEM_PLAIN, SEM_TIMED, SEM_CLOCK };

struct sem_call {
    enum sem_mode mode;
    clockid_t clock;
    const struct timespec *abs;
};

static int real_wait(sem_t *s, const struct sem_call *c)
{
    switch (c->mode) {
    case SEM_TIMED:
        return PW_REAL(sem_timedwait)(s, c->abs);
    case SEM_CLOCK:
        return PW_REAL(sem_clockwait)(s, c->clock, c->abs);
    default:
        return PW_REAL(sem_wait)(s);
    }
}

/* The arguments the real call rejects before it looks at the count: those
 * calls go to it untouched, so the program gets its EINVAL. */
static bool bad_args(const struct sem_call *c)
{
    if (c->mode == SEM_PLAIN)
        return false;
    if (c->mode == SEM_CLOCK && c->clock != CLOCK_REALTIME && c->clock != CLOCK_MONOTONIC)
        return true;
    return c->abs == NULL || c->abs->tv_nsec < 0 || c->abs->tv_nsec >= 1000000000L;
}

static int wait_work(sem_t *s, const struct sem_call *c)
{
    int err = errno;
    if (bad_args(c))
        return real_wait(s, c);
    pthread_testcancel(); /* "shall occur", even without blocking (see top) */
    if (PW_REAL(sem_trywait)(s) == 0)
        return 0;
    if (errno != EAGAIN) { /* EINVAL...: the real call's own answer */
        errno = err;
        return real_wait(s, c);
    }
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    uint16_t flags = sem_flags(s) | (c->mode != SEM_PLAIN ? PW_PARK_TIMED : 0);
    uint16_t op = PW_OP_SEM_WAIT;
    uint64_t obj = (uint64_t)(uintptr_t)s, obj2 = 0;
    pw_uq_park(&op, &obj, &obj2); /* a semaphore ring buffer annotated as a queue */
    if (t != NULL)
        pw_park_begin(t, op, flags, obj, obj2, -1, pw_stack_capture());
    pw_tls.guard--;
    int rc;
    pthread_cleanup_push(pw_park_cancelled, (void *)(uintptr_t)op);
    errno = err;
    rc = real_wait(s, c);
    pthread_cleanup_pop(0);
    err = errno;
    pw_tls.guard++;
    if (t != NULL)
        pw_park_end(t, op, obj, rc, rc < 0 ? err : 0, 0);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int sem_wait(sem_t *s)
{
    if (!pw_on())
        return PW_REAL(sem_wait)(s);
    struct sem_call c = {.mode = SEM_PLAIN};
    return wait_work(s, &c);
}

PW_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(sem_timedwait)(s, abs);
    struct sem_call c = {.mode = SEM_TIMED, .abs = abs};
    return wait_work(s, &c);
}

PW_EXPORT int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(sem_clockwait)(s, clock, abs);
    struct sem_call c = {.mode = SEM_CLOCK, .clock = clock, .abs = abs};
    return wait_work(s, &c);
}

/* sem_trywait never blocks: nothing to record, no wrapper needed beyond the
 * real one (it is in the table for wait_work). */

static void post_seen(sem_t *s)
{
    /* same dedup slot as cond signals: one event per run of posts */
    uint64_t key = (uint64_t)(uintptr_t)s;
    if (PW_LIKELY(pw_tls.last_cond == key))
        return;
    pw_tls.last_cond = key;
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_COND_SIGNAL, .op = PW_OBJ_SEM, .obj = key};
    pw_act(&ev); /* who posts is evidence: a thread's first post is a note */
    pw_tls.guard--;
    errno = err;
}

PW_EXPORT int sem_post(sem_t *s)
{
    if (pw_on())
        post_seen(s);
    return PW_REAL(sem_post)(s);
}

/* A semaphore's birth: its site and initial value (arg); obj2 = 1 when other
 * processes can reach it.  Named and process-shared ones go to the notes, which
 * never wrap: they are few, and that another process may post them is evidence
 * the reports rely on (the ring is only history). */
static void sem_born(sem_t *s, unsigned value, bool shared, bool note)
{
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_LOCK_INIT,
                          .op = PW_OBJ_SEM,
                          .obj = (uint64_t)(uintptr_t)s,
                          .obj2 = shared,
                          .arg = value,
                          .stack = pw_stack_capture()};
    if (note)
        pw_note(&ev);
    else
        pw_emit(pw_self(), &ev);
    pw_tls.guard--;
    errno = err;
}

static void sem_gone(sem_t *s, int rc)
{
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_LOCK_DESTROY,
                          .op = PW_OBJ_SEM,
                          .obj = (uint64_t)(uintptr_t)s,
                          .result = rc};
    pw_emit(pw_self(), &ev);
    pw_tls.guard--;
    errno = err;
}

PW_EXPORT int sem_init(sem_t *s, int pshared, unsigned value)
{
    if (!pw_on())
        return PW_REAL(sem_init)(s, pshared, value);
    int rc = PW_REAL(sem_init)(s, pshared, value);
    if (rc == 0)
        sem_born(s, value, pshared != 0, pshared != 0);
    return rc;
}

PW_EXPORT int sem_destroy(sem_t *s)
{
    if (!pw_on())
        return PW_REAL(sem_destroy)(s);
    int rc = PW_REAL(sem_destroy)(s);
    sem_gone(s, rc);
    return rc;
}

/* The mode and value arguments exist only with O_CREAT; passing them on
 * anyway is harmless (the real sem_open reads them only with O_CREAT). */
PW_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
    mode_t mode = 0;
    unsigned value = 0;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = (mode_t)va_arg(ap, unsigned);
        value = va_arg(ap, unsigned);
        va_end(ap);
    }
    if (!pw_on())
        return PW_REAL(sem_open)(name, oflag, mode, value);
    sem_t *s = PW_REAL(sem_open)(name, oflag, mode, value);
    if (s != SEM_FAILED)
        sem_born(s, value, true, true);
    return s;
}

PW_EXPORT int sem_close(sem_t *s)
{
    if (!pw_on())
        return PW_REAL(sem_close)(s);
    int rc = PW_REAL(sem_close)(s);
    sem_gone(s, rc);
    return rc;
}
