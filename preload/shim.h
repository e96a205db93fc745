/* Shim-internal declarations shared by the preload/ files.
 *
 * Everything here is hidden (the library is built with -fvisibility=hidden and a
 * version script); only interposers and parkwatch_* are exported.
 *
 * Rules every file follows (the reasons are in the project's design notes):
 *   - the recording path never allocates, never uses stdio and never takes a lock
 *     a user can see;
 *   - everything the shim does runs with the TLS guard raised, so that library-
 *     internal calls (libunwind's mutexes, the loader's locks) pass through our
 *     wrappers untouched;
 *   - on any failure the shim counts a drop and lets the program run.
 */
#ifndef PW_SHIM_H
#define PW_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parkwatch/trace.h"

#define PW_EXPORT __attribute__((visibility("default")))
#define PW_LIKELY(x) __builtin_expect(!!(x), 1)
#define PW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define PW_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define PW_LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define PW_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define PW_STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define PW_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)
#define PW_OR(p, v) __atomic_or_fetch((p), (v), __ATOMIC_ACQ_REL)

/* ---- per-thread state (initial-exec TLS: global-dynamic TLS may call malloc) */

enum pw_tls_state {
    PW_TLS_NEW = 0,   /* never seen: adopted on first use */
    PW_TLS_LIVE = 1,  /* rec is this thread's slot */
    PW_TLS_NOSLOT = 2, /* no slot was free: events are counted as dropped */
    PW_TLS_ENDED = 3, /* the thread's end was recorded; its slot may be recycled */
};

struct pw_tls {
    uint32_t guard;          /* > 0 while the shim runs: interposers pass through */
    uint32_t state;          /* enum pw_tls_state */
    struct pw_thread_rec *rec; /* NULL unless state == PW_TLS_LIVE */
    uint32_t serial;
    uint32_t captures;       /* stacks taken with backtrace() so far (see stack.c) */
    uint32_t exit_how;       /* PW_EXIT_PTHREAD_EXIT once pthread_exit was called */
    uint32_t exit_stack;
    uint32_t trampoline;     /* 1 when the thread runs under our start trampoline */
    int32_t spare_slot;      /* slot + 1 kept from a failed pthread_create, 0 = none */
    uint64_t last_cond;      /* last cond this thread signalled (COND_SIGNAL dedup) */
};

extern __thread struct pw_tls pw_tls __attribute__((tls_model("initial-exec")));

/* ---- process state */

/* Readiness lives in a MADV_WIPEONFORK page: after any fork that skipped our
 * atfork handlers (_Fork, a raw clone) the child sees 0 and re-initialises
 * before touching the parent's trace.  One load on every interposer call. */
enum pw_ready { PW_READY_NO = 0, PW_READY_OFF = 1, PW_READY_REC = 2 };
struct pw_proc {
    uint32_t ready;          /* enum pw_ready */
    int32_t pid;
};
extern struct pw_proc *pw_proc;

#include "options.h"
#include "depot.h"
#include "ring.h"

struct pw_slot_priv;
struct pw_chan_priv;

struct pw_global {
    struct pw_options opt;
    struct pw_trace_header *hdr; /* NULL while recording is off */
    char *base;                  /* == (char *)hdr */
    uint64_t size;
    uint64_t start_mono;         /* header.start_mono_ns, kept here for pw_now */
    struct pw_depot depot;
    uint32_t max_threads;
    uint32_t ring_events;
    uint32_t stack_depth;
    int32_t pid;
    uint64_t self_lo, self_hi;   /* the shim's own code: its frames are skipped */
    uint64_t *fdtab;             /* per fd: see fdtab.c */
    uint32_t nfds;
    uint32_t fd_hi;              /* 1 + the highest fd ever made a channel fd */
    struct pw_slot_priv *slots;  /* per thread slot, shim memory (not in the file) */
    struct pw_chan_priv *chans;  /* per channel record, shim memory */
    char trace_path[1024];
    char trace_dir[PW_EXE_MAX];
};
extern struct pw_global pw_g;

/* ---- init.c */
bool pw_on_slow(void);
void pw_fork_prepare(void);
void pw_fork_parent(void);
void pw_fork_child(void);

/* True when the calling interposer should record.  Everything it needs (the real
 * table, the trace) is ready when it returns true. */
