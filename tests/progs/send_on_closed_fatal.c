/* Writes into a pipe whose read end is already closed, with SIGPIPE left at
 * its default action: the process dies of SIGPIPE inside write(), so the shim
 * must note the misuse before the call. */
#include "victim.h"

#include <signal.h>

static void send_result(int fd)
{
    char msg[] = "result";
    write(fd, msg, sizeof msg); /* killed here */
    die("write to a pipe without reader should raise SIGPIPE", errno);
}

int main(void)
{
    int fds[2];
    signal(SIGPIPE, SIG_DFL);
    if (pipe(fds))
        die("pipe", errno);
    close(fds[0]);
    send_result(fds[1]); /* bug under test */
    return 0;
}
