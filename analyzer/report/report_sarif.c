/* SARIF 2.1.0 report (`--format sarif`), for GitHub code scanning and every
 * other SARIF viewer.  The same finding model as the text and JSON writers,
 * laid out the SARIF way:
 *
 *   runs[0].tool.driver.rules   one rule per finding kind (PW_FINDING_KINDS)
 *   runs[0].results             one result per finding group, not suppressed
 *     locations[0]              the innermost frame with source of the first
 *                               stack the finding shows (thread, then object)
 *     relatedLocations          the other threads and the objects
 *     stacks                    every thread's park / misuse / created-by stack
 *                               and every object's creation site
 *     codeFlows                 the blocked chain, one threadFlow per waiter
 *     partialFingerprints       kind + function names, stable across runs
 *                               (pcs move with ASLR, line numbers with edits)
 *
 * Source paths come as pw_frames_get gives them: relative to the directory
 * the analyzer runs in when they are under it (then anchored at %SRCROOT%,
 * which originalUriBaseIds maps to that directory), absolute otherwise.
 * Paths relative to something else (a DWARF comp_dir: "./nptl/x.c") are
 * left without a base, since guessing one would point at the wrong file. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "finding.h"
#include "frames.h"
#include "jsonutil.h"
#include "model.h"
#include "reader.h"
#include "report.h"

#define SARIF_SCHEMA_URI \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#define SRCROOT "%SRCROOT%"

/* {"text": S}: SARIF's message object. */
static json_t *msg(const char *s)
{
    json_t *o = json_object();
    pw_json_set(o, "text", pw_json_str(s));
    return o;
}

static const char *level_name(enum pw_severity sev)
{
    return pw_severity_name(sev); /* SARIF's levels have the same names */
}

static const char *level_of(enum pw_finding_kind k)
{
    return level_name(pw_finding_severity(k));
}

/* ---- URIs */

/* A file path as a URI reference: RFC 3986 unreserved characters and '/'
 * stay, everything else is percent-encoded (spaces, '%', '#', '?', ...).
 * An absolute path becomes a file:// URI. */
static json_t *path_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *u = malloc(n * 3 + sizeof("file://"));
    if (!u)
        pw_json_oom();
    char *p = u;
    if (path[0] == '/')
        p = stpcpy(p, "file://");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~/", *c)) {
            *p++ = (char)*c;
        } else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = '\0';
    json_t *j = pw_json_str(u);
    free(u);
    return j;
}

static json_t *artifact_location(const char *path)
{
    json_t *o = json_object();
    pw_json_set(o, "uri", path_uri(path));
    /* A relative path is anchored at the analyzer's directory only when the
     * file is there (frames.c shortened it); otherwise it was relative to
     * some DWARF comp_dir ("./nptl/x.c" of a distribution's libc) and is
     * left unanchored rather than pointed at the wrong file. */
    if (path[0] != '/' && access(path, F_OK) == 0)
        pw_json_set(o, "uriBaseId", pw_json_str(SRCROOT));
    return o;
}

/* ---- frames and locations */

static bool has_source(const struct pw_frame *fr)
{
    return fr->file && fr->line > 0;
}

/* A location for one frame: file and line when known, otherwise the module
 * and the instruction address; the function as a logical location. */
static json_t *frame_location(const struct pw_frame *fr, const char *text)
{
    json_t *loc = json_object(), *phys = json_object();
    if (fr->file) {
        pw_json_set(phys, "artifactLocation", artifact_location(fr->file));
        if (fr->line > 0) {
            json_t *region = json_object();
            pw_json_set(region, "startLine", json_integer(fr->line));
            if (fr->column > 0)
                pw_json_set(region, "startColumn", json_integer(fr->column));
            pw_json_set(phys, "region", region);
        }
    } else {
        if (fr->module)
            pw_json_set(phys, "artifactLocation", artifact_location(fr->module));
        json_t *addr = json_object();
        pw_json_set(addr, "absoluteAddress", json_integer((json_int_t)fr->pc));
        pw_json_set(addr, "kind", pw_json_str("instruction"));
        if (fr->module) {
            char off[40];
            const char *slash = strrchr(fr->module, '/');
            snprintf(off, sizeof(off), "+0x%llx", (unsigned long long)fr->module_offset);
            char *fq = malloc(strlen(fr->module) + sizeof(off));
            if (!fq)
                pw_json_oom();
            strcpy(stpcpy(fq, slash ? slash + 1 : fr->module), off);
            pw_json_set(addr, "fullyQualifiedName", pw_json_str(fq));
            free(fq);
        }
        pw_json_set(phys, "address", addr);
    }
    pw_json_set(loc, "physicalLocation", phys);
    if (fr->function) {
        json_t *logical = json_object();
        pw_json_set(logical, "name", pw_json_str(fr->function));
        pw_json_set(logical, "kind", pw_json_str("function"));
        json_t *a = json_array();
        pw_json_push(a, logical);
        pw_json_set(loc, "logicalLocations", a);
    }
    if (text)
        pw_json_set(loc, "message", msg(text));
    return loc;
}

