/* A thread locks a default (non-recursive) mutex it already holds: it waits
 * for itself forever.  main leaves once the thread sleeps. */
#include "victim.h"

#include <semaphore.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t about_to_block;
static volatile pid_t relock_tid;

static void *relock_main(void *arg)
{
    (void)arg;
    relock_tid = self_tid();
    pthread_mutex_lock(&m);
    sem_post(&about_to_block);
    pthread_mutex_lock(&m);
    return NULL;
}

int main(void)
{
    sem_init(&about_to_block, 0, 0);
    start_named(relock_main, NULL, "relock");
    while (sem_wait(&about_to_block) == -1 && errno == EINTR)
        ;
    wait_asleep(&relock_tid);
    return 0;
}
