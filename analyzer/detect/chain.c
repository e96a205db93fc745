/* Blocked chains: for a parked thread, follow who could wake it, link by link,
 * until the root cause.
 *
 *   mutex / rwlock / spin  -> the threads holding it
 *   join                   -> the joined thread
 *   channel read           -> the threads that send on it, else the holder of the
 *                             send side (its creator)
 *   channel write (full)   -> the threads that receive from it
 *   cond                   -> the threads that ever signalled it; once woken
 *                             under its mutex, the mutex's holders
 *   cond destroy           -> the threads still waiting on the cond
 *   sem                    -> the threads that ever posted it
 *   barrier                -> how many participants arrived, of how many
 *   futex wait             -> the threads that ever woke that word
 *   futex PI lock          -> the owner named by the word's TID bits
 *
 * The walk stops at a thread that is not parked (running or exited), at an
 * object nobody can act on, or when it meets a thread already in the chain (a
 * cycle; reported as a deadlock by the wait-for detector, never looped here). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "model.h"
#include "parkwatch/ops.h"
#include "reader.h" /* the names of trace.h's lists */

#define MAX_LINKS 64

/* A growing line of text. */
struct text {
    char *s;
    size_t len;
    bool oom; /* a piece could not be added: the text is incomplete */
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    char *piece = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&piece, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->oom = true;
        return;
    }
    char *ns = realloc(t->s, t->len + (size_t)n + 1);
    if (!ns) {
        t->oom = true;
        free(piece);
        return;
    }
    memcpy(ns + t->len, piece, (size_t)n + 1);
    t->s = ns;
    t->len += (size_t)n;
    free(piece);
}

static const char *op_name(int op)
{
    return pw_park_op_name((unsigned)op);
}

/* What the next step of the chain is. */
struct step {
    const char *relation;   /* "held by", "written by", ... */
    struct pw_thread *next; /* the thread to follow, NULL at a root */
    struct pw_thread *blockers[8];
    size_t nblockers;
    char relbuf[64];  /* storage for a relation that names an object */
    char root[256];   /* the root text when next is NULL */
    char reason[160]; /* headline phrase for the root */
};

static void add_blocker(struct step *s, struct pw_thread *t)
{
    if (s->nblockers < sizeof(s->blockers) / sizeof(s->blockers[0]))
        s->blockers[s->nblockers++] = t;
}

/* "which exited", "which is still running", ... for a thread that ends a chain. */
static const char *fate(const struct pw_thread *t)
{
    if (t->status == PW_THR_EXITED)
        return "which exited";
    /* a main thread that returned or called exit ended the process itself */
    if (t->proc->finished && t->is_main && t->proc->end == PW_END_EXIT)
        return "which ended the process";
    /* what the kernel said at the end; a thread nobody looked at is not
     * called "running" */
    static char buf[200];
    char call[160];
    bool end = t->proc->finished;
    if (pw_thread_blocked_in(t, call, sizeof(call))) {
        snprintf(buf, sizeof(buf), "which %s blocked in %s%s", end ? "was" : "is", call,
                 end ? " at exit" : "");
        return buf;
    }
    if (pw_thread_view(t) == PW_TSTATE_RUNNING)
        return end ? "which was still running at exit" : "which is still running";
    return end ? "which was alive at exit in an unknown state"
               : "which is alive in an unknown state";
}

/* Follow the first parked candidate, else end at the first one. */
static void pick(struct step *s, struct pw_thread **cand, size_t n, const char *what,
                 const char *verb)
{
    for (size_t i = 0; i < n; i++)
        add_blocker(s, cand[i]);
    for (size_t i = 0; i < n; i++) {
        if (cand[i]->status == PW_THR_PARKED) {
            s->next = cand[i];
            return;
        }
    }
    if (n) {
        snprintf(s->root, sizeof(s->root), "%s %s, %s", what, cand[0]->name, fate(cand[0]));
        snprintf(s->reason, sizeof(s->reason), "%s %s, %s", verb, cand[0]->name, fate(cand[0]));
    }
}

/* Does T hold O for reading (an rwlock's read side)? */
static bool holds_for_read(const struct pw_thread *t, const struct pw_object *o)
{
    for (size_t h = 0; h < t->nheld; h++)
        if (t->held[h] == o)
            return t->held_read[h];
    return false;
}

