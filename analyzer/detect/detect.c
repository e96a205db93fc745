/* Detectors: one per finding kind, in the order of PW_FINDING_KINDS.  Kinds are
 * facts: each detector reports every case its definition covers, whatever the
 * others found (a worker parked forever on a never-closed pipe is a thread-leak
 * and one of the pipe's channel-never-closed receivers).  Findings that share a
 * thread or an object are then linked (related), and a leak whose threads a
 * cycle or a never-closed channel explains names it as its cause.  Each reads
 * the model only; identical findings (same kind, object and stacks) are grouped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "lockorder.h"
#include "model.h"
#include "parkwatch/ops.h"
#include "reader.h" /* the names of trace.h's lists */

typedef void detector_fn(struct pw_process *p, struct pw_findings *fs);

static bool leak_end(const struct pw_process *p)
{
    /* an exec replaces the image: its threads are gone, not leaked */
    return p->finished && p->end != PW_END_EXEC;
}

static bool orderly_exit(const struct pw_process *p)
{
    return p->end == PW_END_EXIT;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* Is O's create_stack only the first park on it (the model's label)? */
static bool first_use_only(const struct pw_object *o)
{
    return o->site_label && strcmp(o->site_label, "first used at") == 0;
}

/* Rewrites F's chain as the cycle alone, lockdep style:
 * "T1 waits mutex#2 (held by T2) -> T2 waits mutex#1 (held by T1)". */
static void describe_cycle(struct pw_finding *f, size_t start)
{
    char *text = NULL;
    size_t len = 0, n = f->nchain - start;
    FILE *m = open_memstream(&text, &len);
    for (size_t l = start; l < f->nchain; l++) {
        struct pw_thread *ct = f->chain[l].t;
        struct pw_thread *next = l + 1 < f->nchain ? f->chain[l + 1].t : f->chain[start].t;
        pw_finding_add_thread(f, ct, PW_ROLE_PARKED, ct->park_stack, 0);
        /* a lock is shown with where its holder took it (below, TSan style),
         * not with the first park on it: that is another thread's stack */
        bool lock = pw_obj_is_lock(ct->waits_on->type);
        if (lock && first_use_only(ct->waits_on))
            pw_finding_add_object(f, ct->waits_on, 0, NULL);
        else
            pw_finding_add_object(f, ct->waits_on, ct->waits_on->create_stack,
                                  ct->waits_on->site_label);
        if (lock)
            pw_finding_add_holder(f, ct->waits_on, next);
        if (ct->reacquires)
            pw_finding_add_holder(f, ct->reacquires, next);
        if (!m)
            continue;
        if (pw_op_obj_type(ct->op) == PW_OBJ_THREAD)
            fprintf(m, "%s%s joins %s", l > start ? " -> " : "", ct->name, next->name);
        else if (ct->reacquires)
            fprintf(m, "%s%s woken from %s re-takes %s (held by %s)", l > start ? " -> " : "",
                    ct->name, ct->waits_on->id, ct->reacquires->id, next->name);
        else
            fprintf(m, "%s%s waits %s (held by %s)", l > start ? " -> " : "", ct->name,
                    ct->waits_on->id, next->name);
    }
    if (m && fclose(m) == 0) {
        free(f->chain_text);
        f->chain_text = text;
    } else {
        free(text);
        f->oom = true; /* the cycle text could not be written */
    }
    struct pw_thread *head = f->chain[start].t;
    if (n == 1)
        pw_finding_set_message(f, "thread %s waits for %s, which it holds itself", head->name,
                               head->waits_on->id);
    else
        pw_finding_set_message(f, "%zu threads wait for each other in a cycle: %s", n,
                               f->chain_text);
}

/* ---- deadlock: a cycle of lock/join waits */

static bool has_thread(const struct pw_finding *f, const struct pw_thread *t)
{
    for (size_t i = 0; i < f->nthreads; i++)
        if (f->threads[i].t == t)
            return true;
    return false;
}

/* T is in a cycle already reported (findings FROM.. of FS): each cycle once,
 * not once per member or per thread queued behind it */
static bool in_reported_cycle(const struct pw_findings *fs, size_t from, const struct pw_thread *t)
{
    for (size_t k = from; k < fs->n; k++)
        if (fs->v[k]->kind == PW_FK_DEADLOCK && has_thread(fs->v[k], t))
            return true;
    return false;
}

