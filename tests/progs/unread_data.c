/* Sends 100 bytes into a pipe that nobody reads, closes the write end, and
 * leaves the read end open at exit.  The same with a socketpair (5 bytes into
 * an end that is then closed, the other end left open) and with a message
 * queue (2 messages, then unlinked and closed: they are gone). */
#include "victim.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/socket.h>

int main(void)
{
    int fds[2], sv[2];
    char buf[100];
    memset(buf, 'u', sizeof buf);
    if (pipe(fds))
        die("pipe", errno);
    write_all(fds[1], buf, sizeof buf);
    close(fds[1]);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair", errno);
    write_all(sv[0], buf, 5);
    close(sv[1]);

    char name[64];
    snprintf(name, sizeof name, "/pw-unread-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 16};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (q == (mqd_t)-1)
        die("mq_open", errno);
    if (mq_send(q, "one", 3, 0) || mq_send(q, "two", 3, 0))
        die("mq_send", errno);
    mq_unlink(name);
    mq_close(q);
    return 0; /* bug under test: fds[0] and sv[0] still open, data never read */
}
