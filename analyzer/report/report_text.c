/* Text report: one block per finding, readable in ten seconds, like a TSan or
 * lockdep report crossed with a goroutine dump:
 *
 *   parkwatch: KIND: MESSAGE  (pid N, error)  [N]
 *     cause: KIND OBJECT (finding M)       when finding M shows these threads
 *     <threads sharing the same stacks, one block each, park stack, created by;
 *      only their names when the cause shows them>
 *     <objects and where they were created>
 *     chain: ...
 *     note: ...
 *     related: finding M (KIND), ...
 *     hint: ...
 *
 * then a "parked now" dump of every process that is still running, then a
 * one-line footer.  Each distinct stack of a finding is printed once. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "finding.h"
#include "frames.h"
#include "ktasks.h"
#include "model.h"
#include "reader.h"
#include "report.h"

#define MAX_SHOWN 64 /* stacks remembered per finding for "same as above" */
#define MAX_NAMES 8  /* thread names listed in a group headline */

/* Writer state for one finding (or one live dump). */
struct tw {
    FILE *f;
    const struct pw_report *r;
    const struct pw_trace *trace;
    enum pw_finding_kind kind; /* PW_FK__COUNT in the live dump */
    uint32_t shown[MAX_SHOWN];
    char shown_as[MAX_SHOWN][256]; /* whose stack it was, for "same stack as" */
    size_t nshown;
    bool names_only; /* the stacks are in the finding named as cause */
};

/* A thread as a writer shows it: the finding's view or the live view. */
struct member {
    struct pw_thread *t;
    enum pw_role role;
    uint32_t stack, stack2;
    const struct pw_object *lock, *lock2; /* a lock-order edge: B while holding A */
};

/* ---- colour: on a terminal only, and never with NO_COLOR set (no-color.org) */

#define SGR_RED "\033[1;31m"
#define SGR_YELLOW "\033[1;33m"
#define SGR_CYAN "\033[36m"
#define SGR_MAGENTA "\033[35m"
#define SGR_OFF "\033[0m"

static bool colour_on(FILE *f)
{
    const char *no = getenv("NO_COLOR");
    return !(no && *no) && isatty(fileno(f));
}

