/* A worker polls a data channel and a quit channel: it handles the data, and
 * stops when main closes the quit pipe's write end (POLLHUP on the read end). */
#include "victim.h"

#include <poll.h>

static int data[2], quit[2];

static void *worker_main(void *arg)
{
    (void)arg;
    int sum = 0;
    for (;;) {
        struct pollfd p[2] = {{.fd = data[0], .events = POLLIN}, {.fd = quit[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll", errno);
        }
        if (p[0].revents & POLLIN) {
            int v;
            if (read(data[0], &v, sizeof v) != (ssize_t)sizeof v)
                die("read", errno);
            sum += v;
            continue; /* drain the data before looking at quit */
        }
        if (p[1].revents & (POLLIN | POLLHUP))
            break;
    }
    return (void *)(intptr_t)sum;
}

int main(void)
{
    if (pipe(data) || pipe(quit))
        die("pipe", errno);
    pthread_t t = start_named(worker_main, NULL, "worker");
    for (int i = 1; i <= 4; i++)
        write_all(data[1], &i, sizeof i);
    close(quit[1]); /* quit: POLLHUP, data already written comes first */
    void *sum;
    pthread_join(t, &sum);
    if ((intptr_t)sum != 10)
        die("sum", EPROTO);
    close(data[1]);
    close(data[0]);
    close(quit[0]);
    return 0;
}
