/* A pipe written by an io_uring request linked to a 2 s timeout: the only
 * thread reads the pipe, whose write end only it holds, and no interposed call
 * will ever write it; the kernel does, on the ring's behalf.  The watcher sees
 * the io_uring instance among the fds and must not stop the process. */
#include "victim.h"

#include <liburing.h>

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    struct io_uring ring;
    int rc = io_uring_queue_init(4, &ring, 0);
    if (rc < 0)
        die("io_uring_queue_init", -rc);
    struct __kernel_timespec ts = {.tv_sec = 2};
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    sqe->flags |= IOSQE_IO_HARDLINK; /* the write runs when the timeout expires (-ETIME) */
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_write(sqe, p[1], "ring", 4, 0);
    if ((rc = io_uring_submit(&ring)) != 2)
        die("io_uring_submit", rc < 0 ? -rc : EIO);
    char buf[8];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < 2; i++) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&ring, &cqe) == 0)
            io_uring_cqe_seen(&ring, cqe);
    }
    io_uring_queue_exit(&ring);
    close(p[0]);
    close(p[1]);
    printf("read %.*s from the ring\n", (int)(n > 0 ? n : 0), buf);
    return 0;
}
