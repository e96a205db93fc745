/* Channel interposers: pipe, pipe2, the read and write families (read,
 * __read_chk, readv, recv, recvfrom, recvmsg and their fortified forms; write,
 * writev, send, sendto, sendmsg), close and the dup family (dup2 onto a channel
 * fd closes it; a dup keeps the side open).  close_range, closefrom and fclose
 * close channel fds too.  socketpair/shutdown/eventfd are in i_sock.c.
 *
 * An fd that is not a channel costs one table lookup and nothing else.
 *
 * Every read that blocks is recorded as a park.  When this process's byte
 * counters say the channel is empty, the park is recorded before the real call
 * (if data arrived meanwhile the park lasts a moment: recorded, never missed).
 * When they promise data, that promise is not trusted: another reader can take
 * the bytes first, and they lag behind a writer whose write has not returned.
 * The read is then attempted without blocking (preadv2(RWF_NOWAIT) on a pipe or
 * eventfd, MSG_DONTWAIT on a socket): anything but EAGAIN is the call's result;
 * EAGAIN records the park and makes the real blocking call.  Attempting every
 * read first would be exact too, but costs a system call per blocking read (a
 * pipe ping-pong measured ~1.3x slower).  A kernel without RWF_NOWAIT on pipes
 * (EOPNOTSUPP) is left to the counters.
 *
 * A write blocked on a full pipe or socketpair is a park, always.  The counters
 * alone cannot say when: F_SETPIPE_SZ changes a pipe's capacity, pipe buffers
 * are page-granular (a run of small writes fills 16 pages long before 64 KiB)
 * and a write of up to PIPE_BUF bytes waits for room for all of it.  So when
 * the counters say the channel could be near full (half its known capacity, or
 * a socket, whose capacity is unknown), the write is attempted without blocking
 * first (pwritev2(RWF_NOWAIT) on a pipe, MSG_DONTWAIT on a socket): its result
 * is the call's, unless EAGAIN, which records the park and makes the blocking
 * call; after a partial write the blocking call writes the rest, which is what
 * a blocking write does itself (its result is the total, and an error after a
 * partial write returns what was written, errno untouched).  A write that
 * succeeds costs no extra system call.  Without RWF_NOWAIT on pipes
 * (EOPNOTSUPP) the counters decide.  fds opened O_NONBLOCK never park.  Byte
 * counters are this process's view: a channel shared with another process may
 * look emptier than it is. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "acts.h"
#include "chan.h"
#include "event.h"
#include "fdtab.h"
#include "init.h"
#include "proc.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"

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
    __atomic_sub_fetch(&pw_chan_priv[cp->idx].parked[cp->side], 1, __ATOMIC_RELAXED);
    pw_park_cancelled((void *)(uintptr_t)cp->op);
}

static uint16_t chan_op(const struct pw_chan_rec *c, unsigned side)
{
    if (c->type == PW_OBJ_PIPE)
        return side == PW_SIDE_RECV ? PW_OP_PIPE_READ : PW_OP_PIPE_WRITE;
    if (c->type == PW_OBJ_MQUEUE)
        return side == PW_SIDE_RECV ? PW_OP_MQ_RECEIVE : PW_OP_MQ_SEND;
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

/* ---- one read or write call, whatever its entry point */

enum io_kind {
    IO_READ,
    IO_READ_CHK,
    IO_READV,
    IO_RECV,
    IO_RECV_CHK,
    IO_RECVFROM,
    IO_RECVFROM_CHK,
    IO_RECVMSG,
    IO_EVENTFD_READ,
    IO_WRITE,
    IO_WRITEV,
    IO_SEND,
    IO_SENDTO,
    IO_SENDMSG,
    IO_EVENTFD_WRITE,
};

struct io {
    enum io_kind k;
    int fd;
    int flags; /* MSG_* of the socket calls */
    void *buf;
    size_t n;      /* bytes asked for (total of an iovec) */
    size_t buflen; /* fortified forms: the buffer's real size */
    const struct iovec *iov;
    int iovcnt;
    void *addr;         /* recvfrom: struct sockaddr *; sendto: const struct sockaddr * */
    socklen_t *alenp;   /* recvfrom */
    socklen_t alen;     /* sendto */
    struct msghdr *msg; /* recvmsg, sendmsg */
    uint64_t value;     /* eventfd_write */
    uint64_t pc;        /* sends: the exported call's return address (its call site) */
};

