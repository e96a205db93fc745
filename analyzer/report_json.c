/* JSON report, schema "parkwatch-report/1" (SPEC.md "JSON report").  Built as a
 * jansson tree and dumped once; keys keep insertion order so the output reads
 * in the same order as the SPEC example.  Fields may be added, never renamed. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "frames.h"
#include "model.h"
#include "reader.h"
#include "report.h"

/* Out-of-memory in the analyzer is fatal (as in finding.c): a report silently
 * missing a key would mislead a script more than no report at all. */
static void oom(void)
{
    fputs("parkwatch: out of memory\n", stderr);
    exit(2);
}

static void jset(json_t *o, const char *key, json_t *v)
{
    if (!v || json_object_set_new(o, key, v) != 0)
        oom();
}

static void jpush(json_t *a, json_t *v)
{
    if (!v || json_array_append_new(a, v) != 0)
        oom();
}

/* Strings come from the traced program (exe, argv, thread names, paths) and
 * need not be UTF-8, which json_string refuses: bytes >= 0x80 become '?'. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        oom();
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *str_or_null(const char *s)
{
    return s ? jstr(s) : json_null();
}

static json_t *frame_json(const struct pw_frame *fr)
{
    char pc[24];
    snprintf(pc, sizeof(pc), "0x%llx", (unsigned long long)fr->pc);
    json_t *o = json_object();
    jset(o, "pc", jstr(pc));
    jset(o, "function", str_or_null(fr->function));
    jset(o, "file", str_or_null(fr->file));
    jset(o, "line", fr->line > 0 ? json_integer(fr->line) : json_null());
    jset(o, "module", str_or_null(fr->module));
    if (fr->inlined)
        jset(o, "inlined", json_true());
    return o;
}

/* A stack as an array of frames; [] for no stack. */
static json_t *stack_json(const struct pw_report *r, const struct pw_trace *t, uint32_t id)
{
    json_t *a = json_array();
    const struct pw_frame *v;
    size_t n = pw_frames_get(r->frames, t, id, &v);
    for (size_t i = 0; i < n; i++)
        jpush(a, frame_json(&v[i]));
    return a;
}

static const char *state_name(enum pw_thread_status s)
{
    return s == PW_THR_PARKED ? "parked" : s == PW_THR_EXITED ? "exited" : "running";
}

static json_t *op_json(const struct pw_thread *t)
{
    return t->status == PW_THR_PARKED ? jstr(pw_park_op_name(t->op)) : json_null();
}

static json_t *object_id_json(const struct pw_thread *t)
{
    return t->status == PW_THR_PARKED && t->waits_on ? jstr(t->waits_on->id) : json_null();
}

/* ---- processes[] */

static json_t *proc_thread_json(const struct pw_report *r, const struct pw_thread *t)
{
    const struct pw_trace *tr = t->proc->trace;
    bool parked = t->status == PW_THR_PARKED;
    json_t *o = json_object();
    jset(o, "tid", json_integer(t->tid));
    jset(o, "name", jstr(t->name));
    jset(o, "state", jstr(state_name(t->status)));
    jset(o, "op", op_json(t));
    jset(o, "object", object_id_json(t));
    jset(o, "since_ms", parked ? json_integer((json_int_t)t->since_ms) : json_null());
    jset(o, "stack", stack_json(r, tr, parked ? t->park_stack : 0));
    jset(o, "created_by", stack_json(r, tr, t->create_stack));
    jset(o, "serial", json_integer(t->serial));
    jset(o, "parent", t->parent ? json_integer(t->parent->tid) : json_null());
    jset(o, "forever", json_boolean(t->forever));
    return o;
}

static json_t *argv_json(const struct pw_trace *t)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < pw_trace_argc(t); i++)
        jpush(a, jstr(pw_trace_argv(t, i)));
    return a;
}

static json_t *process_json(const struct pw_report *r, const struct pw_process *p)
{
    /* status is meaningless until the process ended (the shim stores -1) */
    bool has_status = p->finished && p->end != PW_END_UNKNOWN && p->end_status >= 0;
    json_t *o = json_object();
    jset(o, "pid", json_integer(p->pid));
    jset(o, "ppid", json_integer(p->ppid));
    jset(o, "exe", jstr(p->exe));
    jset(o, "argv", argv_json(p->trace));
    jset(o, "end", jstr(pw_end_kind_name(p->end)));
    jset(o, "status", has_status ? json_integer(p->end_status) : json_null());
    jset(o, "trace", jstr(pw_trace_path(p->trace)));
    json_t *threads = json_array();
    for (size_t i = 0; i < p->nthreads; i++)
        jpush(threads, proc_thread_json(r, &p->threads[i]));
    jset(o, "threads", threads);
    return o;
}

/* ---- findings[] */

static json_t *fthread_json(const struct pw_report *r, const struct pw_finding *f,
                            const struct pw_fthread *ft)
{
    const struct pw_thread *t = ft->t;
    const struct pw_trace *tr = f->proc->trace;
    json_t *o = json_object();
    jset(o, "tid", json_integer(t->tid));
    jset(o, "name", jstr(t->name));
    jset(o, "op", op_json(t));
    jset(o, "object", object_id_json(t));
    jset(o, "stack", stack_json(r, tr, ft->stack));
    jset(o, "created_by", stack_json(r, tr, t->create_stack));
    jset(o, "role", str_or_null(ft->role));
    jset(o, "state", jstr(state_name(t->status)));
    if (ft->stack2)
        jset(o, "stack2", stack_json(r, tr, ft->stack2));
    if (t->status == PW_THR_PARKED)
        jset(o, "since_ms", json_integer((json_int_t)t->since_ms));
    return o;
}

