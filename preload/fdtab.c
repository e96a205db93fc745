/* Channel records (in the trace) and the fd table (in shim memory). */
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtab.h"

#define PW_FD_CAP (1u << 20)
#define PW_PIPE_DEFAULT_CAPACITY 65536u

int pw_fdtab_init(void)
{
    struct rlimit rl;
    uint64_t n = PW_FD_CAP;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
        n = rl.rlim_max;
    pw_g.fdtab = pw_anon_map(n * sizeof *pw_g.fdtab);
    pw_g.chans = pw_anon_map((size_t)pw_g.opt.max_chans * sizeof *pw_g.chans);
    if (pw_g.fdtab == NULL || pw_g.chans == NULL)
        return -1;
    pw_g.nfds = (uint32_t)n;
    return 0;
}

struct pw_chan_rec *pw_chan_rec(uint32_t idx)
{
    return (struct pw_chan_rec *)(pw_g.base + pw_g.hdr->chans.offset) + idx;
}

static int32_t claim_chan(void)
{
    struct pw_trace_header *h = pw_g.hdr;
    uint32_t n = PW_LOAD_RELAXED(&h->chans_used);
    while (n < h->chans.count)
        if (__atomic_compare_exchange_n(&h->chans_used, &n, n + 1, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return (int32_t)n;
    PW_ADD(&h->dropped_chans, 1);
    return -1;
}

static uint64_t pipe_capacity(int fd)
{
    long c = syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
    return c > 0 ? (uint64_t)c : PW_PIPE_DEFAULT_CAPACITY;
}

void pw_chan_create(uint16_t type, const int fds[2], bool nonblock, uint32_t stack)
{
    int32_t idx = claim_chan();
    if (idx < 0)
        return;
    struct pw_chan_rec *c = pw_chan_rec((uint32_t)idx);
    c->id = PW_ADD(&pw_g.hdr->next_chan_id, 1);
    c->type = type;
    c->creator = pw_tls.serial;
    c->create_ns = pw_now();
    c->create_stack = stack;
    for (int s = 0; s < 2; s++) {
        c->fd[s] = fds[s];
        c->open[s] = 1;
    }
    c->capacity = type == PW_OBJ_PIPE ? pipe_capacity(fds[1]) : 0;
    PW_STORE(&c->state, PW_CS_OPEN);
    uint64_t nb = nonblock ? PW_FD_NONBLOCK : 0;
    for (int s = 0; s < 2; s++)
        pw_fd_set_live(fds[s], PW_FD_LIVE | nb | (uint64_t)s << 32 | (uint32_t)(idx + 1));
    struct pw_event ev = {.kind = PW_EV_CHAN_CREATE, .op = type, .obj = c->id,
                          .arg = (uint32_t)fds[0] | (uint64_t)(uint32_t)fds[1] << 32,
                          .stack = stack};
    pw_emit(&ev);
}

/* The thread parked on FD of channel C, if any: only scanned when the channel
 * has a parked thread on that side, which is rare at close time. */
static uint32_t parked_on(const struct pw_chan_rec *c, int fd)
{
    uint32_t used = PW_LOAD(&pw_g.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (t == pw_tls.rec || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint32_t seq = PW_LOAD(&t->park_seq);
        bool hit = t->park_op != PW_OP_NONE && t->park_obj == c->id && t->park_fd == fd;
        if (hit && (seq & 1) == 0 && PW_LOAD(&t->park_seq) == seq)
            return t->serial;
    }
    return 0;
}

void pw_chan_misuse(uint16_t kind, int fd, uint64_t e, uint32_t stack2, uint32_t other)
{
    struct pw_chan_rec *c = pw_chan_rec(PW_FD_CHAN(e));
    struct pw_event ev = {.kind = PW_EV_MISUSE, .op = kind, .obj = c->id, .obj2 = (uint64_t)fd,
                          .stack = pw_stack_capture(), .stack2 = stack2, .arg = other};
    pw_note(&ev);
}

/* FD (a live channel fd) is about to be closed, explicitly or by dup2/dup3. */
void pw_chan_fd_closing(int fd, uint64_t e)
{
    uint32_t idx = PW_FD_CHAN(e);
    unsigned side = PW_FD_SIDE(e);
    struct pw_chan_rec *c = pw_chan_rec(idx);
    pw_fd_set(fd, (e & ~PW_FD_LIVE) | PW_FD_STALE);
    if (PW_LOAD(&pw_g.chans[idx].parked[side]) != 0) {
        uint32_t other = parked_on(c, fd);
        if (other != 0)
            pw_chan_misuse(PW_MISUSE_CLOSE_WHILE_BLOCKED, fd, e, c->create_stack, other);
    }
    int32_t left = __atomic_sub_fetch(&c->open[side], 1, __ATOMIC_ACQ_REL);
    uint32_t stack = pw_stack_capture();
    if (left <= 0) {
        c->close_stack[side] = stack;
        c->close_thread[side] = pw_tls.serial;
        c->close_ns[side] = pw_now();
        if (PW_LOAD(&c->open[side ^ 1]) <= 0)
            PW_STORE(&c->state, PW_CS_CLOSED);
    }
    struct pw_event ev = {.kind = PW_EV_CHAN_CLOSE, .op = (uint16_t)side, .obj = c->id,
                          .obj2 = (uint64_t)fd, .arg = (uint64_t)(left > 0 ? left : 0),
                          .stack = stack};
    pw_emit(&ev);
}

void pw_chan_double_close(int fd, uint64_t e)
{
    struct pw_chan_rec *c = pw_chan_rec(PW_FD_CHAN(e));
    pw_chan_misuse(PW_MISUSE_DOUBLE_CLOSE, fd, e, c->close_stack[PW_FD_SIDE(e)], 0);
}

/* NEWFD now refers to the same side as the channel fd word E (dup family). */
void pw_chan_fd_added(int newfd, uint64_t e, bool nonblock)
{
    struct pw_chan_rec *c = pw_chan_rec(PW_FD_CHAN(e));
    unsigned side = PW_FD_SIDE(e);
    __atomic_add_fetch(&c->open[side], 1, __ATOMIC_ACQ_REL);
    uint64_t w = (e & ~(PW_FD_NONBLOCK | PW_FD_STALE)) | PW_FD_LIVE;
    pw_fd_set_live(newfd, nonblock ? w | PW_FD_NONBLOCK : w);
}

static uint32_t copy_stack(const struct pw_depot *old, uint32_t id)
{
    const struct pw_stack_rec *r = pw_depot_get(old, id);
    if (r == NULL || (uint64_t)id * 8 + 8 + (uint64_t)r->nframes * 8 > old->pool_size)
        return 0;
    return pw_depot_put(&pw_g.depot, r->pcs, r->nframes);
}

/* Copies channel IDX from the parent's trace on first sight in the child. */
static struct pw_chan_rec *inherit_one(uint32_t idx, const struct pw_chan_rec *src,
                                       const struct pw_depot *od)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    if (c->state != PW_CS_FREE)
        return c;
    memcpy(c, src, sizeof *c);
    c->flags |= PW_CF_INHERITED;
    c->create_stack = copy_stack(od, src->create_stack);
    for (int s = 0; s < 2; s++) {
        c->open[s] = 0;
        c->close_stack[s] = copy_stack(od, src->close_stack[s]);
    }
    c->state = PW_CS_OPEN;
    return c;
}

/* Fork child.  The parent keeps running while we copy, so its channel records
 * may already show closes that happened after the fork; the fd table, private
 * memory copied at the fork, is exact.  So the open fds are counted from the
 * table, and only the immutable parts come from the parent's records.  Records
 * keep their index (the table points at them); unused ones stay FREE. */
void pw_chans_inherit(struct pw_trace_header *old, void *old_base)
{
    struct pw_depot od;
    pw_depot_bind(&od, old, old_base);
    const struct pw_chan_rec *src =
        (const struct pw_chan_rec *)((const char *)old_base + old->chans.offset);
    uint32_t n = PW_LOAD(&old->chans_used);
    if (n > pw_g.hdr->chans.count)
        n = pw_g.hdr->chans.count;
    memset(pw_g.chans, 0, (size_t)pw_g.opt.max_chans * sizeof *pw_g.chans);
    pw_g.hdr->chans_used = n;
    pw_g.hdr->next_chan_id = PW_LOAD(&old->next_chan_id);
    uint32_t hi = PW_LOAD(&pw_g.fd_hi);
    for (uint32_t fd = 0; fd < hi; fd++) {
        uint64_t e = pw_g.fdtab[fd];
        uint32_t idx = PW_FD_CHAN(e);
        if (!(e & PW_FD_LIVE) || idx >= n)
            continue;
        inherit_one(idx, &src[idx], &od)->open[PW_FD_SIDE(e)]++;
    }
}
