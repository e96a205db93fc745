/* HTML report (--format html): one self-contained page that needs nothing
 * from the network and no Graphviz to be viewed: inline CSS, no script, no
 * font, no image; a Content-Security-Policy that forbids loading anything
 * makes a stray reference fail loudly instead of phoning out.  It holds:
 *   - the findings, each with its headline, its threads' stacks and its
 *     objects' creation sites in collapsible <details>, the chain, the hint,
 *     and its wait-for graph as inline SVG;
 *   - each process's lock-order graph (inline SVG);
 *   - a per-thread timeline of parks (inline SVG, from the rings' history);
 *   - the goroutine-style dump: every thread, grouped by identical stack.
 * The graphs are laid out here, at report time (graph.c's layered layout).
 * Everything from the trace (names, paths, messages) is escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "frames.h"
#include "graph.h"
#include "history.h"
#include "model.h"
#include "reader.h"
#include "report.h"

/* ---- escaping */

/* Text and attribute values: the five specials escaped; control bytes and
 * bytes that may not be UTF-8 (the program's own names) replaced. */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f ? '?' : c, f);
        }
    }
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- page */

static const char style[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin:.2em 0}h3{font-size:1em;margin:.8em 0 .3em}"
    ".finding{border:1px solid #ccc;border-left:6px solid #c00;border-radius:4px;"
    "padding:.6em 1em;margin:1em 0}"
    ".finding.warning{border-left-color:#d80}.finding.note{border-left-color:#888}"
    ".kind{font-family:monospace;color:#c00}.warning .kind{color:#a60}"
    ".meta{color:#666;font-size:.9em}"
    "details{margin:.3em 0}summary{cursor:pointer}"
    "ol.stack{font-family:monospace;font-size:.85em;margin:.2em 0 .4em 1em}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:.85em}"
    ".chain,.hint,.note{margin:.3em 0}.hint{color:#555}"
    "svg{display:block;margin:.5em 0;max-width:100%;height:auto}"
    "svg text{font-family:monospace;font-size:11px}"
    ".node rect,.node ellipse{fill:#fff;stroke:#444;stroke-width:1.2}"
    ".node.hot rect,.node.hot ellipse{stroke:#c00;stroke-width:2.5}"
    ".node.hot text{fill:#c00}"
    ".edge path{fill:none;stroke:#444;stroke-width:1.2}"
    ".edge.held path{stroke-dasharray:5 3}.edge.hot path{stroke:#c00;stroke-width:2.2}"
    ".edge text{fill:#333;font-size:10px}.edge.hot text{fill:#c00}"
    ".tl .park{fill:#7aa6d6}.tl .park.open{fill:#d66}.tl .park.timed{fill:#aab}"
    ".tl .act{stroke:#070;stroke-width:1.5}.tl .axis{stroke:#999}"
    "table.dump{border-collapse:collapse;font-size:.9em}";

static void page_head(FILE *f, const struct pw_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          /* nothing may be loaded: the page is the whole report */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>parkwatch report</title>\n<style>",
          f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body>\n<h1>parkwatch report</h1>\n<p class=\"summary\">", f);
    /* the text report's one-line summary, captured and escaped */
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (m) {
        pw_report_text_summary(m, r);
        fclose(m);
        esc(f, line);
        free(line);
    }
    fputs("</p>\n", f);
}

/* ---- stacks */

static void frame_html(FILE *f, const struct pw_frame *fr)
{
    fputs("<li>", f);
    if (fr->function)
        esc(f, fr->function);
    else if (fr->module) {
        esc(f, base_name(fr->module));
        fprintf(f, "+0x%llx", (unsigned long long)fr->module_offset);
    } else
        fprintf(f, "0x%llx", (unsigned long long)fr->pc);
    if (fr->file) {
        fputs(" (", f);
        esc(f, fr->file);
        if (fr->line)
            fprintf(f, ":%d", fr->line);
        fputs(")", f);
    } else if (fr->function && fr->module) {
        fputs(" (", f);
        esc(f, base_name(fr->module));
        fprintf(f, "+0x%llx)", (unsigned long long)fr->module_offset);
    }
    if (fr->inlined)
        fputs(" [inlined]", f);
    fputs("</li>\n", f);
}

