/* A lock-order inversion that never hangs: "ab" takes A then B and finishes;
 * only then "ba" takes B then A.  The run is fine, but run the two at the same
 * time and they can deadlock: parkwatch must say lock-order-inversion, and
 * nothing else. */
#include "victim.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static volatile long balance;

static void *ab_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    balance++;
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
    return NULL;
}

static void *ba_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    balance--;
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    return NULL;
}

int main(void)
{
    /* one after the other: this run cannot deadlock */
    pthread_join(start_named(ab_main, NULL, "ab"), NULL);
    pthread_join(start_named(ba_main, NULL, "ba"), NULL);
    return balance == 0 ? 0 : 1;
}
