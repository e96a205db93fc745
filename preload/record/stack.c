/* Stack capture.  Measured on the target machines:
 *   unw_backtrace  ~150 ns warm, but ~600 us for the first call in a thread
 *                  (it maps a 256 KiB per-thread cache);
 *   backtrace()    ~2.3 us every time (after one process-wide warm-up, whose
 *                  first call dlopens libgcc_s).
 * A thread that parks once right after it starts would pay 600 us, so each
 * thread takes its first PW_BT_CUTOFF stacks with libgcc's unwinder (what
 * backtrace() runs) and switches to unw_backtrace after that, when it has
 * shown it parks often.
 *
 * A thread that parks again and again at one place (an event loop's
 * epoll_wait, once per request) does not unwind each time: a small per-thread
 * cache remembers, per capture site, where on the stack each return address of
 * the chain was stored, and which depot id the chain got.  A capture whose
 * site matches re-reads those slots; if every one still holds the same return
 * address the chain is the same and so is its stack id.  See sc_find.
 *
 * No fd, ever.  libunwind 1.6 validates memory, when a frame has no unwind
 * information and it guesses the caller from the frame pointer, by writing
 * the address into a private pipe (mincore, then read and write on the pipe);
 * it creates that pipe when it initialises and remembers the fd numbers.  A
 * host that closes fds it did not open (close_range(3, ~0U), daemons) and
 * opens new ones on the same numbers then had one byte of its data eaten and
 * one byte of our memory written into its fds, or its fds closed and replaced
 * by a pipe (varnishd's listen socket turned into one); and the pipe itself
 * shifted the host's fd numbers.  So: libunwind is initialised once, at our
 * init, with pipe creation refused (pw_stack_refuses_fds, checked by the pipe
 * interposers), and its local address space reads memory through
 * safe_access_mem, which validates without any fd (process_vm_readv on our
 * own pid) and never calls libunwind's validation.  libgcc's unwinder stops
 * at a frame without unwind information and touches no fd: where it does, the
 * capture goes on with libunwind, as every later one would (in a fork child,
 * where libunwind is off, with the frame pointers, validated the same way),
 * so that a thread's first stacks are as deep as its later ones. */
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>
#include <string.h>
#include <unistd.h>
#include <unwind.h>

#include "config.h"
#include "depot.h"
#include "shim.h"
#include "stack.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

/* 4 x 2.3 us < 1/60 of the first unw_backtrace: cheap insurance for short-
 * lived threads, noise for long-lived ones. */
#ifndef PW_BT_CUTOFF
#define PW_BT_CUTOFF 4u
#endif
/* Frames of the shim itself above the caller (capture, worker, interposer;
 * libunwind/libgcc frames too): room for them beyond stack_depth. */
#define PW_SKIP_ROOM 8
#define PW_RAW_MAX (PW_STACK_MAX_FRAMES + PW_SKIP_ROOM)

/* ---- the per-thread cache
 *
 * Key: pw_stack_capture's own CFA and return address (the shim site that asks
 * and how deep the stack is there).  An entry lists the slots, above that CFA,
 * that held the return addresses of the chain when it was unwound (a frame's
 * return address sits just below its CFA on x86-64), each checked at fill time
 * to really hold it, and the values.  A lookup compares slot by slot from the
 * innermost out and stops at the first difference: while the return addresses
 * agree the frames are the same functions at the same call sites, so the next
 * slot is the return-address slot of a live frame of the current chain (never
 * memory past the stack).  Chains through a signal frame, or longer than
 * PW_SC_SLOTS, are not cached.
 *
 * Entries are filled with libgcc's unwinder, which reports each frame's CFA
 * (unw_step would, but costs ~40 us a stack here): for free during the first
 * PW_BT_CUTOFF captures, else only for a site seen missing twice (a site that
 * never repeats keeps the cheap unw_backtrace), and while fills pay off.
 * Only this thread reads or writes its cache, always with the guard raised (a
 * signal handler's calls pass through): no atomics needed.  A fork child gets a
 * new depot, so pw_stack_after_fork empties the cache. */
#define PW_SC_WAYS 4u
#define PW_SC_SLOTS 40u
#define PW_SC_SEEN 4u
#define PW_SC_FILL_FREE 8u /* fills allowed before hits must keep up */
#define PW_SC_RETRY 256u   /* refused fills before the budget is reset */

