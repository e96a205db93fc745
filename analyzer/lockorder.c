/* Lock-order inversions (potential deadlocks): cycles in the graph of "B taken
 * while holding A" edges, of any length.
 *
 * The shim records each new edge once per (A, B, thread) as a LOCK_EDGE note,
 * with the stack that took B and the site that took A.  Here:
 *   - a lock address that was destroyed or re-initialised starts a new node
 *     (address, generation), so a reused address never closes a false cycle;
 *   - read-read rwlock edges are dropped: two readers never block each other;
 *   - a cycle whose edges all come from one thread is not reported (one thread
 *     cannot deadlock with itself through ordering alone);
 *   - a gate lock held around every acquisition of the cycle serializes it:
 *     no report;
 *   - a cycle whose threads already deadlocked is reported as a deadlock only.
 * Trylock acquisitions never reach here: the shim records no edge for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "lockorder.h"
#include "model.h"
#include "reader.h"

struct edge {
    uint32_t from, to;         /* node indexes */
    const struct pw_event *note;
};

struct node {
    uint64_t addr;
    uint32_t gen;
    uint32_t type;
};

struct graph {
    struct node *nodes;
    size_t nnodes, capn;
    struct edge *edges;        /* sorted by from */
    size_t nedges;
    size_t *first;             /* first edge index per node (nnodes + 1 entries) */
    uint32_t *index;           /* open addressing over nodes: position + 1, 0 = empty */
    size_t index_cap;          /* a power of two, kept at least twice nnodes */
};

/* Times at which an address was destroyed or (re)initialised, for generations. */
struct gen_mark {
    uint64_t addr;
    uint64_t time_ns;
};

static int cmp_mark(const void *a, const void *b)
{
    const struct gen_mark *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

static struct gen_mark *collect_marks(const struct pw_trace *t, size_t *n)
{
    size_t nev = 0, k = 0;
    const struct pw_event *ev = pw_trace_events(t, &nev);
    struct gen_mark *m = malloc((nev ? nev : 1) * sizeof(*m));
    if (!m)
        return NULL;
    for (size_t i = 0; i < nev; i++)
        if (ev[i].kind == PW_EV_LOCK_DESTROY || ev[i].kind == PW_EV_LOCK_INIT)
            m[k++] = (struct gen_mark){ev[i].obj, ev[i].time_ns};
    qsort(m, k, sizeof(*m), cmp_mark);
    *n = k;
    return m;
}

/* Generation of ADDR at time T: marks before T. */
static uint32_t generation(const struct gen_mark *m, size_t n, uint64_t addr, uint64_t t)
{
    uint32_t g = 0;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < n && m[i].addr == addr && m[i].time_ns < t; i++)
        g++;
    return g;
}

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

static int build_graph(const struct pw_trace *t, struct graph *g)
{
    size_t nnotes = 0, nmarks = 0;
    const struct pw_event *notes = pw_trace_notes(t, &nnotes);
    struct gen_mark *marks = collect_marks(t, &nmarks);
    if (!marks)
        return -1;
    g->edges = malloc((nnotes ? nnotes : 1) * sizeof(*g->edges));
    if (!g->edges)
        goto fail;
    for (size_t i = 0; i < nnotes; i++) {
        const struct pw_event *e = &notes[i];
        if (e->kind != PW_EV_LOCK_EDGE || e->obj == e->obj2)
            continue;
        if ((e->arg & PW_EDGE_A_READ) && (e->arg & PW_EDGE_B_READ))
            continue; /* readers never wait for readers */
        uint32_t a = node_of(g, e->obj, generation(marks, nmarks, e->obj, e->time_ns), 0);
        uint32_t b = node_of(g, e->obj2, generation(marks, nmarks, e->obj2, e->time_ns), e->op);
        if (a == UINT32_MAX || b == UINT32_MAX)
            goto fail;
        g->edges[g->nedges++] = (struct edge){a, b, e};
    }
    qsort(g->edges, g->nedges, sizeof(*g->edges), cmp_edge);
    g->first = calloc(g->nnodes + 1, sizeof(*g->first));
    if (!g->first)
        goto fail;
    for (size_t i = 0, e = 0; i <= g->nnodes; i++) {
        while (e < g->nedges && g->edges[e].from < i)
            e++;
        g->first[i] = e;
    }
    free(marks);
    return 0;
fail:
    free(marks);
    return -1;
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
    size_t path[MAX_CYCLE];    /* edge indexes */
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
    size_t from;               /* first finding of this detector */
};

