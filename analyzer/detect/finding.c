/* Finding model helpers: constructors and the kind table. */
#include "finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const struct {
    const char *name;
    enum pw_severity sev;
    const char *desc;
    const char *hint;
} kinds[] = {
#define PW_X(e, s, sev, d, h) {s, sev, d, h},
    PW_FINDING_KINDS(PW_X)
#undef PW_X
};

const char *pw_finding_kind_name(enum pw_finding_kind k)
{
    return k < PW_FK__COUNT ? kinds[k].name : "?";
}

enum pw_severity pw_finding_severity(enum pw_finding_kind k)
{
    return k < PW_FK__COUNT ? kinds[k].sev : PW_SEV_ERROR;
}

const char *pw_finding_description(enum pw_finding_kind k)
{
    return k < PW_FK__COUNT ? kinds[k].desc : "";
}

const char *pw_finding_hint(enum pw_finding_kind k)
{
    return k < PW_FK__COUNT ? kinds[k].hint : "";
}

int pw_finding_kind_parse(const char *name)
{
    for (int k = 0; k < PW_FK__COUNT; k++)
        if (strcmp(kinds[k].name, name) == 0)
            return k;
    return -1;
}

/* Out-of-memory (diag.h's policy): a constructor that cannot store something
 * returns NULL / -1 and marks the list or the finding; pw_detect_all then
 * fails, and no report is written: a half-built report would lie. */
static void *grow(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

struct pw_finding *pw_finding_new(struct pw_findings *fs, enum pw_finding_kind kind,
                                  struct pw_process *p)
{
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 16;
        struct pw_finding **nv = grow(fs->v, cap * sizeof(*fs->v));
        if (!nv) {
            fs->oom = true;
            return NULL;
        }
        fs->v = nv;
        fs->cap = cap;
    }
    struct pw_finding *f = calloc(1, sizeof(*f));
    if (!f) {
        fs->oom = true;
        return NULL;
    }
    f->kind = kind;
    f->severity = pw_finding_severity(kind);
    f->proc = p;
    f->count = 1;
    fs->v[fs->n++] = f;
    return f;
}

int pw_finding_add_thread(struct pw_finding *f, struct pw_thread *t, enum pw_role role,
                          uint32_t stack, uint32_t stack2)
{
    struct pw_fthread *nv = grow(f->threads, (f->nthreads + 1) * sizeof(*f->threads));
    if (!nv) {
        f->oom = true;
        return -1;
    }
    f->threads = nv;
    f->threads[f->nthreads++] = (struct pw_fthread){t, role, stack, stack2, NULL, NULL};
    return 0;
}

int pw_finding_add_object(struct pw_finding *f, struct pw_object *o, uint32_t stack,
                          const char *label)
{
    for (size_t i = 0; i < f->nobjects; i++)
        if (f->objects[i].o == o)
            return 0;
    struct pw_fobject *nv = grow(f->objects, (f->nobjects + 1) * sizeof(*f->objects));
    if (!nv) {
        f->oom = true;
        return -1;
    }
    f->objects = nv;
    f->objects[f->nobjects++] = (struct pw_fobject){o, stack, label};
    return 0;
}

int pw_finding_add_held(struct pw_finding *f, struct pw_object *o, struct pw_thread *t,
                        uint32_t stack)
{
    for (size_t i = 0; i < f->nheld; i++) {
        if (f->held[i].o == o && f->held[i].t == t) {
            if (!f->held[i].stack)
                f->held[i].stack = stack;
            return 0;
        }
    }
    struct pw_fheld *nv = grow(f->held, (f->nheld + 1) * sizeof(*f->held));
    if (!nv) {
        f->oom = true;
        return -1;
    }
    f->held = nv;
    f->held[f->nheld++] = (struct pw_fheld){o, t, stack};
    return 0;
}

int pw_finding_add_holder(struct pw_finding *f, struct pw_object *o, struct pw_thread *t)
{
    for (size_t h = 0; h < t->nheld; h++)
        if (t->held[h] == o)
            return pw_finding_add_held(f, o, t, t->held_site ? t->held_site[h] : 0);
    return 0;
}