/* An rwlock: a writer waits for every holder (readers or the writer); a reader
 * waits for the writer, and when no writer holds it, for the writers queued on
 * it (a writer-preferring lock lets no new reader in while one waits). */
static size_t rwlock_blockers(struct pw_thread *t, struct pw_thread **h, size_t n,
                              const char **relation)
{
    if (!t->waits_read) {
        *relation = n && holds_for_read(h[0], t->waits_on) ? "held for reading by"
                                                           : "held for writing by";
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!holds_for_read(h[i], t->waits_on))
            h[k++] = h[i];
    *relation = "held for writing by";
    if (k)
        return k;
    struct pw_process *p = t->proc;
    for (size_t i = 0; i < p->nthreads && k < 8; i++) {
        struct pw_thread *u = &p->threads[i];
        if (u != t && u->status == PW_THR_PARKED && !u->waits_read &&
            u->waits_on == t->waits_on) /* a writer queued on the same rwlock */
            h[k++] = u;
    }
    *relation = "behind the queued writer";
    return k;
}

/* T waits to take LOCK (its park object, or the mutex a woken cond wait
 * re-takes): follow the holders. */
static void step_lock_on(struct pw_thread *t, struct pw_object *lock, struct step *s)
{
    struct pw_thread *h[8];
    size_t n = pw_model_holders(t->proc, lock, h, 8);
    if (n > 8)
        n = 8;
    s->relation = "held by";
    if (lock->type == PW_OBJ_RWLOCK)
        n = rwlock_blockers(t, h, n, &s->relation);
    if (!n) {
        snprintf(s->root, sizeof(s->root),
                 "held by no thread the trace knows (taken before tracing or by an exited "
                 "thread that was forgotten)");
        snprintf(s->reason, sizeof(s->reason), "which no known thread holds");
        return;
    }
    pick(s, h, n, s->relation, s->relation);
    if (!s->next && h[0]->status == PW_THR_EXITED) {
        snprintf(s->root, sizeof(s->root), "%s %s, which exited without unlocking it", s->relation,
                 h[0]->name);
        snprintf(s->reason, sizeof(s->reason), "%s %s, which exited without unlocking it",
                 s->relation, h[0]->name);
    }
}

static void step_lock(struct pw_thread *t, struct step *s)
{
    step_lock_on(t, t->waits_on, s);
}

/* A cond waiter woken under its mutex and still parked: it re-takes the mutex. */
static void step_reacquire(struct pw_thread *t, struct step *s)
{
    step_lock_on(t, t->reacquires, s);
    snprintf(s->relbuf, sizeof(s->relbuf), "woken, re-takes %s held by", t->reacquires->id);
    s->relation = s->relbuf;
    if (!s->next && s->nblockers)
        snprintf(s->root, sizeof(s->root), "woken, re-takes %s held by %s, %s", t->reacquires->id,
                 s->blockers[0]->name, fate(s->blockers[0]));
}

/* A cond destroy waits for the threads still inside a wait on the cond. */
static void step_destroy(struct pw_thread *t, struct step *s)
{
    struct pw_thread *c[8];
    size_t n = 0;
    for (size_t i = 0; i < t->proc->nthreads && n < 8; i++) {
        struct pw_thread *u = &t->proc->threads[i];
        if (u != t && u->status == PW_THR_PARKED && u->waits_on == t->waits_on &&
            u->op != PW_OP_COND_DESTROY)
            c[n++] = u;
    }
    s->relation = "waits for its waiter";
    if (n) {
        pick(s, c, n, "waits for its waiter", "waits for its waiter");
        return;
    }
    snprintf(s->root, sizeof(s->root), "a waiter of %s the trace does not show", t->waits_on->id);
    snprintf(s->reason, sizeof(s->reason), "whose waiters never leave");
}

static void step_join(struct pw_thread *t, struct step *s)
{
    struct pw_thread *target = t->waits_on->thread;
    s->relation = "waits for";
    if (!target) {
        snprintf(s->root, sizeof(s->root), "a thread the trace does not know");
        snprintf(s->reason, sizeof(s->reason), "which the trace does not know");
        return;
    }
    pick(s, &target, 1, "waits for", "which is");
    if (!s->next && target->status != PW_THR_EXITED)
        snprintf(s->reason, sizeof(s->reason), "which never ended");
}

