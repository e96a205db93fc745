/* A reader blocks on one end of a socketpair; main holds the other end and
 * never writes or closes it. */
/* Optimised builds go through the fortified entry points (__poll_chk,
 * __recv_chk), which the shim must follow too. */
#if defined(__OPTIMIZE__) && !defined(_FORTIFY_SOURCE)
#define _FORTIFY_SOURCE 2
#endif
#include "victim.h"

#include <sys/socket.h>

static int sv[2];
static volatile pid_t reader_tid;

static void *reader_main(void *arg)
{
    (void)arg;
    char buf[16];
    volatile size_t len = sizeof buf; /* not a constant: checked at run time */
    reader_tid = self_tid();
    if (recv(sv[1], buf, len, 0) < 0)
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
