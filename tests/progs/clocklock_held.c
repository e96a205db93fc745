/* A chain through a mutex taken with pthread_mutex_clocklock (glibc 2.30's
 * timedlock on a chosen clock): "holder" takes it that way and parks reading a
 * pipe that is never written; "waiter" parks on the mutex.  The shim used not
 * to see clocklock at all: the mutex had no holder, and its unlock was a
 * "not held" misuse (clean_clocklock). */
#include "victim.h"

#include <semaphore.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static int never_written[2];
static sem_t holding;

static void *holder_main(void *arg)
{
    (void)arg;
    char c;
    struct timespec far;
    clock_gettime(CLOCK_MONOTONIC, &far);
    far.tv_sec += 3600;
    if (pthread_mutex_clocklock(&shared, CLOCK_MONOTONIC, &far) != 0)
        die("pthread_mutex_clocklock", 0);
    sem_post(&holding);
    /* Blocks forever with the mutex held: the root of the waiter's chain. */
    if (read(never_written[0], &c, 1) == 1)
        pthread_mutex_unlock(&shared);
    return NULL;
}

static void *waiter_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&shared);
    pthread_mutex_unlock(&shared);
    return NULL;
}

int main(void)
{
    if (pipe(never_written))
        die("pipe", errno);
    sem_init(&holding, 0, 0);
    start_named(holder_main, NULL, "holder");
    /* Start the waiter only once the mutex is surely taken, so that it parks
     * on the mutex rather than winning it. */
    while (sem_wait(&holding) == -1 && errno == EINTR)
        ;
    start_named(waiter_main, NULL, "waiter");
    settle();
    return 0;
}
