/* Model tests on synthetic traces: what the model carries from the trace so
 * that nothing below it reads the trace (park flags, misuse, lock edges) and
 * the generations of lock addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "model.h"
#include "reader.h"
#include "synth.h"

#include "../check.h"

#define X 0x1000u /* a mutex destroyed and re-initialised in the middle */
#define Y 0x2000u

/* Two threads take X and Y in both orders; when REBORN, X is destroyed and
 * initialised again between the two edges (the notes hold both marks, the
 * destroy also in a ring: one mark). */
static int build(struct synth *s, int reborn)
{
    struct synth_cfg cfg = {.max_notes = 16};
    if (synth_init(s, &cfg) < 0)
        return -1;
    s->h->end_kind = PW_END_EXIT; /* finished: no liveness probe */
    s->h->end_ns = 100;
    struct pw_thread_rec *t1 = synth_thread(s, 1, "main", PW_TS_ALIVE);
    struct pw_thread_rec *t2 = synth_thread(s, 2, "worker", PW_TS_ALIVE);
    if (!t1 || !t2)
        return -1;
    t1->flags = PW_TF_MAIN;
    t2->park_op = PW_OP_MUTEX_LOCK;
    t2->park_obj = Y;
    t2->park_flags = PW_PARK_TIMED;
    synth_chan(s, 3, PW_OBJ_PIPE, 5, 6);
    synth_note(s, (struct pw_event){.time_ns = 10,
                                    .kind = PW_EV_LOCK_INIT,
                                    .thread = 1,
                                    .op = PW_OBJ_MUTEX,
                                    .obj = X});
    synth_note(s, (struct pw_event){.time_ns = 20,
                                    .kind = PW_EV_LOCK_EDGE,
                                    .thread = 1,
                                    .op = PW_OBJ_MUTEX,
                                    .arg = (uint64_t)PW_OBJ_MUTEX << PW_EDGE_TYPE_SHIFT,
                                    .obj = X,
                                    .obj2 = Y});
    if (reborn) {
        struct pw_event d = {.time_ns = 30,
                             .kind = PW_EV_LOCK_DESTROY,
                             .thread = 1,
                             .op = PW_OBJ_MUTEX,
                             .obj = X};
        synth_note(s, d);
        synth_event(s, t1, d);
        synth_note(s, (struct pw_event){.time_ns = 40,
                                        .kind = PW_EV_LOCK_INIT,
                                        .thread = 1,
                                        .op = PW_OBJ_MUTEX,
                                        .obj = X});
    }
    synth_note(
        s, (struct pw_event){.time_ns = 50,
                             .kind = PW_EV_LOCK_EDGE,
                             .thread = 2,
                             .op = PW_OBJ_MUTEX,
                             .obj = Y,
                             .obj2 = X,
                             .arg = PW_EDGE_B_READ | (uint64_t)PW_OBJ_MUTEX << PW_EDGE_TYPE_SHIFT});
    synth_note(s, (struct pw_event){.time_ns = 60,
                                    .kind = PW_EV_MISUSE,
                                    .thread = 1,
                                    .op = PW_MISUSE_DOUBLE_CLOSE,
                                    .obj = 3,
                                    .obj2 = 7,
                                    .arg = 2,
                                    .err = 9});
    return 0;
}

static size_t count_kind(const struct pw_findings *fs, enum pw_finding_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < fs->n; i++)
        n += fs->v[i]->kind == k;
    return n;
}

static void test_model(int reborn)
{
    struct synth s;
    struct pw_trace *t = NULL;
    char err[256];
    CHECK(build(&s, reborn) == 0);
    CHECK(pw_trace_open_mem(s.buf, s.len, "m.trace", &t, err, sizeof(err)) == PW_READ_OK);
    struct pw_model *m = t ? pw_model_build(&t, 1) : NULL;
    CHECK(m != NULL && m->nprocs == 1);
    if (!m)
        goto out;
    struct pw_process *p = &m->procs[0];

    /* park flags and the object parked on */
    struct pw_thread *w = pw_model_thread(p, 2);
    CHECK(w && w->status == PW_THR_PARKED && (w->park_flags & PW_PARK_TIMED) && !w->forever);
    CHECK(w && w->waits_on->key == Y && w->waits_on->gen == 0);

    /* generations: every init or destroy before the time counts, once */
    CHECK(pw_model_generation(p, X, 5) == 0);
    CHECK(pw_model_generation(p, X, 25) == 1);
    CHECK(pw_model_generation(p, X, 45) == (reborn ? 3u : 1u));
    CHECK(pw_model_generation(p, Y, 45) == 0);
    struct pw_object *x = pw_model_object(p, PW_OBJ_MUTEX, X);
    CHECK(x && x->gen == (reborn ? 3u : 1u) && strcmp(x->id, "mutex#2") == 0);

    /* lock edges, with the generations of their locks */
    CHECK(p->nlock_edges == 2);
    if (p->nlock_edges == 2) {
        const struct pw_lock_edge *e0 = &p->lock_edges[0], *e1 = &p->lock_edges[1];
        CHECK(e0->serial == 1 && e0->a == X && e0->b == Y && e0->gen_a == 1 && e0->gen_b == 0);
        CHECK(e1->serial == 2 && e1->a == Y && e1->b == X && e1->gen_b == (reborn ? 3u : 1u));
        CHECK(!e1->a_read && e1->b_read && e1->type_b == PW_OBJ_MUTEX && e1->gate == 0);
    }

    /* misuse */
    CHECK(p->nmisuses == 1);
    if (p->nmisuses == 1) {
        const struct pw_misuse *u = &p->misuses[0];
        CHECK(u->kind == PW_MISUSE_DOUBLE_CLOSE && u->t->serial == 1 && u->o->key == 3);
        CHECK(u->fd == 7 && u->other == w && u->err == 9);
    }

    /* the lock-order detector sees two lives of X: no cycle when X was reborn */
    struct pw_findings fs = {0};
    CHECK(pw_detect_all(m, &fs) == 0);
    CHECK(count_kind(&fs, PW_FK_LOCK_ORDER) == (reborn ? 0u : 1u));
    CHECK(count_kind(&fs, PW_FK_DOUBLE_CLOSE) == 1);
    pw_findings_free(&fs);
out:
    pw_model_free(m);
    pw_trace_close(t);
    synth_free(&s);
}

int main(void)
{
    test_model(0);
    test_model(1);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
