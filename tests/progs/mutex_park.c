/* A chain: "waiter" parks on a mutex that "holder" owns, and "holder" parks
 * (with the mutex held) reading a pipe that is never written. */
#include "victim.h"

#include <semaphore.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static int never_written[2];
static sem_t holding;

static void *holder_main(void *arg)
{
    (void)arg;
    char c;
    pthread_mutex_lock(&shared);
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
