/* The self-pipe trick: a SIGUSR1 handler writes a byte into a pipe, and a
 * waiter parked in poll on the read end wakes up, reads it and returns. */
#include "victim.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

static int sp[2];
static volatile pid_t waiter_tid;

static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    ssize_t n = write(sp[1], "s", 1);
    (void)n;
    errno = saved;
}

static void *waiter_main(void *arg)
{
    (void)arg;
    struct pollfd p = {.fd = sp[0], .events = POLLIN};
    waiter_tid = self_tid();
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            die("poll", errno);
    char c;
    if (read(sp[0], &c, 1) != 1)
        die("read", errno);
    return NULL;
}

int main(void)
{
    if (pipe2(sp, O_CLOEXEC))
        die("pipe2", errno);
    if (fcntl(sp[1], F_SETFL, O_NONBLOCK))
        die("fcntl", errno);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    /* only main takes the signal: the waiter is started with it blocked */
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_t t = start_named(waiter_main, NULL, "waiter");
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    signal(SIGUSR1, on_usr1);
    wait_asleep(&waiter_tid);
    raise(SIGUSR1);
    pthread_join(t, NULL);
    close(sp[0]);
    close(sp[1]);
    return 0;
}
