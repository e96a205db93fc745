/* A parent's reader never sees EOF because a forked child kept a copy of the
 * write end.  The parent closes its own write end, its reader parks, and the
 * parent exits under it; the child lives until the parent is gone (it waits
 * for EOF on a second pipe only the parent writes to), then exits. */
#include "victim.h"

static int data[2], alive[2];
static volatile pid_t reader_tid;

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    reader_tid = self_tid();
    if (read(data[0], &c, 1) < 0) /* EOF needs the child's copy closed too */
        die("read", errno);
    return NULL;
}

static int child_main(void)
{
    close(data[0]);
    close(alive[1]);
    char c;
    /* bug under test: data[1] stays open here while we wait */
    while (read(alive[0], &c, 1) > 0)
        ;
    return 0;
}

int main(void)
{
    if (pipe(data) || pipe(alive))
        die("pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0)
        exit(child_main());
    close(data[1]);
    close(alive[0]);
    start_named(reader_main, NULL, "reader");
    wait_asleep(&reader_tid);
    return 0;
}
