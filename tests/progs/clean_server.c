/* Correct: a server thread waits in accept, then read, on a TCP socket, while
 * main waits on a condition with a timeout, several watchdog periods long.
 * Both waits can end from outside (a peer connecting, the timeout): never
 * "all threads blocked", the program must not be stopped.  main then connects
 * as the peer and says goodbye. */
#include "victim.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static volatile pid_t server_tid;
static int listener;

static void *server_main(void *arg)
{
    (void)arg;
    server_tid = self_tid();
    int c = accept(listener, NULL, NULL);
    if (c < 0)
        die("accept", errno);
    char buf[16];
    while (read(c, buf, sizeof buf) > 0)
        ;
    close(c);
    return NULL;
}

int main(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) || listen(listener, 1) ||
        getsockname(listener, (struct sockaddr *)&sa, &len))
        die("listen", errno);
    pthread_t t = start_named(server_main, NULL, "server");
    wait_asleep(&server_tid);

    /* a timed wait nobody signals: 600 ms, several watchdog periods of the test */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 600 * 1000000L;
    while (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m);
    while (pthread_cond_timedwait(&never, &m, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&m);

    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa))
        die("connect", errno);
    write_all(s, "bye", 3);
    close(s);
    pthread_join(t, NULL);
    close(listener);
    return 0;
}
