/* `parkwatch dump TRACE-FILE`: the raw trace, one record per line.  The line
 * format is a contract with the end-to-end tests (they grep it): keep it stable.
 * Unlike the rest of the analyzer, which sees a trace only through the model,
 * dump reads the trace's records (threads, channels, events, notes) directly:
 * printing them raw is its job. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "parkwatch/ops.h"
#include "reader.h"
#include "symbolize.h"

/* Growable set of referenced stack ids, printed sorted and unique at the end. */
struct idset {
    uint32_t *ids;
    size_t n, cap;
    bool oom; /* an id could not be stored: the dump fails (diag.h) */
};

static void idset_add(struct idset *s, uint32_t id)
{
    if (!id)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint32_t *ni = realloc(s->ids, cap * sizeof(*ni));
        if (!ni) {
            s->oom = true;
            return;
        }
        s->ids = ni;
        s->cap = cap;
    }
    s->ids[s->n++] = id;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The object an event or a park names: "pipe#3", "T2" or "0x7f..": the obj
 * column of PW_EVENT_KINDS says which. */
static const char *fmt_object(const struct pw_trace *t, unsigned kind, unsigned op, uint64_t obj,
                              char *buf, size_t len)
{
    enum pw_obj_field what = pw_event_obj_field(kind, op);
    if (what == PW_OBJF_CHAN) {
        const struct pw_chan_rec *c = obj <= UINT32_MAX ? pw_trace_chan_by_id(t, (uint32_t)obj)
                                                        : NULL;
        snprintf(buf, len, "%s#%llu", pw_obj_type_name(c ? c->type : PW_OBJ_PIPE),
                 (unsigned long long)obj);
    } else if (what == PW_OBJF_THREAD) {
        snprintf(buf, len, "T%llu", (unsigned long long)obj);
    } else {
        snprintf(buf, len, "0x%llx", (unsigned long long)obj);
    }
    return buf;
}

/* ---- header, modules */

static void dump_header(const struct pw_trace *t)
{
    const struct pw_trace_header *h = pw_trace_header(t);
    printf("trace %s version=%u.%u pid=%d ppid=%d exec_gen=%u end=%s status=%d events=%llu "
           "dropped=%llu\n",
           pw_trace_path(t), h->version_major, h->version_minor, h->pid, h->ppid, h->exec_gen,
           pw_end_kind_name(h->end_kind), h->end_status,
           (unsigned long long)pw_trace_total_events(t), (unsigned long long)pw_trace_dropped(t));
    printf("exe %s\n", h->exe);
    printf("argv");
    for (unsigned i = 0; i < pw_trace_argc(t); i++)
        printf(" %s", pw_trace_argv(t, i));
    printf("\n");
}

static void dump_modules(const struct pw_trace *t)
{
    for (size_t i = 0; i < pw_trace_nmodules(t); i++) {
        const struct pw_module *m = pw_trace_module(t, i);
        char bid[2 * PW_BUILD_ID_MAX + 1] = "-";
        for (uint32_t b = 0; b < m->build_id_len; b++)
            snprintf(bid + 2 * b, 3, "%02x", m->build_id[b]);
        printf("module %zu base=0x%llx lo=0x%llx hi=0x%llx build-id=%s path=%s%s\n", i,
               (unsigned long long)m->base, (unsigned long long)m->lo, (unsigned long long)m->hi,
               bid, m->path, m->unload_ns ? " unloaded" : "");
    }
}

/* ---- threads */

#define PW_THREAD_FLAGS(X)                \
    X(PW_TF_MAIN, "main")                 \
    X(PW_TF_DETACHED, "detached")         \
    X(PW_TF_JOINED, "joined")             \
    X(PW_TF_ADOPTED, "adopted")           \
    X(PW_TF_HELD_AT_EXIT, "held-at-exit") \
    X(PW_TF_FORKED, "forked")             \
    X(PW_TF_RETURNED, "returned")         \
    X(PW_TF_IGNORED, "ignored")

static const char *fmt_flags(uint32_t flags, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
#define PW_X(bit, str)              \
    if ((flags & (bit)) && n < len) \
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", str);
    PW_THREAD_FLAGS(PW_X)
#undef PW_X
    return n ? buf : "-";
}

static const char *held_name(uint8_t type)
{
    /* The rwlock read side is marked with the top bit (trace.h). */
    if (type == (PW_OBJ_RWLOCK | 0x80))
        return "rwlock-read";
    return pw_obj_type_name(type);
}

