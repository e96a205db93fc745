/* fd numbers reused on purpose: a write end moved to a fixed number with dup2,
 * a dup2 onto a live channel fd (which closes it silently), and a new pipe
 * that gets the numbers of closed ones, its write end moved with F_DUPFD and
 * both ends closed by close_range.  Every close is a first close. */
#include "victim.h"

#include <fcntl.h>

#define FIXED 20

static int rd;

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    ssize_t n;
    while ((n = read(rd, &c, 1)) > 0)
        ;
    if (n < 0)
        die("read", errno);
    return NULL;
}

int main(void)
{
    int a[2], b[2], c[2];
    if (pipe(a) || pipe(b))
        die("pipe", errno);
    if (dup2(a[1], FIXED) != FIXED) /* the write end also at FIXED */
        die("dup2", errno);
    close(a[1]);
    rd = a[0];
    pthread_t t = start_named(reader_main, NULL, "reader");
    write_all(FIXED, "xyz", 3);
    if (dup2(b[1], FIXED) != FIXED) /* closes a's last write end: reader sees EOF */
        die("dup2", errno);
    pthread_join(t, NULL);
    close(a[0]);
    close(FIXED);
    close(b[1]);
    close(b[0]);
    if (pipe(c)) /* reuses closed numbers */
        die("pipe", errno);
    int d = fcntl(c[1], F_DUPFD_CLOEXEC, 30); /* the write end moves up */
    if (d < 30)
        die("fcntl", errno);
    close(c[1]);
    write_all(d, "!", 1);
    char ch;
    if (read(c[0], &ch, 1) != 1)
        die("read", errno);
    /* close_range closes channel fds too: both ends, in two ranges */
    if (close_range((unsigned)c[0], (unsigned)c[0], 0) || close_range((unsigned)d, ~0u, 0))
        die("close_range", errno);
    return 0;
}
