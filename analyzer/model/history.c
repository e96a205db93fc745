/* The history of a process from its rings: parks paired into spans, channel
 * acts and thread lives as points (history.h).  Reads the merged ring events
 * through the reader like model.c, and names objects through the model. */
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "model.h"
#include "parkwatch/ops.h"
#include "reader.h"

const char *pw_hist_kind_name(enum pw_hist_kind k)
{
    static const char *const names[] = {
#define PW_X(e, s) s,
        PW_HIST_KINDS(PW_X)
#undef PW_X
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static struct pw_hist *push(struct pw_history *h, size_t *cap)
{
    if (h->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct pw_hist *nv = realloc(h->v, nc * sizeof(*nv));
        if (!nv)
            return NULL;
        h->v = nv;
        *cap = nc;
    }
    struct pw_hist *e = &h->v[h->n];
    memset(e, 0, sizeof(*e));
    e->order = h->n++;
    return e;
}

/* The object a PARK or UNPARK names, by its op's object type. */
static struct pw_object *park_object(struct pw_process *p, const struct pw_event *e)
{
    if (e->op >= PW_OP__COUNT || e->op == PW_OP_NONE)
        return NULL;
    return pw_model_object(p, pw_op_obj_type(e->op), e->obj);
}

static int cmp_hist(const void *a, const void *b)
{
    const struct pw_hist *x = a, *y = b;
    if (x->begin_ns != y->begin_ns)
        return x->begin_ns < y->begin_ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A park of the ring: closes T's open park (OPEN_AT[k], position + 1) at
 * NOW, for an UNPARK or a new park that shows the last one ended unseen. */
static void close_park(struct pw_history *h, size_t *open_at, size_t k, const struct pw_event *e)
{
    if (!open_at[k])
        return;
    struct pw_hist *s = &h->v[open_at[k] - 1];
    s->end_ns = e->time_ns;
    if (e->kind == PW_EV_UNPARK) {
        s->result = e->result;
        s->err = e->err;
    }
    open_at[k] = 0;
}

static int add_event(struct pw_process *p, struct pw_history *h, size_t *cap, size_t *open_at,
                     const struct pw_event *e)
{
    struct pw_thread *t = pw_model_thread(p, e->thread);
    if (!t)
        return 0; /* a thread the trace lost: nothing to draw it on */
    size_t k = (size_t)(t - p->threads);
    struct pw_hist *x;
    switch (e->kind) {
    case PW_EV_PARK:
        close_park(h, open_at, k, e);
        if (!(x = push(h, cap)))
            return -1;
        x->kind = PW_HIST_PARK;
        x->t = t;
        x->o = park_object(p, e);
        x->op = e->op;
        x->begin_ns = x->end_ns = e->time_ns;
        x->timed = (e->arg & PW_PARK_TIMED) != 0;
        x->stack = e->stack;
        x->open = true;
        open_at[k] = h->n;
        if (!x->o && e->op != PW_OP_NONE && e->op < PW_OP__COUNT)
            return -1; /* the model could not store the object */
        return 0;
    case PW_EV_UNPARK:
        if (open_at[k])
            h->v[open_at[k] - 1].open = false;
        close_park(h, open_at, k, e);
        return 0;
    case PW_EV_CHAN_SEND:
    case PW_EV_CHAN_RECV:
    case PW_EV_CHAN_CLOSE:
        if (!(x = push(h, cap)))
            return -1;
        x->kind = e->kind == PW_EV_CHAN_SEND   ? PW_HIST_SEND
                  : e->kind == PW_EV_CHAN_RECV ? PW_HIST_RECV
                                               : PW_HIST_CLOSE;
        x->t = t;
        if (!(x->o = pw_model_object(p, PW_OBJ_PIPE, e->obj)))
            return -1;
        x->begin_ns = x->end_ns = e->time_ns;
        x->result = e->result;
        x->err = e->err;
        x->bytes = e->arg;
        x->side = e->op;
        x->stack = e->stack;
        return 0;
    case PW_EV_THREAD_START:
    case PW_EV_THREAD_EXIT:
        if (!(x = push(h, cap)))
            return -1;
        x->kind = e->kind == PW_EV_THREAD_START ? PW_HIST_START : PW_HIST_EXIT;
        x->t = t;
        x->begin_ns = x->end_ns = e->time_ns;
        x->stack = e->stack;
        return 0;
    default:
        return 0;
    }
}

int pw_model_history(struct pw_process *p, struct pw_history *h)
{
    memset(h, 0, sizeof(*h));
    size_t nev = 0, cap = 0;
    const struct pw_event *ev = pw_trace_events(p->trace, &nev);
    size_t *open_at = calloc(p->nthreads ? p->nthreads : 1, sizeof(*open_at));
    if (!open_at)
        return -1;
    for (size_t i = 0; i < p->nthreads; i++) {
        uint64_t dropped = 0, n;
        pw_trace_thread_events(p->trace, i, &n, &dropped);
        h->lost += dropped;
    }
    int rc = 0;
    for (size_t i = 0; i < nev && rc == 0; i++)
        rc = add_event(p, h, &cap, open_at, &ev[i]);
    uint64_t end_ns = p->end_ms * 1000000u;
    for (size_t k = 0; k < p->nthreads && rc == 0; k++) {
        struct pw_thread *t = &p->threads[k];
        bool parked = t->status == PW_THR_PARKED;
        if (open_at[k]) {
            struct pw_hist *s = &h->v[open_at[k] - 1];
            /* still parked at the end: the span runs to the end of the trace;
             * a park whose unpark the ring lost ends where its thread's
             * events do (unknown: left open, zero length) */
            if (parked && s->o == t->waits_on)
                s->end_ns = end_ns > s->begin_ns ? end_ns : s->begin_ns;
            else
                s->open = false;
        } else if (parked && t->waits_on) {
            /* the ring lost the PARK event: the thread record still says since when */
            struct pw_hist *s = push(h, &cap);
            if (!s) {
                rc = -1;
                break;
            }
            s->kind = PW_HIST_PARK;
            s->t = t;
            s->o = t->waits_on;
            s->op = t->op;
            s->begin_ns = t->park_since_ns;
            s->end_ns = end_ns > s->begin_ns ? end_ns : s->begin_ns;
            s->timed = (t->park_flags & PW_PARK_TIMED) != 0;
            s->stack = t->park_stack;
            s->open = true;
        }
    }
    free(open_at);
    if (rc < 0) {
        pw_history_free(h);
        return -1;
    }
    if (h->n)
        qsort(h->v, h->n, sizeof(*h->v), cmp_hist);
    return 0;
}

void pw_history_free(struct pw_history *h)
{
    free(h->v);
    memset(h, 0, sizeof(*h));
}
