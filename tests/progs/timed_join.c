/* Timed and non-blocking joins.  joiner waits in pthread_timedjoin_np for a
 * thread that never ends: a timed park is never "forever", so only the
 * sleeper (parked on a semaphore nobody posts) leaks; napper waits on the
 * same semaphore with sem_clockwait and does not leak either.  main joins two
 * quick threads with pthread_tryjoin_np and pthread_clockjoin_np: both count
 * as joined. */
#include <semaphore.h>

#include "victim.h"

static sem_t never_posted, go;
static volatile pid_t sleeper_tid, joiner_tid, napper_tid;
static pthread_t sleeper;

static void *sleeper_main(void *arg)
{
    (void)arg;
    sleeper_tid = self_tid();
    while (sem_wait(&never_posted) == -1 && errno == EINTR)
        ;
    return NULL;
}

/* A timed semaphore wait: never "forever" either. */
static void *napper_main(void *arg)
{
    (void)arg;
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 3600;
    napper_tid = self_tid();
    sem_clockwait(&never_posted, CLOCK_MONOTONIC, &abs);
    return NULL;
}

static void *joiner_main(void *arg)
{
    (void)arg;
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += 3600;
    joiner_tid = self_tid();
    pthread_timedjoin_np(sleeper, NULL, &abs);
    return NULL;
}

static void *quick_main(void *arg)
{
    (void)arg;
    while (sem_wait(&go) == -1 && errno == EINTR)
        ;
    return NULL;
}

int main(void)
{
    if (sem_init(&never_posted, 0, 0) || sem_init(&go, 0, 0))
        die("sem_init", errno);
    sleeper = start_named(sleeper_main, NULL, "sleeper");
    wait_asleep(&sleeper_tid);
    start_named(joiner_main, NULL, "joiner");
    wait_asleep(&joiner_tid);
    start_named(napper_main, NULL, "napper");
    wait_asleep(&napper_tid);

    pthread_t q1 = start_named(quick_main, NULL, "quick");
    if (pthread_tryjoin_np(q1, NULL) != EBUSY) /* still waiting for go */
        die("tryjoin of a running thread", EINVAL);
    sem_post(&go);
    int rc;
    while ((rc = pthread_tryjoin_np(q1, NULL)) == EBUSY)
        sleep_ms(1);
    if (rc)
        die("pthread_tryjoin_np", rc);

    pthread_t q2 = start_named(quick_main, NULL, "quick");
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 3600;
    sem_post(&go);
    rc = pthread_clockjoin_np(q2, NULL, CLOCK_MONOTONIC, &abs);
    if (rc)
        die("pthread_clockjoin_np", rc);
    return 0;
}
