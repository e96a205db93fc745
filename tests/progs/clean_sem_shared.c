/* A semaphore shared with another process: main waits on it and is the only
 * thread, but a forked child posts it later.  The watcher must not take this
 * for "all threads blocked" (the park is flagged as wakeable from outside)
 * and must let the program finish.  The child's delay only has to outlast the
 * watcher's quiet interval for the test to mean something; it cannot make the
 * test fail.  alarm() bounds a hang. */
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "victim.h"

int main(void)
{
    alarm(20);
    sem_t *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        die("mmap", errno);
    if (sem_init(s, 1, 0))
        die("sem_init", errno);
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        sleep_ms(2500); /* longer than the watcher's quiet interval */
        sem_post(s);
        _exit(0);
    }
    while (sem_wait(s) == -1 && errno == EINTR)
        ;
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
        die("child", ECHILD);
    return 0;
}
