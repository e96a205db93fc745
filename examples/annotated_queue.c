/* parkwatch example: a hand-written bounded queue (mutex + two condition
 * variables) annotated as a channel with include/parkwatch.h.
 *
 * Unannotated, a consumer stuck in q_get() is "parked on cond#1" and all
 * parkwatch can say is that nobody will ever signal it.  Annotated, the queue
 * is the channel 'jobs': parkwatch reports that it was never closed and how
 * many consumers wait on it, a send after close, and elements nobody read,
 * exactly as it does for a pipe.
 *
 *   ./annotated_queue clean          producer closes, consumers drain: nothing to report
 *   ./annotated_queue never-closed   producer forgets q_close: 3 consumers parked forever
 *   ./annotated_queue send-on-closed a late producer sends after q_close
 *   ./annotated_queue unread-data    3 elements sent, never received
 *
 * Run it under `parkwatch run -- ./annotated_queue never-closed`.
 * Build: cc -pthread annotated_queue.c $(pkg-config --cflags parkwatch) */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <parkwatch.h>

#define CAP 4
#define NCONSUMERS 3

struct q {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    int buf[CAP];
    unsigned head, n;
    int closed;
    int waiting; /* consumers inside pthread_cond_wait (for main's hand-off) */
    int received;
};

static void q_init(struct q *q)
{
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    parkwatch_chan_make(q, CAP, "jobs");
}

/* 0, or -1 when the queue is closed (the element is dropped). */
static int q_put(struct q *q, int v)
{
    parkwatch_chan_send_begin(q);
    pthread_mutex_lock(&q->mu);
    while (q->n == CAP && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    int ok = !q->closed;
    if (ok) {
        q->buf[(q->head + q->n++) % CAP] = v;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
    parkwatch_chan_send_end(q);
    return ok ? 0 : -1;
}

/* 1 with an element in *V, 0 once the queue is closed and empty. */
static int q_get(struct q *q, int *v)
{
    parkwatch_chan_recv_begin(q);
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->closed) {
        q->waiting++;
        pthread_cond_broadcast(&q->not_full); /* also wakes main's hand-off wait */
        pthread_cond_wait(&q->not_empty, &q->mu);
        q->waiting--;
    }
    int ok = q->n > 0;
    if (ok) {
        *v = q->buf[q->head];
        q->head = (q->head + 1) % CAP;
        q->n--;
        q->received++;
        pthread_cond_signal(&q->not_full);
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

/* Returns once every consumer is inside pthread_cond_wait on an empty queue:
 * a consumer counts itself in `waiting` under the lock and cond_wait releases
 * the lock atomically, so when main holds the lock and sees NCONSUMERS, all of
 * them are parked.  No sleeping, no guessing. */
static void wait_consumers_parked(struct q *q, int expected_received)
{
    pthread_mutex_lock(&q->mu);
    while (q->waiting < NCONSUMERS || q->received < expected_received)
        pthread_cond_wait(&q->not_full, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

static struct q jobs;

static void *consumer_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "consumer");
    int v;
    while (q_get(&jobs, &v))
        ;
    return NULL;
}

static pthread_t consumers[NCONSUMERS];

static void start_consumers(void)
{
    for (int i = 0; i < NCONSUMERS; i++)
        pthread_create(&consumers[i], NULL, consumer_main, NULL);
}

static void join_consumers(void)
{
    for (int i = 0; i < NCONSUMERS; i++)
        pthread_join(consumers[i], NULL);
}

static int clean(void)
{
    start_consumers();
    for (int i = 0; i < 16; i++)
        q_put(&jobs, i);
    q_close(&jobs);
    join_consumers();
    parkwatch_chan_destroy(&jobs);
    return 0;
}

static int never_closed(void)
{
    start_consumers();
    for (int i = 0; i < 6; i++)
        q_put(&jobs, i);
    /* the bug: no q_close(), so the consumers never see the end */
    wait_consumers_parked(&jobs, 6);
    return 0;
}

static void *late_producer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "producer");
    if (q_put(&jobs, 42) != 0)
        fputs("late producer: queue closed, element dropped\n", stderr);
    return NULL;
}

static int send_on_closed(void)
{
    start_consumers();
    q_put(&jobs, 1);
    q_close(&jobs);
    join_consumers();
    pthread_t p; /* the bug: a producer still running after the close */
    pthread_create(&p, NULL, late_producer, NULL);
    pthread_join(p, NULL);
    parkwatch_chan_destroy(&jobs);
    return 0;
}

static int unread_data(void)
{
    for (int i = 0; i < 3; i++)
        q_put(&jobs, i);
    q_close(&jobs); /* the bug: nobody ever reads these 3 */
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } modes[] = {{"clean", clean},
                 {"never-closed", never_closed},
                 {"send-on-closed", send_on_closed},
                 {"unread-data", unread_data}};
    const char *mode = argc > 1 ? argv[1] : "never-closed";
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(mode, modes[i].name) == 0) {
            q_init(&jobs);
            return modes[i].fn();
        }
    }
    fprintf(stderr, "usage: %s clean|never-closed|send-on-closed|unread-data\n", argv[0]);
    return 2;
}
