/* "controller" holds m, broadcasts the cond "flusher" waits on, and joins
 * flusher without unlocking: flusher is woken but must re-take m inside
 * pthread_cond_wait, which controller holds until the join returns.  A
 * wait-for cycle through the wake-up: deadlock.  main leaves once both sleep. */
#include "victim.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush = PTHREAD_COND_INITIALIZER;
static int ready, go;
static volatile int joining; /* controller is past its polling sleeps */
static volatile pid_t controller_tid, flusher_tid;

static void *flusher_main(void *arg)
{
    (void)arg;
    flusher_tid = self_tid();
    pthread_mutex_lock(&m);
    ready = 1;
    while (!go)
        pthread_cond_wait(&flush, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *controller_main(void *arg)
{
    (void)arg;
    controller_tid = self_tid();
    pthread_t f = start_named(flusher_main, NULL, "flusher");
    for (;;) { /* until flusher is inside its wait (it set ready under m) */
        pthread_mutex_lock(&m);
        if (ready)
            break;
        pthread_mutex_unlock(&m);
        sleep_ms(1);
    }
    go = 1;
    pthread_cond_broadcast(&flush);
    joining = 1;
    pthread_join(f, NULL); /* bug under test: still holding m */
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    start_named(controller_main, NULL, "controller");
    while (!joining || !flusher_tid)
        sleep_ms(1);
    wait_asleep(&controller_tid);
    wait_asleep(&flusher_tid);
    return 0;
}
