/* Lock-order inversions (potential deadlocks): cycles in the graph of "B taken
 * while holding A" edges, of any length.
 *
 * The shim records each new edge once per (A, B, thread) as a LOCK_EDGE note,
 * with the stack that took B and the site that took A; the model carries them
 * (struct pw_lock_edge).  Here:
 *   - a lock address that was destroyed or re-initialised starts a new node
 *     (address, generation), so a reused address never closes a false cycle;
 *   - a lock never initialised through the shim that lives in heap or stack
 *     memory has no known life (free and malloc may reuse its address for
 *     another lock without a destroy): each of its edges is a node of its own,
 *     kept apart rather than joined;
 *   - read-read rwlock edges are dropped: two readers never block each other;
 *   - a cycle whose edges all come from one thread is reported too, saying so
 *     (lockdep, TSan and Helgrind do: two threads running those two paths can
 *     deadlock), unless every edge was taken at the same two call sites (a
 *     fixed class order: one function nesting two instances the same way, as
 *     transfer(from, to) does with its arguments swapped);
 *   - a gate lock held around every acquisition of the cycle serializes it:
 *     no report;
 *   - a cycle whose threads already deadlocked is reported as a deadlock only.
 * Trylock acquisitions never reach here: the shim records no edge for them.
 *
 * Lock classes (lockdep): the shim keeps only the first few instance edges per
 * (class of A, class of B, thread) and folds the rest, so an inversion may exist
 * only between instances whose edges were folded (thread 1 takes item[0] under
 * G, thread 2 takes G under item[63]).  A second pass therefore looks at
 * classes: a class is a lock's init stack, or the lock itself when the shim saw
 * no init (a static lock).  Two different classes taken in both orders are one
 * lock-order inversion per class pair, its objects the instances of the edges
 * chosen as evidence, each edge with its two stacks.  It is not reported again
 * when the instance pass already judged an instance cycle of the pair (reported,
 * gated or deadlocked), when one gate lock serializes every edge of the pair,
 * when its threads already deadlocked, or when one thread's edges all nest the
 * same two call sites.  Two instances of the SAME class nested (item[i] then
 * item[j]) are never a class inversion: which instance comes first is the
 * program's own order among them, which classes cannot see (lockdep's nesting
 * annotations); the instance pass judges those.  A lock of unknown life (never
 * initialised, in heap memory) has no class here: its address may be another
 * lock's, as above. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "lockorder.h"
#include "model.h"
#include "reader.h"

struct edge {
    uint32_t from, to; /* node indexes */
    const struct pw_lock_edge *note;
};

struct node {
    uint64_t addr;
    uint32_t gen;
    uint32_t type;
};

struct graph {
    struct node *nodes;
    size_t nnodes, capn;
    struct edge *edges; /* sorted by from */
    size_t nedges;
    size_t *first;    /* first edge index per node (nnodes + 1 entries) */
    uint32_t *index;  /* open addressing over nodes: position + 1, 0 = empty */
    size_t index_cap; /* a power of two, kept at least twice nnodes */
};

