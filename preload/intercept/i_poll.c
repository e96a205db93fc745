/* Waits on a set: poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * epoll_pwait2 (and the fortified __poll_chk / __ppoll_chk).  A wait whose set
 * holds at least one channel is a PW_OP_POLL park on a "pollset" object; the
 * channels of the set are listed in the thread record (park_set, read by the
 * analyzer together with the park), members that are not channels are counted
 * (PW_PARK_OUTSIDE: another process could wake the thread).  A zero timeout is
 * no park; a finite one is a timed park.  A wait over fds none of which is a
 * channel is not recorded, like a read on such an fd.
 *
 * epoll interest lists are followed through epoll_ctl in the fd table's table
 * of instances (fdtab.c, mapped on first use); a member fd closed without EPOLL_CTL_DEL
 * is dropped by the kernel, but here it counts as an unknown member. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "chan.h"
#include "event.h"
#include "fdtab.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"

/* ---- building the set */

struct set {
    uint16_t n, other;
    uint32_t ids[PW_PARK_SET_MAX];
};

static void set_add(struct set *s, uint32_t v)
{
    for (unsigned i = 0; i < s->n && i < PW_PARK_SET_MAX; i++)
        if (s->ids[i] == v)
            return;
    if (s->n < PW_PARK_SET_MAX)
        s->ids[s->n] = v;
    if (s->n < UINT16_MAX)
        s->n++;
}

/* FD waited on for reading (RD) and/or writing (WR).  A receive side is always
 * a member: it also wakes with POLLHUP when the send side closes. */
static void set_fd(struct set *s, int fd, bool rd, bool wr)
{
    if (fd < 0)
        return;
    uint64_t e = pw_fd_get(fd);
    if (!(e & PW_FD_LIVE)) {
        /* not a channel: a socket to a peer, a terminal, a nested epoll.  A STALE
         * word counts too: the number may have been reused by a file we do not
         * follow, and an unknown member must never make the set look closed */
        if (s->other < UINT16_MAX)
            s->other++;
        return;
    }
    int64_t r = pw_fd_recv_chan(e), w = pw_fd_send_chan(e);
    (void)rd;
    if (r >= 0)
        set_add(s, pw_chan_rec((uint32_t)r)->id);
    if (wr && w >= 0)
        set_add(s, pw_chan_rec((uint32_t)w)->id | PW_SET_SEND);
}

/* ---- the park */

struct set_park {
    uint64_t key;
    uint8_t parked;
};

static void set_park_cleanup(void *p)
{
    if (((struct set_park *)p)->parked)
        pw_park_cancelled((void *)(uintptr_t)PW_OP_POLL);
}

/* poll and select sets belong to the calling thread's call: one object per thread */
static uint64_t thread_key(void)
{
    return (uint64_t)pw_tls.serial << 1 | 1;
}

/* Records the park if the set has channels; TIMED for a finite timeout.  KEY 0:
 * the calling thread's own set. */
static void set_park_begin(struct set_park *sp, const struct set *s, uint64_t key, bool timed,
                           int fd)
{
    if (s->n == 0)
        return;
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    if (t != NULL) {
        /* the thread is not parked now: a reader ignores the set until park_op is set */
        t->park_set_n = s->n;
        t->park_set_other = s->other;
        for (unsigned i = 0; i < PW_PARK_SET_MAX; i++)
            t->park_set[i] = i < s->n ? s->ids[i] : 0;
        uint16_t flags = (timed ? PW_PARK_TIMED : 0) | (s->other ? PW_PARK_OUTSIDE : 0);
        sp->key = key != 0 ? key : thread_key();
        sp->parked = 1;
        pw_park_begin(t, PW_OP_POLL, flags, sp->key, 0, fd, pw_stack_capture());
    }
    pw_tls.guard--;
}

static void set_park_end(struct set_park *sp, int rc, int err)
{
    if (!sp->parked)
        return;
    pw_tls.guard++;
    pw_park_end(pw_tls.rec, PW_OP_POLL, sp->key, rc, rc < 0 ? err : 0, rc > 0 ? (uint64_t)rc : 0);
    pw_tls.guard--;
}

/* ---- poll / ppoll */

enum poll_via { VIA_POLL, VIA_POLL_CHK, VIA_PPOLL, VIA_PPOLL_CHK };

