/* Channels across exec: the old image lists the channel fds that survive, the
 * new one inherits them from the previous image's trace. */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chan.h"
#include "event.h"
#include "exec.h"
#include "fdtab.h"
#include "shim.h"
#include "tracefile.h"

/* The new image is traced again (same pid, next ".<n>" trace) but
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
    uint32_t hi = PW_LOAD(&pw_fdt.hi);
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
        struct pw_event kept = {.kind = PW_EV_EXEC,
                                .op = 2,
                                .obj2 = fd,
                                .obj = chan_id(pw_fd_recv_chan(e)),
                                .arg = chan_id(pw_fd_send_chan(e))};
        pw_note(&kept);
    }
}

/* The exec failed: the FD_CLOEXEC fds are still open after all. */
void pw_chans_exec_failed(void)
{
    uint32_t hi = PW_LOAD(&pw_fdt.hi);
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
    uint64_t size;
    struct pw_trace_header *old = pw_trace_map_previous(gen, &size);
    if (old == NULL)
        return;
    char *base = (char *)old;
    const struct pw_event *notes = (const struct pw_event *)(base + old->notes.offset);
    const struct pw_chan_rec *src = (const struct pw_chan_rec *)(base + old->chans.offset);
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
        if (notes[i].kind != PW_EV_EXEC || notes[i].op != 2 || notes[i].obj2 >= pw_fdt.n)
            continue;
        int64_t r = idx_of_id(src, nc, notes[i].obj), w = idx_of_id(src, nc, notes[i].arg);
        if (r >= 0 || w >= 0)
            pw_fd_set_live((int)notes[i].obj2, kept_word((int)notes[i].obj2, r, w));
    }
    pw_chans_inherit(old, base);
    /* the old image's stacks are addresses in an address space that is gone */
    uint32_t used = PW_LOAD(&pw_tf.hdr->chans_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_chan_rec *c = pw_chan_rec(i);
        if (c->state == PW_CS_FREE)
            continue;
        c->create_stack = 0;
        c->close_stack[0] = c->close_stack[1] = 0;
    }
    pw_trace_unmap(old, size);
}
