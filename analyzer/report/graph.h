/* The pictures' graphs, shared by --format dot and --format html: the
 * wait-for graph of each finding (threads, objects, holds and waits, the
 * cycle marked) and each process's lock-order graph (the edges of inversions
 * marked, acquisition sites as labels).  Built from the finding model and the
 * model's lock edges only; writers lay them out (dot) or use the simple
 * layered layout here (html, which must not need Graphviz to be viewed). */
#ifndef PW_GRAPH_H
#define PW_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_report;
struct pw_finding;
struct pw_process;

enum pw_gnode_kind { PW_GN_THREAD, PW_GN_OBJECT };

struct pw_gnode {
    enum pw_gnode_kind kind;
    const void *key; /* the model thread or object it stands for */
    char label[64];  /* "worker (tid 12)", "mutex#1" */
    char sub[96];    /* second line: state or op, the lock's symbol; "" if none */
    bool hot;        /* on a cycle (or an inverted lock-order edge) */
    /* layout (pw_graph_layout) */
    int layer;
    double order;
    double x, y, w, h; /* centre, size */
};

enum pw_gedge_kind { PW_GE_WAITS, PW_GE_HELD_BY, PW_GE_ORDER };

struct pw_gedge {
    size_t from, to; /* node indices */
    enum pw_gedge_kind kind;
    char label[160];
    bool hot;  /* on the cycle, or an inverted lock-order edge */
    bool back; /* reversed by the layout to break a cycle */
};

struct pw_graph {
    char title[320];
    char id[32];      /* unique, safe in DOT and HTML ids: "f3", "lo4242" */
    unsigned finding; /* the finding's id, 0 for a lock-order graph */
    const struct pw_process *proc;
    size_t n, ne, capn, cape;
    struct pw_gnode *nodes;
    struct pw_gedge *edges;
    double width, height; /* after pw_graph_layout */
    bool circular;        /* laid out as one ring (the graph is a single cycle) */
};

struct pw_graphs {
    size_t n;
    struct pw_graph *v;
};

/* Every reported finding's wait-for graph (findings with no thread and no
 * object have none), then each process's lock-order graph (processes with no
 * lock edges have none).  0, or -1 when out of memory. */
int pw_graphs_build(const struct pw_report *r, struct pw_graphs *gs);
void pw_graphs_free(struct pw_graphs *gs);

/* A simple layered layout (Sugiyama-style: cycles broken by reversing DFS
 * back edges, longest-path layers top to bottom, barycentre ordering), in
 * pixels: fills the nodes' x, y, w, h and the graph's width and height.  A
 * graph that is one cycle and nothing else (a deadlock, a lock-order
 * inversion) is laid out as a ring instead, clockwise in cycle order. */
void pw_graph_layout(struct pw_graph *g);

/* "worker_main (pool.c:42)": the innermost frame of STACK outside the system
 * libraries (else its innermost frame) of P's trace, into BUF; "" if none. */
const char *pw_graph_site(const struct pw_report *r, const struct pw_process *p, uint32_t stack,
                          char *buf, size_t len);

#endif
