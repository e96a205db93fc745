/* Channel records (chan.c): one per pipe, socketpair direction, eventfd,
 * mqueue or annotated queue, in the trace's channel section.  A new channel on
 * a reused fd number gets a new record and id: identities never merge.  The fd
 * words that point at records are fdtab.h's. */
#ifndef PW_CHAN_H
#define PW_CHAN_H

#include "shim.h"

/* Shim-private per-channel state (the file holds the rest).  One cache line
 * each: neighbouring channels are often used by different threads (a ping-pong
 * pair), and a shared line would bounce between them on every park. */
struct pw_chan_priv {
    uint32_t parked[2]; /* threads parked on each side right now */
} __attribute__((aligned(64)));
extern struct pw_chan_priv *pw_chan_priv; /* one per record, shim memory */

/* Maps the private per-channel state (first initialisation). */
int pw_chans_init(void);
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
/* FD with the REUSED word E (fdtab.h) was closed with result RC by the
 * calling thread: if that thread had closed the number before, it closed
 * the new fd another thread made there (a CLOSE_REUSED note).  Forgets the
 * word either way. */
void pw_fd_reuse_closed(int fd, uint64_t e, int rc);
void pw_chan_misuse(uint16_t kind, int fd, uint32_t idx, uint32_t stack2, uint32_t other, int err);
/* shutdown(2): SIDES as above, the sides of FD's socket that stop working. */
void pw_chan_shutdown(int fd, uint64_t e, unsigned sides);
/* A send-side fd of channel IDX is (now) non-blocking (PW_CF_SEND_NONBLOCK). */
void pw_chan_send_nonblock(int64_t idx);
/* A child (fork, posix_spawn) got copies of every open channel end. */
void pw_chans_mark_forked(void);
/* mq_unlink: later opens of NAME are a new queue. */
void pw_chan_unlink_name(const char *name);
/* Fork child (and a new image after an exec): the channels still open in the
 * parent's trace OLD, mapped at OLD_BASE, whose fds the fd table lists. */
void pw_chans_inherit(struct pw_trace_header *old, void *old_base);

#endif