static void stack_html(FILE *f, const struct pw_report *r, const struct pw_process *p, uint32_t id)
{
    const struct pw_frame *v;
    size_t n = pw_frames_get(r->frames, p->trace, id, &v);
    if (!n) {
        fputs("<p class=\"meta\">(no stack)</p>\n", f);
        return;
    }
    fputs("<ol class=\"stack\" start=\"0\">\n", f);
    for (size_t i = 0; i < n; i++)
        frame_html(f, &v[i]);
    fputs("</ol>\n", f);
}

/* <details> with SUMMARY (already escaped by the caller's writes) and a stack. */
static void stack_details(FILE *f, const struct pw_report *r, const struct pw_process *p,
                          const char *label, uint32_t id)
{
    fputs("<details><summary>", f);
    esc(f, label);
    fputs("</summary>\n", f);
    stack_html(f, r, p, id);
    fputs("</details>\n", f);
}

/* ---- graphs */

/* Square root by Newton's method: the analyzer does not link libm for one call. */
static double root(double v)
{
    double x = v > 1 ? v : 1;
    for (int i = 0; i < 40; i++)
        x = (x + v / x) / 2;
    return x;
}

/* The point where the segment from the centre of N towards (TX, TY) leaves N. */
static void boundary(const struct pw_gnode *n, double tx, double ty, double *x, double *y)
{
    double dx = tx - n->x, dy = ty - n->y;
    double hw = n->w / 2, hh = n->h / 2, t = 1;
    if (dx == 0 && dy == 0) {
        *x = n->x;
        *y = n->y;
        return;
    }
    if (n->kind == PW_GN_OBJECT) {
        /* ellipse */
        double q = (dx * dx) / (hw * hw) + (dy * dy) / (hh * hh);
        t = q > 0 ? 1 / root(q) : 1;
    } else {
        double tx1 = dx ? hw / (dx < 0 ? -dx : dx) : 1e9, ty1 = dy ? hh / (dy < 0 ? -dy : dy) : 1e9;
        t = tx1 < ty1 ? tx1 : ty1;
    }
    *x = n->x + dx * t;
    *y = n->y + dy * t;
}

