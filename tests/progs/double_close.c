/* Closes the write end of a pipe twice.  The second close fails with EBADF,
 * harmless here, but in a threaded program the fd number may already belong
 * to something else by then. */
#include "victim.h"

static void close_writer(int fd)
{
    close(fd);
}

int main(void)
{
    int fds[2];
    if (pipe(fds))
        die("pipe", errno);
    close_writer(fds[1]);
    close_writer(fds[1]); /* bug under test */
    close(fds[0]);
    /* a new pipe reuses both numbers: closing them now is legitimate, not a
     * double close */
    int again[2];
    if (pipe(again))
        die("pipe", errno);
    close(again[0]);
    close(again[1]);
    return 0;
}
