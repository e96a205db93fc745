/* A cond in shared memory that a forked child signals later: the parent waits
 * on it, every thread of the parent is parked, and only another process can
 * wake it.  Not a hang: the watchdog must not stop the parent. */
#include "victim.h"

#include <sys/mman.h>
#include <sys/wait.h>

struct shared {
    pthread_mutex_t m;
    pthread_cond_t c;
    int ready;
};

int main(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                            0);
    if (s == MAP_FAILED)
        die("mmap", errno);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&s->c, &ca);
    pid_t child = fork();
    if (child < 0)
        die("fork", errno);
    if (child == 0) {
        sleep_ms(2000);
        pthread_mutex_lock(&s->m);
        s->ready = 1;
        pthread_cond_signal(&s->c);
        pthread_mutex_unlock(&s->m);
        _exit(0);
    }
    pthread_mutex_lock(&s->m);
    while (!s->ready)
        pthread_cond_wait(&s->c, &s->m);
    pthread_mutex_unlock(&s->m);
    int st;
    waitpid(child, &st, 0);
    printf("parent woken by its child; child status %d\n", WEXITSTATUS(st));
    return 0;
}
