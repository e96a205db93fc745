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
 * chosen as evidence, each edge with its two stacks; so is a cycle of three
 * classes or more (the class graph is searched as the instance graph is).  It
 * is not reported again when the instance pass already judged an instance cycle
 * over the same classes (reported, gated or deadlocked), when one gate lock
 * serializes every edge of the cycle, when its threads already deadlocked, or
 * when one thread's edges all nest the same two call sites.
 *
 * Instance cycles over the same classes are one finding as well (1024 item
 * locks initialised in one loop, several taken in both orders with one stats
 * lock, are one inversion, not one per item): the group's first cycle of two
 * threads or more gives the stacks, every cycle's locks are listed (the first
 * MAX_LISTED) and counted.  A lock that is its own class (a static lock, an
 * init stack of its own) groups with nothing: its cycles stay one finding each.  Two instances of the SAME class nested (item[i] then
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
    uint64_t key; /* its lock class (class_key), instance graph only */
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
    g->nodes[g->nnodes] = (struct node){addr, gen, type, 0};
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

/* Edges sorted by (from, to), and where each node's edges start. */
static int index_edges(struct graph *g)
{
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

/* The class of node N from one of its notes: the init stack (top bit set, so
 * it never equals an address) when the shim saw the init, else the lock's
 * address (a static lock is its own class), and for a lock of unknown life the
 * node itself (it joins nothing). */
static void set_class(struct graph *g, uint32_t n, uint32_t cls, bool unknown)
{
    struct node *x = &g->nodes[n];
    if (cls)
        x->key = 1ull << 63 | cls;
    else if (!x->key)
        x->key = unknown ? 1ull << 62 | n : x->addr;
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
        set_class(g, a, e->cls_a, e->a_unknown);
        set_class(g, b, e->cls_b, e->b_unknown);
        g->edges[g->nedges++] = (struct edge){a, b, e};
    }
    return index_edges(g);
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
/* Instance cycles kept for grouping (about 400 bytes each): beyond, the search
 * stops, as it does after MAX_STEPS. */
#define MAX_CYCLES 100000

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

/* A cycle's lock classes, the same for every cycle over the same classes: the
 * shortest period of the class sequence (item[1] -> stats -> item[2] -> stats
 * is the class pair item, stats), from its smallest rotation. */
struct sig {
    uint32_t n;
    uint64_t k[MAX_CYCLE];
};

static void make_sig(struct sig *out, const uint64_t *k, size_t d)
{
    size_t p = d;
    for (size_t q = 1; q < d && p == d; q++) {
        if (d % q)
            continue;
        size_t i = q;
        while (i < d && k[i] == k[i - q])
            i++;
        if (i == d)
            p = q;
    }
    size_t best = 0;
    for (size_t r = 1; r < p; r++)
        for (size_t i = 0; i < p; i++) {
            uint64_t x = k[(r + i) % p], y = k[(best + i) % p];
            if (x != y) {
                if (x < y)
                    best = r;
                break;
            }
        }
    out->n = (uint32_t)p;
    for (size_t i = 0; i < p; i++)
        out->k[i] = k[(best + i) % p];
}

static int cmp_sig(const struct sig *a, const struct sig *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->k[i] != b->k[i])
            return a->k[i] < b->k[i] ? -1 : 1;
    return 0;
}

/* An instance cycle the search found, judged (report) or not. */
struct icycle {
    struct sig sig;
    size_t order; /* found order: reports keep it */
    size_t depth;
    size_t path[MAX_CYCLE]; /* edge indexes */
    const struct pw_lock_edge *chosen[MAX_CYCLE];
    bool one_thread;
    bool report; /* not gated, deadlocked nor a fixed order */
};

struct ctx {
    struct pw_process *p;
    struct pw_findings *fs;
    size_t from; /* first finding of this detector */
    struct graph *g;
    /* every instance cycle; after the instance pass sorted by (sig, order), so
     * the class pass can tell which class cycles the instances judged */
    struct icycle *cyc;
    size_t ncyc, capcyc;
};

/* Whether edge index K is another note of the same (A, B) pair as edge E. */
static bool same_pair(const struct graph *g, size_t k, size_t e)
{
    return k < g->nedges && g->edges[k].from == g->edges[e].from &&
           g->edges[k].to == g->edges[e].to;
}

/* Picks, for every edge of the cycle, a note such that at least two distinct
 * threads appear: for each note of the first edge in turn, the other edges'
 * notes of another thread (T1 takes A->B; T2 takes A->B and B->A: T1's A->B
 * with T2's B->A).  Returns false if the whole cycle is one thread's (every
 * note is), the first notes chosen. */
static bool pick_notes(struct search *s, const struct pw_lock_edge **chosen)
{
    struct graph *g = s->g;
    for (size_t x = s->path[0]; same_pair(g, x, s->path[0]); x++) {
        uint32_t t = g->edges[x].note->serial;
        bool distinct = false;
        chosen[0] = g->edges[x].note;
        for (size_t i = 1; i < s->depth; i++) {
            chosen[i] = g->edges[s->path[i]].note;
            for (size_t k = s->path[i]; same_pair(g, k, s->path[i]); k++)
                if (g->edges[k].note->serial != t) {
                    chosen[i] = g->edges[k].note;
                    break;
                }
            distinct = distinct || chosen[i]->serial != t;
        }
        if (distinct)
            return true;
    }
    for (size_t i = 0; i < s->depth; i++)
        chosen[i] = g->edges[s->path[i]].note;
    return false;
}

/* A gate lock: one lock, not in the cycle, held around every acquisition of
 * every edge of the cycle (all notes of each pair: one ungated acquisition is
 * enough to deadlock).  In the class graph a node's address is a class, never
 * a lock: the notes' own locks are compared too. */
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
             k < g->nedges && g->edges[k].from == e->from && g->edges[k].to == e->to; k++) {
            const struct pw_lock_edge *n = g->edges[k].note;
            if (n->gate != gate || n->a == gate || n->b == gate)
                return false;
        }
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
 * cannot tell apart from a class order it keeps (lockdep's classes).  ALL:
 * every note of each edge, not only the chosen ones (the class pass). */
static bool fixed_class_order(const struct pw_process *p, struct search *s,
                              const struct pw_lock_edge **chosen, bool all)
{
    uint64_t outer = call_site(p, chosen[0]->stack2), inner = call_site(p, chosen[0]->stack);
    if (!outer || !inner)
        return false;
    const struct graph *g = s->g;
    for (size_t i = 0; i < s->depth; i++) {
        size_t k = s->path[i], end = k + 1;
        if (all)
            while (end < g->nedges && g->edges[end].from == g->edges[k].from &&
                   g->edges[end].to == g->edges[k].to)
                end++;
        for (; k < end; k++) {
            const struct pw_lock_edge *e = all ? g->edges[k].note : chosen[i];
            if (e->serial != chosen[0]->serial || call_site(p, e->stack2) != outer ||
                call_site(p, e->stack) != inner)
                return false;
        }
    }
    return true;
}

/* A deadlock finding of the process holding HITS of the cycle's locks already
 * says it. */
static bool already_deadlocked(struct ctx *c, const struct pw_lock_edge **chosen, size_t depth,
                               size_t need)
{
    for (size_t i = 0; i < c->fs->n; i++) {
        struct pw_finding *f = c->fs->v[i];
        if (f->kind != PW_FK_DEADLOCK || f->proc != c->p)
            continue;
        size_t hits = 0;
        for (size_t o = 0; o < f->nobjects; o++)
            for (size_t k = 0; k < depth; k++)
                if (f->objects[o].o->key == chosen[k]->a || f->objects[o].o->key == chosen[k]->b) {
                    hits++;
                    break;
                }
        if (hits >= need)
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

/* ---- the instance pass: every cycle is judged, then those over the same lock
 * classes are grouped (1024 item locks initialised in one loop, each taken in
 * both orders with a stats lock, are one inversion, not 1024). */

static void collect_cycle(struct search *s, void *vctx)
{
    struct ctx *c = vctx;
    if (c->ncyc >= MAX_CYCLES) {
        s->steps = MAX_STEPS + 1; /* enough: stop the search */
        return;
    }
    if (c->ncyc == c->capcyc) {
        size_t cap = c->capcyc ? c->capcyc * 2 : 16;
        struct icycle *nv = realloc(c->cyc, cap * sizeof(*nv));
        if (!nv) {
            c->fs->oom = true; /* out of memory: pw_detect_all reports it */
            return;
        }
        c->cyc = nv;
        c->capcyc = cap;
    }
    struct icycle *r = &c->cyc[c->ncyc];
    uint64_t keys[MAX_CYCLE];
    for (size_t i = 0; i < s->depth; i++) {
        r->path[i] = s->path[i];
        keys[i] = s->g->nodes[s->g->edges[s->path[i]].from].key;
    }
    make_sig(&r->sig, keys, s->depth);
    r->order = c->ncyc++;
    r->depth = s->depth;
    r->one_thread = !pick_notes(s, r->chosen);
    r->report = !((r->one_thread && fixed_class_order(c->p, s, r->chosen, false)) ||
                  gated(s, r->chosen) || already_deadlocked(c, r->chosen, s->depth, s->depth));
}

static int cmp_icycle(const void *a, const void *b)
{
    const struct icycle *x = a, *y = b;
    int d = cmp_sig(&x->sig, &y->sig);
    if (d)
        return d;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_order(const void *a, const void *b)
{
    const struct icycle *x = *(const struct icycle *const *)a;
    const struct icycle *y = *(const struct icycle *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* One finding for cycle R: its locks, each edge's thread with its two stacks. */
static struct pw_finding *report_cycle(struct ctx *c, const struct icycle *r)
{
    const struct graph *g = c->g;
    struct pw_finding *f = pw_finding_new(c->fs, PW_FK_LOCK_ORDER, c->p);
    if (!f)
        return NULL; /* out of memory: pw_detect_all reports it */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    for (size_t i = 0; i < r->depth; i++) {
        const struct edge *e = &g->edges[r->path[i]];
        struct pw_object *a = lock_object(c->p, &g->nodes[e->from]);
        struct pw_object *b = lock_object(c->p, &g->nodes[e->to]);
        struct pw_thread *t = pw_model_thread(c->p, r->chosen[i]->serial);
        if (!a || !b) {
            f->oom = true; /* out of memory: pw_detect_all reports it */
            continue;
        }
        if (!t)
            continue; /* a thread the trace lost */
        /* the edge's own two stacks say where each lock was taken (TSan's
         * "acquired here while holding"); a lock's init site, if any, names it */
        pw_finding_add_object(f, a, a->create_stack, a->site_label);
        if (pw_finding_add_thread(f, t, PW_ROLE_ACQUIRES, r->chosen[i]->stack,
                                  r->chosen[i]->stack2) == 0) {
            f->threads[f->nthreads - 1].lock = b;
            f->threads[f->nthreads - 1].lock2 = a;
        }
        if (m)
            fprintf(m, "%s%s takes %s while holding %s", i ? " -> " : "", t->name, b->id, a->id);
    }
    if (!m || fclose(m) != 0)
        f->oom = true; /* the cycle text could not be written */
    f->chain_text = text;
    struct pw_thread *only = r->one_thread ? pw_model_thread(c->p, r->chosen[0]->serial) : NULL;
    if (r->one_thread && f->nobjects == 2)
        pw_finding_set_message(f,
                               "lock order inversion: %s and %s are taken in both orders, both "
                               "by thread %s (potential deadlock once two threads run these "
                               "paths)",
                               f->objects[0].o->id, f->objects[1].o->id, only ? only->name : "?");
    else if (r->one_thread)
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
    return f;
}

/* Instances listed as objects of a grouped finding: the count says the rest. */
#define MAX_LISTED 16

/* F, made for the group's representative R, stands for all N cycles of
 * RS[0..n): their locks are its evidence (addresses or symbols, creation
 * sites), the stacks stay those of R. */
static void report_group(struct ctx *c, struct pw_finding *f, const struct icycle *r,
                         const struct icycle *const *rs, size_t n)
{
    const struct graph *g = c->g;
    size_t cap = g->nnodes, nlocks = 0;
    bool *seen = calloc(cap ? cap : 1, sizeof(*seen));
    if (!seen) {
        f->oom = true; /* out of memory: pw_detect_all reports it */
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < rs[i]->depth; k++) {
            uint32_t x = g->edges[rs[i]->path[k]].from;
            if (seen[x])
                continue;
            seen[x] = true;
            nlocks++;
            struct pw_object *o = f->nobjects < MAX_LISTED ? lock_object(c->p, &g->nodes[x]) : NULL;
            if (o)
                pw_finding_add_object(f, o, o->create_stack, o->site_label);
        }
    free(seen);
    char listed[48] = "";
    if (nlocks > f->nobjects)
        snprintf(listed, sizeof listed, ", the first %zu listed", f->nobjects);
    struct pw_thread *only = r->one_thread ? pw_model_thread(c->p, r->chosen[0]->serial) : NULL;
    const char *a = f->objects[0].o->id, *b = f->nobjects > 1 ? f->objects[1].o->id : "?";
    if (r->depth == 2 && r->one_thread)
        pw_finding_set_message(f,
                               "lock order inversion: %s and %s are taken in both orders, both "
                               "by thread %s, and so are %zu more pairs of the same lock "
                               "classes (%zu locks in all%s; the stacks are the first pair's) "
                               "(potential deadlock once two threads run these paths)",
                               a, b, only ? only->name : "?", n - 1, nlocks, listed);
    else if (r->depth == 2)
        pw_finding_set_message(f,
                               "lock order inversion: %s and %s are taken in both orders, and "
                               "so are %zu more pairs of the same lock classes (%zu locks in "
                               "all%s; the stacks are the first pair's) (potential deadlock)",
                               a, b, n - 1, nlocks, listed);
    else
        pw_finding_set_message(f,
                               "lock order inversion: a cycle of %zu locks taken in conflicting "
                               "orders%s%s, and %zu more cycles of the same lock classes (%zu "
                               "locks in all%s; the stacks are the first cycle's) (potential "
                               "deadlock%s)",
                               r->depth, only ? ", all by thread " : "", only ? only->name : "",
                               n - 1, nlocks, listed,
                               only ? " once two threads run these paths" : "");
}

/* Reports the judged cycles, one finding per group over the same classes, in
 * the order the search found them.  Leaves c->cyc sorted by (sig, order). */
static void report_cycles(struct ctx *c)
{
    qsort(c->cyc, c->ncyc, sizeof(*c->cyc), cmp_icycle);
    const struct icycle **rep = malloc((c->ncyc ? c->ncyc : 1) * sizeof(*rep));
    const struct icycle **grp = malloc((c->ncyc ? c->ncyc : 1) * sizeof(*grp));
    size_t nrep = 0;
    if (!rep || !grp) {
        c->fs->oom = true; /* out of memory: pw_detect_all reports it */
        goto out;
    }
    /* each group's representative: the first cycle of two threads or more */
    for (size_t lo = 0, hi; lo < c->ncyc; lo = hi) {
        const struct icycle *r = NULL;
        for (hi = lo; hi < c->ncyc && cmp_sig(&c->cyc[hi].sig, &c->cyc[lo].sig) == 0; hi++)
            if (c->cyc[hi].report && (!r || (r->one_thread && !c->cyc[hi].one_thread)))
                r = &c->cyc[hi];
        if (r)
            rep[nrep++] = r;
    }
    qsort(rep, nrep, sizeof(*rep), cmp_order);
    for (size_t i = 0; i < nrep; i++) {
        const struct icycle *r = rep[i];
        struct pw_finding *f = report_cycle(c, r);
        size_t lo = (size_t)(r - c->cyc), n = 0;
        while (lo > 0 && cmp_sig(&c->cyc[lo - 1].sig, &r->sig) == 0)
            lo--;
        for (size_t k = lo; k < c->ncyc && cmp_sig(&c->cyc[k].sig, &r->sig) == 0; k++)
            if (c->cyc[k].report)
                grp[n++] = &c->cyc[k];
        if (f && n > 1 && f->nobjects > 0)
            report_group(c, f, r, grp, n);
    }
out:
    free(rep);
    free(grp);
}

/* Whether the instance pass judged a cycle over the classes of SIG. */
static bool instances_judged(const struct ctx *c, const struct sig *sig)
{
    size_t l = 0, h = c->ncyc;
    while (l < h) {
        size_t m = l + (h - l) / 2;
        int d = cmp_sig(&c->cyc[m].sig, sig);
        if (d == 0)
            return true;
        if (d < 0)
            l = m + 1;
        else
            h = m;
    }
    return false;
}

/* ---- the class pass: cycles in the graph of lock classes whose instance edges
 * never close a cycle themselves (their edges were folded, or the instances
 * differ) */

/* The class of a lock in an edge: its init stack (top bit set, so it never
 * equals an address), else the address of a lock of known life; 0 for a lock
 * of unknown life (no class). */
static uint64_t class_key(uint32_t cls, uint64_t addr, bool unknown)
{
    if (cls)
        return 1ull << 63 | cls;
    return unknown ? 0 : addr;
}

/* Distinct instances of class KEY among the notes of the class cycle (all of
 * them on out of memory: a count, not evidence). */
static size_t class_instances(const struct search *s, uint64_t key)
{
    const struct graph *g = s->g;
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < s->depth; i++) {
        const struct edge *e = &g->edges[s->path[i]];
        for (size_t k = s->path[i];
             k < g->nedges && g->edges[k].from == e->from && g->edges[k].to == e->to; k++)
            for (int side = 0; side < 2; side++) {
                if (g->nodes[side ? e->to : e->from].addr != key)
                    continue;
                uint64_t addr = side ? g->edges[k].note->b : g->edges[k].note->a;
                size_t j = 0;
                while (j < n && v[j] != addr)
                    j++;
                if (j < n)
                    continue;
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    uint64_t *nv = realloc(v, nc * sizeof(*nv));
                    if (!nv) {
                        free(v);
                        return n;
                    }
                    v = nv;
                    cap = nc;
                }
                v[n++] = addr;
            }
    }
    free(v);
    return n;
}

/* Adds edge E (B taken while holding A) to F as evidence: both instances as
 * objects, the thread with the edge's two stacks.  Returns the thread or NULL;
 * *AOUT is A's object (NULL on out of memory). */
static struct pw_thread *class_evidence(struct ctx *c, struct pw_finding *f,
                                        const struct pw_lock_edge *e, FILE *m, bool second,
                                        struct pw_object **aout)
{
    struct node na = {e->a, e->gen_a, e->type_a, 0}, nb = {e->b, e->gen_b, e->type_b, 0};
    struct pw_object *a = lock_object(c->p, &na), *b = lock_object(c->p, &nb);
    struct pw_thread *t = pw_model_thread(c->p, e->serial);
    *aout = a;
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

static void report_class_cycle(struct search *s, void *vctx)
{
    struct ctx *c = vctx;
    const struct graph *g = s->g;
    uint64_t keys[MAX_CYCLE];
    for (size_t i = 0; i < s->depth; i++)
        keys[i] = g->nodes[g->edges[s->path[i]].from].addr;
    struct sig sig;
    make_sig(&sig, keys, s->depth);
    if (instances_judged(c, &sig))
        return; /* the instance pass's verdict (reported, gated or deadlocked) */
    /* the evidence: one edge per class edge, from two threads when there are */
    const struct pw_lock_edge *chosen[MAX_CYCLE];
    bool one_thread = !pick_notes(s, chosen);
    if (gated(s, chosen) || already_deadlocked(c, chosen, s->depth, 2) ||
        (one_thread && fixed_class_order(c->p, s, chosen, true)))
        return;
    struct pw_finding *f = pw_finding_new(c->fs, PW_FK_LOCK_ORDER, c->p);
    if (!f)
        return; /* out of memory: pw_detect_all reports it */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    const char *cls[MAX_CYCLE];
    struct pw_thread *t1 = NULL;
    bool same = true;
    for (size_t i = 0; i < s->depth; i++) {
        struct pw_object *a = NULL;
        struct pw_thread *t = class_evidence(c, f, chosen[i], m, i > 0, &a);
        cls[i] = a ? a->id : "?";
        if (i == 0)
            t1 = t;
        same = same && t && t == t1;
    }
    if (!m || fclose(m) != 0)
        f->oom = true; /* the cycle text could not be written */
    f->chain_text = text;
    if (f->nobjects < s->depth + 1)
        return; /* out of memory above */
    if (s->depth == 2) {
        /* objects: A of the first edge (class 1), then B (class 2), then the
         * other direction's instances */
        const char *c1 = f->objects[0].o->id, *c2 = f->objects[1].o->id;
        size_t n1 = class_instances(s, keys[0]), n2 = class_instances(s, keys[1]);
        if (same)
            pw_finding_set_message(f,
                                   "lock order inversion between lock classes: locks of the "
                                   "class of %s (%zu instance%s in the kept edges) and of the "
                                   "class of %s (%zu) are taken in both orders on different "
                                   "instances, both by thread %s (potential deadlock once two "
                                   "threads run these paths on the same instances)",
                                   c1, n1, n1 == 1 ? "" : "s", c2, n2, t1->name);
        else
            pw_finding_set_message(f,
                                   "lock order inversion between lock classes: locks of the "
                                   "class of %s (%zu instance%s in the kept edges) and of the "
                                   "class of %s (%zu) are taken in both orders on different "
                                   "instances (potential deadlock once they meet on the same "
                                   "instances)",
                                   c1, n1, n1 == 1 ? "" : "s", c2, n2);
        return;
    }
    /* a cycle of three classes or more: name each by one instance */
    char *names = NULL;
    size_t nlen = 0;
    FILE *nm = open_memstream(&names, &nlen);
    for (size_t i = 0; i < s->depth; i++) {
        size_t ni = class_instances(s, keys[i]);
        if (nm)
            fprintf(nm, "%s%s (%zu%s)",
                    i == 0             ? ""
                    : i + 1 < s->depth ? ", "
                                       : " and ",
                    cls[i], ni,
                    i         ? ""
                    : ni == 1 ? " instance in the kept edges"
                              : " instances in the kept edges");
    }
    if (!nm || fclose(nm) != 0) {
        f->oom = true; /* the class list could not be written */
        free(names);
        names = NULL;
    }
    pw_finding_set_message(
        f,
        "lock order inversion between lock classes: the classes of %s are "
        "taken in a cycle, on different instances%s%s (potential deadlock "
        "once %s)",
        names ? names : "?", same ? ", all by thread " : "", same ? t1->name : "",
        same ? "threads run these paths on the same instances" : "they meet on the same instances");
    free(names);
}

static void class_pass(struct ctx *c)
{
    const struct pw_process *p = c->p;
    struct graph cg = {0};
    bool *on_path = NULL;
    cg.edges = malloc((p->nlock_edges ? p->nlock_edges : 1) * sizeof(*cg.edges));
    if (!cg.edges)
        goto oom;
    for (size_t i = 0; i < p->nlock_edges; i++) {
        const struct pw_lock_edge *e = &p->lock_edges[i];
        if (e->a == e->b || (e->a_read && e->b_read) || (!e->cls_a && !e->cls_b))
            continue; /* no class beyond the instances: the instance pass's */
        uint64_t ka = class_key(e->cls_a, e->a, e->a_unknown);
        uint64_t kb = class_key(e->cls_b, e->b, e->b_unknown);
        if (!ka || !kb || ka == kb)
            continue; /* no class, or one class nested in itself (see above) */
        /* a class node's address is its key: never a lock's (see gated) */
        uint32_t a = node_of(&cg, ka, 0, 0), b = node_of(&cg, kb, 0, 0);
        if (a == UINT32_MAX || b == UINT32_MAX)
            goto oom;
        cg.edges[cg.nedges++] = (struct edge){a, b, e};
    }
    if (!cg.nedges)
        goto out;
    if (index_edges(&cg) < 0 || !(on_path = calloc(cg.nnodes, sizeof(*on_path))))
        goto oom;
    struct search s = {.g = &cg, .on_path = on_path, .found = report_class_cycle, .ctx = c};
    for (uint32_t n = 0; n < cg.nnodes && s.steps <= MAX_STEPS; n++) {
        s.start = n;
        s.depth = 0;
        on_path[n] = true;
        dfs(&s, n);
        on_path[n] = false;
    }
    goto out;
oom:
    c->fs->oom = true; /* out of memory: pw_detect_all reports it */
out:
    free(on_path);
    free_graph(&cg);
}

void pw_detect_lock_order(struct pw_process *p, struct pw_findings *fs)
{
    struct graph g = {0};
    bool *on_path = NULL;
    struct ctx c = {p, fs, fs->n, &g, NULL, 0, 0};
    if (build_graph(p, &g) < 0 || (g.nedges && !(on_path = calloc(g.nnodes, sizeof(*on_path))))) {
        fs->oom = true; /* out of memory: pw_detect_all reports it */
        goto out;
    }
    if (!g.nedges)
        goto out;
    struct search s = {.g = &g, .on_path = on_path, .found = collect_cycle, .ctx = &c};
    for (uint32_t n = 0; n < g.nnodes && s.steps <= MAX_STEPS; n++) {
        s.start = n;
        s.depth = 0;
        on_path[n] = true;
        dfs(&s, n);
        on_path[n] = false;
    }
    report_cycles(&c);
    class_pass(&c);
out:
    free(on_path);
    free(c.cyc);
    free_graph(&g);
}
