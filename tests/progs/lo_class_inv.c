/* An inversion only between lock classes: 64 item locks initialised in one
 * loop (one class) and a global lock.  "forward" takes each item under the
 * global lock, item 0 first; "backward" takes the global lock under each item,
 * item 63 first.  The shim keeps only the first edges per class pair and
 * thread (items 0.. under the global lock, items 63.. over it) and folds the
 * rest, so no instance edge of one thread meets one of the other: only the
 * class graph sees that both orders happen.  The threads run one after the
 * other (the victim never deadlocks); running them together on one item could.
 * Exactly one lock-order-inversion, for the class pair (issue 14). */
#include "victim.h"

#define ITEMS 64

static pthread_mutex_t items[ITEMS];
static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;

static void *forward_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&big);
        pthread_mutex_lock(&items[i]);
        pthread_mutex_unlock(&items[i]);
        pthread_mutex_unlock(&big);
    }
    return NULL;
}

static void *backward_main(void *arg)
{
    (void)arg;
    for (int i = ITEMS - 1; i >= 0; i--) {
        pthread_mutex_lock(&items[i]);
        pthread_mutex_lock(&big);
        pthread_mutex_unlock(&big);
        pthread_mutex_unlock(&items[i]);
    }
    return NULL;
}

int main(void)
{
    for (int i = 0; i < ITEMS; i++)
        pthread_mutex_init(&items[i], NULL);
    pthread_join(start_named(forward_main, NULL, "forward"), NULL);
    pthread_join(start_named(backward_main, NULL, "backward"), NULL);
    return 0;
}