static inline bool pw_on(void)
{
    if (PW_LIKELY(PW_LOAD_RELAXED(&pw_proc->ready) == PW_READY_REC && pw_tls.guard == 0))
        return true;
    return pw_on_slow();
}

/* ---- util.c: no stdio, no malloc */
uint64_t pw_now(void);           /* CLOCK_MONOTONIC ns since header.start_mono_ns */
uint64_t pw_mono_abs(void);
void pw_warn(const char *first, ...) __attribute__((sentinel));
size_t pw_strlcpy(char *dst, const char *src, size_t cap);
size_t pw_append(char *dst, size_t pos, size_t cap, const char *src);
size_t pw_append_u64(char *dst, size_t pos, size_t cap, uint64_t v);
int pw_gettid(void);
ssize_t pw_sys_read(int fd, void *buf, size_t n);
int pw_sys_close(int fd);
void *pw_anon_map(size_t bytes);

/* ---- tracefile.c */
#define PW_PAGE 4096u
int pw_trace_create(int32_t ppid);  /* 0 = recording; -1 = off (warned) */
void pw_trace_detach(void);         /* forget the current mapping (fork child) */
bool pw_trace_reserve(void *addr, uint64_t len); /* back pages before use; false = recording stopped */
/* How far a front-filled section is backed (pw_trace_back). */
struct pw_backing {
    char *sec;
    uint64_t to;
};
#define PW_BACK_STEP 16384u
bool pw_trace_back(struct pw_backing *b, char *sec, uint64_t sec_size, uint64_t upto);

/* ---- event.c (ring.h has the raw writers) */
void pw_emit(struct pw_event *ev);   /* into the calling thread's ring */
void pw_note(struct pw_event *ev);   /* into the notes log (never overwritten) */

/* ---- threads.c */
struct pw_thread_rec *pw_self_slow(void);
static inline struct pw_thread_rec *pw_self(void)
{
    if (PW_LIKELY(pw_tls.rec != NULL))
        return pw_tls.rec;
    return pw_self_slow();
}
int32_t pw_slot_take(void);
void pw_slot_give_back(int32_t slot);
struct pw_thread_rec *pw_slot(uint32_t i);
uint32_t pw_slot_of(const struct pw_thread_rec *t);
void pw_thread_map(uint64_t pthread, uint32_t slot);
struct pw_thread_rec *pw_thread_find(uint64_t pthread);
void pw_thread_begin(uint32_t slot, uint32_t trampoline);
void pw_thread_end(uint32_t how, uint32_t stack);
void pw_threads_reset_private(void);

/* Held set: the locks the thread holds, mirrored in its record (hot path). */
static inline void pw_held_push(struct pw_thread_rec *t, uint64_t obj, uint8_t type)
{
    uint32_t n = t->nheld;
    if (PW_LIKELY(n < PW_HELD_MAX)) {
        t->held[n] = obj;
        t->held_type[n] = type;
    } else {
        t->held_overflow++;
    }
    PW_STORE_RELAXED(&t->nheld, n + 1);
}
void pw_held_pop_slow(struct pw_thread_rec *t, uint64_t obj);
/* Unlock: the released lock is almost always the last one taken. */
static inline void pw_held_pop(struct pw_thread_rec *t, uint64_t obj)
{
    uint32_t n = t->nheld;
    if (PW_LIKELY(n != 0 && n <= PW_HELD_MAX && t->held[n - 1] == obj)) {
        PW_STORE_RELAXED(&t->nheld, n - 1);
        return;
    }
    pw_held_pop_slow(t, obj);
}

/* ---- lockorder.c: lock-order edges ("B taken while holding A").
 *
 * Every lock family calls pw_lock_acquired instead of pw_held_push once the
 * real call succeeded:
 *     pw_lock_acquired(t, (uint64_t)(uintptr_t)lock, type, try, pc);
 * type is the PW_OBJ_* of the lock, | PW_HELD_READ for an rwlock held for
 * reading; try is true for trylock (the entry is pushed, no edge is recorded:
 * a trylock cannot deadlock); pc is __builtin_return_address(0) taken in the
 * exported interposer (the "A acquired here" site when this lock is later held
 * while taking another one; 0 if unknown).  Unlock stays pw_held_pop. */