/* The frame a location should point at: the innermost one with source, else
 * the innermost one.  NULL for an empty stack. */
static const struct pw_frame *best_frame(const struct pw_frame *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has_source(&v[i]))
            return &v[i];
    return n ? &v[0] : NULL;
}

/* Writer state for one finding. */
struct sw {
    const struct pw_report *r;
    const struct pw_finding *f;
    const struct pw_trace *trace;
};

static size_t frames_of(const struct sw *w, uint32_t id, const struct pw_frame **v)
{
    return id ? pw_frames_get(w->r->frames, w->trace, id, v) : 0;
}

/* A SARIF stack: frames innermost first, each with its module and thread. */
static json_t *stack_json(const struct sw *w, uint32_t id, int tid, const char *text)
{
    const struct pw_frame *v;
    size_t n = frames_of(w, id, &v);
    json_t *st = json_object(), *frames = json_array();
    pw_json_set(st, "message", msg(text));
    for (size_t i = 0; i < n; i++) {
        json_t *sf = json_object();
        pw_json_set(sf, "location", frame_location(&v[i], NULL));
        if (v[i].module)
            pw_json_set(sf, "module", pw_json_str(v[i].module));
        if (tid > 0)
            pw_json_set(sf, "threadId", json_integer(tid));
        pw_json_push(frames, sf);
    }
    pw_json_set(st, "frames", frames);
    return st;
}

/* ---- what each thread and object of a finding is, in words */

/* What a thread's main stack shows, for the roles that are not a park. */
static const char *role_words(enum pw_finding_kind k, enum pw_role role)
{
    if (role != PW_ROLE_MISUSE)
        return pw_role_name(role);
    switch (k) {
    case PW_FK_DOUBLE_CLOSE:
        return "closed again";
    case PW_FK_SEND_ON_CLOSED:
        return "sent into the closed channel";
    case PW_FK_CLOSE_WHILE_BLOCKED:
        return "closed the channel";
    case PW_FK_LOCK_ORDER:
        return "took the second lock";
    case PW_FK_LOCK_MISUSE:
        return "misused the lock";
    default:
        return pw_role_name(role);
    }
}

/* "worker (tid 4245) parked in pipe-read on pipe#1" / "main (tid 4242): closed again". */
static char *thread_phrase(enum pw_finding_kind k, const struct pw_fthread *ft)
{
    const struct pw_thread *t = ft->t;
    char *s = NULL;
    int rc;
    if (t->status == PW_THR_PARKED && t->waits_on &&
        (ft->role == PW_ROLE_NONE || ft->role == PW_ROLE_PARKED))
        rc = asprintf(&s, "%s (tid %d) parked in %s on %s", t->name, t->tid, pw_park_op_name(t->op),
                      t->waits_on->id);
    else
        rc = asprintf(&s, "%s (tid %d)%s%s", t->name, t->tid, ft->role != PW_ROLE_NONE ? ": " : "",
                      ft->role != PW_ROLE_NONE ? role_words(k, ft->role) : "");
    if (rc < 0)
        pw_json_oom();
    return s;
}

static char *object_phrase(const struct pw_fobject *fo)
{
    char *s = NULL;
    if (asprintf(&s, "%s (%s) %s", fo->o->id, pw_obj_type_name(fo->o->type),
                 fo->stack_label ? fo->stack_label : "created at") < 0)
        pw_json_oom();
    return s;
}

