/* A deadlock through a priority-inheritance futex: "owner" holds the PI lock
 * (its TID is in the word) and joins "locker", which waits in FUTEX_LOCK_PI
 * for that lock.  The kernel sees no rt-mutex cycle (a join is not one), so
 * both wait forever; the PI word names the owner, which closes the wait-for
 * cycle.  main keeps running and leaves: a cycle among some threads. */
#include "futex_util.h"

static uint32_t pi;
static volatile pid_t locker_tid;
static pthread_t locker;
static volatile int owner_ready;

static void *locker_main(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&owner_ready, __ATOMIC_ACQUIRE))
        sleep_ms(1);
    locker_tid = self_tid();
    pi_lock(&pi);
    return NULL;
}

static void *owner_main(void *arg)
{
    (void)arg;
    pi_lock(&pi);
    locker = start_named(locker_main, NULL, "locker");
    __atomic_store_n(&owner_ready, 1, __ATOMIC_RELEASE);
    pthread_join(locker, NULL);
    pi_unlock(&pi);
    return NULL;
}

int main(void)
{
    start_named(owner_main, NULL, "owner");
    while (!__atomic_load_n(&owner_ready, __ATOMIC_ACQUIRE))
        sleep_ms(1);
    wait_asleep(&locker_tid);
    settle();
    return 0;
}
