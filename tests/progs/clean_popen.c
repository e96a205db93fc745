/* popen(): glibc's internal spawn (not the interposed posix_spawn) starts the
 * child, which inherits a pipe's write end this process then closes.  The only
 * thread reads the pipe; its writer is the popen child, another process the
 * shim never saw get the end.  Not a hang. */
#include "victim.h"

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "sleep 2; echo from-the-child >&%d", p[1]);
    FILE *f = popen(cmd, "r");
    if (!f)
        die("popen", errno);
    close(p[1]);
    char line[64] = "";
    ssize_t n;
    while ((n = read(p[0], line, sizeof line - 1)) < 0 && errno == EINTR)
        ;
    line[n > 0 ? n : 0] = '\0';
    close(p[0]);
    int st = pclose(f);
    printf("popen's child said %s", line);
    return st == 0 ? 0 : 1;
}
