/* JSON report, schema "parkwatch-report/1" (SPEC.md "JSON report").  Built as a
 * jansson tree and dumped once; keys keep insertion order so the output reads
 * in the same order as the SPEC example.  Fields may be added, never renamed. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "frames.h"
#include "jsonutil.h"
#include "ktasks.h"
#include "model.h"
#include "reader.h"
#include "report.h"

static json_t *str_or_null(const char *s)
{
    return s ? pw_json_str(s) : json_null();
}

static json_t *frame_json(const struct pw_frame *fr)
{
    char pc[24];
    snprintf(pc, sizeof(pc), "0x%llx", (unsigned long long)fr->pc);
    json_t *o = json_object();
    pw_json_set(o, "pc", pw_json_str(pc));
    pw_json_set(o, "function", str_or_null(fr->function));
    pw_json_set(o, "file", str_or_null(fr->file));
    pw_json_set(o, "line", fr->line > 0 ? json_integer(fr->line) : json_null());
    pw_json_set(o, "module", str_or_null(fr->module));
    if (fr->inlined)
        pw_json_set(o, "inlined", json_true());
    return o;
}

/* A stack as an array of frames; [] for no stack. */
static json_t *stack_json(const struct pw_report *r, const struct pw_trace *t, uint32_t id)
{
    json_t *a = json_array();
    const struct pw_frame *v;
    size_t n = pw_frames_get(r->frames, t, id, &v);
    for (size_t i = 0; i < n; i++)
        pw_json_push(a, frame_json(&v[i]));
    return a;
}

/* "parked", "exited", "running" (the kernel said so), "blocked" (in a system
 * call the shim does not model) or "unknown": never "running" by default */
static const char *state_name(const struct pw_thread *t)
{
    return pw_thread_state_str(pw_thread_view(t));
}

/* {"syscall": "read", "fd": 5, "fd_target": "pipe:[1234]", "kernel_state":
 * "sleeping"}: the kernel's view of a thread the trace does not show parked,
 * null when nobody looked. */
static json_t *kernel_json(const struct pw_ktask *k)
{
    if (!k)
        return json_null();
    json_t *o = json_object();
    const char *name = k->sysno >= 0 ? pw_syscall_name(k->sysno) : NULL;
    pw_json_set(o, "kernel_state", pw_json_str(pw_task_state_name(k->state)));
    pw_json_set(o, "syscall", name ? pw_json_str(name) : json_null());
    pw_json_set(o, "syscall_nr", k->sysno >= 0 ? json_integer(k->sysno) : json_null());
    pw_json_set(o, "fd", k->fd >= 0 ? json_integer(k->fd) : json_null());
    pw_json_set(o, "fd_target", k->fd_target[0] ? pw_json_str(k->fd_target) : json_null());
    pw_json_set(o, "stack_missing",
                k->why_no_stack[0] ? pw_json_str(k->why_no_stack) : json_null());
    return o;
}

static json_t *kstack_json(const struct pw_report *r, const struct pw_trace *t,
                           const struct pw_ktask *k)
{
    json_t *a = json_array();
    struct pw_frame *v = NULL;
    size_t n = k && k->npcs ? pw_frames_pcs(r->frames, t, k->pcs, k->npcs, &v) : 0;
    for (size_t i = 0; i < n; i++)
        pw_json_push(a, frame_json(&v[i]));
    free(v);
    return a;
}

static json_t *op_json(const struct pw_thread *t)
{
    return t->status == PW_THR_PARKED ? pw_json_str(pw_park_op_name(t->op)) : json_null();
}

static json_t *object_id_json(const struct pw_thread *t)
{
    return t->status == PW_THR_PARKED && t->waits_on ? pw_json_str(t->waits_on->id) : json_null();
}

/* ---- processes[] */

