/* The correct twin of lo_class_cycle3: the same three classes of locks taken in
 * one global order, A before B before C (a[0] -> b[1], b[2] -> c[3], a[4] ->
 * c[5]): a chain of classes, no cycle.  No inversion. */
#include "victim.h"

#define N 8

static pthread_mutex_t a[N], b[N], c[N];

static void nest(pthread_mutex_t *outer, pthread_mutex_t *inner)
{
    pthread_mutex_lock(outer);
    pthread_mutex_lock(inner);
    pthread_mutex_unlock(inner);
    pthread_mutex_unlock(outer);
}

static void *ab_main(void *arg)
{
    (void)arg;
    nest(&a[0], &b[1]);
    return NULL;
}

static void *bc_main(void *arg)
{
    (void)arg;
    nest(&b[2], &c[3]);
    return NULL;
}

static void *ac_main(void *arg)
{
    (void)arg;
    nest(&a[4], &c[5]);
    return NULL;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&a[i], NULL);
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&b[i], NULL);
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&c[i], NULL);
    pthread_join(start_named(ab_main, NULL, "ab"), NULL);
    pthread_join(start_named(bc_main, NULL, "bc"), NULL);
    pthread_join(start_named(ac_main, NULL, "ac"), NULL);
    return 0;
}
