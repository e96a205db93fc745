/* Wait-for and lock-order graphs for the pictures (graph.h).  Cycles are found
 * here, from the edges drawn (strongly connected components), so that what a
 * picture marks red is exactly what it shows going round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "frames.h"
#include "graph.h"
#include "model.h"
#include "parkwatch/ops.h"
#include "reader.h"
#include "report.h"

/* ---- building */

static size_t node_of(struct pw_graph *g, enum pw_gnode_kind kind, const void *key)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->nodes[i].key == key)
            return i;
    if (g->n == g->capn) {
        size_t nc = g->capn ? g->capn * 2 : 16;
        struct pw_gnode *nv = realloc(g->nodes, nc * sizeof(*nv));
        if (!nv)
            return SIZE_MAX;
        g->nodes = nv;
        g->capn = nc;
    }
    struct pw_gnode *n = &g->nodes[g->n];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->key = key;
    return g->n++;
}

static size_t thread_node(struct pw_graph *g, const struct pw_thread *t)
{
    size_t i = node_of(g, PW_GN_THREAD, t);
    if (i == SIZE_MAX || g->nodes[i].label[0])
        return i;
    struct pw_gnode *n = &g->nodes[i];
    snprintf(n->label, sizeof(n->label), "%s (tid %d)", t->name, t->tid);
    if (t->status == PW_THR_PARKED && t->waits_on)
        snprintf(n->sub, sizeof(n->sub), "%s %s", pw_park_op_name(t->op), t->waits_on->id);
    else
        snprintf(n->sub, sizeof(n->sub), "%s", pw_thread_state_str(pw_thread_view(t)));
    return i;
}

/* An object; a joined thread is its thread's node. */
static size_t object_node(const struct pw_report *r, struct pw_graph *g, const struct pw_object *o)
{
    if (o->type == PW_OBJ_THREAD && o->thread)
        return thread_node(g, o->thread);
    size_t i = node_of(g, PW_GN_OBJECT, o);
    if (i == SIZE_MAX || g->nodes[i].label[0])
        return i;
    struct pw_gnode *n = &g->nodes[i];
    snprintf(n->label, sizeof(n->label), "%s", o->id);
    const char *sym = pw_report_object_symbol(r, o);
    snprintf(n->sub, sizeof(n->sub), "%s", sym ? sym : pw_obj_type_name(o->type));
    return i;
}

/* Adds FROM -> TO once per (from, to, kind); the first label wins. */
static int add_edge(struct pw_graph *g, size_t from, size_t to, enum pw_gedge_kind kind,
                    const char *label)
{
    if (from == SIZE_MAX || to == SIZE_MAX)
        return -1;
    for (size_t i = 0; i < g->ne; i++)
        if (g->edges[i].from == from && g->edges[i].to == to && g->edges[i].kind == kind)
            return 0;
    if (g->ne == g->cape) {
        size_t nc = g->cape ? g->cape * 2 : 16;
        struct pw_gedge *nv = realloc(g->edges, nc * sizeof(*nv));
        if (!nv)
            return -1;
        g->edges = nv;
        g->cape = nc;
    }
    struct pw_gedge *e = &g->edges[g->ne++];
    memset(e, 0, sizeof(*e));
    e->from = from;
    e->to = to;
    e->kind = kind;
    snprintf(e->label, sizeof(e->label), "%s", label ? label : "");
    return 0;
}

