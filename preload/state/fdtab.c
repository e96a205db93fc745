/* The fd table (in shim memory) and the epoll instances it points at. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <sys/syscall.h>
#include <unistd.h>

#include "fdtab.h"
#include "proc.h"
#include "shim.h"
#include "tls.h"
#include "util.h"

#define PW_FD_CAP (1u << 20)

struct pw_fdtab pw_fdt;

int pw_fdtab_init(void)
{
    struct rlimit rl;
    uint64_t n = PW_FD_CAP;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
        n = rl.rlim_max;
    pw_fdt.tab = pw_anon_map(n * sizeof *pw_fdt.tab);
    if (pw_fdt.tab == NULL)
        return -1;
    pw_fdt.n = (uint32_t)n;
    return 0;
}

/* ---- numbers reused by another thread */

/* Who made the new fd on a reused number, by fd: direct-mapped and lossy (a
 * lost entry only loses the name in the report). */
#define REOPEN_SLOTS 256u
static struct {
    uint64_t key; /* fd + 1 | serial << 32, one word so a reader never tears it */
} reopen[REOPEN_SLOTS];

static uint32_t closer_of_me(void)
{
    return (uint32_t)(pw_tls.serial & PW_FD_CLOSER_MASK);
}

void pw_fd_reopened(int fd, uint64_t e)
{
    int err = errno;
    uint32_t closer = PW_FD_CLOSER(e);
    /* the closer itself, or a closer unknown (an exec's close), or a vfork
     * child (its fd table is its own): nothing to watch */
    if (!(e & (PW_FD_STALE | PW_FD_REUSED)) || closer == 0 || closer == closer_of_me() ||
        pw_tls.rec == NULL || syscall(SYS_getpid) != pw_pid) {
        pw_fd_swap(fd, e, 0);
        errno = err;
        return;
    }
    PW_STORE(&reopen[(unsigned)fd % REOPEN_SLOTS].key,
             (uint64_t)(fd + 1) | (uint64_t)pw_tls.serial << 32);
    pw_fd_swap(fd, e, (e & ~PW_FD_STALE) | PW_FD_REUSED);
    errno = err;
}

void pw_fd_reuse_used(int fd, uint64_t e)
{
    if (PW_FD_CLOSER(e) == closer_of_me())
        pw_fd_swap(fd, e, 0);
}

uint32_t pw_fd_reopened_by(int fd)
{
    uint64_t k = PW_LOAD(&reopen[(unsigned)fd % REOPEN_SLOTS].key);
    return (uint32_t)k == (uint32_t)(fd + 1) ? (uint32_t)(k >> 32) : 0;
}

/* ---- epoll */

static struct pw_ep *ep_tab;
static uint32_t ep_next_id;

static struct pw_ep *ep_table(void)
{
    struct pw_ep *t = PW_LOAD(&ep_tab);
    if (t != NULL)
        return t;
    struct pw_ep *mine = pw_anon_map(PW_EP_MAX * sizeof *mine);
    if (mine == NULL)
        return NULL;
    if (!__atomic_compare_exchange_n(&ep_tab, &t, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return t; /* another thread won; our mapping stays unused (rare, 128 KB untouched) */
    return mine;
}

struct pw_ep *pw_ep_of(int epfd)
{
    uint64_t e = pw_fd_get(epfd);
    if (!(e & PW_FD_EPOLL) || (e & PW_FD_LIVE) || ep_tab == NULL)
        return NULL;
    uint32_t i = (uint32_t)e - 1;
    return i < PW_EP_MAX ? &ep_tab[i] : NULL;
}

void pw_ep_created(int fd)
{
    if (fd < 0)
        return;
    int err = errno;
    struct pw_ep *t = ep_table();
    for (uint32_t i = 0; t != NULL && i < PW_EP_MAX; i++) {
        uint32_t zero = 0, id = PW_ADD(&ep_next_id, 1);
        if (!__atomic_compare_exchange_n(&t[i].id, &zero, id, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
        for (uint32_t k = 0; k < PW_EP_MEMBERS; k++)
            PW_STORE(&t[i].m[k].fd1, 0);
        PW_STORE(&t[i].overflow, 0);
        pw_fd_set(fd, PW_FD_EPOLL | (i + 1));
        break;
    }
    errno = err;
}

/* close(2) of an epoll fd (i_chan.c): the instance slot is free again. */
void pw_epoll_closed(int fd, uint64_t e)
{
    uint32_t i = (uint32_t)e - 1;
    if (ep_tab != NULL && i < PW_EP_MAX)
        PW_STORE(&ep_tab[i].id, 0);
    pw_fd_set(fd, 0);
}

void pw_ep_ctl(struct pw_ep *p, int op, int fd, uint32_t events)
{
    int32_t want = fd + 1;
    for (uint32_t k = 0; k < PW_EP_MEMBERS; k++) {
        int32_t cur = PW_LOAD(&p->m[k].fd1);
        if (cur == want) {
            if (op == EPOLL_CTL_DEL)
                PW_STORE(&p->m[k].fd1, 0);
            else
                PW_STORE(&p->m[k].events, events);
            return;
        }
    }
    if (op != EPOLL_CTL_ADD)
        return;
    for (uint32_t k = 0; k < PW_EP_MEMBERS; k++) {
        int32_t zero = 0;
        if (__atomic_compare_exchange_n(&p->m[k].fd1, &zero, want, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            PW_STORE(&p->m[k].events, events);
            return;
        }
    }
    PW_ADD(&p->overflow, 1);
}
