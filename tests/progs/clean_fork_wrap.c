/* fork, then the parent wraps its ring many times before it writes 10000 bytes
 * into a pipe the child reads to EOF (the shape of rsync's and of a Python
 * script's fork-then-write).  The fork event is long gone from the parent's
 * ring by then: the channel's record must still say the child holds its ends,
 * so there is no channel-unread-data and no fd-leak. */
#include <sys/wait.h>

#include "victim.h"
#include "wrap_busy.h"

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0) {
        close(p[1]);
        char buf[4096];
        long total = 0;
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) > 0)
            total += n;
        close(p[0]);
        _exit(total == 10000 ? 0 : 1);
    }
    close(p[0]);
    wrap_ring();
    char buf[10000];
    memset(buf, 'd', sizeof buf);
    if (write(p[1], buf, sizeof buf) != (ssize_t)sizeof buf)
        die("write", errno);
    close(p[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid", errno);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}