static json_t *proc_thread_json(const struct pw_report *r, const struct pw_thread *t)
{
    const struct pw_trace *tr = t->proc->trace;
    bool parked = t->status == PW_THR_PARKED;
    json_t *o = json_object();
    pw_json_set(o, "tid", json_integer(t->tid));
    pw_json_set(o, "name", pw_json_str(t->name));
    pw_json_set(o, "state", pw_json_str(state_name(t)));
    pw_json_set(o, "op", op_json(t));
    pw_json_set(o, "object", object_id_json(t));
    pw_json_set(o, "since_ms", parked ? json_integer((json_int_t)t->since_ms) : json_null());
    /* not parked: the stack the kernel's view gave, if any */
    pw_json_set(o, "stack",
                parked || !t->ktask ? stack_json(r, tr, parked ? t->park_stack : 0)
                                    : kstack_json(r, tr, t->ktask));
    pw_json_set(o, "kernel", parked ? json_null() : kernel_json(t->ktask));
    pw_json_set(o, "unfollowed", json_boolean(t->unfollowed));
    pw_json_set(o, "created_by", stack_json(r, tr, t->create_stack));
    pw_json_set(o, "serial", json_integer(t->serial));
    pw_json_set(o, "parent", t->parent ? json_integer(t->parent->tid) : json_null());
    pw_json_set(o, "forever", json_boolean(t->forever));
    return o;
}

static json_t *argv_json(const struct pw_trace *t)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < pw_trace_argc(t); i++)
        pw_json_push(a, pw_json_str(pw_trace_argv(t, i)));
    return a;
}

static json_t *process_json(const struct pw_report *r, const struct pw_process *p)
{
    /* status is meaningless until the process ended (the shim stores -1) */
    bool has_status = p->finished && p->end != PW_END_UNKNOWN && p->end_status >= 0;
    json_t *o = json_object();
    pw_json_set(o, "pid", json_integer(p->pid));
    pw_json_set(o, "ppid", json_integer(p->ppid));
    pw_json_set(o, "exe", pw_json_str(p->exe));
    pw_json_set(o, "argv", argv_json(p->trace));
    pw_json_set(o, "end", pw_json_str(pw_end_kind_name(p->end)));
    pw_json_set(o, "status", has_status ? json_integer(p->end_status) : json_null());
    pw_json_set(o, "trace", pw_json_str(pw_trace_path(p->trace)));
    json_t *threads = json_array();
    for (size_t i = 0; i < p->nthreads; i++)
        pw_json_push(threads, proc_thread_json(r, &p->threads[i]));
    pw_json_set(o, "threads", threads);
    /* what the trace could not keep: only when something was lost */
    if (p->lost.folded || p->lost.edges || p->lost.notes || p->lost.acts)
        pw_json_set(o, "lost",
                    json_pack("{s:I, s:I, s:I, s:I, s:i}", "edges_folded",
                              (json_int_t)p->lost.folded, "edges_dropped",
                              (json_int_t)p->lost.edges, "notes", (json_int_t)p->lost.notes,
                              "first_acts", (json_int_t)p->lost.acts, "edges_per_class",
                              (int)p->lost.per_class));
    /* tasks the shim never saw, as the kernel showed them at the end */
    json_t *stray = json_array();
    for (size_t i = 0; i < p->nstray; i++) {
        json_t *k = json_object();
        pw_json_set(k, "tid", json_integer(p->stray[i]->tid));
        pw_json_set(k, "name", pw_json_str(p->stray[i]->name));
        pw_json_set(k, "kernel", kernel_json(p->stray[i]));
        pw_json_set(k, "stack", kstack_json(r, p->trace, p->stray[i]));
        pw_json_push(stray, k);
    }
    pw_json_set(o, "unknown_tasks", stray);
    pw_json_set(o, "unfollowed", json_integer((json_int_t)p->nunfollowed));
    return o;
}

/* ---- findings[] */

