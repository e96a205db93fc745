/* Writers blocked on full channels nobody reads, where this process's byte
 * counters cannot tell: "producer" writes 2049-byte records into a pipe (each
 * takes a page of its own, so the pipe is full at about half its 64 KiB) while
 * holding m, which "logger" then waits for; "sockwriter" fills a socketpair
 * (its buffer size is not known to the counters).  Both writes are parks.
 * main leaves once all three sleep. */
#include "victim.h"

#include <sys/socket.h>

static int data_pipe[2], sv[2];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile int holding;
static volatile pid_t producer_tid, logger_tid, sockwriter_tid;

static void *producer_main(void *arg)
{
    (void)arg;
    static char rec[2049];
    memset(rec, 'p', sizeof rec);
    producer_tid = self_tid();
    pthread_mutex_lock(&m);
    holding = 1;
    for (;;) /* bug under test: nobody reads, and m stays held */
        if (write(data_pipe[1], rec, sizeof rec) < 0)
            break;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *logger_main(void *arg)
{
    (void)arg;
    logger_tid = self_tid();
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *sockwriter_main(void *arg)
{
    (void)arg;
    static char chunk[4096];
    memset(chunk, 's', sizeof chunk);
    sockwriter_tid = self_tid();
    for (;;)
        if (write(sv[0], chunk, sizeof chunk) < 0)
            break;
    return NULL;
}

int main(void)
{
    if (pipe(data_pipe))
        die("pipe", errno);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair", errno);
    start_named(producer_main, NULL, "producer");
    while (!holding)
        sleep_ms(1);
    start_named(logger_main, NULL, "logger");
    start_named(sockwriter_main, NULL, "sockwriter");
    wait_asleep(&producer_tid);
    wait_asleep(&logger_tid);
    wait_asleep(&sockwriter_tid);
    return 0;
}