struct poll_call {
    enum poll_via via;
    struct pollfd *fds;
    nfds_t n;
    int timeout;
    const struct timespec *ts;
    const sigset_t *ss;
    size_t fdslen;
};

static int poll_real(const struct poll_call *c)
{
    switch (c->via) {
    case VIA_POLL:
        return PW_REAL(poll)(c->fds, c->n, c->timeout);
    case VIA_POLL_CHK:
        return PW_REAL(__poll_chk)(c->fds, c->n, c->timeout, c->fdslen);
    case VIA_PPOLL:
        return PW_REAL(ppoll)(c->fds, c->n, c->ts, c->ss);
    default:
        return PW_REAL(__ppoll_chk)(c->fds, c->n, c->ts, c->ss, c->fdslen);
    }
}

static bool ts_zero(const struct timespec *ts)
{
    return ts != NULL && ts->tv_sec == 0 && ts->tv_nsec == 0;
}

static int poll_work(struct poll_call *c)
{
    bool ppoll_form = c->via == VIA_PPOLL || c->via == VIA_PPOLL_CHK;
    bool timed = ppoll_form ? c->ts != NULL : c->timeout >= 0;
    bool zero = ppoll_form ? ts_zero(c->ts) : c->timeout == 0;
    bool chk_bad = (c->via == VIA_POLL_CHK || c->via == VIA_PPOLL_CHK) &&
                   c->fdslen / sizeof *c->fds < c->n;
    if (!pw_on() || zero || chk_bad || c->fds == NULL)
        return poll_real(c);
    int err = errno;
    struct set s = {0};
    for (nfds_t i = 0; i < c->n; i++)
        set_fd(&s, c->fds[i].fd, true, (c->fds[i].events & (POLLOUT | POLLWRNORM)) != 0);
    struct set_park sp = {0};
    set_park_begin(&sp, &s, 0, timed, -1);
    errno = err;
    int rc;
    pthread_cleanup_push(set_park_cleanup, &sp);
    rc = poll_real(c);
    pthread_cleanup_pop(0);
    err = errno;
    set_park_end(&sp, rc, err);
    errno = err;
    return rc;
}

PW_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    struct poll_call c = {.via = VIA_POLL, .fds = fds, .n = n, .timeout = timeout};
    return poll_work(&c);
}

PW_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    struct poll_call c = {.via = VIA_POLL_CHK,
                          .fds = fds,
                          .n = n,
                          .timeout = timeout,
                          .fdslen = fdslen};
    return poll_work(&c);
}

PW_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *ss)
{
    struct poll_call c = {.via = VIA_PPOLL, .fds = fds, .n = n, .ts = ts, .ss = ss};
    return poll_work(&c);
}

PW_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
                          const sigset_t *ss, size_t fdslen)
{
    struct poll_call c =
        {.via = VIA_PPOLL_CHK, .fds = fds, .n = n, .ts = ts, .ss = ss, .fdslen = fdslen};
    return poll_work(&c);
}

/* ---- select / pselect */

static void select_set(struct set *s, int nfds, const fd_set *r, const fd_set *w, const fd_set *x)
{
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    for (int fd = 0; fd < nfds; fd++) {
        bool rd = r && FD_ISSET(fd, r), wr = w && FD_ISSET(fd, w), ex = x && FD_ISSET(fd, x);
        if (rd || wr || ex)
            set_fd(s, fd, rd, wr);
    }
}

PW_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
    if (!pw_on() || (tv != NULL && tv->tv_sec == 0 && tv->tv_usec == 0))
        return PW_REAL(select)(nfds, r, w, x, tv);
    int err = errno;
    struct set s = {0};
    select_set(&s, nfds, r, w, x);
    struct set_park sp = {0};
    set_park_begin(&sp, &s, 0, tv != NULL, -1);
    errno = err;
    int rc;
    pthread_cleanup_push(set_park_cleanup, &sp);
    rc = PW_REAL(select)(nfds, r, w, x, tv);
    pthread_cleanup_pop(0);
    err = errno;
    set_park_end(&sp, rc, err);
    errno = err;
    return rc;
}