static json_t *fthread_json(const struct pw_report *r, const struct pw_finding *f,
                            const struct pw_fthread *ft)
{
    const struct pw_thread *t = ft->t;
    const struct pw_trace *tr = f->proc->trace;
    json_t *o = json_object();
    pw_json_set(o, "tid", json_integer(t->tid));
    pw_json_set(o, "name", pw_json_str(t->name));
    pw_json_set(o, "serial", json_integer(t->serial)); /* T<serial> in text and dump */
    pw_json_set(o, "op", op_json(t));
    pw_json_set(o, "object", object_id_json(t));
    pw_json_set(o, "stack", stack_json(r, tr, ft->stack));
    pw_json_set(o, "created_by", stack_json(r, tr, t->create_stack));
    pw_json_set(o, "role", str_or_null(pw_role_name(ft->role)));
    pw_json_set(o, "state", pw_json_str(state_name(t)));
    if (ft->stack2)
        pw_json_set(o, "stack2", stack_json(r, tr, ft->stack2));
    if (ft->lock) /* a lock-order edge: lock taken at stack while holding lock2 */
        pw_json_set(o, "acquires", pw_json_str(ft->lock->id));
    if (ft->lock2)
        pw_json_set(o, "holding", pw_json_str(ft->lock2->id));
    if (t->status == PW_THR_PARKED)
        pw_json_set(o, "since_ms", json_integer((json_int_t)t->since_ms));
    return o;
}

static json_t *fobject_json(const struct pw_report *r, const struct pw_finding *f,
                            const struct pw_fobject *fo)
{
    json_t *o = json_object();
    pw_json_set(o, "id", pw_json_str(fo->o->id));
    pw_json_set(o, "type", pw_json_str(pw_obj_type_name(fo->o->type)));
    pw_json_set(o, "created_at", stack_json(r, f->proc->trace, fo->stack));
    pw_json_set(o, "site", str_or_null(fo->stack_label));
    pw_json_set(o, "symbol", str_or_null(pw_report_object_symbol(r, fo->o)));
    return o;
}

static json_t *fheld_json(const struct pw_report *r, const struct pw_finding *f,
                          const struct pw_fheld *h)
{
    json_t *o = json_object();
    pw_json_set(o, "object", pw_json_str(h->o->id));
    pw_json_set(o, "tid", json_integer(h->t->tid));
    pw_json_set(o, "acquired_at", stack_json(r, f->proc->trace, h->stack));
    return o;
}

static json_t *fsend_json(const struct pw_report *r, const struct pw_finding *f,
                          const struct pw_fsend *sd)
{
    json_t *o = json_object();
    pw_json_set(o, "object", pw_json_str(sd->o->id));
    pw_json_set(o, "tid", sd->t ? json_integer(sd->t->tid) : json_null());
    pw_json_set(o, "sent_at", stack_json(r, f->proc->trace, sd->stack));
    return o;
}

static json_t *link_json(const struct pw_link *l)
{
    json_t *o = json_object();
    pw_json_set(o, "tid", l->t ? json_integer(l->t->tid) : json_null());
    pw_json_set(o, "waits_on", l->o ? pw_json_str(l->o->id) : json_null());
    pw_json_set(o, "op", pw_json_str(pw_park_op_name((unsigned)l->op)));
    json_t *by = json_array();
    for (size_t i = 0; i < l->nblocked_by; i++)
        pw_json_push(by, json_integer(l->blocked_by[i]->tid));
    pw_json_set(o, "blocked_by", by);
    pw_json_set(o, "text", str_or_null(l->text));
    return o;
}

