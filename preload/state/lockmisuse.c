/* Lock misuse notes.  Each check looks at the other threads' records (held
 * sets, parks) only once the caller already knows something is wrong, or on a
 * cond wait or destroy, which are slow calls anyway: reading another thread's
 * record is racy, and a stale read can only name the wrong other thread, never
 * invent a misuse (the misuse itself comes from the caller's own answer). */
#include <errno.h>
#include <sched.h>

#include "event.h"
#include "lockmisuse.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"

/* Another live thread whose held set lists OBJ, or NULL. */
static struct pw_thread_rec *holder_of(uint64_t obj)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (t == pw_tls.rec || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint32_t n = PW_LOAD_RELAXED(&t->nheld);
        for (uint32_t h = 0; h < n && h < PW_HELD_MAX; h++)
            if (t->held[h] == obj)
                return t;
    }
    return NULL;
}

/* Another live thread parked in a cond wait on C whose mutex is not M (any
 * mutex when M is 0), or NULL; its park stack into *STACK. */
static struct pw_thread_rec *cond_waiter(uint64_t c, uint64_t m, uint32_t *stack)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (t == pw_tls.rec || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint32_t seq = PW_LOAD(&t->park_seq);
        bool hit = t->park_op == PW_OP_COND_WAIT && t->park_obj == c &&
                   (m == 0 || t->park_obj2 != m);
        uint32_t st = t->park_stack;
        if (hit && (seq & 1) == 0 && PW_LOAD(&t->park_seq) == seq) {
            *stack = st;
            return t;
        }
    }
    return NULL;
}

static void note(uint16_t kind, uint16_t type, uint64_t obj, uint64_t obj2,
                 const struct pw_thread_rec *other, uint32_t stack2)
{
    struct pw_event ev = {.kind = PW_EV_MISUSE,
                          .op = kind,
                          .obj = obj,
                          .obj2 = obj2,
                          .result = type,
                          .stack = pw_stack_capture(),
                          .stack2 = stack2,
                          .arg = other != NULL ? other->serial : 0};
    pw_note(&ev);
}

void pw_lock_misuse(uint16_t kind, uint16_t type, uint64_t obj, uint64_t obj2)
{
    int err = errno;
    pw_tls.guard++;
    if (pw_self() != NULL && pw_tf.hdr != NULL) {
        struct pw_thread_rec *h = holder_of(obj);
        uint32_t stack2 = 0;
        if (h != NULL) {
            uint32_t seq = PW_LOAD(&h->park_seq);
            uint32_t st = h->park_op != PW_OP_NONE ? h->park_stack : 0;
            if ((seq & 1) == 0 && PW_LOAD(&h->park_seq) == seq)
                stack2 = st;
        }
        note(kind, type, obj, obj2, h, stack2);
    }
    pw_tls.guard--;
    errno = err;
}

void pw_cond_wait_check(uint64_t c, uint64_t m)
{
    if (pw_tf.hdr == NULL)
        return;
    uint32_t stack2 = 0;
    struct pw_thread_rec *o = cond_waiter(c, m, &stack2);
    if (o != NULL)
        note(PW_MISUSE_COND_TWO_MUTEXES, PW_OBJ_COND, c, m, o, stack2);
}

/* When each cond was last signalled and broadcast while it had waiters, by
 * address: direct-mapped, newest wins.  POSIX lets a cond be destroyed as soon
 * as no thread is blocked on it, so right after a broadcast (or a signal to its
 * one waiter) while the woken threads are still inside glibc's wait, leaving.
 * A lost entry can only make a destroy look busy when it is not, so the table
 * is large for the few conds a program destroys while they have waiters. */
#define WAKE_SLOTS 512u
static struct {
    uint64_t cond;
    uint64_t signal_ns;    /* last signal with waiters, after it returned */
    uint64_t broadcast_ns; /* last broadcast with waiters, after it returned */
} wakes[WAKE_SLOTS];

static uint32_t wake_slot(uint64_t c)
{
    return (uint32_t)((c * 0x9e3779b97f4a7c15ull) >> 55) & (WAKE_SLOTS - 1);
}

