/* An exchange that finished and was forgotten: a request goes through a pipe,
 * the writer closes its end, the reader reads it all and sees EOF, and the read
 * end is never closed: an fd-leak (a warning). */
#include "victim.h"

static __attribute__((noinline)) int make_request_pipe(int fds[2])
{
    return pipe(fds);
}

int main(void)
{
    int fds[2];
    char buf[16];
    if (make_request_pipe(fds))
        die("pipe", errno);
    write_all(fds[1], "request", 7);
    close(fds[1]);
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != 7)
        die("short read", 0);
    return 0; /* bug under test: fds[0] is never closed */
}