static void detect_DEADLOCK(struct pw_process *p, struct pw_findings *fs)
{
    size_t from = fs->n;
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        /* a woken cond waiter re-taking its mutex waits like a mutex lock */
        if (t->status != PW_THR_PARKED || !(pw_op_strict(t->op) || t->reacquires) ||
            in_reported_cycle(fs, from, t))
            continue;
        if (t->park_flags & PW_PARK_TIMED)
            continue;
        struct pw_finding *f = pw_finding_new(fs, PW_FK_DEADLOCK, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        pw_chain_build(f, t);
        struct pw_link *last = f->nchain ? &f->chain[f->nchain - 1] : NULL;
        bool cycle = last && last->text && strcmp(last->text, "cycle") == 0;
        for (size_t l = 0; cycle && l < f->nchain; l++)
            cycle = pw_op_strict((enum pw_park_op)f->chain[l].op) ||
                    (f->chain[l].t && f->chain[l].t->reacquires);
        if (!cycle) {
            pw_findings_pop(fs); /* not a deadlock from here: drop the scratch finding */
            continue;
        }
        /* the cycle starts where the last link points */
        struct pw_thread *head = last->nblocked_by ? last->blocked_by[0] : t;
        if (in_reported_cycle(fs, from, head)) {
            pw_findings_pop(fs); /* a thread queued behind a cycle already reported */
            continue;
        }
        size_t start = 0;
        while (start < f->nchain && f->chain[start].t != head)
            start++;
        describe_cycle(f, start);
    }
}

/* ---- all threads blocked */

/* A channel written through a non-blocking fd follows the self-pipe convention:
 * a signal handler may write it, and a signal comes from outside the process. */
static bool signal_woken(const struct pw_object *o)
{
    return o->chan && o->chan->send_nonblock;
}

static void detect_ALL_BLOCKED(struct pw_process *p, struct pw_findings *fs)
{
    size_t alive = 0;
    struct pw_thread *first = NULL;
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->status == PW_THR_EXITED)
            continue;
        alive++;
        /* OUTSIDE: a process-shared sem/barrier or a poll set with foreign fds,
         * which another process could still wake */
        if (t->status != PW_THR_PARKED ||
            (t->park_flags & (PW_PARK_TIMED | PW_PARK_NONBLOCK | PW_PARK_OUTSIDE)))
            return;
        if (t->waits_on->shared_with_child)
            return; /* another process could still wake it */
        if (signal_woken(t->waits_on) || (t->waits_on->chan && t->waits_on->chan->inherited))
            return; /* a signal, or the process that passed the channel down, can wake it */
        for (size_t m = 0; m < t->waits_on->nmembers; m++)
            if (t->waits_on->members[m]->shared_with_child ||
                signal_woken(t->waits_on->members[m]) ||
                (t->waits_on->members[m]->chan && t->waits_on->members[m]->chan->inherited))
                return; /* a polled channel another process (or a signal) can wake */
        if (!first || t->is_main)
            first = t;
    }
    if (!alive)
        return;
    struct pw_finding *f = pw_finding_new(fs, PW_FK_ALL_BLOCKED, p);
    if (!f)
        return; /* out of memory: pw_detect_all reports it */
    /* every thread with its stack, even those a deadlock finding shows too:
     * this finding is the whole goroutine dump of the hang */
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->status != PW_THR_PARKED)
            continue;
        pw_finding_add_thread(f, t, PW_ROLE_PARKED, t->park_stack, 0);
        pw_finding_add_object(f, t->waits_on, t->waits_on->create_stack, t->waits_on->site_label);
    }
    pw_chain_build(f, first);
    pw_finding_set_message(f,
                           "all %zu thread%s %s parked forever: nothing in the process can wake "
                           "them",
                           alive, plural(alive), alive == 1 ? "is" : "are");
}

/* ---- lock-order inversion: cycles among LOCK_EDGE notes (lockorder.c) */

static void detect_LOCK_ORDER(struct pw_process *p, struct pw_findings *fs)
{
    pw_detect_lock_order(p, fs);
}

/* ---- thread leak */

static bool same_group(const struct pw_finding *f, const struct pw_thread *t)
{
    const struct pw_thread *u = f->threads[0].t;
    return u->op == t->op && u->waits_on == t->waits_on && u->park_stack == t->park_stack &&
           u->create_stack == t->create_stack;
}

static struct pw_finding *find_group(struct pw_findings *fs, size_t from, struct pw_thread *t)
{
    for (size_t i = from; i < fs->n; i++)
        if (fs->v[i]->nthreads && same_group(fs->v[i], t))
            return fs->v[i];
    return NULL;
}

/* A leaked thread was abandoned at exit, not stuck earlier, when the process
 * ended (exit or a signal) while what could wake it was still alive: its chain
 * does not close in a cycle and ends at a thread that had not exited (a main
 * thread that called exit while others waited for work), or at an object nobody
 * acted on while some thread still ran.  A chain ending at threads that all
 * exited before the end (the holder, every signaller or poster) was hopeless
 * earlier.  Daemons stopped by SIGTERM and pools left idle at exit (xz,
 * memcached, redis) are the first kind; they are reported, marked, so that a
 * user can suppress exactly those (abandoned-at-exit: rules). */
