/* Run with a tiny ring (ring_events=16): each worker records far more events
 * than its ring holds before it parks forever, so the findings must come from
 * the current-state records, not from ring history. */
#include "stress.h"

static int loop[2], never[2];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile pid_t tids[2];

static void *pump_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "pump");
    char c;
    for (int i = 0; i < 400; i++)
        if (write(loop[1], "p", 1) != 1 || read(loop[0], &c, 1) != 1)
            die("pump", errno);
    publish_tid(&tids[0]);
    return (void *)(long)read(never[0], &c, 1); /* forever */
}

static void *sleeper_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sleeper");
    pthread_mutex_lock(&m);
    for (int i = 0; i < 200; i++) {
        struct timespec ts = {0, 0}; /* already expired: a timed wait that returns */
        pthread_cond_timedwait(&cv, &m, &ts);
        pthread_cond_signal(&cv);
    }
    publish_tid(&tids[1]);
    for (;;)
        pthread_cond_wait(&cv, &m); /* forever */
    return NULL;
}

int main(void)
{
    if (pipe(loop) || pipe(never))
        die("pipe", errno);
    spawn(pump_main, NULL);
    spawn(sleeper_main, NULL);
    await_blocked(await_tid(&tids[0]), SYS_read);
    await_blocked(await_tid(&tids[1]), SYS_futex);
    out("both workers parked after wrapping their rings");
    return 0;
}
