/* "janitor" destroys the cond "sleeper" still waits on (nobody signals it):
 * glibc's pthread_cond_destroy waits for the waiters to leave, so janitor
 * blocks forever inside destroy.  main leaves once both sleep. */
#include "victim.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int waiting;
static volatile int destroying; /* janitor is past its polling sleeps */
static volatile pid_t sleeper_tid, janitor_tid;

static void *sleeper_main(void *arg)
{
    (void)arg;
    sleeper_tid = self_tid();
    pthread_mutex_lock(&m);
    waiting = 1;
    for (;;) /* bug under test: nobody ever signals */
        pthread_cond_wait(&never, &m);
    return NULL;
}

static void *janitor_main(void *arg)
{
    (void)arg;
    janitor_tid = self_tid();
    for (;;) { /* until sleeper is inside its wait */
        pthread_mutex_lock(&m);
        int w = waiting;
        pthread_mutex_unlock(&m);
        if (w)
            break;
        sleep_ms(1);
    }
    destroying = 1;
    pthread_cond_destroy(&never); /* blocks: sleeper is still inside the wait */
    return NULL;
}

int main(void)
{
    start_named(sleeper_main, NULL, "sleeper");
    start_named(janitor_main, NULL, "janitor");
    while (!sleeper_tid || !destroying)
        sleep_ms(1);
    wait_asleep(&sleeper_tid);
    wait_asleep(&janitor_tid);
    return 0;
}
