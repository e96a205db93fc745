/* Channel interposers: pipe, pipe2, read, __read_chk, write, close and the dup
 * family (dup2 onto a channel fd closes it; a dup keeps the side open).
 *
 * close_range, closefrom and fclose close channel fds too.
 *
 * An fd that is not a channel costs one table lookup and nothing else.  A read
 * or write is a park only when it can block: read with nothing unread (sent ==
 * received), write that would overflow the pipe buffer; fds opened O_NONBLOCK
 * never park.  Byte counters are this process's view: a channel shared with
 * another process may look emptier than it is (a park recorded, never missed). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtab.h"
#include "real.h"

struct chan_park {
    uint32_t idx;
    uint16_t op;
    uint8_t side;
    uint8_t parked;
};

static void chan_park_cleanup(void *p)
{
    struct chan_park *cp = p;
    if (!cp->parked)
        return;
    __atomic_sub_fetch(&pw_g.chans[cp->idx].parked[cp->side], 1, __ATOMIC_RELAXED);
    pw_park_cancelled((void *)(uintptr_t)cp->op);
}

static uint16_t chan_op(const struct pw_chan_rec *c, unsigned side)
{
    if (c->type == PW_OBJ_PIPE)
        return side == PW_SIDE_RECV ? PW_OP_PIPE_READ : PW_OP_PIPE_WRITE;
    return side == PW_SIDE_RECV ? PW_OP_CHAN_READ : PW_OP_CHAN_WRITE;
}

/* Signed: the counters are this process's view and can run backwards (bytes
 * written by another process, or by a signal handler while our guard was up,
 * are received here but never counted as sent).  Unsigned, that would wrap and
 * hide every later read park. */
static bool can_block(const struct pw_chan_rec *c, unsigned side, size_t n)
{
    int64_t pending = (int64_t)(PW_LOAD(&c->sent) - PW_LOAD(&c->received));
    if (pending < 0)
        pending = 0;
    if (side == PW_SIDE_RECV)
        return n > 0 && pending == 0;
    return c->capacity != 0 && (uint64_t)pending + n > c->capacity;
}

/* Before the real call: the park, if this call can block. */
static void io_before(struct chan_park *cp, struct pw_chan_rec *c, int fd, uint64_t e, size_t n)
{
    struct pw_thread_rec *t = pw_self();
    if (t == NULL || (e & PW_FD_NONBLOCK) || !can_block(c, cp->side, n))
        return;
    uint32_t stack = pw_stack_capture();
    __atomic_add_fetch(&pw_g.chans[cp->idx].parked[cp->side], 1, __ATOMIC_RELAXED);
    cp->parked = 1;
    pw_park_begin(t, cp->op, 0, c->id, (uint64_t)fd, fd, stack);
}

/* After it: counters, the unpark, the send/recv event, misuse. */
static void io_after(struct chan_park *cp, struct pw_chan_rec *c, int fd, uint64_t e,
                     ssize_t rc, int err, size_t n)
{
    uint64_t bytes = rc > 0 ? (uint64_t)rc : 0;
    if (cp->parked) {
        __atomic_sub_fetch(&pw_g.chans[cp->idx].parked[cp->side], 1, __ATOMIC_RELAXED);
        pw_park_end(pw_tls.rec, cp->op, c->id, rc, rc < 0 ? err : 0, bytes);
    }
    bool recv = cp->side == PW_SIDE_RECV;
    if (rc > 0)
        __atomic_add_fetch(recv ? &c->received : &c->sent, bytes, __ATOMIC_ACQ_REL);
    else if (rc == 0 && recv && n > 0)
        __atomic_add_fetch(&c->eofs, 1, __ATOMIC_RELAXED);
    struct pw_event ev = {.kind = recv ? PW_EV_CHAN_RECV : PW_EV_CHAN_SEND, .obj = c->id,
                          .obj2 = (uint64_t)fd, .arg = bytes, .result = (int32_t)rc,
                          .err = rc < 0 ? err : 0};
    pw_emit(&ev);
    if (!recv && rc < 0 && err == EPIPE)
        pw_chan_misuse(PW_MISUSE_SEND_ON_CLOSED, fd, e, c->close_stack[PW_SIDE_RECV], 0);
}

enum io_kind { IO_READ, IO_READ_CHK, IO_WRITE };

static ssize_t real_io(enum io_kind k, int fd, void *buf, size_t n, size_t buflen)
{
    switch (k) {
    case IO_READ:
        return PW_REAL(read)(fd, buf, n);
    case IO_READ_CHK:
        return PW_REAL(__read_chk)(fd, buf, n, buflen);
    default:
        return PW_REAL(write)(fd, buf, n);
    }
}

