/* Stack capture.  Measured on the target machines:
 *   unw_backtrace  ~150 ns warm, but ~600 us for the first call in a thread
 *                  (it maps a 256 KiB per-thread cache);
 *   backtrace()    ~2.3 us every time (after one process-wide warm-up, whose
 *                  first call dlopens libgcc_s).
 * A thread that parks once right after it starts would pay 600 us, so each
 * thread takes its first PW_BT_CUTOFF stacks with backtrace() and switches to
 * unw_backtrace after that, when it has shown it parks often. */
#define UNW_LOCAL_ONLY
#include <execinfo.h>
#include <libunwind.h>

#include "shim.h"

/* 4 x 2.3 us < 1/60 of the first unw_backtrace: cheap insurance for short-
 * lived threads, noise for long-lived ones. */
#ifndef PW_BT_CUTOFF
#define PW_BT_CUTOFF 4u
#endif
/* Frames of the shim itself above the caller (capture, worker, interposer;
 * libunwind/libgcc frames too): room for them beyond stack_depth. */
#define PW_SKIP_ROOM 8

/* Set in a fork child for good: another thread of the parent may have been
 * inside unw_backtrace at the fork, and libunwind's own mutex is then
 * inherited locked (seen: a fork child hung in its first capture). */
static uint32_t no_libunwind;

void pw_stack_after_fork(void)
{
    no_libunwind = 1;
}

static unsigned grab(void **buf, int want)
{
    int n;
    if (pw_tls.captures < PW_BT_CUTOFF || no_libunwind) {
        pw_tls.captures++;
        n = backtrace(buf, want);
    } else {
        n = unw_backtrace(buf, want);
    }
    return n > 0 ? (unsigned)n : 0;
}

/* Must be called with the guard raised (the unwinders take locks through our
 * wrappers).  pcs[0] is the return address into the interposer's caller. */
uint32_t pw_stack_capture(void)
{
    void *buf[PW_STACK_MAX_FRAMES + PW_SKIP_ROOM];
    uint64_t pcs[PW_STACK_MAX_FRAMES];
    unsigned n = grab(buf, (int)(pw_g.stack_depth + PW_SKIP_ROOM));
    unsigned k = 0;
    /* every shim frame goes: the capture machinery on top, the start
     * trampoline at the bottom of a created thread's stack */
    for (unsigned i = 0; i < n && k < pw_g.stack_depth; i++) {
        uint64_t pc = (uint64_t)(uintptr_t)buf[i];
        if (pc < pw_g.self_lo || pc >= pw_g.self_hi)
            pcs[k++] = pc;
    }
    /* the pool grows into holes of the file: back them first (full disk) */
    static struct pw_backing pool;
    if (!pw_trace_back(&pool, pw_g.depot.pool, pw_g.depot.pool_size,
                       PW_LOAD_RELAXED(pw_g.depot.used) + sizeof(struct pw_stack_rec) + sizeof pcs))
        return 0;
    return pw_depot_put(&pw_g.depot, pcs, k);
}

/* backtrace()'s first call loads libgcc_s: do it once at init, under the guard,
 * not inside the first park of some thread. */
void pw_stack_warmup(void)
{
    void *buf[4];
    backtrace(buf, 4);
}
