/* A pipe's write end passed to another process with SCM_RIGHTS, then closed
 * here: the reader waits on a pipe whose every write end in this process is
 * closed, and the only writer is another process (found by the pipe's inode in
 * its /proc/N/fd).  The child is forked before the pipe exists, so it gets the
 * end only through the socket.  Not a hang. */
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
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair", errno);
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        close(sv[0]);
        int w = recv_fd(sv[1]);
        sleep_ms(2000);
        write_all(w, "hello", 5);
        _exit(0);
    }
    close(sv[1]);
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    send_fd(sv[0], p[1]);
    close(p[1]);
    char buf[16];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    close(sv[0]);
    int st;
    waitpid(child, &st, 0);
    printf("read %.*s from the child\n", (int)(n > 0 ? n : 0), buf);
    return 0;
}