/* Picks, for every edge of the cycle, a note such that at least two distinct
 * threads appear; returns false if the whole cycle is one thread's. */
static bool pick_notes(struct search *s, const struct pw_event **chosen)
{
    struct graph *g = s->g;
    uint32_t first_thread = g->edges[s->path[0]].note->thread;
    bool distinct = false;
    for (size_t i = 0; i < s->depth; i++) {
        const struct edge *e = &g->edges[s->path[i]];
        chosen[i] = e->note;
        for (size_t k = s->path[i]; k < g->nedges && g->edges[k].from == e->from &&
                                    g->edges[k].to == e->to; k++) {
            if (g->edges[k].note->thread != first_thread) {
                chosen[i] = g->edges[k].note;
                break;
            }
        }
        if (chosen[i]->thread != first_thread)
            distinct = true;
    }
    return distinct;
}

/* A gate lock: one lock, not in the cycle, held around every acquisition of
 * every edge of the cycle (all notes of each pair: one ungated acquisition is
 * enough to deadlock). */
static bool gated(struct search *s, const struct pw_event **chosen)
{
    struct graph *g = s->g;
    uint64_t gate = PW_EDGE_GATE(chosen[0]->arg);
    if (!gate)
        return false;
    for (size_t i = 0; i < s->depth; i++) {
        const struct edge *e = &g->edges[s->path[i]];
        if (g->nodes[e->from].addr == gate || g->nodes[e->to].addr == gate)
            return false;
        for (size_t k = s->path[i]; k < g->nedges && g->edges[k].from == e->from &&
                                    g->edges[k].to == e->to; k++)
            if (PW_EDGE_GATE(g->edges[k].note->arg) != gate)
                return false;
    }
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
    const struct pw_event *chosen[MAX_CYCLE];
    if (!pick_notes(s, chosen) || gated(s, chosen) || already_deadlocked(c, s))
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
        struct pw_thread *t = pw_model_thread(c->p, chosen[i]->thread);
        if (!a || !b || !t)
            continue;
        /* a statically initialised lock has no init event: where this edge's
         * thread took it is the next best site */
        if (a->create_stack)
            pw_finding_add_object(f, a, a->create_stack, a->site_label);
        else
            pw_finding_add_object(f, a, chosen[i]->stack2, "first locked at");
        pw_finding_add_thread(f, t, "acquires", chosen[i]->stack, chosen[i]->stack2);
        if (m)
            fprintf(m, "%s%s takes %s while holding %s", i ? " -> " : "", t->name, b->id, a->id);
    }
    if (!m || fclose(m) != 0)
        f->oom = true; /* the cycle text could not be written */
    f->chain_text = text;
    if (f->nobjects == 2)
        pw_finding_set_message(f, "lock order inversion: %s and %s are taken in both orders "
                               "(potential deadlock)", f->objects[0].o->id, f->objects[1].o->id);
    else
        pw_finding_set_message(f, "lock order inversion: a cycle of %zu locks taken in "
                               "conflicting orders (potential deadlock)", f->nobjects);
}

void pw_detect_lock_order(struct pw_process *p, struct pw_findings *fs)
{
    struct graph g = {0};
    bool *on_path = NULL;
    if (build_graph(p->trace, &g) < 0 || (g.nedges && !(on_path = calloc(g.nnodes, sizeof(*on_path))))) {
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
    free(on_path);
out:
    free_graph(&g);
}
