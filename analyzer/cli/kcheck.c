/* The kernel's side of a verdict.  The model says what the shim saw; before
 * the watcher kills, /proc must agree that nothing it did not see can still
 * wake the process (SPEC: "Unknown is a state", "Ask the kernel before
 * acting"):
 *   - every task is a thread the model knows (glibc's SIGEV_THREAD helper, a
 *     raw clone() or a thread without a slot is not), sleeping, with no CPU
 *     time used over the window between two readings;
 *   - no signal is pending that a thread can take, and no armed timer can
 *     deliver one to a handler (or start a SIGEV_THREAD call);
 *   - no parked-on lock, cond, sem or barrier lives in shared memory;
 *   - no parked-on channel end, nor the peer of a parked-on AF_UNIX socket
 *     (asked of unix_diag), is open in another process (found by inode in
 *     /proc/N/fd of every process we can read), and the process has no io_uring
 *     instance that could complete a read or write the shim never sees.
 * All of it is read only when a verdict is about to be taken. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kcheck.h"
#include "model.h"
#include "parkwatch/ops.h"

#define MAX_TASKS 4096

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reads up to LEN - 1 bytes of PATH into BUF, NUL-terminated; -1 on error. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

static uint64_t status_mask(const char *status, const char *key)
{
    const char *s = strstr(status, key);
    return s ? strtoull(s + strlen(key), NULL, 16) : 0;
}

/* /proc/PID/task/TID/stat: "tid (comm) S ppid ... utime stime": fields counted
 * from after the last ')', as comm may hold spaces and parentheses. */
static int read_task(int pid, int tid, struct pw_ktask *t)
{
    char path[96], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
    if (slurp(path, buf, sizeof(buf)) <= 0)
        return -1;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return -1;
    memset(t, 0, sizeof(*t));
    t->tid = tid;
    snprintf(t->comm, sizeof(t->comm), "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    int field = 2;
    uint64_t utime = 0, stime = 0;
    for (char *save = NULL, *tok = strtok_r(close_paren + 1, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 3)
            t->state = tok[0];
        else if (field == 14)
            utime = strtoull(tok, NULL, 10);
        else if (field == 15) {
            stime = strtoull(tok, NULL, 10);
            break;
        }
    }
    t->cpu = utime + stime;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
    char st[4096];
    if (slurp(path, st, sizeof(st)) > 0) {
        t->sigpnd = status_mask(st, "\nSigPnd:");
        t->sigblk = status_mask(st, "\nSigBlk:");
    }
    return 0;
}

int pw_kview_take(int pid, struct pw_kview *v)
{
    memset(v, 0, sizeof(*v));
    v->pid = pid;
    v->taken_ns = mono_ns();
    char path[64], st[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    if (slurp(path, st, sizeof(st)) <= 0)
        return -1;
    v->shdpnd = status_mask(st, "\nShdPnd:");
    v->sigcgt = status_mask(st, "\nSigCgt:");
    v->sigign = status_mask(st, "\nSigIgn:");
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        if (v->ntasks == MAX_TASKS) {
            v->truncated = true;
            break;
        }
        if (v->ntasks % 64 == 0) {
            struct pw_ktask *nt = realloc(v->tasks, (v->ntasks + 64) * sizeof(*nt));
            if (!nt) {
                v->truncated = true;
                break;
            }
            v->tasks = nt;
        }
        /* a task that ended between readdir and the read is simply gone */
        if (read_task(pid, atoi(de->d_name), &v->tasks[v->ntasks]) == 0)
            v->ntasks++;
    }
    closedir(d);
    return 0;
}

void pw_kview_free(struct pw_kview *v)
{
    free(v->tasks);
    memset(v, 0, sizeof(*v));
}

static const struct pw_ktask *task_of(const struct pw_kview *v, int tid)
{
    for (size_t i = 0; i < v->ntasks; i++)
        if (v->tasks[i].tid == tid)
            return &v->tasks[i];
    return NULL;
}

static bool known_thread(const struct pw_process *p, int tid)
{
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].tid == tid && p->threads[i].status != PW_THR_EXITED)
            return true;
    return false;
}

