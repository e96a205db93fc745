/* A thread returns while holding a spinlock.  Spinning is not parking: the
 * lock is only recorded as held, and reported once its holder is gone. */
#include "victim.h"

static pthread_spinlock_t counter_lock;
static long counter;

static void *spinner_main(void *arg)
{
    (void)arg;
    pthread_spin_lock(&counter_lock);
    counter++;
    if (counter > 0)
        return NULL; /* the bug: an early return skips the unlock */
    pthread_spin_unlock(&counter_lock);
    return NULL;
}

static void *tidy_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        if (pthread_spin_trylock(&counter_lock) == 0)
            pthread_spin_unlock(&counter_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_spin_init(&counter_lock, PTHREAD_PROCESS_PRIVATE);
    pthread_join(start_named(tidy_main, NULL, "tidy"), NULL);
    pthread_join(start_named(spinner_main, NULL, "spinner"), NULL);
    return 0;
}
