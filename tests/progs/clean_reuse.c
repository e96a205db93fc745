/* fd numbers closed and reused correctly: never a double-close (the twin of
 * close_reused).
 *   handoff   a worker closes the pipe end main gave it; main opens a file on
 *             the same number and hands it over; the worker reads it and
 *             closes it at the same call site
 *   own       one thread closes a pipe end, opens a file on the number
 *             itself and closes it */
#include <fcntl.h>

#include "victim.h"

static int handed = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static int take(void)
{
    pthread_mutex_lock(&mu);
    while (handed < 0)
        pthread_cond_wait(&cv, &mu);
    int fd = handed;
    handed = -1;
    pthread_mutex_unlock(&mu);
    return fd;
}

static void give(int fd)
{
    pthread_mutex_lock(&mu);
    handed = fd;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static __attribute__((noinline)) void finish(int fd)
{
    char c;
    (void)!read(fd, &c, 1);
    close(fd); /* the same site for both fds */
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++)
        finish(take());
    return NULL;
}

static void handoff(void)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    close(p[1]); /* the worker's read sees EOF */
    pthread_t w = start_named(worker_main, NULL, "worker");
    give(p[0]);
    /* wait until the worker closed it, then reuse the number */
    for (;;) {
        pthread_mutex_lock(&mu);
        int busy = handed >= 0;
        pthread_mutex_unlock(&mu);
        if (!busy && fcntl(p[0], F_GETFD) == -1)
            break;
        sleep_ms(1);
    }
    int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (f != p[0])
        die("open did not reuse the number", 0);
    give(f);
    pthread_join(w, NULL);
}

static void own(void)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe", errno);
    close(p[0]);
    int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(f);
    close(p[1]);
}

int main(void)
{
    handoff();
    own();
    puts("clean_reuse: ok");
    return 0;
}
