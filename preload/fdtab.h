/* fd table: one 64-bit word per fd number in anonymous memory (untouched pages
 * cost nothing), so a non-channel fd costs one load on read/write/close.
 *
 * Word layout: bits 0-31 channel record index + 1, bit 32 side, bit 33 the fd
 * is O_NONBLOCK, bit 34 BOTH (the fd sends and receives on that one channel:
 * eventfd, an O_RDWR mqueue), bit 35 PAIR (a socketpair end: the word names the
 * direction it receives on, it sends on the neighbouring record, bit 36 says
 * which), bit 37 EPOLL (bits 0-31 are then an epoll instance + 1, not a
 * channel; never LIVE), bit 62 STALE (the fd was a channel fd and was closed:
 * kept to recognise a double close), bit 63 LIVE.  A new channel on a reused fd
 * number gets a new record and id: identities never merge. */
#ifndef PW_FDTAB_H
#define PW_FDTAB_H

#include "shim.h"

#define PW_FD_LIVE (1ull << 63)
#define PW_FD_STALE (1ull << 62)
#define PW_FD_NONBLOCK (1ull << 33)
#define PW_FD_BOTH (1ull << 34)
#define PW_FD_PAIR (1ull << 35)
#define PW_FD_PEER_UP (1ull << 36)
#define PW_FD_EPOLL (1ull << 37)
#define PW_FD_SIDE(e) ((unsigned)((e) >> 32) & 1u)
#define PW_FD_CHAN(e) ((uint32_t)(e) - 1u)

/* The channel record an fd receives on / sends on, or -1.  A socketpair end
 * receives on its own record and sends on the neighbour. */
static inline int64_t pw_fd_recv_chan(uint64_t e)
{
    if (!(e & PW_FD_LIVE) || (PW_FD_SIDE(e) != PW_SIDE_RECV && !(e & PW_FD_BOTH)))
        return -1;
    return PW_FD_CHAN(e);
}

static inline int64_t pw_fd_send_chan(uint64_t e)
{
    if (!(e & PW_FD_LIVE))
        return -1;
    if (e & PW_FD_PAIR)
        return (int64_t)PW_FD_CHAN(e) + ((e & PW_FD_PEER_UP) ? 1 : -1);
    return PW_FD_SIDE(e) == PW_SIDE_SEND || (e & PW_FD_BOTH) ? (int64_t)PW_FD_CHAN(e) : -1;
}

/* Shim-private per-channel state (the file holds the rest).  One cache line
 * each: neighbouring channels are often used by different threads (a ping-pong
 * pair), and a shared line would bounce between them on every park. */
struct pw_chan_priv {
    uint32_t parked[2]; /* threads parked on each side right now */
} __attribute__((aligned(64)));

static inline uint64_t pw_fd_get(int fd)
{
    if (PW_UNLIKELY((unsigned)fd >= pw_g.nfds))
        return 0;
    return PW_LOAD_RELAXED(&pw_g.fdtab[fd]);
}

static inline void pw_fd_set(int fd, uint64_t e)
{
    if ((unsigned)fd < pw_g.nfds)
        PW_STORE(&pw_g.fdtab[fd], e);
}

/* A live channel fd: also raises the high-water mark a fork child scans. */
static inline void pw_fd_set_live(int fd, uint64_t e)
{
    if ((unsigned)fd >= pw_g.nfds)
        return;
    uint32_t hi = PW_LOAD_RELAXED(&pw_g.fd_hi);
    while ((uint32_t)fd >= hi &&
           !__atomic_compare_exchange_n(&pw_g.fd_hi, &hi, (uint32_t)fd + 1, 1, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
    PW_STORE(&pw_g.fdtab[fd], e);
}

struct pw_chan_rec *pw_chan_rec(uint32_t idx);
/* Claims one record (backed, still FREE) or returns -1 (counted as dropped). */
int32_t pw_chan_claim(void);
/* All below run with the guard raised. */
void pw_chan_create(uint16_t type, const int fds[2], bool nonblock, uint32_t stack);
/* socketpair: two channels, one per direction (SV[0] -> SV[1] and back). */
void pw_chan_create_pair(const int sv[2], bool nonblock, uint32_t stack);
/* eventfd, mqueue: FD is one end; SIDES is 1 << PW_SIDE_RECV and/or 1 << PW_SIDE_SEND.
 * NAME (may be NULL) is an mqueue name: an open record with it is reused. */
void pw_chan_create_one(uint16_t type, int fd, unsigned sides, bool nonblock, const char *name,
                        uint32_t stack);
void pw_chan_fd_closing(int fd, uint64_t e);
void pw_chan_fd_added(int newfd, uint64_t e, bool nonblock);
void pw_chan_double_close(int fd, uint64_t e);
void pw_chan_misuse(uint16_t kind, int fd, uint32_t idx, uint32_t stack2, uint32_t other, int err);
/* shutdown(2): SIDES as above, the sides of FD's socket that stop working. */
void pw_chan_shutdown(int fd, uint64_t e, unsigned sides);
/* A send-side fd of channel IDX is (now) non-blocking (PW_CF_SEND_NONBLOCK). */
void pw_chan_send_nonblock(int64_t idx);
/* A child (fork, posix_spawn) got copies of every open channel end. */
void pw_chans_mark_forked(void);
/* close(2) of an epoll fd (word E has PW_FD_EPOLL): forget its interest list. */
void pw_epoll_closed(int fd, uint64_t e);
/* exec (i_proc.c): book FD_CLOEXEC closes and list the kept channel fds; undo
 * the closes if the exec returns.  A new image of exec generation GEN > 0
 * inherits the kept channels from the previous image's trace (init.c). */
void pw_chans_exec_before(void);
void pw_chans_exec_failed(void);
void pw_chans_exec_inherit(uint32_t gen);
/* mq_unlink: later opens of NAME are a new queue. */
void pw_chan_unlink_name(const char *name);

#endif