static size_t live(struct pw_thread **v, size_t n, struct pw_thread *self, struct pw_thread **out,
                   size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (v[i] != self && v[i]->status != PW_THR_EXITED)
            out[k++] = v[i];
    return k;
}

/* A thread other than T that ever signalled (or posted) O, or NULL: when no
 * live one is left, the report names one that exited. */
static struct pw_thread *other_signaller(const struct pw_object *o, const struct pw_thread *t)
{
    for (size_t i = 0; i < o->nsignallers; i++)
        if (o->signallers[i] != t)
            return o->signallers[i];
    return NULL;
}

static void step_cond(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    struct pw_thread *c[8];
    size_t n = live(o->signallers, o->nsignallers, t, c, 8);
    s->relation = "signalled by";
    if (n) {
        pick(s, c, n, "signalled by", "signalled by");
        return;
    }
    /* no live signaller but T: name one that exited, if any (memcached's
     * crawler signals the cond it later waits on: it has not exited) */
    struct pw_thread *gone = other_signaller(o, t);
    if (gone) {
        snprintf(s->root, sizeof(s->root), "%s was signalled only by %s, which exited", o->id,
                 gone->name);
        snprintf(s->reason, sizeof(s->reason), "whose only signaller %s exited", gone->name);
        return;
    }
    if (o->nsignallers) {
        snprintf(s->root, sizeof(s->root), "%s was signalled only by %s itself", o->id, t->name);
        snprintf(s->reason, sizeof(s->reason), "which only %s itself ever signalled", t->name);
        return;
    }
    snprintf(s->root, sizeof(s->root), "nobody ever signalled %s", o->id);
    snprintf(s->reason, sizeof(s->reason), "which nobody ever signals");
}

static const char *side_name(const struct pw_object *o, int side)
{
    if (o->type == PW_OBJ_PIPE)
        return side == PW_SIDE_SEND ? "write end" : "read end";
    return side == PW_SIDE_SEND ? "send side" : "receive side";
}

/* "still running", "which exited at +120 ms" (P's clock), ... for process Q. */
static void child_fate(const struct pw_process *p, const struct pw_process *q, char *buf,
                       size_t len)
{
    if (q->end == PW_END_RUNNING) {
        snprintf(buf, len, "still running");
        return;
    }
    if (q->end == PW_END_EXEC) {
        snprintf(buf, len, "which exec'd with it open");
        return;
    }
    uint64_t end = q->start_mono_ns + q->end_ms * 1000000u;
    uint64_t start = p->start_mono_ns;
    if (end <= start) {
        snprintf(buf, len, "which had exited already");
        return;
    }
    snprintf(buf, len, "which exited at +%llu ms",
             (unsigned long long)(end > start ? (end - start) / 1000000u : 0));
}

/* Appends the child processes whose copy of SIDE of O was still open at their
 * end: the reason a parent's reader never sees EOF.  Returns how many. */
static size_t add_children(struct step *s, const struct pw_object *o, int side)
{
    struct pw_process *q[4];
    size_t n = pw_model_child_holders(o, side, q, 4);
    size_t len = strlen(s->root);
    for (size_t i = 0; i < n && i < 4 && len < sizeof(s->root); i++) {
        char fate_buf[64];
        child_fate(o->proc, q[i], fate_buf, sizeof(fate_buf));
        len += (size_t)snprintf(s->root + len, sizeof(s->root) - len,
                                "; %s also held by child pid %d, %s", side_name(o, side), q[i]->pid,
                                fate_buf);
    }
    if (!n && o->shared_with_child && o->proc->nforks && len < sizeof(s->root))
        len += (size_t)snprintf(s->root + len, sizeof(s->root) - len, "; also held by child pid %d",
                                o->proc->fork_children[0]); /* a child without a trace */
    struct pw_process *pp = pw_model_parent_holder(o, side);
    if (pp && len < sizeof(s->root)) {
        char fate_buf[64];
        child_fate(o->proc, pp, fate_buf, sizeof(fate_buf));
        snprintf(s->root + len, sizeof(s->root) - len, "; %s also held by parent pid %d, %s",
                 side_name(o, side), pp->pid, fate_buf);
        n++;
    }
    return n;
}