/* A poll park's set: set=pipe#1,socketpair#3:send outside=N. */
static void dump_set(const struct pw_trace *t, const struct pw_thread_rec *r)
{
    unsigned n = r->park_set_n < PW_PARK_SET_MAX ? r->park_set_n : PW_PARK_SET_MAX;
    for (unsigned i = 0; i < n; i++) {
        uint32_t id = r->park_set[i] & ~PW_SET_SEND;
        const struct pw_chan_rec *c = pw_trace_chan_by_id(t, id);
        printf("%s%s#%u%s", i ? "," : " set=", pw_obj_type_name(c ? c->type : PW_OBJ_PIPE), id,
               (r->park_set[i] & PW_SET_SEND) ? ":send" : "");
    }
    if (r->park_set_n > n)
        printf(",+%u", r->park_set_n - n);
    if (r->park_set_other)
        printf(" outside=%u", r->park_set_other);
}

static void dump_park(const struct pw_trace *t, const struct pw_thread_rec *r, struct idset *ids)
{
    if (r->park_op == PW_OP_NONE)
        return;
    char obj[64], ms[32];
    fmt_object(t, PW_EV_PARK, r->park_op, r->park_obj, obj, sizeof(obj));
    pw_fmt_ms(r->park_since_ns, ms, sizeof(ms)); /* relative, like event times */
    printf("  parked op=%s obj=%s since_ms=%s stack=%u%s", pw_park_op_name(r->park_op), obj, ms,
           r->park_stack, (r->park_flags & PW_PARK_TIMED) ? " timed" : "");
    if (pw_op_obj_type(r->park_op) == PW_OBJ_POLLSET)
        dump_set(t, r);
    printf("\n");
    idset_add(ids, r->park_stack);
}

static void dump_threads(const struct pw_trace *t, struct idset *ids)
{
    for (size_t i = 0; i < pw_trace_nthreads(t); i++) {
        const struct pw_thread_rec *r = pw_trace_thread(t, i);
        char flags[128], parent[16] = "0";
        if (r->parent_serial)
            snprintf(parent, sizeof(parent), "T%u", r->parent_serial);
        /* the thread as the reports name it, then its record's raw name */
        char name[PW_THREAD_NAME_MAX + 8], label[PW_THREAD_NAME_MAX + 32];
        pw_thread_rec_name(pw_trace_header(t)->exe, r, name, sizeof(name));
        printf("thread %s tid=%d name=%s state=%s flags=%s parent=%s created_by=%u\n",
               pw_thread_label_of(r->serial, name, label, sizeof(label)), r->tid,
               r->name[0] ? r->name : "-", r->state == PW_TS_ALIVE ? "alive" : "exited",
               fmt_flags(r->flags, flags, sizeof(flags)), parent, r->create_stack);
        idset_add(ids, r->create_stack);
        idset_add(ids, r->exit_stack);
        dump_park(t, r, ids);
        for (uint32_t h = 0; h < r->nheld; h++)
            printf("  held %s 0x%llx\n", held_name(r->held_type[h]),
                   (unsigned long long)r->held[h]);
    }
}

/* ---- channels */

static void dump_chans(const struct pw_trace *t, struct idset *ids)
{
    for (size_t i = 0; i < pw_trace_nchans(t); i++) {
        const struct pw_chan_rec *c = pw_trace_chan(t, i);
        printf("chan %s#%u state=%s fds=%d,%d open=%d,%d sent=%llu received=%llu eofs=%llu "
               "creator=T%u stack=%u%s\n",
               pw_obj_type_name(c->type), c->id, c->state == PW_CS_OPEN ? "open" : "closed",
               c->fd[0], c->fd[1], c->open[0], c->open[1], (unsigned long long)c->sent,
               (unsigned long long)c->received, (unsigned long long)c->eofs, c->creator,
               c->create_stack, (c->flags & PW_CF_INHERITED) ? " inherited" : "");
        idset_add(ids, c->create_stack);
        idset_add(ids, c->close_stack[0]);
        idset_add(ids, c->close_stack[1]);
    }
}

/* ---- events */

static const char *fmt_kind(unsigned kind, char *buf, size_t len)
{
    if (kind < PW_EV__COUNT)
        return pw_event_kind_name(kind);
    snprintf(buf, len, "unknown-%u", kind);
    return buf;
}

/* The op field means something different per kind: the op column of
 * PW_EVENT_KINDS (trace.h) says what. */
static const char *fmt_op(const struct pw_event *e, char *buf, size_t len)
{
    switch (pw_event_op_field(e->kind)) {
    case PW_OPF_PARK_OP:
        return pw_park_op_name(e->op);
    case PW_OPF_OBJ_TYPE:
        return held_name((uint8_t)e->op);
    case PW_OPF_SIGNALLED: /* a cond signal (op 0) or a sem_post (op sem) */
        return e->op ? held_name((uint8_t)e->op) : "cond";
    case PW_OPF_SIDE:
        if (e->op < PW_SIDE__COUNT)
            return pw_side_name(e->op);
        break;
    case PW_OPF_EXIT:
        if (e->op < PW_EXIT__COUNT)
            return pw_exit_how_name(e->op);
        break;
    case PW_OPF_FORK:
        if (e->op < PW_FORK__COUNT)
            return pw_fork_side_name(e->op);
        break;
    case PW_OPF_MISUSE:
        return pw_misuse_name(e->op);
    case PW_OPF_END:
        return pw_end_kind_name(e->op);
    case PW_OPF_NUM:
        break;
    }
    snprintf(buf, len, "%u", e->op);
    return buf;
}

