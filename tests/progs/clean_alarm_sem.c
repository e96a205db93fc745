/* A semaphore posted from a SIGALRM handler (alarm(2), then sem_wait): the
 * only thread is parked on a sem nobody in the process posts, yet the armed
 * timer will run the handler.  Not a hang: the watchdog must not stop it. */
#include "victim.h"

#include <semaphore.h>
#include <signal.h>

static sem_t sem;

static void on_alarm(int sig)
{
    (void)sig;
    sem_post(&sem); /* async-signal-safe */
}

int main(void)
{
    sem_init(&sem, 0, 0);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(2);
    while (sem_wait(&sem) != 0 && errno == EINTR)
        ;
    printf("posted by the alarm handler\n");
    return 0;
}
