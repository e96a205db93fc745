/* memcached's shape: 1024 item locks initialised in one loop (one lock class)
 * and 37 other locks, each taken under every item lock by 4 threads: 151552
 * lock-order edges between instances, which used to fill the notes log and
 * crowd out every later note.  Instance edges beyond a few per class pair are
 * folded; the notes log keeps room for the rest, so the held-at-exit note of
 * "holder" (which exits holding a lock) and the process end survive. */
#include "victim.h"

#define ITEMS 1024
#define OTHERS 37

static pthread_mutex_t items[ITEMS];
static pthread_mutex_t others[OTHERS];
static pthread_mutex_t leaked = PTHREAD_MUTEX_INITIALIZER;

static void *worker_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&items[i]);
        for (int j = 0; j < OTHERS; j++) {
            pthread_mutex_lock(&others[j]);
            pthread_mutex_unlock(&others[j]);
        }
        pthread_mutex_unlock(&items[i]);
    }
    return NULL;
}

static void *holder_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&leaked);
    return NULL; /* ends holding it */
}

int main(void)
{
    for (int i = 0; i < ITEMS; i++)
        pthread_mutex_init(&items[i], NULL);
    for (int j = 0; j < OTHERS; j++)
        pthread_mutex_init(&others[j], NULL);
    pthread_t w[4];
    for (int k = 0; k < 4; k++)
        w[k] = start_named(worker_main, NULL, "worker");
    for (int k = 0; k < 4; k++)
        pthread_join(w[k], NULL);
    pthread_join(start_named(holder_main, NULL, "holder"), NULL);
    return 0;
}
