/* A futex another process wakes: the word is in a MAP_SHARED mapping and the
 * calls are not FUTEX_PRIVATE.  "waiter" waits on it and main joins waiter,
 * so every thread of the parent is parked; but a forked child sets the word
 * and wakes it after 2 s (longer than the watchdog's 1 s).  The wait is
 * external: the parent must not be stopped, and nothing is reported. */
#include <sys/mman.h>
#include <sys/wait.h>

#include "futex_util.h"

static uint32_t *word;

static void *waiter_main(void *arg)
{
    (void)arg;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, word, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

int main(void)
{
    word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (word == MAP_FAILED)
        die("mmap", errno);
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        sleep_ms(2000);
        __atomic_store_n(word, 1, __ATOMIC_RELEASE);
        syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
        _exit(0);
    }
    pthread_t t = start_named(waiter_main, NULL, "waiter");
    pthread_join(t, NULL);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
