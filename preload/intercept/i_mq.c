/* POSIX message queues: a queue is a channel (counted in messages), and the
 * same name opened twice in a process is the same channel until mq_unlink.
 * mq_send / mq_receive are attempted first with a timeout already past (the
 * kernel then neither blocks nor fails a call that can proceed at once): only
 * ETIMEDOUT means the call would block, so a park is recorded exactly then.
 * On x86_64 glibc has no separate time64 mq symbols; __mq_open_2 is the
 * fortified mq_open. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdarg.h>
#include <time.h>

#include "acts.h"
#include "chan.h"
#include "event.h"
#include "fdtab.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"

static void mq_opened(mqd_t q, const char *name, int oflag)
{
    if (q == (mqd_t)-1 || name == NULL)
        return;
    unsigned sides;
    switch (oflag & O_ACCMODE) {
    case O_RDONLY:
        sides = 1u << PW_SIDE_RECV;
        break;
    case O_WRONLY:
        sides = 1u << PW_SIDE_SEND;
        break;
    default:
        sides = 1u << PW_SIDE_RECV | 1u << PW_SIDE_SEND;
        break;
    }
    int err = errno;
    pw_tls.guard++;
    pw_chan_create_one(PW_OBJ_MQUEUE, (int)q, sides, (oflag & O_NONBLOCK) != 0, name,
                       pw_stack_capture());
    pw_tls.guard--;
    errno = err;
}

PW_EXPORT mqd_t mq_open(const char *name, int oflag, ...)
{
    mode_t mode = 0;
    struct mq_attr *attr = NULL;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = va_arg(ap, mode_t);
        attr = va_arg(ap, struct mq_attr *);
        va_end(ap);
    }
    if (!pw_on())
        return PW_REAL(mq_open)(name, oflag, mode, attr);
    mqd_t q = PW_REAL(mq_open)(name, oflag, mode, attr);
    mq_opened(q, name, oflag);
    return q;
}

PW_EXPORT mqd_t __mq_open_2(const char *name, int oflag)
{
    if (!pw_on())
        return PW_REAL(__mq_open_2)(name, oflag);
    mqd_t q = PW_REAL(__mq_open_2)(name, oflag);
    mq_opened(q, name, oflag);
    return q;
}

/* glibc's mq_close is the close system call, reached past our close(). */
PW_EXPORT int mq_close(mqd_t q)
{
    if (!pw_on())
        return PW_REAL(mq_close)(q);
    uint64_t e = pw_fd_get((int)q);
    if (e & PW_FD_LIVE) {
        int err = errno;
        pw_tls.guard++;
        pw_chan_fd_closing((int)q, e);
        pw_tls.guard--;
        errno = err;
    }
    int rc = PW_REAL(mq_close)(q);
    if ((e & PW_FD_STALE) && rc < 0 && errno == EBADF) {
        int err = errno;
        pw_tls.guard++;
        pw_chan_double_close((int)q, e);
        pw_tls.guard--;
        errno = err;
    }
    return rc;
}

PW_EXPORT int mq_unlink(const char *name)
{
    if (!pw_on())
        return PW_REAL(mq_unlink)(name);
    int rc = PW_REAL(mq_unlink)(name);
    if (rc == 0) {
        int err = errno;
        pw_tls.guard++;
        pw_chan_unlink_name(name);
        pw_tls.guard--;
        errno = err;
    }
    return rc;
}

/* ---- send / receive */

struct mq_call {
    mqd_t q;
    bool recv;
    char *buf;
    size_t len;
    unsigned prio;              /* send */
    unsigned *priop;            /* receive */
    const struct timespec *abs; /* NULL: untimed */
};

static ssize_t mq_real(const struct mq_call *m, const struct timespec *abs)
{
    if (m->recv)
        return abs ? PW_REAL(mq_timedreceive)(m->q, m->buf, m->len, m->priop, abs)
                   : PW_REAL(mq_receive)(m->q, m->buf, m->len, m->priop);
    return abs ? PW_REAL(mq_timedsend)(m->q, m->buf, m->len, m->prio, abs)
               : PW_REAL(mq_send)(m->q, m->buf, m->len, m->prio);
}

struct mq_park {
    uint32_t idx;
    uint8_t side, parked;
};