/* ---- one result */

/* The stack pass P of a finding shows at index I: threads' park or misuse
 * stacks, then objects' sites, then where the threads were created. */
static uint32_t pass_stack(const struct pw_finding *f, int pass, size_t i)
{
    return pass == 0   ? f->threads[i].stack
           : pass == 1 ? f->objects[i].stack
                       : f->threads[i].t->create_stack;
}

/* The primary location: the innermost frame with source of the first stack
 * the finding shows, threads first (the parked or misusing thread is what the
 * user fixes), then objects, then thread creation sites (an unjoined thread
 * that exited has no other stack: the fix is where it was created).  A frame
 * without source is the fallback. */
static json_t *primary_location(const struct sw *w)
{
    const struct pw_frame *fallback = NULL;
    for (int pass = 0; pass < 3; pass++) {
        size_t n = pass == 1 ? w->f->nobjects : w->f->nthreads;
        for (size_t i = 0; i < n; i++) {
            uint32_t id = pass_stack(w->f, pass, i);
            const struct pw_frame *v;
            size_t nv = frames_of(w, id, &v);
            const struct pw_frame *b = best_frame(v, nv);
            if (b && has_source(b))
                return frame_location(b, NULL);
            if (b && !fallback)
                fallback = b;
        }
    }
    return fallback ? frame_location(fallback, NULL) : NULL;
}

/* SARIF wants result.stacks unique: a thread listed twice in one finding (a
 * lock-order cycle through the same thread) must not repeat its stack. */
static void push_stack(json_t *stacks, json_t *st)
{
    for (size_t i = 0; i < json_array_size(stacks); i++)
        if (json_equal(json_array_get(stacks, i), st)) {
            json_decref(st);
            return;
        }
    pw_json_push(stacks, st);
}

static void add_related(const struct sw *w, json_t *related, uint32_t stack, const char *text)
{
    const struct pw_frame *v;
    size_t n = frames_of(w, stack, &v);
    const struct pw_frame *b = best_frame(v, n);
    if (!b)
        return;
    json_t *loc = frame_location(b, text);
    pw_json_set(loc, "id", json_integer((json_int_t)json_array_size(related)));
    pw_json_push(related, loc);
}

static void add_thread_stacks(const struct sw *w, json_t *stacks, const struct pw_fthread *ft,
                              const char *phrase)
{
    const struct pw_thread *t = ft->t;
    char *text = NULL;
    if (ft->stack)
        push_stack(stacks, stack_json(w, ft->stack, t->tid, phrase));
    if (ft->stack2) {
        if (asprintf(&text, "%s (earlier stack)", phrase) < 0)
            pw_json_oom();
        push_stack(stacks, stack_json(w, ft->stack2, t->tid, text));
        free(text);
    }
    if (!t->create_stack)
        return;
    /* the creation stack is the creator's, so its frames carry the creator's tid */
    const struct pw_thread *by = t->parent;
    if ((by ? asprintf(&text, "%s (tid %d) created by %s (tid %d) at", t->name, t->tid, by->name,
                       by->tid)
            : asprintf(&text, "%s (tid %d) created at", t->name, t->tid)) < 0)
        pw_json_oom();
    push_stack(stacks, stack_json(w, t->create_stack, by ? by->tid : 0, text));
    free(text);
}

/* threadFlowLocations of a park stack in execution order: outermost caller
 * first, the park itself last, nested by call depth. */
static json_t *flow_locations(const struct sw *w, uint32_t stack, const char *text)
{
    const struct pw_frame *v;
    size_t n = frames_of(w, stack, &v);
    json_t *a = json_array();
    for (size_t i = n; i-- > 0;) {
        json_t *tfl = json_object();
        pw_json_set(tfl, "location", frame_location(&v[i], i == 0 ? text : NULL));
        pw_json_set(tfl, "nestingLevel", json_integer((json_int_t)(n - 1 - i)));
        pw_json_push(a, tfl);
    }
    return a;
}

/* The blocked chain as one codeFlow: a threadFlow per waiting thread, ending
 * at its park with the link's words ("waits on pipe#1: write end held by
 * main ...").  NULL when no link has a thread with a stack. */
