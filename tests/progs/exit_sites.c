/* Two threads end holding a mutex each: one returns from its start routine,
 * the other calls pthread_exit.  The findings name where each lock was taken
 * (in the headline) and where each thread exited. */
#include "victim.h"

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static long stats, queued;

__attribute__((noinline)) static void leaky_update(void)
{
    pthread_mutex_lock(&stats_mu);
    stats++; /* bug under test: no unlock */
}

/* created directly (not through start_named): its start routine is the
 * thread's exit site when it returns */
static void *leaky_returner(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "returner");
    leaky_update();
    return NULL;
}

__attribute__((noinline)) static void quitter_grab(void)
{
    pthread_mutex_lock(&queue_mu);
    queued++; /* not a tail call: the lock's site stays in this function */
}

__attribute__((noinline)) static void quitter_leave(void)
{
    pthread_exit(NULL); /* bug under test: still holding queue_mu */
}

static void *quitter(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "quitter");
    quitter_grab();
    quitter_leave();
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    int rc = pthread_create(&a, NULL, leaky_returner, NULL);
    if (rc)
        die("pthread_create", rc);
    rc = pthread_create(&b, NULL, quitter, NULL);
    if (rc)
        die("pthread_create", rc);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