/* SGR when F takes colour, else "". */
static const char *sgr(FILE *f, const char *code)
{
    return colour_on(f) ? code : "";
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* A thread as the report introduces it, "T2 'worker'" (pw_thread_label: the
 * naming dump uses too); LB is a buffer of LABEL_LEN. */
#define LABEL_LEN 48
#define LABEL(t, lb) pw_thread_label((t), (lb), LABEL_LEN)

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- frames */

static void print_frame(FILE *f, size_t i, const struct pw_frame *fr)
{
    fprintf(f, "      #%zu ", i);
    if (fr->function && fr->file && fr->line)
        fprintf(f, "%s (%s:%d)", fr->function, fr->file, fr->line);
    else if (fr->function && fr->file)
        fprintf(f, "%s (%s)", fr->function, fr->file);
    else if (fr->function && fr->module)
        fprintf(f, "%s (%s+0x%llx)", fr->function, base_name(fr->module),
                (unsigned long long)fr->module_offset);
    else if (fr->function)
        fprintf(f, "%s", fr->function);
    else if (fr->module)
        fprintf(f, "%s+0x%llx", base_name(fr->module), (unsigned long long)fr->module_offset);
    else
        fprintf(f, "0x%llx", (unsigned long long)fr->pc);
    fputs(fr->inlined ? " [inlined]\n" : "\n", f);
}

/* The label under which stack ID was shown, or NULL (then it is remembered
 * under AS). */
static const char *seen(struct tw *w, uint32_t id, const char *as)
{
    for (size_t i = 0; i < w->nshown; i++)
        if (w->shown[i] == id)
            return w->shown_as[i];
    if (w->nshown < MAX_SHOWN) {
        snprintf(w->shown_as[w->nshown], sizeof(w->shown_as[0]), "%s", as);
        w->shown[w->nshown++] = id;
    }
    return NULL;
}

/* Prints stack ID; AS says whose it is ("worker (tid 12)"), so that a repeat
 * can say which of the stacks above it repeats. */
static void print_stack(struct tw *w, uint32_t id, const char *as)
{
    const char *first = seen(w, id, as);
    if (first) {
        fprintf(w->f, "      (same stack as above: %s)\n", first);
        return;
    }
    const struct pw_frame *v;
    size_t n = pw_frames_get(w->r->frames, w->trace, id, &v);
    if (!n)
        fputs("      (stack not available)\n", w->f);
    for (size_t i = 0; i < n; i++)
        print_frame(w->f, i, &v[i]);
}

/* ---- thread groups */

/* What the stacks of a non-parked thread are, per finding kind and role. */
static const char *stack_label(enum pw_finding_kind k, enum pw_role role, int second)
{
    if (role == PW_ROLE_EXITED)
        return second ? "earlier at" : "exited at";
    if (k == PW_FK_DOUBLE_CLOSE)
        return second ? "first closed at" : "closed again at";
    if (k == PW_FK_SEND_ON_CLOSED)
        /* the headline says which side (a pipe's read end, a whole queue) */
        return second ? "closed at" : "sent at";
    if (k == PW_FK_CLOSE_WHILE_BLOCKED)
        return second ? "earlier at" : "closed at";
    if (k == PW_FK_LOCK_ORDER)
        return second ? "holding the first lock, taken at" : "took the second lock at";
    if (k == PW_FK_LOCK_MISUSE && role == PW_ROLE_MISUSE)
        return second ? "destroyed at" : "misused it at"; /* the 2nd: a use after destroy */
    if (k == PW_FK_LOCK_MISUSE && role == PW_ROLE_PARKED)
        return second ? "and at" : "was parked then at";
    return second ? "and at" : "at";
}

/* Threads the trace does not show parked group only with the same state and
 * blocked call. */
static bool same_kernel_view(const struct pw_thread *a, const struct pw_thread *b)
{
    const struct pw_ktask *x = a->ktask, *y = b->ktask;
    if (pw_thread_view(a) != pw_thread_view(b))
        return false;
    return !x || !y ? x == y : x->sysno == y->sysno && x->fd == y->fd;
}

static bool same_group(const struct member *a, const struct member *b)
{
    return a->role == b->role && a->stack == b->stack && a->stack2 == b->stack2 &&
           a->lock == b->lock && a->lock2 == b->lock2 && a->t->create_stack == b->t->create_stack &&
           a->t->parent == b->t->parent && a->t->status == b->t->status && a->t->op == b->t->op &&
           a->t->waits_on == b->t->waits_on && same_kernel_view(a->t, b->t);
}

static bool is_parked_view(const struct member *m)
{
    return m->t->status == PW_THR_PARKED && m->t->waits_on &&
           (m->role == PW_ROLE_NONE || m->role == PW_ROLE_PARKED);
}

/* "worker-1 (tid 4245), worker-2 (tid 4246) and 3 more": the members V[i] with IN[i]. */
static void print_names(FILE *f, const struct member *v, size_t n, const bool *in, size_t count)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < MAX_NAMES; i++) {
        if (!in[i])
            continue;
        char lb[LABEL_LEN];
        fprintf(f, "%s%s%s%s (tid %d)", k ? ", " : "", sgr(f, SGR_CYAN), LABEL(v[i].t, lb),
                sgr(f, SGR_OFF), v[i].t->tid);
        k++;
    }
    if (count > k)
        fprintf(f, " and %zu more", count - k);
}

