/* Locks that are never initialised nor destroyed (PTHREAD_MUTEX_INITIALIZER in
 * a heap struct): 40 sub-tests in sequence allocate a pair, take it in one
 * order from one thread and free it; malloc hands the next sub-test the same
 * addresses and the order alternates.  Nothing tells the shim that a freed
 * lock's address now holds a new lock, so the life of such a lock is unknown
 * and its edges are kept apart: no lock-order-inversion (issue 14). */
#include "victim.h"

struct pair {
    pthread_mutex_t a, b;
};

static void *ab_main(void *arg)
{
    struct pair *p = arg;
    pthread_mutex_lock(&p->a);
    pthread_mutex_lock(&p->b);
    pthread_mutex_unlock(&p->b);
    pthread_mutex_unlock(&p->a);
    return NULL;
}

static void *ba_main(void *arg)
{
    struct pair *p = arg;
    pthread_mutex_lock(&p->b);
    pthread_mutex_lock(&p->a);
    pthread_mutex_unlock(&p->a);
    pthread_mutex_unlock(&p->b);
    return NULL;
}

int main(void)
{
    static const pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;
    for (int k = 0; k < 40; k++) {
        struct pair *p = malloc(sizeof *p);
        if (!p)
            die("malloc", ENOMEM);
        p->a = init;
        p->b = init;
        pthread_join(start_named(k % 2 ? ba_main : ab_main, p, k % 2 ? "sub_ba" : "sub_ab"), NULL);
        free(p);
    }
    return 0;
}
