/* Lock-order edges: "B taken while holding A", recorded once per (A, B, thread)
 * as LOCK_EDGE notes for the analyzer's cycle search (analyzer/detect/lockorder.c).
 *
 * Cost model (the uncontended lock is every program's hot path):
 *   - no lock held: pw_lock_acquired (shim.h) only pushes the held entry and
 *     remembers the caller's return address;
 *   - locks held: one hash over the held set and B, looked up in a small
 *     per-thread direct-mapped cache of (held set, B) keys already processed:
 *     a hit (the steady state of any loop) costs a few multiplications;
 *   - a miss checks each (Ai, B) against a process-wide lock-free set of edge
 *     fingerprints; only an edge never seen from this thread captures B's stack
 *     and writes a note.
 * Nothing here allocates, takes a lock or prints; tables are mapped at init.
 *
 * The site that took A.  Capturing a stack at every acquisition would cost
 * 150 ns - 2.3 us per lock, so the shim keeps per held position the return
 * address of the call that took the lock (a one-frame "A acquired here" that
 * names function, file and line) and, when that acquisition itself recorded an
 * edge, the whole stack that was captured then.  stack2 is the whole stack when
 * known, else the one-frame site, else 0 (the entry was pushed by code that did
 * not say where: a cond wait re-taking its mutex, or a lock taken before the
 * shim saw the thread).
 *
 * Whole stacks per call site.  A whole stack captured at an acquisition (B's,
 * when it made an edge; a park's, when it was contended) is remembered in a
 * process-wide table under its call site, and a lock whose own acquisition
 * captured nothing borrows the stack of its call site from there when a site
 * is wanted (an edge, a park, the thread's end).  So a site costs nothing on
 * the uncontended path beyond the return address, and is a whole stack as
 * soon as any acquisition at that call site was nested or contended.
 *
 * Lock classes (lockdep): a lock initialised by pthread_mutex_init or
 * pthread_rwlock_init belongs to the class of its init stack (1024 item locks
 * initialised in one loop are one class); a lock never initialised (a static
 * PTHREAD_MUTEX_INITIALIZER) is its own class.  Every (class of A, class of B,
 * thread) keeps its first PW_EDGES_PER_CLASS instance edges as notes; later
 * instances are folded (header.folded_edges): lock arrays cannot flood the
 * notes log, and the analyzer still sees each class pair with instances as
 * evidence.  The notes log's reserve (ring.h) keeps room for every other note.
 *
 * Generations: init and destroy of an address that appears in an edge bump its
 * generation and are written as notes (pw_lock_life).  An edge whose lock was
 * never initialised through the shim carries PW_EDGE_A_NOINIT / B_NOINIT: such
 * a lock in heap memory may be a new one at a reused address (a struct freed and
 * allocated again without pthread_mutex_destroy); the analyzer decides with the
 * module map whether the address is static.
 *
 * Degrading: the edge set is fixed-size; when a probe sequence finds no room
 * the edge is counted in header.dropped_edges and not recorded.  Locks beyond
 * the PW_HELD_MAX entries mirrored in the thread record still count as held but
 * give no edges (also counted). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "depot.h"
#include "event.h"
#include "lockorder.h"
#include "ring.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

__thread struct pw_lo_tls pw_lo __attribute__((tls_model("initial-exec")));

#define EDGE_SLOTS (1u << 18)  /* fingerprints: 2 MiB of address space, backed as used */
#define LOCK_SLOTS (1u << 16)  /* initialised locks and locks in an edge: 1.5 MiB */
#define CLASS_SLOTS (1u << 14) /* (class pair, thread) counters: 256 KiB */
#define SITE_SLOTS (1u << 12)  /* call sites with a whole stack: 64 KiB */
#define MAX_PROBE 64u

