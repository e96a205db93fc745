/* The fd table and the channel records, linked directly: what a pipe, a
 * socketpair, an eventfd and an mqueue name make of the fd words and records;
 * closes, dups and double closes; a reused fd number gets a new channel; a
 * fork child's copy keeps every open end and nothing closed; epoll instances. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim_env.h"

static int devnull(void)
{
    return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static uint32_t used(void)
{
    return PW_LOAD(&pw_tf.hdr->chans_used);
}

/* Closes FD the way the close interposer does: the record first, then the fd. */
static void close_chan_fd(int fd)
{
    uint64_t e = pw_fd_get(fd);
    if (e & PW_FD_LIVE)
        pw_chan_fd_closing(fd, e);
    close(fd);
}

static void test_pipe_close_reuse(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    uint32_t idx = used();
    pw_chan_create(PW_OBJ_PIPE, p, false, 0);
    uint64_t r = pw_fd_get(p[0]), w = pw_fd_get(p[1]);
    CHECK((r & PW_FD_LIVE) && (w & PW_FD_LIVE));
    CHECK(pw_fd_recv_chan(r) == idx && pw_fd_send_chan(r) == -1);
    CHECK(pw_fd_send_chan(w) == idx && pw_fd_recv_chan(w) == -1);
    CHECK(pw_fdt.hi >= (uint32_t)p[1] + 1);
    struct pw_chan_rec *c = pw_chan_rec(idx);
    uint32_t id = c->id;
    CHECK(id != 0 && c->type == PW_OBJ_PIPE && c->state == PW_CS_OPEN);
    CHECK(c->fd[PW_SIDE_RECV] == p[0] && c->fd[PW_SIDE_SEND] == p[1]);
    CHECK(c->open[PW_SIDE_RECV] == 1 && c->open[PW_SIDE_SEND] == 1);
    CHECK(c->creator == 1 && c->capacity >= 4096);
    const struct pw_event *ev = shim_env_last(PW_EV_CHAN_CREATE);
    CHECK(ev != NULL && ev->obj == id && ev->op == PW_OBJ_PIPE);
    CHECK(ev != NULL && ev->arg == ((uint32_t)p[0] | (uint64_t)(uint32_t)p[1] << 32));

    /* a dup is one more fd of the same end */
    int d = dup(p[0]);
    CHECK(d > p[1]);
    pw_chan_fd_added(d, r, false);
    CHECK(pw_fd_recv_chan(pw_fd_get(d)) == idx && c->open[PW_SIDE_RECV] == 2);
    close_chan_fd(d);
    CHECK(c->open[PW_SIDE_RECV] == 1 && c->state == PW_CS_OPEN);
    CHECK((pw_fd_get(d) & PW_FD_STALE) && !(pw_fd_get(d) & PW_FD_LIVE));
    ev = shim_env_last(PW_EV_CHAN_CLOSE);
    CHECK(ev != NULL && ev->obj == id && ev->op == PW_SIDE_RECV && ev->arg == 1 &&
          ev->obj2 == (uint64_t)d);

    /* the last fd of each side: the channel is closed, and says by whom */
    close_chan_fd(p[0]);
    CHECK(c->open[PW_SIDE_RECV] == 0 && c->close_thread[PW_SIDE_RECV] == 1);
    CHECK(c->state == PW_CS_OPEN); /* the write end is still open */
    close_chan_fd(p[1]);
    CHECK(c->state == PW_CS_CLOSED);

    /* a second close of a closed channel fd is a misuse note */
    uint32_t notes = shim_env_notes();
    pw_chan_double_close(d, pw_fd_get(d));
    CHECK(shim_env_notes() == notes + 1);
    const struct pw_event *n = shim_env_note(notes);
    CHECK(n->kind == PW_EV_MISUSE && n->op == PW_MISUSE_DOUBLE_CLOSE && n->obj == id &&
          n->obj2 == (uint64_t)d && n->err == EBADF);

    /* the same fd numbers again: a new record and a new id, the old one kept */
    int q[2];
    CHECK(pipe(q) == 0);
    CHECK(q[0] == p[0] && q[1] == p[1]); /* lowest free numbers: reused */
    pw_chan_create(PW_OBJ_PIPE, q, true, 0);
    int64_t nidx = pw_fd_recv_chan(pw_fd_get(q[0]));
    CHECK(nidx == idx + 1);
    CHECK(nidx >= 0 && pw_chan_rec((uint32_t)nidx)->id != id);
    CHECK(nidx >= 0 && (pw_chan_rec((uint32_t)nidx)->flags & PW_CF_SEND_NONBLOCK));
    CHECK(pw_fd_get(q[1]) & PW_FD_NONBLOCK);
    CHECK(c->id == id && c->state == PW_CS_CLOSED);
}

