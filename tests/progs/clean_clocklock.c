/* Correct: two threads share a counter under one mutex, taking it with
 * pthread_mutex_clocklock on both clocks it accepts (often while the other
 * holds it), with pthread_mutex_timedlock and with pthread_mutex_lock; a
 * clock it refuses is refused (EINVAL) without taking the mutex.  Nothing to
 * report: before the shim knew clocklock, each of its unlocks was reported as
 * unlocking a mutex the thread does not hold. */
#include "victim.h"

#define ROUNDS 2000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void take(int how)
{
    struct timespec far;
    clockid_t clk = how == 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    clock_gettime(clk, &far);
    far.tv_sec += 60;
    int rc = how == 0   ? pthread_mutex_clocklock(&mu, CLOCK_MONOTONIC, &far)
             : how == 1 ? pthread_mutex_clocklock(&mu, CLOCK_REALTIME, &far)
                        : pthread_mutex_lock(&mu);
    if (rc != 0)
        die("lock", rc);
}

static void *worker_main(void *arg)
{
    int first = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        take((first + i) % 3);
        total++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(void)
{
    struct timespec far;
    clock_gettime(CLOCK_REALTIME, &far);
    far.tv_sec += 60;
    if (pthread_mutex_clocklock(&mu, CLOCK_PROCESS_CPUTIME_ID, &far) != EINVAL)
        die("clocklock on a CPU-time clock", 0);
    if (pthread_mutex_timedlock(&mu, &far) != 0)
        die("pthread_mutex_timedlock", 0);
    pthread_mutex_unlock(&mu);
    pthread_t a = start_named(worker_main, (void *)0L, "one");
    pthread_t b = start_named(worker_main, (void *)1L, "two");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    if (total != 2 * ROUNDS)
        die("lost updates", 0);
    return 0;
}
