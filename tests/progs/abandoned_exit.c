/* Abandoned at exit versus stuck earlier.  Two pool workers finish their jobs
 * and wait on 'work' for more; main, which posted the jobs, then returns
 * without stopping them: abandoned at exit (what could wake them, main, was
 * alive until the end), the shape of a daemon stopped by a signal.  A third
 * thread waits for a second reply from a helper that has already exited: it
 * was stuck before the end, and the report must not call it abandoned. */
#include "victim.h"

#include <stdint.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t reply = PTHREAD_COND_INITIALIZER;
static int jobs, replies, idle, asking; /* under lock */
static volatile pid_t worker_tid[2], asker_tid;

static void *worker_main(void *arg)
{
    int me = (int)(intptr_t)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        worker_tid[me] = self_tid();
        idle++;
        while (jobs == 0)
            pthread_cond_wait(&work, &lock);
        idle--;
        jobs--;
    }
    return NULL;
}

static void *helper_main(void *arg)
{
    (void)arg;
    wait_asleep(&asker_tid);
    pthread_mutex_lock(&lock);
    replies = 1;
    pthread_cond_signal(&reply);
    pthread_mutex_unlock(&lock);
    return NULL; /* gone: nobody will send the second reply */
}

static void *asker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (int want = 1; want <= 2; want++) {
        asker_tid = self_tid();
        asking = want;
        while (replies < want)
            pthread_cond_wait(&reply, &lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_t w0 = start_named(worker_main, (void *)0, "idle");
    pthread_t w1 = start_named(worker_main, (void *)1, "idle");
    pthread_mutex_lock(&lock);
    jobs = 2;
    pthread_cond_broadcast(&work);
    pthread_mutex_unlock(&lock);
    pthread_t a = start_named(asker_main, NULL, "asker");
    pthread_t h = start_named(helper_main, NULL, "helper");
    pthread_join(h, NULL);
    /* the asker has taken the first reply and waits for the second */
    while (1) {
        pthread_mutex_lock(&lock);
        int taken = asking == 2;
        pthread_mutex_unlock(&lock);
        if (taken)
            break;
        sleep_ms(2);
    }
    wait_asleep(&asker_tid);
    /* both workers have taken their job and wait for the next (idle is
     * counted under the lock, which they give up only inside the wait) */
    for (;;) {
        pthread_mutex_lock(&lock);
        int all_idle = jobs == 0 && idle == 2;
        pthread_mutex_unlock(&lock);
        if (all_idle)
            break;
        sleep_ms(2);
    }
    wait_asleep(&worker_tid[0]);
    wait_asleep(&worker_tid[1]);
    (void)w0, (void)w1, (void)a;
    return 0; /* the workers are abandoned at exit; the asker was stuck before */
}