static void step_recv(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    const char *side = side_name(o, PW_SIDE_SEND);
    struct pw_thread *c[8];
    size_t n = live(o->senders, o->nsenders, t, c, 8);
    s->relation = "written by";
    if (o->chan && o->chan->open[PW_SIDE_SEND] <= 0) {
        snprintf(s->root, sizeof(s->root), "%s closed in this process", side);
        snprintf(s->reason, sizeof(s->reason), "whose %s is held elsewhere", side);
        struct pw_process *q;
        if (add_children(s, o, PW_SIDE_SEND) && pw_model_child_holders(o, PW_SIDE_SEND, &q, 1))
            snprintf(s->reason, sizeof(s->reason), "whose %s child pid %d still held", side,
                     q->pid);
        else if ((q = pw_model_parent_holder(o, PW_SIDE_SEND)))
            snprintf(s->reason, sizeof(s->reason), "whose %s parent pid %d still held", side,
                     q->pid);
        return;
    }
    if (n) {
        pick(s, c, n, "written by", "written by");
        if (s->next)
            return;
    }
    struct pw_thread *creator = o->chan ? pw_model_thread(o->proc, o->chan->creator) : NULL;
    s->relation = side;
    if (creator && creator != t && creator->status == PW_THR_PARKED) {
        add_blocker(s, creator);
        s->next = creator;
        s->relation = side;
        return;
    }
    if (creator) {
        add_blocker(s, creator);
        snprintf(s->root, sizeof(s->root), "%s held by %s, %s without closing it", side,
                 creator->name, fate(creator));
    } else {
        snprintf(s->root, sizeof(s->root), "%s still open and never closed", side);
    }
    snprintf(s->reason, sizeof(s->reason), "whose %s was never closed", side);
    add_children(s, o, PW_SIDE_SEND);
}

static void step_send(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    struct pw_thread *c[8];
    size_t n = live(o->receivers, o->nreceivers, t, c, 8);
    s->relation = "read by";
    if (n) {
        pick(s, c, n, "read by", "read by");
        if (s->next)
            return;
    }
    snprintf(s->root, sizeof(s->root), "nobody reads %s (full; %s still open)", o->id,
             side_name(o, PW_SIDE_RECV));
    snprintf(s->reason, sizeof(s->reason), "which is full and nobody reads");
    add_children(s, o, PW_SIDE_RECV);
}

/* A semaphore: follow the threads that posted it before (a poster parked on
 * something else is the next link); else nobody is left to post. */
static void step_sem(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    struct pw_thread *c[8];
    size_t n = live(o->signallers, o->nsignallers, t, c, 8);
    const char *elsewhere = o->outside ? " (it is shared: another process may post it)" : "";
    s->relation = "posted by";
    if (n) {
        pick(s, c, n, "posted by", "posted by");
        if (s->next || !t->proc->finished)
            return;
        /* every poster was still there at the end, none of them parked: they
         * simply stopped posting */
        snprintf(s->root, sizeof(s->root), "%s was posted by %s, which posted no more", o->id,
                 c[0]->name);
        snprintf(s->reason, sizeof(s->reason), "whose poster %s posted no more", c[0]->name);
        return;
    }
    /* a poster that exited; T itself may have posted before it waited */
    struct pw_thread *gone = other_signaller(o, t);
    if (gone) {
        snprintf(s->root, sizeof(s->root), "%s was posted only by %s, which exited%s", o->id,
                 gone->name, elsewhere);
        snprintf(s->reason, sizeof(s->reason), "whose only poster %s exited", gone->name);
        return;
    }
    snprintf(s->root, sizeof(s->root), "nobody %sposts %s%s", o->nsignallers ? "else " : "", o->id,
             elsewhere);
    snprintf(s->reason, sizeof(s->reason), "which nobody posts");
}

/* A raw futex wait (Rust's std, GLib, libstdc++): like a cond, it ends when
 * someone wakes the word; the model knows who ever did. */
