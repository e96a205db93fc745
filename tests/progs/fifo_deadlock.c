/* A deadlock the watcher stops, next to a thread the shim does not follow:
 * "fiforeader" is blocked in read() on a FIFO the program made and opened
 * itself, while "ab" and "ba" take two mutexes in opposite orders and wait for
 * each other forever; main sleeps in steps.  With halt_on_deadlock=1 (the
 * .expect) `parkwatch run` stops the program; just before, the watcher takes
 * the kernel's view of every thread, so the report shows fiforeader blocked in
 * read(fd N: <fifo>) with its stack (tests/e2e/live_stack.py, stopped-*),
 * where the trace alone would only say "alive". */
#include <fcntl.h>
#include <sys/stat.h>

#include "victim.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;
static int fifo_fd = -1;

static void *ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&a);
    pthread_barrier_wait(&both);
    pthread_mutex_lock(&b);
    return NULL;
}

static void *ba(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    pthread_barrier_wait(&both);
    pthread_mutex_lock(&a);
    return NULL;
}

static void __attribute__((noinline)) wait_for_fifo_data(void)
{
    char buf[64];
    /* nobody ever writes: blocks for good */
    if (read(fifo_fd, buf, sizeof(buf)) < 0)
        perror("read");
}

static void *fifo_reader(void *arg)
{
    (void)arg;
    wait_for_fifo_data();
    return NULL;
}

int main(void)
{
    char path[] = "/tmp/pw-fifo-XXXXXX";
    if (!mkdtemp(path))
        return 1;
    char fifo[sizeof(path) + 8];
    snprintf(fifo, sizeof(fifo), "%s/fifo", path);
    if (mkfifo(fifo, 0600) < 0)
        return 1;
    /* O_RDWR: the open does not wait for a writer, the read still blocks */
    fifo_fd = open(fifo, O_RDWR);
    unlink(fifo);
    rmdir(path);
    if (fifo_fd < 0)
        return 1;
    start_named(fifo_reader, NULL, "fiforeader");
    pthread_barrier_init(&both, NULL, 2);
    start_named(ab, NULL, "ab");
    start_named(ba, NULL, "ba");
    for (int i = 0; i < 300; i++) /* 30 s: far beyond the watchdog's verdict */
        sleep_ms(100);
    printf("main ran to its end\n");
    return 0;
}