static bool system_frame(const struct pw_frame *fr)
{
    const char *m = fr->module ? fr->module : "";
    return strncmp(m, "/lib", 4) == 0 || strncmp(m, "/usr/lib", 8) == 0 ||
           (fr->file && strncmp(fr->file, "/usr/include/", 13) == 0);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *pw_graph_site(const struct pw_report *r, const struct pw_process *p, uint32_t stack,
                          char *buf, size_t len)
{
    buf[0] = '\0';
    const struct pw_frame *v;
    size_t n = stack ? pw_frames_get(r->frames, p->trace, stack, &v) : 0;
    const struct pw_frame *pick = NULL;
    for (size_t i = 0; i < n && !pick; i++)
        if (v[i].function && !system_frame(&v[i]))
            pick = &v[i];
    if (!pick && n)
        pick = &v[0];
    if (!pick)
        return buf;
    if (pick->function && pick->file && pick->line)
        snprintf(buf, len, "%s (%s:%d)", pick->function, base_name(pick->file), pick->line);
    else if (pick->function)
        snprintf(buf, len, "%s", pick->function);
    else if (pick->module)
        snprintf(buf, len, "%s+0x%llx", base_name(pick->module),
                 (unsigned long long)pick->module_offset);
    else
        snprintf(buf, len, "0x%llx", (unsigned long long)pick->pc);
    return buf;
}

/* The finding's lock-order edges: B taken while holding A, per thread. */
static int add_acquires(const struct pw_report *r, struct pw_graph *g, const struct pw_finding *f)
{
    for (size_t i = 0; i < f->nthreads; i++) {
        const struct pw_fthread *ft = &f->threads[i];
        if (ft->role != PW_ROLE_ACQUIRES || !ft->lock || !ft->lock2)
            continue;
        char site[128], label[160];
        pw_graph_site(r, f->proc, ft->stack, site, sizeof(site));
        snprintf(label, sizeof(label), "%s%s%s", ft->t->name, site[0] ? " at " : "", site);
        if (add_edge(g, object_node(r, g, ft->lock2), object_node(r, g, ft->lock), PW_GE_ORDER,
                     label) < 0)
            return -1;
    }
    return 0;
}

static int build_waitfor(const struct pw_report *r, const struct pw_finding *f, struct pw_graph *g)
{
    snprintf(g->id, sizeof(g->id), "f%u", f->id);
    g->finding = f->id;
    g->proc = f->proc;
    snprintf(g->title, sizeof(g->title), "[%u] %s: %s", f->id, pw_finding_kind_name(f->kind),
             f->message ? f->message : "");
    if (f->kind == PW_FK_LOCK_ORDER)
        return add_acquires(r, g, f);
    /* every thread and object of the finding, waits first */
    for (size_t i = 0; i < f->nthreads; i++) {
        const struct pw_fthread *ft = &f->threads[i];
        const struct pw_thread *t = ft->t;
        size_t tn = thread_node(g, t);
        if (tn == SIZE_MAX)
            return -1;
        if (t->status == PW_THR_PARKED && t->waits_on &&
            add_edge(g, tn, object_node(r, g, t->waits_on), PW_GE_WAITS, pw_park_op_name(t->op)) <
                0)
            return -1;
        /* a woken cond waiter waits for the mutex it re-takes */
        if (t->reacquires &&
            add_edge(g, tn, object_node(r, g, t->reacquires), PW_GE_WAITS, "re-takes") < 0)
            return -1;
    }
    for (size_t i = 0; i < f->nobjects; i++)
        if (object_node(r, g, f->objects[i].o) == SIZE_MAX)
            return -1;
    for (size_t i = 0; i < f->nheld; i++) {
        const struct pw_fheld *h = &f->held[i];
        char site[128], label[160];
        pw_graph_site(r, f->proc, h->stack, site, sizeof(site));
        snprintf(label, sizeof(label), "held%s%s", site[0] ? " since " : "", site);
        if (add_edge(g, object_node(r, g, h->o), thread_node(g, h->t), PW_GE_HELD_BY, label) < 0)
            return -1;
    }
    /* the chain: each link's thread waits on its object, blocked by threads */
    for (size_t i = 0; i < f->nchain; i++) {
        const struct pw_link *l = &f->chain[i];
        if (!l->o)
            continue;
        size_t on = object_node(r, g, l->o);
        if (l->t && add_edge(g, thread_node(g, l->t), on, PW_GE_WAITS,
                             pw_park_op_name((unsigned)l->op)) < 0)
            return -1;
        /* a channel's blockers hold its other end open */
        const char *why = !pw_obj_is_chan(l->o->type)                 ? "blocked by"
                          : pw_op_dir((unsigned)l->op) == PW_DIR_SEND ? "read end held by"
                                                                      : "write end held by";
        for (size_t k = 0; k < l->nblocked_by; k++) {
            size_t bn = thread_node(g, l->blocked_by[k]);
            if (bn == on)
                continue; /* a join: the object is the thread */
            bool held = false;
            for (size_t e = 0; e < g->ne; e++)
                held |= g->edges[e].from == on && g->edges[e].to == bn;
            if (!held && add_edge(g, on, bn, PW_GE_HELD_BY, why) < 0)
                return -1;
        }
    }
    return add_acquires(r, g, f);
}

/* Is the lock-order edge A -> B one of a reported inversion's edges? */
static bool inverted(const struct pw_report *r, const struct pw_process *p,
                     const struct pw_object *a, const struct pw_object *b)
{
    for (size_t i = 0; i < r->findings->n; i++) {
        const struct pw_finding *f = r->findings->v[i];
        if (f->suppressed || f->proc != p)
            continue;
        for (size_t k = 0; k < f->nthreads; k++)
            if (f->threads[k].role == PW_ROLE_ACQUIRES && f->threads[k].lock2 == a &&
                f->threads[k].lock == b)
                return true;
    }
    return false;
}

static struct pw_object *lock_object(struct pw_process *p, enum pw_obj_type type, uint64_t addr)
{
    /* the lock-order detector's naming: rwlocks and spinlocks are themselves,
     * every other lock type a mutex */
    enum pw_obj_type t = type == PW_OBJ_RWLOCK || type == PW_OBJ_SPIN ? type : PW_OBJ_MUTEX;
    return pw_model_object(p, t, addr);
}

static int build_lockorder(const struct pw_report *r, struct pw_process *p, size_t pi,
                           struct pw_graph *g)
{
    snprintf(g->id, sizeof(g->id), "lo%zu", pi); /* a pid may repeat (exec) */
    g->proc = p;
    snprintf(g->title, sizeof(g->title), "lock order of pid %d (%s): B taken while holding A",
             p->pid, p->exe ? p->exe : "?");
    for (size_t i = 0; i < p->nlock_edges; i++) {
        const struct pw_lock_edge *e = &p->lock_edges[i];
        struct pw_object *a = lock_object(p, e->type_a, e->a);
        struct pw_object *b = lock_object(p, e->type_b, e->b);
        if (!a || !b)
            return -1;
        const struct pw_thread *t = pw_model_thread(p, e->serial);
        char site[128], label[160];
        pw_graph_site(r, p, e->stack, site, sizeof(site));
        snprintf(label, sizeof(label), "%s%s%s", t ? t->name : "?", site[0] ? " at " : "", site);
        size_t an = object_node(r, g, a), bn = object_node(r, g, b);
        size_t before = g->ne;
        if (add_edge(g, an, bn, PW_GE_ORDER, label) < 0)
            return -1;
        if (g->ne > before && inverted(r, p, a, b))
            g->edges[g->ne - 1].hot = true;
    }
    for (size_t i = 0; i < g->ne; i++)
        if (g->edges[i].hot)
            g->nodes[g->edges[i].from].hot = g->nodes[g->edges[i].to].hot = true;
    return 0;
}

/* ---- cycles: Tarjan's strongly connected components, iteratively bounded
 * by the graph's size (the graphs are small; recursion depth is n) */

struct tarjan {
    const struct pw_graph *g;
    int *index, *low, *comp;
    bool *on;
    size_t *stack, sp;
    int next, ncomp;
};

static void strongconnect(struct tarjan *s, size_t v)
{
    s->index[v] = s->low[v] = s->next++;
    s->stack[s->sp++] = v;
    s->on[v] = true;
    for (size_t i = 0; i < s->g->ne; i++) {
        if (s->g->edges[i].from != v)
            continue;
        size_t w = s->g->edges[i].to;
        if (s->index[w] < 0) {
            strongconnect(s, w);
            if (s->low[w] < s->low[v])
                s->low[v] = s->low[w];
        } else if (s->on[w] && s->index[w] < s->low[v]) {
            s->low[v] = s->index[w];
        }
    }
    if (s->low[v] != s->index[v])
        return;
    size_t w;
    do {
        w = s->stack[--s->sp];
        s->on[w] = false;
        s->comp[w] = s->ncomp;
    } while (w != v);
    s->ncomp++;
}

/* Marks the edges (and nodes) that lie on a cycle. */
static int mark_cycles(struct pw_graph *g)
{
    size_t n = g->n ? g->n : 1;
    struct tarjan s = {.g = g};
    s.index = malloc(n * sizeof(int));
    s.low = malloc(n * sizeof(int));
    s.comp = malloc(n * sizeof(int));
    s.on = calloc(n, sizeof(bool));
    s.stack = malloc(n * sizeof(size_t));
    int rc = -1;
    if (!s.index || !s.low || !s.comp || !s.on || !s.stack)
        goto out;
    for (size_t i = 0; i < g->n; i++)
        s.index[i] = -1;
    for (size_t i = 0; i < g->n; i++)
        if (s.index[i] < 0)
            strongconnect(&s, i);
    for (size_t i = 0; i < g->ne; i++) {
        struct pw_gedge *e = &g->edges[i];
        if (s.comp[e->from] == s.comp[e->to]) {
            e->hot = true;
            g->nodes[e->from].hot = g->nodes[e->to].hot = true;
        }
    }
    rc = 0;
out:
    free(s.index);
    free(s.low);
    free(s.comp);
    free(s.on);
    free(s.stack);
    return rc;
}

static struct pw_graph *new_graph(struct pw_graphs *gs, size_t *cap)
{
    if (gs->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct pw_graph *nv = realloc(gs->v, nc * sizeof(*nv));
        if (!nv)
            return NULL;
        gs->v = nv;
        *cap = nc;
    }
    struct pw_graph *g = &gs->v[gs->n++];
    memset(g, 0, sizeof(*g));
    return g;
}

int pw_graphs_build(const struct pw_report *r, struct pw_graphs *gs)
{
    memset(gs, 0, sizeof(*gs));
    size_t cap = 0;
    for (size_t i = 0; i < r->findings->n; i++) {
        const struct pw_finding *f = r->findings->v[i];
        if (f->suppressed || (!f->nthreads && !f->nobjects))
            continue;
        struct pw_graph *g = new_graph(gs, &cap);
        if (!g || build_waitfor(r, f, g) < 0 || mark_cycles(g) < 0)
            goto oom;
    }
    for (size_t i = 0; i < r->model->nprocs; i++) {
        struct pw_process *p = &r->model->procs[i];
        if (!p->nlock_edges)
            continue;
        struct pw_graph *g = new_graph(gs, &cap);
        if (!g || build_lockorder(r, p, i, g) < 0)
            goto oom;
    }
    return 0;
oom:
    pw_graphs_free(gs);
    return -1;
}

void pw_graphs_free(struct pw_graphs *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->v[i].nodes);
        free(gs->v[i].edges);
    }
    free(gs->v);
    memset(gs, 0, sizeof(*gs));
}

