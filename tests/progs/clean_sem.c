/* A bounded buffer with two counting semaphores (free slots, filled slots):
 * one producer, two consumers, a stop item per consumer, all joined.  Also a
 * named semaphore opened, posted, waited with a timeout, closed and unlinked. */
#include <fcntl.h>
#include <semaphore.h>

#include "victim.h"

#define SLOTS 4
#define ITEMS 2000

static sem_t free_slots, filled;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static int ring[SLOTS];
static unsigned head, tail;

static void put(int v)
{
    while (sem_wait(&free_slots) == -1 && errno == EINTR)
        ;
    pthread_mutex_lock(&ring_lock);
    ring[head++ % SLOTS] = v;
    pthread_mutex_unlock(&ring_lock);
    sem_post(&filled);
}

static int get(void)
{
    while (sem_wait(&filled) == -1 && errno == EINTR)
        ;
    pthread_mutex_lock(&ring_lock);
    int v = ring[tail++ % SLOTS];
    pthread_mutex_unlock(&ring_lock);
    sem_post(&free_slots);
    return v;
}

static void *consumer_main(void *arg)
{
    long *sum = arg;
    for (int v; (v = get()) >= 0;)
        *sum += v;
    return NULL;
}

static void *producer_main(void *arg)
{
    (void)arg;
    for (int i = 1; i <= ITEMS; i++)
        put(i);
    put(-1);
    put(-1);
    return NULL;
}

static void named_round_trip(void)
{
    char name[64];
    snprintf(name, sizeof name, "/pw-clean-sem-%d", (int)getpid());
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED)
        die("sem_open", errno);
    sem_unlink(name);
    sem_post(s);
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += 3600;
    if (sem_timedwait(s, &abs) != 0)
        die("sem_timedwait", errno);
    if (sem_trywait(s) != -1 || errno != EAGAIN)
        die("sem_trywait on an empty semaphore", errno);
    sem_post(s);
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 3600;
    if (sem_clockwait(s, CLOCK_MONOTONIC, &abs) != 0)
        die("sem_clockwait", errno);
    /* a bad timeout is refused before the count is looked at, even when the
     * semaphore could be taken: the shim must give the same answer */
    sem_post(s);
    abs.tv_nsec = -1;
    int rc = sem_timedwait(s, &abs);
    printf("bad timeout: %d %s\n", rc, rc ? strerror(errno) : "taken");
    if (rc)
        sem_wait(s);
    sem_close(s);
}

int main(void)
{
    if (sem_init(&free_slots, 0, SLOTS) || sem_init(&filled, 0, 0))
        die("sem_init", errno);
    long sums[2] = {0, 0};
    pthread_t c1 = start_named(consumer_main, &sums[0], "consumer");
    pthread_t c2 = start_named(consumer_main, &sums[1], "consumer");
    pthread_t p = start_named(producer_main, NULL, "producer");
    pthread_join(p, NULL);
    pthread_join(c1, NULL);
    pthread_join(c2, NULL);
    sem_destroy(&free_slots);
    sem_destroy(&filled);
    named_round_trip();
    printf("sum %ld\n", sums[0] + sums[1]);
    return 0;
}
