/* A waiter blocks reading an eventfd that nobody ever writes: it stays parked
 * when main exits. */
#include "victim.h"

#include <sys/eventfd.h>

static int efd;
static volatile pid_t waiter_tid;

static void *waiter_main(void *arg)
{
    (void)arg;
    eventfd_t v;
    waiter_tid = self_tid();
    if (eventfd_read(efd, &v) < 0) /* never signalled */
        die("eventfd_read", errno);
    return NULL;
}

int main(void)
{
    efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0)
        die("eventfd", errno);
    start_named(waiter_main, NULL, "waiter");
    wait_asleep(&waiter_tid);
    return 0;
}