static json_t *finding_json(const struct pw_report *r, const struct pw_finding *f)
{
    enum pw_finding_kind k = f->kind;
    json_t *o = json_object();
    pw_json_set(o, "id", json_integer(f->id));
    json_t *rel = json_array();
    for (size_t i = 0; i < f->nrelated; i++)
        if (!f->related[i]->suppressed)
            pw_json_push(rel, json_integer(f->related[i]->id));
    pw_json_set(o, "related", rel);
    pw_json_set(o, "kind", pw_json_str(pw_finding_kind_name(k)));
    pw_json_set(o, "severity", pw_json_str(pw_severity_name(f->severity)));
    pw_json_set(o, "message", pw_json_str(f->message ? f->message : pw_finding_description(k)));
    pw_json_set(o, "pid", json_integer(f->proc->pid));
    pw_json_set(o, "count", json_integer((json_int_t)f->count));
    json_t *a = json_array();
    for (size_t i = 0; i < f->nthreads; i++)
        pw_json_push(a, fthread_json(r, f, &f->threads[i]));
    pw_json_set(o, "threads", a);
    a = json_array();
    for (size_t i = 0; i < f->nobjects; i++)
        pw_json_push(a, fobject_json(r, f, &f->objects[i]));
    pw_json_set(o, "objects", a);
    a = json_array();
    for (size_t i = 0; i < f->nheld; i++)
        pw_json_push(a, fheld_json(r, f, &f->held[i]));
    pw_json_set(o, "locks_held", a);
    if (f->nsends) {
        a = json_array();
        for (size_t i = 0; i < f->nsends; i++)
            pw_json_push(a, fsend_json(r, f, &f->sends[i]));
        pw_json_set(o, "last_send", a);
    }
    a = json_array();
    for (size_t i = 0; i < f->nchain; i++)
        pw_json_push(a, link_json(&f->chain[i]));
    pw_json_set(o, "chain", a);
    pw_json_set(o, "chain_text", str_or_null(f->chain_text));
    pw_json_set(o, "reason", str_or_null(f->reason));
    /* parked threads left behind by an orderly exit or a stop signal, rather
     * than stuck before the end (detect.c: abandoned) */
    pw_json_set(o, "abandoned_at_exit", json_boolean(f->abandoned_at_exit));
    /* the related finding that shows all these threads (text prints them once) */
    pw_json_set(o, "cause",
                f->cause && !f->cause->suppressed ? json_integer(f->cause->id) : json_null());
    pw_json_set(o, "note", str_or_null(f->note));
    pw_json_set(o, "hint", pw_json_str(pw_finding_hint(k)));
    char loss[512];
    pw_report_loss(f->proc, k, loss, sizeof loss);
    if (loss[0])
        pw_json_set(o, "evidence_lost", pw_json_str(loss)); /* only when something was */
    return o;
}

/* ---- the whole report */

static json_t *report_json(const struct pw_report *r)
{
    json_t *root = json_object();
    pw_json_set(root, "schema", pw_json_str(PW_REPORT_SCHEMA));
    pw_json_set(root, "tool",
                json_pack("{s:s, s:s}", "name", "parkwatch", "version", PW_REPORT_TOOL_VERSION));
    json_t *a = json_array();
    for (size_t i = 0; i < r->ntraces; i++)
        pw_json_push(a, pw_json_str(pw_trace_path(r->traces[i])));
    pw_json_set(root, "traces", a);
    a = json_array();
    for (size_t i = 0; i < r->model->nprocs; i++)
        pw_json_push(a, process_json(r, &r->model->procs[i]));
    pw_json_set(root, "processes", a);
    a = json_array();
    for (size_t i = 0; i < r->findings->n; i++)
        if (!r->findings->v[i]->suppressed)
            pw_json_push(a, finding_json(r, r->findings->v[i]));
    pw_json_set(root, "findings", a);
    pw_json_set(root, "summary", pw_report_summary_json(r, PW_SUMMARY_JSON));
    if (r->trace_dir)
        pw_json_set(root, "trace_dir", pw_json_str(r->trace_dir));
    return root;
}

int pw_report_json(FILE *f, const struct pw_report *r)
{
    return pw_json_write(f, report_json(r));
}
