/* Lock-order edges (lockorder.c) ("B taken while holding A").
 *
 * Every lock family calls pw_lock_acquired instead of pw_held_push once the
 * real call succeeded:
 *     pw_lock_acquired(t, (uint64_t)(uintptr_t)lock, type, try, pc);
 * type is the PW_OBJ_* of the lock, | PW_HELD_READ for an rwlock held for
 * reading; try is true for trylock (the entry is pushed, no edge is recorded:
 * a trylock cannot deadlock); pc is __builtin_return_address(0) taken in the
 * exported interposer (the "A acquired here" site when this lock is later held
 * while taking another one; 0 if unknown).  Unlock stays pw_held_pop. */
#ifndef PW_LOCKORDER_H
#define PW_LOCKORDER_H

#include "shim.h"
#include "threads.h"

#define PW_HELD_READ 0x80u
#define PW_LO_CACHE 64u
#define PW_LO_MEMO_DEPTH 8u
struct pw_lo_tls {
    uint64_t obj[PW_HELD_MAX];   /* what was pushed at each held position */
    uint64_t pc[PW_HELD_MAX];    /* return address of the call that took it */
    uint32_t stack[PW_HELD_MAX]; /* its whole stack when an edge captured one */
    uint32_t epoch;              /* lockorder.c's epoch the cache belongs to */
    uint64_t cache[PW_LO_CACHE]; /* (held set, B) keys already processed */
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
/* init (INIT_STACK its stack) / destroy (INIT_STACK 0) of ADDR: true = record
 * it as a note (the address appears in an edge: its generation changed). */
bool pw_lock_reborn(uint64_t addr, uint32_t init_stack);
/* Records a lock init/destroy (LOCK_INIT / LOCK_DESTROY) of OBJ, of PW_OBJ_* TYPE. */
void pw_lock_life(uint16_t kind, uint16_t type, uint64_t obj, int rc);

/* The epoch of the shared tables (lockorder.c; a zero word until they
 * exist): a memo of an older epoch is stale. */
extern const uint32_t *pw_lo_epoch;

/* A lock and its type as one word: user-space addresses leave the top byte
 * free for the type. */
static inline uint64_t pw_lo_typed(uint64_t lock, uint8_t type)
{
    return lock | (uint64_t)type << 56;
}

/* True when taking B (typed) with T's N held locks is exactly the memo of
 * depth N: edges already processed.  Inline, so that code taking the same
 * nested locks again and again (the common case) pays N + 2 compares and no
 * call; pw_lock_edges does the rest. */
static inline bool pw_lo_memo_hit(const struct pw_thread_rec *t, uint32_t n, uint64_t bt)
{
    if (n > PW_LO_MEMO_DEPTH || pw_lo.memo[n].b != bt ||
        pw_lo.epoch != PW_LOAD_RELAXED(pw_lo_epoch))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (pw_lo.memo[n].held[i] != pw_lo_typed(t->held[i], t->held_type[i]))
            return false;
    return true;
}

static inline __attribute__((always_inline)) void
pw_lock_acquired(struct pw_thread_rec *t, uint64_t obj, uint8_t type, bool try, uint64_t pc)
{
    uint32_t n = t->nheld;
    if (PW_LIKELY(n < PW_HELD_MAX)) {
        pw_lo.obj[n] = obj;
        pw_lo.pc[n] = pc;
        pw_lo.stack[n] = 0;
    }
    if (n != 0 && !try && !pw_lo_memo_hit(t, n, pw_lo_typed(obj, type)))
        pw_lock_edges(t, n, obj, type);
    pw_held_push(t, obj, type);
}

/* The lock just pushed by pw_lock_acquired was taken on a slow path that
 * captured STACK there (a park): its whole site, kept for later edges, parks
 * and the thread's end, and remembered for its call site. */
void pw_lock_site_known(struct pw_thread_rec *t, uint32_t stack);

/* The whole stack some acquisition at call site PC captured (a park's, an
 * edge's), 0 if none yet. */
uint32_t pw_lock_site_stack(uint64_t pc);
/* STACK was captured at an acquisition made at call site PC. */
void pw_lock_site_remember(uint64_t pc, uint32_t stack);

/* A lock taken again by code that orders nothing (a cond wait re-taking its
 * mutex): pushed with its site PC, no edge. */
static inline void pw_lock_retaken(struct pw_thread_rec *t, uint64_t obj, uint8_t type, uint64_t pc)
{
    uint32_t n = t->nheld;
    if (PW_LIKELY(n < PW_HELD_MAX)) {
        pw_lo.obj[n] = obj;
        pw_lo.pc[n] = pc;
        pw_lo.stack[n] = 0;
    }
    pw_held_push(t, obj, type);
}

#endif
