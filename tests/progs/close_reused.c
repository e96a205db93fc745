/* A stale fd closed twice after its number was reused (issue 15 E): main
 * closes the read end of a pipe, the opener thread opens a file and gets the
 * same number, and main closes its stale number again, which closes the
 * opener's file (its next read fails with EBADF). */
#include <fcntl.h>

#include "victim.h"

static int stale_fd, opened_fd = -1;
static volatile int sink;

static __attribute__((noinline)) void drop_pipe(void)
{
    close(stale_fd);
    sink++;
}

static __attribute__((noinline)) void drop_pipe_again(void)
{
    close(stale_fd); /* the bug under test: the number is the opener's now */
    sink += 2;       /* not the same code as drop_pipe: -O2 would fold the two */
}

static __attribute__((noinline)) void open_log(void)
{
    opened_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    sink++;
}

static void *opener_main(void *arg)
{
    (void)arg;
    open_log();
    return NULL;
}

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    stale_fd = p[0];
    drop_pipe();
    pthread_join(start_named(opener_main, NULL, "opener"), NULL);
    if (opened_fd != stale_fd) /* the lowest free number: the pipe's old one */
        die("open did not reuse the number", 0);
    drop_pipe_again();
    char c;
    if (read(opened_fd, &c, 1) != -1 || errno != EBADF)
        die("the opener's file survived", 0);
    close(p[1]);
    return 0;
}
