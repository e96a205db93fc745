/* Channel annotations (include/parkwatch.h): a user-written queue becomes a
 * channel record of type PW_OBJ_USERCHAN, so every channel finding applies to
 * it and chains name it instead of a bare cond.
 *
 * The record is a channel without fds: each side counts as one open end.
 *   chan_make      record (name, user_addr, capacity), both sides open
 *   send_begin/end a send; one begun after the close is a send-on-closed note
 *                  and is not counted; otherwise sent++ (messages) at the end
 *   recv_begin/end a receive; ok -> received++, !ok -> an EOF (closed and empty)
 *   close          the send side is closed (a second close: double-close note)
 *   destroy        both sides closed, the address forgotten (it may carry a
 *                  new queue later: a new record, a new id).  The record stays
 *                  in the trace so that findings about the queue keep its name.
 *
 * Between a begin and its end the calling thread is inside a queue operation
 * (pw_uq_cur): a pthread_cond_wait or sem_wait there (i_cond.c, i_sem.c:
 * pw_uq_park) is recorded as a park on the queue.  Mutex parks inside the operation stay mutex parks on purpose: a
 * mutex has an exact wait-for edge (its holder), which deadlock and
 * lock-held-by-exited-thread need and a queue op would hide.
 *
 * The address -> record map is an open-addressing table in shim memory
 * (lock-free: keys are claimed with a CAS, values published after).  Queue
 * operations of the host already take its own lock, so the shared counters'
 * atomics add no new contention.  A fork child keeps the map (private memory)
 * and inherits the open queues' records (fdtab.c), at the same indexes; a
 * lookup still checks the record, so a stale entry is a no-op, never a wrong
 * channel.  Records are not recycled (like those of pipes): a program making
 * more than max_chans channels gets no record for the extra ones. */
#include <errno.h>
#include <sys/mman.h>

#define PARKWATCH_IMPL
#include "acts.h"
#include "parkwatch.h"
#include "chan.h"
#include "config.h"
#include "event.h"
#include "init.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "userchan.h"
#include "util.h"

__thread struct pw_uq_cur pw_uq_cur __attribute__((tls_model("initial-exec")));

#define UQ_EMPTY 0ull
#define UQ_TOMB 1ull /* a destroyed queue's slot: probes go on past it */

struct uq_ent {
    uint64_t key; /* the user's queue address, UQ_EMPTY or UQ_TOMB */
    uint64_t val; /* record index + 1, 0 while being published */
};

static struct uq_ent *uq_map;
static uint64_t uq_mask;

/* The map, created at the first chan_make (not at init: most programs never
 * annotate anything).  Two racing first makes each map one; the loser unmaps. */
