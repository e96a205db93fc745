/* A reader blocks on one end of a socketpair; main holds the other end and
 * never writes or closes it. */
#include "victim.h"

#include <sys/socket.h>

static int sv[2];
static volatile pid_t reader_tid;

static void *reader_main(void *arg)
{
    (void)arg;
    char buf[16];
    reader_tid = self_tid();
    if (recv(sv[1], buf, sizeof buf, 0) < 0)
        die("recv", errno);
    return NULL;
}

int main(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair", errno);
    start_named(reader_main, NULL, "reader");
    wait_asleep(&reader_tid);
    return 0;
}