static bool in_set(struct pw_thread *const *threads, size_t n, int tid)
{
    for (size_t i = 0; i < n; i++)
        if (threads[i]->tid == tid)
            return true;
    return false;
}

#define SIGBIT(s) (1ull << ((s)-1))

/* A signal that, delivered, runs a handler: the handler may release what a
 * thread waits for.  A signal with its default action ends the process (or is
 * ignored, or stops it): it releases nothing. */
static bool signal_matters(const struct pw_kview *v, int sig)
{
    return sig >= 1 && sig <= 64 && (v->sigcgt & SIGBIT(sig));
}

/* Signals some task does not block: those the kernel can deliver. */
static uint64_t deliverable(const struct pw_kview *v)
{
    uint64_t m = 0;
    for (size_t i = 0; i < v->ntasks; i++)
        m |= ~v->tasks[i].sigblk;
    return m;
}

static const char *pending_signal(const struct pw_kview *v, char *why, size_t len)
{
    uint64_t pend = v->shdpnd, can = deliverable(v);
    for (size_t i = 0; i < v->ntasks; i++)
        pend |= v->tasks[i].sigpnd & ~v->tasks[i].sigblk;
    for (int sig = 1; sig <= 64; sig++)
        if ((pend & can & SIGBIT(sig)) && signal_matters(v, sig)) {
            snprintf(why, len, "signal %d (%s) is pending", sig, strsignal(sig));
            return why;
        }
    return NULL;
}

static const char *armed_timer(const struct pw_process *p, const struct pw_kview *v, char *why,
                               size_t len)
{
    uint64_t now = mono_ns(), can = deliverable(v);
    for (size_t i = 0; i < p->ntimers; i++) {
        const struct pw_timer_rec *t = &p->timers[i];
        if (t->interval_ns == 0 && t->deadline_ns <= now)
            continue; /* fired: its signal, if still pending, is seen above */
        const char *what = i == 0 && t->id == 0 ? "alarm/setitimer" : "timer_create";
        char when[48];
        if (t->deadline_ns > now)
            snprintf(when, sizeof(when), "in %" PRIu64 " ms", (t->deadline_ns - now) / 1000000u);
        else
            snprintf(when, sizeof(when), "every %" PRIu64 " ms", t->interval_ns / 1000000u);
        if (t->notify == PW_TIMER_NOTIFY_THREAD) {
            snprintf(why, len, "a %s timer (SIGEV_THREAD) fires %s", what, when);
            return why;
        }
        if (t->notify == PW_TIMER_NOTIFY_SIGNAL && (can & SIGBIT(t->signo)) &&
            signal_matters(v, t->signo)) {
            snprintf(why, len, "a%s %s timer sends signal %d (%s) to a handler %s",
                     what[0] == 'a' ? "n" : "", what, t->signo, strsignal(t->signo), when);
            return why;
        }
    }
    return NULL;
}

/* Is ADDR in a shared mapping of PID (MAP_SHARED, shm, a shared file)? */
static bool shared_address(int pid, uint64_t addr)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool shared = false;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long lo, hi;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
            shared = perms[3] == 's';
            break;
        }
    }
    fclose(f);
    return shared;
}

/* Futex waits the shim marked external are those without FUTEX_PRIVATE_FLAG
 * whose word it could not place in static data or the brk heap (mmap'd memory,
 * thread arenas, stacks).  A private anonymous mapping (MAP_PRIVATE, no file:
 * inode 0) is keyed by the kernel on this process's address space, whatever
 * the op's flag says, so only this process can wake such a word; a shared
 * mapping, or a private mapping of a file (a page not yet written is still
 * the file's), stays external. */
static bool want_private(const struct pw_thread *t)
{
    return t->status == PW_THR_PARKED && t->waits_on->type == PW_OBJ_FUTEX &&
           (t->park_flags & PW_PARK_OUTSIDE);
}

size_t pw_kcheck_private_ranges(int pid, uint64_t **out)
{
    *out = NULL;
    char path[64], line[4096 + 128];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = 0, cap = 0;
    uint64_t *v = NULL;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long lo, hi, ino;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s %*x %*s %llu", &lo, &hi, perms, &ino) != 4 ||
            perms[3] != 'p' || ino != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            uint64_t *nv = realloc(v, nc * 2 * sizeof(*nv));
            if (!nv)
                break; /* what was read so far still holds */
            v = nv;
            cap = nc;
        }
        v[2 * n] = lo;
        v[2 * n + 1] = hi;
        n++;
    }
    fclose(f);
    if (!n)
        free(v);
    else
        *out = v;
    return n;
}

