/* Channel records: in the trace, claimed from the front of its channel
 * section; the fd words that name them are in the fd table. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chan.h"
#include "config.h"
#include "depot.h"
#include "event.h"
#include "fdtab.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

#define PW_PIPE_DEFAULT_CAPACITY 65536u

struct pw_chan_priv *pw_chan_priv;

int pw_chans_init(void)
{
    pw_chan_priv = pw_anon_map((size_t)pw_cfg.opt.max_chans * sizeof *pw_chan_priv);
    return pw_chan_priv == NULL ? -1 : 0;
}

struct pw_chan_rec *pw_chan_rec(uint32_t idx)
{
    return (struct pw_chan_rec *)(pw_tf.base + pw_tf.hdr->chans.offset) + idx;
}

/* K consecutive records (a socketpair's two directions are neighbours). */
static int32_t claim_chans(uint32_t k)
{
    struct pw_trace_header *h = pw_tf.hdr;
    uint32_t n = PW_LOAD_RELAXED(&h->chans_used);
    while (n + k <= h->chans.count)
        if (__atomic_compare_exchange_n(&h->chans_used, &n, n + k, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            /* records fill the section from the front, into holes of the file */
            static struct pw_backing backed;
            if (pw_trace_back(&backed, (char *)pw_chan_rec(0), h->chans.size,
                              (uint64_t)(n + k) * sizeof(struct pw_chan_rec)))
                return (int32_t)n;
            break;
        }
    PW_ADD(&h->dropped_chans, 1);
    return -1;
}

/* One record for a channel without fds (an annotated user queue, userchan.c). */
int32_t pw_chan_claim(void)
{
    return claim_chans(1);
}

static uint64_t pipe_capacity(int fd)
{
    long c = syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
    return c > 0 ? (uint64_t)c : PW_PIPE_DEFAULT_CAPACITY;
}

/* Fills record IDX (receive fd, send fd; -1 for a side without an fd) and
 * publishes it; the caller sets the fd words and emits CHAN_CREATE. */
static struct pw_chan_rec *init_rec(uint32_t idx, uint16_t type, int rfd, int sfd, uint32_t stack)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    c->id = PW_ADD(&pw_tf.hdr->next_chan_id, 1);
    c->type = type;
    c->creator = pw_tls.serial;
    c->create_ns = pw_now();
    c->create_stack = stack;
    c->fd[PW_SIDE_RECV] = rfd;
    c->fd[PW_SIDE_SEND] = sfd;
    c->open[PW_SIDE_RECV] = rfd >= 0;
    c->open[PW_SIDE_SEND] = sfd >= 0;
    c->capacity = type == PW_OBJ_PIPE ? pipe_capacity(sfd) : 0;
    PW_STORE(&c->state, PW_CS_OPEN);
    return c;
}

void pw_chan_send_nonblock(int64_t idx)
{
    if (idx >= 0)
        PW_OR(&pw_chan_rec((uint32_t)idx)->flags, PW_CF_SEND_NONBLOCK);
}

static void emit_create(const struct pw_chan_rec *c, uint32_t stack)
{
    struct pw_event ev = {.kind = PW_EV_CHAN_CREATE,
                          .op = c->type,
                          .obj = c->id,
                          .arg = (uint32_t)c->fd[0] | (uint64_t)(uint32_t)c->fd[1] << 32,
                          .stack = stack};
    pw_emit(pw_self(), &ev);
}

void pw_chan_create(uint16_t type, const int fds[2], bool nonblock, uint32_t stack)
{
    int32_t idx = claim_chans(1);
    if (idx < 0)
        return;
    struct pw_chan_rec *c = init_rec((uint32_t)idx, type, fds[0], fds[1], stack);
    if (nonblock)
        pw_chan_send_nonblock(idx);
    uint64_t nb = nonblock ? PW_FD_NONBLOCK : 0;
    for (int s = 0; s < 2; s++)
        pw_fd_set_live(fds[s], PW_FD_LIVE | nb | (uint64_t)s << 32 | (uint32_t)(idx + 1));
    emit_create(c, stack);
}

/* Record IDX is the direction SV[0] -> SV[1], IDX + 1 the way back.  Each end's
 * word names the direction it receives on. */
void pw_chan_create_pair(const int sv[2], bool nonblock, uint32_t stack)
{
    int32_t idx = claim_chans(2);
    if (idx < 0)
        return;
    struct pw_chan_rec *a = init_rec((uint32_t)idx, PW_OBJ_SOCKETPAIR, sv[1], sv[0], stack);
    struct pw_chan_rec *b = init_rec((uint32_t)idx + 1, PW_OBJ_SOCKETPAIR, sv[0], sv[1], stack);
    if (nonblock) {
        pw_chan_send_nonblock(idx);
        pw_chan_send_nonblock(idx + 1);
    }
    uint64_t w = PW_FD_LIVE | PW_FD_PAIR | (nonblock ? PW_FD_NONBLOCK : 0);
    pw_fd_set_live(sv[0], w | (uint32_t)(idx + 2));                 /* receives on b */
    pw_fd_set_live(sv[1], w | PW_FD_PEER_UP | (uint32_t)(idx + 1)); /* receives on a */
    emit_create(a, stack);
    emit_create(b, stack);
}