static void test_socketpair(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    uint32_t idx = used();
    pw_chan_create_pair(sv, false, 0);
    CHECK(used() == idx + 2);
    uint64_t e0 = pw_fd_get(sv[0]), e1 = pw_fd_get(sv[1]);
    /* record idx carries sv[0] -> sv[1], idx + 1 the way back */
    CHECK(pw_fd_send_chan(e0) == idx && pw_fd_recv_chan(e1) == idx);
    CHECK(pw_fd_send_chan(e1) == idx + 1 && pw_fd_recv_chan(e0) == idx + 1);
    struct pw_chan_rec *a = pw_chan_rec(idx), *b = pw_chan_rec(idx + 1);
    CHECK(a->id + 1 == b->id && a->type == PW_OBJ_SOCKETPAIR);
    CHECK(a->fd[PW_SIDE_RECV] == sv[1] && a->fd[PW_SIDE_SEND] == sv[0]);

    /* shutdown(SHUT_WR) of sv[0]: its send side of a is closed at once */
    pw_chan_shutdown(sv[0], e0, 1u << PW_SIDE_SEND);
    CHECK(a->open[PW_SIDE_SEND] == 0 && (a->flags & PW_CF_SHUT_SEND));
    CHECK(b->open[PW_SIDE_SEND] == 1 && !(b->flags & PW_CF_SHUT_SEND));
    /* a dup of sv[0] adds no fd to the shut-down side */
    int d = dup(sv[0]);
    pw_chan_fd_added(d, e0, false);
    CHECK(a->open[PW_SIDE_SEND] == 0 && b->open[PW_SIDE_RECV] == 2);
    close_chan_fd(d);
    CHECK(b->open[PW_SIDE_RECV] == 1);
}

static void test_one_fd_channels(void)
{
    int efd = devnull();
    uint32_t idx = used();
    pw_chan_create_one(PW_OBJ_EVENTFD, efd, 1u << PW_SIDE_RECV | 1u << PW_SIDE_SEND, true, NULL, 0);
    uint64_t e = pw_fd_get(efd);
    CHECK((e & PW_FD_BOTH) && (e & PW_FD_NONBLOCK));
    CHECK(pw_fd_recv_chan(e) == idx && pw_fd_send_chan(e) == idx);
    CHECK(pw_chan_rec(idx)->flags & PW_CF_SEND_NONBLOCK);

    /* an mqueue opened twice by name is one channel with two fds */
    int m1 = devnull(), m2 = devnull(), m3 = devnull();
    idx = used();
    pw_chan_create_one(PW_OBJ_MQUEUE, m1, 1u << PW_SIDE_RECV, false, "/jobs", 0);
    pw_chan_create_one(PW_OBJ_MQUEUE, m2, 1u << PW_SIDE_SEND, false, "/jobs", 0);
    CHECK(used() == idx + 1);
    CHECK(pw_fd_recv_chan(pw_fd_get(m1)) == idx && pw_fd_send_chan(pw_fd_get(m2)) == idx);
    struct pw_chan_rec *c = pw_chan_rec(idx);
    CHECK(c->open[PW_SIDE_RECV] == 1 && c->open[PW_SIDE_SEND] == 1);
    CHECK((c->flags & PW_CF_NAMED) && strcmp(c->name, "/jobs") == 0);
    /* after mq_unlink the name is a new queue */
    pw_chan_unlink_name("/jobs");
    pw_chan_create_one(PW_OBJ_MQUEUE, m3, 1u << PW_SIDE_RECV, false, "/jobs", 0);
    CHECK(used() == idx + 2 && pw_fd_recv_chan(pw_fd_get(m3)) == idx + 1);
    CHECK(pw_chan_rec(idx + 1)->id != c->id);
}

