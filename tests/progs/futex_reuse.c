/* Two lives of one futex word at one address: no false cycle.
 *
 * "slot" holds a one-shot event (0 unset, 1 set; setting it wakes all).
 *   life 1: "beta" waits on the event in slot; "alpha" sets it (a wake-all)
 *           and beta goes on: nobody waits on slot any more;
 *   life 2: beta puts a new event in the same slot (as a reused allocation
 *           would) and waits on it; nobody will ever set it.
 * Meanwhile beta once woke word "y" (nobody waited yet) and alpha waits on y
 * for good.  At the end both are parked: two thread-leaks.  Merged into one
 * object, the slot would list alpha as its waker (from life 1), and the chains
 * would read "beta, woken by alpha, waits y, woken by beta": a cycle that never
 * was.  Life 2 is another object: nothing wakes it.
 *
 * clean_futex_reuse.c builds the same with PW_SET_ALL: main then sets both
 * events and joins both threads; nothing to report. */
#include <limits.h>

#include "futex_util.h"

static uint32_t slot, y;
static volatile pid_t beta_tid, alpha_tid;
static volatile int beta_phase;  /* 2 once beta waits on life 2 */
static volatile int alpha_phase; /* 1 once alpha waits on y */

static void __attribute__((noinline)) event_wait(uint32_t *e)
{
    while (__atomic_load_n(e, __ATOMIC_ACQUIRE) == 0)
        futex_wait(e, 0);
}

static void event_set(uint32_t *e)
{
    __atomic_store_n(e, 1, __ATOMIC_RELEASE);
    futex_wake(e, INT_MAX);
}

static void *beta_main(void *arg)
{
    (void)arg;
    futex_wake(&y, 1); /* a wake with nobody waiting yet: beta is y's waker */
    beta_tid = self_tid();
    event_wait(&slot);                            /* life 1 */
    __atomic_store_n(&slot, 0, __ATOMIC_RELEASE); /* a new event in the same memory */
    beta_phase = 2;
    event_wait(&slot); /* life 2: never set */
    return NULL;
}

static void *alpha_main(void *arg)
{
    (void)arg;
    alpha_tid = self_tid();
    wait_asleep(&beta_tid); /* beta sleeps on life 1 */
    event_set(&slot);
    alpha_phase = 1;
    event_wait(&y); /* never set */
    return NULL;
}

int main(void)
{
    pthread_t b = start_named(beta_main, NULL, "beta");
    pthread_t a = start_named(alpha_main, NULL, "alpha");
    /* after its phase is set, each sleeps only in its last futex wait */
    while (beta_phase != 2 || alpha_phase != 1)
        sleep_ms(5);
    wait_asleep(&beta_tid);
    wait_asleep(&alpha_tid);
#ifdef PW_SET_ALL
    event_set(&slot);
    event_set(&y);
    pthread_join(b, NULL);
    pthread_join(a, NULL);
    printf("both lives ended\n");
#else
    (void)a, (void)b; /* the bug: neither is ever set */
#endif
    return 0;
}