void pw_kcheck_private(struct pw_process *p)
{
    size_t want = 0;
    for (size_t i = 0; i < p->nthreads; i++)
        want += want_private(&p->threads[i]);
    if (!want)
        return; /* the common case: no map to read */
    uint64_t *ranges;
    size_t n = pw_kcheck_private_ranges(p->pid, &ranges);
    if (n)
        pw_model_set_private(p, ranges, n);
    free(ranges);
}

static const char *shared_object(const struct pw_process *p, struct pw_thread *const *threads,
                                 size_t n, char *why, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const struct pw_object *o = threads[i]->waits_on;
        if (!o || pw_obj_is_chan(o->type) || o->type == PW_OBJ_THREAD || o->type == PW_OBJ_POLLSET)
            continue;
        if (shared_address(p->pid, o->key)) {
            snprintf(why, len, "%s is in shared memory: another process may release it", o->id);
            return why;
        }
    }
    return NULL;
}

/* An fd that, through io_uring, could be read or written without a call the
 * shim sees. */
static bool has_io_uring(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        char link[64];
        ssize_t r = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
        if (r > 0) {
            link[r] = '\0';
            found = strcmp(link, "anon_inode:[io_uring]") == 0;
        }
    }
    closedir(d);
    return found;
}

static bool waits_on_fd(const struct pw_thread *t)
{
    return pw_op_is_chan(t->op) || t->op == PW_OP_POLL;
}

/* ---- channel ends held by other processes */

enum want { WANT_ANY, WANT_WRITER, WANT_READER };

struct holder_query {
    dev_t dev;
    ino_t ino;
    enum want want;
    const struct pw_object *o;
    bool peer; /* the inode is the peer of the waited-on socket, not the socket */
};

/* The access mode of /proc/PID/fdinfo/FD (O_RDONLY, O_WRONLY, O_RDWR), or -1. */
static int fd_accmode(const char *pid, const char *fd)
{
    char path[96], buf[512];
    snprintf(path, sizeof(path), "/proc/%.16s/fdinfo/%.32s", pid, fd);
    if (slurp(path, buf, sizeof(buf)) <= 0)
        return -1;
    const char *f = strstr(buf, "flags:");
    return f ? (int)(strtoul(f + 6, NULL, 8) & O_ACCMODE) : -1;
}

static bool wanted(int acc, enum want w)
{
    if (w == WANT_ANY || acc < 0)
        return true;
    return acc == O_RDWR || acc == (w == WANT_WRITER ? O_WRONLY : O_RDONLY);
}

/* Scans /proc/N/fd of every other process we may read for the inodes of Q:
 * the pid holding one, or 0.  Processes of other users are unreadable and
 * skipped (they cannot be seen, so they are not counted). */
static int find_holder(int self, const struct holder_query *q, size_t nq, size_t *which)
{
    DIR *procs = opendir("/proc");
    if (!procs)
        return 0;
    int holder = 0;
    struct dirent *pe;
    while (!holder && (pe = readdir(procs))) {
        if (!isdigit((unsigned char)pe->d_name[0]) || atoi(pe->d_name) == self)
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/%.32s/fd", pe->d_name);
        DIR *fds = opendir(path);
        if (!fds)
            continue;
        struct dirent *fe;
        while (!holder && (fe = readdir(fds))) {
            struct stat st;
            if (fe->d_name[0] == '.' || fstatat(dirfd(fds), fe->d_name, &st, 0) != 0)
                continue;
            for (size_t i = 0; i < nq; i++)
                if (st.st_ino == q[i].ino && st.st_dev == q[i].dev &&
                    wanted(fd_accmode(pe->d_name, fe->d_name), q[i].want)) {
                    holder = atoi(pe->d_name);
                    *which = i;
                    break;
                }
        }
        closedir(fds);
    }
    closedir(procs);
    return holder;
}