/* An open mqueue record with NAME, or -1.  Rare (mq_open), so a scan will do. */
static int32_t find_named(uint16_t type, const char *name)
{
    uint32_t n = PW_LOAD(&pw_tf.hdr->chans_used);
    for (uint32_t i = 0; i < n; i++) {
        struct pw_chan_rec *c = pw_chan_rec(i);
        if (PW_LOAD(&c->state) != PW_CS_FREE && c->type == type && (c->flags & PW_CF_NAMED) &&
            !(c->flags & PW_CF_UNLINKED) && strncmp(c->name, name, sizeof c->name - 1) == 0)
            return (int32_t)i;
    }
    return -1;
}

void pw_chan_create_one(uint16_t type, int fd, unsigned sides, bool nonblock, const char *name,
                        uint32_t stack)
{
    bool rs = sides & (1u << PW_SIDE_RECV), ss = sides & (1u << PW_SIDE_SEND);
    int32_t idx = name != NULL ? find_named(type, name) : -1;
    struct pw_chan_rec *c;
    if (idx >= 0) {
        /* the same queue opened again: one channel, one more fd per side */
        c = pw_chan_rec((uint32_t)idx);
        for (unsigned s = 0; s < 2; s++)
            if (sides & (1u << s))
                __atomic_add_fetch(&c->open[s], 1, __ATOMIC_ACQ_REL);
        PW_STORE(&c->state, PW_CS_OPEN);
    } else {
        idx = claim_chans(1);
        if (idx < 0)
            return;
        c = pw_chan_rec((uint32_t)idx);
        if (name != NULL) {
            pw_strlcpy(c->name, name, sizeof c->name);
            c->flags |= PW_CF_NAMED;
        }
        init_rec((uint32_t)idx, type, rs ? fd : -1, ss ? fd : -1, stack);
        emit_create(c, stack);
    }
    if (nonblock && ss)
        pw_chan_send_nonblock(idx);
    uint64_t w = PW_FD_LIVE | (nonblock ? PW_FD_NONBLOCK : 0) | (uint32_t)(idx + 1);
    if (rs && ss)
        w |= PW_FD_BOTH;
    else if (ss)
        w |= (uint64_t)PW_SIDE_SEND << 32;
    pw_fd_set_live(fd, w);
}

void pw_chan_unlink_name(const char *name)
{
    int32_t idx = find_named(PW_OBJ_MQUEUE, name);
    if (idx >= 0)
        PW_OR(&pw_chan_rec((uint32_t)idx)->flags, PW_CF_UNLINKED);
}

void pw_chans_mark_forked(void)
{
    uint32_t n = PW_LOAD(&pw_tf.hdr->chans_used);
    for (uint32_t i = 0; i < n; i++) {
        struct pw_chan_rec *c = pw_chan_rec(i);
        if (PW_LOAD(&c->state) == PW_CS_OPEN)
            PW_OR(&c->flags, PW_CF_FORKED);
    }
}

/* The thread parked on FD of channel C, if any: only scanned when the channel
 * has a parked thread on that side, which is rare at close time. */
static uint32_t parked_on(const struct pw_chan_rec *c, int fd)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
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

void pw_chan_misuse(uint16_t kind, int fd, uint32_t idx, uint32_t stack2, uint32_t other, int err)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    struct pw_event ev = {.kind = PW_EV_MISUSE,
                          .op = kind,
                          .obj = c->id,
                          .obj2 = (uint64_t)fd,
                          .stack = pw_stack_capture(),
                          .stack2 = stack2,
                          .arg = other,
                          .err = err};
    pw_note(&ev);
}

static uint16_t shut_flag(unsigned side)
{
    return side == PW_SIDE_RECV ? PW_CF_SHUT_RECV : PW_CF_SHUT_SEND;
}

/* The side is closed now (its last fd, or a shutdown): who and where. */
static void side_closed(struct pw_chan_rec *c, unsigned side, uint32_t stack)
{
    c->close_stack[side] = stack;
    c->close_thread[side] = pw_tls.serial;
    c->close_ns[side] = pw_now();
    if (PW_LOAD(&c->open[side ^ 1]) <= 0)
        PW_STORE(&c->state, PW_CS_CLOSED);
}

