/* A socketpair whose peer end went to another process by SCM_RIGHTS: main
 * reads its end, which the child writes after 2 s.  Main keeps its own copy of
 * the peer end (to hand it to more workers), so in this process the sending
 * side is open and the only thread is parked; the two ends of a socketpair are
 * different inodes, so main's end is open nowhere else.  What makes the wait
 * external is that the PEER of main's end (found through the kernel's
 * unix_diag) is held by the child.  The child is forked before the socketpair
 * exists, so it gets the end only through the socket.  Not a hang. */
#include "victim.h"

#include <sys/socket.h>
#include <sys/wait.h>

static void send_fd(int sock, int fd)
{
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &msg, 0) != 1)
        die("sendmsg", errno);
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &msg, 0) != 1)
        die("recvmsg", errno);
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    return fd;
}

int main(void)
{
    int ctl[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) != 0)
        die("socketpair", errno);
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        close(ctl[0]);
        int w = recv_fd(ctl[1]);
        sleep_ms(2000);
        write_all(w, "hello", 5);
        _exit(0);
    }
    close(ctl[1]);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair", errno);
    send_fd(ctl[0], sv[1]);
    char buf[16];
    ssize_t n;
    while ((n = read(sv[0], buf, sizeof buf)) < 0 && errno == EINTR)
        ;
    close(sv[0]);
    close(sv[1]);
    close(ctl[0]);
    int st;
    waitpid(child, &st, 0);
    printf("read %.*s from the child\n", (int)(n > 0 ? n : 0), buf);
    return 0;
}