static size_t node_hash(uint64_t addr, uint32_t gen, size_t cap)
{
    return (size_t)(((addr ^ ((uint64_t)gen << 48)) * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static void index_put(struct graph *g, uint32_t pos)
{
    size_t i = node_hash(g->nodes[pos].addr, g->nodes[pos].gen, g->index_cap);
    while (g->index[i])
        i = (i + 1) & (g->index_cap - 1);
    g->index[i] = pos + 1;
}

/* The node of (ADDR, GEN), added on first sight.  Hashed: a trace may hold
 * thousands of edge notes, and a scan per note made the graph quadratic. */
static uint32_t node_of(struct graph *g, uint64_t addr, uint32_t gen, uint32_t type)
{
    if (g->index_cap) {
        for (size_t i = node_hash(addr, gen, g->index_cap); g->index[i];
             i = (i + 1) & (g->index_cap - 1)) {
            const struct node *n = &g->nodes[g->index[i] - 1];
            if (n->addr == addr && n->gen == gen)
                return g->index[i] - 1;
        }
    }
    if (g->nnodes == g->capn) {
        size_t cap = g->capn ? g->capn * 2 : 32;
        struct node *nn = realloc(g->nodes, cap * sizeof(*nn));
        if (!nn)
            return UINT32_MAX;
        g->nodes = nn;
        g->capn = cap;
    }
    if ((g->nnodes + 1) * 2 > g->index_cap) {
        size_t cap = g->index_cap ? g->index_cap * 2 : 64;
        uint32_t *ni = calloc(cap, sizeof(*ni));
        if (!ni)
            return UINT32_MAX;
        free(g->index);
        g->index = ni;
        g->index_cap = cap;
        for (size_t k = 0; k < g->nnodes; k++)
            index_put(g, (uint32_t)k);
    }
    g->nodes[g->nnodes] = (struct node){addr, gen, type};
    index_put(g, (uint32_t)g->nnodes);
    return (uint32_t)g->nnodes++;
}

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    return x->to < y->to ? -1 : x->to > y->to;
}

static int build_graph(const struct pw_process *p, struct graph *g)
{
    g->edges = malloc((p->nlock_edges ? p->nlock_edges : 1) * sizeof(*g->edges));
    if (!g->edges)
        return -1;
    for (size_t i = 0; i < p->nlock_edges; i++) {
        const struct pw_lock_edge *e = &p->lock_edges[i];
        if (e->a == e->b)
            continue;
        if (e->a_read && e->b_read)
            continue; /* readers never wait for readers */
        /* A's node is typed by B's notes only: the first sight of an address
         * names its type, as it always did (reports stay comparable) */
        /* a lock whose life is unknown gets a node of its own per edge: an
         * address reused without destroy must not join two locks (its own
         * generation space, above any count of init/destroy marks) */
        uint32_t own = 0x80000000u | (uint32_t)i;
        uint32_t a = node_of(g, e->a, e->a_unknown ? own : e->gen_a, 0);
        uint32_t b = node_of(g, e->b, e->b_unknown ? own : e->gen_b, e->type_b);
        if (a == UINT32_MAX || b == UINT32_MAX)
            return -1;
        g->edges[g->nedges++] = (struct edge){a, b, e};
    }
    qsort(g->edges, g->nedges, sizeof(*g->edges), cmp_edge);
    g->first = calloc(g->nnodes + 1, sizeof(*g->first));
    if (!g->first)
        return -1;
    for (size_t i = 0, e = 0; i <= g->nnodes; i++) {
        while (e < g->nedges && g->edges[e].from < i)
            e++;
        g->first[i] = e;
    }
    return 0;
}

static void free_graph(struct graph *g)
{
    free(g->nodes);
    free(g->edges);
    free(g->first);
    free(g->index);
}

/* ---- cycle search: DFS from each node over nodes with a higher index (so each
 * cycle is found once, from its lowest node), bounded so a huge graph cannot
 * stall the report. */

#define MAX_CYCLE 16
#define MAX_STEPS 1000000

struct search {
    struct graph *g;
    uint32_t start;
    size_t path[MAX_CYCLE]; /* edge indexes */
    size_t depth;
    bool *on_path;
    size_t steps;
    void (*found)(struct search *s, void *ctx);
    void *ctx;
};

static void dfs(struct search *s, uint32_t n)
{
    if (++s->steps > MAX_STEPS)
        return;
    for (size_t e = s->g->first[n]; e < s->g->first[n + 1]; e++) {
        uint32_t to = s->g->edges[e].to;
        /* the start node is on the path too: closing the cycle is the one
         * visit to a node on the path that is allowed */
        if (to < s->start || (s->on_path[to] && to != s->start))
            continue;
        /* several notes of one (A, B) pair: the first one stands for all here;
         * validation below looks at every note of each pair */
        if (e > s->g->first[n] && s->g->edges[e - 1].to == to)
            continue;
        s->path[s->depth++] = e;
        if (to == s->start) {
            s->found(s, s->ctx);
        } else if (s->depth < MAX_CYCLE) {
            s->on_path[to] = true;
            dfs(s, to);
            s->on_path[to] = false;
        }
        s->depth--;
    }
}

/* ---- validation and reporting */

struct ctx {
    struct pw_process *p;
    struct pw_findings *fs;
    size_t from; /* first finding of this detector */
};

/* Picks, for every edge of the cycle, a note such that at least two distinct
 * threads appear; returns false if the whole cycle is one thread's. */
static bool pick_notes(struct search *s, const struct pw_lock_edge **chosen)
{
    struct graph *g = s->g;
    uint32_t first_thread = g->edges[s->path[0]].note->serial;
    bool distinct = false;
    for (size_t i = 0; i < s->depth; i++) {
        const struct edge *e = &g->edges[s->path[i]];
        chosen[i] = e->note;
        for (size_t k = s->path[i];
             k < g->nedges && g->edges[k].from == e->from && g->edges[k].to == e->to; k++) {
            if (g->edges[k].note->serial != first_thread) {
                chosen[i] = g->edges[k].note;
                break;
            }
        }
        if (chosen[i]->serial != first_thread)
            distinct = true;
    }
    return distinct;
}

/* A gate lock: one lock, not in the cycle, held around every acquisition of
 * every edge of the cycle (all notes of each pair: one ungated acquisition is
 * enough to deadlock). */
static bool gated(struct search *s, const struct pw_lock_edge **chosen)
{
    struct graph *g = s->g;
    uint64_t gate = chosen[0]->gate;
    if (!gate)
        return false;
    for (size_t i = 0; i < s->depth; i++) {
        const struct edge *e = &g->edges[s->path[i]];
        if (g->nodes[e->from].addr == gate || g->nodes[e->to].addr == gate)
            return false;
        for (size_t k = s->path[i];
             k < g->nedges && g->edges[k].from == e->from && g->edges[k].to == e->to; k++)
            if (g->edges[k].note->gate != gate)
                return false;
    }
    return true;
}

/* The call site of stack ID (its innermost frame), 0 if unknown. */
static uint64_t call_site(const struct pw_process *p, uint32_t id)
{
    const uint64_t *pcs;
    unsigned n = 0;
    if (!id || pw_trace_stack(p->trace, id, &pcs, &n) != 0 || !n)
        return 0;
    return pcs[0];
}

/* A cycle of one thread whose every edge nests the same two call sites: the
 * same code ordering two instances by its arguments, which this analysis
 * cannot tell apart from a class order it keeps (lockdep's classes). */
static bool fixed_class_order(const struct pw_process *p, struct search *s,
                              const struct pw_lock_edge **chosen)
{
    uint64_t outer = call_site(p, chosen[0]->stack2), inner = call_site(p, chosen[0]->stack);
    if (!outer || !inner)
        return false;
    for (size_t i = 1; i < s->depth; i++)
        if (call_site(p, chosen[i]->stack2) != outer || call_site(p, chosen[i]->stack) != inner)
            return false;
    return true;
}

static bool already_deadlocked(struct ctx *c, struct search *s)
{
    for (size_t i = 0; i < c->fs->n; i++) {
        struct pw_finding *f = c->fs->v[i];
        if (f->kind != PW_FK_DEADLOCK || f->proc != c->p)
            continue;
        size_t hits = 0;
        for (size_t k = 0; k < s->depth; k++) {
            uint64_t addr = s->g->nodes[s->g->edges[s->path[k]].from].addr;
            for (size_t o = 0; o < f->nobjects; o++)
                if (f->objects[o].o->key == addr)
                    hits++;
        }
        if (hits >= s->depth)
            return true;
    }
    return false;
}

static struct pw_object *lock_object(struct pw_process *p, const struct node *n)
{
    enum pw_obj_type type = n->type == PW_OBJ_RWLOCK || n->type == PW_OBJ_SPIN
                                ? (enum pw_obj_type)n->type
                                : PW_OBJ_MUTEX;
    return pw_model_object(p, type, n->addr);
}

static void report_cycle(struct search *s, void *vctx)
{
    struct ctx *c = vctx;
    const struct pw_lock_edge *chosen[MAX_CYCLE];
    bool one_thread = !pick_notes(s, chosen);
    if ((one_thread && fixed_class_order(c->p, s, chosen)) || gated(s, chosen) ||
        already_deadlocked(c, s))
        return;
    struct pw_finding *f = pw_finding_new(c->fs, PW_FK_LOCK_ORDER, c->p);
    if (!f)
        return; /* out of memory: pw_detect_all reports it */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    for (size_t i = 0; i < s->depth; i++) {
        const struct edge *e = &s->g->edges[s->path[i]];
        struct pw_object *a = lock_object(c->p, &s->g->nodes[e->from]);
        struct pw_object *b = lock_object(c->p, &s->g->nodes[e->to]);
        struct pw_thread *t = pw_model_thread(c->p, chosen[i]->serial);
        if (!a || !b) {
            f->oom = true; /* out of memory: pw_detect_all reports it */
            continue;
        }
        if (!t)
            continue; /* a thread the trace lost */
        /* the edge's own two stacks say where each lock was taken (TSan's
         * "acquired here while holding"); a lock's init site, if any, names it */
        pw_finding_add_object(f, a, a->create_stack, a->site_label);
        if (pw_finding_add_thread(f, t, PW_ROLE_ACQUIRES, chosen[i]->stack, chosen[i]->stack2) ==
            0) {
            f->threads[f->nthreads - 1].lock = b;
            f->threads[f->nthreads - 1].lock2 = a;
        }
        if (m)
            fprintf(m, "%s%s takes %s while holding %s", i ? " -> " : "", t->name, b->id, a->id);
    }
    if (!m || fclose(m) != 0)
        f->oom = true; /* the cycle text could not be written */
    f->chain_text = text;
    struct pw_thread *only = one_thread ? pw_model_thread(c->p, chosen[0]->serial) : NULL;
    if (one_thread && f->nobjects == 2)
        pw_finding_set_message(f,
                               "lock order inversion: %s and %s are taken in both orders, both "
                               "by thread %s (potential deadlock once two threads run these "
                               "paths)",
                               f->objects[0].o->id, f->objects[1].o->id, only ? only->name : "?");
    else if (one_thread)
        pw_finding_set_message(f,
                               "lock order inversion: a cycle of %zu locks taken in conflicting "
                               "orders, all by thread %s (potential deadlock once two threads "
                               "run these paths)",
                               f->nobjects, only ? only->name : "?");
    else if (f->nobjects == 2)
        pw_finding_set_message(f,
                               "lock order inversion: %s and %s are taken in both orders "
                               "(potential deadlock)",
                               f->objects[0].o->id, f->objects[1].o->id);
    else
        pw_finding_set_message(f,
                               "lock order inversion: a cycle of %zu locks taken in "
                               "conflicting orders (potential deadlock)",
                               f->nobjects);
}

/* ---- the class pass */

struct cedge {
    uint64_t ka, kb; /* classes of A and B */
    const struct pw_lock_edge *note;
};

/* The class of a lock in an edge: its init stack (top bit set, so it never
 * equals an address), else the address of a lock of known life; 0 for a lock
 * of unknown life (no class). */
static uint64_t class_key(uint32_t cls, uint64_t addr, bool unknown)
{
    if (cls)
        return 1ull << 63 | cls;
    return unknown ? 0 : addr;
}

static int cmp_cedge(const void *a, const void *b)
{
    const struct cedge *x = a, *y = b;
    if (x->ka != y->ka)
        return x->ka < y->ka ? -1 : 1;
    return x->kb < y->kb ? -1 : x->kb > y->kb;
}

/* The notes of class pair (KA, KB): [*lo, *hi) of the sorted V. */
static void class_range(const struct cedge *v, size_t n, uint64_t ka, uint64_t kb, size_t *lo,
                        size_t *hi)
{
    size_t l = 0, h = n;
    while (l < h) {
        size_t m = l + (h - l) / 2;
        if (v[m].ka < ka || (v[m].ka == ka && v[m].kb < kb))
            l = m + 1;
        else
            h = m;
    }
    *lo = l;
    while (l < n && v[l].ka == ka && v[l].kb == kb)
        l++;
    *hi = l;
}

static bool same_life(uint64_t a, uint32_t ga, bool ua, uint64_t b, uint32_t gb, bool ub)
{
    return a == b && ga == gb && !ua && !ub;
}

/* Whether the pair's verdict is the instance pass's: some instance edge of one
 * direction and one of the other close a cycle on the same two lives. */
static bool instance_cycle(const struct cedge *ab, size_t nab, const struct cedge *ba, size_t nba)
{
    for (size_t i = 0; i < nab; i++)
        for (size_t k = 0; k < nba; k++) {
            const struct pw_lock_edge *x = ab[i].note, *y = ba[k].note;
            if (same_life(x->a, x->gen_a, x->a_unknown, y->b, y->gen_b, y->b_unknown) &&
                same_life(x->b, x->gen_b, x->b_unknown, y->a, y->gen_a, y->a_unknown))
                return true;
        }
    return false;
}

/* One gate lock held around every edge of the pair, and not one of its
 * instances: the pair is serialized. */
static bool class_gated(const struct cedge *v, size_t lo, size_t hi, const struct cedge *w,
                        size_t wlo, size_t whi)
{
    uint64_t gate = v[lo].note->gate;
    if (!gate)
        return false;
    for (int side = 0; side < 2; side++) {
        const struct cedge *u = side ? w : v;
        for (size_t i = side ? wlo : lo; i < (side ? whi : hi); i++)
            if (u[i].note->gate != gate || u[i].note->a == gate || u[i].note->b == gate)
                return false;
    }
    return true;
}

/* A deadlock finding of P holding two of the pair's instances already says it. */
static bool class_deadlocked(struct ctx *c, const struct pw_lock_edge *x,
                             const struct pw_lock_edge *y)
{
    const uint64_t addrs[4] = {x->a, x->b, y->a, y->b};
    for (size_t i = 0; i < c->fs->n; i++) {
        struct pw_finding *f = c->fs->v[i];
        if (f->kind != PW_FK_DEADLOCK || f->proc != c->p)
            continue;
        size_t hits = 0;
        for (size_t o = 0; o < f->nobjects; o++)
            for (size_t k = 0; k < 4; k++)
                if (f->objects[o].o->key == addrs[k]) {
                    hits++;
                    break;
                }
        if (hits >= 2)
            return true;
    }
    return false;
}

/* Every note of the pair is one thread's and nests the same two call sites. */
static bool class_fixed_order(const struct pw_process *p, const struct cedge *v, size_t lo,
                              size_t hi, const struct cedge *w, size_t wlo, size_t whi)
{
    const struct pw_lock_edge *first = v[lo].note;
    uint64_t outer = call_site(p, first->stack2), inner = call_site(p, first->stack);
    if (!outer || !inner)
        return false;
    for (int side = 0; side < 2; side++) {
        const struct cedge *u = side ? w : v;
        for (size_t i = side ? wlo : lo; i < (side ? whi : hi); i++) {
            const struct pw_lock_edge *e = u[i].note;
            if (e->serial != first->serial || call_site(p, e->stack2) != outer ||
                call_site(p, e->stack) != inner)
                return false;
        }
    }
    return true;
}

/* Adds edge E (B taken while holding A) to F as evidence: both instances as
 * objects, the thread with the edge's two stacks.  Returns the thread or NULL. */
static struct pw_thread *class_evidence(struct ctx *c, struct pw_finding *f,
                                        const struct pw_lock_edge *e, FILE *m, bool second)
{
    struct node na = {e->a, e->gen_a, e->type_a}, nb = {e->b, e->gen_b, e->type_b};
    struct pw_object *a = lock_object(c->p, &na), *b = lock_object(c->p, &nb);
    struct pw_thread *t = pw_model_thread(c->p, e->serial);
    if (!a || !b) {
        f->oom = true; /* out of memory: pw_detect_all reports it */
        return NULL;
    }
    pw_finding_add_object(f, a, a->create_stack, a->site_label);
    pw_finding_add_object(f, b, b->create_stack, b->site_label);
    if (!t)
        return NULL; /* a thread the trace lost */
    if (pw_finding_add_thread(f, t, PW_ROLE_ACQUIRES, e->stack, e->stack2) == 0) {
        f->threads[f->nthreads - 1].lock = b;
        f->threads[f->nthreads - 1].lock2 = a;
    }
    if (m)
        fprintf(m, "%s%s takes %s while holding %s", second ? " -> " : "", t->name, b->id, a->id);
    return t;
}

/* Distinct instances of one class among the pair's notes: A of [lo, hi) and B
 * of [wlo, whi). */
static size_t instances(const struct cedge *v, size_t lo, size_t hi, size_t wlo, size_t whi)
{
    size_t n = 0;
    for (size_t i = lo; i < hi; i++) {
        bool seen = false;
        for (size_t k = lo; k < i && !seen; k++)
            seen = v[k].note->a == v[i].note->a;
        n += !seen;
    }
    for (size_t i = wlo; i < whi; i++) {
        bool seen = false;
        for (size_t k = lo; k < hi && !seen; k++)
            seen = v[k].note->a == v[i].note->b;
        for (size_t k = wlo; k < i && !seen; k++)
            seen = v[k].note->b == v[i].note->b;
        n += !seen;
    }
    return n;
}

static void report_class_pair(struct ctx *c, const struct cedge *v, size_t lo, size_t hi,
                              size_t wlo, size_t whi)
{
    /* the evidence: one edge per direction, from two threads when there are */
    const struct pw_lock_edge *x = v[lo].note, *y = v[wlo].note;
    for (size_t i = lo; i < hi && y->serial == x->serial; i++)
        for (size_t k = wlo; k < whi; k++)
            if (v[k].note->serial != v[i].note->serial) {
                x = v[i].note;
                y = v[k].note;
                break;
            }
    if (class_gated(v, lo, hi, v, wlo, whi) || class_deadlocked(c, x, y) ||
        class_fixed_order(c->p, v, lo, hi, v, wlo, whi))
        return;
    struct pw_finding *f = pw_finding_new(c->fs, PW_FK_LOCK_ORDER, c->p);
    if (!f)
        return; /* out of memory: pw_detect_all reports it */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    struct pw_thread *t1 = class_evidence(c, f, x, m, false);
    struct pw_thread *t2 = class_evidence(c, f, y, m, true);
    if (!m || fclose(m) != 0)
        f->oom = true; /* the cycle text could not be written */
    f->chain_text = text;
    if (f->nobjects < 3)
        return; /* out of memory above */
    /* objects: A of the first edge (class 1), then B (class 2), then the
     * other direction's instances */
    const char *c1 = f->objects[0].o->id, *c2 = f->objects[1].o->id;
    /* the instances seen of each class, over both orders */
    size_t n1 = instances(v, lo, hi, wlo, whi), n2 = instances(v, wlo, whi, lo, hi);
    if (t1 && t1 == t2)
        pw_finding_set_message(f,
                               "lock order inversion between lock classes: locks of the class "
                               "of %s (%zu instance%s in the kept edges) and of the class of %s "
                               "(%zu) are taken in both orders on different instances, both by "
                               "thread %s (potential deadlock once two threads run these paths "
                               "on the same instances)",
                               c1, n1, n1 == 1 ? "" : "s", c2, n2, t1->name);
    else
        pw_finding_set_message(f,
                               "lock order inversion between lock classes: locks of the class "
                               "of %s (%zu instance%s in the kept edges) and of the class of %s "
                               "(%zu) are taken in both orders on different instances "
                               "(potential deadlock once they meet on the same instances)",
                               c1, n1, n1 == 1 ? "" : "s", c2, n2);
}

static void class_pass(struct ctx *c)
{
    const struct pw_process *p = c->p;
    struct cedge *v = malloc((p->nlock_edges ? p->nlock_edges : 1) * sizeof(*v));
    if (!v) {
        c->fs->oom = true; /* out of memory: pw_detect_all reports it */
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nlock_edges; i++) {
        const struct pw_lock_edge *e = &p->lock_edges[i];
        if (e->a == e->b || (e->a_read && e->b_read) || (!e->cls_a && !e->cls_b))
            continue; /* no class beyond the instances: the instance pass's */
        uint64_t ka = class_key(e->cls_a, e->a, e->a_unknown);
        uint64_t kb = class_key(e->cls_b, e->b, e->b_unknown);
        if (!ka || !kb || ka == kb)
            continue; /* no class, or one class nested in itself (see above) */
        v[n++] = (struct cedge){ka, kb, e};
    }
    qsort(v, n, sizeof(*v), cmp_cedge);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        size_t wlo, whi;
        class_range(v, n, v[lo].ka, v[lo].kb, &lo, &hi);
        if (v[lo].ka > v[lo].kb)
            continue; /* each pair once, from its lower class */
        class_range(v, n, v[lo].kb, v[lo].ka, &wlo, &whi);
        if (wlo == whi || instance_cycle(v + lo, hi - lo, v + wlo, whi - wlo))
            continue;
        report_class_pair(c, v, lo, hi, wlo, whi);
    }
    free(v);
}

void pw_detect_lock_order(struct pw_process *p, struct pw_findings *fs)
{
    struct graph g = {0};
    bool *on_path = NULL;
    if (build_graph(p, &g) < 0 || (g.nedges && !(on_path = calloc(g.nnodes, sizeof(*on_path))))) {
        fs->oom = true; /* out of memory: pw_detect_all reports it */
        goto out;
    }
    if (!g.nedges)
        goto out;
    struct ctx c = {p, fs, fs->n};
    struct search s = {.g = &g, .on_path = on_path, .found = report_cycle, .ctx = &c};
    for (uint32_t n = 0; n < g.nnodes && s.steps <= MAX_STEPS; n++) {
        s.start = n;
        s.depth = 0;
        on_path[n] = true;
        dfs(&s, n);
        on_path[n] = false;
    }
    class_pass(&c);
    free(on_path);
out:
    free_graph(&g);
}