static ssize_t real_io(struct io *io)
{
    switch (io->k) {
    case IO_READ:
        return PW_REAL(read)(io->fd, io->buf, io->n);
    case IO_READ_CHK:
        return PW_REAL(__read_chk)(io->fd, io->buf, io->n, io->buflen);
    case IO_READV:
        return PW_REAL(readv)(io->fd, io->iov, io->iovcnt);
    case IO_RECV:
        return PW_REAL(recv)(io->fd, io->buf, io->n, io->flags);
    case IO_RECV_CHK:
        return PW_REAL(__recv_chk)(io->fd, io->buf, io->n, io->buflen, io->flags);
    case IO_RECVFROM:
        return PW_REAL(recvfrom)(io->fd, io->buf, io->n, io->flags, io->addr, io->alenp);
    case IO_RECVFROM_CHK:
        return PW_REAL(__recvfrom_chk)(io->fd, io->buf, io->n, io->buflen, io->flags, io->addr,
                                       io->alenp);
    case IO_RECVMSG:
        return PW_REAL(recvmsg)(io->fd, io->msg, io->flags);
    case IO_EVENTFD_READ:
        return PW_REAL(eventfd_read)(io->fd, io->buf);
    case IO_WRITE:
        return PW_REAL(write)(io->fd, io->buf, io->n);
    case IO_WRITEV:
        return PW_REAL(writev)(io->fd, io->iov, io->iovcnt);
    case IO_SEND:
        return PW_REAL(send)(io->fd, io->buf, io->n, io->flags);
    case IO_SENDTO:
        return PW_REAL(sendto)(io->fd, io->buf, io->n, io->flags, io->addr, io->alen);
    case IO_SENDMSG:
        return PW_REAL(sendmsg)(io->fd, io->msg, io->flags);
    default:
        return PW_REAL(eventfd_write)(io->fd, io->value);
    }
}

/* eventfd_read/eventfd_write return 0 / -1: a success moved 8 bytes. */
static ssize_t io_bytes(const struct io *io, ssize_t rc)
{
    if (io->k == IO_EVENTFD_READ || io->k == IO_EVENTFD_WRITE)
        return rc == 0 ? 8 : rc;
    return rc;
}

static uint32_t nowait_unsupported; /* the kernel refused RWF_NOWAIT once */

/* The read attempted without blocking.  Returns 1 when *RC is the call's
 * result (data, EOF or an error other than EAGAIN), 0 when the call would
 * block, -1 when it cannot be tried (the caller decides from the counters). */
static int try_read(struct io *io, const struct pw_chan_rec *c, ssize_t *rc)
{
    struct iovec one = {io->buf, io->n};
    const struct iovec *iov = io->k == IO_READV ? io->iov : &one;
    int cnt = io->k == IO_READV ? io->iovcnt : 1;
    int dw = io->flags | MSG_DONTWAIT;
    if ((io->k == IO_READ_CHK || io->k == IO_RECV_CHK || io->k == IO_RECVFROM_CHK) &&
        io->n > io->buflen)
        return -1; /* the real call reports the overflow */
    if (c->type == PW_OBJ_SOCKETPAIR) {
        /* MSG_WAITALL without blocking returns part of what the real call waits for */
        if (io->flags & MSG_WAITALL)
            return -1;
        struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
        switch (io->k) {
        case IO_RECVFROM:
        case IO_RECVFROM_CHK:
            *rc = PW_REAL(recvfrom)(io->fd, io->buf, io->n, dw, io->addr, io->alenp);
            break;
        case IO_RECVMSG:
            *rc = PW_REAL(recvmsg)(io->fd, io->msg, dw);
            break;
        default:
            *rc = PW_REAL(recvmsg)(io->fd, &m, dw);
            break;
        }
    } else {
        if (io->k == IO_RECVMSG || io->k == IO_RECV || io->k == IO_RECV_CHK ||
            io->k == IO_RECVFROM || io->k == IO_RECVFROM_CHK ||
            PW_LOAD_RELAXED(&nowait_unsupported))
            return -1; /* not a socket: the real call fails (ENOTSOCK) */
        uint64_t v;
        struct iovec ev = {&v, sizeof v};
        if (io->k == IO_EVENTFD_READ)
            iov = &ev;
        *rc = preadv2(io->fd, iov, cnt, -1, RWF_NOWAIT);
        if (*rc < 0 && errno == EOPNOTSUPP) {
            PW_STORE_RELAXED(&nowait_unsupported, 1);
            return -1;
        }
        if (io->k == IO_EVENTFD_READ && *rc == (ssize_t)sizeof v) {
            *(uint64_t *)io->buf = v;
            *rc = 0;
        }
    }
    return *rc >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ? 1 : 0;
}