static void mq_park_cleanup(void *p)
{
    struct mq_park *mp = p;
    if (!mp->parked)
        return;
    __atomic_sub_fetch(&pw_chan_priv[mp->idx].parked[mp->side], 1, __ATOMIC_RELAXED);
    pw_park_cancelled(
        (void *)(uintptr_t)(mp->side == PW_SIDE_RECV ? PW_OP_MQ_RECEIVE : PW_OP_MQ_SEND));
}

static void mq_booked(struct mq_park *mp, struct pw_chan_rec *c, const struct mq_call *m,
                      ssize_t rc, int err)
{
    uint16_t op = m->recv ? PW_OP_MQ_RECEIVE : PW_OP_MQ_SEND;
    if (mp->parked) {
        __atomic_sub_fetch(&pw_chan_priv[mp->idx].parked[mp->side], 1, __ATOMIC_RELAXED);
        pw_park_end(pw_tls.rec, op, c->id, rc, rc < 0 ? err : 0, rc >= 0 ? 1 : 0);
    }
    if (rc >= 0)
        __atomic_add_fetch(m->recv ? &c->received : &c->sent, 1, __ATOMIC_ACQ_REL);
    struct pw_event ev = {.kind = m->recv ? PW_EV_CHAN_RECV : PW_EV_CHAN_SEND,
                          .obj = c->id,
                          .obj2 = (uint64_t)m->q,
                          .arg = rc >= 0 ? 1 : 0,
                          .result = (int32_t)rc,
                          .err = rc < 0 ? err : 0};
    if (rc >= 0)
        pw_act(&ev); /* who sends and receives is evidence: the first one is a note */
    else
        pw_emit(pw_self(), &ev);
}

static ssize_t mq_work(struct mq_call *m)
{
    if (!pw_on())
        return mq_real(m, m->abs);
    uint64_t e = pw_fd_get((int)m->q);
    int64_t idx = m->recv ? pw_fd_recv_chan(e) : pw_fd_send_chan(e);
    if (idx < 0)
        return mq_real(m, m->abs);
    struct pw_chan_rec *c = pw_chan_rec((uint32_t)idx);
    struct mq_park mp = {.idx = (uint32_t)idx, .side = m->recv ? PW_SIDE_RECV : PW_SIDE_SEND};
    int err = errno;
    /* the attempt: the epoch is long past, so this never waits */
    static const struct timespec past = {0, 0};
    ssize_t rc = mq_real(m, &past);
    if (rc >= 0 || errno != ETIMEDOUT || (m->abs && m->abs->tv_sec == 0 && m->abs->tv_nsec == 0)) {
        int got = errno;
        pw_tls.guard++;
        mq_booked(&mp, c, m, rc, got);
        pw_tls.guard--;
        errno = rc < 0 ? got : err;
        return rc;
    }
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    if (t != NULL) {
        uint32_t stack = pw_stack_capture();
        __atomic_add_fetch(&pw_chan_priv[mp.idx].parked[mp.side], 1, __ATOMIC_RELAXED);
        mp.parked = 1;
        pw_park_begin(t, m->recv ? PW_OP_MQ_RECEIVE : PW_OP_MQ_SEND, m->abs ? PW_PARK_TIMED : 0,
                      c->id, (uint64_t)m->q, (int)m->q, stack);
    }
    pw_tls.guard--;
    errno = err;
    pthread_cleanup_push(mq_park_cleanup, &mp);
    rc = mq_real(m, m->abs);
    pthread_cleanup_pop(0);
    err = errno;
    pw_tls.guard++;
    mq_booked(&mp, c, m, rc, err);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int mq_send(mqd_t q, const char *msg, size_t len, unsigned prio)
{
    struct mq_call m = {.q = q, .buf = (char *)msg, .len = len, .prio = prio};
    return (int)mq_work(&m);
}

PW_EXPORT int mq_timedsend(mqd_t q, const char *msg, size_t len, unsigned prio,
                           const struct timespec *abs)
{
    struct mq_call m = {.q = q, .buf = (char *)msg, .len = len, .prio = prio, .abs = abs};
    return (int)mq_work(&m);
}

PW_EXPORT ssize_t mq_receive(mqd_t q, char *buf, size_t len, unsigned *prio)
{
    struct mq_call m = {.q = q, .recv = true, .buf = buf, .len = len, .priop = prio};
    return mq_work(&m);
}

PW_EXPORT ssize_t mq_timedreceive(mqd_t q, char *buf, size_t len, unsigned *prio,
                                  const struct timespec *abs)
{
    struct mq_call m = {.q = q, .recv = true, .buf = buf, .len = len, .priop = prio, .abs = abs};
    return mq_work(&m);
}