static void print_group_head(struct tw *w, const struct member *v, size_t n, const bool *in,
                             size_t count, const struct member *m)
{
    const struct pw_thread *t = m->t;
    if (m->lock && m->lock2) { /* one lock-order edge, TSan's words */
        fputs("  ", w->f);
        print_names(w->f, v, n, in, count);
        fprintf(w->f, ": %s acquired here while holding %s:\n", m->lock->id, m->lock2->id);
        return;
    }
    char buf[256];
    fputs("  ", w->f);
    if (is_parked_view(m)) {
        if (count > 1)
            fprintf(w->f, "%zu threads parked in %s on %s for %llu ms: ", count,
                    pw_park_op_name(t->op), t->waits_on->id, (unsigned long long)t->since_ms);
        print_names(w->f, v, n, in, count);
        /* a thread dump names a static lock by its symbol (findings do so in
         * their object lines) */
        const char *sym = w->kind == PW_FK__COUNT ? pw_report_object_symbol(w->r, t->waits_on)
                                                  : NULL;
        if (count == 1)
            fprintf(w->f, " parked in %s on %s%s%s%s for %llu ms", pw_park_op_name(t->op),
                    t->waits_on->id, sym ? " (" : "", sym ? sym : "", sym ? ")" : "",
                    (unsigned long long)t->since_ms);
        else if (sym)
            fprintf(w->f, " (%s is %s)", t->waits_on->id, sym);
        fputc('\n', w->f);
        return;
    }
    print_names(w->f, v, n, in, count);
    if (m->stack && m->role == PW_ROLE_EXITED && t->returned && m->stack == t->exit_stack)
        fputs(" exited, returning from its start routine:\n", w->f);
    else if (m->stack)
        fprintf(w->f, " %s:\n", stack_label(w->kind, m->role, 0));
    else if (m->role != PW_ROLE_NONE)
        fprintf(w->f, " %s\n", pw_role_name(m->role));
    else if (pw_thread_blocked_in(t, buf, sizeof(buf)))
        fprintf(w->f, " blocked in %s\n", buf);
    else
        fprintf(w->f, " %s\n", pw_thread_state_str(pw_thread_view(t)));
}

static void print_group(struct tw *w, const struct member *v, size_t n, const bool *in,
                        size_t count, const struct member *m)
{
    print_group_head(w, v, n, in, count, m);
    if (w->names_only)
        return;
    char as[96], as2[256];
    char lb[LABEL_LEN];
    snprintf(as, sizeof as, "%s (tid %d)", LABEL(m->t, lb), m->t->tid);
    if (m->stack)
        print_stack(w, m->stack, as);
    if (m->stack2 && m->lock2) {
        snprintf(as2, sizeof as2, "%s, %s previously acquired", as, m->lock2->id);
        fprintf(w->f, "    %s previously acquired by the same thread here:\n", m->lock2->id);
        print_stack(w, m->stack2, as2);
    } else if (m->stack2) {
        fprintf(w->f, "    %s:\n", stack_label(w->kind, m->role, 1));
        snprintf(as2, sizeof as2, "%s, %s", as, stack_label(w->kind, m->role, 1));
        print_stack(w, m->stack2, as2);
    } else if (m->lock2) {
        fprintf(w->f, "    %s previously acquired by the same thread (site unknown)\n",
                m->lock2->id);
    }
    const struct pw_thread *t = m->t;
    if (!t->create_stack)
        return;
    if (t->parent)
        fprintf(w->f, "    created by %s (tid %d) at:\n", LABEL(t->parent, lb), t->parent->tid);
    else
        fputs("    created at:\n", w->f);
    snprintf(as2, sizeof as2, "%s created at", as);
    print_stack(w, t->create_stack, as2);
}

/* Prints members V[0..N) grouped by identical stacks, in order of first member. */
static int print_members(struct tw *w, const struct member *v, size_t n)
{
    bool *done = calloc(n ? n : 1, sizeof(*done)), *in = calloc(n ? n : 1, sizeof(*in));
    int rc = done && in ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t count = 0;
        for (size_t j = i; j < n; j++) {
            in[j] = !done[j] && same_group(&v[i], &v[j]);
            if (in[j]) {
                done[j] = true;
                count++;
            }
        }
        if (i)
            fputc('\n', w->f); /* one paragraph per group, like a goroutine dump */
        print_group(w, v, n, in, count, &v[i]);
        memset(in, 0, n * sizeof(*in));
    }
    free(done);
    free(in);
    return rc;
}

/* ---- findings */

/* "mutex#1 (&stats_mu) held by T2 (tid 12) since worker_step (pool.c:42)",
 * then the rest of the stack when the whole one is known (lockdep's
 * acquire_ip, with TSan's stack). */
