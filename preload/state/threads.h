/* Thread records (threads.c): slots in the trace, the calling thread's
 * record, its held locks and its name. */
#ifndef PW_THREADS_H
#define PW_THREADS_H

#include "shim.h"
#include "tls.h"

/* Start routine hand-over from pthread_create to the trampoline, per slot: the
 * child's slot is claimed in the parent, so no allocation is needed. */
struct pw_slot_priv {
    void *(*fn)(void *);
    void *arg;
};
extern struct pw_slot_priv *pw_slot_hands; /* one per slot, shim memory */

int pw_threads_init(void);
uint32_t pw_new_serial(void);
struct pw_thread_rec *pw_slot_publish(uint32_t slot, uint32_t serial, uint32_t parent,
                                      uint32_t flags, uint32_t create_stack, uint64_t routine);
int pw_register_self(uint32_t flags);

struct pw_thread_rec *pw_self_slow(void);
static inline struct pw_thread_rec *pw_self(void)
{
    if (PW_LIKELY(pw_tls.rec != NULL))
        return pw_tls.rec;
    return pw_self_slow();
}
int32_t pw_slot_take(void);
/* pthread_create found no slot for the new thread: count it once (before the
 * real call, so the thread cannot count itself first); undo if the creation
 * failed. */
void pw_slot_none_for_child(void);
void pw_slot_none_undo(void);
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
bool pw_held_pop_slow(struct pw_thread_rec *t, uint64_t obj);
/* Unlock: the released lock is almost always the last one taken.  False when
 * the thread certainly does not hold OBJ (no overflow hides it): a misuse the
 * caller reports (lockmisuse.h); the fast path answers true for free. */
static inline bool pw_held_pop(struct pw_thread_rec *t, uint64_t obj)
{
    uint32_t n = t->nheld;
    if (PW_LIKELY(n != 0 && n <= PW_HELD_MAX && t->held[n - 1] == obj)) {
        PW_STORE_RELAXED(&t->nheld, n - 1);
        return true;
    }
    return pw_held_pop_slow(t, obj);
}

/* The kernel's name for the calling thread, into T (at registration). */
void pw_thread_name_self(struct pw_thread_rec *t);
/* pthread_setname_np(TH, NAME) succeeded: T (TH's record, or NULL) and the
 * event follow. */
void pw_thread_named(struct pw_thread_rec *t, const char *name);

#endif