static void step_futex(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    struct pw_thread *c[8];
    size_t n = live(o->signallers, o->nsignallers, t, c, 8);
    const char *elsewhere = o->outside ? " (not private: another process may wake it)" : "";
    s->relation = "woken by";
    if (n) {
        pick(s, c, n, "woken by", "woken by");
        if (s->next || !t->proc->finished)
            return;
        snprintf(s->root, sizeof(s->root), "%s was woken by %s, which woke it no more%s", o->id,
                 c[0]->name, elsewhere);
        snprintf(s->reason, sizeof(s->reason), "whose waker %s woke it no more", c[0]->name);
        return;
    }
    struct pw_thread *gone = other_signaller(o, t);
    if (gone) {
        snprintf(s->root, sizeof(s->root), "%s was woken only by %s, which exited%s", o->id,
                 gone->name, elsewhere);
        snprintf(s->reason, sizeof(s->reason), "whose only waker %s exited", gone->name);
        return;
    }
    snprintf(s->root, sizeof(s->root), "nothing wakes %s%s", o->id, elsewhere);
    snprintf(s->reason, sizeof(s->reason), "which nothing wakes");
}

/* A priority-inheritance futex names its owner: a strict edge, like a mutex. */
static void step_futex_pi(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    struct pw_thread *owner = pw_model_thread_by_tid(t->proc, o->pi_owner_tid);
    s->relation = "owned by";
    if (!owner) {
        snprintf(s->root, sizeof(s->root),
                 "%s is owned by tid %d, a thread the trace does not know", o->id, o->pi_owner_tid);
        snprintf(s->reason, sizeof(s->reason), "whose owner (tid %d) the trace does not know",
                 o->pi_owner_tid);
        return;
    }
    pick(s, &owner, 1, "owned by", "owned by");
    if (!s->next && owner->status == PW_THR_EXITED) {
        snprintf(s->root, sizeof(s->root), "owned by %s, which exited without unlocking it",
                 owner->name);
        snprintf(s->reason, sizeof(s->reason), "owned by %s, which exited without unlocking it",
                 owner->name);
    }
}

/* A barrier: how many participants arrived (the threads parked on it) of how
 * many it was initialised for. */
static void step_barrier(struct pw_thread *t, struct step *s)
{
    struct pw_object *o = t->waits_on;
    size_t arrived = 0;
    for (size_t i = 0; i < t->proc->nthreads; i++) {
        struct pw_thread *u = &t->proc->threads[i];
        if (u->status == PW_THR_PARKED && u->waits_on == o)
            arrived++;
    }
    const char *elsewhere = o->outside ? " (it is shared: they may be in another process)" : "";
    s->relation = "";
    if (o->init_seen && o->init_arg > arrived) {
        unsigned long long total = o->init_arg, missing = total - arrived;
        snprintf(s->root, sizeof(s->root),
                 "%zu of %llu participants arrived at %s; %llu never came%s", arrived, total, o->id,
                 missing, elsewhere);
        snprintf(s->reason, sizeof(s->reason), "where %zu of %llu participants arrived", arrived,
                 total);
        return;
    }
    snprintf(s->root, sizeof(s->root), "%zu participant%s arrived at %s; the others never came%s",
             arrived, arrived == 1 ? "" : "s", o->id, elsewhere);
    snprintf(s->reason, sizeof(s->reason), "which the other participants never reach");
}

/* A wait on a set: it ends when any member becomes ready, so the root is the
 * whole set; name its channels and what keeps each of them quiet. */
static void step_poll(struct pw_thread *t, struct step *s)
{
    const struct pw_object *set = t->waits_on;
    s->relation = "";
    size_t len = (size_t)snprintf(s->root, sizeof(s->root), "no channel polled in %s", set->id);
    for (size_t m = 0; m < set->nmembers && len < sizeof(s->root); m++) {
        const struct pw_object *c = set->members[m];
        bool open = !c->chan || c->chan->open[PW_SIDE_SEND] > 0;
        len += (size_t)snprintf(s->root + len, sizeof(s->root) - len, "%s%s (%s %s)",
                                m ? ", " : " (", c->id, side_name(c, PW_SIDE_SEND),
                                open ? "never closed" : "closed here");
    }
    if (set->nmembers && len < sizeof(s->root))
        len += (size_t)snprintf(s->root + len, sizeof(s->root) - len, ")");
    if (len < sizeof(s->root))
        snprintf(s->root + len, sizeof(s->root) - len, " ever becomes ready%s",
                 set->outside ? "; other members are not channels" : "");
    snprintf(s->reason, sizeof(s->reason), "none of whose channels ever becomes ready");
}