static bool abandoned(const struct pw_process *p, const struct pw_finding *f)
{
    if (p->end != PW_END_EXIT && p->end != PW_END_SIGNAL)
        return false;
    if (!f->nchain)
        return false;
    const struct pw_link *last = &f->chain[f->nchain - 1];
    if (last->text && strcmp(last->text, "cycle") == 0)
        return false;
    if (last->nblocked_by) {
        for (size_t i = 0; i < last->nblocked_by; i++)
            if (last->blocked_by[i]->status != PW_THR_EXITED)
                return true;
        return false;
    }
    const struct pw_object *o = last->o;
    if (o && (o->type == PW_OBJ_COND || o->type == PW_OBJ_SEM) && o->nsignallers) {
        size_t gone = 0;
        for (size_t i = 0; i < o->nsignallers; i++)
            gone += o->signallers[i]->status == PW_THR_EXITED;
        if (gone == o->nsignallers)
            return false; /* every waker it ever had is gone */
    }
    /* nobody in particular could wake it: abandoned if some thread was still
     * alive at the end, running or parked where the world can end the wait (a
     * daemon's main in accept or a timed poll when SIGTERM came) */
    for (size_t i = 0; i < p->nthreads; i++) {
        const struct pw_thread *u = &p->threads[i];
        if (u->status == PW_THR_RUNNING ||
            (u->status == PW_THR_PARKED &&
             (u->park_flags & (PW_PARK_TIMED | PW_PARK_NONBLOCK | PW_PARK_OUTSIDE))))
            return true;
    }
    return false;
}

static void detect_THREAD_LEAK(struct pw_process *p, struct pw_findings *fs)
{
    if (!leak_end(p))
        return;
    size_t from = fs->n;
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (!t->forever)
            continue;
        /* the program said so: parkwatch_ignore_current(), goleak's IgnoreCurrent */
        if (t->ignored)
            continue;
        /* a wait another process can end (a poll on a listening socket, a
         * process-shared semaphore) is not a thread that will never wake: a
         * daemon's main in poll when SIGTERM came is not a leak */
        if (t->park_flags & PW_PARK_OUTSIDE)
            continue;
        struct pw_finding *f = find_group(fs, from, t);
        if (f) {
            f->count++;
            pw_finding_add_thread(f, t, PW_ROLE_PARKED, t->park_stack, 0);
            continue;
        }
        f = pw_finding_new(fs, PW_FK_THREAD_LEAK, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        pw_finding_add_thread(f, t, PW_ROLE_PARKED, t->park_stack, 0);
        pw_finding_add_object(f, t->waits_on, t->waits_on->create_stack, t->waits_on->site_label);
        pw_chain_build(f, t);
        f->abandoned_at_exit = abandoned(p, f);
    }
    for (size_t i = from; i < fs->n; i++) {
        struct pw_finding *f = fs->v[i];
        struct pw_thread *t = f->threads[0].t;
        if (f->abandoned_at_exit && f->count == 1)
            pw_finding_set_message(f, "thread %s abandoned at exit in %s on %s, %s", t->name,
                                   pw_park_op_name(t->op), t->waits_on->id, f->reason);
        else if (f->abandoned_at_exit)
            pw_finding_set_message(f, "%zu threads abandoned at exit in %s on %s, %s", f->count,
                                   pw_park_op_name(t->op), t->waits_on->id, f->reason);
        else if (f->count == 1)
            pw_finding_set_message(f, "thread %s parked forever in %s on %s, %s", t->name,
                                   pw_park_op_name(t->op), t->waits_on->id, f->reason);
        else
            pw_finding_set_message(f, "%zu threads parked forever in %s on %s, %s", f->count,
                                   pw_park_op_name(t->op), t->waits_on->id, f->reason);
    }
}

/* ---- channel never closed */

/* T is parked forever receiving from channel O: in a read, or in a poll,
 * select or epoll_wait that polls O for reading */
static bool receives_forever(const struct pw_thread *t, const struct pw_object *o)
{
    /* a poll that also waits on what another process can make ready (a
     * socket to a peer, a terminal) is not parked forever on O */
    if (!t->forever || (t->park_flags & PW_PARK_OUTSIDE) || t->waits_on->outside)
        return false;
    if (t->waits_on == o)
        return pw_op_is_recv(t->op);
    if (t->waits_on->type != PW_OBJ_POLLSET)
        return false;
    for (size_t m = 0; m < t->waits_on->nrecv_members; m++)
        if (t->waits_on->recv_members[m] == o)
            return true;
    return false;
}