static void print_held(struct tw *w, const struct pw_fheld *h)
{
    const char *sym = pw_report_object_symbol(w->r, h->o);
    char lb[LABEL_LEN];
    fprintf(w->f, "\n  %s%s%s%s held by %s (tid %d)", h->o->id, sym ? " (" : "", sym ? sym : "",
            sym ? ")" : "", LABEL(h->t, lb), h->t->tid);
    const struct pw_frame *v;
    size_t n = h->stack ? pw_frames_get(w->r->frames, w->trace, h->stack, &v) : 0;
    if (!n) {
        fputs(", taken at an unknown site\n", w->f);
        return;
    }
    /* the innermost frame (inlined ones included) names the call site */
    const struct pw_frame *fr = &v[0];
    if (fr->function && fr->file && fr->line)
        fprintf(w->f, " since %s (%s:%d)", fr->function, fr->file, fr->line);
    else if (fr->function)
        fprintf(w->f, " since %s", fr->function);
    else if (fr->module)
        fprintf(w->f, " since %s+0x%llx", base_name(fr->module),
                (unsigned long long)fr->module_offset);
    char as[160];
    snprintf(as, sizeof as, "%s taken by %s (tid %d)", h->o->id, LABEL(h->t, lb), h->t->tid);
    if (n == 1 || seen(w, h->stack, as)) {
        fputc('\n', w->f);
        return;
    }
    fputs(", taken at:\n", w->f);
    for (size_t i = 0; i < n; i++)
        print_frame(w->f, i, &v[i]);
}

/* The object of cause C that finding F's first thread waits on, else C's first. */
static const char *cause_object(const struct pw_finding *c, const struct pw_finding *f)
{
    const struct pw_thread *t = f->nthreads ? f->threads[0].t : NULL;
    for (size_t i = 0; t && i < c->nobjects; i++)
        if (c->objects[i].o == t->waits_on)
            return c->objects[i].o->id;
    return c->nobjects ? c->objects[0].o->id : NULL;
}

/* A trace that ends without a recorded end (SIGKILL writes nothing; a crash
 * the shim could not see): say so, and when, as closely as the trace tells. */
static void print_abrupt(FILE *f, const char *indent, const struct pw_process *p)
{
    fprintf(f,
            "%sthe trace ends abruptly (the process was killed or crashed at about %llu.%03llu s "
            "after its start)\n",
            indent, (unsigned long long)(p->end_ms / 1000u),
            (unsigned long long)(p->end_ms % 1000u));
}

/* MSG without a leading "lock order inversion: " when the headline names the
 * kind (lock-order-inversion) just before it. */
static const char *unrepeated(enum pw_finding_kind k, const char *msg)
{
    const char *name = pw_finding_kind_name(k);
    size_t i = 0;
    while (name[i] && (msg[i] == name[i] || (name[i] == '-' && msg[i] == ' ')))
        i++;
    return !name[i] && msg[i] == ':' && msg[i + 1] == ' ' ? msg + i + 2 : msg;
}

static void print_headline(FILE *f, const struct pw_finding *fd)
{
    enum pw_finding_kind k = fd->kind;
    fprintf(f, "%sparkwatch: %s: %s%s  (pid %d, %s",
            sgr(f, fd->severity == PW_SEV_ERROR ? SGR_RED : SGR_YELLOW), pw_finding_kind_name(k),
            unrepeated(k, fd->message ? fd->message : pw_finding_description(k)), sgr(f, SGR_OFF),
            fd->proc->pid, pw_severity_name(fd->severity));
    /* the message already counts grouped threads; other repeats are shown here */
    if (fd->count > 1 && fd->count > fd->nthreads)
        fprintf(f, ", %zu times", fd->count);
    fprintf(f, ")  [%u]\n\n", fd->id);
    /* the evidence another finding shows already: named, not repeated */
    if (fd->cause && !fd->cause->suppressed) {
        const char *obj = cause_object(fd->cause, fd);
        fprintf(f, "  cause: %s%s%s (finding %u)\n\n", pw_finding_kind_name(fd->cause->kind),
                obj ? " " : "", obj ? obj : "", fd->cause->id);
    }
    /* abandoned at exit, not stuck earlier: say how the process ended */
    if (fd->abandoned_at_exit && fd->proc->end == PW_END_SIGNAL)
        fprintf(f,
                "  abandoned at exit: still parked when the process was stopped by signal "
                "%d; what could wake it was still alive\n\n",
                fd->proc->end_status);
    else if (fd->abandoned_at_exit)
        fputs("  abandoned at exit: still parked when the process exited; what could wake it "
              "was still alive\n\n",
              f);
    if (fd->proc->end == PW_END_UNKNOWN) {
        print_abrupt(f, "  ", fd->proc);
        fputc('\n', f);
    }
}

