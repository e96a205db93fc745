/* Timers: alarm, setitimer and the POSIX timers.  Nothing parks here; what is
 * recorded is whether a timer is armed and what it delivers at expiry (a
 * signal, or a call on a new SIGEV_THREAD thread), in header.timers, so that
 * a watcher does not take a thread that a timer's signal handler or callback
 * could still wake for one parked forever (a sem_post from a SIGALRM handler).
 * The table is written here only, with relaxed stores: off every lock and
 * channel path, one clock read per call. */
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "init.h"
#include "real.h"
#include "shim.h"
#include "tracefile.h"

static uint64_t ts_ns(const struct timespec *ts)
{
    if (ts->tv_sec < 0 || ts->tv_nsec < 0)
        return 0;
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    return clock_gettime(c, &ts) == 0 ? ts_ns(&ts) : 0;
}

/* The absolute CLOCK_MONOTONIC time of an expiry VALUE_NS on clock C (absolute
 * when ABS), or 0 for a disarm. */
static uint64_t deadline(clockid_t c, bool abs, uint64_t value_ns)
{
    if (value_ns == 0)
        return 0;
    uint64_t mono = clock_ns(CLOCK_MONOTONIC);
    if (!abs)
        return mono + value_ns;
    uint64_t now = clock_ns(c);
    return mono + (value_ns > now ? value_ns - now : 1);
}

static void set_armed(struct pw_timer_rec *r, uint64_t deadline_ns, uint64_t interval_ns)
{
    PW_STORE_RELAXED(&r->interval_ns, deadline_ns ? interval_ns : 0);
    PW_STORE_RELAXED(&r->deadline_ns, deadline_ns);
}

/* alarm and setitimer(ITIMER_REAL) share the one real-time timer: timers[0]. */
static void real_timer_armed(uint64_t deadline_ns, uint64_t interval_ns)
{
    struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL)
        return;
    struct pw_timer_rec *r = &h->timers[0];
    PW_STORE_RELAXED(&r->signo, SIGALRM);
    PW_STORE_RELAXED(&r->state, 1u);
    set_armed(r, deadline_ns, interval_ns);
}

PW_EXPORT unsigned int alarm(unsigned int seconds)
{
    if (!pw_on())
        return PW_REAL(alarm)(seconds);
    unsigned int rc = PW_REAL(alarm)(seconds);
    int err = errno;
    real_timer_armed(deadline(CLOCK_MONOTONIC, false, seconds * 1000000000ull), 0);
    errno = err;
    return rc;
}

static uint64_t tv_ns(const struct timeval *tv)
{
    if (tv->tv_sec < 0 || tv->tv_usec < 0)
        return 0;
    return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000u;
}

/* ITIMER_VIRTUAL and ITIMER_PROF count CPU time: they cannot expire while every
 * thread sleeps, so only ITIMER_REAL is recorded. */
PW_EXPORT int setitimer(__itimer_which_t which, const struct itimerval *nv, struct itimerval *ov)
{
    if (!pw_on())
        return PW_REAL(setitimer)(which, nv, ov);
    int rc = PW_REAL(setitimer)(which, nv, ov);
    if (rc != 0 || which != ITIMER_REAL || nv == NULL)
        return rc;
    int err = errno;
    real_timer_armed(deadline(CLOCK_MONOTONIC, false, tv_ns(&nv->it_value)),
                     tv_ns(&nv->it_interval));
    errno = err;
    return rc;
}

static struct pw_timer_rec *find_timer(uint64_t id)
{
    struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL)
        return NULL;
    for (unsigned i = 1; i < PW_TIMERS_MAX; i++)
        if (PW_LOAD(&h->timers[i].state) == 1u && PW_LOAD_RELAXED(&h->timers[i].id) == id)
            return &h->timers[i];
    return NULL;
}

/* CPU-time clocks advance only while a thread runs: their timers cannot wake
 * a process whose threads all sleep, so they are not recorded. */
static bool cpu_clock(clockid_t c)
{
    return c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID || c < 0;
}

static void timer_created(clockid_t c, const struct sigevent *sev, timer_t id)
{
    struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL || cpu_clock(c))
        return;
    uint32_t notify = PW_TIMER_NOTIFY_SIGNAL;
    int signo = SIGALRM; /* sev == NULL: SIGEV_SIGNAL with SIGALRM */
    if (sev != NULL) {
        signo = sev->sigev_signo;
        if (sev->sigev_notify == SIGEV_THREAD)
            notify = PW_TIMER_NOTIFY_THREAD;
        else if (sev->sigev_notify == SIGEV_NONE)
            notify = PW_TIMER_NOTIFY_NONE;
    }
    for (unsigned i = 1; i < PW_TIMERS_MAX; i++) {
        struct pw_timer_rec *r = &h->timers[i];
        uint32_t free_state = 0;
        if (PW_LOAD_RELAXED(&r->state) != 0u ||
            !__atomic_compare_exchange_n(&r->state, &free_state, 2u, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
        r->id = (uint64_t)(uintptr_t)id;
        r->signo = signo;
        r->notify = notify;
        r->clock = (int32_t)c;
        set_armed(r, 0, 0);
        PW_STORE(&r->state, 1u); /* published: find_timer sees it from here */
        return;
    }
    PW_ADD(&h->timers_overflow, 1u);
}

PW_EXPORT int timer_create(clockid_t c, struct sigevent *sev, timer_t *id)
{
    if (!pw_on())
        return PW_REAL(timer_create)(c, sev, id);
    int rc = PW_REAL(timer_create)(c, sev, id);
    if (rc != 0)
        return rc;
    int err = errno;
    timer_created(c, sev, *id);
    errno = err;
    return rc;
}

PW_EXPORT int timer_settime(timer_t id, int flags, const struct itimerspec *nv,
                            struct itimerspec *ov)
{
    if (!pw_on())
        return PW_REAL(timer_settime)(id, flags, nv, ov);
    int rc = PW_REAL(timer_settime)(id, flags, nv, ov);
    if (rc != 0 || nv == NULL)
        return rc;
    int err = errno;
    struct pw_timer_rec *r = find_timer((uint64_t)(uintptr_t)id);
    if (r != NULL)
        set_armed(r,
                  deadline((clockid_t)r->clock, (flags & TIMER_ABSTIME) != 0, ts_ns(&nv->it_value)),
                  ts_ns(&nv->it_interval));
    errno = err;
    return rc;
}

PW_EXPORT int timer_delete(timer_t id)
{
    if (!pw_on())
        return PW_REAL(timer_delete)(id);
    struct pw_timer_rec *r = find_timer((uint64_t)(uintptr_t)id);
    int rc = PW_REAL(timer_delete)(id);
    if (rc != 0 || r == NULL)
        return rc;
    set_armed(r, 0, 0);
    PW_STORE(&r->state, 0u);
    return rc;
}