static void detect_CHAN_NEVER_CLOSED(struct pw_process *p, struct pw_findings *fs)
{
    if (!leak_end(p))
        return;
    for (size_t o = 0; o < p->nobjects; o++) {
        struct pw_object *obj = p->objects[o];
        if (!obj->chan || obj->chan->open[PW_SIDE_SEND] <= 0)
            continue;
        struct pw_finding *f = NULL;
        for (size_t i = 0; i < p->nthreads; i++) {
            struct pw_thread *t = &p->threads[i];
            if (!receives_forever(t, obj))
                continue;
            if (!f) {
                f = pw_finding_new(fs, PW_FK_CHAN_NEVER_CLOSED, p);
                if (!f)
                    return; /* out of memory: pw_detect_all reports it */
                f->count = 0;
                pw_finding_add_object(f, obj, obj->create_stack, obj->site_label);
                pw_chain_build(f, t);
            }
            pw_finding_add_thread(f, t, PW_ROLE_PARKED, t->park_stack, 0);
        }
        if (!f)
            continue;
        f->count = 1;
        /* receivers left waiting when the process ended while the sender was
         * alive (a daemon's workers on their notify channel at SIGTERM): the
         * same mark, and the same suppression rules, as their thread-leaks */
        f->abandoned_at_exit = abandoned(p, f);
        const char *who = obj->type == PW_OBJ_USERCHAN ? "consumer" : "receiver";
        if (obj->type == PW_OBJ_EVENTFD || obj->type == PW_OBJ_MQUEUE)
            /* no EOF on these: closing would not wake a receiver, only a send would */
            pw_finding_set_message(f,
                                   "%s was never closed and nothing more was sent into it; "
                                   "%zu %s%s parked forever on it (closing it wakes nobody)",
                                   obj->id, f->nthreads, who, plural(f->nthreads));
        else
            pw_finding_set_message(f, "%s was never closed; %zu %s%s parked forever on it", obj->id,
                                   f->nthreads, who, plural(f->nthreads));
    }
}

/* ---- misuse seen by the shim at the moment it happened (the model's misuses) */

