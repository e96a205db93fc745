/* The futex through libc's syscall(): Rust's std (Mutex, Condvar, mpsc,
 * thread::park), GLib (GMutex, GCond, GAsyncQueue) and libstdc++ (std::future,
 * std::latch, std::atomic::wait) wait on the kernel futex with
 * syscall(SYS_futex, ...) and never call a pthread function for it.
 *
 * syscall() is a varargs function: the wrapper reads six longs (as glibc's own
 * syscall() loads six registers whatever the caller passed) and forwards them
 * all.  Every number but SYS_futex and SYS_futex_waitv goes straight to the
 * real syscall() before anything else is looked at: no guard, no TLS, no
 * clock, and errno is the real call's.
 *
 * What is recorded (PW_OBJ_FUTEX, the address is the key):
 *   - FUTEX_WAIT / FUTEX_WAIT_BITSET / FUTEX_WAIT_REQUEUE_PI: a park
 *     (PW_OP_FUTEX_WAIT), timed when a timeout is given;
 *   - FUTEX_LOCK_PI / FUTEX_LOCK_PI2: a park (PW_OP_FUTEX_LOCK_PI) whose obj2 is
 *     the owner's TID read from the futex word: a real wait-for edge;
 *   - FUTEX_WAKE / WAKE_BITSET / WAKE_OP / (CMP_)REQUEUE(_PI) / UNLOCK_PI: the waker
 *     (COND_SIGNAL with op PW_OBJ_FUTEX, once per run of wakes of one address
 *     by one thread, like a sem_post), with its stack (the stack capture keeps
 *     a per-call-site cache, so a repeated site costs a few compares).
 * A futex without FUTEX_PRIVATE_FLAG can be woken by another process when its
 * word lies in memory that process maps too: such parks carry PW_PARK_OUTSIDE,
 * like a process-shared semaphore's.  libstdc++ (std::future, std::latch,
 * std::atomic::wait) never sets the flag, though its words live in the heap
 * or in static data, where the kernel keys even a "shared" futex by this
 * process's address space (private anonymous or copied-on-write pages).  So a
 * word inside a loaded module's range or in the brk heap counts as private;
 * anywhere else (mmap'd memory, thread arenas, stacks) the shim cannot tell
 * without a system call and says "outside": a missed leak, never a false
 * "all threads blocked".
 *
 * A FUTEX_WAIT whose word no longer holds the expected value returns EAGAIN at
 * once without sleeping: the wrapper compares first and records nothing then
 * (a ping-pong where the partner already moved on costs no park).  The word is
 * the host's argument and may point anywhere: it is read through the kernel
 * (pw_mem_read), never loaded, so a word on an unmapped page makes the read
 * fail where a load would fault in the shim; the call then goes to the kernel
 * untouched (its EFAULT, errno and all) and nothing is recorded.  NULL and
 * misaligned words (the common bad arguments, EFAULT / EINVAL from the kernel)
 * are passed through without even that system call.
 *
 * Nothing is recorded twice: glibc's pthread objects use inline system calls,
 * never syscall(), and a futex call made while the thread is already parked
 * in one of our wrappers (a library's internal wait) or with the guard raised
 * goes to the kernel untouched.  SYS_futex_waitv (several words at once) is
 * passed through like any other number: no library the shim follows uses it
 * yet, and a wait on a set of words would need a set object (README,
 * Limitations). */
#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "acts.h"
#include "event.h"
#include "init.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/* The command bits of a futex op (the flags are FUTEX_PRIVATE_FLAG and
 * FUTEX_CLOCK_REALTIME). */
#define PW_FUTEX_CMD(op) ((op)&FUTEX_CMD_MASK)

/* The real syscall(), resolved with the rest of the table.  A call before the
 * table is filled (another library's constructor, or dlsym itself) resolves
 * this one entry alone. */
static long real_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    if (PW_UNLIKELY(pw_real.syscall.obj == NULL))
        pw_real.syscall.obj = dlsym(RTLD_NEXT, "syscall");
    return PW_REAL(syscall)(nr, a1, a2, a3, a4, a5, a6);
}

/* Reads the futex word at ADDR into *WORD without faulting: false for NULL and
 * misaligned words (the kernel rejects them: EFAULT, EINVAL) and for words the
 * process cannot read (unmapped: EFAULT from the kernel too).  One system call,
 * on a path that is about to sleep. */
static bool word_read(long addr, uint32_t *word)
{
    return addr != 0 && (addr & 3) == 0 && pw_mem_read(word, (uint64_t)addr, sizeof *word);
}

/* True when the word at ADDR can only be woken from this process although
 * the call is not FUTEX_PRIVATE (see the top): static data of a loaded module,
 * or the brk heap, which starts after the main executable (module 0). */
