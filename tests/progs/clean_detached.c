/* Detached helpers that finish before main exits: main counts them home with a
 * semaphore (not a sleep), so no helper is parked when the process ends. */
#include "victim.h"

#include <semaphore.h>

#define NHELPERS 4

static sem_t done;
static long results[NHELPERS];

static void *helper_main(void *arg)
{
    long i = (long)arg;
    long acc = 0;
    for (long k = 0; k <= 1000 * (i + 1); k++)
        acc += k;
    results[i] = acc;
    sem_post(&done); /* last action: after this the helper only returns */
    return NULL;
}

int main(void)
{
    sem_init(&done, 0, 0);
    for (long i = 0; i < NHELPERS; i++) {
        pthread_t t = start_named(helper_main, (void *)i, "helper");
        int rc = pthread_detach(t);
        if (rc)
            die("pthread_detach", rc);
    }
    for (int i = 0; i < NHELPERS; i++)
        while (sem_wait(&done) == -1 && errno == EINTR)
            ;
    long total = 0;
    for (int i = 0; i < NHELPERS; i++)
        total += results[i];
    printf("clean_detached: %d helpers, total %ld\n", NHELPERS, total);
    return 0;
}
