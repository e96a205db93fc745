/* parkwatch example: goleak-style leak checks in a C test suite.
 *
 * Each test case brackets its work with parkwatch_checkpoint() and
 * parkwatch_verify_none(): the case fails if a thread it started (directly or
 * through its own threads) is still alive after the timeout.  The scope is the
 * calling thread's lineage, so cases running in parallel threads do not blame
 * each other: below, "pool" and "leaky" run at the same time, "leaky" leaks a
 * thread parked forever on a condition variable, and only "leaky" fails.
 *
 * Without the shim every call is a no-op and every case passes:
 *     ./checkpoint                                  -> 0 failed
 * Under the shim:
 *     LD_PRELOAD=libparkwatch.so ./checkpoint       -> leaky fails, exit 1
 * Build: cc -pthread checkpoint.c $(pkg-config --cflags parkwatch) */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <parkwatch.h>

#define VERIFY_MS 300 /* how long a case waits for its threads to end */

/* Both cases reach "threads started" before either verifies, and "leaky"
 * verifies while the pool's worker still runs, so each verify sees the other
 * case's live threads and must not count them. */
static pthread_barrier_t started, leaky_verified;

/* ---- case "pool": starts a worker, stops it properly */

static void *pool_worker(void *arg)
{
    int *fds = arg;
    char c;
    while (read(fds[0], &c, 1) > 0) /* until the write end is closed */
        ;
    return NULL;
}

static int case_pool(int parallel)
{
    int fds[2];
    pthread_t w;
    parkwatch_checkpoint("pool");
    if (pipe(fds) != 0 || pthread_create(&w, NULL, pool_worker, fds) != 0)
        return -1;
    if (parallel) {
        pthread_barrier_wait(&started);
        pthread_barrier_wait(&leaky_verified);
    }
    close(fds[1]);         /* stop the worker ... */
    pthread_join(w, NULL); /* ... and wait for it */
    close(fds[0]);
    return parkwatch_verify_none(VERIFY_MS);
}

/* ---- case "leaky": its helper thread waits for a signal that never comes */

static pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *leaky_helper(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&never_lock);
    for (;;) /* nobody ever signals `never` */
        pthread_cond_wait(&never, &never_lock);
    return NULL;
}

static int case_leaky(int parallel)
{
    pthread_t h;
    parkwatch_checkpoint("leaky");
    if (pthread_create(&h, NULL, leaky_helper, NULL) != 0)
        return -1;
    pthread_detach(h); /* the bug: nobody stops it */
    if (parallel)
        pthread_barrier_wait(&started);
    int leaked = parkwatch_verify_none(VERIFY_MS);
    if (parallel)
        pthread_barrier_wait(&leaky_verified);
    return leaked;
}

/* ---- a tiny test runner */

struct tcase {
    const char *name;
    int (*fn)(int parallel);
    int parallel;
    int result;
};

static void *run_case(void *arg)
{
    struct tcase *c = arg;
    c->result = c->fn(c->parallel);
    return NULL;
}

static int report(const struct tcase *c)
{
    if (c->result == 0)
        printf("case %s: ok\n", c->name);
    else
        printf("case %s: FAILED (%d leaked thread%s)\n", c->name, c->result,
               c->result == 1 ? "" : "s");
    return c->result != 0;
}

int main(void)
{
    printf("parkwatch %s\n", parkwatch_active() ? "active" : "inactive: checks are no-ops");
    fflush(stdout);
    int failed = 0;

    /* one after the other, from the main thread */
    struct tcase serial[] = {{"pool", case_pool, 0, 0}, {"leaky", case_leaky, 0, 0}};
    for (size_t i = 0; i < sizeof serial / sizeof serial[0]; i++) {
        run_case(&serial[i]);
        failed += report(&serial[i]);
    }

    /* the same cases at the same time, each in its own runner thread */
    struct tcase par[] = {{"pool (parallel)", case_pool, 1, 0},
                          {"leaky (parallel)", case_leaky, 1, 0}};
    pthread_barrier_init(&started, NULL, 2);
    pthread_barrier_init(&leaky_verified, NULL, 2);
    pthread_t runners[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&runners[i], NULL, run_case, &par[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(runners[i], NULL);
        failed += report(&par[i]);
    }

    printf("%d failed\n", failed);
    return failed ? 1 : 0;
}