/* ---- layout */

#define NODE_H 40.0
#define LAYER_GAP 70.0
#define NODE_GAP 40.0
#define MARGIN 20.0
#define CHAR_W 7.0  /* a node label's character (11 px monospace, with room) */
#define LABEL_W 6.2 /* an edge label's character (10 px monospace) */

/* Reverses DFS back edges so that what is left is acyclic. */
static void mark_back(struct pw_graph *g, size_t v, int *state)
{
    state[v] = 1;
    for (size_t i = 0; i < g->ne; i++) {
        struct pw_gedge *e = &g->edges[i];
        if (e->from != v)
            continue;
        if (state[e->to] == 1 || e->to == v)
            e->back = true;
        else if (state[e->to] == 0)
            mark_back(g, e->to, state);
    }
    state[v] = 2;
}

static int cmp_order(const void *a, const void *b)
{
    const struct pw_gnode *x = *(const struct pw_gnode *const *)a;
    const struct pw_gnode *y = *(const struct pw_gnode *const *)b;
    if (x->layer != y->layer)
        return x->layer < y->layer ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Each layer's nodes placed left to right by order, then centred. */
static void place(struct pw_graph *g, struct pw_gnode **sorted)
{
    double width = 0;
    for (size_t i = 0; i < g->n;) {
        size_t j = i;
        double x = MARGIN;
        for (; j < g->n && sorted[j]->layer == sorted[i]->layer; j++) {
            sorted[j]->x = x + sorted[j]->w / 2;
            x += sorted[j]->w + NODE_GAP;
        }
        if (x - NODE_GAP + MARGIN > width)
            width = x - NODE_GAP + MARGIN;
        i = j;
    }
    for (size_t i = 0; i < g->n;) {
        size_t j = i;
        while (j < g->n && sorted[j]->layer == sorted[i]->layer)
            j++;
        double right = sorted[j - 1]->x + sorted[j - 1]->w / 2 + MARGIN;
        for (size_t k = i; k < j; k++)
            sorted[k]->x += (width - right) / 2;
        i = j;
    }
    g->width = width > 2 * MARGIN ? width : 2 * MARGIN;
}

/* Cosine and sine by Taylor series around 0 after reducing to [-pi, pi]:
 * the analyzer does not link libm for a ring of a few nodes. */
static void cos_sin(double a, double *c, double *s)
{
    const double pi = 3.14159265358979323846;
    while (a > pi)
        a -= 2 * pi;
    while (a < -pi)
        a += 2 * pi;
    double term = 1, cs = 0, sn = 0;
    for (int k = 0; k < 30; k++) {
        if (k % 2 == 0)
            cs += (k % 4 == 0 ? 1 : -1) * term;
        else
            sn += (k % 4 == 1 ? 1 : -1) * term;
        term *= a / (k + 1);
    }
    *c = cs;
    *s = sn;
}

/* One cycle through every node, each with one edge in and one out? */
static bool single_cycle(const struct pw_graph *g)
{
    if (g->n < 2 || g->ne != g->n)
        return false;
    size_t v = 0;
    for (size_t step = 0; step < g->n; step++) {
        size_t next = SIZE_MAX, outs = 0;
        for (size_t i = 0; i < g->ne; i++)
            if (g->edges[i].from == v) {
                next = g->edges[i].to;
                outs++;
            }
        if (outs != 1 || (next == 0 && step + 1 < g->n))
            return false;
        v = next;
    }
    return v == 0;
}

static void layout_ring(struct pw_graph *g)
{
    const double pi = 3.14159265358979323846;
    double maxw = 0;
    for (size_t i = 0; i < g->n; i++) {
        size_t len = strlen(g->nodes[i].label), len2 = strlen(g->nodes[i].sub);
        g->nodes[i].w = (double)(len > len2 ? len : len2) * CHAR_W + 24;
        g->nodes[i].h = NODE_H;
        if (g->nodes[i].w > maxw)
            maxw = g->nodes[i].w;
    }
    /* round enough that neighbours do not touch, and room for edge labels */
    double radius = (maxw + NODE_GAP) * (double)g->n / (2 * pi);
    if (radius < 90)
        radius = 90;
    double ry = radius * 0.75;
    /* the edges' labels sit outside the ring, left and right of it */
    size_t longest = 0;
    for (size_t i = 0; i < g->ne; i++)
        if (strlen(g->edges[i].label) > longest)
            longest = strlen(g->edges[i].label);
    double label = (double)longest * LABEL_W + 12;
    double cx = MARGIN + label + maxw / 2 + radius, cy = MARGIN + NODE_H + ry;
    size_t v = 0;
    for (size_t k = 0; k < g->n; k++) {
        double c, s;
        cos_sin(-pi / 2 + 2 * pi * (double)k / (double)g->n, &c, &s);
        g->nodes[v].x = cx + radius * c;
        g->nodes[v].y = cy + ry * s;
        g->nodes[v].layer = (int)k;
        for (size_t i = 0; i < g->ne; i++)
            if (g->edges[i].from == v) {
                v = g->edges[i].to;
                break;
            }
    }
    g->width = 2 * cx;
    g->height = 2 * cy;
    g->circular = true;
}

void pw_graph_layout(struct pw_graph *g)
{
    g->width = g->height = 2 * MARGIN;
    if (!g->n)
        return;
    if (single_cycle(g)) {
        layout_ring(g);
        return;
    }
    int *state = calloc(g->n, sizeof(int));
    struct pw_gnode **sorted = malloc(g->n * sizeof(*sorted));
    if (!state || !sorted) {
        /* out of memory: one row, in node order (still a picture) */
        for (size_t i = 0; i < g->n; i++)
            g->nodes[i].layer = 0;
        free(state);
        free(sorted);
        state = NULL;
        sorted = NULL;
    }
    for (size_t i = 0; state && i < g->n; i++)
        if (!state[i])
            mark_back(g, i, state);
    /* longest path from the sources; n rounds suffice in a DAG */
    for (size_t i = 0; i < g->n; i++) {
        g->nodes[i].layer = 0;
        g->nodes[i].order = (double)i;
        size_t len = strlen(g->nodes[i].label), len2 = strlen(g->nodes[i].sub);
        g->nodes[i].w = (double)(len > len2 ? len : len2) * CHAR_W + 24;
        g->nodes[i].h = NODE_H;
    }
    for (size_t round = 0; state && round < g->n; round++) {
        bool changed = false;
        for (size_t i = 0; i < g->ne; i++) {
            const struct pw_gedge *e = &g->edges[i];
            size_t from = e->back ? e->to : e->from, to = e->back ? e->from : e->to;
            if (from != to && g->nodes[to].layer < g->nodes[from].layer + 1) {
                g->nodes[to].layer = g->nodes[from].layer + 1;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    int layers = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->nodes[i].layer + 1 > layers)
            layers = g->nodes[i].layer + 1;
    if (sorted) {
        for (size_t i = 0; i < g->n; i++)
            sorted[i] = &g->nodes[i];
        qsort(sorted, g->n, sizeof(*sorted), cmp_order);
        /* barycentre sweeps: a node goes under the mean place of its neighbours
         * in the layer above */
        for (int sweep = 0; sweep < 4; sweep++) {
            for (size_t i = 0; i < g->n; i++)
                sorted[i]->order = (double)i;
            for (size_t i = 0; i < g->n; i++) {
                struct pw_gnode *v = &g->nodes[i];
                double sum = 0;
                int cnt = 0;
                for (size_t k = 0; k < g->ne; k++) {
                    const struct pw_gedge *e = &g->edges[k];
                    const struct pw_gnode *a = &g->nodes[e->from], *b = &g->nodes[e->to];
                    if (b == v && a->layer == v->layer - 1) {
                        sum += a->order;
                        cnt++;
                    } else if (a == v && b->layer == v->layer - 1) {
                        sum += b->order;
                        cnt++;
                    }
                }
                if (cnt)
                    v->order = sum / cnt + (double)i * 1e-6;
            }
            qsort(sorted, g->n, sizeof(*sorted), cmp_order);
        }
        place(g, sorted);
    } else {
        double x = MARGIN;
        for (size_t i = 0; i < g->n; i++) {
            g->nodes[i].x = x + g->nodes[i].w / 2;
            x += g->nodes[i].w + NODE_GAP;
        }
        g->width = x - NODE_GAP + MARGIN;
    }
    for (size_t i = 0; i < g->n; i++)
        g->nodes[i].y = MARGIN + NODE_H / 2 + g->nodes[i].layer * (NODE_H + LAYER_GAP);
    g->height = 2 * MARGIN + layers * NODE_H + (layers - 1) * LAYER_GAP;
    free(state);
    free(sorted);
}
