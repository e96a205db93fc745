/* A consumer waits for an item that is never produced: it parks in
 * pthread_cond_wait forever because nobody signals the condition. */
#include "victim.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static int items;

static void *consumer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (items == 0)
        pthread_cond_wait(&nonempty, &lock);
    items--;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    start_named(consumer_main, NULL, "consumer");
    settle();
    return 0;
}