/* The inode of the peer of the AF_UNIX socket with inode INO, asked of the
 * kernel's unix_diag (the two ends of a socketpair are different inodes, so
 * the peer cannot be found from the waited-on end's inode); 0 if unknown.
 * The netlink socket is the watcher's own, opened and closed here, only when
 * a verdict is being taken. */
static ino_t unix_peer(ino_t ino)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return 0;
    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } req = {.h = {.nlmsg_len = sizeof(req),
                   .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                   .nlmsg_flags = NLM_F_REQUEST},
             .r = {.sdiag_family = AF_UNIX,
                   .udiag_states = ~0u,
                   .udiag_ino = (uint32_t)ino,
                   .udiag_show = UDIAG_SHOW_PEER,
                   .udiag_cookie = {~0u, ~0u}}};
    struct sockaddr_nl to = {.nl_family = AF_NETLINK};
    ino_t peer = 0;
    if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(req)) {
        long buf[1024];
        ssize_t r;
        while ((r = recv(nl, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
            ;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; r > 0 && NLMSG_OK(h, (size_t)r);
             h = NLMSG_NEXT(h, r)) {
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
                break; /* NLMSG_ERROR: not a unix socket, or no unix_diag */
            struct unix_diag_msg *m = NLMSG_DATA(h);
            if (m->udiag_ino != (uint32_t)ino)
                continue;
            int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen);
                 a = RTA_NEXT(a, alen))
                if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= (int)sizeof(uint32_t))
                    peer = *(uint32_t *)RTA_DATA(a);
            break;
        }
    }
    close(nl);
    return peer;
}

static void add_fd_query(int pid, int fd, enum want w, const struct pw_object *o,
                         struct holder_query *q, size_t *nq, size_t max)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
    if (fd < 0 || *nq == max || stat(path, &st) != 0)
        return;
    q[(*nq)++] = (struct holder_query){st.st_dev, st.st_ino, S_ISFIFO(st.st_mode) ? w : WANT_ANY, o,
                                       false};
    /* a socket is also woken through its peer: whoever holds the peer end can
     * write to (or close) it, wherever it went (SCM_RIGHTS, fork, exec) */
    ino_t peer;
    if (S_ISSOCK(st.st_mode) && *nq < max && (peer = unix_peer(st.st_ino)))
        q[(*nq)++] = (struct holder_query){st.st_dev, peer, WANT_ANY, o, true};
}

#define MAX_QUERIES 256

static const char *external_holder(const struct pw_process *p, struct pw_thread *const *threads,
                                   size_t n, char *why, size_t len)
{
    struct holder_query q[MAX_QUERIES];
    size_t nq = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pw_thread *t = threads[i];
        const struct pw_object *o = t->waits_on;
        if (!o)
            continue;
        if (pw_op_is_chan(t->op) && o->chan) {
            /* the shim thinks the other side is closed, yet the kernel lets the
             * wait go on (a read would see EOF): that side is open elsewhere */
            int other = pw_op_is_recv(t->op) ? PW_SIDE_SEND : PW_SIDE_RECV;
            if (o->chan->open[other] <= 0 && o->type != PW_OBJ_MQUEUE &&
                o->type != PW_OBJ_USERCHAN) {
                snprintf(why, len,
                         "the %s side of %s is closed in the process, yet %s still waits: "
                         "another process holds it",
                         other == PW_SIDE_SEND ? "send" : "receive", o->id, t->name);
                return why;
            }
            add_fd_query(p->pid, t->park_fd, pw_op_is_recv(t->op) ? WANT_WRITER : WANT_READER, o, q,
                         &nq, MAX_QUERIES);
        } else if (t->op == PW_OP_POLL) {
            for (size_t m = 0; m < o->nmembers; m++) {
                const struct pw_object *c = o->members[m];
                for (int s = 0; c->chan && s < 2; s++)
                    if (c->chan->open[s] > 0)
                        add_fd_query(p->pid, c->chan->fd[s], WANT_ANY, c, q, &nq, MAX_QUERIES);
            }
        }
    }
    if (!nq)
        return NULL;
    size_t which = 0;
    int holder = find_holder(p->pid, q, nq, &which);
    if (!holder)
        return NULL;
    char comm[64] = "?", path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", holder);
    if (slurp(path, comm, sizeof(comm)) > 0)
        comm[strcspn(comm, "\n")] = '\0';
    snprintf(why, len, "%s%s is also open in pid %d (%s), which may still use it",
             q[which].peer ? "the peer end of " : "", q[which].o->id, holder, comm);
    return why;
}