static void step_other(struct pw_thread *t, struct step *s)
{
    const char *id = t->waits_on->id;
    s->relation = "";
    snprintf(s->root, sizeof(s->root), "nothing wakes %s", id);
    snprintf(s->reason, sizeof(s->reason), "which nothing wakes");
}

/* The step follows what the op parks on (PW_PARK_OPS's object and direction). */
static void next_step(struct pw_thread *t, struct step *s)
{
    memset(s, 0, sizeof(*s));
    enum pw_obj_type type = pw_op_obj_type(t->op);
    if (t->reacquires)
        step_reacquire(t, s);
    else if (t->op == PW_OP_COND_DESTROY)
        step_destroy(t, s);
    else if (pw_obj_is_lock(type))
        step_lock(t, s);
    else if (pw_obj_is_chan(type) && pw_op_is_recv(t->op))
        step_recv(t, s);
    else if (pw_obj_is_chan(type) && pw_op_is_send(t->op))
        step_send(t, s);
    else if (type == PW_OBJ_THREAD)
        step_join(t, s);
    else if (type == PW_OBJ_COND)
        step_cond(t, s);
    else if (type == PW_OBJ_SEM)
        step_sem(t, s);
    else if (type == PW_OBJ_BARRIER)
        step_barrier(t, s);
    else if (type == PW_OBJ_POLLSET)
        step_poll(t, s);
    else if (t->op == PW_OP_FUTEX_LOCK_PI)
        step_futex_pi(t, s);
    else if (type == PW_OBJ_FUTEX)
        step_futex(t, s);
    else
        step_other(t, s);
}

static bool in_chain(const struct pw_finding *f, const struct pw_thread *t)
{
    for (size_t i = 0; i < f->nchain; i++)
        if (f->chain[i].t == t)
            return true;
    return false;
}

const char *pw_chain_build(struct pw_finding *f, struct pw_thread *t)
{
    struct text text = {0};
    struct step s;
    char reason[200] = "";

    text_add(&text, "%s (%s %s)", t->name, op_name(t->op), t->waits_on ? t->waits_on->id : "?");
    while (t && t->status == PW_THR_PARKED && t->waits_on && f->nchain < MAX_LINKS) {
        struct pw_link *l = pw_finding_add_link(f);
        if (!l)
            break; /* out of memory, marked on F */
        l->t = t;
        l->o = t->waits_on;
        l->op = t->op;
        next_step(t, &s);
        for (size_t i = 0; i < s.nblockers; i++) {
            pw_link_add_blocker(f, l, s.blockers[i]);
            /* "held by T2 since worker_step (file:line)" */
            struct pw_object *lock = t->reacquires ? t->reacquires : l->o;
            if (pw_obj_is_lock(lock->type))
                pw_finding_add_holder(f, lock, s.blockers[i]);
        }
        if (l->o->chan)
            pw_finding_add_last_send(f, l->o); /* who sent into it, and where */
        if (!s.next) {
            text_add(&text, " -> %s", s.root);
            if (!(l->text = strdup(s.root)))
                f->oom = true;
            snprintf(reason, sizeof(reason), "%s", s.reason);
            break;
        }
        if (in_chain(f, s.next)) {
            text_add(&text, " -> %s %s (cycle)", s.relation, s.next->name);
            if (!(l->text = strdup("cycle")))
                f->oom = true;
            snprintf(reason, sizeof(reason), "in a wait-for cycle with %s", s.next->name);
            break;
        }
        text_add(&text, " -> %s %s (%s %s)", s.relation, s.next->name, op_name(s.next->op),
                 s.next->waits_on ? s.next->waits_on->id : "?");
        t = s.next;
    }
    free(f->chain_text);
    f->chain_text = text.s;
    if (text.oom)
        f->oom = true;
    /* a long chain is summarized by where it ends */
    if (f->nchain > 1 && f->chain[f->nchain - 1].t) {
        struct pw_link *last = &f->chain[f->nchain - 1];
        char tmp[sizeof(reason) + 96];
        snprintf(tmp, sizeof(tmp), "behind %s (%s %s), %s", last->t->name, op_name(last->op),
                 last->o ? last->o->id : "?", reason);
        snprintf(reason, sizeof(reason), "%.199s", tmp);
    }
    free(f->reason);
    if (!(f->reason = strdup(reason)))
        f->oom = true;
    return f->reason ? f->reason : "";
}
