/* A joinable thread that finishes and is never joined (nor detached). */
#include "victim.h"

#include <semaphore.h>

static sem_t finished;

static void *forgotten_main(void *arg)
{
    (void)arg;
    sem_post(&finished);
    return NULL;
}

int main(void)
{
    sem_init(&finished, 0, 0);
    start_named(forgotten_main, NULL, "forgotten");
    while (sem_wait(&finished) == -1 && errno == EINTR)
        ;
    settle(); /* lets the thread run its last steps after sem_post */
    return 0;
}