static json_t *code_flow(const struct sw *w)
{
    json_t *flows = json_array();
    for (size_t i = 0; i < w->f->nchain; i++) {
        const struct pw_link *l = &w->f->chain[i];
        if (!l->t || !l->t->park_stack)
            continue;
        char *text = NULL;
        if (asprintf(&text, "%s (tid %d) waits in %s on %s%s%s", l->t->name, l->t->tid,
                     pw_park_op_name((unsigned)l->op), l->o ? l->o->id : "?", l->text ? ": " : "",
                     l->text ? l->text : "") < 0)
            pw_json_oom();
        json_t *locs = flow_locations(w, l->t->park_stack, text);
        if (json_array_size(locs) == 0) {
            json_decref(locs);
            free(text);
            continue;
        }
        json_t *tf = json_object();
        char id[32];
        snprintf(id, sizeof(id), "tid %d", l->t->tid);
        pw_json_set(tf, "id", pw_json_str(id));
        pw_json_set(tf, "message", msg(text));
        pw_json_set(tf, "locations", locs);
        pw_json_push(flows, tf);
        free(text);
    }
    if (json_array_size(flows) == 0) {
        json_decref(flows);
        return NULL;
    }
    json_t *cf = json_object();
    if (w->f->chain_text)
        pw_json_set(cf, "message", msg(w->f->chain_text));
    pw_json_set(cf, "threadFlows", flows);
    return cf;
}

/* FNV-1a over the kind and the function names of the finding's distinct
 * thread stacks: the same bug found again in a later CI run gets the same
 * fingerprint (pcs move with ASLR, tids and counts change), so code scanning
 * tracks one alert instead of opening new ones. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* separator: "ab"+"c" != "a"+"bc" */
}

static json_t *fingerprints(const struct sw *w)
{
    uint64_t h = fnv(0xcbf29ce484222325ull, pw_finding_kind_name(w->f->kind));
    for (size_t i = 0; i < w->f->nthreads; i++) {
        /* each distinct stack once: 3 or 4 identical workers are the same bug */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = w->f->threads[j].stack == w->f->threads[i].stack;
        if (dup)
            continue;
        const struct pw_frame *v;
        size_t n = frames_of(w, w->f->threads[i].stack, &v);
        for (size_t k = 0; k < n; k++)
            h = fnv(h, v[k].function ? v[k].function : "?");
    }
    char hex[40];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
    json_t *o = json_object();
    pw_json_set(o, "parkwatchStack/v1", pw_json_str(hex));
    return o;
}

static json_t *result_properties(const struct sw *w)
{
    const struct pw_finding *f = w->f;
    json_t *p = json_object();
    pw_json_set(p, "pid", json_integer(f->proc->pid));
    pw_json_set(p, "severity", pw_json_str(level_name(f->severity)));
    pw_json_set(p, "id", json_integer(f->id));
    json_t *rel = json_array();
    for (size_t i = 0; i < f->nrelated; i++)
        if (!f->related[i]->suppressed)
            pw_json_push(rel, json_integer(f->related[i]->id));
    pw_json_set(p, "related", rel);
    if (f->cause && !f->cause->suppressed)
        pw_json_set(p, "cause", json_integer(f->cause->id));
    if (f->note)
        pw_json_set(p, "note", pw_json_str(f->note));
    if (f->chain_text)
        pw_json_set(p, "chain", pw_json_str(f->chain_text));
    if (f->reason)
        pw_json_set(p, "reason", pw_json_str(f->reason));
    json_t *tids = json_array();
    for (size_t i = 0; i < f->nthreads; i++)
        pw_json_push(tids, json_integer(f->threads[i].t->tid));
    pw_json_set(p, "threads", tids);
    json_t *objs = json_array();
    for (size_t i = 0; i < f->nobjects; i++)
        pw_json_push(objs, pw_json_str(f->objects[i].o->id));
    pw_json_set(p, "objects", objs);
    return p;
}

/* The first stack finding G shows (threads, then objects, then creation
 * sites), 0 if none. */