/* ---- where the last send into a channel came from */

#define CALLER_PC() ((uint64_t)(uintptr_t)__builtin_return_address(0))
#define SEND_SITES 8u

/* Per thread, the whole stacks of its recent send call sites, per channel: a
 * send loop unwinds once, then costs a compare.  Keyed by channel too, because
 * one call site (a write_all helper) serves several paths: the outer frames of
 * a cached stack are those of its first send into that channel. */
static __thread struct {
    uint64_t key;
    uint32_t stack;
} send_sites[SEND_SITES] __attribute__((tls_model("initial-exec")));

/* The record keeps the stack and thread of the last send into C (the report's
 * "last sent at" for data never received).  Called with the guard up. */
static void last_send(struct pw_chan_rec *c, uint64_t pc)
{
    if (pc == 0)
        return;
    uint64_t key = pc ^ ((uint64_t)c->id * 0x9e3779b97f4a7c15ull);
    unsigned i = (unsigned)((key >> 2) ^ (key >> 9) ^ (key >> 40)) & (SEND_SITES - 1);
    if (send_sites[i].key != key) {
        send_sites[i].stack = pw_stack_capture();
        send_sites[i].key = key;
    }
    PW_STORE_RELAXED(&c->last_send_stack, send_sites[i].stack);
    PW_STORE_RELAXED(&c->last_send_thread, pw_tls.serial);
}

/* ---- writes attempted without blocking */

#define REST_IOV 16 /* iovecs a partial writev can continue with (more: counters) */

static uint32_t write_nowait_unsupported; /* the kernel refused RWF_NOWAIT on a write */

/* Could a send of N bytes into C block?  The counters only say "maybe". */
static bool near_full(const struct pw_chan_rec *c, size_t n)
{
    if (c->capacity == 0)
        return true; /* a socket: its buffer size is not known here */
    int64_t pending = (int64_t)(PW_LOAD(&c->sent) - PW_LOAD(&c->received));
    if (pending < 0)
        pending = 0;
    return (uint64_t)pending + n > c->capacity / 2;
}

/* IO continues after its first DONE bytes were written: buffer or iovec moved
 * past them (REST holds the iovec's rest). */
static void io_advance(struct io *io, size_t done, struct iovec *rest)
{
    io->n -= done;
    if (io->k != IO_WRITEV) {
        io->buf = (char *)io->buf + done;
        return;
    }
    int m = 0;
    for (int i = 0; i < io->iovcnt; i++) {
        struct iovec v = io->iov[i];
        size_t skip = done < v.iov_len ? done : v.iov_len;
        done -= skip;
        if (skip == v.iov_len && v.iov_len != 0)
            continue;
        rest[m].iov_base = (char *)v.iov_base + skip;
        rest[m].iov_len = v.iov_len - skip;
        m++;
    }
    io->iov = rest;
    io->iovcnt = m;
}

/* The write attempted without blocking.  Returns 1 when *RC is the call's
 * result, 0 when it would block with nothing written, 2 when it wrote *RC bytes
 * of more (IO now describes the rest, which the blocking call writes), -1 when
 * it cannot be tried (the counters decide). */
