/* What the report writers share: the summary counts of the JSON and SARIF
 * reports and the symbol names of objects.  Wording that two writers print
 * lives here once, so that the formats cannot drift apart. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "frames.h"
#include "jsonutil.h"
#include "model.h"
#include "report.h"

enum {
#define PW_X(field, jkey, jpos, skey, spos) PW_SUM_##field,
    PW_SUMMARY_COUNTS(PW_X)
#undef PW_X
        PW_SUM__COUNT
};

static const struct {
    const char *key[2]; /* by enum pw_summary_style */
    unsigned place[2];
} summary_keys[PW_SUM__COUNT] = {
#define PW_X(field, jkey, jpos, skey, spos) {{jkey, skey}, {jpos, spos}},
    PW_SUMMARY_COUNTS(PW_X)
#undef PW_X
};

json_t *pw_report_summary_json(const struct pw_report *r, enum pw_summary_style style)
{
    struct pw_report_summary s;
    pw_report_summarize(r, &s);
    const json_int_t value[PW_SUM__COUNT] = {
#define PW_X(field, jkey, jpos, skey, spos) (json_int_t) s.field,
        PW_SUMMARY_COUNTS(PW_X)
#undef PW_X
    };
    json_t *o = json_object();
    for (unsigned place = 0; place < PW_SUM__COUNT; place++)
        for (unsigned i = 0; i < PW_SUM__COUNT; i++)
            if (summary_keys[i].place[style] == place)
                pw_json_set(o, summary_keys[i].key[style], json_integer(value[i]));
    return o;
}

/* What the trace's losses mean for a finding of kind K in P: lock-order
 * findings depend on the edges, the others on who could wake what (the first
 * acts and the other notes).  "" when nothing that matters was lost. */
void pw_report_loss(const struct pw_process *p, enum pw_finding_kind k, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t n = 0;
    if (k == PW_FK_LOCK_ORDER) {
        if (p->lost.folded)
            n += (size_t)snprintf(buf + n, cap - n,
                                  "%llu lock-order edge%s folded into lock classes (%u instance "
                                  "edges kept per class pair and thread): an inversion "
                                  "between two classes is reported per class pair with the "
                                  "kept instances as evidence; one only among folded instances "
                                  "of a single class is not",
                                  (unsigned long long)p->lost.folded,
                                  p->lost.folded == 1 ? "" : "s", p->lost.per_class);
        if (p->lost.edges && n < cap)
            n += (size_t)snprintf(buf + n, cap - n,
                                  "%s%llu lock-order edge%s not recorded (the edge set or the "
                                  "notes log's edge share was full): an inversion among them is "
                                  "not reported",
                                  n ? "; " : "", (unsigned long long)p->lost.edges,
                                  p->lost.edges == 1 ? "" : "s");
        return;
    }
    if (k == PW_FK_DEADLOCK || k == PW_FK_SEND_ON_CLOSED || k == PW_FK_DOUBLE_CLOSE ||
        k == PW_FK_CLOSE_WHILE_BLOCKED || k == PW_FK_UNJOINED)
        return; /* the end state alone, or the misuse note itself */
    if (p->lost.notes || p->lost.acts)
        snprintf(buf, cap,
                 "%llu note%s lost (the notes log was full) and %llu first act%s not noted: the "
                 "signallers, posters, senders and receivers named here may be incomplete",
                 (unsigned long long)p->lost.notes, p->lost.notes == 1 ? "" : "s",
                 (unsigned long long)p->lost.acts, p->lost.acts == 1 ? "" : "s");
}

/* One line about P's losses, for the report's end: "" when nothing was lost. */
void pw_report_process_loss(const struct pw_process *p, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!p->lost.folded && !p->lost.edges && !p->lost.notes && !p->lost.acts)
        return;
    snprintf(buf, cap,
             "pid %d: %llu lock-order edge%s folded into lock classes, %llu not recorded; %llu "
             "note%s lost; %llu first act%s not noted",
             p->pid, (unsigned long long)p->lost.folded, p->lost.folded == 1 ? "" : "s",
             (unsigned long long)p->lost.edges, (unsigned long long)p->lost.notes,
             p->lost.notes == 1 ? "" : "s", (unsigned long long)p->lost.acts,
             p->lost.acts == 1 ? "" : "s");
}

const char *pw_report_object_symbol(const struct pw_report *r, const struct pw_object *o)
{
    switch (o->type) {
    case PW_OBJ_MUTEX:
    case PW_OBJ_RWLOCK:
    case PW_OBJ_SPIN:
    case PW_OBJ_COND:
    case PW_OBJ_SEM:
    case PW_OBJ_BARRIER:
    case PW_OBJ_FUTEX:
        return r->frames ? pw_frames_data_name(r->frames, o->proc->trace, o->key) : NULL;
    default:
        return NULL;
    }
}

size_t pw_report_unfollowed(const struct pw_report *r, size_t *unknown)
{
    size_t n = 0, u = 0;
    for (size_t i = 0; i < r->model->nprocs; i++) {
        const struct pw_process *p = &r->model->procs[i];
        n += p->nunfollowed;
        for (size_t j = 0; j < p->nthreads; j++)
            u += p->threads[j].unfollowed && pw_thread_view(&p->threads[j]) == PW_TSTATE_UNKNOWN;
    }
    *unknown = u;
    return n;
}

bool pw_report_site(const struct pw_report *r, const struct pw_process *p, uint32_t stack,
                    char *buf, size_t cap)
{
    const struct pw_frame *v;
    size_t n = r->frames && stack ? pw_frames_get(r->frames, p->trace, stack, &v) : 0;
    if (!n)
        return false;
    /* the innermost frame (an inlined one included) names the call site */
    const struct pw_frame *fr = &v[0];
    const char *mod = fr->module ? strrchr(fr->module, '/') : NULL;
    mod = mod ? mod + 1 : fr->module;
    if (fr->function && fr->file && fr->line)
        snprintf(buf, cap, "%s (%s:%d)", fr->function, fr->file, fr->line);
    else if (fr->function)
        snprintf(buf, cap, "%s", fr->function);
    else if (mod)
        snprintf(buf, cap, "%s+0x%llx", mod, (unsigned long long)fr->module_offset);
    else
        return false;
    return true;
}

void pw_report_site_headlines(struct pw_report *r)
{
    for (size_t i = 0; i < r->findings->n; i++) {
        struct pw_finding *f = r->findings->v[i];
        if (f->kind != PW_FK_LOCK_HELD_BY_EXITED || !f->nheld)
            continue;
        char site[512];
        bool known = pw_report_site(r, f->proc, f->held[0].stack, site, sizeof site);
        pw_held_exit_message(f, pw_report_object_symbol(r, f->held[0].o), known ? site : NULL);
    }
}
