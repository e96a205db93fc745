/* Threads wait with infinite timeouts on sets of channels nobody ever writes
 * to: poll on two pipes, select on one, epoll_wait on an epoll set built with
 * epoll_ctl, ppoll with a signal mask.  A fifth waits with a long but finite
 * timeout: a timed park, never "forever". */
/* Optimised builds go through the fortified entry points (__poll_chk,
 * __recv_chk), which the shim must follow too. */
#if defined(__OPTIMIZE__) && !defined(_FORTIFY_SOURCE)
#define _FORTIFY_SOURCE 2
#endif
#include "victim.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

static int a[2], b[2], c[2], d[2];
static int ep;
static volatile pid_t tids[5];

static void *poller_main(void *arg)
{
    (void)arg;
    struct pollfd p[2] = {{.fd = a[0], .events = POLLIN}, {.fd = b[0], .events = POLLIN}};
    volatile nfds_t n = 2; /* not a constant: the fortified build checks it at run time */
    tids[0] = self_tid();
    if (poll(p, n, -1) < 0)
        die("poll", errno);
    return NULL;
}

static void *selecter_main(void *arg)
{
    (void)arg;
    fd_set r;
    FD_ZERO(&r);
    FD_SET(c[0], &r);
    tids[1] = self_tid();
    if (select(c[0] + 1, &r, NULL, NULL, NULL) < 0)
        die("select", errno);
    return NULL;
}

static void *epoller_main(void *arg)
{
    (void)arg;
    struct epoll_event ev;
    tids[2] = self_tid();
    if (epoll_wait(ep, &ev, 1, -1) < 0)
        die("epoll_wait", errno);
    return NULL;
}

static void *ppoller_main(void *arg)
{
    (void)arg;
    struct pollfd p = {.fd = b[0], .events = POLLIN};
    sigset_t none;
    sigemptyset(&none);
    tids[3] = self_tid();
    if (ppoll(&p, 1, NULL, &none) < 0)
        die("ppoll", errno);
    return NULL;
}

static void *timed_main(void *arg)
{
    (void)arg;
    struct pollfd p = {.fd = c[0], .events = POLLIN};
    tids[4] = self_tid();
    if (poll(&p, 1, 600000) < 0) /* ten minutes: outlives the process */
        die("poll", errno);
    return NULL;
}

int main(void)
{
    if (pipe(a) || pipe(b) || pipe(c) || pipe(d))
        die("pipe", errno);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1", errno);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = d[0]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, d[0], &ev))
        die("epoll_ctl", errno);
    start_named(poller_main, NULL, "poller");
    start_named(selecter_main, NULL, "selecter");
    start_named(epoller_main, NULL, "epoller");
    start_named(ppoller_main, NULL, "ppoller");
    start_named(timed_main, NULL, "timed");
    for (int i = 0; i < 5; i++)
        wait_asleep(&tids[i]);
    return 0;
}