struct pw_sc_ent {
    uint64_t cfa, ra; /* key; ra == 0: empty */
    const char *pool; /* the depot id belongs to */
    uint32_t id;
    uint32_t n;                /* slots to compare */
    uint16_t off[PW_SC_SLOTS]; /* slot i is at cfa + 8 * off[i] ... */
    uint64_t val[PW_SC_SLOTS]; /* ... and held val[i] */
};

struct pw_sc {
    struct pw_sc_ent e[PW_SC_WAYS];
    uint64_t seen[PW_SC_SEEN]; /* keys that missed once (hashed) */
    uint32_t next;             /* round-robin victim */
    uint32_t hits, fills, refused;
};

static __thread struct pw_sc pw_sc __attribute__((tls_model("initial-exec")));

/* Set in a fork child for good: another thread of the parent may have been
 * inside unw_backtrace at the fork, and libunwind's own mutex is then
 * inherited locked (seen: a fork child hung in its first capture). */
static uint32_t no_libunwind;

uint64_t pw_self_lo, pw_self_hi;

/* Raised while this thread runs libunwind: its pipe creation is refused. */
static __thread uint32_t nofd __attribute__((tls_model("initial-exec")));

bool pw_stack_refuses_fds(void)
{
    return nofd != 0;
}

/* libunwind's own reader of the local address space (a direct load). */
static int (*unw_access_mem)(unw_addr_space_t, unw_word_t, unw_word_t *, int, void *);

/* libunwind passes its "validate this address" flag in bit 0 of the accessor
 * argument (AS_ARG_VALIDATE_MASK in 1.6 to 1.8, internal): set for guessed
 * frames.  Such a read is done by the kernel, which fails cleanly on an
 * unmapped address: no fd, no signal.  An older libunwind that keeps the flag
 * elsewhere reaches its own validation, whose pipe we refused: the read then
 * fails and the stack ends at the frame without unwind information. */
static int safe_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
                           void *arg)
{
    if (write || ((uintptr_t)arg & 1u) == 0)
        return unw_access_mem(as, addr, val, write, arg);
    return pw_mem_read(val, addr, sizeof *val) ? 0 : -1;
}

/* libunwind initialises on its first use (pipe included): make that use this
 * one, at our init, with pipe creation refused, and put safe_access_mem in
 * front of its reader.  Were the host first (libunwind initialised by its own
 * use), the pipe is the host's, and still never used for our stacks. */
static void unw_setup(void)
{
    nofd = 1;
    unw_accessors_t *acc = unw_get_accessors(unw_local_addr_space);
    nofd = 0;
    if (acc == NULL || acc->access_mem == NULL) {
        no_libunwind = 1;
        return;
    }
    if (acc->access_mem != safe_access_mem) {
        unw_access_mem = acc->access_mem;
        acc->access_mem = safe_access_mem;
    }
}

void pw_stack_after_fork(void)
{
    no_libunwind = 1;
    memset(&pw_sc, 0, sizeof pw_sc);
}

static uint64_t sc_key(uint64_t cfa, uint64_t ra)
{
    uint64_t h = (cfa ^ (ra << 17)) * 0x9e3779b97f4a7c15ull;
    return (h ^ (h >> 31)) | 1;
}

static uint32_t sc_find(uint64_t cfa, uint64_t ra)
{
    for (uint32_t w = 0; w < PW_SC_WAYS; w++) {
        const struct pw_sc_ent *e = &pw_sc.e[w];
        if (e->ra != ra || e->cfa != cfa || e->pool != pw_tf.depot.pool)
            continue;
        uint32_t i = 0;
        while (i < e->n && *(const uint64_t *)(uintptr_t)(cfa + 8u * e->off[i]) == e->val[i])
            i++;
        if (i == e->n) {
            pw_sc.hits++;
            return e->id;
        }
    }
    return 0;
}

/* Whether a miss at this key unwinds with CFAs to fill an entry. */
static bool sc_want_fill(uint64_t cfa, uint64_t ra)
{
    uint64_t k = sc_key(cfa, ra);
    uint64_t *seen = &pw_sc.seen[(k >> 40) % PW_SC_SEEN];
    if (*seen != k) {
        *seen = k; /* first miss here: maybe a site that never comes back */
        return false;
    }
    if (pw_sc.fills >= PW_SC_FILL_FREE && pw_sc.hits < pw_sc.fills) {
        /* filling does not pay off in this thread: try again now and then */
        if (++pw_sc.refused < PW_SC_RETRY)
            return false;
        pw_sc.refused = pw_sc.fills = pw_sc.hits = 0;
    }
    *seen = 0;
    return true;
}

