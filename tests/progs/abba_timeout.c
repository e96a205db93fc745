/* AB-BA for real: "left" and "right" each take A and B once in their own order
 * (the lock-order edges), then collide: left holds A and waits for B, right
 * holds B and waits for A.  main gives up on them after a timed join and exits.
 * The cycle actually deadlocked, so it is a deadlock, not a second report as a
 * lock-order inversion. */
#include "victim.h"

#include <semaphore.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static sem_t left_done, right_done, left_has_a, right_has_b, about_to_block;
static volatile pid_t left_tid, right_tid;

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) == -1 && errno == EINTR)
        ;
}

static void *left_main(void *arg)
{
    (void)arg;
    left_tid = self_tid();
    pthread_mutex_lock(&a); /* round one, alone: A then B */
    pthread_mutex_lock(&b);
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
    sem_post(&left_done);
    sem_wait_intr(&right_done);
    pthread_mutex_lock(&a); /* round two, together */
    sem_post(&left_has_a);
    sem_wait_intr(&right_has_b);
    sem_post(&about_to_block);
    pthread_mutex_lock(&b);
    return NULL;
}

static void *right_main(void *arg)
{
    (void)arg;
    right_tid = self_tid();
    sem_wait_intr(&left_done);
    pthread_mutex_lock(&b); /* round one, alone: B then A */
    pthread_mutex_lock(&a);
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    sem_post(&right_done);
    sem_wait_intr(&left_has_a);
    pthread_mutex_lock(&b);
    sem_post(&right_has_b);
    sem_post(&about_to_block);
    pthread_mutex_lock(&a);
    return NULL;
}

int main(void)
{
    sem_init(&left_done, 0, 0);
    sem_init(&right_done, 0, 0);
    sem_init(&left_has_a, 0, 0);
    sem_init(&right_has_b, 0, 0);
    sem_init(&about_to_block, 0, 0);
    pthread_t l = start_named(left_main, NULL, "left");
    start_named(right_main, NULL, "right");
    sem_wait_intr(&about_to_block);
    sem_wait_intr(&about_to_block);
    wait_asleep(&left_tid);
    wait_asleep(&right_tid);
    /* give up on them */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 50 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(l, NULL, &until) == ETIMEDOUT ? 0 : 1;
}
