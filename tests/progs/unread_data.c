/* Sends 100 bytes into a pipe that nobody reads, closes the write end, and
 * leaves the read end open at exit. */
#include "victim.h"

int main(void)
{
    int fds[2];
    char buf[100];
    memset(buf, 'u', sizeof buf);
    if (pipe(fds))
        die("pipe", errno);
    write_all(fds[1], buf, sizeof buf);
    close(fds[1]);
    return 0; /* bug under test: fds[0] still open, its data never read */
}