/* "&accounts_lock" for a lock or other sync object that is a global or static
 * variable; NULL otherwise (heap objects, channels, threads). */
static const char *object_symbol(const struct pw_report *r, const struct pw_object *o)
{
    switch (o->type) {
    case PW_OBJ_MUTEX: case PW_OBJ_RWLOCK: case PW_OBJ_SPIN: case PW_OBJ_COND:
    case PW_OBJ_SEM: case PW_OBJ_BARRIER:
        return r->frames ? pw_frames_data_name(r->frames, o->proc->trace, o->key) : NULL;
    default:
        return NULL;
    }
}

static json_t *fobject_json(const struct pw_report *r, const struct pw_finding *f,
                            const struct pw_fobject *fo)
{
    json_t *o = json_object();
    jset(o, "id", jstr(fo->o->id));
    jset(o, "type", jstr(pw_obj_type_name(fo->o->type)));
    jset(o, "created_at", stack_json(r, f->proc->trace, fo->stack));
    jset(o, "site", str_or_null(fo->stack_label));
    jset(o, "symbol", str_or_null(object_symbol(r, fo->o)));
    return o;
}

static json_t *link_json(const struct pw_link *l)
{
    json_t *o = json_object();
    jset(o, "tid", l->t ? json_integer(l->t->tid) : json_null());
    jset(o, "waits_on", l->o ? jstr(l->o->id) : json_null());
    jset(o, "op", jstr(pw_park_op_name((unsigned)l->op)));
    json_t *by = json_array();
    for (size_t i = 0; i < l->nblocked_by; i++)
        jpush(by, json_integer(l->blocked_by[i]->tid));
    jset(o, "blocked_by", by);
    jset(o, "text", str_or_null(l->text));
    return o;
}

static json_t *finding_json(const struct pw_report *r, const struct pw_finding *f)
{
    enum pw_finding_kind k = f->kind;
    json_t *o = json_object();
    jset(o, "kind", jstr(pw_finding_kind_name(k)));
    jset(o, "severity",
                        jstr(pw_finding_severity(k) == PW_SEV_ERROR ? "error" : "warning"));
    jset(o, "message",
                        jstr(f->message ? f->message : pw_finding_description(k)));
    jset(o, "pid", json_integer(f->proc->pid));
    jset(o, "count", json_integer((json_int_t)f->count));
    json_t *a = json_array();
    for (size_t i = 0; i < f->nthreads; i++)
        jpush(a, fthread_json(r, f, &f->threads[i]));
    jset(o, "threads", a);
    a = json_array();
    for (size_t i = 0; i < f->nobjects; i++)
        jpush(a, fobject_json(r, f, &f->objects[i]));
    jset(o, "objects", a);
    a = json_array();
    for (size_t i = 0; i < f->nchain; i++)
        jpush(a, link_json(&f->chain[i]));
    jset(o, "chain", a);
    jset(o, "chain_text", str_or_null(f->chain_text));
    jset(o, "reason", str_or_null(f->reason));
    jset(o, "hint", jstr(pw_finding_hint(k)));
    return o;
}

/* ---- the whole report */

static json_t *summary_json(const struct pw_report *r)
{
    struct pw_report_summary s;
    pw_report_summarize(r, &s);
    json_t *o = json_object();
    jset(o, "errors", json_integer((json_int_t)s.errors));
    jset(o, "warnings", json_integer((json_int_t)s.warnings));
    jset(o, "threads", json_integer((json_int_t)s.threads));
    jset(o, "events", json_integer((json_int_t)s.events));
    jset(o, "dropped_events", json_integer((json_int_t)s.dropped));
    jset(o, "suppressed", json_integer((json_int_t)s.suppressed));
    jset(o, "processes", json_integer((json_int_t)s.processes));
    return o;
}

static json_t *report_json(const struct pw_report *r)
{
    json_t *root = json_object();
    jset(root, "schema", jstr(PW_REPORT_SCHEMA));
    jset(root, "tool", json_pack("{s:s, s:s}", "name", "parkwatch", "version",
                                                PW_REPORT_TOOL_VERSION));
    json_t *a = json_array();
    for (size_t i = 0; i < r->ntraces; i++)
        jpush(a, jstr(pw_trace_path(r->traces[i])));
    jset(root, "traces", a);
    a = json_array();
    for (size_t i = 0; i < r->model->nprocs; i++)
        jpush(a, process_json(r, &r->model->procs[i]));
    jset(root, "processes", a);
    a = json_array();
    for (size_t i = 0; i < r->findings->n; i++)
        if (!r->findings->v[i]->suppressed)
            jpush(a, finding_json(r, r->findings->v[i]));
    jset(root, "findings", a);
    jset(root, "summary", summary_json(r));
    if (r->trace_dir)
        jset(root, "trace_dir", jstr(r->trace_dir));
    return root;
}

int pw_report_json(FILE *f, const struct pw_report *r)
{
    json_t *root = report_json(r);
    if (!root)
        return -1;
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
    json_decref(root);
    return rc == 0 ? 0 : -1;
}