/* One fd of SIDE of channel IDX is going away. */
static void side_closing(uint32_t idx, unsigned side, int fd, uint32_t stack)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    if (PW_LOAD(&pw_chan_priv[idx].parked[side]) != 0) {
        uint32_t other = parked_on(c, fd);
        if (other != 0)
            pw_chan_misuse(PW_MISUSE_CLOSE_WHILE_BLOCKED, fd, idx, c->create_stack, other, 0);
    }
    int32_t left = 0;
    /* a shut-down side was booked closed already; its count stays 0 */
    if (!(PW_LOAD(&c->flags) & shut_flag(side))) {
        left = __atomic_sub_fetch(&c->open[side], 1, __ATOMIC_ACQ_REL);
        if (left <= 0)
            side_closed(c, side, stack);
    }
    struct pw_event ev = {.kind = PW_EV_CHAN_CLOSE,
                          .op = (uint16_t)side,
                          .obj = c->id,
                          .obj2 = (uint64_t)fd,
                          .arg = (uint64_t)(left > 0 ? left : 0),
                          .stack = stack};
    pw_emit(pw_self(), &ev);
}

/* FD (a live channel fd) is about to be closed, explicitly or by dup2/dup3. */
void pw_chan_fd_closing(int fd, uint64_t e)
{
    /* the closer stays in the word: a later close of the number by the same
     * thread, after another thread reused it, closes that thread's object */
    uint64_t closer = (uint64_t)(pw_tls.serial & PW_FD_CLOSER_MASK) << PW_FD_CLOSER_SHIFT;
    pw_fd_set(fd,
              (e & ~(PW_FD_LIVE | PW_FD_CLOSER_MASK << PW_FD_CLOSER_SHIFT)) | PW_FD_STALE | closer);
    uint32_t stack = pw_stack_capture();
    int64_t r = pw_fd_recv_chan(e), s = pw_fd_send_chan(e);
    if (r >= 0)
        side_closing((uint32_t)r, PW_SIDE_RECV, fd, stack);
    if (s >= 0)
        side_closing((uint32_t)s, PW_SIDE_SEND, fd, stack);
}

void pw_chan_shutdown(int fd, uint64_t e, unsigned sides)
{
    uint32_t stack = pw_stack_capture();
    for (unsigned side = 0; side < 2; side++) {
        int64_t idx = side == PW_SIDE_RECV ? pw_fd_recv_chan(e) : pw_fd_send_chan(e);
        if (!(sides & (1u << side)) || idx < 0)
            continue;
        struct pw_chan_rec *c = pw_chan_rec((uint32_t)idx);
        uint16_t old = __atomic_fetch_or(&c->flags, shut_flag(side), __ATOMIC_ACQ_REL);
        if (old & shut_flag(side))
            continue;
        /* every fd of the side stops working at once: the side is closed */
        PW_STORE(&c->open[side], 0);
        side_closed(c, side, stack);
        struct pw_event ev = {.kind = PW_EV_CHAN_CLOSE,
                              .op = (uint16_t)side,
                              .obj = c->id,
                              .obj2 = (uint64_t)fd,
                              .arg = 0,
                              .stack = stack};
        pw_emit(pw_self(), &ev);
    }
}

void pw_chan_double_close(int fd, uint64_t e)
{
    /* the word is STALE, not LIVE: read its channels as if it still were */
    uint64_t w = e | PW_FD_LIVE;
    int64_t r = pw_fd_recv_chan(w);
    unsigned side = r >= 0 ? PW_SIDE_RECV : PW_SIDE_SEND;
    int64_t idx = r >= 0 ? r : pw_fd_send_chan(w);
    if (idx < 0)
        return;
    struct pw_chan_rec *c = pw_chan_rec((uint32_t)idx);
    pw_chan_misuse(PW_MISUSE_DOUBLE_CLOSE, fd, (uint32_t)idx, c->close_stack[side], 0, EBADF);
}

static void close_reused(int fd, uint64_t e, uint32_t maker)
{
    /* the word is REUSED, not LIVE: its channel bits still name the old channel */
    uint64_t w = (e & ~PW_FD_REUSED) | PW_FD_LIVE;
    int64_t r = pw_fd_recv_chan(w);
    unsigned side = r >= 0 ? PW_SIDE_RECV : PW_SIDE_SEND;
    int64_t idx = r >= 0 ? r : pw_fd_send_chan(w);
    if (idx < 0)
        return;
    struct pw_chan_rec *c = pw_chan_rec((uint32_t)idx);
    pw_chan_misuse(PW_MISUSE_CLOSE_REUSED, fd, (uint32_t)idx, c->close_stack[side], maker, 0);
}

