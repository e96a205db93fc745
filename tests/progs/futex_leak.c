/* A thread parked forever on a raw futex: "waiter" waits for a flag nobody
 * sets, through syscall(SYS_futex) as Rust's Condvar or GLib's GCond do.
 * "napper" waits on the same word with a timeout (a timed park, never a
 * leak).  main leaves once both sleep. */
#include "futex_util.h"

static uint32_t flag; /* never set */
static volatile pid_t tids[2];

static void *waiter_main(void *arg)
{
    (void)arg;
    tids[0] = self_tid();
    while (__atomic_load_n(&flag, __ATOMIC_ACQUIRE) == 0)
        futex_wait(&flag, 0);
    return NULL;
}

static void *napper_main(void *arg)
{
    (void)arg;
    tids[1] = self_tid();
    struct timespec ts = {60, 0};
    syscall(SYS_futex, &flag, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    return NULL;
}

int main(void)
{
    start_named(waiter_main, NULL, "waiter");
    start_named(napper_main, NULL, "napper");
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
    return 0;
}
