/* fork from a multi-threaded program while other threads hold locks and are
 * parked (one in read holding a mutex, one in a cond wait), from main and from
 * a worker thread.  Each child checks the inherited lock state, runs threads,
 * a pipe and a mutex of its own, and exits with its own status. */
#include <sys/wait.h>

#include "stress.h"

#define FORKS 12

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cvm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, wake[2];
static volatile pid_t holder_tid, waiter_tid;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held);
    publish_tid(&holder_tid);
    char c;
    if (read(wake[0], &c, 1) != 1)
        die("read", errno);
    pthread_mutex_unlock(&held);
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cvm);
    publish_tid(&waiter_tid);
    while (!go)
        pthread_cond_wait(&cv, &cvm);
    pthread_mutex_unlock(&cvm);
    return NULL;
}

static void *child_worker(void *arg)
{
    int *p = arg;
    char buf[8];
    ssize_t n = read(p[0], buf, sizeof buf);
    return (void *)(long)n;
}

/* In the child: only the forking thread exists; the lock a vanished thread
 * held stays held (as without the shim), everything else works. */
static void child(int i)
{
    int busy = pthread_mutex_trylock(&held);
    int p[2];
    if (pipe(p))
        die("pipe", errno);
    pthread_t t = spawn(child_worker, p);
    if (write(p[1], "abc", 3) != 3)
        die("write", errno);
    void *r;
    pthread_join(t, &r);
    close(p[0]);
    close(p[1]);
    pthread_mutex_lock(&cvm);
    pthread_mutex_unlock(&cvm);
    out("child %d: trylock(held)=%s worker read %ld", i, busy == EBUSY ? "EBUSY" : strerror(busy),
        (long)r);
    exit(i + 1);
}

static void fork_one(int i)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0)
        child(i);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid", errno);
    out("parent: child %d exited %d", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void *forker(void *arg)
{
    fork_one((int)(long)arg);
    return NULL;
}

int main(void)
{
    if (pipe(wake))
        die("pipe", errno);
    pthread_t h = spawn(holder, NULL), w = spawn(waiter, NULL);
    await_blocked(await_tid(&holder_tid), SYS_read);
    await_blocked(await_tid(&waiter_tid), SYS_futex);
    for (int i = 0; i < FORKS; i++) {
        if (i % 3 == 2)
            pthread_join(spawn(forker, (void *)(long)i), NULL);
        else
            fork_one(i);
    }
    if (write(wake[1], "x", 1) != 1)
        die("write", errno);
    pthread_mutex_lock(&cvm);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&cvm);
    pthread_join(h, NULL);
    pthread_join(w, NULL);
    out("parent: done");
    return 0;
}
