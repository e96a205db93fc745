/* The pictures' layout (report/graph.c) on graphs built by hand: whatever the
 * shape, nodes stay inside the picture and never overlap, so the HTML report's
 * inline SVG is readable without Graphviz. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#include "../check.h"

static void add_node(struct pw_graph *g, enum pw_gnode_kind kind, const char *label)
{
    struct pw_gnode *n = &g->nodes[g->n++];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->key = n;
    snprintf(n->label, sizeof(n->label), "%s", label);
    snprintf(n->sub, sizeof(n->sub), "sub of %s", label);
}

static void add_edge(struct pw_graph *g, size_t from, size_t to)
{
    struct pw_gedge *e = &g->edges[g->ne++];
    memset(e, 0, sizeof(*e));
    e->from = from;
    e->to = to;
    snprintf(e->label, sizeof(e->label), "edge %zu -> %zu", from, to);
}

static struct pw_graph *new_graph(void)
{
    struct pw_graph *g = calloc(1, sizeof(*g));
    g->nodes = calloc(16, sizeof(*g->nodes));
    g->edges = calloc(32, sizeof(*g->edges));
    g->capn = 16;
    g->cape = 32;
    return g;
}

static void free_graph(struct pw_graph *g)
{
    free(g->nodes);
    free(g->edges);
    free(g);
}

static bool overlap(const struct pw_gnode *a, const struct pw_gnode *b)
{
    return a->x - a->w / 2 < b->x + b->w / 2 && b->x - b->w / 2 < a->x + a->w / 2 &&
           a->y - a->h / 2 < b->y + b->h / 2 && b->y - b->h / 2 < a->y + a->h / 2;
}

/* Every node inside the picture, no two overlapping. */
static void check_placed(const struct pw_graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct pw_gnode *a = &g->nodes[i];
        CHECK(a->w > 0 && a->h > 0);
        CHECK(a->x - a->w / 2 >= 0 && a->x + a->w / 2 <= g->width);
        CHECK(a->y - a->h / 2 >= 0 && a->y + a->h / 2 <= g->height);
        for (size_t k = i + 1; k < g->n; k++)
            CHECK(!overlap(a, &g->nodes[k]));
    }
}

/* Four workers read a pipe whose write end main holds: a fan-in, layered. */
static void fan_in(void)
{
    struct pw_graph *g = new_graph();
    for (int i = 0; i < 4; i++)
        add_node(g, PW_GN_THREAD, "worker (tid 1234)");
    add_node(g, PW_GN_OBJECT, "pipe#1");
    add_node(g, PW_GN_THREAD, "main (tid 1233)");
    for (size_t i = 0; i < 4; i++)
        add_edge(g, i, 4);
    add_edge(g, 4, 5);
    pw_graph_layout(g);
    CHECK(!g->circular);
    check_placed(g);
    /* every edge goes down a layer: waiters above the pipe, its holder below */
    for (size_t i = 0; i < g->ne; i++)
        CHECK(g->nodes[g->edges[i].to].layer == g->nodes[g->edges[i].from].layer + 1);
    free_graph(g);
}

/* A deadlock of two threads over two mutexes: one cycle, laid out as a ring. */
static void ring(void)
{
    struct pw_graph *g = new_graph();
    add_node(g, PW_GN_THREAD, "left (tid 2)");
    add_node(g, PW_GN_OBJECT, "mutex#1");
    add_node(g, PW_GN_THREAD, "right (tid 3)");
    add_node(g, PW_GN_OBJECT, "mutex#2");
    for (size_t i = 0; i < 4; i++)
        add_edge(g, i, (i + 1) % 4);
    pw_graph_layout(g);
    CHECK(g->circular);
    check_placed(g);
    free_graph(g);
}

/* A cycle with a tail (a third thread waiting on one of its mutexes): layered,
 * the cycle broken at one back edge, every other edge going down. */
static void cycle_with_tail(void)
{
    struct pw_graph *g = new_graph();
    add_node(g, PW_GN_THREAD, "a");
    add_node(g, PW_GN_OBJECT, "mutex#1");
    add_node(g, PW_GN_THREAD, "b");
    add_node(g, PW_GN_OBJECT, "mutex#2");
    add_node(g, PW_GN_THREAD, "c, waiting too");
    for (size_t i = 0; i < 4; i++)
        add_edge(g, i, (i + 1) % 4);
    add_edge(g, 4, 1);
    pw_graph_layout(g);
    CHECK(!g->circular);
    check_placed(g);
    size_t back = 0;
    for (size_t i = 0; i < g->ne; i++) {
        const struct pw_gedge *e = &g->edges[i];
        back += e->back;
        if (!e->back)
            CHECK(g->nodes[e->to].layer > g->nodes[e->from].layer);
    }
    CHECK(back == 1);
    free_graph(g);
}

/* No node at all (a finding with nothing to draw) still has a size. */
static void empty(void)
{
    struct pw_graph *g = new_graph();
    pw_graph_layout(g);
    CHECK(g->width > 0 && g->height > 0);
    free_graph(g);
}

int main(void)
{
    fan_in();
    ring();
    cycle_with_tail();
    empty();
    if (!failures)
        printf("graph layout: all checks passed\n");
    return failures != 0;
}
