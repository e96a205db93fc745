/* A daemon stopped by SIGTERM: an idle worker waits on 'work' (no job was
 * ever posted) while main waits in poll for its command pipe or a client on a
 * listening socket, a wait the world can end.  A stopper process sends SIGTERM
 * once main sleeps there; its default action ends the process with the worker
 * still parked: abandoned at exit, not stuck earlier, although no thread was
 * running at the end. */
#include "victim.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static int jobs;
static volatile pid_t worker_tid;

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    worker_tid = self_tid();
    while (jobs == 0)
        pthread_cond_wait(&work, &lock);
    jobs--;
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* Thread TID of process PID sleeps in the kernel (state S). */
static int other_asleep(pid_t pid, pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')');
    return s && s[1] == ' ' && s[2] == 'S';
}

int main(void)
{
    int cmd[2];
    if (pipe(cmd))
        die("pipe", errno);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1) != 0)
        die("listen", errno);
    start_named(worker_main, NULL, "idle");
    wait_asleep(&worker_tid);
    pid_t daemon = getpid();
    pid_t stopper = fork();
    if (stopper < 0)
        die("fork", errno);
    if (stopper == 0) {
        while (!other_asleep(daemon, daemon))
            sleep_ms(2);
        kill(daemon, SIGTERM);
        exit(0);
    }
    struct pollfd p[2] = {{.fd = cmd[0], .events = POLLIN}, {.fd = ls, .events = POLLIN}};
    poll(p, 2, -1); /* SIGTERM ends the process here */
    return 1;
}