static bool private_memory(uint64_t addr)
{
    const struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL)
        return false;
    const struct pw_module *mods = (const struct pw_module *)(pw_tf.base + h->modules.offset);
    uint32_t n = PW_LOAD(&h->nmodules);
    if (n > h->modules.count)
        n = h->modules.count;
    for (uint32_t i = 0; i < n; i++) {
        const struct pw_module *m = &mods[i];
        if (PW_LOAD(&m->state) == 1 && m->unload_ns == 0 && addr >= m->lo && addr < m->hi)
            return true;
    }
    uint64_t brk = (uint64_t)(uintptr_t)sbrk(0); /* glibc's cached break: no system call */
    return n > 0 && PW_LOAD(&mods[0].state) == 1 && addr >= mods[0].hi && addr < brk &&
           brk != (uint64_t)-1;
}

static void wake_seen(uint64_t addr)
{
    if (PW_LIKELY(pw_tls.last_cond == addr) || addr == 0 || (addr & 3) != 0)
        return; /* NULL and misaligned words wake nobody: the kernel refuses them */
    pw_tls.last_cond = addr;
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_COND_SIGNAL,
                          .op = PW_OBJ_FUTEX,
                          .obj = addr,
                          .stack = pw_stack_capture()};
    pw_act(&ev); /* who wakes is evidence: a thread's first wake of a word is a note */
    pw_tls.guard--;
    errno = err;
}

/* A wait: park, the real call, unpark.  OBJ2 is the PI owner's TID (0 for a
 * plain wait). */
static long wait_work(uint16_t op, uint16_t flags, uint64_t obj2, long a1, long a2, long a3,
                      long a4, long a5, long a6)
{
    int err = errno;
    pw_tls.guard++;
    struct pw_thread_rec *t = pw_self();
    if (t != NULL && t->park_op != PW_OP_NONE)
        t = NULL; /* already parked by an outer wrapper: record it once */
    if (t != NULL)
        pw_park_begin(t, op, flags, (uint64_t)a1, obj2, -1, pw_stack_capture());
    pw_tls.guard--;
    errno = err;
    long rc;
    /* a futex wait is not a cancellation point, but a forced unwind (a Rust
     * panic through the wait is not one either) must not leave the park open */
    pthread_cleanup_push(pw_park_cancelled, (void *)(uintptr_t)op);
    rc = real_syscall(SYS_futex, a1, a2, a3, a4, a5, a6);
    pthread_cleanup_pop(0);
    if (t == NULL)
        return rc;
    err = errno;
    pw_tls.guard++;
    pw_park_end(t, op, (uint64_t)a1, rc, rc < 0 ? err : 0, 0);
    pw_tls.guard--;
    errno = err;
    return rc;
}

static long futex_work(long a1, long a2, long a3, long a4, long a5, long a6)
{
    int cmd = PW_FUTEX_CMD((int)a2);
    uint16_t outside = (a2 & FUTEX_PRIVATE_FLAG) || private_memory((uint64_t)a1) ? 0
                                                                                 : PW_PARK_OUTSIDE;
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_WAIT_REQUEUE_PI: {
        uint32_t word;
        if (!word_read(a1, &word) || word != (uint32_t)a3)
            break; /* EAGAIN (or the kernel's error) at once: no park */
        return wait_work(PW_OP_FUTEX_WAIT, outside | (a4 != 0 ? PW_PARK_TIMED : 0), 0, a1, a2, a3,
                         a4, a5, a6);
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2: {
        uint32_t word;
        if (!word_read(a1, &word) || (word & FUTEX_TID_MASK) == 0)
            break; /* free: the kernel takes it for us without sleeping (or errs) */
        return wait_work(PW_OP_FUTEX_LOCK_PI, outside | (a4 != 0 ? PW_PARK_TIMED : 0),
                         word & FUTEX_TID_MASK, a1, a2, a3, a4, a5, a6);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_CMP_REQUEUE_PI: /* wakes or moves the FUTEX_WAIT_REQUEUE_PI waiters */
    case FUTEX_UNLOCK_PI:
        wake_seen((uint64_t)a1);
        break;
    case FUTEX_WAKE_OP: /* wakes waiters of both words */
        wake_seen((uint64_t)a1);
        wake_seen((uint64_t)a5);
        break;
    default:
        break;
    }
    return real_syscall(SYS_futex, a1, a2, a3, a4, a5, a6);
}

PW_EXPORT long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (PW_LIKELY(nr != SYS_futex) || !pw_on())
        return real_syscall(nr, a1, a2, a3, a4, a5, a6);
    return futex_work(a1, a2, a3, a4, a5, a6);
}