static void graph_svg(FILE *f, const struct pw_graph *g)
{
    fprintf(f,
            "<svg class=\"graph\" id=\"svg-%s\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
            g->id, g->width, g->height, g->width, g->height);
    esc(f, g->title);
    fprintf(f,
            "\">\n<defs><marker id=\"a-%s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
            "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" "
            "fill=\"#444\"/></marker><marker id=\"h-%s\" viewBox=\"0 0 10 10\" refX=\"10\" "
            "refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path "
            "d=\"M0,0L10,5L0,10z\" fill=\"#c00\"/></marker></defs>\n",
            g->id, g->id);
    for (size_t i = 0; i < g->ne; i++) {
        const struct pw_gedge *e = &g->edges[i];
        const struct pw_gnode *a = &g->nodes[e->from], *b = &g->nodes[e->to];
        /* a curve bent sideways, more for edges that go up or along a layer,
         * so that the two directions of a cycle do not overlap */
        double mx = (a->x + b->x) / 2, my = (a->y + b->y) / 2;
        double span = a->layer > b->layer ? a->layer - b->layer : b->layer - a->layer;
        double bend = b->layer > a->layer ? 0 : 40 + 30 * span;
        if (a == b)
            bend = 50;
        double cx = mx + bend, cy = my + (a->layer == b->layer ? -40 : 0);
        if (g->circular) {
            /* a ring: every edge bows outwards from the ring's centre */
            cx = mx + (mx - g->width / 2) * 0.3;
            cy = my + (my - g->height / 2) * 0.3;
        }
        double x1, y1, x2, y2;
        boundary(a, cx, cy, &x1, &y1);
        boundary(b, cx, cy, &x2, &y2);
        fprintf(f, "<g class=\"edge%s%s\"><path d=\"M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f\" ",
                e->kind == PW_GE_HELD_BY ? " held" : "", e->hot ? " hot" : "", x1, y1, cx, cy, x2,
                y2);
        fprintf(f, "marker-end=\"url(#%c-%s)\"/>", e->hot ? 'h' : 'a', g->id);
        double lx = (x1 + 2 * cx + x2) / 4, ly = (y1 + 2 * cy + y2) / 4;
        const char *anchor = "start";
        if (g->circular) {
            /* outside the ring: left of it, right of it, or above and below */
            double dx = lx - g->width / 2, dy = ly - g->height / 2;
            double adx = dx < 0 ? -dx : dx, ady = dy < 0 ? -dy : dy;
            if (adx < ady * 0.5) {
                anchor = "middle";
                ly += dy < 0 ? -8 : 12;
            } else {
                anchor = dx < 0 ? "end" : "start";
                lx += dx < 0 ? -4 : 4;
            }
        } else {
            lx += 4;
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", lx, ly + 4, anchor);
        esc(f, e->label);
        fputs("</text></g>\n", f);
    }
    for (size_t i = 0; i < g->n; i++) {
        const struct pw_gnode *n = &g->nodes[i];
        fprintf(f, "<g class=\"node %s%s\">", n->kind == PW_GN_THREAD ? "thread" : "object",
                n->hot ? " hot" : "");
        if (n->kind == PW_GN_THREAD)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"8\"/>",
                    n->x - n->w / 2, n->y - n->h / 2, n->w, n->h);
        else
            fprintf(f, "<ellipse cx=\"%.1f\" cy=\"%.1f\" rx=\"%.1f\" ry=\"%.1f\"/>", n->x, n->y,
                    n->w / 2, n->h / 2);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", n->x,
                n->sub[0] ? n->y - 3 : n->y + 4);
        esc(f, n->label);
        fputs("</text>", f);
        if (n->sub[0]) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", n->x, n->y + 12);
            esc(f, n->sub);
            fputs("</text>", f);
        }
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
}

/* ---- findings */

static const char *role_label(const struct pw_fthread *ft)
{
    switch (ft->role) {
    case PW_ROLE_PARKED:
        return "parked at";
    case PW_ROLE_MISUSE:
        return "at";
    case PW_ROLE_EXITED:
        return "exited at";
    case PW_ROLE_ACQUIRES:
        return "took the lock at";
    default:
        return "now at";
    }
}

/* Same role, same stacks, parked on the same object: shown once. */
static bool same_fthread(const struct pw_fthread *a, const struct pw_fthread *b)
{
    return a->role == b->role && a->stack == b->stack && a->stack2 == b->stack2 &&
           a->lock == b->lock && a->lock2 == b->lock2 && a->t->create_stack == b->t->create_stack &&
           a->t->status == b->t->status && a->t->op == b->t->op && a->t->waits_on == b->t->waits_on;
}

