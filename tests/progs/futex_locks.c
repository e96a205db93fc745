/* ABBA through two futex-based locks (no pthread mutex: the locks are raw
 * futex words, as Rust's std::sync::Mutex and GLib's GMutex are).  main joins
 * "left", so every thread parks forever: `parkwatch run` must stop the
 * process.  alarm() bounds the run when nobody watches. */
#include <semaphore.h>

#include "futex_util.h"

static uint32_t a, b;
static sem_t left_has_a, right_has_b;

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) == -1 && errno == EINTR)
        ;
}

static void *left_main(void *arg)
{
    (void)arg;
    flock_lock(&a);
    sem_post(&left_has_a);
    sem_wait_intr(&right_has_b);
    flock_lock(&b);
    return NULL;
}

static void *right_main(void *arg)
{
    (void)arg;
    flock_lock(&b);
    sem_post(&right_has_b);
    sem_wait_intr(&left_has_a);
    flock_lock(&a);
    return NULL;
}

int main(void)
{
    alarm(20);
    pthread_setname_np(pthread_self(), "main");
    sem_init(&left_has_a, 0, 0);
    sem_init(&right_has_b, 0, 0);
    pthread_t l = start_named(left_main, NULL, "left");
    start_named(right_main, NULL, "right");
    pthread_join(l, NULL);
    return 1; /* unreachable */
}
