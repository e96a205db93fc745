/* Raw futex helpers for the victims that wait the way Rust's std, GLib and
 * libstdc++ do: through libc's syscall(SYS_futex, ...), never a pthread call. */
#ifndef PW_FUTEX_UTIL_H
#define PW_FUTEX_UTIL_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "victim.h"

/* Sleeps while *W == VAL (untimed, private). */
static inline void futex_wait(uint32_t *w, uint32_t val)
{
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static inline void futex_wake(uint32_t *w, int n)
{
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Drepper's "futexes are tricky" mutex: 0 free, 1 locked, 2 locked with
 * waiters.  Only the contended path enters the kernel. */
static inline void flock_lock(uint32_t *m)
{
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(m, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        futex_wait(m, 2);
        c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
    }
}

static inline void flock_unlock(uint32_t *m)
{
    if (__atomic_exchange_n(m, 0, __ATOMIC_RELEASE) == 2)
        futex_wake(m, 1);
}

/* A priority-inheritance lock: the word holds the owner's TID. */
static inline void pi_lock(uint32_t *m)
{
    uint32_t zero = 0, tid = (uint32_t)self_tid();
    if (__atomic_compare_exchange_n(m, &zero, tid, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    while (syscall(SYS_futex, m, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EINTR)
        ;
}

static inline void pi_unlock(uint32_t *m)
{
    uint32_t tid = (uint32_t)self_tid();
    if (__atomic_compare_exchange_n(m, &tid, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return;
    syscall(SYS_futex, m, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
}

#endif
