/* A self-pipe whose write end is blocking, written by a SIGALRM handler: the
 * only thread reads the pipe, which no thread writes.  Unlike clean_selfpipe
 * the write end is not O_NONBLOCK, so the self-pipe convention does not say
 * "a handler may write it": the armed timer and the installed handler do.  Not
 * a hang. */
#include "victim.h"

#include <signal.h>

static int p[2];

static void on_alarm(int sig)
{
    (void)sig;
    int err = errno;
    ssize_t w = write(p[1], "!", 1);
    (void)w;
    errno = err;
}

int main(void)
{
    if (pipe(p) != 0)
        die("pipe", errno);
    signal(SIGALRM, on_alarm);
    alarm(2);
    char c;
    ssize_t n;
    while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    close(p[1]);
    printf("read %zd byte from the handler: %c\n", n, c);
    return 0;
}