static int try_write(struct io *io, const struct pw_chan_rec *c, ssize_t *rc, struct iovec *rest)
{
    struct iovec one = {io->buf, io->n};
    bool vec = io->k == IO_WRITEV;
    if (vec && io->iovcnt > REST_IOV)
        return -1;
    if (c->type == PW_OBJ_SOCKETPAIR) {
        int dw = io->flags | MSG_DONTWAIT;
        if (io->k == IO_WRITE || io->k == IO_SEND) {
            *rc = PW_REAL(send)(io->fd, io->buf, io->n, dw);
        } else if (io->k == IO_SENDTO) {
            *rc = PW_REAL(sendto)(io->fd, io->buf, io->n, dw, io->addr, io->alen);
        } else if (vec) {
            struct msghdr m = {.msg_iov = (struct iovec *)io->iov,
                               .msg_iovlen = (size_t)io->iovcnt};
            *rc = PW_REAL(sendmsg)(io->fd, &m, dw);
        } else {
            return -1; /* sendmsg: its ancillary data must go exactly once */
        }
    } else if (c->type == PW_OBJ_PIPE && (io->k == IO_WRITE || vec) &&
               !PW_LOAD_RELAXED(&write_nowait_unsupported)) {
        *rc = pwritev2(io->fd, vec ? io->iov : &one, vec ? io->iovcnt : 1, -1, RWF_NOWAIT);
        if (*rc < 0 && errno == EOPNOTSUPP) {
            PW_STORE_RELAXED(&write_nowait_unsupported, 1);
            return -1;
        }
    } else {
        return -1;
    }
    if (*rc < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
    if ((size_t)*rc >= io->n)
        return 1;
    io_advance(io, (size_t)*rc, rest);
    return 2;
}

/* Whether a send into C is sure to fail with EPIPE: its receive side is closed
 * and no other process can hold it (not inherited, never passed to a child). */
static bool send_on_closed(const struct pw_chan_rec *c)
{
    return c->type != PW_OBJ_MQUEUE && PW_LOAD(&c->open[PW_SIDE_RECV]) <= 0 &&
           !(PW_LOAD(&c->flags) & (PW_CF_INHERITED | PW_CF_FORKED));
}

/* Whether the EPIPE of this send comes with a SIGPIPE the program sees (the
 * default action kills it before the write returns). */
static bool sigpipe_delivered(const struct io *io)
{
    if ((io->k == IO_SEND || io->k == IO_SENDTO || io->k == IO_SENDMSG) &&
        (io->flags & MSG_NOSIGNAL))
        return false;
    struct sigaction sa;
    sigset_t cur;
    if (sigaction(SIGPIPE, NULL, &sa) != 0 || sa.sa_handler == SIG_IGN)
        return false;
    return pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0 || !sigismember(&cur, SIGPIPE);
}

static void park_now(struct chan_park *cp, const struct pw_chan_rec *c, int fd)
{
    struct pw_thread_rec *t = pw_self();
    if (t == NULL)
        return;
    uint32_t stack = pw_stack_capture();
    __atomic_add_fetch(&pw_chan_priv[cp->idx].parked[cp->side], 1, __ATOMIC_RELAXED);
    cp->parked = 1;
    pw_park_begin(t, cp->op, 0, c->id, (uint64_t)fd, fd, stack);
}

/* After the call: counters, the unpark, the send/recv event, misuse. */
static void io_after(struct chan_park *cp, struct pw_chan_rec *c, const struct io *io, ssize_t rc,
                     int err, bool noted)
{
    uint64_t bytes = rc > 0 ? (uint64_t)rc : 0;
    if (cp->parked) {
        __atomic_sub_fetch(&pw_chan_priv[cp->idx].parked[cp->side], 1, __ATOMIC_RELAXED);
        pw_park_end(pw_tls.rec, cp->op, c->id, rc, rc < 0 ? err : 0, bytes);
    }
    bool recv = cp->side == PW_SIDE_RECV;
    if (rc > 0 && c->type == PW_OBJ_EVENTFD && recv) {
        /* a read takes the whole counter, however many writes made it */
        uint64_t sent = PW_LOAD(&c->sent);
        if (PW_LOAD(&c->received) < sent)
            PW_STORE(&c->received, sent);
    } else if (rc > 0) {
        __atomic_add_fetch(recv ? &c->received : &c->sent, bytes, __ATOMIC_ACQ_REL);
        if (!recv)
            last_send(c, io->pc);
    } else if (rc == 0 && recv && io->n > 0) {
        __atomic_add_fetch(&c->eofs, 1, __ATOMIC_RELAXED);
    }
    struct pw_event ev = {.kind = recv ? PW_EV_CHAN_RECV : PW_EV_CHAN_SEND,
                          .obj = c->id,
                          .obj2 = (uint64_t)io->fd,
                          .arg = bytes,
                          .result = (int32_t)rc,
                          .err = rc < 0 ? err : 0};
    if (rc >= 0)
        pw_act(&ev); /* who sends and receives is evidence: the first one is a note */
    else
        pw_emit(pw_self(), &ev);
    if (!recv && rc < 0 && err == EPIPE && !noted)
        pw_chan_misuse(PW_MISUSE_SEND_ON_CLOSED, io->fd, cp->idx, c->close_stack[PW_SIDE_RECV], 0,
                       sigpipe_delivered(io) ? 0 : EPIPE);
}

/* The worker behind every read/write entry point on channel record IDX. */
static ssize_t chan_io(struct io *io, uint64_t e, uint32_t idx, unsigned side)
{
    struct pw_chan_rec *c = pw_chan_rec(idx);
    if (PW_UNLIKELY(c->type == PW_OBJ_MQUEUE))
        return real_io(io); /* read(2) of a queue fd is its status text, not a message */
    struct chan_park cp = {.idx = idx, .side = (uint8_t)side};
    cp.op = chan_op(c, side);
    bool blocking = !(e & PW_FD_NONBLOCK) && !(io->flags & MSG_DONTWAIT) && io->n > 0;
    bool noted = false;
    ssize_t rc, done = 0; /* DONE: bytes a partial non-blocking write already sent */
    int err = errno, caller_err = err;
    struct iovec rest[REST_IOV];
    pw_tls.guard++;
    if (side == PW_SIDE_RECV && blocking && can_block(c, side, io->n)) {
        /* the counters say empty: almost always true, and a read that finds data
         * after all only leaves a momentary park (no extra system call on the
         * ping-pong path) */
        park_now(&cp, c, io->fd);
    } else if (side == PW_SIDE_RECV && blocking) {
        /* the counters promise data, but another reader may take it first.  The
         * attempt is a cancellation point: made with the guard down, so that a
         * thread cancelled in it does not run its cleanup handlers unobserved */
        pw_tls.guard--;
        int tried = try_read(io, c, &rc);
        int got = errno;
        pw_tls.guard++;
        if (tried == 1) {
            io_after(&cp, c, io, io_bytes(io, rc), got, false);
            pw_tls.guard--;
            errno = rc < 0 ? got : err; /* a success leaves errno as the caller had it */
            return rc;
        }
        if (tried == 0)
            park_now(&cp, c, io->fd);
    } else if (side == PW_SIDE_SEND) {
        if (send_on_closed(c)) {
            /* noted before the call: a default SIGPIPE kills us inside it */
            bool sig = sigpipe_delivered(io);
            pw_chan_misuse(PW_MISUSE_SEND_ON_CLOSED, io->fd, idx, c->close_stack[PW_SIDE_RECV], 0,
                           sig ? 0 : EPIPE);
            noted = true;
        } else if (blocking && near_full(c, io->n)) {
            /* a cancellation point too: attempted with the guard down */
            pw_tls.guard--;
            int tried = try_write(io, c, &rc, rest);
            int got = errno;
            pw_tls.guard++;
            if (tried == 1) {
                io_after(&cp, c, io, rc, got, false);
                pw_tls.guard--;
                errno = rc < 0 ? got : err;
                return rc;
            }
            if (tried == 2)
                done = rc;
            if (tried >= 0 || can_block(c, side, io->n))
                park_now(&cp, c, io->fd);
        }
    }
    pw_tls.guard--;
    errno = err;
    /* read and write are cancellation points: the park must not outlive them */
    pthread_cleanup_push(chan_park_cleanup, &cp);
    rc = real_io(io);
    pthread_cleanup_pop(0);
    err = errno;
    if (done > 0) {
        /* one blocking write of the whole: the total, or what was written
         * before an error (which the caller then never sees) */
        rc = rc >= 0 ? rc + done : done;
        err = rc > done ? err : caller_err;
    }
    pw_tls.guard++;
    io_after(&cp, c, io, io_bytes(io, rc), err, noted);
    pw_tls.guard--;
    errno = err;
    return rc;
}

/* The channel an fd word reads from / writes to, and dispatch. */
/* A number another thread reused (fdtab.h): the thread that closed it
 * before uses the new fd, so it knows it; then the plain call. */
static __attribute__((noinline)) ssize_t reused_io(struct io *io, uint64_t e)
{
    pw_fd_reuse_used(io->fd, e);
    return real_io(io);
}

static ssize_t recv_io(struct io *io, uint64_t e)
{
    if (PW_UNLIKELY(!(e & PW_FD_LIVE)))
        return reused_io(io, e);
    return chan_io(io, e, (uint32_t)pw_fd_recv_chan(e), PW_SIDE_RECV);
}

static ssize_t send_io(struct io *io, uint64_t e)
{
    if (PW_UNLIKELY(!(e & PW_FD_LIVE)))
        return reused_io(io, e);
    return chan_io(io, e, (uint32_t)pw_fd_send_chan(e), PW_SIDE_SEND);
}

/* Not a channel fd that can receive (send), nor a reused number: pass
 * straight through (one test more than the channel test alone). */
static inline bool plain_recv(uint64_t e)
{
    return PW_LIKELY(!(e & (PW_FD_LIVE | PW_FD_REUSED))) ||
           ((e & PW_FD_LIVE) && pw_fd_recv_chan(e) < 0);
}

static inline bool plain_send(uint64_t e)
{
    return PW_LIKELY(!(e & (PW_FD_LIVE | PW_FD_REUSED))) ||
           ((e & PW_FD_LIVE) && pw_fd_send_chan(e) < 0);
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t n = 0;
    for (int i = 0; iov != NULL && i < cnt; i++)
        n += iov[i].iov_len;
    return n;
}

/* The word of FD if it is a channel fd that can receive (send), else 0: the
 * caller passes straight through.  Also 0 while the shim is off. */
static uint64_t recv_word(int fd)
{
    if (PW_UNLIKELY(!pw_on()))
        return 0;
    uint64_t e = pw_fd_get(fd);
    return plain_recv(e) ? 0 : e;
}

static uint64_t send_word(int fd)
{
    if (PW_UNLIKELY(!pw_on()))
        return 0;
    uint64_t e = pw_fd_get(fd);
    return plain_send(e) ? 0 : e;
}

PW_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(read) ? PW_REAL(read)(fd, buf, n) : syscall(SYS_read, fd, buf, n);
    uint64_t e = pw_fd_get(fd);
    if (plain_recv(e)) /* (a send-only channel fd: EBADF anyway) */
        return PW_REAL(read)(fd, buf, n);
    struct io io = {.k = IO_READ, .fd = fd, .buf = buf, .n = n};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(__read_chk)(fd, buf, n, buflen);
    struct io io = {.k = IO_READ_CHK, .fd = fd, .buf = buf, .n = n, .buflen = buflen};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(readv)(fd, iov, cnt);
    struct io io = {.k = IO_READV, .fd = fd, .iov = iov, .iovcnt = cnt, .n = iov_total(iov, cnt)};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(recv)(fd, buf, n, flags);
    struct io io = {.k = IO_RECV, .fd = fd, .buf = buf, .n = n, .flags = flags};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(__recv_chk)(fd, buf, n, buflen, flags);
    struct io io =
        {.k = IO_RECV_CHK, .fd = fd, .buf = buf, .n = n, .buflen = buflen, .flags = flags};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                           socklen_t *alen)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(recvfrom)(fd, buf, n, flags, addr, alen);
    struct io io = {.k = IO_RECVFROM,
                    .fd = fd,
                    .buf = buf,
                    .n = n,
                    .flags = flags,
                    .addr = addr,
                    .alenp = alen};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                                 struct sockaddr *addr, socklen_t *alen)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, addr, alen);
    struct io io = {.k = IO_RECVFROM_CHK,
                    .fd = fd,
                    .buf = buf,
                    .n = n,
                    .buflen = buflen,
                    .flags = flags,
                    .addr = addr,
                    .alenp = alen};
    return recv_io(&io, e);
}

