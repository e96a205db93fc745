/* Correct: four threads hammer two locks, always A then B.  Heavy contention,
 * one lock order: no finding, and one lock-order edge per thread however many
 * times it takes the pair. */
#include "victim.h"

#define THREADS 4
#define ROUNDS 20000

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *worker_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&a);
        pthread_mutex_lock(&b);
        total++;
        pthread_mutex_unlock(&b);
        pthread_mutex_unlock(&a);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        t[i] = start_named(worker_main, NULL, "worker");
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    return total == (long)THREADS * ROUNDS ? 0 : 1;
}
