/* A test harness's shape: 40 sub-tests in sequence, each allocating its own
 * pair of locks (malloc + pthread_mutex_init), taking them in one order from
 * one thread, then destroying and freeing them.  malloc hands the next
 * sub-test the same addresses, and the order alternates from one sub-test to
 * the next, so the addresses see A->B and B->A, but never with both locks of
 * one life alive.  Only sub-test 21 really inverts: "inv_ab" takes A then B,
 * "inv_ba" B then A, on the same two live locks.  Exactly that one
 * lock-order-inversion must be reported (issue 14). */
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
    for (int k = 0; k < 40; k++) {
        struct pair *p = malloc(sizeof *p);
        if (!p)
            die("malloc", ENOMEM);
        pthread_mutex_init(&p->a, NULL);
        pthread_mutex_init(&p->b, NULL);
        if (k == 21) {
            pthread_join(start_named(ab_main, p, "inv_ab"), NULL);
            pthread_join(start_named(ba_main, p, "inv_ba"), NULL);
        } else {
            pthread_join(start_named(k % 2 ? ba_main : ab_main, p, k % 2 ? "sub_ba" : "sub_ab"),
                         NULL);
        }
        pthread_mutex_destroy(&p->a);
        pthread_mutex_destroy(&p->b);
        free(p);
    }
    return 0;
}