void pw_cond_woke(uint64_t c, bool broadcast)
{
    if (pw_tf.hdr == NULL)
        return;
    __typeof__(&wakes[0]) e = &wakes[wake_slot(c)];
    uint64_t now = pw_now();
    if (PW_LOAD_RELAXED(&e->cond) != c) {
        PW_STORE_RELAXED(&e->signal_ns, 0);
        PW_STORE_RELAXED(&e->broadcast_ns, 0);
        PW_STORE_RELAXED(&e->cond, c);
    }
    if (broadcast)
        PW_STORE_RELAXED(&e->broadcast_ns, now);
    else
        PW_STORE_RELAXED(&e->signal_ns, now);
}

/* A thread parked on C that no recorded wake-up can have released: one that
 * began its wait after the last broadcast, unless it is the only such waiter
 * and a signal came after it began.  Racy reads as above: a stale one names no
 * waiter (a missed misuse), never a released one. */
static struct pw_thread_rec *cond_unwoken(uint64_t c, uint32_t *stack)
{
    __typeof__(&wakes[0]) e = &wakes[wake_slot(c)];
    bool known = PW_LOAD_RELAXED(&e->cond) == c;
    uint64_t bcast = known ? PW_LOAD_RELAXED(&e->broadcast_ns) : 0;
    uint64_t sig = known ? PW_LOAD_RELAXED(&e->signal_ns) : 0;
    struct pw_thread_rec *found = NULL;
    uint32_t found_stack = 0, n = 0;
    uint64_t found_since = 0;
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (t == pw_tls.rec || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint32_t seq = PW_LOAD(&t->park_seq);
        bool hit = t->park_op == PW_OP_COND_WAIT && t->park_obj == c;
        uint64_t since = t->park_since_ns;
        uint32_t st = t->park_stack;
        if (!hit || (seq & 1) != 0 || PW_LOAD(&t->park_seq) != seq || since < bcast)
            continue;
        if (n++ == 0) {
            found = t;
            found_stack = st;
            found_since = since;
        }
    }
    if (found == NULL || (n == 1 && found_since < sig))
        return NULL;
    *stack = found_stack;
    return found;
}

void pw_cond_destroy_check(uint64_t c)
{
    int err = errno;
    pw_tls.guard++;
    uint32_t stack2 = 0;
    struct pw_thread_rec *o = pw_self() != NULL && pw_tf.hdr != NULL ? cond_unwoken(c, &stack2)
                                                                     : NULL;
    if (o != NULL)
        note(PW_MISUSE_DESTROY_BUSY_COND, PW_OBJ_COND, c, 0, o, stack2);
    pw_tls.guard--;
    errno = err;
}

/* ---- use after destroy */

/* Where locks were destroyed, by address: direct-mapped and lossy (a newer
 * destroy hashed to the same slot wins; a lost one only loses the "destroyed
 * here" stack, never the misuse).  In .bss: inherited by a fork child, like
 * the marks in the locks themselves.  addr 1 = a writer owns the slot. */
#define DEAD_SLOTS 1024u
#define SLOT_BUSY 1u
static struct {
    uint64_t addr;
    uint64_t site; /* destroy stack | destroying thread's serial << 32 */
} dead[DEAD_SLOTS];

static uint32_t dead_slot(uint64_t obj)
{
    uint64_t h = obj * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 54) & (DEAD_SLOTS - 1);
}

