/* Read-then-write "upgrade": a thread holding an rwlock for reading asks for it
 * for writing, and waits for itself (the write side waits until every reader,
 * itself included, is gone).  main leaves once the thread sleeps. */
#include "victim.h"

#include <semaphore.h>

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t about_to_block;
static volatile pid_t upgrader_tid;

static void *upgrader_main(void *arg)
{
    (void)arg;
    upgrader_tid = self_tid();
    pthread_rwlock_rdlock(&rw);
    sem_post(&about_to_block);
    pthread_rwlock_wrlock(&rw);
    return NULL;
}

int main(void)
{
    sem_init(&about_to_block, 0, 0);
    start_named(upgrader_main, NULL, "upgrader");
    while (sem_wait(&about_to_block) == -1 && errno == EINTR)
        ;
    wait_asleep(&upgrader_tid);
    return 0;
}
