/* A thread blocked in a call the shim does not model: a blocking read on a
 * FIFO that the program made and opened itself: "fiforeader" sits in read()
 * on it.
 *
 *   fifo_block        main exits after the threads are blocked: the report
 *                     must show fiforeader blocked in read(fd N: <fifo>) with
 *                     its stack, and must not say "no findings" as if all
 *                     were clear.  A SIGCHLD handler prints what it sees:
 *                     the program has no child, so natively it never runs,
 *                     and the shim's exit snapshot (a CLI run from the exit
 *                     path) must not make it run either.
 *   fifo_block hold   two "pipeworker" threads also park on a pipe (modelled)
 *                     with the same stack; main prints "ready" and waits in
 *                     pause() until killed, for `parkwatch stack` and
 *                     `report --pid`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int task_pipe[2];
static int fifo_fd = -1;

static void *pipe_worker(void *arg)
{
    (void)arg;
    char c;
    while (read(task_pipe[0], &c, 1) > 0)
        ;
    return NULL;
}

static void __attribute__((noinline)) wait_for_fifo_data(void)
{
    char buf[64];
    /* nobody ever writes: blocks for good */
    if (read(fifo_fd, buf, sizeof(buf)) < 0)
        perror("read");
}

static void *fifo_reader(void *arg)
{
    (void)arg;
    wait_for_fifo_data();
    return NULL;
}

/* Never runs: the program starts no child.  Says so if it does, and whether
 * its wait() could see (and reap) somebody else's child. */
static void on_sigchld(int sig)
{
    (void)sig;
    int err = errno, st;
    static const char got[] = "SIGCHLD received\n", reaped[] = "a child was reaped\n";
    if (write(1, got, sizeof got - 1) < 0) {
    }
    if (waitpid(-1, &st, WNOHANG) > 0 && write(1, reaped, sizeof reaped - 1) < 0) {
    }
    errno = err;
}

int main(int argc, char **argv)
{
    int hold = argc > 1 && strcmp(argv[1], "hold") == 0;
    char path[] = "/tmp/pw-fifo-XXXXXX";
    if (!mkdtemp(path))
        return 1;
    char fifo[sizeof(path) + 8];
    snprintf(fifo, sizeof(fifo), "%s/fifo", path);
    if (mkfifo(fifo, 0600) < 0 || pipe(task_pipe) < 0)
        return 1;
    /* O_RDWR: the open does not wait for a writer, the read still blocks */
    fifo_fd = open(fifo, O_RDWR);
    unlink(fifo);
    rmdir(path);
    if (fifo_fd < 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    pthread_t w[2], r;
    for (int i = 0; i < 2 && hold; i++) {
        pthread_create(&w[i], NULL, pipe_worker, NULL);
        pthread_setname_np(w[i], "pipeworker");
    }
    pthread_create(&r, NULL, fifo_reader, NULL);
    pthread_setname_np(r, "fiforeader");
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    if (!hold)
        return 0;
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
