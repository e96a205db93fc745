/* Correct: "forward" takes A then B; "backward" holds B and only tries A,
 * backing off (releasing B) when A is busy.  A trylock cannot deadlock, so the
 * opposite order is no inversion. */
#include "victim.h"

#include <sched.h>

#define ROUNDS 5000

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *forward_main(void *arg)
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

static void *backward_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS;) {
        pthread_mutex_lock(&b);
        if (pthread_mutex_trylock(&a) == 0) {
            total++;
            i++;
            pthread_mutex_unlock(&a);
            pthread_mutex_unlock(&b);
            continue;
        }
        pthread_mutex_unlock(&b); /* back off */
        sched_yield();
    }
    return NULL;
}

int main(void)
{
    pthread_t f = start_named(forward_main, NULL, "forward");
    pthread_t k = start_named(backward_main, NULL, "backward");
    pthread_join(f, NULL);
    pthread_join(k, NULL);
    return total == 2L * ROUNDS ? 0 : 1;
}