static void test_epoll(void)
{
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    pw_ep_created(ep);
    uint64_t e = pw_fd_get(ep);
    CHECK((e & PW_FD_EPOLL) && !(e & PW_FD_LIVE));
    CHECK(pw_fd_recv_chan(e) == -1 && pw_fd_send_chan(e) == -1);
    struct pw_ep *p = pw_ep_of(ep);
    CHECK(p != NULL && p->id != 0);
    if (p == NULL)
        return;
    pw_ep_ctl(p, EPOLL_CTL_ADD, 7, EPOLLIN);
    pw_ep_ctl(p, EPOLL_CTL_ADD, 9, EPOLLOUT);
    pw_ep_ctl(p, EPOLL_CTL_MOD, 7, EPOLLIN | EPOLLOUT);
    CHECK(p->m[0].fd1 == 8 && p->m[0].events == (EPOLLIN | EPOLLOUT));
    CHECK(p->m[1].fd1 == 10 && p->m[1].events == EPOLLOUT);
    pw_ep_ctl(p, EPOLL_CTL_DEL, 7, 0);
    CHECK(p->m[0].fd1 == 0 && p->m[1].fd1 == 10);
    pw_epoll_closed(ep, e);
    CHECK(pw_fd_get(ep) == 0 && pw_ep_of(ep) == NULL && p->id == 0);
    close(ep);
    int plain = devnull();
    CHECK(pw_ep_of(plain) == NULL); /* not an epoll fd */
    close(plain);
}

/* What a fork child does with the parent's trace: the open channels come
 * along with the same ids and their open ends counted from the fd table, the
 * closed ones do not. */
static void test_fork_inherit(void)
{
    struct pw_trace_header *old = pw_tf.hdr;
    char *old_base = pw_tf.base;
    uint64_t old_size = pw_tf.size;
    uint32_t n = used();
    uint32_t ids[64];
    int32_t open[64][2];
    uint32_t state[64];
    for (uint32_t i = 0; i < n && i < 64; i++) {
        struct pw_chan_rec *c = pw_chan_rec(i);
        ids[i] = c->id;
        state[i] = c->state;
        open[i][0] = c->open[0];
        open[i][1] = c->open[1];
    }
    pw_chans_mark_forked();
    CHECK(pw_chan_rec(n - 1)->flags & PW_CF_FORKED);

    pw_trace_detach();
    pw_tls.rec = NULL;
    pw_tls.state = PW_TLS_NEW;
    pw_threads_reset_private();
    CHECK(pw_trace_create(0) == 0 && pw_tf.hdr != old);
    CHECK(pw_register_self(PW_TF_FORKED) >= 0);
    pw_chans_inherit(old, old_base);

    CHECK(used() == n);
    uint32_t inherited = 0;
    for (uint32_t i = 0; i < n && i < 64; i++) {
        struct pw_chan_rec *c = pw_chan_rec(i);
        if (state[i] != PW_CS_OPEN) {
            CHECK(c->state == PW_CS_FREE); /* closed before the fork: not copied */
            continue;
        }
        inherited++;
        CHECK(c->state == PW_CS_OPEN && c->id == ids[i]);
        CHECK((c->flags & PW_CF_INHERITED) && !(c->flags & PW_CF_FORKED));
        /* counted from the fd table, which matches the parent's counts here */
        CHECK(c->open[0] == open[i][0] && c->open[1] == open[i][1]);
    }
    CHECK(inherited >= 4);
    /* new channels continue the parent's ids */
    int p[2];
    CHECK(pipe(p) == 0);
    pw_chan_create(PW_OBJ_PIPE, p, false, 0);
    CHECK(pw_chan_rec(n)->id == ids[n - 1] + 1);
    munmap(old_base, old_size);
}

int main(void)
{
    if (shim_env_start() != 0) {
        fprintf(stderr, "cannot start a trace in %s\n", shim_env_dir);
        shim_env_end();
        return 1;
    }
    test_pipe_close_reuse();
    test_socketpair();
    test_one_fd_channels();
    test_epoll();
    test_fork_inherit();
    shim_env_end();
    return failures != 0;
}
