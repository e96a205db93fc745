/* A partial deadlock: two threads take two mutexes in opposite orders and
 * wait for each other forever, while main keeps running (it sleeps in steps,
 * which the shim does not count as a park).  A `deadlock` finding; with
 * halt_on_deadlock=1 (the .expect) `parkwatch run` stops the program instead
 * of letting it run until its own end. */
#include "victim.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;

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

int main(void)
{
    pthread_barrier_init(&both, NULL, 2);
    start_named(ab, NULL, "ab");
    start_named(ba, NULL, "ba");
    for (int i = 0; i < 300; i++) /* 30 s: far beyond the watchdog's verdict */
        sleep_ms(100);
    printf("main ran to its end\n");
    return 0;
}
