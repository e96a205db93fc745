/* Thread interposers: create (with a start trampoline), exit, join, detach,
 * setname.
 *
 * The child's slot is claimed in the parent, so THREAD_CREATE names the
 * child's serial and the start routine and its argument travel through the
 * slot's private hand-over area (no allocation).  The trampoline records the
 * start, and the end through a cleanup handler, so a return, pthread_exit and
 * cancellation are all seen. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>

#include "event.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"

static void thread_end_unwound(void *unused)
{
    (void)unused;
    uint32_t how = pw_tls.exit_how == PW_EXIT_PTHREAD_EXIT ? PW_EXIT_PTHREAD_EXIT : PW_EXIT_CANCEL;
    pw_thread_end(how, pw_tls.exit_stack);
}

/* Where a thread that returned from its start routine FN exited: nothing
 * inside FN can be seen any more, so its site is FN itself, a one-frame stack
 * (FN + 1: the analyzer reads every pc as a return address and looks up pc - 1,
 * which is FN's first instruction, its name and opening line).  The depot
 * stores it once per start routine. */
static uint32_t returned_from(void *(*fn)(void *))
{
    int err = errno;
    pw_tls.guard++;
    uint64_t pc = (uint64_t)(uintptr_t)fn + 1;
    uint32_t id = pw_tf.hdr != NULL ? pw_stack_of_pcs(&pc, 1) : 0;
    pw_tls.guard--;
    errno = err;
    return id;
}

static void *trampoline(void *p)
{
    uint32_t slot = (uint32_t)(uintptr_t)p;
    struct pw_slot_priv hand = pw_slot_hands[slot];
    pw_tls.guard++;
    pw_thread_begin(slot, 1);
    pw_tls.guard--;
    void *ret;
    pthread_cleanup_push(thread_end_unwound, NULL);
    ret = hand.fn(hand.arg);
    pthread_cleanup_pop(0);
    pw_thread_end(PW_EXIT_RETURN, returned_from(hand.fn));
    return ret;
}

static uint32_t attr_flags(const pthread_attr_t *attr)
{
    int st = PTHREAD_CREATE_JOINABLE;
    if (attr != NULL && pthread_attr_getdetachstate(attr, &st) == 0 &&
        st == PTHREAD_CREATE_DETACHED)
        return PW_TF_DETACHED;
    return 0;
}

/* Runs with the guard raised, which stays up across the real pthread_create
 * (its internal locking must not look like the program's). */
static int create_work(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    uint32_t stack = pw_stack_capture();
    struct pw_thread_rec *self = pw_self();
    int32_t slot = pw_slot_take();
    if (slot < 0) {
        pw_slot_none_for_child();
        int rc = PW_REAL(pthread_create)(th, attr, fn, arg);
        if (rc != 0)
            pw_slot_none_undo();
        struct pw_event ev = {.kind = PW_EV_THREAD_CREATE,
                              .arg = rc == 0 ? (uint64_t)*th : 0,
                              .stack = stack,
                              .result = rc};
        pw_emit(pw_self(), &ev);
        return rc;
    }
    uint32_t serial = pw_new_serial();
    pw_slot_hands[slot].fn = fn;
    pw_slot_hands[slot].arg = arg;
    struct pw_thread_rec *child = pw_slot((uint32_t)slot);
    /* the kernel names a new thread after its creator: no prctl in the child */
    if (self != NULL)
        memcpy(child->name, self->name, sizeof child->name);
    pw_slot_publish((uint32_t)slot, serial, self ? self->serial : 0, attr_flags(attr), stack,
                    (uint64_t)(uintptr_t)fn);
    int rc = PW_REAL(pthread_create)(th, attr, trampoline, (void *)(uintptr_t)slot);
    if (rc != 0)
        pw_slot_give_back(slot);
    else
        pw_thread_map((uint64_t)*th, (uint32_t)slot); /* the parent may join first */
    struct pw_event ev = {.kind = PW_EV_THREAD_CREATE,
                          .obj = rc == 0 ? serial : 0,
                          .arg = rc == 0 ? (uint64_t)*th : 0,
                          .stack = stack,
                          .result = rc};
    pw_emit(pw_self(), &ev);
    return rc;
}

