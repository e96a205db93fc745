/* Destroyed and initialised again, then used: correct, never a lock-misuse
 * (the twin of use_destroyed).  Also a reader and a writer contending on a
 * re-initialised rwlock, and a heap rwlock freed and allocated again. */
#include "victim.h"

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int woken, waiting;

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&rw); /* waits for main's read lock */
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void rwlock_reinit(void)
{
    pthread_rwlock_rdlock(&rw);
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_destroy(&rw);
    pthread_rwlock_init(&rw, NULL);
    pthread_rwlock_wrlock(&rw);
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_destroy(&rw);
    rw = (pthread_rwlock_t)PTHREAD_RWLOCK_INITIALIZER; /* an initializer is an init */
    pthread_rwlock_rdlock(&rw);
    pthread_t w = start_named(writer_main, NULL, "writer");
    sleep_ms(20); /* lets the writer reach its wait (either order is correct) */
    pthread_rwlock_unlock(&rw);
    pthread_join(w, NULL);
    if (pthread_rwlock_tryrdlock(&rw) == 0)
        pthread_rwlock_unlock(&rw);
    pthread_rwlock_destroy(&rw);
}

static void heap_rwlock(void)
{
    for (int i = 0; i < 4; i++) {
        pthread_rwlock_t *h = malloc(sizeof *h);
        if (!h)
            die("malloc", ENOMEM);
        pthread_rwlock_init(h, NULL);
        pthread_rwlock_wrlock(h);
        pthread_rwlock_unlock(h);
        pthread_rwlock_destroy(h);
        free(h);
    }
}

static void *waiter_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    waiting = 1;
    while (!woken)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void cond_reinit(void)
{
    pthread_t w = start_named(waiter_main, NULL, "waiter");
    for (;;) {
        pthread_mutex_lock(&mu);
        int in = waiting;
        if (in) {
            woken = 1;
            pthread_cond_broadcast(&cv);
        }
        pthread_mutex_unlock(&mu);
        if (in)
            break;
        sleep_ms(1);
    }
    pthread_join(w, NULL);
    pthread_cond_destroy(&cv);
    pthread_cond_init(&cv, NULL);
    pthread_cond_signal(&cv);
    pthread_cond_destroy(&cv);
    cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
    pthread_cond_broadcast(&cv);
    pthread_cond_destroy(&cv);
}

static void mutex_reinit(void)
{
    pthread_mutex_t m;
    pthread_mutex_init(&m, NULL);
    pthread_mutex_destroy(&m);
    pthread_mutex_init(&m, NULL);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
}

int main(void)
{
    rwlock_reinit();
    heap_rwlock();
    cond_reinit();
    mutex_reinit();
    puts("clean_reinit: ok");
    return 0;
}
