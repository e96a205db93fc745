/* fork + exec with the pipe closed properly: the child's stdout is the pipe's
 * write end (dup2), every other copy is closed before the exec, and the parent
 * closes its write end before reading to EOF.  Then the same with posix_spawn
 * and file actions. */
#include "victim.h"

#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* Reads FD to EOF into BUF (NUL-terminated), closes it and reaps PID. */
static int collect(int fd, pid_t pid, char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    if (n < 0)
        die("read", errno);
    buf[got] = '\0';
    close(fd);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid", errno);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int spawn_child(const char *self)
{
    int p[2];
    if (pipe(p))
        die("pipe", errno);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *args[] = {(char *)self, "child", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, environ);
    if (rc)
        die("posix_spawn", rc);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    char buf[128];
    rc = collect(p[0], pid, buf, sizeof buf);
    printf("parent read from the spawned child: %s", buf);
    return rc;
}

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
    int rc = collect(p[0], pid, buf, sizeof buf);
    printf("parent read: %s", buf);
    fflush(stdout);
    return rc ? rc : spawn_child(argv[0]);
}
