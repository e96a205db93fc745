/* A cycle of three lock classes: arrays a, b and c of 8 locks, each array
 * initialised in its own loop (three classes).  "ab" takes b[1] under a[0],
 * "bc" c[3] under b[2], "ca" a[5] under c[4]: no two edges share an instance,
 * so the instance graph has no cycle, but the classes are taken A -> B -> C ->
 * A.  Three threads running these paths on the same instances can deadlock:
 * one lock-order-inversion for the class cycle (issue 14).  The threads run
 * one after the other (the victim never deadlocks). */
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

static void *ca_main(void *arg)
{
    (void)arg;
    nest(&c[4], &a[5]);
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
    pthread_join(start_named(ca_main, NULL, "ca"), NULL);
    return 0;
}