void pw_lock_destroyed(uint64_t obj)
{
    if (pw_tf.hdr == NULL)
        return;
    int err = errno;
    pw_tls.guard++;
    uint64_t site = (uint64_t)pw_stack_capture() | (uint64_t)pw_tls.serial << 32;
    __typeof__(&dead[0]) e = &dead[dead_slot(obj)];
    uint64_t cur = PW_LOAD_RELAXED(&e->addr);
    /* a concurrent writer owns the slot: this destroy's site is lost */
    if (cur != SLOT_BUSY && __atomic_compare_exchange_n(&e->addr, &cur, SLOT_BUSY, false,
                                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        PW_STORE_RELAXED(&e->site, site);
        PW_STORE(&e->addr, obj);
    }
    pw_tls.guard--;
    errno = err;
}

/* Who destroyed OBJ and where (stack | serial << 32), 0 if forgotten. */
static uint64_t destroyed_by(uint64_t obj)
{
    __typeof__(&dead[0]) e = &dead[dead_slot(obj)];
    if (PW_LOAD(&e->addr) != obj)
        return 0;
    uint64_t site = PW_LOAD_RELAXED(&e->site);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return PW_LOAD_RELAXED(&e->addr) == obj ? site : 0;
}

void pw_use_destroyed(uint16_t type, uint64_t obj, uint64_t obj2, uint16_t call)
{
    int err = errno;
    pw_tls.guard++;
    if (pw_self() != NULL && pw_tf.hdr != NULL) {
        uint64_t site = destroyed_by(obj);
        struct pw_event ev = {.kind = PW_EV_MISUSE,
                              .op = PW_MISUSE_USE_DESTROYED,
                              .obj = obj,
                              .obj2 = obj2,
                              .result = type,
                              .err = call,
                              .stack = pw_stack_capture(),
                              .stack2 = (uint32_t)site,
                              .arg = site >> 32};
        pw_note(&ev);
    }
    pw_tls.guard--;
    errno = err;
}

/* The mark of a destroyed rwlock in its unused __pad3 (glibc never writes the
 * pads); __pad4 keeps the lock word it had.  WAKING: a thread that found the
 * mark is restoring the lock; the others wait for it, then try again. */
#define RW_DEAD 0x64776170u   /* "pawd" */
#define RW_WAKING 0x6b776170u /* "pawk" */
#define RW_MARKED 3u          /* PTHREAD_RWLOCK_WRPHASE | WRLOCKED: every try says EBUSY */

void pw_rwlock_destroyed(pthread_rwlock_t *rw)
{
    struct __pthread_rwlock_arch_t *d = &rw->__data;
    if (pw_tf.hdr == NULL)
        return;
    if (PW_LOAD(&d->__pad3) == RW_DEAD) { /* the first destroy stays the one named */
        pw_use_destroyed(PW_OBJ_RWLOCK, (uint64_t)(uintptr_t)rw, 0, PW_CALL_DESTROY);
        return;
    }
    pw_lock_destroyed((uint64_t)(uintptr_t)rw);
    /* only an idle private lock (no reader, no writer, nobody waiting: the
     * word is 0 or, after a writer left, the write phase bit alone, with the
     * phase's futex word 1): a process-shared one may be used by a process
     * without the shim, which would block on the mark */
    uint32_t r = PW_LOAD_RELAXED(&d->__readers);
    if ((r & ~1u) != 0 || d->__writers != 0 || d->__wrphase_futex != (r & 1u) ||
        d->__writers_futex != 0 || d->__cur_writer != 0 || d->__shared != 0 || d->__pad3 != 0 ||
        d->__pad4 != 0)
        return;
    PW_STORE_RELAXED(&d->__pad4, r);
    PW_STORE(&d->__pad3, RW_DEAD);
    /* a thread racing the destroy took it meanwhile: no mark */
    if (!__atomic_compare_exchange_n(&d->__readers, &r, RW_MARKED, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED)) {
        PW_STORE(&d->__pad3, 0u);
        PW_STORE_RELAXED(&d->__pad4, 0u);
    }
}

bool pw_rwlock_dead(pthread_rwlock_t *rw, uint16_t call)
{
    struct __pthread_rwlock_arch_t *d = &rw->__data;
    uint32_t mark = PW_LOAD(&d->__pad3);
    if (PW_LIKELY(mark != RW_DEAD && mark != RW_WAKING))
        return false;
    if (mark == RW_DEAD && __atomic_compare_exchange_n(&d->__pad3, &mark, RW_WAKING, false,
                                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        pw_use_destroyed(PW_OBJ_RWLOCK, (uint64_t)(uintptr_t)rw, 0, call);
        /* nobody else writes the word while it is marked: every try fails
         * and comes here, and waits until the mark is gone */
        PW_STORE(&d->__readers, PW_LOAD_RELAXED(&d->__pad4));
        PW_STORE_RELAXED(&d->__pad4, 0u);
        PW_STORE(&d->__pad3, 0u);
        return true;
    }
    int err = errno;
    while (PW_LOAD(&d->__pad3) == RW_WAKING)
        sched_yield();
    errno = err;
    return true;
}
