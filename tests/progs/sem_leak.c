/* A missing post: two waiters share a semaphore, but only one post is ever
 * made.  One waiter goes through (main joins it); the other waits in sem_wait
 * forever. */
#include <semaphore.h>

#include "victim.h"

static sem_t ready;  /* the work signal: posted once, waited for twice */
static sem_t passed; /* a waiter got through: main may join it */
static volatile pid_t tids[2];
static volatile int winner = -1;

static void *waiter_main(void *arg)
{
    int i = (int)(intptr_t)arg;
    tids[i] = self_tid();
    while (sem_wait(&ready) == -1 && errno == EINTR)
        ;
    winner = i;
    sem_post(&passed);
    return NULL;
}

int main(void)
{
    pthread_t th[2];
    if (sem_init(&ready, 0, 0) || sem_init(&passed, 0, 0))
        die("sem_init", errno);
    for (int i = 0; i < 2; i++)
        th[i] = start_named(waiter_main, (void *)(intptr_t)i, "waiter");
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
    sem_post(&ready); /* the bug: one post for two waiters */
    while (sem_wait(&passed) == -1 && errno == EINTR)
        ;
    pthread_join(th[winner], NULL);
    return 0;
}
