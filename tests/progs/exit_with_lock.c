/* A thread takes a mutex and returns without unlocking it. */
#include "victim.h"

static pthread_mutex_t forgotten = PTHREAD_MUTEX_INITIALIZER;

static void *locker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&forgotten);
    return NULL; /* bug under test: the mutex stays locked by a dead thread */
}

int main(void)
{
    pthread_t t = start_named(locker_main, NULL, "locker");
    pthread_join(t, NULL);
    return 0;
}
