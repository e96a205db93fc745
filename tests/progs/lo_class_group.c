/* Instance inversions of one lock-class pair are one finding: 64 item locks
 * initialised in one loop (one class) and a stats lock.  "forward" takes the
 * stats lock under items 0..3, "backward" items 0..3 under the stats lock: four
 * instance inversions (item[i] <-> stats), which used to be four findings.
 * Now one lock-order-inversion for the class pair, its instances listed as
 * evidence, with the stacks of one pair.  Locks that are their own class
 * (static ones) keep their instance findings: s1 <-> s2 and s1 <-> s3 are
 * two.  The threads run one after the other (the victim never deadlocks). */
#include "victim.h"

#define ITEMS 64
#define INVERTED 4

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

static void *forward_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < INVERTED; i++) {
        pthread_mutex_lock(&items[i]);
        pthread_mutex_lock(&stats);
        pthread_mutex_unlock(&stats);
        pthread_mutex_unlock(&items[i]);
    }
    nest(&s1, &s2);
    nest(&s1, &s3);
    return NULL;
}

static void *backward_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < INVERTED; i++) {
        pthread_mutex_lock(&stats);
        pthread_mutex_lock(&items[i]);
        pthread_mutex_unlock(&items[i]);
        pthread_mutex_unlock(&stats);
    }
    nest(&s2, &s1);
    nest(&s3, &s1);
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
