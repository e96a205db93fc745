/* Replay model: rebuilds threads and objects of each traced process.
 *
 * The current-state area is authoritative for the end state (who is parked on
 * what, who holds which lock, which channel ends are open): it stays right when
 * the rings wrap.  Evidence is state too: forks are the header's counter and the
 * channels' PW_CF_FORKED / PW_CF_INHERITED flags, the children are the traces
 * whose ppid and start time name this image; who signalled, posted, sent or
 * received is the notes' first acts; lock generations are the notes' init and
 * destroy marks.  The ring events only add history (later acts, init sites,
 * the fork events' timeline): when rings wrapped no verdict changes. */
#include "model.h"
#include "ktasks.h"

#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parkwatch/ops.h"
#include "probe.h"
#include "reader.h"

/* ---- small growable pointer arrays */

static int ptr_push(void ***v, size_t *n, void *p)
{
    if (*n && (*v)[*n - 1] == p)
        return 0; /* the common case, a thread acting again: no scan */
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == p)
            return 0; /* sets, not lists: a thread is a sender once */
    void **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return -1;
    nv[(*n)++] = p;
    *v = nv;
    return 0;
}

#define PTR_PUSH(arr, n, p) ptr_push((void ***)&(arr), &(n), (p))

/* ---- objects */

/* Channels are one object whatever channel type a park op implied, so they hash
 * under one class. */
static unsigned obj_class(enum pw_obj_type type)
{
    return pw_obj_is_chan(type) ? PW_OBJ_PIPE : type;
}

static size_t obj_hash(enum pw_obj_type type, uint64_t key)
{
    uint64_t h = (key ^ ((uint64_t)obj_class(type) << 56)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 17);
}

static struct pw_object *find_object(struct pw_process *p, enum pw_obj_type type, uint64_t key)
{
    if (!p->index_cap)
        return NULL;
    size_t mask = p->index_cap - 1;
    for (size_t i = obj_hash(type, key) & mask;; i = (i + 1) & mask) {
        uint32_t slot = p->index[i];
        if (!slot)
            return NULL;
        struct pw_object *o = p->objects[slot - 1];
        if (o->key == key && obj_class(o->type) == obj_class(type))
            return o;
    }
}

static void index_insert(struct pw_process *p, struct pw_object *o, uint32_t pos)
{
    size_t mask = p->index_cap - 1;
    size_t i = obj_hash(o->type, o->key) & mask;
    while (p->index[i])
        i = (i + 1) & mask;
    p->index[i] = pos + 1;
}

/* Keeps the index at most half full. */
static int index_grow(struct pw_process *p)
{
    if (p->index_cap && (p->nobjects + 1) * 2 <= p->index_cap)
        return 0;
    size_t cap = p->index_cap ? p->index_cap * 2 : 256;
    uint32_t *ni = calloc(cap, sizeof(*ni));
    if (!ni)
        return -1;
    free(p->index);
    p->index = ni;
    p->index_cap = cap;
    for (size_t i = 0; i < p->nobjects; i++)
        index_insert(p, p->objects[i], (uint32_t)i);
    return 0;
}

static void name_object(struct pw_process *p, struct pw_object *o)
{
    static const char *const names[] = {
#define PW_X(e, s, lock, chan) s,
        PW_OBJ_TYPES(PW_X)
#undef PW_X
    };
    const char *tn = o->type < PW_OBJ__COUNT ? names[o->type] : "object";
    if (o->type == PW_OBJ_THREAD && o->thread) {
        snprintf(o->id, sizeof(o->id), "%s", o->thread->name);
        return;
    }
    if (o->chan && o->chan->name[0]) {
        snprintf(o->id, sizeof(o->id), "%s '%.24s'", tn, o->chan->name);
        return;
    }
    if (pw_obj_is_chan(o->type)) {
        snprintf(o->id, sizeof(o->id), "%s#%llu", tn, (unsigned long long)o->key);
        return;
    }
    /* locks and conds are numbered in order of first appearance: addresses are
     * meaningless to a reader and change from run to run */
    snprintf(o->id, sizeof(o->id), "%s#%u", tn, ++p->type_count[o->type]);
}

static void copy_channel(struct pw_channel *ch, const struct pw_chan_rec *c)
{
    ch->id = c->id;
    ch->creator = c->creator;
    for (int s = 0; s < 2; s++) {
        ch->fd[s] = c->fd[s];
        ch->open[s] = c->open[s];
    }
    ch->sent = c->sent;
    ch->received = c->received;
    ch->inherited = c->flags & PW_CF_INHERITED;
    ch->send_nonblock = c->flags & PW_CF_SEND_NONBLOCK;
    ch->unlinked = c->flags & PW_CF_UNLINKED;
    ch->last_send_stack = c->last_send_stack;
    ch->last_send_thread = c->last_send_thread;
    memcpy(ch->name, c->name, sizeof(ch->name));
    ch->name[sizeof(ch->name) - 1] = '\0';
}

struct pw_object *pw_model_object(struct pw_process *p, enum pw_obj_type type, uint64_t key)
{
    struct pw_object *o = find_object(p, type, key);
    if (o)
        return o;
    if (index_grow(p) < 0)
        return NULL;
    if (p->nobjects == p->cap_objects) {
        size_t cap = p->cap_objects ? p->cap_objects * 2 : 64;
        struct pw_object **nv = realloc(p->objects, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        p->objects = nv;
        p->cap_objects = cap;
    }
    o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->proc = p;
    o->type = type;
    o->key = key;
    o->site_label = "first used at";
    if (pw_obj_is_chan(type)) {
        const struct pw_chan_rec *c = pw_trace_chan_by_id(p->trace, (uint32_t)key);
        if (c && c->type < PW_OBJ__COUNT && pw_obj_is_chan(c->type))
            o->type = c->type;
        if (c) {
            copy_channel(&o->channel, c);
            o->chan = &o->channel;
            /* open when this process forked: a child holds copies of its ends */
            o->shared_with_child = (c->flags & PW_CF_FORKED) != 0;
            o->create_stack = c->create_stack;
            o->site_label = "created at";
        }
    } else if (type == PW_OBJ_THREAD) {
        o->thread = pw_model_thread(p, (uint32_t)key);
    } else {
        o->gen = pw_model_generation(p, key, UINT64_MAX); /* the life alive at the end */
    }
    index_insert(p, o, (uint32_t)p->nobjects);
    p->objects[p->nobjects++] = o;
    name_object(p, o);
    return o;
}

struct pw_thread *pw_model_thread(struct pw_process *p, uint32_t serial)
{
    if (serial > p->max_serial || !p->by_serial || !p->by_serial[serial])
        return NULL;
    return &p->threads[p->by_serial[serial] - 1];
}

struct pw_thread *pw_model_thread_by_tid(struct pw_process *p, int tid)
{
    struct pw_thread *found = NULL;
    for (size_t i = 0; tid > 0 && i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->tid != tid)
            continue;
        if (t->status != PW_THR_EXITED)
            return t; /* a TID is reused only after its thread ended */
        found = t;
    }
    return found;
}

