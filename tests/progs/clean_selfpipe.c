/* The self-pipe trick: a SIGALRM handler writes a byte into a pipe, and a
 * waiter parked in poll on the read end wakes up, reads it and returns.  The
 * signal comes from outside (an alarm), while main waits in join.  Every thread
 * is then parked on in-process objects for a while, yet a signal can still
 * wake them: the pipe's write end is non-blocking (the self-pipe convention),
 * so this is not "all threads blocked" and the watchdog must leave the process
 * alone.  The alarm is longer than the watchdog's interval (that delay only
 * gives the watchdog its chance; the test passes, or rightly fails, either
 * way). */
#include "victim.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

static int sp[2];
static volatile pid_t waiter_tid;

static void on_signal(int sig)
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
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGALRM);
    /* only main takes the signal: the waiter is started with it blocked */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    pthread_t t = start_named(waiter_main, NULL, "waiter");
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    signal(SIGALRM, on_signal);
    wait_asleep(&waiter_tid);
    alarm(2); /* SIGALRM: from the kernel, not from any thread of ours */
    pthread_join(t, NULL);
    close(sp[0]);
    close(sp[1]);
    return 0;
}
