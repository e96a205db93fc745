/* lo_class_inv's correct twin: 64 item locks of one class under a global
 * lock, always the global lock first, by two threads walking the items in
 * opposite directions; and item locks of the one class nested in each other,
 * always the lower index first (a program's own order among instances, which
 * classes cannot see: two instances of one class nested are no class
 * inversion).  No finding (issue 14). */
#include "victim.h"

#define ITEMS 64

static pthread_mutex_t items[ITEMS];
static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;

static void nest(int i, int j)
{
    int lo = i < j ? i : j, hi = i < j ? j : i;
    pthread_mutex_lock(&items[lo]);
    pthread_mutex_lock(&items[hi]);
    pthread_mutex_unlock(&items[hi]);
    pthread_mutex_unlock(&items[lo]);
}

static void *forward_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&big);
        pthread_mutex_lock(&items[i]);
        pthread_mutex_unlock(&items[i]);
        pthread_mutex_unlock(&big);
        if (i + 1 < ITEMS)
            nest(i, i + 1);
    }
    return NULL;
}

static void *backward_main(void *arg)
{
    (void)arg;
    for (int i = ITEMS - 1; i >= 0; i--) {
        pthread_mutex_lock(&big);
        pthread_mutex_lock(&items[i]);
        pthread_mutex_unlock(&items[i]);
        pthread_mutex_unlock(&big);
        if (i > 0)
            nest(i, i - 1);
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
