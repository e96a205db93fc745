/* "boss" holds M and joins "worker", which waits for M: a wait-for cycle
 * through a join.  main leaves once both sleep. */
#include "victim.h"

#include <semaphore.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t about_to_block;
static volatile pid_t boss_tid, worker_tid;

static void *worker_main(void *arg)
{
    (void)arg;
    worker_tid = self_tid();
    sem_post(&about_to_block);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *boss_main(void *arg)
{
    (void)arg;
    boss_tid = self_tid();
    pthread_mutex_lock(&m);
    pthread_t w = start_named(worker_main, NULL, "worker");
    sem_post(&about_to_block);
    pthread_join(w, NULL);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    sem_init(&about_to_block, 0, 0);
    start_named(boss_main, NULL, "boss");
    for (int i = 0; i < 2; i++)
        while (sem_wait(&about_to_block) == -1 && errno == EINTR)
            ;
    wait_asleep(&boss_tid);
    wait_asleep(&worker_tid);
    return 0;
}
