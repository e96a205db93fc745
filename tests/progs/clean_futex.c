/* Correct raw futex use: a ping-pong on one word (FUTEX_WAIT / FUTEX_WAKE),
 * a futex lock shared by two threads and a contended priority-inheritance
 * lock.  Everything finishes and is joined: nothing to report.  main also
 * checks that syscall() answers as it does without the shim: return values
 * and errno of other numbers and of futex calls that fail at once. */
#include "futex_util.h"

#define ROUNDS 48 /* the wakes stay in the rings (256 events a thread) */

static uint32_t turn; /* 0: ping's turn, 1: pong's */
static uint32_t lock, pi;
static long counter;

static void play(uint32_t me)
{
    for (int i = 0; i < ROUNDS; i++) {
        uint32_t t;
        while ((t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) != me)
            futex_wait(&turn, t);
        flock_lock(&lock);
        counter++;
        flock_unlock(&lock);
        if (i % 8 == 0) {
            pi_lock(&pi);
            counter++;
            pi_unlock(&pi);
        }
        __atomic_store_n(&turn, 1 - me, __ATOMIC_RELEASE);
        futex_wake(&turn, 1);
    }
}

static void *ping_main(void *arg)
{
    (void)arg;
    play(0);
    return NULL;
}

static void *pong_main(void *arg)
{
    (void)arg;
    play(1);
    return NULL;
}

/* 0 when every answer is the kernel's own. */
static int same_answers(void)
{
    uint32_t w = 5;
    struct timespec short_wait = {0, 1000000L};
    int bad = 0;
    errno = 0;
    bad |= syscall(SYS_getpid) != getpid() || errno != 0;
    bad |= syscall(SYS_gettid) != self_tid();
    bad |= syscall(-1L) != -1 || errno != ENOSYS;
    errno = 0;
    bad |= syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0) != -1 || errno != EAGAIN;
    bad |= syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 5, &short_wait, NULL, 0) != -1 ||
           errno != ETIMEDOUT;
    bad |= syscall(SYS_futex, NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) != -1 || errno != EFAULT;
    bad |= syscall(SYS_futex, &w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) != 0;
    if (bad)
        fprintf(stderr, "clean_futex: syscall() answered differently\n");
    return bad;
}

int main(void)
{
    if (same_answers())
        return 2;
    pthread_t a = start_named(ping_main, NULL, "ping");
    pthread_t b = start_named(pong_main, NULL, "pong");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return counter == 2 * ROUNDS + 2 * (ROUNDS / 8) ? 0 : 1;
}