PW_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(recvmsg)(fd, msg, flags);
    struct io io = {.k = IO_RECVMSG,
                    .fd = fd,
                    .msg = msg,
                    .flags = flags,
                    .n = msg ? iov_total(msg->msg_iov, (int)msg->msg_iovlen) : 0};
    return recv_io(&io, e);
}

/* glibc's eventfd_read/eventfd_write call read/write internally, past our wrappers. */
PW_EXPORT int eventfd_read(int fd, eventfd_t *value)
{
    uint64_t e = recv_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(eventfd_read)(fd, value);
    struct io io = {.k = IO_EVENTFD_READ, .fd = fd, .buf = value, .n = sizeof *value};
    return (int)recv_io(&io, e);
}

PW_EXPORT int eventfd_write(int fd, eventfd_t value)
{
    uint64_t e = send_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(eventfd_write)(fd, value);
    struct io io = {.pc = CALLER_PC(),
                    .k = IO_EVENTFD_WRITE,
                    .fd = fd,
                    .value = value,
                    .n = sizeof value};
    return (int)send_io(&io, e);
}

PW_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (PW_UNLIKELY(!pw_on()))
        return PW_REAL(write) ? PW_REAL(write)(fd, buf, n) : syscall(SYS_write, fd, buf, n);
    uint64_t e = pw_fd_get(fd);
    if (plain_send(e))
        return PW_REAL(write)(fd, buf, n);
    struct io io = {.pc = CALLER_PC(), .k = IO_WRITE, .fd = fd, .buf = (void *)buf, .n = n};
    return send_io(&io, e);
}

