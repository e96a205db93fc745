/* main joins a thread that never returns.  To stay bounded the thread ends the
 * whole process with exit() after a while, so the trace closes with main still
 * parked in pthread_join. */
#include "victim.h"

static void *sleeper_main(void *arg)
{
    (void)arg;
    sleep_ms(400);
    exit(0);
}

int main(void)
{
    pthread_setname_np(pthread_self(), "main");
    pthread_t t = start_named(sleeper_main, NULL, "sleeper");
    pthread_join(t, NULL);
    return 1; /* unreachable: sleeper_main exits the process */
}
