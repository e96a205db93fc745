/* Correct: "controller" broadcasts under m the cond "flusher" waits on, then
 * unlocks and joins it; flusher re-takes m and leaves.  A wake-up whose
 * re-acquisition closes no cycle: no finding. */
#include "victim.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush = PTHREAD_COND_INITIALIZER;
static int ready, go;

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    ready = 1;
    while (!go)
        pthread_cond_wait(&flush, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *controller_main(void *arg)
{
    (void)arg;
    pthread_t f = start_named(flusher_main, NULL, "flusher");
    for (;;) {
        pthread_mutex_lock(&m);
        if (ready)
            break;
        pthread_mutex_unlock(&m);
        sleep_ms(1);
    }
    go = 1;
    pthread_cond_broadcast(&flush);
    sleep_ms(20); /* flusher is woken and waits for m meanwhile */
    pthread_mutex_unlock(&m);
    pthread_join(f, NULL);
    return NULL;
}

int main(void)
{
    pthread_join(start_named(controller_main, NULL, "controller"), NULL);
    pthread_cond_destroy(&flush);
    return 0;
}