/* A process whose trace ends abruptly, with no finding to say it. */
static bool has_finding(const struct pw_report *r, const struct pw_process *p)
{
    for (size_t i = 0; i < r->findings->n; i++)
        if (!r->findings->v[i]->suppressed && r->findings->v[i]->proc == p)
            return true;
    return false;
}

/* "related: finding 1 (deadlock), finding 3 (thread-leak)": the findings that
 * share a thread or an object with FD, suppressed ones left out. */
static void print_related(FILE *f, const struct pw_finding *fd)
{
    size_t k = 0;
    for (size_t i = 0; i < fd->nrelated; i++) {
        const struct pw_finding *g = fd->related[i];
        if (g->suppressed)
            continue;
        fprintf(f, "%s finding %u (%s)", k++ ? "," : "  related:", g->id,
                pw_finding_kind_name(g->kind));
    }
    if (k)
        fputc('\n', f);
}

static int print_finding(const struct pw_report *r, FILE *f, const struct pw_finding *fd)
{
    struct tw w = {.f = f,
                   .r = r,
                   .trace = fd->proc->trace,
                   .kind = fd->kind,
                   .names_only = fd->cause && !fd->cause->suppressed};
    print_headline(f, fd);
    struct member *v = calloc(fd->nthreads ? fd->nthreads : 1, sizeof(*v));
    if (!v)
        return -1;
    for (size_t i = 0; i < fd->nthreads; i++)
        v[i] = (struct member){fd->threads[i].t,      fd->threads[i].role, fd->threads[i].stack,
                               fd->threads[i].stack2, fd->threads[i].lock, fd->threads[i].lock2};
    int rc = print_members(&w, v, fd->nthreads);
    free(v);
    for (size_t i = 0; i < fd->nobjects && !w.names_only; i++) {
        const struct pw_fobject *o = &fd->objects[i];
        const char *sym = pw_report_object_symbol(r, o->o);
        if (!o->stack) {
            if (sym)
                fprintf(f, "\n  %s is %s\n", o->o->id, sym);
            continue;
        }
        fprintf(f, "\n  %s%s%s%s %s:\n", o->o->id, sym ? " (" : "", sym ? sym : "", sym ? ")" : "",
                o->stack_label ? o->stack_label : "created at");
        char as[96];
        snprintf(as, sizeof as, "%s %s", o->o->id, o->stack_label ? o->stack_label : "created at");
        print_stack(&w, o->stack, as);
    }
    for (size_t i = 0; i < fd->nheld && !w.names_only; i++)
        print_held(&w, &fd->held[i]);
    for (size_t i = 0; i < fd->nsends && !w.names_only; i++) {
        const struct pw_fsend *sd = &fd->sends[i];
        char lb[LABEL_LEN];
        if (sd->t)
            fprintf(f, "\n  %s last sent into by %s (tid %d) at:\n", sd->o->id, LABEL(sd->t, lb),
                    sd->t->tid);
        else
            fprintf(f, "\n  %s last sent into at:\n", sd->o->id);
        char as[96];
        snprintf(as, sizeof as, "%s last sent into at", sd->o->id);
        print_stack(&w, sd->stack, as);
    }
    if (fd->chain_text)
        fprintf(f, "\n  chain: %s%s%s\n", sgr(f, SGR_MAGENTA), fd->chain_text, sgr(f, SGR_OFF));
    if (fd->note)
        fprintf(f, "  note: %s\n", fd->note);
    print_related(f, fd);
    char loss[512];
    pw_report_loss(fd->proc, fd->kind, loss, sizeof loss);
    if (loss[0])
        fprintf(f, "  evidence: %s\n", loss);
    fprintf(f, "  hint: %s\n\n", pw_finding_hint(fd->kind));
    return rc;
}

/* ---- live dump of a running process */

static int print_live(const struct pw_report *r, FILE *f, struct pw_process *p)
{
    struct tw w = {.f = f, .r = r, .trace = p->trace, .kind = PW_FK__COUNT};
    fprintf(f, "parkwatch: pid %d is still running; threads parked now:\n\n", p->pid);
    struct member *v = calloc(p->nthreads ? p->nthreads : 1, sizeof(*v));
    if (!v)
        return -1;
    /* parked threads first: they are what the reader is looking for */
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < p->nthreads; i++) {
            struct pw_thread *t = &p->threads[i];
            if ((t->status == PW_THR_PARKED) != (pass == 0))
                continue;
            v[n++] = (struct member){t,
                                     t->status == PW_THR_PARKED ? PW_ROLE_PARKED : PW_ROLE_NONE,
                                     t->status == PW_THR_PARKED ? t->park_stack : 0,
                                     0,
                                     NULL,
                                     NULL};
        }
    int rc = print_members(&w, v, n);
    free(v);
    fputc('\n', f);
    return rc;
}

