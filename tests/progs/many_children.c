/* A process tree wider than the watcher's old set of 64 watched processes:
 * 70 children live at the same time (long enough for a watcher to see them
 * running), exit, and then one more child has every thread parked forever.
 * `run` must still judge that child and stop it: the set of processes the
 * watcher may signal keeps the live ones, not the first 64 it saw.  The
 * children leave by _exit, which the shim does not see: their traces never
 * say they ended, and the watcher must find out from the kernel.  The
 * parent waits for its children (a wait parkwatch does not follow) and exits
 * 0 once the stuck child was stopped.  alarm() bounds the child when nobody
 * watches. */
#include <sys/wait.h>

#include "victim.h"

#define WIDE 70

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *stuck_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return NULL;
}

static void stuck_child(void)
{
    alarm(20);
    pthread_setname_np(pthread_self(), "main");
    pthread_t t = start_named(stuck_main, NULL, "stuck");
    pthread_join(t, NULL);
    _exit(1); /* unreachable */
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
            _exit(0);
        }
    }
    for (int i = 0; i < WIDE; i++)
        if (waitpid(kids[i], NULL, 0) < 0)
            die("waitpid", errno);
    pid_t last = fork();
    if (last < 0)
        die("fork", errno);
    if (last == 0)
        stuck_child();
    int st;
    if (waitpid(last, &st, 0) < 0)
        die("waitpid", errno);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT ? 0 : 3;
}
