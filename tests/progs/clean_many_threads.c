/* More threads than thread slots (the .expect sets max_threads=4): the
 * workers that got slots wait on a cond, and the one that would wake them got
 * none, so the shim never sees it signal.  Every thread the trace knows is
 * parked, but the trace knows it did not see everything.  Not a hang. */
#include "victim.h"

#define WORKERS 5

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int go;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    while (!go)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *waker(void *arg)
{
    (void)arg;
    sleep_ms(2000);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_t t[WORKERS + 1];
    for (int i = 0; i < WORKERS; i++)
        t[i] = start_named(waiter, NULL, "waiter");
    t[WORKERS] = start_named(waker, NULL, "waker"); /* the slots are gone by now */
    for (int i = 0; i <= WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("%d waiters woken\n", WORKERS);
    return 0;
}