static void detect_misuse(struct pw_process *p, struct pw_findings *fs, enum pw_misuse_kind mk,
                          enum pw_finding_kind fk)
{
    size_t from = fs->n;
    for (size_t i = 0; i < p->nmisuses; i++) {
        const struct pw_misuse *e = &p->misuses[i];
        if (e->kind != mk)
            continue;
        struct pw_thread *t = e->t;
        struct pw_object *o = e->o;
        struct pw_finding *f = NULL;
        for (size_t k = from; k < fs->n && !f; k++) {
            struct pw_finding *g = fs->v[k];
            if (g->objects[0].o == o && g->threads[0].stack == e->stack)
                f = g;
        }
        if (f) {
            f->count++;
            continue;
        }
        f = pw_finding_new(fs, fk, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        pw_finding_add_thread(f, t, PW_ROLE_MISUSE, e->stack, e->stack2);
        pw_finding_add_object(f, o, o->create_stack, o->site_label);
        struct pw_thread *other = e->other;
        /* a reused number's other thread only made the new fd: named, not shown */
        if (other && other != t && mk != PW_MISUSE_CLOSE_REUSED)
            pw_finding_add_thread(f, other, PW_ROLE_PARKED, other->park_stack, 0);
        if (mk == PW_MISUSE_CLOSE_REUSED && other)
            pw_finding_set_message(f,
                                   "%s closed fd %lld of %s again after %s reopened the number: "
                                   "it closed %s's new fd",
                                   t->name, e->fd, o->id, other->name, other->name);
        else if (mk == PW_MISUSE_CLOSE_REUSED)
            pw_finding_set_message(f,
                                   "%s closed fd %lld of %s again after another thread reopened "
                                   "the number: it closed that thread's new fd",
                                   t->name, e->fd, o->id);
        else if (o->type == PW_OBJ_USERCHAN) /* an annotated queue: no fds, no signals */
            pw_finding_set_message(f,
                                   fk == PW_FK_DOUBLE_CLOSE ? "%s closed %s twice"
                                                            : "%s sent into %s after it was closed",
                                   t->name, o->id);
        else if (fk == PW_FK_DOUBLE_CLOSE)
            pw_finding_set_message(f, "fd %lld of %s closed twice by %s", e->fd, o->id, t->name);
        else if (fk == PW_FK_SEND_ON_CLOSED)
            pw_finding_set_message(f, "%s sent into %s after its %s was closed (%s)", t->name,
                                   o->id, o->type == PW_OBJ_PIPE ? "read end" : "receive side",
                                   e->err ? "EPIPE" : "SIGPIPE");
        else
            pw_finding_set_message(f, "%s closed fd %lld of %s while %s is parked on it", t->name,
                                   e->fd, o->id, other ? other->name : "a thread");
    }
}

static void detect_SEND_ON_CLOSED(struct pw_process *p, struct pw_findings *fs)
{
    detect_misuse(p, fs, PW_MISUSE_SEND_ON_CLOSED, PW_FK_SEND_ON_CLOSED);
}

static void detect_DOUBLE_CLOSE(struct pw_process *p, struct pw_findings *fs)
{
    size_t from = fs->n;
    detect_misuse(p, fs, PW_MISUSE_DOUBLE_CLOSE, PW_FK_DOUBLE_CLOSE);
    /* the shim books an fd double close only when the second close failed
     * with EBADF on a number nothing reopened (the fd word still stale): it
     * closed nothing, so it is a warning (bash closes pipe ends twice in every
     * pipeline); an annotated queue closed twice stays an error */
    for (size_t i = from; i < fs->n; i++) {
        struct pw_finding *f = fs->v[i];
        if (f->objects[0].o->type == PW_OBJ_USERCHAN)
            continue;
        f->severity = PW_SEV_WARNING;
        pw_finding_set_note(f, "the second close failed with EBADF and nothing had reopened the "
                               "fd number in between: nothing else was closed");
    }
    /* the number closed again had been reopened by another thread, and the
     * closer never used the new fd: it closed somebody else's object (SPEC:
     * an error) */
    detect_misuse(p, fs, PW_MISUSE_CLOSE_REUSED, PW_FK_DOUBLE_CLOSE);
}

static void detect_CLOSE_WHILE_BLOCKED(struct pw_process *p, struct pw_findings *fs)
{
    detect_misuse(p, fs, PW_MISUSE_CLOSE_WHILE_BLOCKED, PW_FK_CLOSE_WHILE_BLOCKED);
}

/* ---- lock held by an exited thread */

/* Another thread's misuse note of kind MK on LOCK (after T held it) */
static const struct pw_misuse *lock_note(const struct pw_process *p, const struct pw_object *lock,
                                         const struct pw_thread *t, enum pw_misuse_kind mk)
{
    for (size_t i = 0; i < p->nmisuses; i++) {
        const struct pw_misuse *e = &p->misuses[i];
        if (e->o == lock && e->t != t && (mk == PW_MISUSE_NONE || e->kind == mk))
            return e;
    }
    return NULL;
}

/* Severity by harm (SPEC): an error when a thread parks on the lock or uses
 * it again; a warning when nobody ever does; a note when the lock is a robust
 * mutex the next locker got with EOWNERDEAD (and made consistent). */
static void held_severity(struct pw_process *p, struct pw_finding *f, struct pw_thread *t,
                          struct pw_object *lock, size_t waiters)
{
    const struct pw_misuse *rec = lock_note(p, lock, t, PW_MISUSE_OWNER_DEAD);
    if (rec) {
        f->severity = PW_SEV_NOTE;
        pw_finding_set_note(f, "robust mutex: %s got it with EOWNERDEAD and took it over",
                            rec->t->name);
        return;
    }
    if (waiters || lock_note(p, lock, t, PW_MISUSE_NONE))
        return;
    f->severity = PW_SEV_WARNING;
    pw_finding_set_note(f, "nobody waited for %s or took it again after %s exited", lock->id,
                        t->name);
}

/* lockdep's words: "T2 exited holding mutex#1 (&stats_mu), taken in
 * leaky_update (pool.c:42); 2 threads parked on it".  The detector has no
 * symbols: the report calls this again with the lock's name and its site. */
void pw_held_exit_message(struct pw_finding *f, const char *sym, const char *site)
{
    if (f->kind != PW_FK_LOCK_HELD_BY_EXITED || !f->nthreads || !f->nheld)
        return;
    const struct pw_thread *t = f->threads[0].t;
    const struct pw_object *lock = f->held[0].o;
    bool read = false;
    for (size_t h = 0; h < t->nheld; h++)
        if (t->held[h] == lock)
            read = t->held_read[h];
    const char *side = lock->type != PW_OBJ_RWLOCK ? "" : read ? " for reading" : " for writing";
    size_t waiters = 0;
    for (size_t i = 0; i < f->nthreads; i++)
        waiters += f->threads[i].role == PW_ROLE_PARKED;
    char parked[64] = "";
    if (waiters)
        snprintf(parked, sizeof parked, "; %zu thread%s parked on it", waiters, plural(waiters));
    pw_finding_set_message(f, "%s exited holding %s%s%s%s%s%s%s%s", t->name, lock->id,
                           sym ? " (" : "", sym ? sym : "", sym ? ")" : "", side,
                           site ? ", taken in " : "", site ? site : "", parked);
}

static void detect_LOCK_HELD_BY_EXITED(struct pw_process *p, struct pw_findings *fs)
{
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->status != PW_THR_EXITED || !t->nheld)
            continue;
        for (size_t h = 0; h < t->nheld; h++) {
            struct pw_object *lock = t->held[h];
            struct pw_finding *f = pw_finding_new(fs, PW_FK_LOCK_HELD_BY_EXITED, p);
            if (!f)
                return; /* out of memory: pw_detect_all reports it */
            pw_finding_add_thread(f, t, PW_ROLE_EXITED, t->exit_stack, 0);
            pw_finding_add_object(f, lock, lock->create_stack, lock->site_label);
            pw_finding_add_held(f, lock, t, t->held_site[h]);
            size_t waiters = 0;
            for (size_t w = 0; w < p->nthreads; w++) {
                struct pw_thread *u = &p->threads[w];
                if (u->status == PW_THR_PARKED && u->waits_on == lock) {
                    pw_finding_add_thread(f, u, PW_ROLE_PARKED, u->park_stack, 0);
                    if (!waiters++)
                        pw_chain_build(f, u);
                }
            }
            pw_held_exit_message(f, NULL, NULL);
            held_severity(p, f, t, lock, waiters);
        }
    }
}