PW_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    uint64_t e = send_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(writev)(fd, iov, cnt);
    struct io io = {.pc = CALLER_PC(),
                    .k = IO_WRITEV,
                    .fd = fd,
                    .iov = iov,
                    .iovcnt = cnt,
                    .n = iov_total(iov, cnt)};
    return send_io(&io, e);
}

PW_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    uint64_t e = send_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(send)(fd, buf, n, flags);
    struct io io =
        {.pc = CALLER_PC(), .k = IO_SEND, .fd = fd, .buf = (void *)buf, .n = n, .flags = flags};
    return send_io(&io, e);
}

PW_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
                         socklen_t alen)
{
    uint64_t e = send_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(sendto)(fd, buf, n, flags, addr, alen);
    struct io io = {.pc = CALLER_PC(),
                    .k = IO_SENDTO,
                    .fd = fd,
                    .buf = (void *)buf,
                    .n = n,
                    .flags = flags,
                    .addr = (void *)addr,
                    .alen = alen};
    return send_io(&io, e);
}

PW_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    uint64_t e = send_word(fd);
    if (PW_LIKELY(e == 0))
        return PW_REAL(sendmsg)(fd, msg, flags);
    struct io io = {.pc = CALLER_PC(),
                    .k = IO_SENDMSG,
                    .fd = fd,
                    .msg = (struct msghdr *)msg,
                    .flags = flags,
                    .n = msg ? iov_total(msg->msg_iov, (int)msg->msg_iovlen) : 0};
    return send_io(&io, e);
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

