/* Five dining philosophers, each taking its left fork then its right one, one
 * philosopher at a time: this run never hangs, but the five together can.  The
 * lock-order graph has a cycle of five forks, which must be reported whole. */
#include "victim.h"

#include <stdint.h>

#define N 5

static pthread_mutex_t forks[N] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};
static volatile int meals;

static void *philosopher_main(void *arg)
{
    int i = (int)(intptr_t)arg;
    pthread_mutex_lock(&forks[i]);
    pthread_mutex_lock(&forks[(i + 1) % N]);
    meals++;
    pthread_mutex_unlock(&forks[(i + 1) % N]);
    pthread_mutex_unlock(&forks[i]);
    return NULL;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "phil%d", i);
        pthread_join(start_named(philosopher_main, (void *)(intptr_t)i, name), NULL);
    }
    return meals == N ? 0 : 1;
}
