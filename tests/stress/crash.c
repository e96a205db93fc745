/* The process dies of a signal while threads are parked: "abort" calls
 * abort(), "segv" dereferences a null pointer.  The trace must still be
 * readable and show the parked threads. */
#include <signal.h>

#include "stress.h"

static int never[2];
static pthread_mutex_t cvm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile pid_t tids[2];

static void *stuck_reader(void *arg)
{
    (void)arg;
    publish_tid(&tids[0]);
    char c;
    return (void *)(long)read(never[0], &c, 1);
}

static void *stuck_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cvm);
    publish_tid(&tids[1]);
    for (;;)
        pthread_cond_wait(&cv, &cvm);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: crash abort|segv", EINVAL);
    if (pipe(never))
        die("pipe", errno);
    pthread_t a = spawn(stuck_reader, NULL), b = spawn(stuck_waiter, NULL);
    pthread_setname_np(a, "stuck_reader");
    pthread_setname_np(b, "stuck_waiter");
    await_blocked(await_tid(&tids[0]), SYS_read);
    await_blocked(await_tid(&tids[1]), SYS_futex);
    out("crashing: %s", argv[1]);
    if (strcmp(argv[1], "abort") == 0)
        abort();
    volatile int *nowhere = NULL;
    return *nowhere;
}