/* libunwind's private pipe, asked for inside our stack capture: refused, so
 * the shim never owns an fd the host could see or reuse (stack.c). */
static int refuse_pipe(void)
{
    errno = EMFILE;
    return -1;
}

PW_EXPORT int pipe(int fds[2])
{
    if (PW_UNLIKELY(pw_stack_refuses_fds()))
        return refuse_pipe();
    if (!pw_on())
        return PW_REAL(pipe) ? PW_REAL(pipe)(fds) : (int)syscall(SYS_pipe2, fds, 0);
    return pipe_after(PW_REAL(pipe)(fds), fds, 0);
}

PW_EXPORT int pipe2(int fds[2], int flags)
{
    if (PW_UNLIKELY(pw_stack_refuses_fds()))
        return refuse_pipe();
    if (!pw_on())
        return PW_REAL(pipe2) ? PW_REAL(pipe2)(fds, flags) : (int)syscall(SYS_pipe2, fds, flags);
    return pipe_after(PW_REAL(pipe2)(fds, flags), fds, flags);
}

/* A vfork child shares our memory and TLS: what it closes must not be booked
 * as the parent's close.  Only channel fds pay for this getpid. */
static bool in_vfork_child(void)
{
    return syscall(SYS_getpid) != pw_pid;
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
    if ((e & PW_FD_EPOLL) && rc == 0)
        pw_epoll_closed(fd, e);
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
    if (e & PW_FD_REUSED) /* another thread's object on a number closed before */
        pw_fd_reuse_closed(fd, e, rc);
    errno = err;
    return rc;
}

