/* Perfetto report (--format perfetto): the traces' events as Chrome
 * trace-event JSON, which the Perfetto UI (ui.perfetto.dev) and
 * chrome://tracing open.  Each process is a process track and each thread a
 * thread track, named by metadata events.  Each park is a complete slice
 * ("X") named by its object, as long as the park lasted (to the end of the
 * trace for a park still going).  Each channel send, receive and close is a
 * zero-length slice, which Perfetto draws as an instant: a thread-scoped "i"
 * event would look the same, but Perfetto binds flow arrows only to slices.
 * Flow arrows (flow events v2: bind_id, flow_out, flow_in) go from a send to
 * the receive that took its data, and from the close of a channel's send side
 * to the receive that saw end-of-file.  Findings are global instants ("i",
 * scope "g") at the end of their process.  Timestamps are microseconds since
 * the first process started.  The events come from the rings (history.h):
 * history, not evidence, so a wrapped ring shows only the last events. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "history.h"
#include "jsonutil.h"
#include "model.h"
#include "reader.h"
#include "report.h"

struct pw_ctx {
    const struct pw_report *r;
    json_t *events;
    uint64_t base_ns; /* earliest process start (CLOCK_MONOTONIC) */
    unsigned long long flows;
};

/* Microseconds since the first process started, as the format wants them
 * (a double: Perfetto and the Chrome viewer take fractions). */
static json_t *ts_json(const struct pw_ctx *c, const struct pw_process *p, uint64_t ns)
{
    uint64_t abs = p->start_mono_ns + ns - c->base_ns;
    return json_real((double)abs / 1000.0);
}

static json_t *event(const char *ph, const char *name, const char *cat, const struct pw_process *p,
                     const struct pw_thread *t)
{
    json_t *e = json_object();
    pw_json_set(e, "ph", json_string(ph));
    pw_json_set(e, "name", pw_json_str(name));
    if (cat)
        pw_json_set(e, "cat", json_string(cat));
    pw_json_set(e, "pid", json_integer(p->pid));
    if (t)
        pw_json_set(e, "tid", json_integer(t->tid ? t->tid : (json_int_t)t->serial));
    return e;
}

static void metadata(struct pw_ctx *c, const struct pw_process *p)
{
    char name[300];
    const char *exe = p->exe && *p->exe ? p->exe : "?";
    const char *base = strrchr(exe, '/');
    snprintf(name, sizeof(name), "%s (pid %d)", base ? base + 1 : exe, p->pid);
    json_t *e = event("M", "process_name", NULL, p, NULL);
    pw_json_set(e, "args", json_pack("{s:o}", "name", pw_json_str(name)));
    pw_json_push(c->events, e);
    for (size_t i = 0; i < p->nthreads; i++) {
        const struct pw_thread *t = &p->threads[i];
        e = event("M", "thread_name", NULL, p, t);
        pw_json_set(e, "args", json_pack("{s:o}", "name", pw_json_str(t->name)));
        pw_json_push(c->events, e);
        e = event("M", "thread_sort_index", NULL, p, t);
        pw_json_set(e, "args", json_pack("{s:I}", "sort_index", (json_int_t)t->serial));
        pw_json_push(c->events, e);
    }
}

static json_t *park_json(struct pw_ctx *c, const struct pw_process *p, const struct pw_hist *h)
{
    json_t *e = event("X", h->o ? h->o->id : pw_park_op_name((unsigned)h->op), "park", p, h->t);
    pw_json_set(e, "ts", ts_json(c, p, h->begin_ns));
    pw_json_set(e, "dur", json_real((double)(h->end_ns - h->begin_ns) / 1000.0));
    json_t *a = json_object();
    pw_json_set(a, "op", json_string(pw_park_op_name((unsigned)h->op)));
    if (h->o)
        pw_json_set(a, "object", pw_json_str(h->o->id));
    pw_json_set(a, "timed", json_boolean(h->timed));
    if (h->open)
        pw_json_set(a, "parked_at_end", json_true());
    else
        pw_json_set(a, "result", json_integer(h->result));
    pw_json_set(e, "args", a);
    return e;
}

/* A send, receive or close: a zero-length slice named "send pipe#1". */
static json_t *act_json(struct pw_ctx *c, const struct pw_process *p, const struct pw_hist *h)
{
    char name[64];
    const char *what = h->kind == PW_HIST_CLOSE
                           ? (h->side == PW_SIDE_SEND ? "close send side" : "close recv side")
                           : pw_hist_kind_name(h->kind);
    snprintf(name, sizeof(name), "%s %s", what, h->o ? h->o->id : "?");
    json_t *e = event("X", name, "channel", p, h->t);
    pw_json_set(e, "ts", ts_json(c, p, h->begin_ns));
    pw_json_set(e, "dur", json_integer(0));
    json_t *a = json_object();
    pw_json_set(a, "channel", pw_json_str(h->o ? h->o->id : "?"));
    if (h->kind == PW_HIST_CLOSE) {
        pw_json_set(a, "side", json_string(pw_side_name((unsigned)h->side)));
    } else {
        pw_json_set(a, "result", json_integer(h->result));
        if (h->result < 0)
            pw_json_set(a, "errno", json_integer(h->err));
    }
    pw_json_set(e, "args", a);
    return e;
}