/* Raw frames 0..N) of a walk: frame f ran at ip[f], and its return address
 * (ip[f] itself) was read from cfa[f] - 8, cfa[f] being its callee's CFA (what
 * libgcc's _Unwind_GetCFA reports).  LAST is the last frame whose ip went into
 * the stack. */
static void sc_fill(uint64_t cfa, uint64_t ra, void *const *ip, const uint64_t *cfas, unsigned n,
                    unsigned last, uint32_t id)
{
    unsigned j = 0;
    while (j < n && cfas[j] != cfa)
        j++; /* frame j is pw_stack_capture's caller, ra its ip */
    if (j >= n || j > last || (uint64_t)(uintptr_t)ip[j] != ra || last - j > PW_SC_SLOTS)
        return;
    struct pw_sc_ent e = {.cfa = cfa, .ra = ra, .pool = pw_tf.depot.pool, .id = id};
    for (unsigned f = j + 1; f <= last; f++) {
        uint64_t slot = cfas[f] - 8, want = (uint64_t)(uintptr_t)ip[f];
        if (slot < cfa || slot - cfa > 8ull * UINT16_MAX || (slot & 7) != 0 ||
            *(const uint64_t *)(uintptr_t)slot != want)
            return; /* a signal frame, a stack switch: not a plain call chain */
        e.off[e.n] = (uint16_t)((slot - cfa) / 8);
        e.val[e.n++] = want;
    }
    pw_sc.e[pw_sc.next++ % PW_SC_WAYS] = e;
    pw_sc.fills++;
}

/* ---- unwinding */

/* libgcc's, exported by libgcc_s (not in its public header): the FDE covering
 * PC, NULL when no module has unwind information for it. */