static uint32_t first_stack(const struct pw_finding *g)
{
    for (int pass = 0; pass < 3; pass++) {
        size_t n = pass == 1 ? g->nobjects : g->nthreads;
        for (size_t i = 0; i < n; i++)
            if (pass_stack(g, pass, i))
                return pass_stack(g, pass, i);
    }
    return 0;
}

/* The related findings (shared threads or objects) as related locations at
 * their own primary location, the message naming them ("finding 2:
 * channel-never-closed pipe#1", "cause: ..." for the one that shows these
 * threads' stacks), so a viewer can go from a leak to its cause. */
static void add_related_findings(const struct sw *w, json_t *related)
{
    for (size_t i = 0; i < w->f->nrelated; i++) {
        const struct pw_finding *g = w->f->related[i];
        if (g->suppressed)
            continue;
        char *text = NULL;
        if (asprintf(&text, "%sfinding %u: %s%s%s", g == w->f->cause ? "cause: " : "", g->id,
                     pw_finding_kind_name(g->kind), g->nobjects ? " " : "",
                     g->nobjects ? g->objects[0].o->id : "") < 0)
            pw_json_oom();
        struct sw gw = {w->r, g, g->proc->trace};
        add_related(&gw, related, first_stack(g), text);
        free(text);
    }
}

static json_t *result_json(const struct pw_report *r, const struct pw_finding *f)
{
    struct sw w = {r, f, f->proc->trace};
    json_t *res = json_object();
    pw_json_set(res, "ruleId", pw_json_str(pw_finding_kind_name(f->kind)));
    pw_json_set(res, "ruleIndex", json_integer(f->kind));
    pw_json_set(res, "level", pw_json_str(level_name(f->severity)));
    pw_json_set(res, "message", msg(f->message ? f->message : pw_finding_description(f->kind)));

    json_t *locs = json_array(), *primary = primary_location(&w);
    if (primary)
        pw_json_push(locs, primary);
    pw_json_set(res, "locations", locs);

    json_t *related = json_array(), *stacks = json_array();
    for (size_t i = 0; i < f->nthreads; i++) {
        char *phrase = thread_phrase(f->kind, &f->threads[i]);
        /* the first thread is the primary location already */
        if (i > 0)
            add_related(&w, related, f->threads[i].stack, phrase);
        add_thread_stacks(&w, stacks, &f->threads[i], phrase);
        free(phrase);
    }
    for (size_t i = 0; i < f->nobjects; i++) {
        char *phrase = object_phrase(&f->objects[i]);
        add_related(&w, related, f->objects[i].stack, phrase);
        if (f->objects[i].stack)
            push_stack(stacks, stack_json(&w, f->objects[i].stack, 0, phrase));
        free(phrase);
    }
    add_related_findings(&w, related);
    if (json_array_size(related))
        pw_json_set(res, "relatedLocations", related);
    else
        json_decref(related);
    if (json_array_size(stacks))
        pw_json_set(res, "stacks", stacks);
    else
        json_decref(stacks);

    json_t *cf = code_flow(&w);
    if (cf) {
        json_t *a = json_array();
        pw_json_push(a, cf);
        pw_json_set(res, "codeFlows", a);
    }
    pw_json_set(res, "occurrenceCount", json_integer((json_int_t)(f->count ? f->count : 1)));
    pw_json_set(res, "partialFingerprints", fingerprints(&w));
    pw_json_set(res, "properties", result_properties(&w));
    return res;
}

/* ---- rules: one per finding kind, from the X-macro list */

/* "channel-never-closed" -> "ChannelNeverClosed" (SARIF's rule name style). */
static json_t *rule_name(const char *kind)
{
    char buf[64];
    size_t n = 0;
    bool up = true;
    for (const char *c = kind; *c && n + 1 < sizeof(buf); c++) {
        if (*c == '-') {
            up = true;
            continue;
        }
        buf[n++] = up && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
        up = false;
    }
    buf[n] = '\0';
    return pw_json_str(buf);
}

/* "a thread ended ..." -> "A thread ended ...." */
static json_t *sentence(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s%s", a, b ? ". " : "", b ? b : "", ".") < 0)
        pw_json_oom();
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
    json_t *j = pw_json_str(s);
    free(s);
    return j;
}

