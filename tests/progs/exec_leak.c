/* The leak happens after exec: the first image re-executes itself with the
 * argument "stage2", and the new image leaks a worker parked on a pipe.  The
 * same pid writes a second trace (parkwatch.<pid>.1.trace). */
#include "victim.h"

static int stage2_pipe[2];

static void *worker_main(void *arg)
{
    (void)arg;
    char c;
    if (read(stage2_pipe[0], &c, 1) < 0)
        die("read", errno);
    return NULL;
}

static int stage2(void)
{
    if (pipe(stage2_pipe))
        die("pipe", errno);
    start_named(worker_main, NULL, "worker");
    settle();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "stage2") == 0)
        return stage2();
    char *args[] = {argv[0], "stage2", NULL};
    execv("/proc/self/exe", args);
    die("execv", errno);
}
