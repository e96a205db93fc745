/* Writes into a pipe whose read end is already closed: EPIPE (SIGPIPE is
 * ignored so the process survives to exit normally). */
#include "victim.h"

#include <signal.h>

static void send_result(int fd)
{
    char msg[] = "result";
    if (write(fd, msg, sizeof msg) != -1 || errno != EPIPE)
        die("write to a pipe without reader should fail with EPIPE", errno);
}

int main(void)
{
    int fds[2];
    signal(SIGPIPE, SIG_IGN);
    if (pipe(fds))
        die("pipe", errno);
    close(fds[0]);
    send_result(fds[1]); /* bug under test */
    close(fds[1]);
    return 0;
}
