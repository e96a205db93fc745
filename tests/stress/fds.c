/* Programs that close every fd (close_range, closefrom, a close loop) and one
 * that dup2's over the low fds (0, 1 and 2): the shim keeps no fd of its own
 * that such a program could close or overwrite. */
#include <sys/resource.h>

#include "stress.h"

static void *reader(void *arg)
{
    int fd = (int)(long)arg;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    return (void *)(long)n;
}

/* A pipe, a thread reading it, a write: the shim still records after the purge. */
static long round_trip(int rfd, int wfd)
{
    pthread_t t = spawn(reader, (void *)(long)rfd);
    if (write(wfd, "hello", 5) != 5)
        die("write", errno);
    void *r;
    pthread_join(t, &r);
    return (long)r;
}

static long fresh_round_trip(void)
{
    int p[2];
    if (pipe(p))
        die("pipe", errno);
    long r = round_trip(p[0], p[1]);
    close(p[0]);
    close(p[1]);
    return r;
}

static void closeall(void)
{
    int p[2];
    for (int i = 0; i < 4; i++)
        if (pipe(p))
            die("pipe", errno);
    out("close_range: %d", close_range(3, ~0u, 0));
    out("after close_range: %ld", fresh_round_trip());
    for (int i = 0; i < 4; i++)
        if (pipe(p))
            die("pipe", errno);
    closefrom(3);
    out("after closefrom: %ld", fresh_round_trip());
    for (int i = 0; i < 4; i++)
        if (pipe(p))
            die("pipe", errno);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int closed = 0;
    for (int fd = 3; fd < 1024 && (rlim_t)fd < rl.rlim_cur; fd++)
        closed += close(fd) == 0;
    out("close loop closed %d", closed);
    out("after close loop: %ld", fresh_round_trip());
}

static void dup2low(void)
{
    int p[2];
    if (pipe(p))
        die("pipe", errno);
    int saved_in = dup(0), saved_err = dup(2);
    /* stdin becomes the pipe's read end: a thread parks reading fd 0 */
    dup2(p[0], 0);
    out("fd 0 round trip: %ld", round_trip(0, p[1]));
    /* stderr becomes the pipe's write end, then is read back */
    dup2(p[1], 2);
    fprintf(stderr, "to-pipe");
    fflush(stderr);
    char buf[16] = {0};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    dup2(saved_err, 2);
    dup2(saved_in, 0);
    out("stderr through pipe: %zd %s", n, buf);
    /* both ends of a fresh pipe put on 0 and 2, closed over by dup2 again */
    int q[2];
    if (pipe(q))
        die("pipe", errno);
    dup2(q[0], 0);
    dup2(q[1], 2);
    close(q[0]);
    close(q[1]);
    out("dup'ed fds round trip: %ld", round_trip(0, 2));
    dup2(saved_err, 2);
    dup2(saved_in, 0);
    close(p[0]);
    close(p[1]);
    out("after dup2 games: %ld", fresh_round_trip());
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "closeall") == 0)
        closeall();
    else if (argc == 2 && strcmp(argv[1], "dup2") == 0)
        dup2low();
    else
        die("usage: fds closeall|dup2", EINVAL);
    return 0;
}