/* ---- lock misuse seen by the shim (unlock not held, destroy in use, ...) */

static void misuse_message(struct pw_finding *f, const struct pw_misuse *e)
{
    const char *t = e->t->name, *o = e->o->id, *other = e->other ? e->other->name : NULL;
    const char *m2 = e->o2 ? e->o2->id : "a mutex";
    switch (e->kind) {
    case PW_MISUSE_UNLOCK_NOT_HELD:
        if (other)
            pw_finding_set_message(f, "%s unlocked %s, which %s holds, not %s", t, o, other, t);
        else
            pw_finding_set_message(f, "%s unlocked %s, which it does not hold", t, o);
        break;
    case PW_MISUSE_DESTROY_LOCKED:
        pw_finding_set_message(f, "%s destroyed %s while it was locked%s%s", t, o,
                               other ? " by " : "", other ? other : "");
        break;
    case PW_MISUSE_DESTROY_BUSY_COND:
        pw_finding_set_message(f, "%s destroyed %s while %s waits on it", t, o,
                               other ? other : "a thread");
        break;
    case PW_MISUSE_USE_DESTROYED: {
        static const char *const verbs[] = {
#define PW_X(name, str) str,
            PW_LOCK_CALLS(PW_X)
#undef PW_X
        };
        const char *verb = e->call == PW_CALL_NONE && e->o->type == PW_OBJ_MUTEX
                               ? "locked" /* a trace of an older shim: EINVAL on a lock */
                               : verbs[e->call];
        /* glibc's own answer, where it gives one */
        const char *rc = e->o->type == PW_OBJ_MUTEX && e->call != PW_CALL_DESTROY ? " (EINVAL)"
                                                                                  : "";
        if (e->other == e->t)
            pw_finding_set_message(f, "%s %s %s after destroying it%s", t, verb, o, rc);
        else if (e->other)
            pw_finding_set_message(f, "%s %s %s after %s destroyed it%s", t, verb, o, other, rc);
        else
            pw_finding_set_message(f, "%s %s %s after it was destroyed%s", t, verb, o, rc);
        break;
    }
    case PW_MISUSE_RELOCK:
        pw_finding_set_message(f, "%s locked %s again while holding it%s (EDEADLK)", t, o,
                               e->o->type == PW_OBJ_RWLOCK ? " for writing" : "");
        break;
    case PW_MISUSE_COND_TWO_MUTEXES:
        pw_finding_set_message(f, "%s waits on %s with %s while %s waits on it with another mutex",
                               t, o, m2, other ? other : "a thread");
        break;
    default: /* PW_MISUSE_COND_MUTEX_NOT_HELD */
        pw_finding_set_message(f, "%s waits on %s with %s, which it does not hold", t, o, m2);
        break;
    }
}