struct dwarf_eh_bases {
    void *tbase, *dbase, *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

struct walk {
    void **ip;
    uint64_t *cfa;
    int n, want;
    uint64_t fp; /* the last frame's frame pointer (rbp) */
};

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    void *ip = (void *)_Unwind_GetIP(ctx);
    uint64_t cfa = (uint64_t)_Unwind_GetCFA(ctx);
    /* no progress: a broken chain (glibc's backtrace stops there too) */
    if (w->n > 0 && w->ip[w->n - 1] == ip && w->cfa[w->n - 1] == cfa)
        return _URC_END_OF_STACK;
    w->ip[w->n] = ip;
    w->cfa[w->n] = cfa;
    w->fp = (uint64_t)_Unwind_GetGR(ctx, 6); /* DWARF register 6: rbp */
    return ++w->n == w->want ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/* libgcc's unwinder, as backtrace() runs it, keeping each frame's CFA.  Frame
 * 0 is the caller of _Unwind_Backtrace (inlined here: pw_stack_capture).
 * *STUCK is set when it stopped at a frame without unwind information (libgcc
 * neither guesses nor goes on there), with that frame's frame pointer: an end
 * of the stack has unwind information saying so (_start, clone). */
static inline __attribute__((always_inline)) unsigned walk(void **ip, uint64_t *cfa, int want,
                                                           uint64_t *stuck)
{
    struct walk w = {.ip = ip, .cfa = cfa, .want = want};
    _Unwind_Reason_Code rc = _Unwind_Backtrace(walk_frame, &w);
    if (w.n > 1 && w.ip[w.n - 1] == NULL)
        w.n--; /* libgcc reports a NULL frame above _start */
    else if (rc == _URC_END_OF_STACK && w.n > 0 && w.n < want && w.fp != 0) {
        /* the ends of a stack (_start, clone's child) clear rbp, as the ABI
         * asks: no lookup there, on every capture.  ip - 1: a return address
         * may be just past its function's end. */
        struct dwarf_eh_bases bases;
        if (_Unwind_Find_FDE((char *)w.ip[w.n - 1] - 1, &bases) == NULL)
            *stuck = w.fp;
    }
    return (unsigned)w.n;
}

/* Beyond a frame without unwind information by its frame pointer FP (that
 * frame's rbp: the saved rbp of its caller at FP, the return address above
 * it), frames N.. of IP and CFA, as far as the chain goes up the stack.  Each
 * read is checked by the kernel (pw_mem_read: no fd, no signal); each frame
 * must lie above the last one, and not far; and each return address must be
 * code with unwind information: an optimised caller keeps no frame pointer,
 * and its rbp, followed, reads garbage (a thread's descriptor, above its
 * stack), which this ends.  Two frames without unwind information in a row
 * end the walk too: the price of never guessing. */
static unsigned fp_walk(void **ip, uint64_t *cfa, unsigned n, unsigned want, uint64_t fp)
{
    uint64_t below = n ? cfa[n - 1] : 0;
    struct dwarf_eh_bases bases;
    while (n < want && fp >= below && fp - below < (1u << 20) && (fp & 7) == 0) {
        uint64_t fr[2]; /* saved rbp, return address */
        if (!pw_mem_read(fr, fp, sizeof fr) || fr[1] < 4096 ||
            _Unwind_Find_FDE((void *)(uintptr_t)(fr[1] - 1), &bases) == NULL)
            break;
        ip[n] = (void *)(uintptr_t)fr[1];
        cfa[n++] = fp + 16; /* the return address sits at cfa - 8, as for libgcc's */
        below = fp + 16;
        fp = fr[0];
    }
    return n;
}

/* Must be called with the guard raised (the unwinders take locks through our
 * wrappers).  pcs[0] is the return address into the interposer's caller.  Not
 * inlined: its own CFA and return address are the cache key. */
/* How far the depot pool is backed (shared by both ways of storing a stack). */
static struct pw_backing depot_pool;

__attribute__((noinline)) uint32_t pw_stack_capture(void)
{
    uint64_t cfa = (uint64_t)(uintptr_t)__builtin_dwarf_cfa();
    uint64_t ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
    uint32_t id = sc_find(cfa, ra);
    if (id != 0)
        return id;
    void *buf[PW_RAW_MAX];
    uint64_t cfas[PW_RAW_MAX];
    uint64_t pcs[PW_STACK_MAX_FRAMES];
    int want = (int)(pw_cfg.stack_depth + PW_SKIP_ROOM);
    bool early = pw_tls.captures < PW_BT_CUTOFF || no_libunwind;
    bool fill = early || sc_want_fill(cfa, ra);
    unsigned n = 0;
    uint64_t stuck = 0;
    if (fill) {
        if (early)
            pw_tls.captures++;
        n = walk(buf, cfas, want, &stuck);
    }
    if (stuck != 0 && no_libunwind) {
        /* a fork child (see no_libunwind): the frame pointers, validated */
        n = fp_walk(buf, cfas, n, (unsigned)want, stuck);
    } else if (!fill || stuck != 0) {
        /* libunwind goes on where libgcc stopped (it guesses from the frame
         * pointer and, through safe_access_mem, validates without an fd): the
         * same stack as every later capture gives, at the price of its first
         * call in this thread (see the top) for such threads only.  Without
         * the CFAs no cache entry is filled here. */
        fill = false;
        nofd = 1;
        int got = unw_backtrace(buf, want);
        nofd = 0;
        n = got > 0 ? (unsigned)got : 0;
    }
    unsigned k = 0, last = 0;
    /* every shim frame goes: the capture machinery on top, the start
     * trampoline at the bottom of a created thread's stack */
    for (unsigned i = 0; i < n && k < pw_cfg.stack_depth; i++) {
        uint64_t pc = (uint64_t)(uintptr_t)buf[i];
        if (pc < pw_self_lo || pc >= pw_self_hi)
            pcs[k++] = pc;
        last = i;
    }
    /* the pool grows into holes of the file: back them first (full disk) */
    if (!pw_trace_back(&depot_pool, pw_tf.depot.pool, pw_tf.depot.pool_size,
                       PW_LOAD_RELAXED(pw_tf.depot.used) + sizeof(struct pw_stack_rec) +
                           sizeof pcs))
        return 0;
    id = pw_depot_put(&pw_tf.depot, pcs, k);
    if (fill && id != 0)
        sc_fill(cfa, ra, buf, cfas, n, last, id);
    return id;
}

/* A stack of the N raw return addresses PCS, made elsewhere than by walking
 * (a thread's start routine as the site of its return). */
uint32_t pw_stack_of_pcs(const uint64_t *pcs, unsigned n)
{
    if (!pw_trace_back(&depot_pool, pw_tf.depot.pool, pw_tf.depot.pool_size,
                       PW_LOAD_RELAXED(pw_tf.depot.used) + sizeof(struct pw_stack_rec) +
                           n * sizeof(uint64_t)))
        return 0;
    return pw_depot_put(&pw_tf.depot, pcs, n);
}

/* The unwinder's first call sets itself up (and may take the loader's locks):
 * do it once at init, under the guard, not inside the first park of some
 * thread. */
void pw_stack_warmup(void)
{
    void *buf[4];
    uint64_t cfa[4], stuck = 0;
    walk(buf, cfa, 4, &stuck);
    unw_setup();
}
