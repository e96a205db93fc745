/* SARIF 2.1.0 report (`--format sarif`), for GitHub code scanning and every
 * other SARIF viewer.  The same finding model as the text and JSON writers,
 * laid out the SARIF way:
 *
 *   runs[0].tool.driver.rules   one rule per finding kind (PW_FINDING_KINDS),
 *                               with a name, help text and example (kind_help)
 *   runs[0].results             one result per finding group, not suppressed
 *     message                   the headline, then links "[text](id)" to every
 *                               related location (viewers show only those)
 *     locations[0]              the innermost frame inside the source root of
 *                               the first stack the finding shows (thread,
 *                               then object, then creation site)
 *     relatedLocations          the other threads, the objects' creation
 *                               sites, the held locks' acquisition sites and
 *                               the related findings
 *     stacks                    every thread's park / misuse / created-by stack
 *                               and every object's creation site
 *     codeFlows                 the blocked chain, one threadFlow per waiter;
 *                               a lock-order cycle, one threadFlow per edge
 *     partialFingerprints       kind + function names, stable across runs
 *                               (pcs move with ASLR, line numbers with edits)
 *
 * Paths inside the source root (--source-root, by default the git top level
 * or the current directory) are relative to it with uriBaseId SRCROOT, which
 * originalUriBaseIds maps to the root: code scanning places those on the
 * repository's files.  Other absolute paths are file:// URIs.  Paths relative
 * to something else (a DWARF comp_dir: "./nptl/x.c") are left without a base,
 * since guessing one would point at the wrong file. */
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
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
#define SRCROOT "SRCROOT"

/* Where the project's documentation lives: meson's `homepage` option; the man
 * page when none was configured (no web address is invented). */
#ifndef PW_HOMEPAGE
#define PW_HOMEPAGE ""
#endif

/* The directories paths are judged against, for one report: set by
 * pw_report_sarif before anything is written (frame_location has no writer
 * state to carry them). */
static struct {
    char *cwd;  /* the analyzer's directory without its last slash ("" for
                    * "/"): relative paths are under it */
    char *root; /* the source root, "/.../" with its slash */
    size_t rootlen;
} dirs;

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

/* PATH as an absolute path without "." or ".." (as the root is), malloc'd,
 * or NULL when it cannot be placed.  A relative path is under the analyzer's
 * directory only when the file is there (frames.c shortened it); otherwise it
 * was relative to some DWARF comp_dir ("./nptl/x.c" of a distribution's libc). */
static char *absolute(const char *path)
{
    char *s = realpath(path, NULL);
    if (s || path[0] != '/')
        return s;
    s = strdup(path);
    if (!s)
        pw_json_oom();
    return s;
}

/* PATH's part below the source root, or NULL when it is not inside. */
static const char *in_root(const char *abs)
{
    return abs && dirs.root && strncmp(abs, dirs.root, dirs.rootlen) == 0 && abs[dirs.rootlen]
               ? abs + dirs.rootlen
               : NULL;
}

static json_t *artifact_location(const char *path)
{
    json_t *o = json_object();
    char *abs = absolute(path);
    const char *rel = in_root(abs);
    if (rel) {
        pw_json_set(o, "uri", path_uri(rel));
        pw_json_set(o, "uriBaseId", pw_json_str(SRCROOT));
    } else {
        pw_json_set(o, "uri", path_uri(abs ? abs : path));
    }
    free(abs);
    return o;
}