/* ---- chosen threads of one process (`parkwatch threads`, verify_none) */

int pw_report_text_threads(FILE *f, const struct pw_report *r, struct pw_thread *const *v, size_t n)
{
    if (!n)
        return 0;
    struct tw w = {.f = f, .r = r, .trace = v[0]->proc->trace, .kind = PW_FK__COUNT};
    struct member *m = calloc(n, sizeof(*m));
    if (!m)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bool parked = v[i]->status == PW_THR_PARKED;
        m[i] = (struct member){
            v[i], parked ? PW_ROLE_PARKED : PW_ROLE_NONE, parked ? v[i]->park_stack : 0, 0, NULL,
            NULL};
    }
    int rc = print_members(&w, m, n);
    free(m);
    return rc;
}

/* ---- threads in waits the trace does not follow */

static void print_kstack(struct tw *w, const struct pw_ktask *k)
{
    struct pw_frame *v = NULL;
    size_t n = k->npcs ? pw_frames_pcs(w->r->frames, w->trace, k->pcs, k->npcs, &v) : 0;
    if (!n)
        fprintf(w->f, "      (stack not available%s%s)\n", k->why_no_stack[0] ? ": " : "",
                k->why_no_stack);
    for (size_t i = 0; i < n; i++)
        print_frame(w->f, i, &v[i]);
    free(v);
}

static const char *at_end(const struct pw_process *p)
{
    return p->end == PW_END_EXIT ? "at exit" : "when the process ended";
}

static void print_unfollowed_thread(struct tw *w, const struct pw_thread *t)
{
    const struct pw_process *p = t->proc;
    char buf[256];
    char lb[LABEL_LEN];
    fprintf(w->f, "  %s (tid %d) ", LABEL(t, lb), t->tid);
    if (pw_thread_blocked_in(t, buf, sizeof(buf)))
        fprintf(w->f, "blocked in %s %s:\n", buf, at_end(p));
    else if (t->ktask)
        fprintf(w->f, "%s %s, state unknown:\n", pw_task_state_name(t->ktask->state), at_end(p));
    else
        fprintf(w->f, "state unknown %s: %s\n", at_end(p),
                p->end == PW_END_EXIT ? "what it was doing was not recorded (exit_stacks=0, or "
                                        "the snapshot could not be taken)"
                                      : "the process did not exit normally, so nobody looked");
    if (t->ktask)
        print_kstack(w, t->ktask);
    if (!t->create_stack)
        return;
    if (t->parent)
        fprintf(w->f, "    created by %s (tid %d) at:\n", LABEL(t->parent, lb), t->parent->tid);
    else
        fputs("    created at:\n", w->f);
    char as[96];
    snprintf(as, sizeof as, "%s (tid %d) created at", LABEL(t, lb), t->tid);
    print_stack(w, t->create_stack, as);
}

static void print_unfollowed(const struct pw_report *r, FILE *f, const struct pw_process *p)
{
    struct tw w = {.f = f, .r = r, .trace = p->trace, .kind = PW_FK__COUNT};
    bool one = p->nunfollowed == 1;
    fprintf(f,
            "parkwatch: pid %d ended with %zu thread%s in %s parkwatch does not follow; "
            "no finding can vouch for %s:\n\n",
            p->pid, p->nunfollowed, plural(p->nunfollowed), one ? "a wait" : "waits",
            one ? "it" : "them");
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].unfollowed)
            print_unfollowed_thread(&w, &p->threads[i]);
    char buf[256];
    for (size_t i = 0; i < p->nstray; i++) {
        const struct pw_ktask *k = p->stray[i];
        fprintf(f, "  task %s (tid %d), never seen by the shim, %s", k->name, k->tid,
                pw_task_state_name(k->state));
        if (pw_ktask_blocked_in(k, buf, sizeof(buf)))
            fprintf(f, " in %s", buf);
        fprintf(f, " %s:\n", at_end(p));
        print_kstack(&w, k);
    }
    fputc('\n', f);
}

