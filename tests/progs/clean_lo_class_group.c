/* The correct twin of lo_class_group: the same 64 item locks (one class), the
 * stats lock and the static locks s1, s2, s3, every thread taking them in one
 * order (an item, then stats; s1, then s2, then s3).  No inversion. */
#include "victim.h"

#define ITEMS 64
#define USED 4

static pthread_mutex_t items[ITEMS];
static pthread_mutex_t stats = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s3 = PTHREAD_MUTEX_INITIALIZER;

static void nest(pthread_mutex_t *outer, pthread_mutex_t *inner)
{
    pthread_mutex_lock(outer);
    pthread_mutex_lock(inner);
    pthread_mutex_unlock(inner);
    pthread_mutex_unlock(outer);
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < USED; i++)
        nest(&items[i], &stats);
    nest(&s1, &s2);
    nest(&s1, &s3);
    nest(&s2, &s3);
    return NULL;
}

int main(void)
{
    for (int i = 0; i < ITEMS; i++)
        pthread_mutex_init(&items[i], NULL);
    pthread_join(start_named(worker_main, NULL, "forward"), NULL);
    pthread_join(start_named(worker_main, NULL, "backward"), NULL);
    return 0;
}
