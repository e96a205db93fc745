/* Thread counts: "alive N" keeps N threads (small stacks) alive at once, all
 * parked on one barrier; "churn N" creates and joins N threads over the run,
 * two at a time, so thread slots must be recycled; "fill DIR N" first fills the
 * filesystem of DIR (where the trace is) to the last block, then does
 * "alive N": the shim must stop recording, not kill the host; "fillwait DIR N"
 * fills it, then the main thread alone makes N timed condition waits (2 ring
 * events each, at a call site seen before the fill, so no new stack either):
 * its ring reaches pages of the file that were never backed. */
#include <limits.h>

#include "stress.h"

static pthread_barrier_t all;
static long sum;

static void *at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&all);
    return NULL;
}

static void *add_one(void *arg)
{
    __atomic_add_fetch(&sum, (long)arg, __ATOMIC_RELAXED);
    return NULL;
}

/* Writes DIR/filler until the filesystem is full; returns its fd. */
static int fill(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/filler", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die("open filler", errno);
    static char block[4096];
    while (write(fd, block, sizeof block) > 0)
        ;
    unlink(path);
    return fd;
}

static void timed_waits(long n)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec past = {0, 0}; /* long gone: every wait times out at once */
    long timeouts = 0;
    pthread_mutex_lock(&m);
    for (long i = 0; i < n; i++)
        timeouts += pthread_cond_timedwait(&c, &m, &past) == ETIMEDOUT;
    pthread_mutex_unlock(&m);
    out("fillwait %ld: %ld timed out", n, timeouts);
}

int main(int argc, char **argv)
{
    int filler = -1;
    if (argc == 4 && strcmp(argv[1], "fillwait") == 0) {
        timed_waits(1); /* its stack is in the depot before the disk fills */
        filler = fill(argv[2]);
        timed_waits(strtol(argv[3], NULL, 10));
        close(filler);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "fill") == 0) {
        filler = fill(argv[2]);
        argv[1] = "alive";
        argv[2] = argv[3];
        argc = 3;
    }
    if (argc != 3)
        die("usage: threads alive|churn N | fill|fillwait DIR N", EINVAL);
    long n = strtol(argv[2], NULL, 10);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN > 65536 ? PTHREAD_STACK_MIN : 65536);
    if (strcmp(argv[1], "alive") == 0) {
        pthread_t *t = calloc((size_t)n, sizeof *t);
        pthread_barrier_init(&all, NULL, (unsigned)n + 1);
        for (long i = 0; i < n; i++) {
            int rc = pthread_create(&t[i], &attr, at_barrier, NULL);
            if (rc)
                die("pthread_create", rc);
        }
        pthread_barrier_wait(&all); /* here all n threads are alive at once */
        for (long i = 0; i < n; i++)
            pthread_join(t[i], NULL);
        free(t);
        out("alive %ld: all met at the barrier and were joined", n);
    } else {
        for (long i = 0; i < n; i += 2) {
            pthread_t a, b;
            int rc = pthread_create(&a, &attr, add_one, (void *)1L);
            if (rc == 0 && (rc = pthread_create(&b, &attr, add_one, (void *)1L)) == 0)
                pthread_join(b, NULL);
            if (rc)
                die("pthread_create", rc);
            pthread_join(a, NULL);
        }
        out("churn %ld: sum %ld", n, sum);
    }
    pthread_attr_destroy(&attr);
    if (filler >= 0)
        close(filler);
    return 0;
}
