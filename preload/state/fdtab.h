/* fd table (fdtab.c): one 64-bit word per fd number in anonymous memory (untouched pages
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
/* A STALE word keeps the serial of the thread that closed it (its low 22
 * bits; bit 38 is exec.c's).  When another thread then makes a new fd on the
 * number (open, socket, accept, dup: pw_fd_created), the word turns REUSED
 * (never LIVE): a close of it by the first thread closes the other thread's
 * object, unless the first thread used the fd meanwhile (pw_fd_reuse_used). */
#define PW_FD_CLOSER_SHIFT 39
#define PW_FD_CLOSER_MASK 0x3fffffull
#define PW_FD_REUSED (1ull << 61)
#define PW_FD_CLOSER(e) ((uint32_t)(((e) >> PW_FD_CLOSER_SHIFT) & PW_FD_CLOSER_MASK))
#define PW_FD_SIDE(e) ((unsigned)((e) >> 32) & 1u)
#define PW_FD_CHAN(e) ((uint32_t)(e)-1u)

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

struct pw_fdtab {
    uint64_t *tab; /* n words */
    uint32_t n;
    uint32_t hi; /* 1 + the highest fd ever made a channel fd */
};
extern struct pw_fdtab pw_fdt;

int pw_fdtab_init(void);

static inline uint64_t pw_fd_get(int fd)
{
    if (PW_UNLIKELY((unsigned)fd >= pw_fdt.n))
        return 0;
    return PW_LOAD_RELAXED(&pw_fdt.tab[fd]);
}

static inline void pw_fd_set(int fd, uint64_t e)
{
    if ((unsigned)fd < pw_fdt.n)
        PW_STORE(&pw_fdt.tab[fd], e);
}

/* FD's word becomes TO if it is still FROM (another thread may have made a
 * new fd on the number meanwhile). */
static inline bool pw_fd_swap(int fd, uint64_t from, uint64_t to)
{
    if ((unsigned)fd >= pw_fdt.n)
        return false;
    return __atomic_compare_exchange_n(&pw_fdt.tab[fd], &from, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

/* A live channel fd: also raises the high-water mark a fork child scans. */
static inline void pw_fd_set_live(int fd, uint64_t e)
{
    if ((unsigned)fd >= pw_fdt.n)
        return;
    uint32_t hi = PW_LOAD_RELAXED(&pw_fdt.hi);
    while ((uint32_t)fd >= hi && !__atomic_compare_exchange_n(&pw_fdt.hi, &hi, (uint32_t)fd + 1, 1,
                                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    PW_STORE(&pw_fdt.tab[fd], e);
}

/* The calling thread just got FD from a call that makes no channel (open,
 * socket, accept, dup of a non-channel fd...): a number that was a channel fd
 * closed by another thread now belongs to this new object (REUSED). */
void pw_fd_reopened(int fd, uint64_t e); /* the slow part of pw_fd_created */

static inline void pw_fd_created(int fd)
{
    uint64_t e = pw_fd_get(fd);
    if (PW_UNLIKELY(e & (PW_FD_STALE | PW_FD_REUSED)))
        pw_fd_reopened(fd, e);
}
/* The calling thread reads or writes FD, whose word E is REUSED: if it is the
 * thread that closed the number before, it knows the new object. */
void pw_fd_reuse_used(int fd, uint64_t e);
/* The serial of the thread that made the new fd on reused number FD, 0 if
 * forgotten. */
uint32_t pw_fd_reopened_by(int fd);

/* ---- epoll instances.  An epoll fd's word has PW_FD_EPOLL and names a slot of
 * a table of interest lists (in shim memory, mapped on first use); i_poll.c
 * follows epoll_ctl into it and reads it when a thread waits. */
#define PW_EP_MAX 256u
#define PW_EP_MEMBERS 63u

/* One epoll instance's interest list.  id 0 = free slot; a member slot is free
 * when fd1 (fd + 1) is 0.  Slots are claimed with CAS: epoll_ctl may run in
 * several threads at once. */
struct pw_ep {
    uint32_t id;
    uint32_t overflow; /* members that did not fit: counted as outside */
    struct {
        int32_t fd1;
        uint32_t events;
    } m[PW_EP_MEMBERS];
};

/* FD was returned by epoll_create*: give it an instance (none when full). */
void pw_ep_created(int fd);
/* The instance of epoll fd EPFD, or NULL (not an epoll fd, or not followed). */
struct pw_ep *pw_ep_of(int epfd);
/* epoll_ctl(OP, FD, EVENTS) succeeded on instance P. */
void pw_ep_ctl(struct pw_ep *p, int op, int fd, uint32_t events);
/* close(2) of an epoll fd (word E has PW_FD_EPOLL): forget its interest list. */
void pw_epoll_closed(int fd, uint64_t e);

#endif