/* True if FR's source file is inside the source root. */
static bool frame_in_root(const struct pw_frame *fr)
{
    if (!fr->file || fr->line <= 0)
        return false;
    char *abs = absolute(fr->file);
    bool in = in_root(abs) != NULL;
    free(abs);
    return in;
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

/* The frame a location should point at: the innermost one inside the source
 * root (the user's code, which code scanning can show), else the innermost
 * one with source, else the innermost one.  NULL for an empty stack. */
static const struct pw_frame *best_frame(const struct pw_frame *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (frame_in_root(&v[i]))
            return &v[i];
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
    if (ft->role == PW_ROLE_ACQUIRES && ft->lock)
        rc = asprintf(&s, "%s (tid %d) takes %s while holding %s", t->name, t->tid, ft->lock->id,
                      ft->lock2 ? ft->lock2->id : "?");
    else if (t->status == PW_THR_PARKED && t->waits_on &&
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

/* The primary location: the innermost frame inside the source root of the
 * first stack the finding shows that has one, threads first (the parked or
 * misusing thread is what the user fixes), then objects, then thread creation
 * sites (an unjoined thread that exited has no other stack: the fix is where
 * it was created).  A system header or libc's own file is no place for an
 * alert; failing the root, the first frame with source, then any frame. */
static const struct pw_frame *primary_frame(const struct sw *w)
{
    const struct pw_frame *with_source = NULL, *fallback = NULL;
    for (int pass = 0; pass < 3; pass++) {
        size_t n = pass == 1 ? w->f->nobjects : w->f->nthreads;
        for (size_t i = 0; i < n; i++) {
            uint32_t id = pass_stack(w->f, pass, i);
            const struct pw_frame *v;
            size_t nv = frames_of(w, id, &v);
            const struct pw_frame *b = best_frame(v, nv);
            if (b && frame_in_root(b))
                return b;
            if (b && has_source(b) && !with_source)
                with_source = b;
            if (b && !fallback)
                fallback = b;
        }
    }
    return with_source ? with_source : fallback;
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
    /* ids from 1: the message links "[text](1)" */
    pw_json_set(loc, "id", json_integer((json_int_t)json_array_size(related) + 1));
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

/* A lock-order cycle as one codeFlow: a threadFlow per edge, the thread
 * taking the held lock (STACK2's innermost useful frame), then the whole stack
 * that takes the next lock while holding it.  NULL when no edge has a stack. */
static json_t *lock_order_flow(const struct sw *w)
{
    json_t *flows = json_array();
    for (size_t i = 0; i < w->f->nthreads; i++) {
        const struct pw_fthread *ft = &w->f->threads[i];
        if (ft->role != PW_ROLE_ACQUIRES || !ft->stack || !ft->lock)
            continue;
        const char *held = ft->lock2 ? ft->lock2->id : "?";
        char *took = NULL, *text = NULL;
        if (asprintf(&took, "%s (tid %d) takes %s", ft->t->name, ft->t->tid, held) < 0 ||
            asprintf(&text, "%s (tid %d) takes %s while holding %s", ft->t->name, ft->t->tid,
                     ft->lock->id, held) < 0)
            pw_json_oom();
        json_t *locs = json_array();
        const struct pw_frame *v;
        size_t n = frames_of(w, ft->stack2, &v);
        const struct pw_frame *b = best_frame(v, n);
        if (b) {
            json_t *tfl = json_object();
            pw_json_set(tfl, "location", frame_location(b, took));
            pw_json_set(tfl, "nestingLevel", json_integer(0));
            pw_json_push(locs, tfl);
        }
        json_t *rest = flow_locations(w, ft->stack, text);
        for (size_t k = 0; k < json_array_size(rest); k++)
            pw_json_push(locs, json_incref(json_array_get(rest, k)));
        json_decref(rest);
        if (json_array_size(locs) == 0) {
            json_decref(locs);
        } else {
            json_t *tf = json_object();
            char id[48];
            snprintf(id, sizeof(id), "edge %zu: tid %d", i + 1, ft->t->tid);
            pw_json_set(tf, "id", pw_json_str(id));
            pw_json_set(tf, "message", msg(text));
            pw_json_set(tf, "locations", locs);
            pw_json_push(flows, tf);
        }
        free(took);
        free(text);
    }
    if (json_array_size(flows) == 0) {
        json_decref(flows);
        return NULL;
    }
    json_t *cf = json_object();
    pw_json_set(cf, "message", msg(w->f->message ? w->f->message : "lock-order cycle"));
    pw_json_set(cf, "threadFlows", flows);
    return cf;
}

/* The blocked chain as one codeFlow: a threadFlow per waiting thread, ending
 * at its park with the link's words ("waits on pipe#1: write end held by
 * main ...").  NULL when no link has a thread with a stack. */
static json_t *code_flow(const struct sw *w)
{
    if (w->f->kind == PW_FK_LOCK_ORDER)
        return lock_order_flow(w);
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

/* The function names of the finding's distinct thread stacks, hashed on H. */
static uint64_t stacks_hash(const struct sw *w, uint64_t h)
{
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
    return h;
}

/* Our own fingerprint, and primaryLocationLineHash, the only one code
 * scanning reads: "HASH:1" (GitHub's form, the 1 an occurrence number).  It
 * hashes the kind, the primary location's function and file name (no line:
 * an unrelated edit above it must not open a new alert) and the stacks'
 * function names, so two findings in one function stay apart. */
static json_t *fingerprints(const struct sw *w, const struct pw_frame *primary)
{
    uint64_t h = stacks_hash(w, fnv(0xcbf29ce484222325ull, pw_finding_kind_name(w->f->kind)));
    char hex[40];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
    json_t *o = json_object();
    pw_json_set(o, "parkwatchStack/v1", pw_json_str(hex));
    uint64_t p = fnv(0x84222325cbf29ce4ull, pw_finding_kind_name(w->f->kind));
    if (primary) {
        const char *file = primary->file ? strrchr(primary->file, '/') : NULL;
        p = fnv(p, primary->function ? primary->function : "?");
        p = fnv(p, file ? file + 1 : primary->file ? primary->file : "?");
    }
    p = stacks_hash(w, p);
    snprintf(hex, sizeof(hex), "%016llx:1", (unsigned long long)p);
    pw_json_set(o, "primaryLocationLineHash", pw_json_str(hex));
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

/* A growing message text. */
struct text {
    char *s;
    size_t len, cap;
};

/* Appends S; with ESCAPE, SARIF's message escapes: '[' and ']' are the link
 * syntax and '\\' escapes them, so all three are escaped where literal. */
static void put(struct text *t, const char *s, bool escape)
{
    for (; *s; s++) {
        if (t->len + 3 > t->cap) {
            t->cap = t->cap * 2 + 64;
            char *n = realloc(t->s, t->cap);
            if (!n)
                pw_json_oom();
            t->s = n;
        }
        if (escape && (*s == '[' || *s == ']' || *s == '\\'))
            t->s[t->len++] = '\\';
        t->s[t->len++] = *s;
        t->s[t->len] = '\0';
    }
}

/* The headline, then one link per related location ("[text](id)"): code
 * scanning shows a related location only when the message links it. */
static json_t *linked_message(const char *headline, const json_t *related)
{
    struct text t = {0};
    put(&t, headline, true);
    for (size_t i = 0; i < json_array_size(related); i++) {
        const json_t *loc = json_array_get(related, i);
        const char *text = json_string_value(
            json_object_get(json_object_get(loc, "message"), "text"));
        char id[32];
        snprintf(id, sizeof(id), "](%lld)",
                 (long long)json_integer_value(json_object_get(loc, "id")));
        put(&t, i == 0 ? ". See [" : "; [", false);
        put(&t, text ? text : "here", true);
        put(&t, id, false);
    }
    if (json_array_size(related))
        put(&t, ".", false);
    json_t *m = msg(t.s ? t.s : "");
    free(t.s);
    return m;
}

/* The program's executable as a location, for a finding without any stack. */
static json_t *program_location(const struct pw_process *p)
{
    json_t *loc = json_object(), *phys = json_object();
    pw_json_set(phys, "artifactLocation", artifact_location(p->exe && *p->exe ? p->exe : "."));
    pw_json_set(loc, "physicalLocation", phys);
    return loc;
}

/* The locks the finding's threads hold, at their acquisition sites. */
static void add_held_sites(const struct sw *w, json_t *related)
{
    for (size_t i = 0; i < w->f->nheld; i++) {
        const struct pw_fheld *h = &w->f->held[i];
        if (!h->stack)
            continue;
        char *text = NULL;
        if (asprintf(&text, "%s acquired by %s (tid %d) here", h->o->id, h->t->name, h->t->tid) < 0)
            pw_json_oom();
        add_related(w, related, h->stack, text);
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

    json_t *locs = json_array();
    const struct pw_frame *primary = primary_frame(&w);
    if (primary)
        pw_json_push(locs, frame_location(primary, NULL));
    else /* code scanning wants a location: the program itself, then */
        pw_json_push(locs, program_location(f->proc));

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
    add_held_sites(&w, related);
    add_related_findings(&w, related);
    pw_json_set(res, "message",
                linked_message(f->message ? f->message : pw_finding_description(f->kind), related));
    pw_json_set(res, "locations", locs);
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
    pw_json_set(res, "partialFingerprints", fingerprints(&w, primary));
    pw_json_set(res, "properties", result_properties(&w));
    return res;
}

/* ---- rules: one per finding kind, from the X-macro list */

/* "channel-never-closed" -> "ChannelNeverClosed" (SARIF's rule name style);
 * a name may not equal the id but for case, hence "DeadlockCycle". */
static json_t *rule_name(const char *kind)
{
    if (strcmp(kind, "deadlock") == 0)
        return pw_json_str("DeadlockCycle");
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

/* A short program that has the finding, per kind (by name, so a kind added to
 * PW_FINDING_KINDS builds before its example is written; the SARIF test wants
 * one for every rule). */
static const struct {
    const char *kind, *example;
} examples[] = {
    {"deadlock", "/* thread 1 */                 /* thread 2 */\n"
                 "pthread_mutex_lock(&a);        pthread_mutex_lock(&b);\n"
                 "pthread_mutex_lock(&b);        pthread_mutex_lock(&a); /* both wait forever */"},
    {"all-threads-blocked", "pthread_mutex_lock(&m);\n"
                            "while (!ready) /* nobody sets ready nor signals c */\n"
                            "    pthread_cond_wait(&c, &m);"},
    {"lock-order-inversion", "/* one path */                 /* another path */\n"
                             "pthread_mutex_lock(&a);        pthread_mutex_lock(&b);\n"
                             "pthread_mutex_lock(&b);        pthread_mutex_lock(&a);\n"
                             "/* this run they did not meet; the next one may deadlock */"},
    {"channel-never-closed",
     "pipe(fd);\n"
     "/* reader thread */ while (read(fd[0], buf, sizeof buf) > 0) ...\n"
     "/* producer */      write(fd[1], job, n); /* close(fd[1]) missing */"},
    {"thread-leak", "pthread_create(&t, NULL, worker, NULL); /* worker waits in read() */\n"
                    "return 0; /* exits with the worker parked, never woken nor joined */"},
    {"send-on-closed", "close(fd[0]);         /* the reader is gone */\n"
                       "write(fd[1], \"x\", 1); /* EPIPE, or SIGPIPE kills the process */"},
    {"double-close", "close(fd);\n"
                     "close(fd); /* EBADF, or closes a descriptor another thread just opened */"},
    {"close-while-blocked", "/* thread 1 */ read(fd[0], buf, n); /* parked */\n"
                            "/* thread 2 */ close(fd[0]);        /* thread 1 stays blocked */"},
    {"lock-held-by-exited-thread", "static void *worker(void *arg)\n"
                                   "{\n"
                                   "    pthread_mutex_lock(&m);\n"
                                   "    if (failed)\n"
                                   "        return NULL; /* returns holding m */\n"
                                   "    pthread_mutex_unlock(&m);\n"
                                   "    return NULL;\n"
                                   "}"},
    {"channel-unread-data", "write(fd[1], \"job\", 3);\n"
                            "/* nobody reads fd[0] before the process exits */"},
    {"unjoined-thread", "pthread_create(&t, NULL, worker, NULL);\n"
                        "/* worker returns; pthread_join(t, NULL) is never called */"},
    {"fd-leak", "pipe(fd);\n"
                "/* used, then neither end is closed before exit */"},
    {"lock-misuse", "pthread_mutex_unlock(&m); /* m is not held by this thread */"},
};

static const char *example_of(const char *kind)
{
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
        if (strcmp(examples[i].kind, kind) == 0)
            return examples[i].example;
    return NULL;
}

/* help.markdown: what the kind means, an example, the fix. */
static json_t *help_markdown(enum pw_finding_kind k, const char *name, const char *title)
{
    const char *ex = example_of(name);
    json_t *desc = sentence(pw_finding_description(k), NULL),
           *hint = sentence(pw_finding_hint(k), NULL);
    char *s = NULL;
    if (asprintf(&s,
                 "**%s** (`%s`, %s by default): %s\n\n"
                 "parkwatch saw this in a run of the program: the result's stacks show where "
                 "each thread parked, and its related locations where the objects were created "
                 "and the locks taken.\n\n"
                 "%s%s%s"
                 "**Fix:** %s\n\n"
                 "See `parkwatch(1)`, FINDINGS.",
                 title, name, level_of(k), json_string_value(desc),
                 ex ? "**Example:**\n\n```c\n" : "", ex ? ex : "", ex ? "\n```\n\n" : "",
                 json_string_value(hint)) < 0)
        pw_json_oom();
    json_decref(desc);
    json_decref(hint);
    json_t *j = pw_json_str(s);
    free(s);
    return j;
}

/* The rule's documentation: the homepage's section on the kind, or the man
 * page when no homepage was configured. */
static json_t *help_uri(const char *kind)
{
    if (!PW_HOMEPAGE[0])
        return pw_json_str("man:parkwatch(1)");
    char *s = NULL;
    if (asprintf(&s, "%s#%s", PW_HOMEPAGE, kind) < 0)
        pw_json_oom();
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
    pw_json_set(help, "markdown",
                help_markdown(k, name, json_string_value(json_object_get(rule, "name"))));
    pw_json_set(rule, "help", help);
    pw_json_set(rule, "helpUri", help_uri(name));
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

/* DIR ("/x/y", or "" for "/") as a directory URI, with its last slash. */
static json_t *dir_uri(const char *dir)
{
    char *s = NULL;
    if (asprintf(&s, "%s/", dir) < 0)
        pw_json_oom();
    json_t *j = path_uri(s);
    free(s);
    return j;
}

/* SRCROOT is the source root. */
static json_t *uri_base_ids(void)
{
    json_t *base = json_object(), *o = json_object();
    dirs.root[dirs.rootlen - 1] = '\0';
    pw_json_set(base, "uri", dir_uri(dirs.root));
    dirs.root[dirs.rootlen - 1] = '/';
    pw_json_set(base, "description", msg("the source root (--source-root)"));
    pw_json_set(o, SRCROOT, base);
    return o;
}

static json_t *invocations(void)
{
    json_t *inv = json_object(), *a = json_array();
    pw_json_set(inv, "executionSuccessful", json_true());
    json_t *wd = json_object();
    pw_json_set(wd, "uri", dir_uri(dirs.cwd));
    pw_json_set(inv, "workingDirectory", wd);
    pw_json_push(a, inv);
    return a;
}

static json_t *sarif_log(const struct pw_report *r)
{
    json_t *driver = json_object(), *rules = json_array();
    pw_json_set(driver, "name", pw_json_str("parkwatch"));
    pw_json_set(driver, "version", pw_json_str(PW_REPORT_TOOL_VERSION));
    pw_json_set(driver, "semanticVersion", pw_json_str(PW_REPORT_TOOL_VERSION));
    pw_json_set(driver, "informationUri",
                pw_json_str(PW_HOMEPAGE[0] ? PW_HOMEPAGE : "man:parkwatch(1)"));
    for (int k = 0; k < PW_FK__COUNT; k++)
        pw_json_push(rules, rule_json((enum pw_finding_kind)k));
    pw_json_set(driver, "rules", rules);
    json_t *tool = json_object();
    pw_json_set(tool, "driver", driver);

    json_t *run = json_object(), *results = json_array();
    pw_json_set(run, "tool", tool);
    pw_json_set(run, "invocations", invocations());
    pw_json_set(run, "originalUriBaseIds", uri_base_ids());
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

/* The git top level of DIR: the nearest directory from DIR up that holds a
 * .git (a directory, or the file of a linked worktree); NULL if none. */
static char *git_top(const char *dir)
{
    char *d = strdup(dir);
    if (!d)
        pw_json_oom();
    for (;;) {
        char *git = NULL;
        if (asprintf(&git, "%s/.git", d) < 0)
            pw_json_oom();
        bool found = access(git, F_OK) == 0;
        free(git);
        if (found)
            return d;
        char *slash = strrchr(d, '/');
        if (!slash || slash == d) {
            free(d);
            return NULL;
        }
        *slash = '\0';
    }
}

/* Sets dirs: the analyzer's directory and the source root (--source-root,
 * else the git top level of the current directory, else the current
 * directory), both resolved, since frames.c's paths are. */
static void set_dirs(const struct pw_report *r)
{
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        cwd = strdup("/");
    char *root = r->source_root ? realpath(r->source_root, NULL) : git_top(cwd);
    if (!root)
        root = strdup(cwd);
    if (!cwd || !root)
        pw_json_oom();
    size_t n = strlen(cwd);
    while (n && cwd[n - 1] == '/')
        cwd[--n] = '\0';
    n = strlen(root);
    while (n && root[n - 1] == '/')
        root[--n] = '\0';
    dirs.cwd = cwd;
    if (asprintf(&dirs.root, "%s/", root) < 0)
        pw_json_oom();
    free(root);
    dirs.rootlen = strlen(dirs.root);
}

static void free_dirs(void)
{
    free(dirs.cwd);
    free(dirs.root);
    dirs.cwd = dirs.root = NULL;
    dirs.rootlen = 0;
}

int pw_report_sarif(FILE *f, const struct pw_report *r)
{
    free_dirs(); /* a previous report that ran out of memory left them */
    set_dirs(r);
    int rc = pw_json_write(f, sarif_log(r));
    free_dirs();
    return rc;
}
