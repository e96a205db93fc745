/* A suspected hang that never resolves: the only thread waits on a semaphore
 * while a periodic timer keeps a SIGALRM handler armed that never posts it.
 * The watcher cannot be sure (the handler could post), so it only prints a
 * "suspected hang"; `parkwatch run --timeout` (timeout= in the .expect) ends
 * the run. */
#include "victim.h"

#include <semaphore.h>
#include <signal.h>
#include <sys/time.h>

static sem_t sem;
static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
}

int main(void)
{
    sem_init(&sem, 0, 0);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_interval = {60, 0}, .it_value = {60, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    sem_wait(&sem);
    printf("not reached\n");
    return 0;
}
