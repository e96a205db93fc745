/* Channel records (in the trace) and the fd table (in shim memory). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* K consecutive records (a socketpair's two directions are neighbours). */
static int32_t claim_chans(uint32_t k)
{
    struct pw_trace_header *h = pw_g.hdr;
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
    c->id = PW_ADD(&pw_g.hdr->next_chan_id, 1);
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
    struct pw_event ev = {.kind = PW_EV_CHAN_CREATE, .op = c->type, .obj = c->id,
                          .arg = (uint32_t)c->fd[0] | (uint64_t)(uint32_t)c->fd[1] << 32,
                          .stack = stack};
    pw_emit(&ev);
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
    uint32_t n = PW_LOAD(&pw_g.hdr->chans_used);
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
    uint32_t n = PW_LOAD(&pw_g.hdr->chans_used);
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

void pw_chan_misuse(uint16_t kind, int fd, uint32_t idx, uint32_t stack2, uint32_t other, int err)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    struct pw_event ev = {.kind = PW_EV_MISUSE, .op = kind, .obj = c->id, .obj2 = (uint64_t)fd,
                          .stack = pw_stack_capture(), .stack2 = stack2, .arg = other,
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
    if (PW_LOAD(&pw_g.chans[idx].parked[side]) != 0) {
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
    struct pw_event ev = {.kind = PW_EV_CHAN_CLOSE, .op = (uint16_t)side, .obj = c->id,
                          .obj2 = (uint64_t)fd, .arg = (uint64_t)(left > 0 ? left : 0),
                          .stack = stack};
    pw_emit(&ev);
}

/* FD (a live channel fd) is about to be closed, explicitly or by dup2/dup3. */
void pw_chan_fd_closing(int fd, uint64_t e)
{
    pw_fd_set(fd, (e & ~PW_FD_LIVE) | PW_FD_STALE);
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
        struct pw_event ev = {.kind = PW_EV_CHAN_CLOSE, .op = (uint16_t)side, .obj = c->id,
                              .obj2 = (uint64_t)fd, .arg = 0, .stack = stack};
        pw_emit(&ev);
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

/* ---- exec.  The new image is traced again (same pid, next ".<n>" trace) but
 * starts with an empty fd table.  So, just before the real exec, the old image
 * books the close of every channel fd marked FD_CLOEXEC (the kernel closes it
 * if the exec succeeds) and lists the channel fds that survive as notes:
 * EXEC op=1 starts a batch, each EXEC op=2 is obj2=fd, obj=id it receives on,
 * arg=id it sends on (0 = none).  The new image reads the last batch of the
 * previous trace and inherits those channels like a fork child does. */

#define PW_FD_EXEC_BOOKED (1ull << 38) /* closed for FD_CLOEXEC by an exec that may fail */

static uint32_t chan_id(int64_t idx)
{
    return idx < 0 ? 0 : pw_chan_rec((uint32_t)idx)->id;
}

void pw_chans_exec_before(void)
{
    struct pw_event start = {.kind = PW_EV_EXEC, .op = 1};
    pw_note(&start);
    uint32_t hi = PW_LOAD(&pw_g.fd_hi);
    for (uint32_t fd = 0; fd < hi; fd++) {
        uint64_t e = pw_fd_get((int)fd);
        if (!(e & PW_FD_LIVE))
            continue;
        long fl = syscall(SYS_fcntl, (int)fd, F_GETFD);
        if (fl < 0)
            continue;
        if (fl & FD_CLOEXEC) {
            pw_chan_fd_closing((int)fd, e);
            pw_fd_set((int)fd, (e & ~PW_FD_LIVE) | PW_FD_STALE | PW_FD_EXEC_BOOKED);
            continue;
        }
        struct pw_event kept = {.kind = PW_EV_EXEC, .op = 2, .obj2 = fd,
                                .obj = chan_id(pw_fd_recv_chan(e)),
                                .arg = chan_id(pw_fd_send_chan(e))};
        pw_note(&kept);
    }
}

/* The exec failed: the FD_CLOEXEC fds are still open after all. */
void pw_chans_exec_failed(void)
{
    uint32_t hi = PW_LOAD(&pw_g.fd_hi);
    for (uint32_t fd = 0; fd < hi; fd++) {
        uint64_t e = pw_fd_get((int)fd);
        if (!(e & PW_FD_EXEC_BOOKED))
            continue;
        e &= ~PW_FD_EXEC_BOOKED;
        pw_chan_fd_added((int)fd, e, (e & PW_FD_NONBLOCK) != 0);
        for (unsigned side = 0; side < 2; side++) {
            int64_t idx = side == PW_SIDE_RECV ? pw_fd_recv_chan(e | PW_FD_LIVE)
                                               : pw_fd_send_chan(e | PW_FD_LIVE);
            if (idx >= 0)
                PW_STORE(&pw_chan_rec((uint32_t)idx)->state, PW_CS_OPEN);
        }
    }
}

static int64_t idx_of_id(const struct pw_chan_rec *src, uint32_t n, uint64_t id)
{
    for (uint32_t i = 0; id != 0 && i < n; i++)
        if (src[i].id == id)
            return i;
    return -1;
}

/* The fd word a kept fd had, rebuilt from the channels it receives / sends on. */
static uint64_t kept_word(int fd, int64_t r, int64_t s)
{
    long fl = syscall(SYS_fcntl, fd, F_GETFL);
    uint64_t w = PW_FD_LIVE | (fl >= 0 && (fl & O_NONBLOCK) ? PW_FD_NONBLOCK : 0);
    if (r >= 0 && s >= 0 && r == s)
        return w | PW_FD_BOTH | (uint32_t)(r + 1);
    if (r >= 0 && s >= 0)
        return w | PW_FD_PAIR | (s == r + 1 ? PW_FD_PEER_UP : 0) | (uint32_t)(r + 1);
    if (r >= 0)
        return w | (uint32_t)(r + 1);
    return w | (uint64_t)PW_SIDE_SEND << 32 | (uint32_t)(s + 1);
}

/* Called once in a new image whose trace is exec generation GEN > 0. */
void pw_chans_exec_inherit(uint32_t gen)
{
    char path[sizeof pw_g.trace_path];
    pw_trace_file_name(path, sizeof path, pw_g.trace_dir, (uint64_t)pw_g.pid, gen - 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    struct stat st;
    void *base = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= PW_HEADER_SIZE)
        base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    pw_sys_close(fd);
    if (base == MAP_FAILED)
        return;
    struct pw_trace_header *old = base;
    uint64_t size = (uint64_t)st.st_size;
    /* the previous image of this very process (an exec keeps the start time), and
     * a layout this image understands; anything else is left alone */
    bool ok = memcmp(old->magic, PW_TRACE_MAGIC, 8) == 0 &&
              old->version_major == PW_TRACE_VERSION_MAJOR && old->pid == pw_g.pid &&
              old->proc_start_ticks == pw_g.hdr->proc_start_ticks &&
              old->chan_rec_size == PW_CHAN_REC_SIZE && old->end_kind == PW_END_EXEC &&
              old->chans.offset + (uint64_t)old->chans.count * PW_CHAN_REC_SIZE <= size &&
              old->notes.offset + (uint64_t)old->notes.count * sizeof(struct pw_event) <= size &&
              old->depot_pool.offset + old->depot_pool.size <= size;
    if (ok) {
        const struct pw_event *notes = (const struct pw_event *)((char *)base + old->notes.offset);
        const struct pw_chan_rec *src =
            (const struct pw_chan_rec *)((char *)base + old->chans.offset);
        uint32_t nn = PW_LOAD(&old->notes_used), nc = PW_LOAD(&old->chans_used);
        if (nn > old->notes.count)
            nn = old->notes.count;
        if (nc > old->chans.count)
            nc = old->chans.count;
        uint32_t from = nn;
        for (uint32_t i = nn; i-- > 0;)
            if (notes[i].kind == PW_EV_EXEC && notes[i].op == 1) {
                from = i + 1;
                break;
            }
        for (uint32_t i = from; i < nn; i++) {
            if (notes[i].kind != PW_EV_EXEC || notes[i].op != 2 || notes[i].obj2 >= pw_g.nfds)
                continue;
            int64_t r = idx_of_id(src, nc, notes[i].obj), w = idx_of_id(src, nc, notes[i].arg);
            if (r >= 0 || w >= 0)
                pw_fd_set_live((int)notes[i].obj2, kept_word((int)notes[i].obj2, r, w));
        }
        pw_chans_inherit(old, base);
        /* the old image's stacks are addresses in an address space that is gone */
        uint32_t used = PW_LOAD(&pw_g.hdr->chans_used);
        for (uint32_t i = 0; i < used; i++) {
            struct pw_chan_rec *c = pw_chan_rec(i);
            if (c->state == PW_CS_FREE)
                continue;
            c->create_stack = 0;
            c->close_stack[0] = c->close_stack[1] = 0;
        }
    }
    munmap(base, (size_t)size);
}
