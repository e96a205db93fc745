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
 *     by one thread, like a sem_post; arg=1 for a wake of all), with its stack
 *     (the stack capture keeps a per-call-site cache, so a repeated site costs
 *     a few compares).
 * A futex without FUTEX_PRIVATE_FLAG can be woken by another process when its
 * word lies in memory that process maps too: such parks carry PW_PARK_OUTSIDE,
 * like a process-shared semaphore's.  libstdc++'s std::future never sets the
 * flag, though its words live in the heap, where the kernel keys even a
 * "shared" futex by this process's address space (private anonymous or
 * copied-on-write pages).  So a word inside a loaded module's range or in the
 * brk heap counts as private; anywhere else (mmap'd memory, thread arenas,
 * stacks) the shim cannot tell without reading the mappings and says
 * "outside".  The analyzer reads them where a verdict is taken (the watcher;
 * the exit snapshot, which exitsnap.c starts for such parks) and turns waits
 * in private anonymous memory back into in-process ones.
 *
 * A FUTEX_WAIT whose word no longer holds the expected value returns EAGAIN at
 * once without sleeping: the wrapper compares first and records nothing then
 * (a ping-pong where the partner already moved on costs no park).  The word is
 * the host's argument and may point anywhere: it is loaded directly only where
 * the shim knows memory is mapped (a loaded module's data segment, the brk
 * heap up to the current break: word_read), and otherwise read through the
 * kernel (pw_mem_read, one system call), so a word on an unmapped page makes
 * the read fail where a load would fault in the shim; the call then goes to
 * the kernel untouched (its EFAULT, errno and all) and nothing is recorded.
 * NULL and misaligned words (the common bad arguments, EFAULT / EINVAL from
 * the kernel) are passed through without even that.
 *
 * Nothing is recorded twice: glibc's pthread objects use inline system calls,
 * never syscall(), and a futex call made while the thread is already parked
 * in one of our wrappers (a library's internal wait) or with the guard raised
 * goes to the kernel untouched.  SYS_futex_waitv (several words at once) is
 * passed through like any other number: no library the shim follows uses it
 * yet, and a wait on a set of words would need a set object (README,
 * Limitations). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "acts.h"
#include "event.h"
#include "init.h"
#include "modules.h"
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

/* The break at the first futex wait the shim followed: the brk heap between
 * it and the current break is mapped (the kernel keeps [start_brk, brk) one
 * mapping, and any break ever seen is at or above start_brk).  Heap memory
 * below it (allocated before that first wait) is read through the kernel. */
static uint64_t heap_lo;

/* The current break, from glibc's cached value (sbrk(0) makes no system call
 * once malloc has used the heap); 0 when unknown. */
static uint64_t heap_hi(void)
{
    uint64_t brk = (uint64_t)(uintptr_t)sbrk(0);
    return brk == (uint64_t)-1 ? 0 : brk;
}

/* Reads the futex word at ADDR into *WORD without faulting: false for NULL and
 * misaligned words (the kernel rejects them: EFAULT, EINVAL) and for words the
 * process cannot read (unmapped: EFAULT from the kernel too).  WHERE is ADDR's
 * place among the modules.  A word in a module's data segment or in the part
 * of the brk heap known mapped is loaded directly: that memory stays mapped for
 * as long as the host may legally use the word (the module is loaded, the heap
 * was not trimmed below it); only a host that waits on memory it is freeing in
 * another thread at that moment could lose it in between, and that host is
 * already reading freed memory.  Anything else (mmap'd memory, thread arenas,
 * stacks, a bad pointer) goes through the kernel: one system call. */
static bool word_read(long addr, enum pw_mod_where where, uint32_t *word)
{
    if (addr == 0 || (addr & 3) != 0)
        return false;
    uint64_t a = (uint64_t)addr;
    uint64_t lo = PW_LOAD_RELAXED(&heap_lo);
    if (PW_UNLIKELY(lo == 0))
        PW_STORE_RELAXED(&heap_lo, lo = heap_hi()); /* racing threads store breaks alike */
    if (where == PW_MOD_DATA || (lo != 0 && a >= lo && a < heap_hi())) {
        *word = __atomic_load_n((const uint32_t *)(uintptr_t)addr, __ATOMIC_RELAXED);
        return true;
    }
    return pw_mem_read(word, a, sizeof *word);
}

/* True when the word at ADDR can only be woken from this process although
 * the call is not FUTEX_PRIVATE (see the top): static data of a loaded module,
 * or the brk heap, which starts after the main executable (module 0). */
static bool private_memory(uint64_t addr, enum pw_mod_where where)
{
    if (where != PW_MOD_NONE)
        return true;
    const struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL || PW_LOAD(&h->nmodules) == 0)
        return false;
    const struct pw_module *exe = (const struct pw_module *)(pw_tf.base + h->modules.offset);
    uint64_t brk = heap_hi();
    return PW_LOAD(&exe->state) == 1 && addr >= exe->hi && addr < brk;
}

