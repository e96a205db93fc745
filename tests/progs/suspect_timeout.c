/* A suspected hang that outlasts the run's bound: the only thread waits on a
 * semaphore that only a SIGALRM handler posts, 8 s from now.  The watcher
 * cannot be sure (the handler will run), so it only prints a "suspected hang";
 * timeout=3 in the .expect (`parkwatch run --timeout`) ends the run first.
 * Natively the program ends after 8 s. */
#include "victim.h"

#include <semaphore.h>
#include <signal.h>
#include <sys/time.h>

static sem_t sem;

static void on_alarm(int sig)
{
    (void)sig;
    sem_post(&sem);
}

int main(void)
{
    sem_init(&sem, 0, 0);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {8, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (sem_wait(&sem) != 0 && errno == EINTR)
        ;
    printf("posted after 8 s\n");
    return 0;
}