/* ---- footer */

void pw_report_text_summary(FILE *f, const struct pw_report *r)
{
    struct pw_report_summary s;
    pw_report_summarize(r, &s);
    if (s.errors || s.warnings)
        fprintf(f, "parkwatch: %zu error%s, %zu warning%s (%zu suppressed)", s.errors,
                plural(s.errors), s.warnings, plural(s.warnings), s.suppressed);
    else if (s.suppressed)
        fprintf(f, "parkwatch: no findings (%zu suppressed)", s.suppressed);
    else
        fputs("parkwatch: no findings", f);
    /* never an all-clear when some threads were not followed */
    size_t unknown, unf = pw_report_unfollowed(r, &unknown);
    if (unf && unknown == unf)
        fprintf(f, "%s %zu thread%s in an unknown state (see above)",
                s.errors || s.warnings ? ";" : ", but", unf, plural(unf));
    else if (unf)
        fprintf(f, "%s %zu thread%s blocked in %s (see above)",
                s.errors || s.warnings ? ";" : ", but", unf, plural(unf),
                unf == 1 ? "an unfollowed wait" : "unfollowed waits");
    fprintf(f, " in %zu process%s; %zu thread%s, %llu events, %llu dropped", s.processes,
            s.processes == 1 ? "" : "es", s.threads, plural(s.threads),
            (unsigned long long)s.events, (unsigned long long)s.dropped);
    uint64_t noslot = 0;
    for (size_t i = 0; i < r->model->nprocs; i++)
        noslot += r->model->procs[i].threads_without_slot;
    if (noslot)
        fprintf(f, ", %llu thread%s without a slot", (unsigned long long)noslot,
                plural((size_t)noslot));
    if (r->trace_dir)
        fprintf(f, "; traces in %s", r->trace_dir);
    else if (r->traces_removed)
        fputs("; traces removed (--keep-traces keeps them)", f);
    fputc('\n', f);
}

static void print_footer(FILE *f, const struct pw_report *r)
{
    pw_report_text_summary(f, r);
    uint64_t noslot = 0, nochan = 0;
    size_t stopped = 0;
    for (size_t i = 0; i < r->model->nprocs; i++) {
        noslot += r->model->procs[i].threads_without_slot;
        nochan += r->model->procs[i].dropped_chans;
        stopped += r->model->procs[i].not_recording;
    }
    for (size_t i = 0; i < r->model->nprocs; i++) {
        char loss[512];
        pw_report_process_loss(&r->model->procs[i], loss, sizeof loss);
        if (loss[0])
            fprintf(f, "parkwatch: %s\n", loss);
    }
    /* Unknown is a state: say what the traces did not see, so that no finding
     * (or its absence) reads as more certain than it is. */
    if (noslot)
        fprintf(f,
                "parkwatch: not seen: %llu thread%s got no thread slot (max_threads): what "
                "they did, and whom they could wake, is unknown\n",
                (unsigned long long)noslot, plural((size_t)noslot));
    if (nochan)
        fprintf(f, "parkwatch: not seen: %llu channel%s got no record (max_chans)\n",
                (unsigned long long)nochan, plural((size_t)nochan));
    if (stopped)
        fprintf(f, "parkwatch: not seen: %zu process%s stopped recording before its end\n", stopped,
                stopped == 1 ? "" : "es");
}

int pw_report_text(FILE *f, const struct pw_report *r)
{
    for (size_t i = 0; i < r->findings->n; i++) {
        const struct pw_finding *fd = r->findings->v[i];
        if (!fd->suppressed && print_finding(r, f, fd) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->model->nprocs; i++) {
        struct pw_process *p = &r->model->procs[i];
        if (p->end == PW_END_RUNNING && print_live(r, f, p) < 0)
            return -1;
        if (p->end == PW_END_UNKNOWN && !has_finding(r, p)) {
            fprintf(f, "parkwatch: pid %d: ", p->pid);
            print_abrupt(f, "", p);
        }
        if (p->end != PW_END_RUNNING && p->nunfollowed)
            print_unfollowed(r, f, p);
    }
    print_footer(f, r);
    return 0;
}