static struct uq_ent *map_get(void)
{
    struct uq_ent *m = PW_LOAD(&uq_map);
    if (m != NULL)
        return m;
    uint64_t n = 1;
    while (n < 2ull * pw_cfg.opt.max_chans)
        n <<= 1;
    struct uq_ent *fresh = pw_anon_map(n * sizeof *fresh);
    if (fresh == NULL)
        return NULL;
    PW_STORE_RELAXED(&uq_mask, n - 1);
    if (!__atomic_compare_exchange_n(&uq_map, &m, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        munmap(fresh, n * sizeof *fresh);
        return m;
    }
    return fresh;
}

static uint64_t uq_hash(uint64_t a)
{
    return (a >> 3) * 0x9e3779b97f4a7c15ull >> 20;
}

static struct uq_ent *find_ent(uint64_t addr)
{
    struct uq_ent *m = PW_LOAD(&uq_map);
    if (m == NULL || addr <= UQ_TOMB)
        return NULL;
    uint64_t mask = PW_LOAD_RELAXED(&uq_mask);
    for (uint64_t i = uq_hash(addr), k = 0; k <= mask; i++, k++) {
        struct uq_ent *e = &m[i & mask];
        uint64_t key = PW_LOAD(&e->key);
        if (key == addr)
            return e;
        if (key == UQ_EMPTY)
            return NULL;
    }
    return NULL;
}

/* The live record of the queue at ADDR, or NULL (not annotated, destroyed, or
 * a record of the parent process in a fork child). */
static struct pw_chan_rec *lookup(const void *ch, uint32_t *idx)
{
    uint64_t addr = (uint64_t)(uintptr_t)ch;
    struct uq_ent *e = find_ent(addr);
    uint64_t v = e != NULL ? PW_LOAD(&e->val) : 0;
    if (v == 0 || v > PW_LOAD(&pw_tf.hdr->chans_used))
        return NULL;
    struct pw_chan_rec *c = pw_chan_rec((uint32_t)(v - 1));
    if (PW_LOAD(&c->state) == PW_CS_FREE || c->type != PW_OBJ_USERCHAN || c->user_addr != addr)
        return NULL;
    if (idx != NULL)
        *idx = (uint32_t)(v - 1);
    return c;
}

/* Binds ADDR to record IDX: replaces an existing binding (a queue made again
 * without destroy) or takes an empty or tombstone slot. */
static bool bind_addr(uint64_t addr, uint32_t idx)
{
    struct uq_ent *m = map_get();
    if (m == NULL)
        return false;
    struct uq_ent *e = find_ent(addr);
    if (e != NULL) {
        PW_STORE(&e->val, (uint64_t)idx + 1);
        return true;
    }
    uint64_t mask = PW_LOAD_RELAXED(&uq_mask);
    for (uint64_t i = uq_hash(addr), k = 0; k <= mask; i++, k++) {
        e = &m[i & mask];
        uint64_t key = PW_LOAD(&e->key);
        while (key == UQ_EMPTY || key == UQ_TOMB) {
            if (__atomic_compare_exchange_n(&e->key, &key, addr, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                PW_STORE(&e->val, (uint64_t)idx + 1);
                return true;
            }
        }
    }
    return false;
}

static void unbind_addr(uint64_t addr)
{
    struct uq_ent *e = find_ent(addr);
    if (e == NULL)
        return;
    PW_STORE(&e->val, 0);
    PW_STORE(&e->key, UQ_TOMB);
}

static void emit(uint16_t kind, uint16_t op, const struct pw_chan_rec *c, uint64_t arg,
                 int32_t result, uint32_t stack)
{
    struct pw_event ev = {.kind = kind,
                          .op = op,
                          .obj = c->id,
                          .obj2 = (uint64_t)-1,
                          .arg = arg,
                          .result = result,
                          .stack = stack};
    if ((kind == PW_EV_CHAN_SEND || kind == PW_EV_CHAN_RECV) && result >= 0)
        pw_act(&ev); /* who sends and receives is evidence: the first one is a note */
    else
        pw_emit(pw_self(), &ev);
}

static void misuse(uint16_t kind, uint32_t idx, uint32_t stack2, uint32_t other)
{
    pw_chan_misuse(kind, -1, idx, stack2, other, 0);
}

/* Every entry point: guard raised, errno kept (the host may be between a call
 * and its errno check when it annotates). */
#define UQ_ENTER()      \
    if (!pw_on())       \
        return -1;      \
    int uq_err = errno; \
    pw_tls.guard++
#define UQ_LEAVE(rc)    \
    do {                \
        pw_tls.guard--; \
        errno = uq_err; \
        return (rc);    \
    } while (0)

PW_EXPORT int parkwatch_impl_chan_make(const void *ch, unsigned long capacity, const char *name)
{
    UQ_ENTER();
    uint64_t addr = (uint64_t)(uintptr_t)ch;
    int32_t idx = addr > UQ_TOMB && pw_self() != NULL ? pw_chan_claim() : -1;
    if (idx < 0)
        UQ_LEAVE(-1);
    uint32_t stack = pw_stack_capture();
    struct pw_chan_rec *c = pw_chan_rec((uint32_t)idx);
    c->id = PW_ADD(&pw_tf.hdr->next_chan_id, 1);
    c->type = PW_OBJ_USERCHAN;
    c->creator = pw_tls.serial;
    c->create_ns = pw_now();
    c->create_stack = stack;
    c->fd[PW_SIDE_RECV] = c->fd[PW_SIDE_SEND] = -1;
    c->open[PW_SIDE_RECV] = c->open[PW_SIDE_SEND] = 1;
    c->capacity = capacity;
    c->user_addr = addr;
    if (name != NULL && name[0] != '\0') {
        pw_strlcpy(c->name, name, sizeof c->name);
        c->flags |= PW_CF_NAMED;
    }
    PW_STORE(&c->state, PW_CS_OPEN);
    emit(PW_EV_CHAN_CREATE, PW_OBJ_USERCHAN, c, (uint64_t)-1, 0, stack);
    /* a queue made again at the same address without destroy: the old record
     * stays as it was (its findings stay true), the address moves on */
    int rc = bind_addr(addr, (uint32_t)idx) ? 0 : -1;
    UQ_LEAVE(rc);
}

/* Begins an operation OP on the queue: the thread's current queue op. */
static struct pw_chan_rec *op_begin(const void *ch, uint16_t op, uint32_t *idx)
{
    struct pw_chan_rec *c = lookup(ch, idx);
    if (c == NULL)
        return NULL;
    pw_uq_cur.op = op;
    pw_uq_cur.id = c->id;
    pw_uq_cur.dead = 0;
    return c;
}

/* Ends it; false if the thread was not inside an operation on this queue
 * (an end without its begin, or a nested operation on another queue). */
static bool op_end(const struct pw_chan_rec *c, uint16_t op, bool *dead)
{
    bool mine = pw_uq_cur.op == op && pw_uq_cur.id == c->id;
    *dead = mine && pw_uq_cur.dead;
    if (mine)
        pw_uq_cur.op = PW_OP_NONE;
    return mine;
}

PW_EXPORT int parkwatch_impl_chan_send_begin(const void *ch)
{
    UQ_ENTER();
    uint32_t idx;
    struct pw_chan_rec *c = op_begin(ch, PW_OP_USER_SEND, &idx);
    if (c == NULL)
        UQ_LEAVE(-1);
    /* Checked at the begin only: a send that began before the close and ends
     * after it may well have delivered its element (the host's lock orders
     * them); one that begins after the close cannot. */
    if (PW_LOAD(&c->open[PW_SIDE_SEND]) <= 0) {
        pw_uq_cur.dead = 1;
        misuse(PW_MISUSE_SEND_ON_CLOSED, idx, c->close_stack[PW_SIDE_SEND], 0);
    }
    UQ_LEAVE(0);
}

PW_EXPORT int parkwatch_impl_chan_send_end(const void *ch)
{
    UQ_ENTER();
    struct pw_chan_rec *c = lookup(ch, NULL);
    bool dead = false;
    if (c == NULL)
        UQ_LEAVE(-1);
    op_end(c, PW_OP_USER_SEND, &dead);
    if (!dead) {
        PW_ADD(&c->sent, 1);
        /* the analyzer needs "T sends on Q" once (chains follow senders);
         * the counts are in the record: one event per run of sends */
        if (pw_uq_cur.last_sent != c->id) {
            pw_uq_cur.last_sent = c->id;
            emit(PW_EV_CHAN_SEND, 0, c, 1, 1, 0);
        }
    }
    UQ_LEAVE(0);
}

PW_EXPORT int parkwatch_impl_chan_recv_begin(const void *ch)
{
    UQ_ENTER();
    int rc = op_begin(ch, PW_OP_USER_RECV, NULL) != NULL ? 0 : -1;
    UQ_LEAVE(rc);
}

PW_EXPORT int parkwatch_impl_chan_recv_end(const void *ch, int ok)
{
    UQ_ENTER();
    struct pw_chan_rec *c = lookup(ch, NULL);
    bool dead;
    if (c == NULL)
        UQ_LEAVE(-1);
    op_end(c, PW_OP_USER_RECV, &dead);
    if (ok) {
        PW_ADD(&c->received, 1);
        if (pw_uq_cur.last_recv == c->id)
            UQ_LEAVE(0); /* as for sends: one event per run */
        pw_uq_cur.last_recv = c->id;
    } else {
        PW_ADD(&c->eofs, 1);
    }
    emit(PW_EV_CHAN_RECV, 0, c, ok ? 1 : 0, ok ? 1 : 0, 0);
    UQ_LEAVE(0);
}

/* SIDE of C is closed now: who, where, when; the CHAN_CLOSE event. */
static void close_side(struct pw_chan_rec *c, unsigned side, uint32_t stack)
{
    c->close_stack[side] = stack;
    c->close_thread[side] = pw_tls.serial;
    c->close_ns[side] = pw_now();
    PW_STORE(&c->open[side], 0);
    if (PW_LOAD(&c->open[side ^ 1]) <= 0)
        PW_STORE(&c->state, PW_CS_CLOSED);
    emit(PW_EV_CHAN_CLOSE, (uint16_t)side, c, 0, 0, stack);
}

PW_EXPORT int parkwatch_impl_chan_close(const void *ch)
{
    UQ_ENTER();
    uint32_t idx;
    struct pw_chan_rec *c = lookup(ch, &idx);
    if (c == NULL)
        UQ_LEAVE(-1);
    /* the exchange makes one of two racing closes the first */
    if (__atomic_exchange_n(&c->open[PW_SIDE_SEND], 0, __ATOMIC_ACQ_REL) <= 0)
        misuse(PW_MISUSE_DOUBLE_CLOSE, idx, c->close_stack[PW_SIDE_SEND], 0);
    else
        close_side(c, PW_SIDE_SEND, pw_stack_capture());
    UQ_LEAVE(0);
}

PW_EXPORT int parkwatch_impl_chan_destroy(const void *ch)
{
    UQ_ENTER();
    struct pw_chan_rec *c = lookup(ch, NULL);
    if (c == NULL)
        UQ_LEAVE(-1);
    unbind_addr((uint64_t)(uintptr_t)ch);
    uint32_t stack = pw_stack_capture();
    /* destroyed without a close: nothing can send into it any more either */
    if (__atomic_exchange_n(&c->open[PW_SIDE_SEND], 0, __ATOMIC_ACQ_REL) > 0)
        close_side(c, PW_SIDE_SEND, stack);
    close_side(c, PW_SIDE_RECV, stack);
    UQ_LEAVE(0);
}
