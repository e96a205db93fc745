/* A bounded condition-variable queue with a proper shutdown: the producer
 * broadcasts "closed" after the last item, consumers drain and return. */
#include "victim.h"

#include <stdbool.h>

#define CAPACITY 4
#define NCONSUMERS 2
#define NITEMS 1000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t nonfull = PTHREAD_COND_INITIALIZER;
static int ring[CAPACITY];
static int head, count;
static bool closed;
static long sum;

static void *consumer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (count == 0 && !closed)
            pthread_cond_wait(&nonempty, &lock);
        if (count == 0)
            break; /* closed and drained */
        sum += ring[head];
        head = (head + 1) % CAPACITY;
        count--;
        pthread_cond_signal(&nonfull);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void put(int item)
{
    pthread_mutex_lock(&lock);
    while (count == CAPACITY)
        pthread_cond_wait(&nonfull, &lock);
    ring[(head + count) % CAPACITY] = item;
    count++;
    pthread_cond_signal(&nonempty);
    pthread_mutex_unlock(&lock);
}

int main(void)
{
    pthread_t consumers[NCONSUMERS];
    for (int i = 0; i < NCONSUMERS; i++)
        consumers[i] = start_named(consumer_main, NULL, "consumer");
    for (int i = 0; i < NITEMS; i++)
        put(i);
    pthread_mutex_lock(&lock);
    closed = true;
    /* Wake every idle consumer, not just one: each must see "closed". */
    pthread_cond_broadcast(&nonempty);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < NCONSUMERS; i++)
        pthread_join(consumers[i], NULL);
    printf("clean_condq: %d items, sum %ld\n", NITEMS, sum);
    return 0;
}