/* A lock initialised through the shim or appearing in a recorded edge, with
 * its generation and class: init or destroy of an address in an edge bumps gen
 * (and writes a note), so a lock reborn at the same address has new edge
 * fingerprints and the analyzer never joins the two lives.  cls is the init
 * stack of the current life (0: none seen, the lock is its own class).  addr is
 * claimed by CAS (0 = free); entries are never removed. */
struct lo_lock {
    uint64_t addr;
    uint32_t gen;
    uint32_t cls;
    uint32_t in_edge; /* 1 once the address appeared in an edge */
    uint32_t pad;
};

struct lo_class {
    uint64_t key; /* fingerprint of (class A, class B, flags, thread), 0 = free */
    uint64_t n;   /* instance edges seen */
};

/* Shared by all threads, wiped in a fork child (MADV_WIPEONFORK): the child's
 * trace starts empty, so it must see every edge as new.  epoch is 0 there, which
 * differs from the 1 the parent starts with, so per-thread caches are flushed. */
struct lo_shared {
    uint32_t epoch; /* bumped when any cached answer may be stale */
    uint32_t ready;
    uint64_t edges[EDGE_SLOTS];
    struct lo_lock locks[LOCK_SLOTS];
    /* call site (pc, claimed by CAS) -> a whole stack taken there (0 while
     * the claimer has not stored it yet) */
    struct {
        uint64_t pc;
        uint32_t stack;
        uint32_t pad;
    } sites[SITE_SLOTS];
    struct lo_class classes[CLASS_SLOTS];
};

static struct lo_shared *lo;
static const uint32_t no_epoch;
const uint32_t *pw_lo_epoch = &no_epoch;

static uint32_t site_of(const struct pw_thread_rec *t, uint32_t i);

void pw_lockorder_init(void)
{
    /* the sites are the per-thread memory below; parks and the thread's end
     * (lower layers) mirror them into the record through this hook */
    pw_held_site = site_of;
    size_t bytes = (sizeof *lo + 4095) & ~(size_t)4095;
    struct lo_shared *p = pw_anon_map(bytes);
    if (p == NULL)
        return; /* no lock-order edges: pw_lock_edges returns at once */
    if (madvise(p, bytes, MADV_WIPEONFORK) != 0) {
        /* an older kernel: a fork child re-learns nothing, it only misses the
         * edges its parent had already recorded */
    }
    p->epoch = 1;
    PW_STORE(&p->ready, 1);
    lo = p;
    pw_lo_epoch = &p->epoch;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

static struct lo_lock *lock_find(uint64_t addr, bool insert)
{
    uint32_t h = (uint32_t)(mix(0, addr) >> 40);
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        struct lo_lock *e = &lo->locks[(h + i) & (LOCK_SLOTS - 1)];
        uint64_t a = PW_LOAD(&e->addr);
        if (a == addr)
            return e;
        if (a != 0)
            continue;
        if (!insert)
            return NULL;
        if (__atomic_compare_exchange_n(&e->addr, &a, addr, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE) ||
            a == addr)
            return e;
    }
    return NULL;
}

/* The entry of ADDR, which now appears in an edge (NULL: the table is full). */
static struct lo_lock *edge_lock(uint64_t addr)
{
    struct lo_lock *e = lock_find(addr, true);
    if (e != NULL && PW_LOAD_RELAXED(&e->in_edge) == 0)
        PW_STORE(&e->in_edge, 1);
    return e;
}

static inline uint32_t gen_of(const struct lo_lock *e)
{
    return e != NULL ? PW_LOAD(&e->gen) : 0;
}

/* A lock's class: its init stack, or the address itself. */
static inline uint64_t class_of(const struct lo_lock *e, uint64_t addr)
{
    uint32_t c = e != NULL ? PW_LOAD_RELAXED(&e->cls) : 0;
    return c != 0 ? (uint64_t)c | 1ull << 63 : addr;
}

/* Counts one more instance edge of KEY's class pair; true if it is beyond the
 * ones kept (fold it).  A full counter table folds nothing. */
