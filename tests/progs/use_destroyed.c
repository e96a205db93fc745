/* Uses of destroyed rwlocks and conds (issue 15 D), one function each, none
 * of which hangs (glibc gives every call its usual answer):
 *   rd_after_destroy     read-locks an rwlock the dropper thread destroyed
 *   wr_after_destroy     write-locks an rwlock it destroyed after a write phase
 *   try_after_destroy    try-read-locks a destroyed rwlock
 *   wait_after_destroy   waits (timed) on a destroyed cond
 *   signal_after_destroy signals a destroyed cond
 *   bcast_after_destroy  broadcasts a destroyed cond
 * Each finding names the call, who destroyed the object and where. */
#include "victim.h"

/* ---- rwlocks */

static pthread_rwlock_t cache_rw = PTHREAD_RWLOCK_INITIALIZER;

static volatile int drops; /* after each destroy: no tail call hides the dropper's frame */

static __attribute__((noinline)) void drop_cache(void)
{
    pthread_rwlock_destroy(&cache_rw);
    drops++;
}

static void *dropper_main(void *arg)
{
    (void)arg;
    drop_cache();
    return NULL;
}

static __attribute__((noinline)) void rd_after_destroy(void)
{
    pthread_rwlock_rdlock(&cache_rw);
    pthread_rwlock_unlock(&cache_rw);
    pthread_join(start_named(dropper_main, NULL, "dropper"), NULL);
    if (pthread_rwlock_rdlock(&cache_rw) == 0) /* the misuse */
        pthread_rwlock_unlock(&cache_rw);
}

static pthread_rwlock_t table_rw;

static __attribute__((noinline)) void drop_table(void)
{
    pthread_rwlock_destroy(&table_rw);
    drops++;
}

static __attribute__((noinline)) void wr_after_destroy(void)
{
    pthread_rwlock_init(&table_rw, NULL);
    pthread_rwlock_wrlock(&table_rw); /* leaves the lock in its write phase */
    pthread_rwlock_unlock(&table_rw);
    drop_table();
    if (pthread_rwlock_wrlock(&table_rw) == 0) /* the misuse */
        pthread_rwlock_unlock(&table_rw);
}

static __attribute__((noinline)) void try_after_destroy(void)
{
    static pthread_rwlock_t rw;
    pthread_rwlock_init(&rw, NULL);
    pthread_rwlock_destroy(&rw);
    if (pthread_rwlock_tryrdlock(&rw) == 0) /* the misuse */
        pthread_rwlock_unlock(&rw);
}

/* ---- conds */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noinline)) void drop_cond(pthread_cond_t *c)
{
    pthread_cond_destroy(c);
    drops++;
}

static __attribute__((noinline)) void wait_after_destroy(void)
{
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    drop_cond(&c);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    pthread_cond_timedwait(&c, &mu, &ts); /* the misuse: times out */
    pthread_mutex_unlock(&mu);
}

static __attribute__((noinline)) void signal_after_destroy(void)
{
    static pthread_cond_t c;
    pthread_cond_init(&c, NULL);
    pthread_cond_signal(&c); /* a run of signals on c by this thread... */
    drop_cond(&c);
    pthread_cond_signal(&c); /* ...and the misuse after the destroy */
}

static __attribute__((noinline)) void bcast_after_destroy(void)
{
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    drop_cond(&c);
    pthread_cond_broadcast(&c); /* the misuse */
}

int main(void)
{
    rd_after_destroy();
    wr_after_destroy();
    try_after_destroy();
    wait_after_destroy();
    signal_after_destroy();
    bcast_after_destroy();
    return 0;
}