void pw_fd_reuse_closed(int fd, uint64_t e, int rc)
{
    int err = errno;
    pw_tls.guard++;
    /* closed by the thread that had closed the number before, which never
     * used the new fd, and the close worked: it closed the other's object */
    if (rc == 0 && PW_FD_CLOSER(e) == (uint32_t)(pw_tls.serial & PW_FD_CLOSER_MASK))
        close_reused(fd, e, pw_fd_reopened_by(fd));
    pw_fd_swap(fd, e, 0);
    pw_tls.guard--;
    errno = err;
}

/* NEWFD now refers to the same ends as the channel fd word E (dup family). */
void pw_chan_fd_added(int newfd, uint64_t e, bool nonblock)
{
    int64_t r = pw_fd_recv_chan(e), s = pw_fd_send_chan(e);
    if (r >= 0 && !(pw_chan_rec((uint32_t)r)->flags & PW_CF_SHUT_RECV))
        __atomic_add_fetch(&pw_chan_rec((uint32_t)r)->open[PW_SIDE_RECV], 1, __ATOMIC_ACQ_REL);
    if (s >= 0 && !(pw_chan_rec((uint32_t)s)->flags & PW_CF_SHUT_SEND))
        __atomic_add_fetch(&pw_chan_rec((uint32_t)s)->open[PW_SIDE_SEND], 1, __ATOMIC_ACQ_REL);
    uint64_t w = (e & ~(PW_FD_NONBLOCK | PW_FD_STALE)) | PW_FD_LIVE;
    pw_fd_set_live(newfd, nonblock ? w | PW_FD_NONBLOCK : w);
}

static uint32_t copy_stack(const struct pw_depot *old, uint32_t id)
{
    const struct pw_stack_rec *r = pw_depot_get(old, id);
    if (r == NULL || (uint64_t)id * 8 + 8 + (uint64_t)r->nframes * 8 > old->pool_size)
        return 0;
    return pw_depot_put(&pw_tf.depot, r->pcs, r->nframes);
}

/* Copies channel IDX from the parent's trace on first sight in the child. */
static struct pw_chan_rec *inherit_one(uint32_t idx, const struct pw_chan_rec *src,
                                       const struct pw_depot *od)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    if (c->state != PW_CS_FREE)
        return c;
    memcpy(c, src, sizeof *c);
    /* FORKED is about the parent's children, not ours */
    c->flags = (uint16_t)((c->flags & ~PW_CF_FORKED) | PW_CF_INHERITED);
    c->create_stack = copy_stack(od, src->create_stack);
    for (int s = 0; s < 2; s++) {
        c->open[s] = 0;
        c->close_stack[s] = copy_stack(od, src->close_stack[s]);
    }
    c->state = PW_CS_OPEN;
    return c;
}

/* One more fd of SIDE in the child, unless the side was shut down (it stays 0). */
static void inherit_side(struct pw_chan_rec *c, unsigned side)
{
    if (!(c->flags & (side == PW_SIDE_RECV ? PW_CF_SHUT_RECV : PW_CF_SHUT_SEND)))
        c->open[side]++;
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
    const struct pw_chan_rec *src = (const struct pw_chan_rec *)((const char *)old_base +
                                                                 old->chans.offset);
    uint32_t n = PW_LOAD(&old->chans_used);
    if (n > pw_tf.hdr->chans.count)
        n = pw_tf.hdr->chans.count;
    /* only the entries the old image used can be non-zero (claims are made
     * from the front): clearing all of max_chans faulted in every page of
     * the array at each exec (a quarter of a short process's start-up) */
    uint32_t was = PW_LOAD(&old->chans_used);
    if (was > pw_cfg.opt.max_chans)
        was = pw_cfg.opt.max_chans;
    memset(pw_chan_priv, 0, (size_t)was * sizeof *pw_chan_priv);
    pw_tf.hdr->chans_used = n;
    pw_tf.hdr->next_chan_id = PW_LOAD(&old->next_chan_id);
    uint32_t hi = PW_LOAD(&pw_fdt.hi);
    for (uint32_t fd = 0; fd < hi; fd++) {
        uint64_t e = pw_fdt.tab[fd];
        int64_t r = pw_fd_recv_chan(e), s = pw_fd_send_chan(e);
        if (r >= 0 && r < n)
            inherit_side(inherit_one((uint32_t)r, &src[r], &od), PW_SIDE_RECV);
        if (s >= 0 && s < n)
            inherit_side(inherit_one((uint32_t)s, &src[s], &od), PW_SIDE_SEND);
    }
    /* Annotated queues (userchan.c) have no fds: the child's copy of each queue
     * lives at the same address, so its record comes along as it was. */
    for (uint32_t i = 0; i < n; i++) {
        if (src[i].type != PW_OBJ_USERCHAN || PW_LOAD(&src[i].state) != PW_CS_OPEN)
            continue;
        struct pw_chan_rec *c = inherit_one(i, &src[i], &od);
        for (int side = 0; side < 2; side++)
            c->open[side] = src[i].open[side] > 0;
    }
}
