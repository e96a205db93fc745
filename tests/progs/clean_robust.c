/* A robust mutex whose owner returns holding it: the next locker gets
 * EOWNERDEAD, makes it consistent and goes on.  Recovered: no error, no
 * warning (the report keeps a note). */
#include "victim.h"

static pthread_mutex_t robust;

static void *owner_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL; /* dies holding it, on purpose */
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &a);
    pthread_join(start_named(owner_main, NULL, "owner"), NULL);
    int rc = pthread_mutex_lock(&robust);
    if (rc != EOWNERDEAD)
        die("lock of a robust mutex whose owner died", rc);
    pthread_mutex_consistent(&robust);
    pthread_mutex_unlock(&robust);
    pthread_mutex_destroy(&robust);
    return 0;
}
