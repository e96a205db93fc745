/* The mirror of fork_keeps_writer: a forked child reads a pipe whose write end
 * only the parent holds (the child closed its own copy).  The parent never
 * writes: once the child sleeps in its read, the parent kills it and exits. */
#include "victim.h"

#include <signal.h>
#include <sys/wait.h>

static int data[2];

/* True when process PID's main thread sleeps in the kernel (state S). */
static int proc_asleep(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')');
    return s && s[1] == ' ' && s[2] == 'S';
}

static void child_reads(void)
{
    close(data[1]);
    char c;
    if (read(data[0], &c, 1) < 0) /* the parent's copy keeps it open: no EOF */
        die("read", errno);
    _exit(0);
}

int main(void)
{
    if (pipe(data))
        die("pipe", errno);
    int ready[2]; /* the child says it is about to read */
    if (pipe(ready))
        die("pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    if (pid == 0) {
        close(ready[0]);
        close(ready[1]); /* EOF on ready: the child is past its setup */
        child_reads();
    }
    close(data[0]);
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0)
        ;
    close(ready[0]);
    while (!proc_asleep(pid))
        sleep_ms(2);
    kill(pid, SIGKILL); /* bug under test: data[1] was never closed or written */
    while (waitpid(pid, NULL, 0) < 0)
        if (errno != EINTR)
            die("waitpid", errno);
    return 0;
}
