/* A thread whose FIRST park goes through a frame without unwind information
 * (noinfo_lock, noinfo_park_lib.c): "waiter" calls noinfo_lock from
 * waiter_main, and parks there on a mutex that "holder" owns while it reads a
 * pipe that is never written.  The report must show waiter_main under
 * noinfo_lock: the first stacks of a thread once stopped at such a frame,
 * where later ones walked on (issue 14).  Twice: in a fork child (where the
 * shim does not use libunwind), then in the parent. */
#include <sys/wait.h>
#include "victim.h"

#include <semaphore.h>

int noinfo_lock(pthread_mutex_t *m);

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static int never_written[2];
static sem_t holding;

static void *holder_main(void *arg)
{
    (void)arg;
    char c;
    pthread_mutex_lock(&shared);
    sem_post(&holding);
    /* Blocks forever with the mutex held: the root of the waiter's chain. */
    if (read(never_written[0], &c, 1) == 1)
        pthread_mutex_unlock(&shared);
    return NULL;
}

/* noinline and a use of the result: a real frame of its own, never a tail
 * call, at -O2 too */
__attribute__((noinline)) static void *waiter_main(void *arg)
{
    (void)arg;
    int rc = noinfo_lock(&shared);
    __asm__ volatile("" ::: "memory");
    return rc == 0 ? NULL : arg;
}

static void scenario(void)
{
    if (pipe(never_written))
        die("pipe", errno);
    sem_init(&holding, 0, 0);
    start_named(holder_main, NULL, "holder");
    while (sem_wait(&holding) == -1 && errno == EINTR)
        ;
    start_named(waiter_main, NULL, "waiter");
    settle();
}

int main(void)
{
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        scenario();
        exit(0); /* its threads stay parked: leaks, as in the parent */
    }
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("child", ECHILD);
    scenario();
    return 0;
}
