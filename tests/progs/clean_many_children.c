/* The twin of many_children: 70 children live at the same time and exit,
 * then a 71st starts a worker, wakes it and joins it.  Nothing to report,
 * nothing stopped. */
#include <sys/wait.h>

#include "victim.h"

#define WIDE 70

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int ready;

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!ready)
        pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void last_child(void)
{
    pthread_t t = start_named(worker_main, NULL, "worker");
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_signal(&go);
    pthread_mutex_unlock(&lock);
    pthread_join(t, NULL);
    exit(0);
}

int main(void)
{
    pid_t kids[WIDE];
    for (int i = 0; i < WIDE; i++) {
        kids[i] = fork();
        if (kids[i] < 0)
            die("fork", errno);
        if (kids[i] == 0) {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            exit(0);
        }
    }
    for (int i = 0; i < WIDE; i++)
        if (waitpid(kids[i], NULL, 0) < 0)
            die("waitpid", errno);
    pid_t last = fork();
    if (last < 0)
        die("fork", errno);
    if (last == 0)
        last_child();
    int st;
    if (waitpid(last, &st, 0) < 0)
        die("waitpid", errno);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 3;
}