static void finding_html(FILE *f, const struct pw_report *r, const struct pw_finding *fd,
                         struct pw_graphs *gs)
{
    const struct pw_process *p = fd->proc;
    const char *sev = pw_severity_name(fd->severity);
    fprintf(f, "<section class=\"finding %s\" id=\"finding-%u\">\n<h2 class=\"headline\">", sev,
            fd->id);
    fprintf(f, "[%u] <span class=\"kind\">%s</span>: ", fd->id, pw_finding_kind_name(fd->kind));
    esc(f, fd->message ? fd->message : "");
    fprintf(f, "</h2>\n<p class=\"meta\">pid %d, %s", p->pid, sev);
    if (fd->count > 1)
        fprintf(f, ", %zu times", fd->count);
    fputs("</p>\n", f);
    /* threads with the same stacks are one group, as in the text report */
    bool *done = calloc(fd->nthreads ? fd->nthreads : 1, sizeof(bool));
    for (size_t i = 0; done && i < fd->nthreads; i++) {
        if (done[i])
            continue;
        const struct pw_fthread *ft = &fd->threads[i];
        char who[240], label[480];
        size_t n = 0, pos = 0;
        for (size_t k = i; k < fd->nthreads; k++)
            n += !done[k] && same_fthread(ft, &fd->threads[k]);
        if (n > 1)
            pos = (size_t)snprintf(who, sizeof(who), "%zu threads: ", n);
        for (size_t k = i, shown = 0; k < fd->nthreads; k++) {
            if (done[k] || !same_fthread(ft, &fd->threads[k]))
                continue;
            done[k] = true;
            if (shown++ < 6 && pos < sizeof(who))
                pos += (size_t)snprintf(who + pos, sizeof(who) - pos, "%s%s (tid %d)",
                                        shown > 1 ? ", " : "", fd->threads[k].t->name,
                                        fd->threads[k].t->tid);
        }
        if (n > 6 && pos < sizeof(who))
            snprintf(who + pos, sizeof(who) - pos, " and %zu more", n - 6);
        if (ft->role == PW_ROLE_ACQUIRES && ft->lock && ft->lock2)
            snprintf(label, sizeof(label), "%s took %s while holding %s", who, ft->lock->id,
                     ft->lock2->id);
        else if (ft->t->status == PW_THR_PARKED && ft->t->waits_on)
            snprintf(label, sizeof(label), "%s %s: %s %s", who, role_label(ft),
                     pw_park_op_name(ft->t->op), ft->t->waits_on->id);
        else
            snprintf(label, sizeof(label), "%s %s", who, role_label(ft));
        stack_details(f, r, p, label, ft->stack);
        if (ft->stack2) {
            snprintf(label, sizeof(label), "%s: %s", who,
                     ft->role == PW_ROLE_ACQUIRES && ft->lock2 ? "took the held lock at"
                                                               : "earlier, at");
            stack_details(f, r, p, label, ft->stack2);
        }
        if (ft->t->create_stack) {
            snprintf(label, sizeof(label), "%s created by", who);
            stack_details(f, r, p, label, ft->t->create_stack);
        }
    }
    free(done);
    for (size_t i = 0; i < fd->nobjects; i++) {
        const struct pw_fobject *fo = &fd->objects[i];
        if (!fo->stack)
            continue;
        char label[200];
        const char *sym = pw_report_object_symbol(r, fo->o);
        snprintf(label, sizeof(label), "%s%s%s %s", fo->o->id, sym ? " " : "", sym ? sym : "",
                 fo->stack_label ? fo->stack_label : "created at");
        stack_details(f, r, p, label, fo->stack);
    }
    for (size_t i = 0; i < fd->nheld; i++) {
        const struct pw_fheld *h = &fd->held[i];
        if (!h->stack)
            continue;
        char label[200];
        snprintf(label, sizeof(label), "%s held by %s (tid %d), taken at", h->o->id, h->t->name,
                 h->t->tid);
        stack_details(f, r, p, label, h->stack);
    }
    if (fd->chain_text) {
        fputs("<p class=\"chain\"><b>chain:</b> ", f);
        esc(f, fd->chain_text);
        fputs("</p>\n", f);
    }
    if (fd->note) {
        fputs("<p class=\"note\"><b>note:</b> ", f);
        esc(f, fd->note);
        fputs("</p>\n", f);
    }
    if (fd->nrelated) {
        fputs("<p class=\"meta\">related:", f);
        for (size_t i = 0; i < fd->nrelated; i++)
            if (!fd->related[i]->suppressed)
                fprintf(f, " <a href=\"#finding-%u\">[%u] %s</a>", fd->related[i]->id,
                        fd->related[i]->id, pw_finding_kind_name(fd->related[i]->kind));
        fputs("</p>\n", f);
    }
    fputs("<p class=\"hint\"><b>hint:</b> ", f);
    esc(f, pw_finding_hint(fd->kind));
    fputs("</p>\n", f);
    for (size_t i = 0; i < gs->n; i++)
        if (gs->v[i].finding == fd->id && gs->v[i].n) {
            fprintf(f, "<details open><summary>%s</summary>\n",
                    fd->kind == PW_FK_LOCK_ORDER ? "lock-order cycle" : "wait-for graph");
            graph_svg(f, &gs->v[i]);
            fputs("</details>\n", f);
        }
    fputs("</section>\n", f);
}

