/* parkwatch's bundled example: a worker pool that forgets to close its task
 * pipe.  The tasks all get done, but afterwards every worker is parked in
 * read() on a pipe whose write end is still open, so none of them can ever
 * finish: a thread leak that no crash and no test failure would reveal.
 *
 * The fix would be one line in main: close(tasks[1]) after the last task,
 * then pthread_join the workers. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 4
#define NTASKS 8

static int tasks[2]; /* [0] read by workers, [1] written by main */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static int done;

static void handle(int task)
{
    pthread_mutex_lock(&done_lock);
    done++;
    pthread_mutex_unlock(&done_lock);
    (void)task;
}

static void *worker_main(void *arg)
{
    (void)arg;
    int task;
    /* Ends only at end-of-file, i.e. once every write end is closed. */
    while (read(tasks[0], &task, sizeof task) == (ssize_t)sizeof task)
        handle(task);
    return NULL;
}

int main(void)
{
    if (pipe(tasks)) {
        perror("pipe");
        return 1;
    }
    for (int i = 0; i < NWORKERS; i++) {
        pthread_t t;
        int rc = pthread_create(&t, NULL, worker_main, NULL);
        if (rc) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
        pthread_setname_np(t, "worker");
    }
    for (int task = 1; task <= NTASKS; task++)
        if (write(tasks[1], &task, sizeof task) != (ssize_t)sizeof task) {
            perror("write");
            return 1;
        }
    /* Give the workers time to drain the queue; then leave without closing
     * tasks[1] (the bug). */
    struct timespec pause = {0, 300 * 1000000L};
    while (nanosleep(&pause, &pause) == -1 && errno == EINTR)
        ;
    pthread_mutex_lock(&done_lock);
    printf("worker_pool: %d of %d tasks done\n", done, NTASKS);
    pthread_mutex_unlock(&done_lock);
    return 0;
}
