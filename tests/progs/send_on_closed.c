/* Writes into a pipe whose read end is already closed: EPIPE (SIGPIPE is
 * ignored so the process survives to exit normally).  Then the same on a
 * socketpair whose peer end is closed, with send(MSG_NOSIGNAL). */
#include "victim.h"

#include <signal.h>
#include <sys/socket.h>

static void send_result(int fd)
{
    char msg[] = "result";
    if (write(fd, msg, sizeof msg) != -1 || errno != EPIPE)
        die("write to a pipe without reader should fail with EPIPE", errno);
}

static void send_reply(int fd)
{
    char msg[] = "reply";
    if (send(fd, msg, sizeof msg, MSG_NOSIGNAL) != -1 || errno != EPIPE)
        die("send to a closed peer should fail with EPIPE", errno);
}

int main(void)
{
    int sv[2];
    int fds[2];
    signal(SIGPIPE, SIG_IGN);
    if (pipe(fds))
        die("pipe", errno);
    close(fds[0]);
    send_result(fds[1]); /* bug under test */
    close(fds[1]);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair", errno);
    close(sv[1]);
    send_reply(sv[0]); /* bug under test */
    close(sv[0]);
    return 0;
}
