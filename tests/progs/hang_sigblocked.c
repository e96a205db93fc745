/* A true hang with no futex and every signal blocked: two threads each read
 * the pipe the other would write, after blocking every signal.  A SIGALRM
 * handler is installed and an alarm armed, but no thread can take the signal,
 * so it wakes nobody: `parkwatch run` must still stop the process (with
 * SIGKILL in the end, as SIGABRT stays blocked). */
#include "victim.h"

#include <signal.h>

static int ab[2], ba[2];

static void on_alarm(int sig)
{
    (void)sig;
}

static void *peer(void *arg)
{
    (void)arg;
    char c;
    if (read(ab[0], &c, 1) == 1)
        write_all(ba[1], &c, 1);
    return NULL;
}

int main(void)
{
    if (pipe(ab) != 0 || pipe(ba) != 0)
        die("pipe", errno);
    signal(SIGALRM, on_alarm);
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    alarm(1);
    pthread_t t = start_named(peer, NULL, "peer");
    char c;
    if (read(ba[0], &c, 1) == 1) /* nobody writes ba before peer reads ab */
        write_all(ab[1], &c, 1);
    pthread_join(t, NULL);
    printf("not reached\n");
    return 0;
}
