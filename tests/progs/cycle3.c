/* Three threads, three locks, a cycle that really hangs: each takes its own
 * lock, then the next one's.  main joins the first, so every thread is parked
 * forever: `parkwatch run` must see the cycle and stop the process.  alarm()
 * bounds the run when nobody watches. */
#include "victim.h"

#include <semaphore.h>
#include <stdint.h>

#define N 3

static pthread_mutex_t locks[N] = {
    PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER,
};
static sem_t have, go;

static void *link_main(void *arg)
{
    int i = (int)(intptr_t)arg;
    pthread_mutex_lock(&locks[i]);
    sem_post(&have);
    while (sem_wait(&go) == -1 && errno == EINTR)
        ;
    pthread_mutex_lock(&locks[(i + 1) % N]);
    return NULL;
}

int main(void)
{
    alarm(20);
    sem_init(&have, 0, 0);
    sem_init(&go, 0, 0);
    pthread_t first = 0;
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "link%d", i);
        pthread_t t = start_named(link_main, (void *)(intptr_t)i, name);
        if (i == 0)
            first = t;
    }
    for (int i = 0; i < N; i++)
        while (sem_wait(&have) == -1 && errno == EINTR)
            ;
    for (int i = 0; i < N; i++)
        sem_post(&go);
    pthread_join(first, NULL);
    return 1; /* unreachable */
}