static bool class_full(uint64_t key)
{
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        struct lo_class *c = &lo->classes[(key + i) & (CLASS_SLOTS - 1)];
        uint64_t k = PW_LOAD(&c->key);
        if (k == 0 &&
            __atomic_compare_exchange_n(&c->key, &k, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            k = key;
        if (k != key)
            continue;
        return __atomic_add_fetch(&c->n, 1, __ATOMIC_RELAXED) > PW_EDGES_PER_CLASS;
    }
    return false;
}

/* Inserts fingerprint FP; true if it was not there (a new edge). */
static bool edge_insert(uint64_t fp, bool *full)
{
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        uint64_t *e = &lo->edges[(fp + i) & (EDGE_SLOTS - 1)];
        uint64_t v = PW_LOAD(e);
        if (v == fp)
            return false;
        if (v != 0)
            continue;
        if (__atomic_compare_exchange_n(e, &v, fp, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return true;
        if (v == fp)
            return false;
    }
    *full = true;
    return false;
}

static void count_dropped_edge(void)
{
    if (pw_tf.hdr != NULL)
        __atomic_add_fetch(&pw_tf.hdr->dropped_edges, 1, __ATOMIC_RELAXED);
}

/* The sites table's slot for PC (claimed if INSERT), or NULL. */
static __typeof__(&((struct lo_shared *)0)->sites[0]) site_slot(uint64_t pc, bool insert)
{
    uint32_t h = (uint32_t)(mix(0x517e, pc) >> 40);
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        __typeof__(&lo->sites[0]) e = &lo->sites[(h + i) & (SITE_SLOTS - 1)];
        uint64_t v = PW_LOAD(&e->pc);
        if (v == pc)
            return e;
        if (v != 0)
            continue;
        if (!insert)
            return NULL;
        if (__atomic_compare_exchange_n(&e->pc, &v, pc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
            v == pc)
            return e;
    }
    return NULL;
}

/* STACK was captured at an acquisition made at call site PC. */
static void site_remember(uint64_t pc, uint32_t stack)
{
    if (lo == NULL || pc == 0 || stack == 0)
        return;
    __typeof__(&lo->sites[0]) e = site_slot(pc, true);
    uint32_t none = 0;
    if (e != NULL)
        __atomic_compare_exchange_n(&e->stack, &none, stack, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* "A acquired here": the whole stack of that acquisition if one was captured,
 * else one captured at the same call site, else the one-frame site; stored
 * once and kept for the next edges. */
static uint32_t site_of(const struct pw_thread_rec *t, uint32_t i)
{
    if (i >= PW_HELD_MAX || pw_lo.obj[i] != t->held[i])
        return 0; /* pushed without pw_lock_acquired: site unknown */
    if (pw_lo.stack[i] == 0 && pw_lo.pc[i] != 0) {
        uint64_t pc = pw_lo.pc[i];
        __typeof__(&lo->sites[0]) e = lo != NULL ? site_slot(pc, false) : NULL;
        uint32_t whole = e != NULL ? PW_LOAD(&e->stack) : 0;
        pw_lo.stack[i] = whole != 0 ? whole : pw_depot_put(&pw_tf.depot, &pc, 1);
    }
    return pw_lo.stack[i];
}

uint32_t pw_lock_site_stack(uint64_t pc)
{
    __typeof__(&lo->sites[0]) e = lo != NULL && pc != 0 ? site_slot(pc, false) : NULL;
    return e != NULL ? PW_LOAD(&e->stack) : 0;
}

void pw_lock_site_remember(uint64_t pc, uint32_t stack)
{
    site_remember(pc, stack);
}

void pw_lock_site_known(struct pw_thread_rec *t, uint32_t stack)
{
    uint32_t n = t->nheld;
    if (n == 0 || n > PW_HELD_MAX || stack == 0 || pw_lo.obj[n - 1] != t->held[n - 1])
        return;
    pw_lo.stack[n - 1] = stack;
    site_remember(pw_lo.pc[n - 1], stack);
}

/* The per-thread cache missed: check every held lock against the edge set.
 * N locks are held (N >= 1) besides B at position N. */
static void edges_slow(struct pw_thread_rec *t, uint32_t n, uint64_t b, uint8_t btype)
{
    uint32_t listed = n < PW_HELD_MAX ? n : PW_HELD_MAX;
    uint32_t bstack = 0;
    for (uint32_t i = 0; i < listed; i++)
        if (t->held[i] == b)
            return; /* a recursive relock (or a second read lock) orders nothing */
    struct lo_lock *be = edge_lock(b);
    uint32_t bgen = gen_of(be);
    for (uint32_t i = 0; i < listed; i++) {
        uint64_t a = t->held[i];
        uint8_t atype = t->held_type[i];
        struct lo_lock *ae = edge_lock(a);
        uint64_t arg = (i > 0 && t->held[0] != a ? PW_EDGE_GATE(t->held[0]) : 0) |
                       ((atype & PW_HELD_READ) ? PW_EDGE_A_READ : 0) |
                       ((btype & PW_HELD_READ) ? PW_EDGE_B_READ : 0);
        uint64_t fp = mix(mix(mix(mix(mix(0x5eed, a), gen_of(ae)), b), bgen),
                          arg ^ ((uint64_t)pw_tls.serial << 32));
        fp |= 1; /* 0 marks a free slot */
        bool full = false;
        if (!edge_insert(fp, &full)) {
            if (full)
                count_dropped_edge();
            continue;
        }
        uint64_t ckey = mix(mix(mix(0xc1a55, class_of(ae, a)), class_of(be, b)),
                            (arg & ~PW_EDGE_GATE(arg)) ^ ((uint64_t)pw_tls.serial << 32)) |
                        1;
        if (class_full(ckey)) {
            __atomic_add_fetch(&pw_tf.hdr->folded_edges, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (ae == NULL || PW_LOAD_RELAXED(&ae->cls) == 0)
            arg |= PW_EDGE_A_NOINIT;
        if (be == NULL || PW_LOAD_RELAXED(&be->cls) == 0)
            arg |= PW_EDGE_B_NOINIT;
        if (bstack == 0)
            bstack = pw_stack_capture();
        struct pw_event ev = {.kind = PW_EV_LOCK_EDGE,
                              .op = btype & 0x7f,
                              .obj = a,
                              .obj2 = b,
                              .arg = arg,
                              .stack = bstack,
                              .stack2 = site_of(t, i),
                              /* the classes, so the analyzer sees inversions
                               * between class pairs whose instances were folded */
                              .result = (int32_t)(ae != NULL ? PW_LOAD_RELAXED(&ae->cls) : 0),
                              .err = (int32_t)(be != NULL ? PW_LOAD_RELAXED(&be->cls) : 0)};
        ev.arg |= (uint64_t)(atype & 7) << PW_EDGE_TYPE_SHIFT;
        pw_note(&ev);
        __atomic_add_fetch(&pw_tf.hdr->lock_edges, 1, __ATOMIC_RELAXED);
    }
    if (n > PW_HELD_MAX)
        count_dropped_edge(); /* edges from the unlisted locks are not known */
    if (bstack != 0 && n < PW_HELD_MAX) {
        pw_lo.stack[n] = bstack; /* B's whole stack, for edges where B is A */
        site_remember(pw_lo.pc[n], bstack);
    }
}

static void memo_set(const struct pw_thread_rec *t, uint32_t n, uint64_t bt)
{
    if (n > PW_LO_MEMO_DEPTH)
        return;
    for (uint32_t i = 0; i < n; i++)
        pw_lo.memo[n].held[i] = pw_lo_typed(t->held[i], t->held_type[i]);
    pw_lo.memo[n].b = bt;
}

void pw_lock_edges(struct pw_thread_rec *t, uint32_t n, uint64_t b, uint8_t btype)
{
    if (PW_UNLIKELY(lo == NULL || pw_tf.hdr == NULL))
        return;
    uint32_t epoch = PW_LOAD_RELAXED(&lo->epoch);
    if (PW_UNLIKELY(pw_lo.epoch != epoch)) {
        memset(pw_lo.cache, 0, sizeof pw_lo.cache);
        memset(pw_lo.memo, 0, sizeof pw_lo.memo);
        pw_lo.epoch = epoch;
    }
    uint64_t bt = pw_lo_typed(b, btype);
    if (n <= PW_LO_MEMO_DEPTH && pw_lo.memo[n].b == bt) {
        uint32_t i = 0;
        while (i < n && pw_lo.memo[n].held[i] == pw_lo_typed(t->held[i], t->held_type[i]))
            i++;
        if (i == n)
            return;
    }
    uint32_t listed = n < PW_HELD_MAX ? n : PW_HELD_MAX;
    uint64_t key = mix(n, b ^ btype);
    for (uint32_t i = 0; i < listed; i++)
        key = mix(key, t->held[i] ^ t->held_type[i]);
    key |= 1;
    uint64_t *slot = &pw_lo.cache[(key >> 20) & (PW_LO_CACHE - 1)];
    if (PW_LIKELY(*slot == key)) {
        memo_set(t, n, bt);
        return;
    }
    /* The notes log never empties: once the edges' share of it is full no edge
     * can be written, and the edge set would only be probed for nothing (a
     * miss here would then be a cache miss in the edge set on every request).
     * The (held set, B) is counted as dropped once while this thread's cache
     * remembers it. */
    struct pw_trace_header *h = pw_tf.hdr;
    if (PW_UNLIKELY(PW_LOAD_RELAXED(&h->notes_used) >= pw_notes_limit(h, PW_EV_LOCK_EDGE))) {
        count_dropped_edge();
        *slot = key;
        memo_set(t, n, bt);
        return;
    }
    int err = errno;
    pw_tls.guard++;
    edges_slow(t, n, b, btype);
    pw_tls.guard--;
    errno = err;
    *slot = key;
    memo_set(t, n, bt);
}

/* init/destroy of a lock address: if it appears in an edge, the lock that lives
 * there next is a new object.  Returns true if the caller must record the event
 * as a note (the rings wrap; the analyzer needs every generation change of an
 * address that appears in a note). */
bool pw_lock_reborn(uint64_t addr, uint32_t init_stack)
{
    if (lo == NULL)
        return false;
    /* an init enters the table (its class is the init stack); a destroy of an
     * address never initialised nor in an edge has nothing to say */
    struct lo_lock *e = lock_find(addr, init_stack != 0);
    if (e == NULL)
        return false;
    PW_STORE(&e->cls, init_stack);
    if (PW_LOAD(&e->in_edge) == 0)
        return false;
    __atomic_add_fetch(&e->gen, 1, __ATOMIC_ACQ_REL);
    __atomic_add_fetch(&lo->epoch, 1, __ATOMIC_ACQ_REL);
    return true;
}

/* init/destroy bound a lock's life: a reused address is a new object (the
 * analyzer's generations).  The init site names the lock in reports
 * ("initialized at"); generation changes of a lock that appears in a lock-order
 * edge must survive the ring, so those go to the notes. */
void pw_lock_life(uint16_t kind, uint16_t type, uint64_t obj, int rc)
{
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = kind,
                          .op = type,
                          .obj = obj,
                          .result = rc,
                          .stack = kind == PW_EV_LOCK_INIT ? pw_stack_capture() : 0};
    if (pw_lock_reborn(ev.obj, ev.stack))
        pw_note(&ev);
    else
        pw_emit(pw_self(), &ev);
    pw_tls.guard--;
    errno = err;
}
