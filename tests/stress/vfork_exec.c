/* vfork + exec, vfork + _exit and posix_spawn from a multi-threaded program
 * while another thread is parked in read. */
#include <spawn.h>
#include <sys/wait.h>

#include "stress.h"

extern char **environ;
static int p[2];
static volatile pid_t tid;

static void *reader(void *arg)
{
    (void)arg;
    publish_tid(&tid);
    char c;
    return (void *)(long)read(p[0], &c, 1);
}

static int status_of(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid", errno);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* vfork in a function of its own: nothing of the caller's frame can be
 * clobbered by the child's run on the shared stack. */
static __attribute__((noinline)) void rounds(void)
{
    for (int i = 0; i < 5; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            char *argv[] = {"sh", "-c", "exit 5", NULL};
            execve("/bin/sh", argv, environ);
            _exit(127);
        }
        out("vfork+exec: %d", status_of(pid));
        pid = vfork();
        if (pid == 0)
            _exit(9);
        out("vfork+_exit: %d", status_of(pid));
        char *argv[] = {"sh", "-c", "echo spawned; exit 6", NULL};
        fflush(stdout);
        if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
            die("posix_spawn", errno);
        out("posix_spawn: %d", status_of(pid));
    }
}

int main(void)
{
    if (pipe(p))
        die("pipe", errno);
    pthread_t t = spawn(reader, NULL);
    await_blocked(await_tid(&tid), SYS_read);
    rounds();
    if (write(p[1], "x", 1) != 1)
        die("write", errno);
    void *r;
    pthread_join(t, &r);
    out("reader got %ld", (long)r);
    return 0;
}