#define MAX_SERIAL (1u << 24)

/* Serial -> thread map: serials are handed out densely, so an array will do. */
static int map_serials(struct pw_process *p)
{
    /* the serials come from an untrusted file: bound the map, ignore the rest */
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].serial > p->max_serial && p->threads[i].serial <= MAX_SERIAL)
            p->max_serial = p->threads[i].serial;
    p->by_serial = calloc((size_t)p->max_serial + 1, sizeof(*p->by_serial));
    if (!p->by_serial)
        return -1;
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].serial <= p->max_serial)
            p->by_serial[p->threads[i].serial] = (uint32_t)i + 1;
    return 0;
}

size_t pw_model_holders(struct pw_process *p, const struct pw_object *obj, struct pw_thread **out,
                        size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        for (size_t h = 0; h < t->nheld; h++) {
            if (t->held[h] != obj)
                continue;
            if (n < max)
                out[n] = t;
            n++;
            break;
        }
    }
    return n;
}

/* ---- process end and liveness */

static uint64_t now_rel_ns(const struct pw_trace_header *h)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return now > h->start_mono_ns ? now - h->start_mono_ns : 0;
}

/* A trace that says "running" is either a live process (same pid and start time)
 * or one that was killed before anyone could write its end. */
static bool process_alive(const struct pw_trace_header *h)
{
    if (h->pid <= 0 || kill(h->pid, 0) != 0)
        return false;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", h->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[1024];
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = 0;
    /* field 22 (starttime) counts from after the ")" that closes comm */
    char *s = strrchr(buf, ')');
    if (!s)
        return false;
    unsigned long long start = 0;
    int field = 2;
    for (char *tok = strtok(s + 1, " "); tok; tok = strtok(NULL, " ")) {
        if (++field == 22) {
            start = strtoull(tok, NULL, 10);
            break;
        }
    }
    return h->proc_start_ticks == 0 || start == h->proc_start_ticks;
}

/* The last write into a killed process's shared mapping is as close to its death
 * as the trace can tell (the kernel stamps mtime when the mapping is written). */
static uint64_t mtime_rel_ns(const struct pw_process *p)
{
    struct stat st;
    if (stat(pw_trace_path(p->trace), &st) != 0)
        return 0;
    uint64_t m = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
    uint64_t start = pw_trace_header(p->trace)->start_realtime_ns;
    return m > start ? m - start : 0;
}

/* How and when the process ended, as the header says; returns the end time
 * (ns since the start, 0 if unknown), which raise_end completes with the
 * rings once they were replayed. */
static uint64_t set_end(struct pw_process *p)
{
    const struct pw_trace_header *h = pw_trace_header(p->trace);
    p->end = h->end_kind < PW_END__COUNT ? (enum pw_end_kind)h->end_kind : PW_END_UNKNOWN;
    p->end_status = h->end_status;
    uint64_t end_ns = h->end_ns;
    if (p->end == PW_END_RUNNING) {
        if (process_alive(h)) {
            end_ns = now_rel_ns(h);
            pw_trace_mark_seen(pw_trace_path(p->trace), end_ns);
        } else {
            /* killed before its end was written: it ended after the last
             * time a reader saw it alive (end_ns of a running trace, see
             * pw_trace_mark_seen) and after the file's last change */
            p->end = PW_END_UNKNOWN;
            uint64_t m = mtime_rel_ns(p);
            end_ns = m > end_ns ? m : end_ns;
            p->end_estimated = true;
        }
    }
    p->finished = p->end != PW_END_RUNNING;
    p->end_ms = end_ns / 1000000u;
    return end_ns;
}

/* The end is no earlier than the last event: known once the rings were
 * scanned, after the threads' parks were measured against the header's end. */
static void raise_end(struct pw_process *p, uint64_t end_ns, uint64_t last_event_ns)
{
    if (end_ns == 0 || end_ns < last_event_ns)
        end_ns = last_event_ns;
    if (end_ns / 1000000u == p->end_ms)
        return;
    p->end_ms = end_ns / 1000000u;
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        uint64_t since = t->park_since_ns / 1000000u;
        if (t->status == PW_THR_PARKED)
            t->since_ms = p->end_ms > since ? p->end_ms - since : 0;
    }
}

/* ---- threads */

static enum pw_obj_type held_type(uint8_t raw)
{
    unsigned t = raw & 0x7fu; /* 0x80 marks the read side of an rwlock */
    return t < PW_OBJ__COUNT ? (enum pw_obj_type)t : PW_OBJ_MUTEX;
}

static void init_thread(struct pw_process *p, struct pw_thread *t, const struct pw_thread_rec *r)
{
    t->proc = p;
    t->serial = r->serial;
    t->tid = r->tid;
    t->park_fd = -1;
    t->is_main = r->flags & PW_TF_MAIN;
    t->detached = r->flags & PW_TF_DETACHED;
    t->joined = r->flags & PW_TF_JOINED;
    t->adopted = r->flags & PW_TF_ADOPTED;
    t->held_at_exit = r->flags & PW_TF_HELD_AT_EXIT;
    t->ignored = r->flags & PW_TF_IGNORED;
    t->returned = r->flags & PW_TF_RETURNED;
    t->create_stack = r->create_stack;
    t->exit_stack = r->exit_stack;
    t->parks = r->parks;
    pw_thread_rec_name(p->exe, r, t->name, sizeof(t->name));
    if (!t->name[0])
        snprintf(t->name, sizeof(t->name), "T%u", r->serial);
}

void pw_thread_rec_name(const char *exe, const struct pw_thread_rec *r, char *out, size_t len)
{
    const char *base = exe ? strrchr(exe, '/') : NULL;
    base = base ? base + 1 : exe;
    /* the main thread's recorded name is the program's comm: "main" says more,
     * as in a goroutine dump */
    if (r->flags & PW_TF_MAIN)
        snprintf(out, len, "main");
    else if (r->name[0] && !(base && strncmp(r->name, base, PW_THREAD_NAME_MAX - 1) == 0))
        snprintf(out, len, "%.15s", r->name);
    else
        snprintf(out, len, "%s", "");
}

