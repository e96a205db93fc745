/* Correct: "ab" takes A then B and "ba" takes B then A, but both only while
 * holding the gate lock G, which serializes them: the inversion cannot
 * deadlock. */
#include "victim.h"

#define ROUNDS 2000

static pthread_mutex_t g = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *ab_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&g);
        pthread_mutex_lock(&a);
        pthread_mutex_lock(&b);
        total++;
        pthread_mutex_unlock(&b);
        pthread_mutex_unlock(&a);
        pthread_mutex_unlock(&g);
    }
    return NULL;
}

static void *ba_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&g);
        pthread_mutex_lock(&b);
        pthread_mutex_lock(&a);
        total++;
        pthread_mutex_unlock(&a);
        pthread_mutex_unlock(&b);
        pthread_mutex_unlock(&g);
    }
    return NULL;
}

int main(void)
{
    pthread_t x = start_named(ab_main, NULL, "ab");
    pthread_t y = start_named(ba_main, NULL, "ba");
    pthread_join(x, NULL);
    pthread_join(y, NULL);
    return total == 2L * ROUNDS ? 0 : 1;
}