/* ---- the verdict */

static const char *gaps(const struct pw_process *p, char *why, size_t len)
{
    if (p->not_recording)
        snprintf(why, len, "the shim stopped recording: what happened since is unknown");
    else if (p->threads_without_slot)
        snprintf(why, len, "%" PRIu64 " thread%s got no slot (max_threads): what %s did is unknown",
                 p->threads_without_slot, p->threads_without_slot == 1 ? "" : "s",
                 p->threads_without_slot == 1 ? "it" : "they");
    else if (p->dropped_chans)
        snprintf(why, len, "%" PRIu64 " channel%s got no record (max_chans)", p->dropped_chans,
                 p->dropped_chans == 1 ? "" : "s");
    else if (p->timers_unknown)
        snprintf(why, len, "%u timer%s got no record", p->timers_unknown,
                 p->timers_unknown == 1 ? "" : "s");
    else
        return NULL;
    return why;
}

static const char *tasks(const struct pw_process *p, struct pw_thread *const *threads, size_t n,
                         bool all, const struct pw_kview *before, const struct pw_kview *now,
                         char *why, size_t len)
{
    if (now->truncated || before->truncated) {
        snprintf(why, len, "more than %d tasks: not all were read", MAX_TASKS);
        return why;
    }
    for (size_t i = 0; i < now->ntasks; i++) {
        const struct pw_ktask *k = &now->tasks[i];
        /* io_uring's kernel workers are listed among the tasks; what they could
         * complete is judged by the io_uring check */
        if (strncmp(k->comm, "iou-", 4) == 0)
            continue;
        if (all && !known_thread(p, k->tid)) {
            snprintf(why, len,
                     "task %d (%s) is not a thread the shim saw start (created outside "
                     "pthread_create, by the C library, or without a slot)",
                     k->tid, k->comm);
            return why;
        }
        if (!all && !in_set(threads, n, k->tid))
            continue;
        if (k->state != 'S') {
            snprintf(why, len, "task %d (%s) is not sleeping (state %c)", k->tid, k->comm,
                     k->state);
            return why;
        }
        const struct pw_ktask *b = task_of(before, k->tid);
        if (!b) {
            snprintf(why, len, "task %d (%s) started during the check", k->tid, k->comm);
            return why;
        }
        if (b->cpu != k->cpu || b->state != 'S') {
            snprintf(why, len, "task %d (%s) ran during the check", k->tid, k->comm);
            return why;
        }
    }
    /* a thread that the model has parked must still exist in the kernel */
    for (size_t i = 0; i < n; i++)
        if (!task_of(now, threads[i]->tid)) {
            snprintf(why, len, "thread %s (tid %d) is gone from the kernel's list",
                     threads[i]->name, threads[i]->tid);
            return why;
        }
    return NULL;
}

const char *pw_kcheck(const struct pw_process *p, struct pw_thread *const *threads, size_t n,
                      bool all, const struct pw_kview *before, const struct pw_kview *now,
                      char *why, size_t len)
{
    const char *r;
    if ((r = gaps(p, why, len)))
        return r;
    if (!before || !now || before->pid != p->pid || now->pid != p->pid) {
        snprintf(why, len, "/proc/%d could not be read", p->pid);
        return why;
    }
    if ((r = tasks(p, threads, n, all, before, now, why, len)))
        return r;
    if ((r = pending_signal(now, why, len)))
        return r;
    if ((r = armed_timer(p, now, why, len)))
        return r;
    if ((r = shared_object(p, threads, n, why, len)))
        return r;
    for (size_t i = 0; i < n; i++)
        if (waits_on_fd(threads[i]) && has_io_uring(p->pid)) {
            snprintf(why, len,
                     "the process has an io_uring instance, which may complete the wait of %s",
                     threads[i]->name);
            return why;
        }
    return external_holder(p, threads, n, why, len);
}