/* The worker shared by read, __read_chk and write on a channel fd. */
static ssize_t chan_io(enum io_kind k, int fd, uint64_t e, void *buf, size_t n, size_t buflen)
{
    struct pw_chan_rec *c = pw_chan_rec(PW_FD_CHAN(e));
    struct chan_park cp = {.idx = PW_FD_CHAN(e), .side = (uint8_t)PW_FD_SIDE(e)};
    cp.op = chan_op(c, cp.side);
    int err = errno;
    pw_tls.guard++;
    io_before(&cp, c, fd, e, n);
    pw_tls.guard--;
    errno = err; /* a successful call leaves errno as the caller had it */
    ssize_t rc;
    /* read and write are cancellation points: the park must not outlive them */
    pthread_cleanup_push(chan_park_cleanup, &cp);
    rc = real_io(k, fd, buf, n, buflen);
    pthread_cleanup_pop(0);
    err = errno;
    pw_tls.guard++;
    io_after(&cp, c, fd, e, rc, err, n);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(read) ? PW_REAL(read)(fd, buf, n) : syscall(SYS_read, fd, buf, n);
    uint64_t e = pw_fd_get(fd);
    if (PW_LIKELY(!(e & PW_FD_LIVE)) || PW_FD_SIDE(e) != PW_SIDE_RECV) /* EBADF anyway */
        return PW_REAL(read)(fd, buf, n);
    return chan_io(IO_READ, fd, e, buf, n, n);
}

PW_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    uint64_t e = pw_on() ? pw_fd_get(fd) : 0;
    if (PW_LIKELY(!(e & PW_FD_LIVE)) || PW_FD_SIDE(e) != PW_SIDE_RECV)
        return PW_REAL(__read_chk)(fd, buf, n, buflen);
    return chan_io(IO_READ_CHK, fd, e, buf, n, buflen);
}

PW_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(write) ? PW_REAL(write)(fd, buf, n) : syscall(SYS_write, fd, buf, n);
    uint64_t e = pw_fd_get(fd);
    if (PW_LIKELY(!(e & PW_FD_LIVE)) || PW_FD_SIDE(e) != PW_SIDE_SEND)
        return PW_REAL(write)(fd, buf, n);
    return chan_io(IO_WRITE, fd, e, (void *)buf, n, n);
}

