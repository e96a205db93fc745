/* Victim for the goleak-style API of include/parkwatch.h: checkpoint and
 * verify_none scoped by lineage, and PARKWATCH_OPTIONS=verify_at_exit=1.
 *
 *   lineage           four test cases, one line each on stdout ("name: N"
 *                     with N what verify_none returned)
 *   exit-leak         a thread parked forever at exit (66 with verify_at_exit)
 *   exit-status       the same, and main exits with 5 (still 66)
 *   exit-clean        the only thread was joined (0)
 *   exit-timed        a thread in a long timed wait at exit: never "forever" (0)
 *   exit-from-thread  a thread calls exit(3) while main waits to join it (3)
 *
 * Every exit- mode prints "main done" (buffered when stdout is a pipe) and
 * runs an atexit handler and a destructor that print a line each: the test
 * checks that verify_at_exit loses none of them.
 *
 * No sleeps: a thread is known to be parked when main can take the lock the
 * thread released inside pthread_cond_wait after saying so (struct gate). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parkwatch.h>

#include "../progs/victim.h"

/* A thread parks forever (or for a long timed wait) on a gate's cond. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t never, seen;
    int parked; /* threads that announced their wait */
    int open;   /* the late case: lets its thread go */
    int timed;
};

#define GATE_INIT                                                                              \
    {                                                                                          \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 \
    }

static void *park_on_gate(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->parked++;
    pthread_cond_broadcast(&g->seen);
    while (!g->open) {
        if (g->timed) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 600;
            pthread_cond_timedwait(&g->never, &g->mu, &ts);
        } else {
            pthread_cond_wait(&g->never, &g->mu);
        }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* Returns once N threads are inside their wait on G: each counted itself under
 * the lock, and the wait released the lock atomically. */
static void wait_parked(struct gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->parked < n)
        pthread_cond_wait(&g->seen, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void start_detached(void *(*fn)(void *), void *arg, const char *name)
{
    pthread_detach(start_named(fn, arg, name));
}

/* ---- lineage */

/* "transitive": the case's helper starts a grandchild that leaks, then ends. */
static struct gate grand_gate = GATE_INIT;

static void *helper_main(void *arg)
{
    (void)arg;
    start_detached(park_on_gate, &grand_gate, "grandchild");
    wait_parked(&grand_gate, 1);
    return NULL;
}

static int case_transitive(void)
{
    parkwatch_checkpoint("transitive");
    pthread_join(start_named(helper_main, NULL, "helper"), NULL);
    return parkwatch_verify_none(200);
}

/* "before": a pool started before the checkpoint stays parked; it is not the
 * case's thread, nor is what the pool starts after the checkpoint. */
static struct gate pool_gate = GATE_INIT, poolchild_gate = GATE_INIT;

static void *pool_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool_gate.mu);
    while (pool_gate.open == 0) /* open = 1: asked to start a child */
        pthread_cond_wait(&pool_gate.never, &pool_gate.mu);
    pthread_mutex_unlock(&pool_gate.mu);
    start_detached(park_on_gate, &poolchild_gate, "poolchild");
    return park_on_gate(&grand_gate); /* parked for good */
}

static int case_before(void)
{
    pthread_t pool = start_named(pool_main, NULL, "pool");
    pthread_detach(pool);
    parkwatch_checkpoint("before");
    pthread_mutex_lock(&pool_gate.mu);
    pool_gate.open = 1;
    pthread_cond_broadcast(&pool_gate.never);
    pthread_mutex_unlock(&pool_gate.mu);
    wait_parked(&poolchild_gate, 1);
    wait_parked(&grand_gate, 2); /* the pool itself */
    return parkwatch_verify_none(100);
}

/* "late": the case's thread ends on its own once let go, without a join:
 * verify_none waits for it. */
static struct gate late_gate = GATE_INIT;

static int case_late(void)
{
    parkwatch_checkpoint("late");
    start_detached(park_on_gate, &late_gate, "late");
    wait_parked(&late_gate, 1);
    pthread_mutex_lock(&late_gate.mu);
    late_gate.open = 1;
    pthread_cond_broadcast(&late_gate.never);
    pthread_mutex_unlock(&late_gate.mu);
    return parkwatch_verify_none(20000);
}

/* "queue": the leaked thread waits on an annotated queue; the report names it. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, seen;
    int n, waiting;
} jobs = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *consumer_main(void *arg)
{
    (void)arg;
    parkwatch_chan_recv_begin(&jobs);
    pthread_mutex_lock(&jobs.mu);
    while (jobs.n == 0) {
        jobs.waiting++;
        pthread_cond_broadcast(&jobs.seen);
        pthread_cond_wait(&jobs.not_empty, &jobs.mu);
    }
    jobs.n--;
    pthread_mutex_unlock(&jobs.mu);
    parkwatch_chan_recv_end(&jobs, 1);
    return NULL;
}

static int case_queue(void)
{
    parkwatch_chan_make(&jobs, 8, "jobs");
    parkwatch_checkpoint("queue");
    start_detached(consumer_main, NULL, "consumer");
    pthread_mutex_lock(&jobs.mu);
    while (jobs.waiting < 1)
        pthread_cond_wait(&jobs.seen, &jobs.mu);
    pthread_mutex_unlock(&jobs.mu);
    return parkwatch_verify_none(100);
}

static int lineage(void)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } cases[] = {{"transitive", case_transitive},
                 {"before", case_before},
                 {"late", case_late},
                 {"queue", case_queue}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        printf("%s: %d\n", cases[i].name, cases[i].fn());
        fflush(stdout);
    }
    return 0;
}

/* ---- verify_at_exit */

static void at_exit_line(void)
{
    printf("atexit handler ran\n");
}

static int exit_test; /* the destructor speaks only in the exit- modes */

__attribute__((destructor)) static void destructor_line(void)
{
    if (exit_test)
        printf("destructor ran\n");
}

static struct gate exit_gate = GATE_INIT;
static volatile pid_t main_tid;

static void *quitter_main(void *arg)
{
    (void)arg;
    wait_asleep(&main_tid); /* main is parked in the join */
    printf("main done\n");
    exit(3);
}

static int exit_mode(const char *mode)
{
    exit_test = 1;
    atexit(at_exit_line);
    if (strcmp(mode, "exit-from-thread") == 0) {
        main_tid = self_tid();
        pthread_join(start_named(quitter_main, NULL, "quitter"), NULL);
        return 97; /* not reached: the quitter exits the process */
    }
    exit_gate.timed = strcmp(mode, "exit-timed") == 0;
    pthread_t t = start_named(park_on_gate, &exit_gate, "leaker");
    wait_parked(&exit_gate, 1);
    if (strcmp(mode, "exit-clean") == 0) {
        pthread_mutex_lock(&exit_gate.mu);
        exit_gate.open = 1;
        pthread_cond_broadcast(&exit_gate.never);
        pthread_mutex_unlock(&exit_gate.mu);
        pthread_join(t, NULL);
    }
    printf("main done\n");
    return strcmp(mode, "exit-status") == 0 ? 5 : 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "lineage") == 0)
        return lineage();
    if (strncmp(mode, "exit-", 5) == 0)
        return exit_mode(mode);
    fprintf(stderr,
            "usage: %s lineage|exit-leak|exit-status|exit-clean|exit-timed|"
            "exit-from-thread\n",
            argv[0]);
    return 2;
}
