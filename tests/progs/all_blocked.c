/* Every thread parks forever: main joins "stuck", which waits on a condition
 * nobody signals.  Go would say "all goroutines are asleep - deadlock!";
 * `parkwatch run` must notice and stop the process.  alarm() bounds the run
 * when nobody is watching (plain LD_PRELOAD or no tool at all). */
#include "victim.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *stuck_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return NULL;
}

int main(void)
{
    alarm(20);
    pthread_setname_np(pthread_self(), "main");
    pthread_t t = start_named(stuck_main, NULL, "stuck");
    pthread_join(t, NULL);
    return 1; /* unreachable */
}
