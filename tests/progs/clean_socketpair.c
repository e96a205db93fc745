/* A request/reply conversation over a socketpair: main sends three requests
 * (write) and shuts down its sending side; the server reads them (recv) and
 * answers each (sendmsg) and, at EOF, shuts down its own; main reads the
 * replies (recvmsg).  Both sides see EOF, everything is closed and joined. */
#include "victim.h"

#include <sys/socket.h>

static int sv[2];

static void *server_main(void *arg)
{
    (void)arg;
    int req;
    ssize_t n;
    while ((n = recv(sv[1], &req, sizeof req, MSG_WAITALL)) == (ssize_t)sizeof req) {
        int rep = req * 2;
        struct iovec iov = {&rep, sizeof rep};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        if (sendmsg(sv[1], &m, 0) != (ssize_t)sizeof rep)
            die("sendmsg", errno);
    }
    if (n != 0)
        die("recv", errno);
    shutdown(sv[1], SHUT_WR);
    return NULL;
}

int main(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair", errno);
    pthread_t t = start_named(server_main, NULL, "server");
    for (int i = 1; i <= 3; i++)
        write_all(sv[0], &i, sizeof i);
    shutdown(sv[0], SHUT_WR);
    int rep, sum = 0;
    ssize_t n;
    struct iovec iov = {&rep, sizeof rep};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    while ((n = recvmsg(sv[0], &m, MSG_WAITALL)) == (ssize_t)sizeof rep)
        sum += rep;
    if (n != 0 || sum != 12)
        die("replies", n < 0 ? errno : EPROTO);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    printf("sum %d\n", sum);
    return 0;
}
