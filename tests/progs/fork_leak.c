/* The leak happens in a child process: after fork the child starts a worker
 * that parks forever on a pipe of its own, and exits under it.  The parent
 * waits for the child and exits cleanly.  The child writes its own trace. */
#include "victim.h"

#include <sys/wait.h>

static int child_pipe[2];
static volatile pid_t worker_tid;

static void *worker_main(void *arg)
{
    (void)arg;
    char c;
    worker_tid = self_tid();
    if (read(child_pipe[0], &c, 1) < 0)
        die("read", errno);
    return NULL;
}

static int child_main(void)
{
    if (pipe(child_pipe))
        die("pipe", errno);
    start_named(worker_main, NULL, "worker");
    wait_asleep(&worker_tid);
    return 0;
}

int main(void)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0)
        exit(child_main());
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid", errno);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
