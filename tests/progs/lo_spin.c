/* A spinlock inversion that never hangs: "ab" takes spinlock A then B and
 * finishes; only then "ba" takes B then A.  Run at the same time, the two spin
 * forever on each other's lock (a hang no park shows: spinning is running), so
 * the order itself must be reported: lock-order-inversion. */
#include "victim.h"

static pthread_spinlock_t a, b;
static volatile long balance;

static void *ab_main(void *arg)
{
    (void)arg;
    pthread_spin_lock(&a);
    pthread_spin_lock(&b);
    balance++;
    pthread_spin_unlock(&b);
    pthread_spin_unlock(&a);
    return NULL;
}

static void *ba_main(void *arg)
{
    (void)arg;
    pthread_spin_lock(&b);
    pthread_spin_lock(&a);
    balance--;
    pthread_spin_unlock(&a);
    pthread_spin_unlock(&b);
    return NULL;
}

int main(void)
{
    pthread_spin_init(&a, PTHREAD_PROCESS_PRIVATE);
    pthread_spin_init(&b, PTHREAD_PROCESS_PRIVATE);
    /* one after the other: this run cannot hang */
    pthread_join(start_named(ab_main, NULL, "ab"), NULL);
    pthread_join(start_named(ba_main, NULL, "ba"), NULL);
    return balance == 0 ? 0 : 1;
}
