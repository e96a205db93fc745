/* A barrier missing a participant: it is set up for three threads, but only
 * two runners ever reach it; both wait there forever. */
#include "victim.h"

static pthread_barrier_t start_line;
static volatile pid_t tids[2];

static void *runner_main(void *arg)
{
    tids[(intptr_t)arg] = self_tid();
    pthread_barrier_wait(&start_line);
    return NULL;
}

int main(void)
{
    int rc = pthread_barrier_init(&start_line, NULL, 3); /* the bug: 3, not 2 */
    if (rc)
        die("pthread_barrier_init", rc);
    for (int i = 0; i < 2; i++)
        start_named(runner_main, (void *)(intptr_t)i, "runner");
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
    return 0;
}