PW_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg)
{
    if (!pw_on())
        return PW_REAL(pthread_create)(th, attr, fn, arg);
    int err = errno;
    pw_tls.guard++;
    int rc = create_work(th, attr, fn, arg);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT void pthread_exit(void *ret)
{
    if (pw_on()) {
        pw_tls.guard++;
        uint32_t stack = pw_stack_capture();
        pw_tls.guard--;
        pw_tls.exit_how = PW_EXIT_PTHREAD_EXIT;
        pw_tls.exit_stack = stack;
        /* the main thread or an adopted one has no trampoline to see the end */
        if (!pw_tls.trampoline)
            pw_thread_end(PW_EXIT_PTHREAD_EXIT, stack);
    }
    PW_REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

static void join_done(struct pw_thread_rec *target, uint32_t serial, pthread_t th, int rc)
{
    if (rc == 0 && target != NULL && target->serial == serial) {
        target->joined_by = pw_tls.serial;
        /* JOINED makes the slot recyclable: nothing may touch it after this */
        PW_OR(&target->flags, PW_TF_JOINED);
    }
    struct pw_event ev = {.kind = PW_EV_THREAD_JOIN,
                          .obj = serial,
                          .arg = (uint64_t)th,
                          .result = rc};
    pw_emit(pw_self(), &ev);
}

enum join_mode { JOIN_PLAIN, JOIN_TIMED, JOIN_CLOCK };

struct join_call {
    enum join_mode mode;
    clockid_t clock;
    const struct timespec *abs;
};

static int real_join(pthread_t th, void **ret, const struct join_call *c)
{
    switch (c->mode) {
    case JOIN_TIMED:
        return PW_REAL(pthread_timedjoin_np)(th, ret, c->abs);
    case JOIN_CLOCK:
        return PW_REAL(pthread_clockjoin_np)(th, ret, c->clock, c->abs);
    default:
        return PW_REAL(pthread_join)(th, ret);
    }
}

/* pthread_join and its timed variants: a park on the joined thread (timed
 * ones never count as "forever").  All are cancellation points. */
static int join_work(pthread_t th, void **ret, const struct join_call *c)
{
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *self = pw_self();
    struct pw_thread_rec *target = pw_thread_find((uint64_t)th);
    uint32_t serial = target != NULL ? target->serial : 0;
    if (self != NULL)
        pw_park_begin(self, PW_OP_JOIN, c->mode != JOIN_PLAIN ? PW_PARK_TIMED : 0, serial, 0, -1,
                      pw_stack_capture());
    pw_tls.guard--;
    int rc;
    pthread_cleanup_push(pw_park_cancelled, (void *)(uintptr_t)PW_OP_JOIN);
    rc = real_join(th, ret, c);
    pthread_cleanup_pop(0);
    pw_tls.guard++;
    if (self != NULL)
        pw_park_end(self, PW_OP_JOIN, serial, rc, 0, 0);
    join_done(target, serial, th, rc);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int pthread_join(pthread_t th, void **ret)
{
    if (!pw_on())
        return PW_REAL(pthread_join)(th, ret);
    struct join_call c = {.mode = JOIN_PLAIN};
    return join_work(th, ret, &c);
}

PW_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_timedjoin_np)(th, ret, abs);
    struct join_call c = {.mode = JOIN_TIMED, .abs = abs};
    return join_work(th, ret, &c);
}

PW_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clock,
                                   const struct timespec *abs)
{
    if (!pw_on())
        return PW_REAL(pthread_clockjoin_np)(th, ret, clock, abs);
    struct join_call c = {.mode = JOIN_CLOCK, .clock = clock, .abs = abs};
    return join_work(th, ret, &c);
}

/* Never blocks: no park, only the join when it happened (EBUSY = still
 * running, and the thread stays joinable). */
PW_EXPORT int pthread_tryjoin_np(pthread_t th, void **ret)
{
    if (!pw_on())
        return PW_REAL(pthread_tryjoin_np)(th, ret);
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *target = pw_thread_find((uint64_t)th);
    uint32_t serial = target != NULL ? target->serial : 0;
    pw_tls.guard--;
    int rc = PW_REAL(pthread_tryjoin_np)(th, ret);
    if (rc != EBUSY) {
        pw_tls.guard++;
        join_done(target, serial, th, rc);
        pw_tls.guard--;
    }
    errno = err;
    return rc;
}

PW_EXPORT int pthread_detach(pthread_t th)
{
    if (!pw_on())
        return PW_REAL(pthread_detach)(th);
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *target = pw_thread_find((uint64_t)th);
    uint32_t serial = target != NULL ? target->serial : 0;
    int rc = PW_REAL(pthread_detach)(th);
    if (rc == 0 && target != NULL && target->serial == serial)
        PW_OR(&target->flags, PW_TF_DETACHED);
    struct pw_event ev = {.kind = PW_EV_THREAD_DETACH,
                          .obj = serial,
                          .arg = (uint64_t)th,
                          .result = rc};
    pw_emit(pw_self(), &ev);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    if (!pw_on())
        return PW_REAL(pthread_setname_np)(th, name);
    int rc = PW_REAL(pthread_setname_np)(th, name);
    if (rc != 0)
        return rc;
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *t = pthread_equal(th, pthread_self()) ? pw_self()
                                                                : pw_thread_find((uint64_t)th);
    pw_thread_named(t, name);
    pw_tls.guard--;
    errno = err;
    return rc;
}
