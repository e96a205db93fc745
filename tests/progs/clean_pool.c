/* The correct worker pool: main closes the task pipe when done, every worker
 * sees end-of-file and returns, main joins them all. */
#include "victim.h"

#define NWORKERS 4
#define NTASKS 100

static int task_pipe[2];
static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;
static long sum;

static void *worker_main(void *arg)
{
    (void)arg;
    int task;
    while (read(task_pipe[0], &task, sizeof task) == (ssize_t)sizeof task) {
        pthread_mutex_lock(&sum_lock);
        sum += task;
        pthread_mutex_unlock(&sum_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t workers[NWORKERS];
    if (pipe(task_pipe))
        die("pipe", errno);
    for (int i = 0; i < NWORKERS; i++)
        workers[i] = start_named(worker_main, NULL, "worker");
    for (int task = 0; task < NTASKS; task++)
        write_all(task_pipe[1], &task, sizeof task);
    close(task_pipe[1]);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(workers[i], NULL);
    close(task_pipe[0]);
    printf("clean_pool: %d tasks, sum %ld\n", NTASKS, sum);
    return 0;
}