static void detect_LOCK_MISUSE(struct pw_process *p, struct pw_findings *fs)
{
    size_t from = fs->n;
    for (size_t i = 0; i < p->nmisuses; i++) {
        const struct pw_misuse *e = &p->misuses[i];
        if (e->kind < PW_MISUSE_UNLOCK_NOT_HELD || e->kind >= PW_MISUSE__COUNT ||
            e->kind == PW_MISUSE_OWNER_DEAD || e->kind == PW_MISUSE_CLOSE_REUSED)
            continue;
        struct pw_finding *f = NULL;
        /* the same misuse of the same object at the same site: once, counted */
        for (size_t k = from; k < fs->n && !f; k++) {
            struct pw_finding *g = fs->v[k];
            if (g->objects[0].o == e->o && g->threads[0].stack == e->stack &&
                g->threads[0].t == e->t)
                f = g;
        }
        if (f) {
            f->count++;
            continue;
        }
        f = pw_finding_new(fs, PW_FK_LOCK_MISUSE, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        bool use = e->kind == PW_MISUSE_USE_DESTROYED;
        /* a use after destroy: "destroyed at" under the bad call */
        pw_finding_add_thread(f, e->t, PW_ROLE_MISUSE, e->stack, use ? e->stack2 : 0);
        pw_finding_add_object(f, e->o, e->o->create_stack, e->o->site_label);
        if (e->o2)
            pw_finding_add_object(f, e->o2, e->o2->create_stack, e->o2->site_label);
        /* the holder or the other waiter, with its park stack then (the
         * destroyer of a use after destroy is named in the headline) */
        if (!use && e->other && e->other != e->t)
            pw_finding_add_thread(f, e->other, e->stack2 ? PW_ROLE_PARKED : PW_ROLE_NONE, e->stack2,
                                  0);
        misuse_message(f, e);
    }
}

/* ---- channel data never received */

static bool chan_local(const struct pw_object *o)
{
    return o->chan && !o->shared_with_child && !o->chan->inherited;
}

static void detect_CHAN_UNREAD(struct pw_process *p, struct pw_findings *fs)
{
    if (!orderly_exit(p))
        return;
    for (size_t o = 0; o < p->nobjects; o++) {
        struct pw_object *obj = p->objects[o];
        if (!chan_local(obj) || obj->chan->sent <= obj->chan->received)
            continue;
        /* an eventfd is a counter, not a byte stream: one read takes every write,
         * and a count left at exit is a wake-up nobody needed, not lost data
         * (nginx's edge-triggered notify eventfd is never read on purpose) */
        if (obj->type == PW_OBJ_EVENTFD)
            continue;
        /* a message queue still linked by name keeps its messages for the next
         * process that opens it: only an unlinked one loses them */
        if (obj->type == PW_OBJ_MQUEUE && !obj->chan->unlinked)
            continue;
        struct pw_finding *f = pw_finding_new(fs, PW_FK_CHAN_UNREAD, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        pw_finding_add_object(f, obj, obj->create_stack, obj->site_label);
        pw_finding_add_last_send(f, obj); /* where the data came from */
        unsigned long long left = obj->chan->sent - obj->chan->received;
        const char *unit = obj->type == PW_OBJ_MQUEUE || obj->type == PW_OBJ_USERCHAN ? "message"
                                                                                      : "byte";
        pw_finding_set_message(f, "%llu %s%s sent into %s %s never received", left, unit,
                               left == 1 ? "" : "s", obj->id, left == 1 ? "was" : "were");
    }
}

/* ---- unjoined thread */

static void detect_UNJOINED(struct pw_process *p, struct pw_findings *fs)
{
    if (!orderly_exit(p))
        return;
    size_t from = fs->n;
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->status != PW_THR_EXITED || t->joined || t->detached || t->is_main || t->adopted)
            continue;
        struct pw_finding *f = NULL;
        for (size_t k = from; k < fs->n && !f; k++)
            if (fs->v[k]->threads[0].t->create_stack == t->create_stack)
                f = fs->v[k];
        if (f) {
            f->count++;
            pw_finding_add_thread(f, t, PW_ROLE_EXITED, 0, 0);
            continue;
        }
        f = pw_finding_new(fs, PW_FK_UNJOINED, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        pw_finding_add_thread(f, t, PW_ROLE_EXITED, 0, 0);
    }
    for (size_t k = from; k < fs->n; k++) {
        struct pw_finding *f = fs->v[k];
        if (f->count == 1)
            pw_finding_set_message(f, "thread %s finished and was never joined",
                                   f->threads[0].t->name);
        else
            pw_finding_set_message(f,
                                   "%zu threads created at the same place finished and were "
                                   "never joined",
                                   f->count);
    }
}

/* ---- fd leak */

static bool parked_on(const struct pw_process *p, const struct pw_object *o)
{
    for (size_t i = 0; i < p->nthreads; i++) {
        const struct pw_object *w = p->threads[i].waits_on;
        if (p->threads[i].status != PW_THR_PARKED)
            continue;
        if (w == o)
            return true;
        for (size_t m = 0; w->type == PW_OBJ_POLLSET && m < w->nmembers; m++)
            if (w->members[m] == o)
                return true; /* polled: the poll's finding covers it */
    }
    return false;
}

static void detect_FD_LEAK(struct pw_process *p, struct pw_findings *fs)
{
    if (!orderly_exit(p))
        return;
    for (size_t o = 0; o < p->nobjects; o++) {
        struct pw_object *obj = p->objects[o];
        /* an annotated queue has no fds: never-closed and unread data cover it */
        if (!chan_local(obj) || parked_on(p, obj) || obj->type == PW_OBJ_USERCHAN)
            continue;
        int r = obj->chan->open[PW_SIDE_RECV], w = obj->chan->open[PW_SIDE_SEND];
        if (r <= 0 && w <= 0)
            continue;
        /* both ends open at exit: the channel was still in service when the
         * process ended (a self-pipe for signals, an event loop's notify pipe or
         * eventfd, kept for the process's life by xz, libevent, nginx); the
         * kernel closes it.  A leak is a channel the program was done with,
         * one end closed and the other forgotten. */
        if (r > 0 && w > 0)
            continue;
        /* an fd-leak is an exchange that finished and was forgotten: a
         * channel never used is a standby (a wake-up pipe kept for a signal
         * that never came), and one with bytes left is channel-unread-data */
        if (obj->chan->sent == 0 && obj->chan->received == 0)
            continue;
        if (obj->chan->sent > obj->chan->received)
            continue;
        /* a socketpair end left open is the receive side of one direction and
         * the send side of the other: reported once, as the send side */
        if (obj->type == PW_OBJ_SOCKETPAIR && w <= 0)
            continue;
        struct pw_finding *f = pw_finding_new(fs, PW_FK_FD_LEAK, p);
        if (!f)
            return; /* out of memory: pw_detect_all reports it */
        pw_finding_add_object(f, obj, obj->create_stack, obj->site_label);
        pw_finding_set_message(f, "%s of %s (fd %d) still open at exit",
                               r > 0 ? "the read end" : "the write end", obj->id,
                               obj->chan->fd[r > 0 ? 0 : 1]);
    }
}

static detector_fn *const detectors[PW_FK__COUNT] = {
#define PW_X(e, s, sev, d, h) [PW_FK_##e] = detect_##e,
    PW_FINDING_KINDS(PW_X)
#undef PW_X
};

/* ---- links between findings */

static bool share_evidence(const struct pw_finding *a, const struct pw_finding *b)
{
    if (a->proc != b->proc)
        return false;
    /* the same thread seen the same way (the same park, the same exit), not
     * merely the same thread: main's unrelated misuses are not one story */
    for (size_t i = 0; i < a->nthreads; i++)
        for (size_t j = 0; j < b->nthreads; j++)
            if (a->threads[i].t == b->threads[j].t && a->threads[i].stack == b->threads[j].stack)
                return true;
    for (size_t i = 0; i < a->nobjects; i++)
        for (size_t j = 0; j < b->nobjects; j++)
            if (a->objects[i].o == b->objects[j].o)
                return true;
    return false;
}

/* C shows every thread of F parked as F shows it: F's stacks need not be
 * printed again */
static bool covers(const struct pw_finding *c, const struct pw_finding *f)
{
    if (!f->nthreads)
        return false;
    for (size_t i = 0; i < f->nthreads; i++)
        if (f->threads[i].role != PW_ROLE_PARKED || !has_thread(c, f->threads[i].t))
            return false;
    return true;
}

/* Related findings of FS from FROM on (one process's), and the cause of each
 * leak: the first deadlock or never-closed channel that shows all its threads,
 * else the all-threads-blocked dump that does (they come first in the report,
 * the leak then refers to them). */
static void link_findings(struct pw_findings *fs, size_t from)
{
    for (size_t i = from; i < fs->n; i++)
        for (size_t j = i + 1; j < fs->n; j++)
            if (share_evidence(fs->v[i], fs->v[j]))
                pw_finding_relate(fs->v[i], fs->v[j]);
    for (size_t i = from; i < fs->n; i++) {
        struct pw_finding *f = fs->v[i];
        if (f->kind != PW_FK_THREAD_LEAK)
            continue;
        for (int pass = 0; pass < 2 && !f->cause; pass++)
            for (size_t r = 0; r < f->nrelated && !f->cause; r++) {
                struct pw_finding *c = f->related[r];
                bool kind = pass == 0
                                ? c->kind == PW_FK_DEADLOCK || c->kind == PW_FK_CHAN_NEVER_CLOSED
                                : c->kind == PW_FK_ALL_BLOCKED;
                if (kind && covers(c, f))
                    f->cause = c;
            }
    }
}

int pw_detect_all(struct pw_model *m, struct pw_findings *fs)
{
    for (size_t i = 0; i < m->nprocs; i++) {
        size_t from = fs->n;
        for (int k = 0; k < PW_FK__COUNT; k++)
            detectors[k](&m->procs[i], fs);
        link_findings(fs, from);
    }
    return pw_findings_status(fs);
}
