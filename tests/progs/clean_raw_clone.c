/* A thread created with raw clone(), which the shim never sees start: it
 * writes the pipe the main thread reads.  Only the kernel knows it exists
 * (/proc/PID/task), so every thread the shim knows is parked, yet the process
 * is not stuck.  The clone thread makes raw system calls only: it shares the
 * main thread's TLS (no CLONE_SETTLS), so it must not touch errno or libc
 * state. */
#include "victim.h"

#include <sched.h>
#include <signal.h>

static int p[2];
static char stack[64 * 1024] __attribute__((aligned(16)));

static int raw_thread(void *arg)
{
    (void)arg;
    struct timespec ts = {2, 0};
    syscall(SYS_nanosleep, &ts, NULL);
    syscall(SYS_write, p[1], "!", 1);
    syscall(SYS_exit, 0);
    return 0;
}

int main(void)
{
    if (pipe(p) != 0)
        die("pipe", errno);
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(raw_thread, stack + sizeof stack, flags, NULL) < 0)
        die("clone", errno);
    char c;
    ssize_t n;
    while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    close(p[1]);
    printf("read %zd byte from the raw clone thread\n", n);
    return 0;
}