/* ---- closes that do not go through close(): without them a stale table entry
 * would book the next user of that fd number to the old channel. */

/* Books the close of every live channel fd in [lo, hi]. */
static void close_span(unsigned lo, unsigned hi)
{
    uint32_t top = PW_LOAD(&pw_fdt.hi);
    if (hi >= top)
        hi = top == 0 ? 0 : top - 1;
    pw_tls.guard++;
    for (unsigned fd = lo; fd <= hi && top != 0; fd++) {
        uint64_t e = pw_fd_get((int)fd);
        if (e & PW_FD_LIVE)
            pw_chan_fd_closing((int)fd, e);
        else if (e & PW_FD_EPOLL)
            pw_epoll_closed((int)fd, e);
        else if (e & (PW_FD_STALE | PW_FD_REUSED))
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
    else if ((dest_word & (PW_FD_STALE | PW_FD_REUSED)) && (e & PW_FD_LIVE))
        pw_fd_set(rc, 0); /* a copy of a non-channel fd: pw_fd_created judged the number */
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
    if (rc >= 0 && !(pw_fd_get(fd) & PW_FD_LIVE))
        pw_fd_created(rc); /* a new fd of a non-channel object */
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
    if (rc >= 0 && rc != oldfd && !(pw_fd_get(oldfd) & PW_FD_LIVE))
        pw_fd_created(rc);
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
    if (rc >= 0 && !(pw_fd_get(oldfd) & PW_FD_LIVE))
        pw_fd_created(rc);
    if (rc < 0 || (dest == 0 && !(pw_fd_get(oldfd) & PW_FD_LIVE)) || in_vfork_child())
        return rc;
    return dup_after(rc, oldfd, dest, 0);
}

/* fcntl matters for channels three times: F_DUPFD* makes another fd of a side,
 * F_SETFL may switch O_NONBLOCK (a non-blocking fd never parks), and
 * F_SETPIPE_SZ gives a pipe its new capacity (its result), which decides when
 * a write is attempted without blocking first. */
static int fcntl_after(int rc, int fd, int cmd, void *arg)
{
    uint64_t e = pw_fd_get(fd);
    if (rc >= 0 && !(e & PW_FD_LIVE) && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        pw_fd_created(rc);
    if (rc < 0 || !(e & PW_FD_LIVE))
        return rc;
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return in_vfork_child() ? rc : dup_after(rc, fd, pw_fd_get(rc), 0);
    if (cmd == F_SETFL) {
        bool nb = ((int)(intptr_t)arg & O_NONBLOCK) != 0;
        pw_fd_set(fd, nb ? e | PW_FD_NONBLOCK : e & ~PW_FD_NONBLOCK);
        if (nb)
            pw_chan_send_nonblock(pw_fd_send_chan(e)); /* self-pipe style */
    }
    if (cmd == F_SETPIPE_SZ && rc > 0) {
        int64_t idx = pw_fd_send_chan(e) >= 0 ? pw_fd_send_chan(e) : pw_fd_recv_chan(e);
        if (idx >= 0 && pw_chan_rec((uint32_t)idx)->type == PW_OBJ_PIPE)
            PW_STORE(&pw_chan_rec((uint32_t)idx)->capacity, (uint64_t)rc);
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
