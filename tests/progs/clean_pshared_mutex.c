/* A process-shared mutex in shared memory, held by a forked child for a while:
 * the parent parks on it with every one of its threads blocked, and only the
 * child (another process) can release it.  The watchdog must leave the parent
 * alone (issue 13: a kill needs certainty); the program finishes as it does
 * natively.  The child's hold is longer than the watchdog's interval (that
 * delay only gives the watchdog its chance to be wrong). */
#include "victim.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

struct shared {
    pthread_mutex_t m;
    atomic_int held;
};

int main(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                            0);
    if (s == MAP_FAILED)
        die("mmap", errno);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &a);
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        pthread_mutex_lock(&s->m);
        atomic_store(&s->held, 1);
        sleep_ms(2000);
        pthread_mutex_unlock(&s->m);
        _exit(0);
    }
    while (!atomic_load(&s->held))
        sleep_ms(5);
    pthread_mutex_lock(&s->m); /* parks until the child unlocks */
    pthread_mutex_unlock(&s->m);
    int st;
    waitpid(child, &st, 0);
    printf("parent got the shared mutex; child status %d\n", WEXITSTATUS(st));
    return 0;
}
