/* A worker pool whose task pipe is never closed: once the three tasks are done
 * every worker parks in read() for good, and main exits under them. */
#include "victim.h"

#define NWORKERS 3
#define NTASKS 3

static int task_pipe[2];

static void *worker_main(void *arg)
{
    (void)arg;
    int task;
    /* read() returns 0 only when every write end is closed: main never closes
     * it, so the last read of each worker blocks forever. */
    while (read(task_pipe[0], &task, sizeof task) == (ssize_t)sizeof task)
        ;
    return NULL;
}

int main(void)
{
    if (pipe(task_pipe))
        die("pipe", errno);
    for (int i = 0; i < NWORKERS; i++)
        start_named(worker_main, NULL, "worker");
    for (int task = 1; task <= NTASKS; task++)
        write_all(task_pipe[1], &task, sizeof task);
    settle();
    return 0;
}