static const char *fmt_err(int err, char *buf, size_t len)
{
    const char *name = err > 0 ? strerrorname_np(err) : NULL;
    if (name)
        return name;
    snprintf(buf, len, "%d", err);
    return buf;
}

static const char *fmt_num(int v, char *buf, size_t len)
{
    snprintf(buf, len, "%d", v);
    return buf;
}

static void dump_event(const struct pw_trace *t, const char *tag, const struct pw_event *e,
                       struct idset *ids)
{
    char ms[32], kind[32], op[32], obj[64], err[32];
    printf("%s %s T%u %s op=%s obj=%s obj2=0x%llx arg=%llu result=%d err=%s stack=%u stack2=%u\n",
           tag, pw_fmt_ms(e->time_ns, ms, sizeof(ms)), e->thread,
           fmt_kind(e->kind, kind, sizeof(kind)), fmt_op(e, op, sizeof(op)),
           fmt_object(t, e->kind, e->op, e->obj, obj, sizeof(obj)), (unsigned long long)e->obj2,
           (unsigned long long)e->arg, e->result,
           /* a LOCK_EDGE's err is B's class (a stack id), not an errno */
           e->kind == PW_EV_LOCK_EDGE ? fmt_num(e->err, err, sizeof(err))
                                      : fmt_err(e->err, err, sizeof(err)),
           e->stack, e->stack2);
    idset_add(ids, e->stack);
    idset_add(ids, e->stack2);
}

static void dump_events(const struct pw_trace *t, struct idset *ids)
{
    size_t n;
    const struct pw_event *ev = pw_trace_events(t, &n);
    for (size_t i = 0; i < n; i++)
        dump_event(t, "event", &ev[i], ids);
    ev = pw_trace_notes(t, &n);
    for (size_t i = 0; i < n; i++)
        dump_event(t, "note", &ev[i], ids);
}

/* ---- stacks */

static void dump_stack(const struct pw_trace *t, struct pw_symbolizer *sym, uint32_t id)
{
    const uint64_t *pcs;
    unsigned n;
    printf("stack %u\n", id);
    if (pw_trace_stack(t, id, &pcs, &n) < 0) {
        printf("  (unavailable)\n");
        return;
    }
    struct pw_frame *frames = NULL;
    size_t nf = sym ? pw_sym_stack(sym, pcs, n, &frames) : 0;
    for (size_t i = 0; i < nf; i++) {
        char buf[1024];
        printf("  #%zu 0x%llx %s\n", i, (unsigned long long)frames[i].pc,
               pw_frame_format(&frames[i], buf, sizeof(buf)));
    }
    /* Without a symbolizer, still show the raw pcs. */
    for (unsigned i = 0; !sym && i < n; i++)
        printf("  #%u 0x%llx 0x%llx\n", i, (unsigned long long)pcs[i], (unsigned long long)pcs[i]);
    free(frames);
}

static void dump_stacks(const struct pw_trace *t, struct idset *ids)
{
    if (ids->n) /* ids is NULL when nothing referenced a stack */
        qsort(ids->ids, ids->n, sizeof(*ids->ids), cmp_u32);
    struct pw_symbolizer *sym = pw_sym_new(t);
    for (size_t i = 0; i < ids->n; i++)
        if (i == 0 || ids->ids[i] != ids->ids[i - 1])
            dump_stack(t, sym, ids->ids[i]);
    pw_sym_free(sym);
}

int pw_cmd_dump(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        pw_print_usage(stdout, "dump");
        return PW_EXIT_OK;
    }
    if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
        pw_err("dump: expected exactly one TRACE-FILE (try 'parkwatch dump --help')");
        return PW_EXIT_USAGE;
    }
    char err[512];
    struct pw_trace *t;
    enum pw_read_status st = pw_trace_open(argv[1], &t, err, sizeof(err));
    if (st == PW_READ_ERROR) {
        pw_err("%s", err);
        return PW_EXIT_USAGE;
    }
    if (st == PW_READ_TRUNCATED)
        pw_warn("%s", pw_trace_warning(t));
    struct idset ids = {0};
    dump_header(t);
    dump_modules(t);
    dump_threads(t, &ids);
    dump_chans(t, &ids);
    dump_events(t, &ids);
    if (!ids.oom)
        dump_stacks(t, &ids);
    free(ids.ids);
    pw_trace_close(t);
    if (ids.oom) {
        pw_err("out of memory");
        return PW_EXIT_USAGE;
    }
    return PW_EXIT_OK;
}