static json_t *rule_json(enum pw_finding_kind k)
{
    const char *name = pw_finding_kind_name(k);
    json_t *rule = json_object();
    pw_json_set(rule, "id", pw_json_str(name));
    pw_json_set(rule, "name", rule_name(name));
    json_t *sd = json_object(), *fd = json_object(), *help = json_object();
    pw_json_set(sd, "text", sentence(pw_finding_description(k), NULL));
    pw_json_set(rule, "shortDescription", sd);
    pw_json_set(fd, "text",
                sentence(pw_finding_description(k),
                         "parkwatch saw it in a run of the program: the result shows the "
                         "threads' park stacks and the blocked chain"));
    pw_json_set(rule, "fullDescription", fd);
    pw_json_set(help, "text", sentence(pw_finding_hint(k), NULL));
    pw_json_set(rule, "help", help);
    json_t *cfg = json_object();
    pw_json_set(cfg, "level", pw_json_str(level_of(k)));
    pw_json_set(rule, "defaultConfiguration", cfg);
    json_t *props = json_object(), *tags = json_array();
    pw_json_push(tags, pw_json_str("concurrency"));
    pw_json_push(tags, pw_json_str("reliability"));
    pw_json_set(props, "tags", tags);
    pw_json_set(props, "precision", pw_json_str("high"));
    pw_json_set(props, "problem.severity", pw_json_str(level_of(k)));
    pw_json_set(rule, "properties", props);
    return rule;
}

/* ---- the whole log */

static json_t *run_properties(const struct pw_report *r)
{
    json_t *p = json_object(), *traces = json_array();
    for (size_t i = 0; i < r->ntraces; i++)
        pw_json_push(traces, pw_json_str(pw_trace_path(r->traces[i])));
    pw_json_set(p, "traces", traces);
    if (r->trace_dir)
        pw_json_set(p, "traceDir", pw_json_str(r->trace_dir));
    pw_json_set(p, "summary", pw_report_summary_json(r, PW_SUMMARY_SARIF));
    return p;
}

/* %SRCROOT% is the directory frames.c made paths relative to: ours. */
static json_t *uri_base_ids(void)
{
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    size_t n = strlen(cwd);
    char *dir = malloc(n + 2);
    if (!dir)
        pw_json_oom();
    memcpy(dir, cwd, n);
    strcpy(dir + n, n && cwd[n - 1] == '/' ? "" : "/");
    free(cwd);
    json_t *base = json_object(), *o = json_object();
    pw_json_set(base, "uri", path_uri(dir));
    free(dir);
    pw_json_set(o, SRCROOT, base);
    return o;
}

static json_t *sarif_log(const struct pw_report *r)
{
    json_t *driver = json_object(), *rules = json_array();
    pw_json_set(driver, "name", pw_json_str("parkwatch"));
    pw_json_set(driver, "version", pw_json_str(PW_REPORT_TOOL_VERSION));
    pw_json_set(driver, "semanticVersion", pw_json_str(PW_REPORT_TOOL_VERSION));
    for (int k = 0; k < PW_FK__COUNT; k++)
        pw_json_push(rules, rule_json((enum pw_finding_kind)k));
    pw_json_set(driver, "rules", rules);
    json_t *tool = json_object();
    pw_json_set(tool, "driver", driver);

    json_t *run = json_object(), *results = json_array();
    pw_json_set(run, "tool", tool);
    json_t *bases = uri_base_ids();
    if (bases)
        pw_json_set(run, "originalUriBaseIds", bases);
    for (size_t i = 0; i < r->findings->n; i++)
        if (!r->findings->v[i]->suppressed)
            pw_json_push(results, result_json(r, r->findings->v[i]));
    pw_json_set(run, "results", results);
    pw_json_set(run, "properties", run_properties(r));

    json_t *log = json_object(), *runs = json_array();
    pw_json_set(log, "$schema", pw_json_str(SARIF_SCHEMA_URI));
    pw_json_set(log, "version", pw_json_str("2.1.0"));
    pw_json_push(runs, run);
    pw_json_set(log, "runs", runs);
    return log;
}

int pw_report_sarif(FILE *f, const struct pw_report *r)
{
    return pw_json_write(f, sarif_log(r));
}