/* ---- timeline */

#define TL_LABEL 170.0
#define TL_WIDTH 900.0
#define TL_ROW 22.0

static void timeline_svg(FILE *f, struct pw_process *p, const struct pw_history *h, unsigned pidx)
{
    uint64_t end = p->end_ms * 1000000u;
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].end_ns > end)
            end = h->v[i].end_ns;
    double scale = TL_WIDTH / (double)(end ? end : 1);
    double height = TL_ROW * (double)(p->nthreads + 1) + 10;
    fprintf(f,
            "<svg class=\"tl\" id=\"timeline-%u\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"parks of pid %d over time\">\n",
            pidx, TL_LABEL + TL_WIDTH + 20, height, TL_LABEL + TL_WIDTH + 20, height, p->pid);
    for (size_t k = 0; k < p->nthreads; k++) {
        const struct pw_thread *t = &p->threads[k];
        double y = TL_ROW * (double)k + 4;
        fprintf(f, "<text x=\"4\" y=\"%.1f\">", y + 14);
        esc(f, t->name);
        fprintf(f,
                " (%d)</text><line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                "y2=\"%.1f\"/>\n",
                t->tid, TL_LABEL, y + 17, TL_LABEL + TL_WIDTH, y + 17);
    }
    for (size_t i = 0; i < h->n; i++) {
        const struct pw_hist *x = &h->v[i];
        size_t k = (size_t)(x->t - p->threads);
        double y = TL_ROW * (double)k + 4;
        double x0 = TL_LABEL + (double)x->begin_ns * scale;
        if (x->kind == PW_HIST_PARK) {
            double w = (double)(x->end_ns - x->begin_ns) * scale;
            fprintf(f,
                    "<rect class=\"park%s%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"14\"><title>",
                    x->open ? " open" : "", x->timed ? " timed" : "", x0, y + 3, w < 1 ? 1 : w);
            fprintf(f, "%s ", pw_park_op_name((unsigned)x->op));
            esc(f, x->o ? x->o->id : "?");
            fprintf(f, ", %.3f ms%s</title></rect>\n", (double)(x->end_ns - x->begin_ns) / 1e6,
                    x->open ? ", still parked at the end" : "");
        } else if (x->kind == PW_HIST_SEND || x->kind == PW_HIST_CLOSE) {
            fprintf(f,
                    "<line class=\"act\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\">"
                    "<title>%s ",
                    x0, y + 1, x0, y + 19, pw_hist_kind_name(x->kind));
            esc(f, x->o ? x->o->id : "?");
            fputs("</title></line>\n", f);
        }
    }
    double y = TL_ROW * (double)p->nthreads + 4;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">0 ms</text>", TL_LABEL, y + 12);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3f ms</text>\n",
            TL_LABEL + TL_WIDTH, y + 12, (double)end / 1e6);
    fputs("</svg>\n", f);
}

/* ---- the thread dump: threads grouped by what they do and where */

static uint32_t dump_stack(const struct pw_thread *t)
{
    return t->status == PW_THR_PARKED ? t->park_stack : 0;
}

