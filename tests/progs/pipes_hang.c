/* A global hang over two pipes: "ping" waits to read from one pipe, "pong"
 * from the other, and each would write to the pipe the other reads only after
 * its own read.  main joins ping.  Every thread is parked forever on in-process
 * channels: the watchdog must stop the process.  alarm() bounds the run when
 * nobody watches. */
#include "victim.h"

static int to_ping[2], to_pong[2];

static void *ping_main(void *arg)
{
    (void)arg;
    char c;
    if (read(to_ping[0], &c, 1) == 1)
        write_all(to_pong[1], &c, 1);
    return NULL;
}

static void *pong_main(void *arg)
{
    (void)arg;
    char c;
    if (read(to_pong[0], &c, 1) == 1)
        write_all(to_ping[1], &c, 1);
    return NULL;
}

int main(void)
{
    alarm(20);
    if (pipe(to_ping) || pipe(to_pong))
        die("pipe", errno);
    pthread_t ping = start_named(ping_main, NULL, "ping");
    start_named(pong_main, NULL, "pong");
    pthread_join(ping, NULL);
    return 1; /* unreachable */
}