const char *pw_thread_label_of(uint32_t serial, const char *name, char *buf, size_t len)
{
    if (name[0])
        snprintf(buf, len, "T%u '%s'", serial, name);
    else
        snprintf(buf, len, "T%u", serial);
    return buf;
}

const char *pw_thread_label(const struct pw_thread *t, char *buf, size_t len)
{
    char bare[16];
    snprintf(bare, sizeof(bare), "T%u", t->serial);
    return pw_thread_label_of(t->serial, strcmp(t->name, bare) == 0 ? "" : t->name, buf, len);
}

/* A poll park: the channels of its set become members of the pollset object. */
static int link_set(struct pw_process *p, struct pw_object *set, const struct pw_thread_rec *r)
{
    unsigned n = r->park_set_n < PW_PARK_SET_MAX ? r->park_set_n : PW_PARK_SET_MAX;
    for (unsigned i = 0; i < n; i++) {
        struct pw_object *c = pw_model_object(p, PW_OBJ_PIPE, r->park_set[i] & ~PW_SET_SEND);
        if (!c || PTR_PUSH(set->members, set->nmembers, c) < 0)
            return -1;
        if (!(r->park_set[i] & PW_SET_SEND) &&
            PTR_PUSH(set->recv_members, set->nrecv_members, c) < 0)
            return -1;
    }
    if (r->park_set_other || r->park_set_n > PW_PARK_SET_MAX)
        set->outside = true; /* members that are not channels (or not listed) */
    return 0;
}

/* Second pass: everything that refers to other threads or objects. */
static int link_thread(struct pw_process *p, struct pw_thread *t, const struct pw_thread_rec *r)
{
    t->parent = r->parent_serial ? pw_model_thread(p, r->parent_serial) : NULL;
    t->status = r->state == PW_TS_EXITED ? PW_THR_EXITED : PW_THR_RUNNING;
    if (t->status != PW_THR_EXITED && r->park_op != PW_OP_NONE && r->park_op < PW_OP__COUNT) {
        enum pw_obj_type ot = pw_op_obj_type(r->park_op);
        t->waits_on = ot == PW_OBJ_NONE ? NULL : pw_model_object(p, ot, r->park_obj);
        if (ot != PW_OBJ_NONE && !t->waits_on)
            return -1;
        if (t->waits_on) {
            t->status = PW_THR_PARKED;
            t->op = (enum pw_park_op)r->park_op;
            t->waits_read = t->op == PW_OP_RWLOCK_RD;
            t->park_stack = r->park_stack;
            t->park_flags = r->park_flags;
            t->park_since_ns = r->park_since_ns;
            if (t->op == PW_OP_COND_WAIT)
                t->wait_mutex = r->park_obj2;
            t->park_fd = t->op == PW_OP_POLL ? -1 : r->park_fd;
            uint64_t since = r->park_since_ns / 1000000u;
            t->since_ms = p->end_ms > since ? p->end_ms - since : 0;
            t->forever = p->finished && !(t->park_flags & (PW_PARK_TIMED | PW_PARK_NONBLOCK));
            if (!t->waits_on->create_stack && t->waits_on->type != PW_OBJ_THREAD)
                t->waits_on->create_stack = r->park_stack; /* first-use site */
            if (t->op == PW_OP_POLL && link_set(p, t->waits_on, r) < 0)
                return -1;
            if (t->op == PW_OP_FUTEX_LOCK_PI)
                t->waits_on->pi_owner_tid = (int)r->park_obj2;
            if (t->waits_on->type == PW_OBJ_FUTEX && (t->park_flags & PW_PARK_OUTSIDE))
                t->waits_on->outside = true; /* not FUTEX_PRIVATE: shared with other processes */
        }
    }
    size_t nheld = r->nheld < PW_HELD_MAX ? r->nheld : PW_HELD_MAX;
    t->held = calloc(nheld ? nheld : 1, sizeof(*t->held));
    t->held_read = calloc(nheld ? nheld : 1, sizeof(*t->held_read));
    t->held_site = calloc(nheld ? nheld : 1, sizeof(*t->held_site));
    if (!t->held || !t->held_read || !t->held_site)
        return -1;
    /* the record's sites were written at the last park or at the end: stale
     * for a thread that ran since */
    bool sites = t->status != PW_THR_RUNNING;
    for (size_t i = 0; i < nheld; i++) {
        struct pw_object *o = pw_model_object(p, held_type(r->held_type[i]), r->held[i]);
        if (!o)
            return -1;
        t->held_read[t->nheld] = (r->held_type[i] & 0x80u) != 0;
        t->held_site[t->nheld] = sites && i < PW_HELD_SITES ? r->held_site[i] : 0;
        t->held[t->nheld++] = o;
    }
    return 0;
}

/* ---- history from the rings */

