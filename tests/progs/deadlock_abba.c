/* The classic ABBA deadlock: "left" holds A and wants B, "right" holds B and
 * wants A.  main keeps running (sleeping), so this is a cycle among some
 * threads, not all of them; main exits after a moment. */
#include "victim.h"

#include <semaphore.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static sem_t left_has_a, right_has_b;

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) == -1 && errno == EINTR)
        ;
}

static void *left_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&a);
    sem_post(&left_has_a);
    /* Only once right surely holds B: the deadlock is certain, not likely. */
    sem_wait_intr(&right_has_b);
    pthread_mutex_lock(&b);
    return NULL;
}

static void *right_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    sem_post(&right_has_b);
    sem_wait_intr(&left_has_a);
    pthread_mutex_lock(&a);
    return NULL;
}

int main(void)
{
    sem_init(&left_has_a, 0, 0);
    sem_init(&right_has_b, 0, 0);
    start_named(left_main, NULL, "left");
    start_named(right_main, NULL, "right");
    settle();
    return 0;
}
