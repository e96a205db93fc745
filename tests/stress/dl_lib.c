/* A library loaded and unloaded at run time; it creates threads that use a
 * pipe, a mutex and a cond, and joins them before returning. */
#include "stress.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;
static pthread_t ctor_thread;

static void *lib_worker(void *arg)
{
    int *p = arg;
    char c; /* one byte each: a bigger read could take a sibling's byte */
    ssize_t n = read(p[0], &c, 1);
    pthread_mutex_lock(&m);
    ready++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
    return (void *)(long)n;
}

static void *ctor_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return NULL;
}

/* A constructor that starts a thread; the destructor joins it. */
__attribute__((constructor)) static void lib_init(void)
{
    pthread_create(&ctor_thread, NULL, ctor_main, NULL);
}

__attribute__((destructor)) static void lib_fini(void)
{
    pthread_join(ctor_thread, NULL);
}

__attribute__((visibility("default"))) long dl_work(int threads)
{
    int p[2];
    if (pipe(p))
        return -1;
    pthread_t t[8];
    ready = 0;
    for (int i = 0; i < threads && i < 8; i++)
        pthread_create(&t[i], NULL, lib_worker, p);
    for (int i = 0; i < threads && i < 8; i++)
        if (write(p[1], "w", 1) != 1)
            return -1;
    pthread_mutex_lock(&m);
    while (ready < threads)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    long total = 0;
    for (int i = 0; i < threads && i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (long)r;
    }
    close(p[0]);
    close(p[1]);
    return total;
}