static int push_child_pid(struct pw_process *p, int pid)
{
    for (size_t i = 0; i < p->nforks; i++)
        if (p->fork_children[i] == pid)
            return 0;
    int *nv = realloc(p->fork_children, (p->nforks + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    nv[p->nforks++] = pid;
    p->fork_children = nv;
    return 0;
}

/* The pids of the children the ring still remembers; the channels a child got
 * copies of are flagged in their records (PW_CF_FORKED), not found here. */
static int replay_fork(struct pw_process *p, const struct pw_event *e)
{
    if (e->op != PW_FORK_PARENT)
        return 0; /* the child side: the parent's trace records the fork */
    return push_child_pid(p, (int)e->arg);
}

/* The last wake-up of a cond made under a lock: the latest in replay order. */
static void note_wake(struct pw_object *o, const struct pw_event *e)
{
    if (o->type == PW_OBJ_COND && e->obj2 && e->time_ns >= o->wake_ns) {
        o->wake_ns = e->time_ns;
        o->wake_lock = e->obj2;
        o->wake_all = e->arg != 0;
    }
}

/* 0, or -1 when out of memory.  *ACTED gets the object of a signal, send or
 * receive by a known thread (the act is then in the object's set), else NULL. */
static int replay_act(struct pw_process *p, const struct pw_event *e, struct pw_object **acted)
{
    struct pw_thread *t = pw_model_thread(p, e->thread);
    struct pw_object *o;
    *acted = NULL;
    switch (e->kind) {
    case PW_EV_COND_SIGNAL: /* op PW_OBJ_SEM: a sem_post; PW_OBJ_FUTEX: a futex wake */
        if (!t)
            return 0;
        o = pw_model_object(
            p, e->op == PW_OBJ_SEM || e->op == PW_OBJ_FUTEX ? (enum pw_obj_type)e->op : PW_OBJ_COND,
            e->obj);
        if (!o)
            return -1;
        if (o->type == PW_OBJ_FUTEX && pw_model_generation(p, e->obj, e->time_ns) != o->gen)
            return 0; /* a wake of an earlier life of the word: another object */
        note_wake(o, e);
        *acted = o;
        return PTR_PUSH(o->signallers, o->nsignallers, t);
    case PW_EV_CHAN_SEND:
        if (!t || e->result < 0)
            return 0;
        if (!(o = pw_model_object(p, PW_OBJ_PIPE, e->obj)))
            return -1;
        *acted = o;
        return PTR_PUSH(o->senders, o->nsenders, t);
    case PW_EV_CHAN_RECV:
        if (!t || e->result < 0)
            return 0;
        if (!(o = pw_model_object(p, PW_OBJ_PIPE, e->obj)))
            return -1;
        *acted = o;
        return PTR_PUSH(o->receivers, o->nreceivers, t);
    case PW_EV_LOCK_INIT:
        if (e->stack &&
            (o = find_object(p, e->op < PW_OBJ__COUNT ? e->op : PW_OBJ_MUTEX, e->obj))) {
            o->create_stack = e->stack;
            o->site_label = "initialized at";
        }
        if ((e->op == PW_OBJ_SEM || e->op == PW_OBJ_BARRIER) &&
            (o = find_object(p, e->op, e->obj))) {
            o->init_arg = e->arg;
            o->init_seen = true;
            o->outside = e->obj2 != 0;
        }
        return 0;
    case PW_EV_FORK:
        return replay_fork(p, e);
    default:
        return 0;
    }
}

static int replay_event(struct pw_process *p, const struct pw_event *e)
{
    struct pw_object *o;
    return replay_act(p, e, &o);
}

/* The ring events replay_event uses, plus the generation marks and the parks
 * and unparks that tell a futex word's lives apart: the one pass over the
 * rings skips every other kind before it costs anything. */
#define REPLAY_KINDS                                                                       \
    (PW_KIND_BIT(PW_EV_COND_SIGNAL) | PW_KIND_BIT(PW_EV_CHAN_SEND) |                       \
     PW_KIND_BIT(PW_EV_CHAN_RECV) | PW_KIND_BIT(PW_EV_LOCK_INIT) |                         \
     PW_KIND_BIT(PW_EV_LOCK_DESTROY) | PW_KIND_BIT(PW_EV_FORK) | PW_KIND_BIT(PW_EV_PARK) | \
     PW_KIND_BIT(PW_EV_UNPARK))

/* ---- generations: LOCK_INIT / LOCK_DESTROY of an address */

static int cmp_mark(const void *a, const void *b)
{
    const struct pw_gen_mark *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

/* ---- futex generations
 *
 * A futex word has no init or destroy: the same address serves one object,
 * then, once the memory is freed and reused, an unrelated one.  Merged, the
 * second would inherit the first's wakers, and a chain could run through a
 * thread that only ever woke the old object (a cycle that never was).  A new
 * life of the word at ADDR begins (a mark, as a lock init is one) at a wait
 * that comes after a wake of all its waiters (INT_MAX: a one-shot event, a
 * latch, a future made ready), when nobody was left waiting on it, from a
 * call site (park stack) that had not waited on it since the last mark.  A
 * word used as a condition in a loop (broadcast, then the same waiters wait
 * again) stays one life; a word reused by other code starts a new one.  Only
 * the wakers of the life alive at the end count for that life's waiters.
 * Parks and wakes come from the ring, so a life whose events the ring lost
 * is merged with the next, as before generations. */

static bool futex_wait_event(const struct pw_event *e)
{
    return (e->kind == PW_EV_PARK || e->kind == PW_EV_UNPARK) && e->op == PW_OP_FUTEX_WAIT;
}

static bool futex_wake_all(const struct pw_event *e)
{
    return e->kind == PW_EV_COND_SIGNAL && e->op == PW_OBJ_FUTEX && e->arg == 1;
}

/* One futex event, as futex_marks walks them: by word, then time. */
struct fx_ev {
    uint64_t addr, time_ns;
    size_t order; /* ring order, for events at the same time */
    uint32_t stack;
    uint16_t kind;
};

static int cmp_fx(const void *a, const void *b)
{
    const struct fx_ev *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

#define LIFE_SITES 16

/* The futex life marks, pushed with push_mark: from the futex parks, unparks
 * and wakes of all of the ring (V, N: gathered by the ring pass, consumed
 * here) and the notes' wakes of all (a thread's first wake of a word is a
 * note only). */
static int push_mark(struct pw_process *p, size_t *cap, const struct pw_event *e);

static int futex_marks(struct pw_process *p, size_t *cap, const struct fx_ev *ring, size_t nring,
                       const struct pw_event *notes, size_t nnotes)
{
    size_t n = nring;
    for (size_t i = 0; i < nnotes; i++)
        n += futex_wake_all(&notes[i]);
    if (!n)
        return 0;
    struct fx_ev *v = malloc(n * sizeof(*v));
    if (!v)
        return -1;
    if (nring)
        memcpy(v, ring, nring * sizeof(*v));
    for (size_t i = 0, k = nring; i < nnotes; i++)
        if (futex_wake_all(&notes[i]))
            v[k++] = (struct fx_ev){notes[i].obj, notes[i].time_ns, SIZE_MAX, notes[i].stack,
                                    notes[i].kind};
    qsort(v, n, sizeof(*v), cmp_fx);
    uint64_t addr = 0;
    size_t waiting = 0, nsites = 0;
    bool woke_all = false;
    uint32_t sites[LIFE_SITES];
    for (size_t j = 0; j < n; j++) {
        const struct fx_ev *e = &v[j];
        if (j == 0 || e->addr != addr) {
            addr = e->addr;
            waiting = nsites = 0;
            woke_all = false;
        }
        if (e->kind == PW_EV_COND_SIGNAL) {
            woke_all = true;
        } else if (e->kind == PW_EV_UNPARK) {
            waiting -= waiting > 0;
        } else {
            bool known = false;
            for (size_t s = 0; s < nsites && !known; s++)
                known = sites[s] == e->stack;
            if (woke_all && waiting == 0 && !known) {
                struct pw_event m = {.obj = addr, .time_ns = e->time_ns};
                if (push_mark(p, cap, &m) < 0) {
                    free(v);
                    return -1;
                }
                nsites = 0;
            }
            woke_all = false;
            waiting++;
            if (!known && nsites < LIFE_SITES)
                sites[nsites++] = e->stack;
        }
    }
    free(v);
    return 0;
}

static bool is_mark(const struct pw_event *e)
{
    return e->kind == PW_EV_LOCK_DESTROY || e->kind == PW_EV_LOCK_INIT;
}

static int push_mark(struct pw_process *p, size_t *cap, const struct pw_event *e)
{
    if (p->nmarks == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct pw_gen_mark *nv = realloc(p->marks, nc * sizeof(*nv));
        if (!nv)
            return -1;
        p->marks = nv;
        *cap = nc;
    }
    p->marks[p->nmarks++] = (struct pw_gen_mark){e->obj, e->time_ns};
    return 0;
}

/* The ring pass: marks are gathered while the events are replayed (the
 * generations they give are settled by finish_marks afterwards).  A ring
 * repeats the same acts (a thread signalling its cond, sending on its pipe)
 * millions of times, and a repeat adds nothing to the sets: a small memo of
 * (kind, op, thread, object) acts already replayed skips the lookups, keeping
 * only what a repeat can change (a cond's latest wake-up). */
#define ACT_MEMO 1024u

struct act_memo {
    uint64_t obj;
    uint32_t thread;
    uint16_t kind, op;
    struct pw_object *o; /* NULL: empty */
};

struct ring_pass {
    struct pw_process *p;
    size_t cap_marks;
    struct act_memo memo[ACT_MEMO];
    /* futex parks, unparks and wakes of all (for futex_marks), and every
     * futex wake, replayed once the generations are known */
    struct fx_ev *fx;
    size_t nfx, capfx;
    struct pw_event *wakes;
    size_t nwakes, capwakes;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = realloc(*v, nc * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

static int replay_act(struct pw_process *p, const struct pw_event *e, struct pw_object **acted);

static int replay_ring_event(void *arg, const struct pw_event *e)
{
    struct ring_pass *r = arg;
    if (is_mark(e) && push_mark(r->p, &r->cap_marks, e) < 0)
        return -1;
    if (futex_wait_event(e) || futex_wake_all(e)) {
        if (grow((void **)&r->fx, &r->capfx, r->nfx, sizeof(*r->fx)) < 0)
            return -1;
        size_t k = r->nfx++;
        r->fx[k] = (struct fx_ev){e->obj, e->time_ns, k, e->stack, e->kind};
    }
    if (e->kind == PW_EV_PARK || e->kind == PW_EV_UNPARK)
        return 0; /* read for the futex lives only */
    if (e->kind == PW_EV_COND_SIGNAL && e->op == PW_OBJ_FUTEX) {
        /* whose life a wake belongs to is known after the pass */
        if (grow((void **)&r->wakes, &r->capwakes, r->nwakes, sizeof(*r->wakes)) < 0)
            return -1;
        r->wakes[r->nwakes++] = *e;
        return 0;
    }
    uint64_t h = (e->obj ^ ((uint64_t)e->thread << 40) ^ ((uint64_t)e->kind << 32)) *
                 0x9e3779b97f4a7c15ull;
    struct act_memo *m = &r->memo[h >> 54];
    if (m->o && m->obj == e->obj && m->thread == e->thread && m->kind == e->kind &&
        m->op == e->op && (e->kind == PW_EV_COND_SIGNAL || e->result >= 0)) {
        note_wake(m->o, e);
        return 0;
    }
    struct pw_object *o;
    int rc = replay_act(r->p, e, &o);
    if (rc == 0 && o)
        *m = (struct act_memo){e->obj, e->thread, e->kind, e->op, o};
    return rc;
}

/* Marks from the rings (gathered by the ring pass) and from the notes (where
 * the shim puts those of a lock that appears in a lock-order edge, so that
 * they survive the ring), sorted; the same mark seen twice counts once.  The
 * objects made before every mark was known get their generation now. */
static int finish_marks(struct pw_process *p, struct ring_pass *rp, const struct pw_event *notes,
                        size_t nnotes)
{
    size_t *cap = &rp->cap_marks;
    if (futex_marks(p, cap, rp->fx, rp->nfx, notes, nnotes) < 0)
        return -1;
    for (size_t i = 0; i < nnotes; i++)
        if (is_mark(&notes[i]) && push_mark(p, cap, &notes[i]) < 0)
            return -1;
    if (p->nmarks)
        qsort(p->marks, p->nmarks, sizeof(*p->marks), cmp_mark);
    size_t u = 0;
    for (size_t i = 0; i < p->nmarks; i++)
        if (!u || p->marks[i].addr != p->marks[u - 1].addr ||
            p->marks[i].time_ns != p->marks[u - 1].time_ns)
            p->marks[u++] = p->marks[i];
    p->nmarks = u;
    for (size_t i = 0; i < p->nobjects; i++) {
        struct pw_object *o = p->objects[i];
        if (!pw_obj_is_chan(o->type) && o->type != PW_OBJ_THREAD)
            o->gen = pw_model_generation(p, o->key, UINT64_MAX); /* the life alive at the end */
    }
    return 0;
}

uint32_t pw_model_generation(const struct pw_process *p, uint64_t addr, uint64_t time_ns)
{
    size_t lo = 0, hi = p->nmarks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->marks[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t g = 0;
    for (size_t i = lo; i < p->nmarks && p->marks[i].addr == addr && p->marks[i].time_ns < time_ns;
         i++)
        g++;
    return g;
}

/* ---- the notes: misuse and lock-order edges */

static int add_misuse(struct pw_process *p, const struct pw_event *e)
{
    struct pw_thread *t = pw_model_thread(p, e->thread);
    if (!t)
        return 0; /* a thread the trace lost: nobody to name */
    /* a lock misuse names its lock or cond's type in result; a channel's is 0 */
    bool lock = e->op >= PW_MISUSE_UNLOCK_NOT_HELD && e->result > 0 && e->result < PW_OBJ__COUNT;
    struct pw_object *o = pw_model_object(p, lock ? (enum pw_obj_type)e->result : PW_OBJ_PIPE,
                                          e->obj);
    if (!o)
        return -1;
    struct pw_object *o2 = lock && e->obj2 ? pw_model_object(p, PW_OBJ_MUTEX, e->obj2) : NULL;
    if (lock && e->obj2 && !o2)
        return -1;
    struct pw_misuse *nv = realloc(p->misuses, (p->nmisuses + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    p->misuses = nv;
    nv[p->nmisuses++] = (struct pw_misuse){
        .kind = e->op < PW_MISUSE__COUNT ? (enum pw_misuse_kind)e->op : PW_MISUSE_NONE,
        .t = t,
        .o = o,
        .o2 = o2,
        .fd = lock ? -1 : (long long)e->obj2,
        .stack = e->stack,
        .stack2 = e->stack2,
        .other = e->arg ? pw_model_thread(p, (uint32_t)e->arg) : NULL,
        .err = lock ? 0 : e->err,
        .call = lock && e->op == PW_MISUSE_USE_DESTROYED && e->err > 0 && e->err < PW_CALL__COUNT
                    ? (enum pw_lock_call)e->err
                    : PW_CALL_NONE,
    };
    return 0;
}

static enum pw_obj_type edge_type(uint64_t raw)
{
    return raw < PW_OBJ__COUNT ? (enum pw_obj_type)raw : PW_OBJ_MUTEX;
}

/* A HELD_AT_EXIT note says where its thread took the lock: the record mirrors
 * only the first PW_HELD_SITES of them. */
static void held_at_exit_site(struct pw_process *p, const struct pw_event *e)
{
    struct pw_thread *t = pw_model_thread(p, e->thread);
    if (!t || t->status != PW_THR_EXITED || !e->stack)
        return;
    for (size_t h = 0; h < t->nheld; h++) {
        if (t->held[h]->key == e->obj && !t->held_site[h]) {
            t->held_site[h] = e->stack;
            return;
        }
    }
}

/* True when ADDR lies in a loaded module's image (a static or global lock):
 * its storage lives as long as the module, so without init or destroy marks it
 * has one life. */
static bool static_addr(const struct pw_process *p, uint64_t addr)
{
    for (size_t i = 0; i < pw_trace_nmodules(p->trace); i++) {
        const struct pw_module *m = pw_trace_module(p->trace, i);
        if (m->state == 1 && addr >= m->lo && addr < m->hi)
            return true;
    }
    return false;
}

/* A lock the shim never saw initialised (PTHREAD_MUTEX_INITIALIZER or zeroed
 * memory) outside any module's image: heap or stack memory, which may have
 * been freed and reused for another lock without pthread_mutex_destroy.  Its
 * life is unknown, so its edges are kept apart (issue 14). */
static bool life_unknown(const struct pw_process *p, uint64_t addr, bool noinit)
{
    return noinit && !static_addr(p, addr);
}

static int replay_notes(struct pw_process *p, const struct pw_event *notes, size_t n)
{
    size_t nedges = 0;
    for (size_t i = 0; i < n; i++)
        nedges += notes[i].kind == PW_EV_LOCK_EDGE;
    p->lock_edges = calloc(nedges ? nedges : 1, sizeof(*p->lock_edges));
    if (!p->lock_edges)
        return -1;
    /* minor version 1 had A's type in result and no classes */
    bool classes = pw_trace_header(p->trace)->version_minor >= 2;
    for (size_t i = 0; i < n; i++) {
        const struct pw_event *e = &notes[i];
        if (e->kind == PW_EV_MISUSE && add_misuse(p, e) < 0)
            return -1;
        if (e->kind == PW_EV_HELD_AT_EXIT)
            held_at_exit_site(p, e);
        if (e->kind != PW_EV_LOCK_EDGE)
            continue;
        p->lock_edges[p->nlock_edges++] = (struct pw_lock_edge){
            .serial = e->thread,
            .a = e->obj,
            .b = e->obj2,
            .gen_a = pw_model_generation(p, e->obj, e->time_ns),
            .gen_b = pw_model_generation(p, e->obj2, e->time_ns),
            .type_a = edge_type(classes ? PW_EDGE_TYPE_A(e->arg) : (uint64_t)(uint32_t)e->result),
            .type_b = edge_type(e->op),
            .a_read = (e->arg & PW_EDGE_A_READ) != 0,
            .b_read = (e->arg & PW_EDGE_B_READ) != 0,
            .gate = PW_EDGE_GATE(e->arg),
            .stack = e->stack,
            .stack2 = e->stack2,
            .a_unknown = life_unknown(p, e->obj, (e->arg & PW_EDGE_A_NOINIT) != 0),
            .b_unknown = life_unknown(p, e->obj2, (e->arg & PW_EDGE_B_NOINIT) != 0),
            .cls_a = classes ? (uint32_t)e->result : 0,
            .cls_b = classes ? (uint32_t)e->err : 0,
        };
    }
    return 0;
}

/* A cond waiter still parked after a wake-up is re-taking its mutex: the
 * wake-up was made under that mutex after the wait began (so the waiter was
 * inside the wait, the mutex being held from its park until the wait released
 * it), and it woke this waiter (a broadcast, or a signal with no other waiter
 * left parked), and someone holds the mutex now (else the waiter would have
 * it).  pthread_cond_wait's own relock is not interposed: this is how the
 * analyzer sees that wait. */
static void cond_wakeups(struct pw_process *p)
{
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        struct pw_object *c = t->waits_on;
        if (t->status != PW_THR_PARKED || t->op != PW_OP_COND_WAIT || !t->wait_mutex || !c ||
            !c->wake_ns || c->wake_ns < t->park_since_ns || c->wake_lock != t->wait_mutex)
            continue;
        size_t waiters = 0;
        for (size_t k = 0; k < p->nthreads; k++)
            waiters += p->threads[k].status == PW_THR_PARKED && p->threads[k].waits_on == c;
        if (!c->wake_all && waiters != 1)
            continue; /* a signal woke one of them: which one is unknown */
        for (size_t k = 0; k < p->nthreads && !t->reacquires; k++) {
            const struct pw_thread *u = &p->threads[k];
            for (size_t h = 0; h < u->nheld; h++)
                if (u != t && u->held[h]->type == PW_OBJ_MUTEX && u->held[h]->key == t->wait_mutex)
                    t->reacquires = u->held[h];
        }
    }
}

/* ---- build */

static int build_process(struct pw_process *p, const struct pw_trace *tr)
{
    const struct pw_trace_header *h = pw_trace_header(tr);
    p->trace = tr;
    p->pid = h->pid;
    p->ppid = h->ppid;
    p->exe = h->exe;
    p->exec_gen = h->exec_gen;
    p->start_mono_ns = h->start_mono_ns;
    p->forks = h->forks;
    p->lost.notes = h->dropped_notes;
    p->lost.edges = h->dropped_edges;
    p->lost.folded = h->folded_edges;
    p->lost.acts = h->dropped_acts;
    p->lost.per_class = h->edges_per_class;
    p->threads_without_slot = h->dropped_threads;
    p->dropped_chans = h->dropped_chans;
    p->not_recording = h->recording == 0 && h->end_kind == PW_END_RUNNING;
    for (size_t i = 0; i < PW_TIMERS_MAX; i++)
        if (h->timers[i].state == 1u && h->timers[i].deadline_ns != 0)
            p->timers[p->ntimers++] = h->timers[i];
    p->timers_unknown = h->timers_overflow;

    size_t nnotes = 0;
    const struct pw_event *notes = pw_trace_notes(tr, &nnotes);
    uint64_t end_ns = set_end(p);

    p->nthreads = pw_trace_nthreads(tr);
    p->threads = calloc(p->nthreads ? p->nthreads : 1, sizeof(*p->threads));
    if (!p->threads)
        return -1;
    for (size_t i = 0; i < p->nthreads; i++)
        init_thread(p, &p->threads[i], pw_trace_thread(tr, i));
    if (map_serials(p) < 0)
        return -1;
    for (size_t i = 0; i < p->nthreads; i++)
        if (link_thread(p, &p->threads[i], pw_trace_thread(tr, i)) < 0)
            return -1;
    /* every channel is an object, parked on or not: fd-leak and unread data need them */
    for (size_t i = 0; i < pw_trace_nchans(tr); i++) {
        const struct pw_chan_rec *c = pw_trace_chan(tr, i);
        if (!pw_model_object(p, c->type < PW_OBJ__COUNT ? (enum pw_obj_type)c->type : PW_OBJ_PIPE,
                             c->id))
            return -1;
    }
    /* one merged pass over the rings, in time order, of the kinds replayed */
    struct ring_pass *rp = calloc(1, sizeof(*rp));
    if (!rp)
        return -1;
    rp->p = p;
    int rc = pw_trace_each_event(tr, REPLAY_KINDS, replay_ring_event, rp);
    if (rc == 0 && finish_marks(p, rp, notes, nnotes) < 0)
        rc = -1;
    /* the futex wakes, now that each word's lives are known (replay_act) */
    for (size_t i = 0; rc == 0 && i < rp->nwakes; i++)
        rc = replay_event(p, &rp->wakes[i]);
    free(rp->fx);
    free(rp->wakes);
    free(rp);
    if (rc == PW_EACH_RESTART)
        return rc; /* a corrupt ring: built again, from the sorted events */
    if (rc != 0)
        return -1;
    raise_end(p, end_ns, pw_trace_last_event_ns(tr));
    /* the notes never wrap: barrier counts, named semaphores, the lock lives of
     * locks in edges, and every thread's first signal, post, send and receive
     * of each object (the sets above are sets: a later ring act adds nothing) */
    for (size_t i = 0; i < nnotes; i++)
        if (notes[i].kind != PW_EV_FORK && replay_event(p, &notes[i]) < 0)
            return -1;
    /* the latest child, when the ring lost every fork event */
    if (h->forks > p->nforks && h->last_child_pid > 0 && push_child_pid(p, h->last_child_pid) < 0)
        return -1;
    if (replay_notes(p, notes, nnotes) < 0)
        return -1;
    cond_wakeups(p);
    return 0;
}

/* ---- the kernel's view at the end: the tasks file, unfollowed threads */

/* Which thread ended the process: the PROC_END note's recorder; without the
 * note (an older trace), the main thread of a process that exited. */
static uint32_t exit_serial(const struct pw_process *p)
{
    size_t n = 0;
    const struct pw_event *notes = pw_trace_notes(p->trace, &n);
    for (size_t i = n; i-- > 0;)
        if (notes[i].kind == PW_EV_PROC_END)
            return notes[i].thread;
    for (size_t i = 0; p->end == PW_END_EXIT && i < p->nthreads; i++)
        if (p->threads[i].is_main)
            return p->threads[i].serial;
    return 0;
}

/* Links the kernel's view (p->ktasks, may be NULL) to the threads. */
static int link_ktasks(struct pw_process *p);

static int attach_ktasks(struct pw_process *p)
{
    char path[4096];
    p->exit_serial = exit_serial(p);
    struct pw_ktasks kt;
    if (pw_ktasks_path(pw_trace_path(p->trace), path, sizeof(path)) &&
        pw_ktasks_load(path, &kt) == 0) {
        if (kt.pid != p->pid) {
            pw_ktasks_free(&kt); /* another process's file under this name: not ours */
        } else if (!(p->ktasks = malloc(sizeof(*p->ktasks)))) {
            pw_ktasks_free(&kt);
            return -1;
        } else {
            *p->ktasks = kt;
        }
    }
    return link_ktasks(p);
}

int pw_model_set_ktasks(struct pw_process *p, struct pw_ktasks *kt)
{
    if (p->ktasks || kt->pid != p->pid)
        return 0; /* the file written at the end wins over a later look */
    if (!(p->ktasks = malloc(sizeof(*p->ktasks))))
        return -1;
    *p->ktasks = *kt;
    memset(kt, 0, sizeof(*kt));
    p->nunfollowed = 0;
    return link_ktasks(p);
}

/* Futex waits the shim marked external (not FUTEX_PRIVATE, word outside
 * static data and the brk heap) whose word lies in a private anonymous mapping
 * of the kernel's view: the kernel keys such a futex by this process's address
 * space, so only this process can wake it (README, Limitations). */
static void apply_private(struct pw_process *p, const struct pw_ktasks *kt)
{
    for (size_t i = 0; kt && kt->npriv && i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->status != PW_THR_PARKED || t->waits_on->type != PW_OBJ_FUTEX ||
            !pw_ktasks_private(kt, t->waits_on->key))
            continue;
        t->park_flags &= (uint16_t)~PW_PARK_OUTSIDE;
        t->waits_on->outside = false;
    }
}

void pw_model_set_private(struct pw_process *p, uint64_t *ranges, size_t n)
{
    struct pw_ktasks kt = {.pid = p->pid, .npriv = n, .priv = ranges};
    apply_private(p, &kt);
}

static int link_ktasks(struct pw_process *p)
{
    apply_private(p, p->ktasks);
    for (size_t i = 0; i < p->nthreads; i++) {
        struct pw_thread *t = &p->threads[i];
        if (t->status == PW_THR_EXITED)
            continue;
        t->ktask = pw_ktasks_find(p->ktasks, t->tid);
        t->unfollowed = p->finished && t->status == PW_THR_RUNNING &&
                        !(p->exit_serial && t->serial == p->exit_serial) &&
                        pw_thread_view(t) != PW_TSTATE_RUNNING;
        p->nunfollowed += t->unfollowed;
    }
    for (size_t i = 0; p->ktasks && i < p->ktasks->n; i++) {
        const struct pw_ktask *k = &p->ktasks->v[i];
        bool known = false;
        for (size_t j = 0; j < p->nthreads && !known; j++)
            known = p->threads[j].tid == k->tid && p->threads[j].status != PW_THR_EXITED;
        /* the task that took the snapshot is the one ending the process */
        if (known || k->state == 'Z' || k->state == 'X' ||
            strcmp(k->why_no_stack, PW_KTASK_SELF) == 0)
            continue;
        const struct pw_ktask **nv = realloc(p->stray, (p->nstray + 1) * sizeof(*nv));
        if (!nv)
            return -1;
        nv[p->nstray++] = k;
        p->stray = nv;
        p->nunfollowed++;
    }
    return 0;
}

enum pw_thread_view pw_thread_view(const struct pw_thread *t)
{
    if (t->status == PW_THR_PARKED)
        return PW_TSTATE_PARKED;
    if (t->status == PW_THR_EXITED)
        return PW_TSTATE_EXITED;
    const struct pw_process *p = t->proc;
    if (p->finished && p->exit_serial && t->serial == p->exit_serial)
        return PW_TSTATE_RUNNING; /* it called exit: that is what it was doing */
    const struct pw_ktask *k = t->ktask;
    if (!k)
        return PW_TSTATE_UNKNOWN;
    if (k->state == 'R' || k->sysno == PW_KTASK_SYS_RUNNING)
        return PW_TSTATE_RUNNING;
    if (k->sysno >= 0 && (k->state == 'S' || k->state == 'D'))
        return PW_TSTATE_BLOCKED;
    return PW_TSTATE_UNKNOWN;
}

const char *pw_thread_state_str(enum pw_thread_view s)
{
    static const char *const names[] = {
#define PW_X(e, str) str,
        PW_THREAD_STATES(PW_X)
#undef PW_X
    };
    return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *pw_thread_blocked_in(const struct pw_thread *t, char *buf, size_t len)
{
    const struct pw_ktask *k = t->ktask;
    if (!k || k->sysno < 0)
        return NULL;
    return pw_ktask_blocked_in(k, buf, len);
}

/* ---- the process tree: a parent's channels, copied into its children */

static bool knows_child(const struct pw_process *p, int pid)
{
    if (p->forks)
        return true; /* it forked: any child of its pid started after it may be one */
    for (size_t i = 0; i < p->nforks; i++)
        if (p->fork_children[i] == pid)
            return true; /* a 1.0 trace: only the ring's fork events say it */
    return false;
}

/* The image of Q's parent that forked it: a trace of pid Q->ppid that started
 * before Q, the latest such (an exec starts a new image of the same pid).  The
 * headers say it, whatever the rings kept of the fork events. */
static struct pw_process *forker_of(struct pw_model *m, const struct pw_process *q)
{
    struct pw_process *best = NULL;
    for (size_t i = 0; i < m->nprocs; i++) {
        struct pw_process *p = &m->procs[i];
        if (p == q || p->pid != q->ppid || p->start_mono_ns > q->start_mono_ns ||
            !knows_child(p, q->pid))
            continue;
        if (!best || p->start_mono_ns > best->start_mono_ns)
            best = p;
    }
    return best;
}

static int link_children(struct pw_model *m, struct pw_process *q)
{
    if (q->exec_gen != 0)
        return 0; /* an exec'd image: its first image is the child */
    struct pw_process *p = forker_of(m, q);
    if (!p)
        return 0;
    struct pw_process **nv = realloc(p->children, (p->nchildren + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    nv[p->nchildren++] = q;
    p->children = nv;
    q->parent_proc = p;
    return push_child_pid(p, q->pid);
}

size_t pw_model_child_holders(const struct pw_object *o, int side, struct pw_process **out,
                              size_t max)
{
    size_t n = 0;
    if (!o->chan || side < 0 || side > 1)
        return 0;
    for (size_t i = 0; i < o->proc->nchildren; i++) {
        struct pw_process *q = o->proc->children[i];
        const struct pw_chan_rec *c = pw_trace_chan_by_id(q->trace, o->chan->id);
        if (!c || !(c->flags & PW_CF_INHERITED) || c->open[side] <= 0)
            continue;
        if (n < max)
            out[n] = q;
        n++;
    }
    return n;
}

struct pw_process *pw_model_parent_holder(const struct pw_object *o, int side)
{
    struct pw_process *pp = o->proc->parent_proc;
    if (!o->chan || !o->chan->inherited || !pp || side < 0 || side > 1)
        return NULL;
    const struct pw_chan_rec *c = pw_trace_chan_by_id(pp->trace, o->chan->id);
    return c && c->open[side] > 0 ? pp : NULL;
}

static void free_process(struct pw_process *p);

struct pw_model *pw_model_build(struct pw_trace **traces, size_t n)
{
    struct pw_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->procs = calloc(n ? n : 1, sizeof(*m->procs));
    if (!m->procs)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        m->nprocs++;
        int rc = build_process(&m->procs[i], traces[i]);
        if (rc == PW_EACH_RESTART) {
            free_process(&m->procs[i]);
            memset(&m->procs[i], 0, sizeof(m->procs[i]));
            rc = build_process(&m->procs[i], traces[i]);
        }
        if (rc < 0 || attach_ktasks(&m->procs[i]) < 0)
            goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (link_children(m, &m->procs[i]) < 0)
            goto fail;
    return m;
fail:
    pw_model_free(m);
    return NULL;
}

static void free_object(struct pw_object *o)
{
    free(o->signallers);
    free(o->senders);
    free(o->receivers);
    free(o->members);
    free(o->recv_members);
    free(o);
}

static void free_process(struct pw_process *p)
{
    for (size_t t = 0; t < p->nthreads; t++) {
        free(p->threads[t].held);
        free(p->threads[t].held_read);
        free(p->threads[t].held_site);
    }
    free(p->threads);
    for (size_t o = 0; o < p->nobjects; o++)
        free_object(p->objects[o]);
    free(p->objects);
    free(p->index);
    free(p->by_serial);
    free(p->fork_children);
    free(p->children);
    free(p->misuses);
    free(p->lock_edges);
    free(p->marks);
    if (p->ktasks)
        pw_ktasks_free(p->ktasks);
    free(p->ktasks);
    free(p->stray);
}

void pw_model_free(struct pw_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nprocs; i++)
        free_process(&m->procs[i]);
    free(m->procs);
    free(m);
}
