/* fork + exec with the pipe closed properly: the child's stdout is the pipe's
 * write end (dup2), every other copy is closed before the exec, and the parent
 * closes its write end before reading to EOF. */
#include "victim.h"

#include <sys/wait.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("hello from the child\n");
        return 0;
    }
    int p[2];
    if (pipe(p))
        die("pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0) {
        if (dup2(p[1], STDOUT_FILENO) < 0)
            die("dup2", errno);
        close(p[0]);
        close(p[1]);
        char *args[] = {argv[0], "child", NULL};
        execv("/proc/self/exe", args);
        die("execv", errno);
    }
    close(p[1]);
    char buf[128];
    size_t got = 0;
    ssize_t n;
    while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    if (n < 0)
        die("read", errno);
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid", errno);
    buf[got] = '\0';
    printf("parent read: %s", buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