static bool same_group(const struct pw_thread *a, const struct pw_thread *b)
{
    return pw_thread_view(a) == pw_thread_view(b) && a->op == b->op && a->waits_on == b->waits_on &&
           dump_stack(a) == dump_stack(b) && a->create_stack == b->create_stack;
}

static void dump_html(FILE *f, const struct pw_report *r, const struct pw_process *p)
{
    bool *done = calloc(p->nthreads ? p->nthreads : 1, sizeof(bool));
    if (!done)
        return;
    for (size_t i = 0; i < p->nthreads; i++) {
        if (done[i])
            continue;
        const struct pw_thread *t = &p->threads[i];
        size_t n = 0;
        fputs("<details class=\"dump\"><summary>", f);
        for (size_t k = i; k < p->nthreads; k++) {
            if (done[k] || !same_group(t, &p->threads[k]))
                continue;
            done[k] = true;
            if (n++ < 8) {
                fputs(n > 1 ? ", " : "", f);
                esc(f, p->threads[k].name);
                fprintf(f, " (tid %d)", p->threads[k].tid);
            }
        }
        if (n > 8)
            fprintf(f, " and %zu more", n - 8);
        fprintf(f, ": %s", pw_thread_state_str(pw_thread_view(t)));
        if (t->status == PW_THR_PARKED && t->waits_on) {
            fprintf(f, " in %s on ", pw_park_op_name(t->op));
            esc(f, t->waits_on->id);
            fprintf(f, " for %llu ms%s", (unsigned long long)t->since_ms,
                    t->forever ? " (forever)" : "");
        }
        fputs("</summary>\n", f);
        if (dump_stack(t))
            stack_html(f, r, p, dump_stack(t));
        if (t->create_stack) {
            fputs("<p class=\"meta\">created by:</p>\n", f);
            stack_html(f, r, p, t->create_stack);
        }
        fputs("</details>\n", f);
    }
    free(done);
}

int pw_report_html(FILE *f, const struct pw_report *r)
{
    struct pw_graphs gs;
    if (pw_graphs_build(r, &gs) < 0)
        return -1;
    for (size_t i = 0; i < gs.n; i++)
        pw_graph_layout(&gs.v[i]);
    page_head(f, r);
    fputs("<h2>Findings</h2>\n", f);
    size_t shown = 0;
    for (size_t i = 0; i < r->findings->n; i++)
        if (!r->findings->v[i]->suppressed) {
            finding_html(f, r, r->findings->v[i], &gs);
            shown++;
        }
    if (!shown)
        fputs("<p class=\"clean\">No findings.</p>\n", f);
    for (size_t i = 0; i < gs.n; i++)
        if (!gs.v[i].finding) {
            fputs("<h2>", f);
            esc(f, gs.v[i].title);
            fputs("</h2>\n", f);
            graph_svg(f, &gs.v[i]);
        }
    int rc = 0;
    for (size_t i = 0; i < r->model->nprocs; i++) {
        struct pw_process *p = &r->model->procs[i];
        fprintf(f, "<h2>Process %d: ", p->pid);
        esc(f, p->exe ? p->exe : "?");
        fputs("</h2>\n<h3>Timeline of parks</h3>\n", f);
        struct pw_history h;
        if (pw_model_history(p, &h) < 0) {
            rc = -1;
            break;
        }
        timeline_svg(f, p, &h, (unsigned)i);
        if (h.lost)
            fprintf(f,
                    "<p class=\"meta\">%llu older events were overwritten in the rings: the "
                    "timeline shows the last ones.</p>\n",
                    (unsigned long long)h.lost);
        pw_history_free(&h);
        fputs("<h3>Threads</h3>\n", f);
        dump_html(f, r, p);
    }
    fputs("</body>\n</html>\n", f);
    pw_graphs_free(&gs);
    return rc;
}
