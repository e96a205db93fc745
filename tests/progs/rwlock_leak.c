/* Two rwlocks abandoned by threads that returned without unlocking them:
 *   - table: a reader leaks its read lock; a writer then waits forever;
 *   - config: a writer leaks its write lock; a reader then waits forever. */
#include "victim.h"

static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t config;
static volatile pid_t writer_tid, reader_tid;

static void *rdleaker_main(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&table);
    return NULL; /* the bug: no unlock */
}

static void *wrwaiter_main(void *arg)
{
    (void)arg;
    writer_tid = self_tid();
    pthread_rwlock_wrlock(&table);
    pthread_rwlock_unlock(&table);
    return NULL;
}

static void *wrleaker_main(void *arg)
{
    (void)arg;
    if (pthread_rwlock_trywrlock(&config) != 0)
        die("trywrlock", EBUSY);
    return NULL; /* the bug: no unlock */
}

static void *rdwaiter_main(void *arg)
{
    (void)arg;
    reader_tid = self_tid();
    pthread_rwlock_rdlock(&config);
    pthread_rwlock_unlock(&config);
    return NULL;
}

int main(void)
{
    int rc = pthread_rwlock_init(&config, NULL);
    if (rc)
        die("pthread_rwlock_init", rc);
    pthread_join(start_named(rdleaker_main, NULL, "rdleaker"), NULL);
    pthread_join(start_named(wrleaker_main, NULL, "wrleaker"), NULL);
    start_named(wrwaiter_main, NULL, "wrwaiter");
    start_named(rdwaiter_main, NULL, "rdwaiter");
    wait_asleep(&writer_tid);
    wait_asleep(&reader_tid);
    return 0;
}
