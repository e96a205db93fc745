/* Thread records: slots in the trace, claimed with atomics, and the shim-private
 * maps that go with them (start routine hand-over, pthread_t -> slot).
 *
 * Slot life: FREE -> ALIVE (claimed, published last) -> EXITED.  A slot is
 * recycled only when slots run out, and only if its thread was joined or
 * detached and did not end holding locks: such a record no longer feeds any
 * finding.  Recycling is a CAS EXITED -> FREE, so exactly one claimer wins. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "proc.h"
#include "shim.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

/* pthread_t -> (serial, slot): open addressing, never deleted.  A stale entry is
 * harmless: lookups check that the slot still holds that serial. */
struct pw_tmap_ent {
    uint64_t key;
    uint64_t val; /* serial << 32 | (slot + 1) */
};

__thread struct pw_tls pw_tls __attribute__((tls_model("initial-exec")));
struct pw_slot_priv *pw_slot_hands;

static struct pw_tmap_ent *pw_tmap;
static uint32_t pw_tmap_mask;
static uint32_t pw_recycle_cursor;

struct pw_thread_rec *pw_slot(uint32_t i)
{
    return pw_thread_slot(pw_tf.base, pw_tf.hdr, i);
}

uint32_t pw_slot_of(const struct pw_thread_rec *t)
{
    const struct pw_trace_header *h = pw_tf.hdr;
    return (uint32_t)(((const char *)t - pw_tf.base - h->threads.offset) / h->thread_slot_size);
}

int pw_threads_init(void)
{
    uint32_t n = 1;
    while (n < 2 * pw_cfg.max_threads)
        n <<= 1;
    pw_tmap = pw_anon_map((size_t)n * sizeof *pw_tmap);
    pw_slot_hands = pw_anon_map((size_t)pw_cfg.max_threads * sizeof *pw_slot_hands);
    if (pw_tmap == NULL || pw_slot_hands == NULL)
        return -1;
    pw_tmap_mask = n - 1;
    return 0;
}

/* In a fork child only the forking thread exists: forget the others. */
void pw_threads_reset_private(void)
{
    munmap(pw_tmap, (size_t)(pw_tmap_mask + 1) * sizeof *pw_tmap);
    munmap(pw_slot_hands, (size_t)pw_cfg.max_threads * sizeof *pw_slot_hands);
    pw_recycle_cursor = 0;
    pw_tls.spare_slot = 0;
    pw_threads_init();
}

static uint32_t tmap_hash(uint64_t key)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15u) >> 32);
}

void pw_thread_map(uint64_t key, uint32_t slot)
{
    struct pw_thread_rec *t = pw_slot(slot);
    uint64_t val = (uint64_t)t->serial << 32 | (slot + 1);
    uint32_t h = tmap_hash(key);
    for (uint32_t probe = 0; probe <= pw_tmap_mask; probe++) {
        struct pw_tmap_ent *e = &pw_tmap[(h + probe) & pw_tmap_mask];
        uint64_t k = PW_LOAD(&e->key);
        if (k == 0 &&
            __atomic_compare_exchange_n(&e->key, &k, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            k = key;
        if (k == key) {
            PW_STORE(&e->val, val);
            return;
        }
    }
}

static struct pw_thread_rec *scan_for(uint64_t key)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (PW_LOAD(&t->state) != PW_TS_FREE && PW_LOAD_RELAXED(&t->pthread) == key)
            return t;
    }
    return NULL;
}

struct pw_thread_rec *pw_thread_find(uint64_t key)
{
    uint32_t h = tmap_hash(key);
    for (uint32_t probe = 0; probe <= pw_tmap_mask; probe++) {
        struct pw_tmap_ent *e = &pw_tmap[(h + probe) & pw_tmap_mask];
        uint64_t k = PW_LOAD(&e->key);
        if (k == 0)
            break;
        if (k != key)
            continue;
        uint64_t val = PW_LOAD(&e->val);
        uint32_t slot1 = (uint32_t)val;
        if (slot1 == 0 || slot1 > pw_cfg.max_threads)
            return NULL;
        struct pw_thread_rec *t = pw_slot(slot1 - 1);
        if (t->serial == (uint32_t)(val >> 32) && PW_LOAD(&t->state) != PW_TS_FREE)
            return t;
        return NULL;
    }
    return scan_for(key); /* table full: rare, slow, still right */
}

