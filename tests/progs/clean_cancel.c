/* Threads cancelled while parked in pthread_cond_wait, sem_wait,
 * pthread_join and read: each park must end in the trace (no thread left
 * "parked forever" after its death), and everything is joined and closed, so
 * nothing is reported. */
#include <semaphore.h>

#include "victim.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;
static sem_t never_posted;
static int quit_pipe[2], idle_pipe[2];
static pthread_t sleeper;

enum { CONDW, SEMW, JOINER, READER, SLEEPER, NTHREADS };
static volatile pid_t tids[NTHREADS];

static void unlock_cleanup(void *m)
{
    pthread_mutex_unlock(m);
}

static void *condwaiter_main(void *arg)
{
    (void)arg;
    tids[CONDW] = self_tid();
    pthread_mutex_lock(&lock);
    pthread_cleanup_push(unlock_cleanup, &lock);
    for (;;)
        pthread_cond_wait(&never_signalled, &lock);
    pthread_cleanup_pop(1);
    return NULL;
}

static void *semwaiter_main(void *arg)
{
    (void)arg;
    tids[SEMW] = self_tid();
    for (;;)
        sem_wait(&never_posted);
    return NULL;
}

/* Parks reading until main closes the write end: joined by joiner, which is
 * cancelled first, and then by main. */
static void *sleeper_main(void *arg)
{
    (void)arg;
    char c;
    tids[SLEEPER] = self_tid();
    while (read(quit_pipe[0], &c, 1) > 0)
        ;
    return NULL;
}

static void *joiner_main(void *arg)
{
    (void)arg;
    tids[JOINER] = self_tid();
    pthread_join(sleeper, NULL);
    return NULL;
}

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    tids[READER] = self_tid();
    for (;;)
        if (read(idle_pipe[0], &c, 1) <= 0)
            break;
    return NULL;
}

static void cancel_and_join(pthread_t t)
{
    void *ret = NULL;
    int rc = pthread_cancel(t);
    if (rc)
        die("pthread_cancel", rc);
    rc = pthread_join(t, &ret);
    if (rc)
        die("pthread_join", rc);
    if (ret != PTHREAD_CANCELED)
        die("not cancelled", EINVAL);
}

int main(void)
{
    if (sem_init(&never_posted, 0, 0) || pipe(quit_pipe) || pipe(idle_pipe))
        die("setup", errno);
    sleeper = start_named(sleeper_main, NULL, "sleeper");
    pthread_t cw = start_named(condwaiter_main, NULL, "condwaiter");
    pthread_t sw = start_named(semwaiter_main, NULL, "semwaiter");
    wait_asleep(&tids[SLEEPER]);
    pthread_t jn = start_named(joiner_main, NULL, "joiner");
    pthread_t rd = start_named(reader_main, NULL, "reader");
    for (int i = 0; i < NTHREADS; i++)
        wait_asleep(&tids[i]);
    cancel_and_join(cw);
    cancel_and_join(sw);
    cancel_and_join(jn);
    cancel_and_join(rd);
    close(quit_pipe[1]);
    pthread_join(sleeper, NULL);
    close(quit_pipe[0]);
    close(idle_pipe[0]);
    close(idle_pipe[1]);
    sem_destroy(&never_posted);
    return 0;
}
