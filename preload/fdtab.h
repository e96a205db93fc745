/* fd table: one 64-bit word per fd number in anonymous memory (untouched pages
 * cost nothing), so a non-channel fd costs one load on read/write/close.
 *
 * Word layout: bits 0-31 channel record index + 1, bit 32 side, bit 33 the fd
 * is O_NONBLOCK, bit 62 STALE (the fd was a channel fd and was closed: kept to
 * recognise a double close), bit 63 LIVE.  A new channel on a reused fd number
 * gets a new record and id: identities never merge. */
#ifndef PW_FDTAB_H
#define PW_FDTAB_H

#include "shim.h"

#define PW_FD_LIVE (1ull << 63)
#define PW_FD_STALE (1ull << 62)
#define PW_FD_NONBLOCK (1ull << 33)
#define PW_FD_SIDE(e) ((unsigned)((e) >> 32) & 1u)
#define PW_FD_CHAN(e) ((uint32_t)(e) - 1u)

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
/* All below run with the guard raised. */
void pw_chan_create(uint16_t type, const int fds[2], bool nonblock, uint32_t stack);
void pw_chan_fd_closing(int fd, uint64_t e);
void pw_chan_fd_added(int newfd, uint64_t e, bool nonblock);
void pw_chan_double_close(int fd, uint64_t e);
void pw_chan_misuse(uint16_t kind, int fd, uint64_t e, uint32_t stack2, uint32_t other);

#endif