static int32_t claim_fresh(void)
{
    struct pw_trace_header *h = pw_tf.hdr;
    uint32_t n = PW_LOAD_RELAXED(&h->threads_used);
    while (n < h->threads.count)
        if (__atomic_compare_exchange_n(&h->threads_used, &n, n + 1, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            /* a fresh slot is a hole of the file: back its record first (full
             * disk); pw_emit backs the ring's pages as it reaches them */
            return pw_trace_reserve(pw_slot(n), PW_THREAD_REC_SIZE) ? (int32_t)n : -1;
    return -1;
}

static bool recyclable(struct pw_thread_rec *t)
{
    if (PW_LOAD(&t->state) != PW_TS_EXITED)
        return false;
    uint32_t f = PW_LOAD(&t->flags);
    return (f & (PW_TF_JOINED | PW_TF_DETACHED)) != 0 && (f & PW_TF_HELD_AT_EXIT) == 0;
}

static int32_t claim_recycled(void)
{
    uint32_t n = pw_cfg.max_threads;
    uint32_t start = __atomic_fetch_add(&pw_recycle_cursor, 1, __ATOMIC_RELAXED);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (start + k) % n;
        struct pw_thread_rec *t = pw_slot(i);
        uint32_t exp = PW_TS_EXITED;
        if (!recyclable(t) || !__atomic_compare_exchange_n(&t->state, &exp, PW_TS_FREE, 0,
                                                           __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            continue;
        /* old ring entries must not look valid under the new ring_head; the
         * last thread may not have reached every page of its ring */
        if (!pw_trace_reserve(t, pw_tf.hdr->thread_slot_size))
            return -1;
        memset(t, 0, pw_tf.hdr->thread_slot_size);
        __atomic_store_n(&pw_recycle_cursor, i + 1, __ATOMIC_RELAXED);
        PW_ADD(&pw_tf.hdr->recycled_threads, 1);
        return (int32_t)i;
    }
    return -1;
}

int32_t pw_slot_take(void)
{
    if (pw_tls.spare_slot != 0) {
        int32_t s = pw_tls.spare_slot - 1;
        pw_tls.spare_slot = 0;
        return s;
    }
    int32_t s = claim_fresh();
    if (s < 0)
        s = claim_recycled();
    return s;
}

/* Threads created through pthread_create without a slot, counted by their
 * creator and not yet by themselves: such a thread tries to register on its
 * first interposed call, and fails again, and must not count twice. */
static uint32_t pw_noslot_pending;

void pw_slot_none_for_child(void)
{
    PW_ADD(&pw_tf.hdr->dropped_threads, 1);
    PW_ADD(&pw_noslot_pending, 1);
}

void pw_slot_none_undo(void)
{
    __atomic_sub_fetch(&pw_tf.hdr->dropped_threads, 1, __ATOMIC_ACQ_REL);
    __atomic_sub_fetch(&pw_noslot_pending, 1, __ATOMIC_ACQ_REL);
}

/* A thread's own failed registration: counted unless its creator did. */
static void slot_none_for_self(void)
{
    uint32_t n = PW_LOAD(&pw_noslot_pending);
    while (n != 0)
        if (__atomic_compare_exchange_n(&pw_noslot_pending, &n, n - 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return;
    PW_ADD(&pw_tf.hdr->dropped_threads, 1);
}

/* A slot whose pthread_create failed: FREE again, kept for this thread's next
 * create (FREE slots are never scanned, so nobody else can take it). */
void pw_slot_give_back(int32_t slot)
{
    struct pw_thread_rec *t = pw_slot((uint32_t)slot);
    memset(t, 0, PW_THREAD_REC_SIZE);
    pw_tls.spare_slot = slot + 1;
}

/* Fills a claimed slot and publishes it (state last). */
struct pw_thread_rec *pw_slot_publish(uint32_t slot, uint32_t serial, uint32_t parent,
                                      uint32_t flags, uint32_t create_stack, uint64_t routine)
{
    struct pw_thread_rec *t = pw_slot(slot);
    t->serial = serial;
    t->parent_serial = parent;
    t->flags = flags;
    t->create_stack = create_stack;
    t->start_routine = routine;
    t->park_fd = -1;
    PW_STORE(&t->state, PW_TS_ALIVE);
    pw_trace_park_changed();
    return t;
}

uint32_t pw_new_serial(void)
{
    return PW_ADD(&pw_tf.hdr->next_serial, 1);
}

/* Runs in the new thread (or an adopted one): binds the slot to this thread. */
void pw_thread_begin(uint32_t slot, uint32_t trampoline)
{
    struct pw_thread_rec *t = pw_slot(slot);
    pthread_t self = pthread_self();
    pw_tls.rec = t;
    pw_tls.serial = t->serial;
    pw_tls.state = PW_TLS_LIVE;
    pw_tls.trampoline = trampoline;
    t->tid = pw_gettid();
    PW_STORE_RELAXED(&t->pthread, (uint64_t)self);
    t->start_ns = pw_now();
    if (!trampoline) /* created threads got their creator's name in the parent */
        pw_thread_name_self(t);
    pw_thread_map((uint64_t)self, slot);
    struct pw_event ev = {.kind = PW_EV_THREAD_START,
                          .obj = t->serial,
                          .obj2 = t->parent_serial,
                          .arg = (uint64_t)t->tid};
    pw_emit(pw_self(), &ev);
}

/* Registers the calling thread without a creation record: the main thread at
 * init, threads created before the shim saw them, the forking thread in a fork
 * child (serial 1 there).  Returns the slot or -1. */
int pw_register_self(uint32_t flags)
{
    int32_t slot = pw_slot_take();
    if (slot < 0) {
        slot_none_for_self();
        pw_tls.state = PW_TLS_NOSLOT;
        return -1;
    }
    if (pw_gettid() == pw_pid)
        flags |= PW_TF_MAIN;
    uint32_t serial = (flags & PW_TF_MAIN) ? 1 : pw_new_serial();
    pw_slot_publish((uint32_t)slot, serial, 0, flags, 0, 0);
    pw_thread_begin((uint32_t)slot, 0);
    return slot;
}

struct pw_thread_rec *pw_self_slow(void)
{
    if (pw_tls.state != PW_TLS_NEW || pw_tf.hdr == NULL)
        return NULL;
    int err = errno; /* called from hot paths that do not save it */
    pw_tls.guard++;
    pw_register_self(PW_TF_ADOPTED);
    pw_tls.guard--;
    errno = err;
    return pw_tls.rec;
}

bool pw_held_pop_slow(struct pw_thread_rec *t, uint64_t obj)
{
    uint32_t n = t->nheld;
    if (n == 0)
        return false;
    uint32_t listed = n < PW_HELD_MAX ? n : PW_HELD_MAX;
    for (uint32_t i = listed; i-- > 0;) {
        if (t->held[i] != obj)
            continue;
        memmove(&t->held[i], &t->held[i + 1], (listed - i - 1) * sizeof t->held[0]);
        memmove(&t->held_type[i], &t->held_type[i + 1], listed - i - 1);
        if (t->held_overflow > 0)
            t->held_overflow--;
        PW_STORE_RELAXED(&t->nheld, n - 1);
        return true;
    }
    /* not listed: one of the overflowed locks (unknown: not a misuse), or a
     * lock this thread does not hold */
    if (n > PW_HELD_MAX) {
        t->held_overflow--;
        PW_STORE_RELAXED(&t->nheld, n - 1);
        return true;
    }
    return false;
}

/* One note per lock held at the end, with where it was taken: the report says
 * "T2 exited holding mutex#1, taken in leaky_update". */
static void note_held(struct pw_thread_rec *t)
{
    uint32_t listed = t->nheld < PW_HELD_MAX ? t->nheld : PW_HELD_MAX;
    pw_held_sites_mirror(t);
    for (uint32_t i = 0; i < listed; i++) {
        struct pw_event ev = {.kind = PW_EV_HELD_AT_EXIT,
                              .op = t->held_type[i],
                              .obj = t->held[i],
                              .stack = pw_held_site != NULL ? pw_held_site(t, i) : 0};
        pw_note(&ev);
    }
}

/* The thread's last record.  After state = EXITED the slot may be recycled by
 * another thread, so nothing of it is touched afterwards. */
void pw_thread_end(uint32_t how, uint32_t stack)
{
    struct pw_thread_rec *t = pw_tls.rec;
    if (t == NULL)
        return;
    pw_tls.guard++;
    uint32_t nheld = t->nheld;
    if (nheld != 0) {
        note_held(t);
        PW_OR(&t->flags, PW_TF_HELD_AT_EXIT);
    }
    struct pw_event ev = {.kind = PW_EV_THREAD_EXIT,
                          .op = (uint16_t)how,
                          .obj = t->serial,
                          .arg = nheld,
                          .stack = stack};
    pw_emit(pw_self(), &ev);
    t->exit_stack = stack;
    if (how == PW_EXIT_RETURN)
        PW_OR(&t->flags, PW_TF_RETURNED);
    t->exit_ns = pw_now();
    PW_STORE(&t->state, PW_TS_EXITED);
    pw_trace_park_changed();
    pw_tls.rec = NULL;
    pw_tls.state = PW_TLS_ENDED;
    pw_tls.guard--;
}

/* ---- names */

/* The kernel's name for the calling thread (inherited from the creator until
 * renamed): one prctl at registration. */
void pw_thread_name_self(struct pw_thread_rec *t)
{
    char name[PW_THREAD_NAME_MAX] = {0};
    if (prctl(PR_GET_NAME, name, 0, 0, 0) == 0)
        memcpy(t->name, name, sizeof name - 1);
}

void pw_thread_named(struct pw_thread_rec *t, const char *name)
{
    uint64_t first8 = 0;
    size_t len = strnlen(name, PW_THREAD_NAME_MAX - 1);
    memcpy(&first8, name, len < 8 ? len : 8);
    if (t != NULL) {
        memcpy(t->name, name, len);
        t->name[len] = '\0';
    }
    struct pw_event ev = {.kind = PW_EV_THREAD_NAME,
                          .obj = t != NULL ? t->serial : 0,
                          .arg = first8};
    pw_emit(pw_self(), &ev);
}