#define PW_HELD_READ 0x80u
#define PW_LO_CACHE 64u
#define PW_LO_MEMO_DEPTH 8u
struct pw_lo_tls {
    uint64_t obj[PW_HELD_MAX];     /* what was pushed at each held position */
    uint64_t pc[PW_HELD_MAX];      /* return address of the call that took it */
    uint32_t stack[PW_HELD_MAX];   /* its whole stack when an edge captured one */
    uint32_t epoch;                /* lockorder.c's epoch the cache belongs to */
    uint64_t cache[PW_LO_CACHE];   /* (held set, B) keys already processed */
    /* memo[n]: the last (held set of n locks, B) processed, exactly: code that
     * takes the same nested locks again and again (the common case) matches
     * it with n + 1 compares, before hashing the set for the cache. */
    struct {
        uint64_t b;                      /* B | type << 56; 0 = empty */
        uint64_t held[PW_LO_MEMO_DEPTH]; /* held[i] | held_type[i] << 56 */
    } memo[PW_LO_MEMO_DEPTH + 1];
};
extern __thread struct pw_lo_tls pw_lo __attribute__((tls_model("initial-exec")));
void pw_lockorder_init(void);
void pw_lock_edges(struct pw_thread_rec *t, uint32_t n, uint64_t b, uint8_t btype);
bool pw_lock_reborn(uint64_t addr); /* init/destroy: true = record it as a note */
/* Records a lock init/destroy (LOCK_INIT / LOCK_DESTROY) of OBJ, of PW_OBJ_* TYPE. */
void pw_lock_life(uint16_t kind, uint16_t type, uint64_t obj, int rc);

static inline __attribute__((always_inline)) void
pw_lock_acquired(struct pw_thread_rec *t, uint64_t obj, uint8_t type, bool try, uint64_t pc)
{
    uint32_t n = t->nheld;
    if (PW_LIKELY(n < PW_HELD_MAX)) {
        pw_lo.obj[n] = obj;
        pw_lo.pc[n] = pc;
        pw_lo.stack[n] = 0;
    }
    if (n != 0 && !try)
        pw_lock_edges(t, n, obj, type);
    pw_held_push(t, obj, type);
}

/* Park state under the record's seqlock; both also write the ring event. */
void pw_park_begin(struct pw_thread_rec *t, uint16_t op, uint16_t flags, uint64_t obj,
                   uint64_t obj2, int32_t fd, uint32_t stack);
void pw_park_end(struct pw_thread_rec *t, uint16_t op, uint64_t obj, int64_t result, int err,
                 uint64_t arg);
/* Cleanup handler for cancellable parks: clears the park of the calling thread. */
void pw_park_cancelled(void *op);

/* ---- stack.c */
uint32_t pw_stack_capture(void);
void pw_stack_warmup(void);
void pw_stack_after_fork(void); /* fork child: backtrace() only */

/* ---- watchdog.c: starts `parkwatch watch` as a sidecar when watchdog=1 */
void pw_watchdog_start(void);

/* ---- modules.c */
void pw_modules_refresh(void);
void pw_modules_lock(void);
void pw_modules_unlock(void);

/* ---- userchan.c: annotated user queues (include/parkwatch.h).  Between
 * parkwatch_chan_send_begin/_end (recv_begin/_end) the thread is inside an
 * operation on queue ID: a cond wait there is a park on the queue (i_cond.c
 * records op PW_OP_USER_SEND/RECV, obj = channel id, obj2 = the cond). */
struct pw_uq_cur {
    uint16_t op;   /* PW_OP_USER_SEND / PW_OP_USER_RECV, PW_OP_NONE outside */
    uint16_t dead; /* a send begun after the close: not counted as sent */
    uint32_t id;   /* channel id */
    uint32_t last_sent, last_recv; /* queue of the thread's last send/recv event */
};
extern __thread struct pw_uq_cur pw_uq_cur __attribute__((tls_model("initial-exec")));

/* A park in *OP on *OBJ (a cond, a sem) that happens inside an annotated queue
 * operation is a park on the queue: the object moves to *OBJ2. */
static inline void pw_uq_park(uint16_t *op, uint64_t *obj, uint64_t *obj2)
{
    if (PW_LIKELY(pw_uq_cur.op == PW_OP_NONE))
        return;
    *op = pw_uq_cur.op;
    *obj2 = *obj;
    *obj = pw_uq_cur.id;
}

/* ---- fdtab.c (channels) */
int pw_fdtab_init(void);
void pw_chans_inherit(struct pw_trace_header *old, void *old_base);

#endif
