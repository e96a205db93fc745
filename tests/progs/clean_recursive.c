/* Correct: a recursive mutex R taken again while holding A, which was taken
 * under R: the relock orders nothing (R is already held), so two threads doing
 * this make no A->R / R->A inversion. */
#include "victim.h"

#define ROUNDS 2000

static pthread_mutex_t r;
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *worker_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&r);
        pthread_mutex_lock(&a);
        pthread_mutex_lock(&r); /* recursive */
        total++;
        pthread_mutex_unlock(&r);
        pthread_mutex_unlock(&a);
        pthread_mutex_unlock(&r);
    }
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&r, &at);
    pthread_t x = start_named(worker_main, NULL, "w1");
    pthread_t y = start_named(worker_main, NULL, "w2");
    pthread_join(x, NULL);
    pthread_join(y, NULL);
    pthread_mutex_destroy(&r);
    return total == 2L * ROUNDS ? 0 : 1;
}