static int pipe_after(int rc, int fds[2], int flags)
{
    if (rc != 0)
        return rc;
    int err = errno;
    pw_tls.guard++;
    uint32_t stack = pw_stack_capture();
    pw_chan_create(PW_OBJ_PIPE, fds, (flags & O_NONBLOCK) != 0, stack);
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int pipe(int fds[2])
{
    if (!pw_on())
        return PW_REAL(pipe) ? PW_REAL(pipe)(fds) : (int)syscall(SYS_pipe2, fds, 0);
    return pipe_after(PW_REAL(pipe)(fds), fds, 0);
}

PW_EXPORT int pipe2(int fds[2], int flags)
{
    if (!pw_on())
        return PW_REAL(pipe2) ? PW_REAL(pipe2)(fds, flags) : (int)syscall(SYS_pipe2, fds, flags);
    return pipe_after(PW_REAL(pipe2)(fds, flags), fds, flags);
}

/* A vfork child shares our memory and TLS: what it closes must not be booked
 * as the parent's close.  Only channel fds pay for this getpid. */
static bool in_vfork_child(void)
{
    return syscall(SYS_getpid) != pw_g.pid;
}

PW_EXPORT int close(int fd)
{
    if (!pw_on())
        return PW_REAL(close) ? PW_REAL(close)(fd) : (int)syscall(SYS_close, fd);
    uint64_t e = pw_fd_get(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(close)(fd);
    if (in_vfork_child())
        return PW_REAL(close)(fd);
    int err = errno;
    pw_tls.guard++;
    if (e & PW_FD_LIVE)
        pw_chan_fd_closing(fd, e);
    pw_tls.guard--;
    errno = err;
    int rc = PW_REAL(close)(fd);
    err = errno;
    if (e & PW_FD_STALE) {
        /* closed before: EBADF is a double close; success means the number had
         * been reused by something we do not track, so forget the old channel */
        pw_tls.guard++;
        if (rc < 0 && err == EBADF)
            pw_chan_double_close(fd, e);
        else if (rc == 0)
            pw_fd_set(fd, 0);
        pw_tls.guard--;
    }
    errno = err;
    return rc;
}

/* ---- closes that do not go through close(): without them a stale table entry
 * would book the next user of that fd number to the old channel. */

/* Books the close of every live channel fd in [lo, hi]. */
static void close_span(unsigned lo, unsigned hi)
{
    uint32_t top = PW_LOAD(&pw_g.fd_hi);
    if (hi >= top)
        hi = top == 0 ? 0 : top - 1;
    pw_tls.guard++;
    for (unsigned fd = lo; fd <= hi && top != 0; fd++) {
        uint64_t e = pw_fd_get((int)fd);
        if (e & PW_FD_LIVE)
            pw_chan_fd_closing((int)fd, e);
        else if (e & PW_FD_STALE)
            pw_fd_set((int)fd, 0);
    }
    pw_tls.guard--;
}

PW_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
    if (!pw_on() || (flags & CLOSE_RANGE_CLOEXEC) || lo > hi || in_vfork_child())
        return PW_REAL(close_range)(lo, hi, flags);
    int err = errno;
    close_span(lo, hi);
    errno = err;
    return PW_REAL(close_range)(lo, hi, flags);
}

PW_EXPORT void closefrom(int lo)
{
    if (pw_on() && lo >= 0 && !in_vfork_child()) {
        int err = errno;
        close_span((unsigned)lo, UINT32_MAX);
        errno = err;
    }
    PW_REAL(closefrom)(lo);
}

/* A pipe end wrapped with fdopen is closed inside libc by fclose. */
PW_EXPORT int fclose(FILE *fp)
{
    if (!pw_on() || fp == NULL)
        return PW_REAL(fclose)(fp);
    int fd = fileno(fp);
    uint64_t e = fd >= 0 ? pw_fd_get(fd) : 0;
    if (PW_LIKELY(!(e & PW_FD_LIVE)) || in_vfork_child())
        return PW_REAL(fclose)(fp);
    int err = errno;
    pw_tls.guard++;
    pw_chan_fd_closing(fd, e);
    pw_tls.guard--;
    errno = err;
    return PW_REAL(fclose)(fp);
}

/* NEWFD was just made a copy of OLDFD (rc >= 0); DEST_WORD is what the table
 * said about the destination before the call (dup2/dup3 close it silently). */
static int dup_after(int rc, int oldfd, uint64_t dest_word, int flags_nonblock)
{
    if (rc < 0)
        return rc;
    int err = errno;
    uint64_t e = pw_fd_get(oldfd);
    pw_tls.guard++;
    if ((dest_word & PW_FD_LIVE) && rc != oldfd)
        pw_chan_fd_closing(rc, dest_word);
    else if (dest_word & PW_FD_STALE)
        pw_fd_set(rc, 0);
    if (e & PW_FD_LIVE)
        pw_chan_fd_added(rc, e, flags_nonblock || (e & PW_FD_NONBLOCK));
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int dup(int fd)
{
    if (!pw_on())
        return PW_REAL(dup)(fd);
    int rc = PW_REAL(dup)(fd);
    if (rc < 0 || !(pw_fd_get(fd) & PW_FD_LIVE) || in_vfork_child())
        return rc;
    return dup_after(rc, fd, pw_fd_get(rc), 0);
}

PW_EXPORT int dup2(int oldfd, int newfd)
{
    if (!pw_on())
        return PW_REAL(dup2)(oldfd, newfd);
    uint64_t dest = pw_fd_get(newfd);
    int rc = PW_REAL(dup2)(oldfd, newfd);
    if (rc < 0 || (dest == 0 && !(pw_fd_get(oldfd) & PW_FD_LIVE)) || in_vfork_child())
        return rc;
    return dup_after(rc, oldfd, dest, 0);
}

PW_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (!pw_on())
        return PW_REAL(dup3)(oldfd, newfd, flags);
    uint64_t dest = pw_fd_get(newfd);
    int rc = PW_REAL(dup3)(oldfd, newfd, flags);
    if (rc < 0 || (dest == 0 && !(pw_fd_get(oldfd) & PW_FD_LIVE)) || in_vfork_child())
        return rc;
    return dup_after(rc, oldfd, dest, 0);
}

/* fcntl matters for channels twice: F_DUPFD* makes another fd of a side, and
 * F_SETFL may switch O_NONBLOCK (a non-blocking fd never parks). */
static int fcntl_after(int rc, int fd, int cmd, void *arg)
{
    uint64_t e = pw_fd_get(fd);
    if (rc < 0 || !(e & PW_FD_LIVE))
        return rc;
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return in_vfork_child() ? rc : dup_after(rc, fd, pw_fd_get(rc), 0);
    if (cmd == F_SETFL) {
        bool nb = ((int)(intptr_t)arg & O_NONBLOCK) != 0;
        pw_fd_set(fd, nb ? e | PW_FD_NONBLOCK : e & ~PW_FD_NONBLOCK);
    }
    return rc;
}

/* Every fcntl command takes at most one argument, an int or a pointer; reading
 * it as a pointer is what glibc itself does. */
static int fcntl_common(int fd, int cmd, void *arg)
{
    if (!pw_on())
        return PW_REAL(fcntl)(fd, cmd, arg);
    int rc = PW_REAL(fcntl)(fd, cmd, arg);
    int err = errno;
    rc = fcntl_after(rc, fd, cmd, arg);
    errno = err;
    return rc;
}

/* Both names are wrapped: with _FILE_OFFSET_BITS=64 the headers redirect
 * fcntl to fcntl64 (this file is built that way too, hence the asm labels). */
PW_EXPORT int pw_fcntl(int fd, int cmd, ...) __asm__("fcntl");
PW_EXPORT int pw_fcntl64(int fd, int cmd, ...) __asm__("fcntl64");

PW_EXPORT int pw_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

PW_EXPORT int pw_fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}
