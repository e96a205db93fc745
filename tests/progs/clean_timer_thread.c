/* timer_create(SIGEV_THREAD): at expiry glibc calls the function on a thread it
 * creates itself, outside the interposed pthread_create, and that thread
 * signals the cond main waits on.  Not a hang. */
#include "victim.h"

#include <signal.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int fired;

static void on_timer(union sigval v)
{
    (void)v;
    pthread_mutex_lock(&m);
    fired = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
}

int main(void)
{
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_timer};
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0)
        die("timer_create", errno);
    struct itimerspec its = {.it_value = {2, 0}};
    if (timer_settime(t, 0, &its, NULL) != 0)
        die("timer_settime", errno);
    pthread_mutex_lock(&m);
    while (!fired)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    timer_delete(t);
    printf("woken by the timer's thread\n");
    return 0;
}
