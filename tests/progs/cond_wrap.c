/* main signals the consumer's condition once, long before the end: then it
 * wraps its event ring many times and exits with the consumer waiting for a
 * second item.  The report must name main as the cond's signaller (a thread
 * abandoned at exit), as it does with a ring that never wraps; with the
 * signaller lost it said "never signalled". */
#include "victim.h"
#include "wrap_busy.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static int items, taken;

static void *consumer_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (items == 0)
            pthread_cond_wait(&nonempty, &lock);
        items--;
        taken++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    start_named(consumer_main, NULL, "consumer");
    pthread_mutex_lock(&lock);
    items++;
    pthread_cond_signal(&nonempty);
    pthread_mutex_unlock(&lock);
    /* wait for the item to be taken without another signal or park */
    for (;;) {
        pthread_mutex_lock(&lock);
        int done = taken;
        pthread_mutex_unlock(&lock);
        if (done)
            break;
        sleep_ms(1);
    }
    wrap_ring();
    settle();
    return 0;
}