static void flow(struct pw_ctx *c, json_t *from, json_t *to)
{
    char id[32];
    snprintf(id, sizeof(id), "0x%llx", ++c->flows);
    pw_json_set(from, "bind_id", json_string(id));
    pw_json_set(from, "flow_out", json_true());
    pw_json_set(to, "bind_id", json_string(id));
    pw_json_set(to, "flow_in", json_true());
}

/* A receive that got data (or end-of-file): where the arrow into it comes from. */
static bool matches(const struct pw_hist *from, const struct pw_hist *to)
{
    if (to->kind != PW_HIST_RECV || to->o != from->o || to->result < 0)
        return false;
    if (from->kind == PW_HIST_SEND)
        return to->result > 0;
    return to->result == 0; /* a close of the send side: the EOF it caused */
}

static int process_events(struct pw_ctx *c, struct pw_process *p)
{
    struct pw_history h;
    if (pw_model_history(p, &h) < 0)
        return -1;
    metadata(c, p);
    json_t **ev = calloc(h.n ? h.n : 1, sizeof(*ev));
    bool *used = calloc(h.n ? h.n : 1, sizeof(*used));
    if (!ev || !used) {
        free(ev);
        free(used);
        pw_history_free(&h);
        return -1;
    }
    for (size_t i = 0; i < h.n; i++) {
        const struct pw_hist *x = &h.v[i];
        if (x->kind == PW_HIST_PARK)
            ev[i] = park_json(c, p, x);
        else if (x->kind == PW_HIST_SEND || x->kind == PW_HIST_RECV || x->kind == PW_HIST_CLOSE)
            ev[i] = act_json(c, p, x);
    }
    /* arrows: each send to the first receive after it that took data, in
     * order (a pipe is FIFO), each close of a send side to the first EOF */
    for (size_t i = 0; i < h.n; i++) {
        const struct pw_hist *x = &h.v[i];
        if (x->kind != PW_HIST_SEND && !(x->kind == PW_HIST_CLOSE && x->side == PW_SIDE_SEND))
            continue;
        if (x->kind == PW_HIST_SEND && x->result <= 0)
            continue;
        for (size_t k = i + 1; k < h.n; k++)
            if (!used[k] && matches(x, &h.v[k])) {
                used[k] = true;
                flow(c, ev[i], ev[k]);
                break;
            }
    }
    for (size_t i = 0; i < h.n; i++)
        if (ev[i])
            pw_json_push(c->events, ev[i]);
    if (h.lost) {
        json_t *e = event("i", "older events lost (ring wrapped)", "parkwatch", p, NULL);
        pw_json_set(e, "s", json_string("p"));
        pw_json_set(e, "ts", ts_json(c, p, h.n ? h.v[0].begin_ns : 0));
        pw_json_set(e, "args", json_pack("{s:I}", "events", (json_int_t)h.lost));
        pw_json_push(c->events, e);
    }
    free(ev);
    free(used);
    pw_history_free(&h);
    return 0;
}

static void finding_marks(struct pw_ctx *c)
{
    const struct pw_findings *fs = c->r->findings;
    for (size_t i = 0; i < fs->n; i++) {
        const struct pw_finding *f = fs->v[i];
        if (f->suppressed)
            continue;
        char name[200];
        snprintf(name, sizeof(name), "%s: %s", pw_finding_kind_name(f->kind),
                 f->message ? f->message : "");
        json_t *e = event("i", name, "finding", f->proc, NULL);
        pw_json_set(e, "s", json_string("g"));
        pw_json_set(e, "ts", ts_json(c, f->proc, f->proc->end_ms * 1000000u));
        json_t *threads = json_array();
        for (size_t k = 0; k < f->nthreads; k++)
            pw_json_push(threads, pw_json_str(f->threads[k].t->name));
        pw_json_set(e, "args",
                    json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)f->id, "kind",
                              pw_finding_kind_name(f->kind), "severity",
                              pw_severity_name(f->severity), "message",
                              pw_json_str(f->message ? f->message : ""), "threads", threads));
        pw_json_push(c->events, e);
    }
}

int pw_report_perfetto(FILE *f, const struct pw_report *r)
{
    struct pw_ctx c = {.r = r, .events = json_array(), .base_ns = UINT64_MAX};
    if (!c.events)
        pw_json_oom();
    for (size_t i = 0; i < r->model->nprocs; i++)
        if (r->model->procs[i].start_mono_ns < c.base_ns)
            c.base_ns = r->model->procs[i].start_mono_ns;
    for (size_t i = 0; i < r->model->nprocs; i++)
        if (process_events(&c, &r->model->procs[i]) < 0) {
            json_decref(c.events);
            return -1;
        }
    finding_marks(&c);
    json_t *root = json_object();
    pw_json_set(root, "displayTimeUnit", json_string("ms"));
    pw_json_set(root, "traceEvents", c.events);
    pw_json_set(root, "otherData",
                json_pack("{s:s, s:s}", "tool", "parkwatch", "version", PW_REPORT_TOOL_VERSION));
    return pw_json_write(f, root);
}
