/* Victim for the channel annotations of include/parkwatch.h, beyond the
 * examples/annotated_queue cases: a blocked chain through two queues, a
 * producer parked on a full queue, a double close, and a queue address reused
 * after destroy.  Run under `parkwatch run`; api_queue_<mode>.expect says what
 * the report must contain.
 *
 *   chain         worker: jobs -> results; collector reads results.  main
 *                 never closes jobs: the collector waits for the worker, which
 *                 waits for main
 *   full          capacity 2, 3 sends, nobody receives: the producer parks in
 *                 queue-send forever
 *   double-close  main closes 'jobs' twice
 *   clean-reuse   two queues in turn at one address, each drained, closed and
 *                 destroyed: nothing to report
 *   sem-ring      a ring buffer counted by two semaphores: its reader parks in
 *                 sem_wait, which is a park on the queue 'ring' (never closed)
 *   fork-child    the queue is made before a fork; in the child (its own copy of
 *                 the queue, its own trace) a consumer waits on it forever
 *
 * A thread is known to be parked when main sees it counted in `waiting` while
 * holding the queue's lock (cond_wait released that lock atomically). */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <parkwatch.h>

#include "../progs/victim.h"

#define CAP_MAX 8

struct q {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full, changed;
    int buf[CAP_MAX];
    unsigned head, n, cap;
    int closed, waiting, got;
};

static void q_init(struct q *q, unsigned cap, const char *name)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->changed, NULL);
    q->cap = cap;
    parkwatch_chan_make(q, cap, name);
}

static void q_wait(struct q *q, pthread_cond_t *c)
{
    q->waiting++;
    pthread_cond_broadcast(&q->changed);
    pthread_cond_wait(c, &q->mu);
    q->waiting--;
}

static int q_put(struct q *q, int v)
{
    parkwatch_chan_send_begin(q);
    pthread_mutex_lock(&q->mu);
    while (q->n == q->cap && !q->closed)
        q_wait(q, &q->not_full);
    int ok = !q->closed;
    if (ok) {
        q->buf[(q->head + q->n++) % q->cap] = v;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
    parkwatch_chan_send_end(q);
    return ok ? 0 : -1;
}

static int q_get(struct q *q, int *v)
{
    parkwatch_chan_recv_begin(q);
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->closed)
        q_wait(q, &q->not_empty);
    int ok = q->n > 0;
    if (ok) {
        *v = q->buf[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->got++;
        pthread_cond_signal(&q->not_full);
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->mu);
    parkwatch_chan_recv_end(q, ok);
    return ok;
}

static void q_close(struct q *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    parkwatch_chan_close(q);
}

/* Until WAITERS threads wait in Q and GOT elements were taken from it. */
static void q_settled(struct q *q, int waiters, int got)
{
    pthread_mutex_lock(&q->mu);
    while (q->waiting < waiters || q->got < got)
        pthread_cond_wait(&q->changed, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

static struct q jobs, results;

static void *worker_main(void *arg)
{
    (void)arg;
    int v;
    while (q_get(&jobs, &v))
        q_put(&results, v * 2);
    q_close(&results);
    return NULL;
}

static void *collector_main(void *arg)
{
    (void)arg;
    int v;
    while (q_get(&results, &v))
        ;
    return NULL;
}

static int chain(void)
{
    q_init(&jobs, 4, "jobs");
    q_init(&results, 4, "results");
    pthread_t w = start_named(worker_main, NULL, "worker");
    pthread_t c = start_named(collector_main, NULL, "collector");
    q_put(&jobs, 1);
    q_put(&jobs, 2);
    /* the bug: no q_close(&jobs) */
    q_settled(&jobs, 1, 2);
    q_settled(&results, 1, 2);
    pthread_detach(w);
    pthread_detach(c);
    return 0;
}

static void *producer_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        q_put(&jobs, i);
    return NULL;
}

static int full(void)
{
    q_init(&jobs, 2, "jobs");
    pthread_detach(start_named(producer_main, NULL, "producer"));
    q_settled(&jobs, 1, 0); /* the producer waits for room */
    return 0;
}

static int double_close(void)
{
    q_init(&jobs, 4, "jobs");
    q_put(&jobs, 1);
    int v;
    q_get(&jobs, &v);
    q_close(&jobs);
    q_close(&jobs); /* the bug */
    parkwatch_chan_destroy(&jobs);
    return 0;
}

static void *drain_main(void *arg)
{
    int v;
    while (q_get(arg, &v))
        ;
    return NULL;
}

static int clean_reuse(void)
{
    static const char *const names[] = {"first", "second"};
    for (int round = 0; round < 2; round++) {
        q_init(&jobs, 2, names[round]);
        pthread_t d = start_named(drain_main, &jobs, "drain");
        for (int i = 0; i < 5; i++)
            q_put(&jobs, i);
        q_close(&jobs);
        pthread_join(d, NULL);
        parkwatch_chan_destroy(&jobs);
    }
    return 0;
}

/* ---- a semaphore ring buffer (single producer, single consumer) */

static struct {
    sem_t items, slots;
    int buf[4];
    unsigned head, tail;
} ring;
static volatile pid_t reader_tid;

static void *ring_reader_main(void *arg)
{
    (void)arg;
    reader_tid = self_tid();
    for (;;) {
        parkwatch_chan_recv_begin(&ring);
        while (sem_wait(&ring.items) != 0)
            ;
        int v = ring.buf[ring.tail++ % 4];
        sem_post(&ring.slots);
        parkwatch_chan_recv_end(&ring, 1);
        (void)v;
    }
    return NULL;
}

static int sem_ring(void)
{
    sem_init(&ring.items, 0, 0);
    sem_init(&ring.slots, 0, 4);
    parkwatch_chan_make(&ring, 4, "ring");
    pthread_detach(start_named(ring_reader_main, NULL, "ringreader"));
    for (int i = 0; i < 3; i++) {
        parkwatch_chan_send_begin(&ring);
        sem_wait(&ring.slots);
        ring.buf[ring.head++ % 4] = i;
        sem_post(&ring.items);
        parkwatch_chan_send_end(&ring);
    }
    /* the bug: no end-of-stream; the reader waits for a 4th item forever.
     * Once it sleeps in the kernel its park is recorded (before the wait). */
    wait_asleep(&reader_tid);
    return 0;
}

static void *child_consumer_main(void *arg)
{
    (void)arg;
    int v;
    while (q_get(&jobs, &v))
        ;
    return NULL;
}

static int fork_child(void)
{
    q_init(&jobs, 4, "jobs");
    q_put(&jobs, 1);
    pid_t pid = fork();
    if (pid < 0)
        return 98;
    if (pid == 0) {
        pthread_detach(start_named(child_consumer_main, NULL, "consumer"));
        q_settled(&jobs, 1, 1); /* it took the element and waits for more */
        return 0;
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 99;
    int v; /* the parent drains and closes its own copy: nothing to report here */
    q_get(&jobs, &v);
    q_close(&jobs);
    parkwatch_chan_destroy(&jobs);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } modes[] = {{"chain", chain},
                 {"full", full},
                 {"double-close", double_close},
                 {"clean-reuse", clean_reuse},
                 {"sem-ring", sem_ring},
                 {"fork-child", fork_child}};
    const char *mode = argc > 1 ? argv[1] : "";
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            return modes[i].fn();
    fprintf(stderr, "usage: %s chain|full|double-close|clean-reuse|sem-ring|fork-child\n", argv[0]);
    return 2;
}
