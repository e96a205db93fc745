/* The leak happens after exec: the first image re-executes itself with the
 * argument "stage2", and the new image leaks a worker parked on a pipe.  The
 * same pid writes a second trace (parkwatch.<pid>.1.trace).
 *
 * Two pipes cross the exec too: one made O_CLOEXEC (the exec closes it: the
 * first trace books it closed) and one without (the new image inherits it; its
 * "heir" thread parks on it, and both ends stay open in the new image). */
#include "victim.h"

#include <fcntl.h>

static int stage2_pipe[2];
static int kept_rd;
static volatile pid_t tids[2];

static void *worker_main(void *arg)
{
    (void)arg;
    char c;
    tids[0] = self_tid();
    if (read(stage2_pipe[0], &c, 1) < 0)
        die("read", errno);
    return NULL;
}

static void *heir_main(void *arg)
{
    (void)arg;
    char c;
    tids[1] = self_tid();
    if (read(kept_rd, &c, 1) < 0)
        die("read", errno);
    return NULL;
}

static int stage2(const char *kept)
{
    kept_rd = atoi(kept);
    if (pipe(stage2_pipe))
        die("pipe", errno);
    start_named(worker_main, NULL, "worker");
    start_named(heir_main, NULL, "heir");
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "stage2") == 0)
        return stage2(argv[2]);
    int kept[2], gone[2];
    if (pipe(kept) || pipe2(gone, O_CLOEXEC))
        die("pipe", errno);
    char num[16];
    snprintf(num, sizeof num, "%d", kept[0]);
    char *args[] = {argv[0], "stage2", num, NULL};
    execv("/proc/self/exe", args);
    die("execv", errno);
}