int pw_finding_add_last_send(struct pw_finding *f, struct pw_object *o)
{
    if (!o->chan || !o->chan->last_send_stack)
        return 0;
    for (size_t i = 0; i < f->nsends; i++)
        if (f->sends[i].o == o)
            return 0;
    struct pw_fsend *nv = grow(f->sends, (f->nsends + 1) * sizeof(*f->sends));
    if (!nv) {
        f->oom = true;
        return -1;
    }
    f->sends = nv;
    f->sends[f->nsends++] = (struct pw_fsend){
        o, pw_model_thread(o->proc, o->chan->last_send_thread), o->chan->last_send_stack};
    return 0;
}

void pw_finding_set_message(struct pw_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(f->message);
    if (vasprintf(&f->message, fmt, ap) < 0) {
        f->message = NULL;
        f->oom = true;
    }
    va_end(ap);
}

void pw_finding_set_note(struct pw_finding *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(f->note);
    if (vasprintf(&f->note, fmt, ap) < 0) {
        f->note = NULL;
        f->oom = true;
    }
    va_end(ap);
}

static int relate_one(struct pw_finding *a, struct pw_finding *b)
{
    for (size_t i = 0; i < a->nrelated; i++)
        if (a->related[i] == b)
            return 0;
    struct pw_finding **nv = grow(a->related, (a->nrelated + 1) * sizeof(*a->related));
    if (!nv) {
        a->oom = true;
        return -1;
    }
    a->related = nv;
    a->related[a->nrelated++] = b;
    return 0;
}

int pw_finding_relate(struct pw_finding *a, struct pw_finding *b)
{
    if (a == b)
        return 0;
    return relate_one(a, b) < 0 || relate_one(b, a) < 0 ? -1 : 0;
}

void pw_findings_number(struct pw_findings *fs)
{
    unsigned id = 0;
    for (size_t i = 0; i < fs->n; i++)
        fs->v[i]->id = fs->v[i]->suppressed ? 0 : ++id;
}

struct pw_link *pw_finding_add_link(struct pw_finding *f)
{
    struct pw_link *nv = grow(f->chain, (f->nchain + 1) * sizeof(*f->chain));
    if (!nv) {
        f->oom = true;
        return NULL;
    }
    f->chain = nv;
    struct pw_link *l = &f->chain[f->nchain++];
    memset(l, 0, sizeof(*l));
    return l;
}

int pw_link_add_blocker(struct pw_finding *f, struct pw_link *l, struct pw_thread *t)
{
    for (size_t i = 0; i < l->nblocked_by; i++)
        if (l->blocked_by[i] == t)
            return 0;
    struct pw_thread **nv = grow(l->blocked_by, (l->nblocked_by + 1) * sizeof(*l->blocked_by));
    if (!nv) {
        f->oom = true;
        return -1;
    }
    l->blocked_by = nv;
    l->blocked_by[l->nblocked_by++] = t;
    return 0;
}

int pw_findings_status(const struct pw_findings *fs)
{
    if (fs->oom)
        return -1;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i]->oom)
            return -1;
    return 0;
}

static void finding_free(struct pw_finding *f)
{
    for (size_t i = 0; i < f->nchain; i++) {
        free(f->chain[i].blocked_by);
        free(f->chain[i].text);
    }
    free(f->chain);
    free(f->chain_text);
    free(f->reason);
    free(f->threads);
    free(f->objects);
    free(f->held);
    free(f->sends);
    free(f->message);
    free(f->note);
    free(f->related);
    free(f);
}

void pw_findings_pop(struct pw_findings *fs)
{
    if (fs->n)
        finding_free(fs->v[--fs->n]);
}

void pw_findings_free(struct pw_findings *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        finding_free(fs->v[i]);
    free(fs->v);
    fs->v = NULL;
    fs->n = fs->cap = 0;
    fs->oom = false;
}