/* A wait's park flags: outside unless private (see the top), timed when a
 * timeout is given. */
static uint16_t wait_flags(long addr, long op, long timeout, enum pw_mod_where where)
{
    uint16_t f = timeout != 0 ? PW_PARK_TIMED : 0;
    if (!(op & FUTEX_PRIVATE_FLAG) && !private_memory((uint64_t)addr, where))
        f |= PW_PARK_OUTSIDE;
    return f;
}

/* A wake of ADDR; ALL for a wake of every waiter (INT_MAX of them, as
 * libstdc++'s notify_all, Rust's notify_all and GLib's broadcast ask): the
 * analyzer starts a new life of the word at the first wait after a wake-all
 * left nobody waiting (model.c, futex generations).  A run of wakes of one
 * word by one thread is recorded once, a wake-all and a wake-one apart (the
 * key's bit 0, free in an aligned address, is ALL). */
static void wake_seen(uint64_t addr, bool all)
{
    uint64_t key = addr | (all ? 1u : 0u);
    if (PW_LIKELY(pw_tls.last_cond == key) || addr == 0 || (addr & 3) != 0)
        return; /* NULL and misaligned words wake nobody: the kernel refuses them */
    pw_tls.last_cond = key;
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_COND_SIGNAL,
                          .op = PW_OBJ_FUTEX,
                          .obj = addr,
                          .arg = all,
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
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_WAIT_REQUEUE_PI: {
        uint32_t word;
        enum pw_mod_where where = pw_modules_where((uint64_t)a1);
        if (!word_read(a1, where, &word) || word != (uint32_t)a3)
            break; /* EAGAIN (or the kernel's error) at once: no park */
        return wait_work(PW_OP_FUTEX_WAIT, wait_flags(a1, a2, a4, where), 0, a1, a2, a3, a4, a5,
                         a6);
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2: {
        uint32_t word;
        enum pw_mod_where where = pw_modules_where((uint64_t)a1);
        if (!word_read(a1, where, &word) || (word & FUTEX_TID_MASK) == 0)
            break; /* free: the kernel takes it for us without sleeping (or errs) */
        return wait_work(PW_OP_FUTEX_LOCK_PI, wait_flags(a1, a2, a4, where), word & FUTEX_TID_MASK,
                         a1, a2, a3, a4, a5, a6);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        wake_seen((uint64_t)a1, (int)a3 == INT_MAX);
        break;
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_CMP_REQUEUE_PI: /* wakes or moves the FUTEX_WAIT_REQUEUE_PI waiters */
    case FUTEX_UNLOCK_PI:
        wake_seen((uint64_t)a1, false);
        break;
    case FUTEX_WAKE_OP: /* wakes waiters of both words */
        wake_seen((uint64_t)a1, false);
        wake_seen((uint64_t)a5, false);
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
