/* Every lock misuse of issue 15 D, one function each, none of which hangs:
 *   unlock_foreign     unlocks an error-checking mutex that holder_main holds
 *   destroy_locked     destroys a mutex it holds (EBUSY)
 *   destroy_busy_cond  destroys a cond cond_waiter_main waits on (glibc 2.36
 *                      blocks until the waiter leaves: a helper then wakes it)
 *   lock_destroyed     locks a destroyed mutex (EINVAL)
 *   relock_rw          write-locks an rwlock it write-holds (EDEADLK)
 *   wait_two_mutexes   waits on a cond with mutex b while mutex_a_main waits
 *                      on it with mutex a
 *   wait_not_held      waits on a cond with an error-checking mutex it does
 *                      not hold (EPERM) */
#include "victim.h"

static pthread_mutex_t held_mu; /* error-checking */
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int holder_go, holder_done;

/* ---- unlock of a mutex another thread holds */

static void *holder_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_mu);
    pthread_mutex_lock(&gate);
    holder_done = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!holder_go)
        pthread_cond_wait(&gate_cv, &gate);
    pthread_mutex_unlock(&gate);
    pthread_mutex_unlock(&held_mu);
    return NULL;
}

static __attribute__((noinline)) void unlock_foreign(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&held_mu, &a);
    pthread_t t = start_named(holder_main, NULL, "holder");
    pthread_mutex_lock(&gate);
    while (!holder_done)
        pthread_cond_wait(&gate_cv, &gate);
    pthread_mutex_unlock(&gate);
    if (pthread_mutex_unlock(&held_mu) != EPERM) /* the misuse */
        die("unlock of a foreign error-checking mutex", 0);
    pthread_mutex_lock(&gate);
    holder_go = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
}

/* ---- destroy of a locked mutex */

static __attribute__((noinline)) void destroy_locked(void)
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    if (pthread_mutex_destroy(&m) != EBUSY) /* the misuse */
        die("destroy of a locked mutex", 0);
    pthread_mutex_unlock(&m);
}

/* ---- destroy of a cond a thread waits on */

static pthread_mutex_t cv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cv = PTHREAD_COND_INITIALIZER;
static int cv_waiting, cv_wake;
static volatile pid_t destroyer_tid;

static void *cond_waiter_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cv_mu);
    cv_waiting = 1;
    while (!cv_wake)
        pthread_cond_wait(&busy_cv, &cv_mu);
    pthread_mutex_unlock(&cv_mu);
    return NULL;
}

/* Wakes the waiter once the destroyer sleeps inside pthread_cond_destroy. */
static void *waker_main(void *arg)
{
    (void)arg;
    wait_asleep(&destroyer_tid);
    pthread_mutex_lock(&cv_mu);
    cv_wake = 1;
    pthread_cond_broadcast(&busy_cv);
    pthread_mutex_unlock(&cv_mu);
    return NULL;
}

static __attribute__((noinline)) void destroy_busy_cond(void)
{
    pthread_t w = start_named(cond_waiter_main, NULL, "cond-waiter");
    /* the waiter holds cv_mu until its wait releases it: parked once we get it */
    for (;;) {
        pthread_mutex_lock(&cv_mu);
        int in = cv_waiting;
        pthread_mutex_unlock(&cv_mu);
        if (in)
            break;
        sleep_ms(1);
    }
    pthread_t k = start_named(waker_main, NULL, "waker");
    destroyer_tid = self_tid();
    pthread_cond_destroy(&busy_cv); /* the misuse: returns once the waiter left */
    pthread_join(w, NULL);
    pthread_join(k, NULL);
}

/* ---- lock of a destroyed mutex */

static __attribute__((noinline)) void lock_destroyed(void)
{
    static pthread_mutex_t m;
    pthread_mutex_init(&m, NULL);
    pthread_mutex_destroy(&m);
    if (pthread_mutex_lock(&m) != EINVAL) /* the misuse */
        die("lock of a destroyed mutex", 0);
}

/* ---- second write lock of an rwlock by its holder */

static __attribute__((noinline)) void relock_rw(void)
{
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    pthread_rwlock_wrlock(&rw);
    if (pthread_rwlock_wrlock(&rw) != EDEADLK) /* the misuse */
        die("second write lock", 0);
    pthread_rwlock_unlock(&rw);
}

/* ---- a cond waited with two mutexes at once */

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER, mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t shared_cv = PTHREAD_COND_INITIALIZER;
static int a_waiting, a_wake;

static void *mutex_a_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu_a);
    a_waiting = 1;
    while (!a_wake)
        pthread_cond_wait(&shared_cv, &mu_a);
    pthread_mutex_unlock(&mu_a);
    return NULL;
}

static __attribute__((noinline)) void wait_two_mutexes(void)
{
    pthread_t t = start_named(mutex_a_main, NULL, "mutex-a");
    for (;;) {
        pthread_mutex_lock(&mu_a);
        int in = a_waiting;
        pthread_mutex_unlock(&mu_a);
        if (in)
            break;
        sleep_ms(1);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu_b);
    pthread_cond_timedwait(&shared_cv, &mu_b, &ts); /* the misuse */
    pthread_mutex_unlock(&mu_b);
    pthread_mutex_lock(&mu_a);
    a_wake = 1;
    pthread_cond_broadcast(&shared_cv);
    pthread_mutex_unlock(&mu_a);
    pthread_join(t, NULL);
}

/* ---- a cond waited with a mutex not held */

static __attribute__((noinline)) void wait_not_held(void)
{
    static pthread_mutex_t m;
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &a);
    if (pthread_cond_wait(&c, &m) != EPERM) /* the misuse */
        die("cond wait with a mutex not held", 0);
}

int main(void)
{
    unlock_foreign();
    destroy_locked();
    destroy_busy_cond();
    lock_destroyed();
    relock_rw();
    wait_two_mutexes();
    wait_not_held();
    return 0;
}