PW_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
                      const sigset_t *ss)
{
    if (!pw_on() || ts_zero(ts))
        return PW_REAL(pselect)(nfds, r, w, x, ts, ss);
    int err = errno;
    struct set s = {0};
    select_set(&s, nfds, r, w, x);
    struct set_park sp = {0};
    set_park_begin(&sp, &s, 0, ts != NULL, -1);
    errno = err;
    int rc;
    pthread_cleanup_push(set_park_cleanup, &sp);
    rc = PW_REAL(pselect)(nfds, r, w, x, ts, ss);
    pthread_cleanup_pop(0);
    err = errno;
    set_park_end(&sp, rc, err);
    errno = err;
    return rc;
}

/* ---- epoll */

PW_EXPORT int epoll_create(int size)
{
    bool on = pw_on();
    int fd = PW_REAL(epoll_create)(size);
    if (on)
        pw_ep_created(fd);
    return fd;
}

PW_EXPORT int epoll_create1(int flags)
{
    bool on = pw_on();
    int fd = PW_REAL(epoll_create1)(flags);
    if (on)
        pw_ep_created(fd);
    return fd;
}

PW_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    bool on = pw_on();
    int rc = PW_REAL(epoll_ctl)(epfd, op, fd, ev);
    if (rc != 0 || !on)
        return rc;
    struct pw_ep *p = pw_ep_of(epfd);
    if (p != NULL)
        pw_ep_ctl(p, op, fd, ev != NULL ? ev->events : 0);
    return rc;
}

enum ep_via { VIA_WAIT, VIA_PWAIT, VIA_PWAIT2 };

struct ep_call {
    enum ep_via via;
    int epfd;
    struct epoll_event *evs;
    int max;
    int timeout;
    const struct timespec *ts;
    const sigset_t *ss;
};

static int ep_real(const struct ep_call *c)
{
    switch (c->via) {
    case VIA_WAIT:
        return PW_REAL(epoll_wait)(c->epfd, c->evs, c->max, c->timeout);
    case VIA_PWAIT:
        return PW_REAL(epoll_pwait)(c->epfd, c->evs, c->max, c->timeout, c->ss);
    default:
        return PW_REAL(epoll_pwait2)(c->epfd, c->evs, c->max, c->ts, c->ss);
    }
}

static int ep_work(struct ep_call *c)
{
    bool timed = c->via == VIA_PWAIT2 ? c->ts != NULL : c->timeout >= 0;
    bool zero = c->via == VIA_PWAIT2 ? ts_zero(c->ts) : c->timeout == 0;
    struct pw_ep *p;
    if (!pw_on() || zero || (p = pw_ep_of(c->epfd)) == NULL)
        return ep_real(c);
    int err = errno;
    struct set s = {0};
    for (uint32_t k = 0; k < PW_EP_MEMBERS; k++) {
        int32_t fd1 = PW_LOAD(&p->m[k].fd1);
        if (fd1 > 0)
            set_fd(&s, fd1 - 1, true, (PW_LOAD(&p->m[k].events) & EPOLLOUT) != 0);
    }
    uint32_t over = PW_LOAD(&p->overflow);
    s.other = (uint16_t)(s.other + (over > 1000 ? 1000 : over));
    struct set_park sp = {0};
    set_park_begin(&sp, &s, 1ull << 63 | PW_LOAD(&p->id), timed, c->epfd);
    errno = err;
    int rc;
    pthread_cleanup_push(set_park_cleanup, &sp);
    rc = ep_real(c);
    pthread_cleanup_pop(0);
    err = errno;
    set_park_end(&sp, rc, err);
    errno = err;
    return rc;
}

PW_EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
    struct ep_call c = {.via = VIA_WAIT, .epfd = epfd, .evs = evs, .max = max, .timeout = timeout};
    return ep_work(&c);
}

PW_EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
                          const sigset_t *ss)
{
    struct ep_call c =
        {.via = VIA_PWAIT, .epfd = epfd, .evs = evs, .max = max, .timeout = timeout, .ss = ss};
    return ep_work(&c);
}

PW_EXPORT int epoll_pwait2(int epfd, struct epoll_event *evs, int max, const struct timespec *ts,
                           const sigset_t *ss)
{
    struct ep_call c =
        {.via = VIA_PWAIT2, .epfd = epfd, .evs = evs, .max = max, .ts = ts, .ss = ss};
    return ep_work(&c);
}
