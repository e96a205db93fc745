/* Threads that park forever while main stays alive (sleeping, not parked, so
 * no deadlock watchdog fires): the SIGKILL test kills this process and then
 * reads its trace post mortem. */
#include "victim.h"

static int never_written[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    if (read(never_written[0], &c, 1) < 0)
        die("read", errno);
    return NULL;
}

static void *waiter_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never_signalled, &lock);
    return NULL;
}

int main(void)
{
    if (pipe(never_written))
        die("pipe", errno);
    start_named(reader_main, NULL, "reader");
    start_named(reader_main, NULL, "reader");
    start_named(waiter_main, NULL, "waiter");
    for (;;)
        sleep_ms(1000);
}
