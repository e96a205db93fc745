/* A cond destroyed right after a broadcast (or a signal to its one waiter)
 * while the woken threads are still inside pthread_cond_wait: correct, since
 * POSIX allows destroying a cond on which no thread is blocked any more, and
 * glibc's destroy waits for the woken ones to leave.  No lock-misuse (the twin
 * of lock_misuse's destroy_busy_cond).  The destroy is made with the mutex
 * still held, so the woken waiters cannot have returned yet. */
#include "victim.h"

#define WAITERS 3

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static int waiting, go;

static void *waiter_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    waiting++;
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* Starts N waiters, waits until each sleeps in its cond wait, then wakes them
 * (a broadcast, or a signal when there is one) and destroys the cond before it
 * releases the mutex. */
static __attribute__((noinline)) void wake_then_destroy(int n, int broadcast)
{
    pthread_t w[WAITERS];
    pthread_cond_init(&cv, NULL);
    waiting = go = 0;
    for (int i = 0; i < n; i++)
        w[i] = start_named(waiter_main, NULL, "waiter");
    for (;;) {
        pthread_mutex_lock(&mu);
        int in = waiting;
        pthread_mutex_unlock(&mu);
        if (in == n)
            break;
        sleep_ms(1);
    }
    /* main has the mutex: every waiter released it inside its wait */
    pthread_mutex_lock(&mu);
    go = 1;
    if (broadcast)
        pthread_cond_broadcast(&cv);
    else
        pthread_cond_signal(&cv);
    pthread_cond_destroy(&cv); /* nobody is blocked on cv any more */
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n; i++)
        pthread_join(w[i], NULL);
}

int main(void)
{
    wake_then_destroy(WAITERS, 1);
    wake_then_destroy(1, 0);
    puts("clean_wake_destroy: ok");
    return 0;
}
