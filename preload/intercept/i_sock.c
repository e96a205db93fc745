/* Channel objects beyond pipes: socketpair (each direction is a channel),
 * shutdown (a shut side is closed for every fd of it at once) and eventfd (one
 * object: a write sends, a read receives).  Reads and writes on them go through
 * the read/recv/write/send workers of i_chan.c. */
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "chan.h"
#include "fdtab.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "tls.h"

PW_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    if (!pw_on())
        return PW_REAL(socketpair)(domain, type, protocol, sv);
    int rc = PW_REAL(socketpair)(domain, type, protocol, sv);
    if (rc != 0)
        return rc;
    int err = errno;
    pw_tls.guard++;
    pw_chan_create_pair(sv, (type & SOCK_NONBLOCK) != 0, pw_stack_capture());
    pw_tls.guard--;
    errno = err;
    return rc;
}

/* The sides of a socket's channels that SHUT_RD / SHUT_WR end.  SHUT_RD ends
 * the direction this end receives on (the peer's sends then fail with EPIPE);
 * SHUT_WR ends the one it sends on (the peer reads EOF). */
static unsigned shut_sides(int how)
{
    switch (how) {
    case SHUT_RD:
        return 1u << PW_SIDE_RECV;
    case SHUT_WR:
        return 1u << PW_SIDE_SEND;
    case SHUT_RDWR:
        return 1u << PW_SIDE_RECV | 1u << PW_SIDE_SEND;
    default:
        return 0;
    }
}

PW_EXPORT int shutdown(int fd, int how)
{
    if (!pw_on())
        return PW_REAL(shutdown)(fd, how);
    uint64_t e = pw_fd_get(fd);
    int rc = PW_REAL(shutdown)(fd, how);
    if (rc != 0 || !(e & PW_FD_LIVE) || !(e & PW_FD_PAIR))
        return rc;
    int err = errno;
    pw_tls.guard++;
    /* the SHUT_RD direction is the one this fd receives on: its receive side */
    pw_chan_shutdown(fd, e, shut_sides(how));
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int eventfd(unsigned int initval, int flags)
{
    if (!pw_on())
        return PW_REAL(eventfd)(initval, flags);
    int fd = PW_REAL(eventfd)(initval, flags);
    if (fd < 0)
        return fd;
    int err = errno;
    pw_tls.guard++;
    pw_chan_create_one(PW_OBJ_EVENTFD, fd, 1u << PW_SIDE_RECV | 1u << PW_SIDE_SEND,
                       (flags & EFD_NONBLOCK) != 0, NULL, pw_stack_capture());
    pw_tls.guard--;
    errno = err;
    return fd;
}
