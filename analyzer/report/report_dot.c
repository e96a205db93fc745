/* DOT report (--format dot): one digraph for `dot -Tsvg`, with a cluster per
 * finding (its wait-for graph: threads as boxes, objects as ellipses, "waits"
 * edges solid, "held by" edges dashed, the cycle in red) and a cluster per
 * process with lock-order edges (every "B taken while holding A" edge labelled
 * with who took B and where, the edges of reported inversions in red). */
#include <stdio.h>

#include "graph.h"
#include "report.h"

/* A DOT quoted string: quotes and backslashes escaped, control bytes and bytes
 * that may not be UTF-8 (the program's names) replaced, so dot never refuses it. */
static void escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else
            fputc(c < 0x20 || c >= 0x7f ? '?' : c, f);
    }
}

static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    escaped(f, s);
    fputc('"', f);
}

static void write_node(FILE *f, const struct pw_graph *g, size_t i)
{
    const struct pw_gnode *n = &g->nodes[i];
    fprintf(f, "    %s_n%zu [shape=%s, label=", g->id, i,
            n->kind == PW_GN_THREAD ? "box, style=rounded" : "ellipse");
    /* two lines: DOT's "\n" inside the quoted string, written by hand */
    fputc('"', f);
    escaped(f, n->label);
    if (n->sub[0]) {
        fputs("\\n", f);
        escaped(f, n->sub);
    }
    fputc('"', f);
    if (n->hot)
        fputs(", color=red, fontcolor=red, penwidth=2", f);
    fputs("];\n", f);
}

static void write_edge(FILE *f, const struct pw_graph *g, const struct pw_gedge *e)
{
    fprintf(f, "    %s_n%zu -> %s_n%zu [label=", g->id, e->from, g->id, e->to);
    quoted(f, e->label);
    if (e->kind == PW_GE_HELD_BY)
        fputs(", style=dashed", f);
    if (e->hot)
        fputs(", color=red, fontcolor=red, penwidth=2", f);
    fputs("];\n", f);
}

int pw_report_dot(FILE *f, const struct pw_report *r)
{
    struct pw_graphs gs;
    if (pw_graphs_build(r, &gs) < 0)
        return -1;
    fputs("digraph parkwatch {\n"
          "  graph [fontname=\"Helvetica\", fontsize=11, labeljust=l, compound=true];\n"
          "  node [fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9];\n",
          f);
    struct pw_report_summary s;
    pw_report_summarize(r, &s);
    fprintf(f, "  label=\"parkwatch: %zu error%s, %zu warning%s\";\n", s.errors,
            s.errors == 1 ? "" : "s", s.warnings, s.warnings == 1 ? "" : "s");
    for (size_t i = 0; i < gs.n; i++) {
        const struct pw_graph *g = &gs.v[i];
        fprintf(f, "  subgraph cluster_%s {\n    label=", g->id);
        quoted(f, g->title);
        fputs(";\n", f);
        if (!g->n)
            fprintf(f, "    %s_empty [shape=plaintext, label=\"(nothing to draw)\"];\n", g->id);
        for (size_t k = 0; k < g->n; k++)
            write_node(f, g, k);
        for (size_t k = 0; k < g->ne; k++)
            write_edge(f, g, &g->edges[k]);
        fputs("  }\n", f);
    }
    fputs("}\n", f);
    pw_graphs_free(&gs);
    return 0;
}
