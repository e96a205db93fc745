/* The tasks file (see ktasks.h): written by `parkwatch stack --save`, read by
 * the model.  Plain text so that a person can read it next to the trace. */
#include "ktasks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_TASKS 65536 /* an untrusted file does not make us allocate without end */

/* X(name, index of the fd argument or -1): the calls a thread blocks in,
 * named as the report prints them.  Numbers come from <sys/syscall.h>, so the
 * table follows the architecture; calls an architecture lacks (poll, select,
 * pause on arm64) are left out there. */
#define PW_SYSCALLS_COMMON(X) \
    X(read, 0)                \
    X(write, 0)               \
    X(readv, 0)               \
    X(writev, 0)              \
    X(pread64, 0)             \
    X(pwrite64, 0)            \
    X(recvfrom, 0)            \
    X(sendto, 0)              \
    X(recvmsg, 0)             \
    X(sendmsg, 0)             \
    X(recvmmsg, 0)            \
    X(sendmmsg, 0)            \
    X(accept, 0)              \
    X(accept4, 0)             \
    X(connect, 0)             \
    X(ppoll, -1)              \
    X(pselect6, -1)           \
    X(epoll_pwait, 0)         \
    X(futex, -1)              \
    X(nanosleep, -1)          \
    X(clock_nanosleep, -1)    \
    X(wait4, -1)              \
    X(waitid, -1)             \
    X(rt_sigsuspend, -1)      \
    X(rt_sigtimedwait, -1)    \
    X(flock, 0)               \
    X(fcntl, 0)               \
    X(msgrcv, -1)             \
    X(msgsnd, -1)             \
    X(semop, -1)              \
    X(semtimedop, -1)         \
    X(io_getevents, -1)       \
    X(ioctl, 0)               \
    X(openat, -1)             \
    X(mq_timedreceive, 0)     \
    X(mq_timedsend, 0)        \
    X(splice, 0)              \
    X(sendfile, 1)            \
    X(restart_syscall, -1)    \
    X(close, 0)               \
    X(fsync, 0)               \
    X(fdatasync, 0)           \
    X(sched_yield, -1)        \
    X(exit, -1)               \
    X(exit_group, -1)
#if defined(__x86_64__) || defined(__i386__)
#define PW_SYSCALLS_LEGACY(X) \
    X(poll, -1)               \
    X(select, -1)             \
    X(epoll_wait, 0)          \
    X(pause, -1)              \
    X(open, -1)
#else
#define PW_SYSCALLS_LEGACY(X)
#endif

struct sysname {
    long nr;
    const char *name;
    int fd_arg;
};

static const struct sysname sysnames[] = {
#define PW_X(name, fd) {SYS_##name, #name, fd},
    PW_SYSCALLS_COMMON(PW_X) PW_SYSCALLS_LEGACY(PW_X)
#undef PW_X
#ifdef SYS_io_uring_enter
        {SYS_io_uring_enter, "io_uring_enter", 0},
#endif
#ifdef SYS_futex_waitv
    {SYS_futex_waitv, "futex_waitv", -1},
#endif
#ifdef SYS_epoll_pwait2
    {SYS_epoll_pwait2, "epoll_pwait2", 0},
#endif
};

static const struct sysname *sys_lookup(long nr)
{
    for (size_t i = 0; i < sizeof(sysnames) / sizeof(sysnames[0]); i++)
        if (sysnames[i].nr == nr)
            return &sysnames[i];
    return NULL;
}

const char *pw_syscall_name(long nr)
{
    const struct sysname *s = sys_lookup(nr);
    return s ? s->name : NULL;
}

int pw_syscall_fd_arg(long nr)
{
    const struct sysname *s = sys_lookup(nr);
    return s ? s->fd_arg : -1;
}

const char *pw_ktask_blocked_in(const struct pw_ktask *k, char *buf, size_t len)
{
    if (k->sysno < 0)
        return NULL;
    const char *name = pw_syscall_name(k->sysno);
    char num[32];
    if (!name) {
        snprintf(num, sizeof(num), "syscall %ld", k->sysno);
        name = num;
    }
    if (k->fd >= 0)
        snprintf(buf, len, "%s(fd %d%s%s)", name, k->fd, k->fd_target[0] ? ": " : "", k->fd_target);
    else
        snprintf(buf, len, "%s", name);
    return buf;
}

const char *pw_task_state_name(char state)
{
    switch (state) {
    case 'R':
        return "running";
    case 'S':
        return "sleeping";
    case 'D':
        return "disk wait";
    case 'T':
        return "stopped";
    case 't':
        return "traced";
    case 'Z':
        return "zombie";
    case 'X':
        return "dead";
    case 'I':
        return "idle";
    default:
        return "unknown";
    }
}

const char *pw_ktasks_path(const char *trace_path, char *buf, size_t len)
{
    size_t n = strlen(trace_path);
    static const char suffix[] = ".trace";
    size_t sl = sizeof(suffix) - 1;
    if (n > sl && strcmp(trace_path + n - sl, suffix) == 0)
        n -= sl;
    if ((size_t)snprintf(buf, len, "%.*s.tasks", (int)n, trace_path) >= len)
        return NULL;
    return buf;
}

void pw_ktasks_free(struct pw_ktasks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = 0;
    free(t->priv);
    t->priv = NULL;
    t->npriv = 0;
}

bool pw_ktasks_private(const struct pw_ktasks *t, uint64_t addr)
{
    for (size_t i = 0; t && i < t->npriv; i++)
        if (addr >= t->priv[2 * i] && addr < t->priv[2 * i + 1])
            return true;
    return false;
}

const struct pw_ktask *pw_ktasks_find(const struct pw_ktasks *t, int tid)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->v[i].tid == tid)
            return &t->v[i];
    return NULL;
}

/* A string field: tabs and newlines would break the line, so they become '?';
 * the empty string is "-". */
static void put_str(FILE *f, const char *s)
{
    if (!*s) {
        fputc('-', f);
        return;
    }
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? '?' : *s, f);
}

int pw_ktasks_save(const char *path, const struct pw_ktasks *t)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    fprintf(f, "parkwatch-tasks 1 %d\n", t->pid);
    for (size_t i = 0; i < t->n; i++) {
        const struct pw_ktask *k = &t->v[i];
        fprintf(f, "task\t%d\t%c\t%ld\t%d\t", k->tid, k->state ? k->state : '?', k->sysno, k->fd);
        put_str(f, k->name);
        fputc('\t', f);
        put_str(f, k->fd_target);
        fputc('\t', f);
        put_str(f, k->why_no_stack);
        fputc('\t', f);
        for (unsigned j = 0; j < k->npcs; j++)
            fprintf(f, "%s0x%" PRIx64, j ? "," : "", k->pcs[j]);
        if (!k->npcs)
            fputc('-', f);
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->npriv; i++)
        fprintf(f, "private\t0x%" PRIx64 "\t0x%" PRIx64 "\n", t->priv[2 * i], t->priv[2 * i + 1]);
    return fclose(f) == 0 ? 0 : -1;
}

/* Copies field S (at most CAP-1 bytes) into DST; "-" reads as empty. */
static void get_str(char *dst, size_t cap, const char *s)
{
    if (strcmp(s, "-") == 0)
        s = "";
    snprintf(dst, cap, "%s", s);
}

static bool parse_line(char *line, struct pw_ktask *k)
{
    char *f[9];
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(line, "\t\n", &save); tok && n < 9;
         tok = strtok_r(NULL, "\t\n", &save))
        f[n++] = tok;
    if (n != 9 || strcmp(f[0], "task") != 0)
        return false;
    memset(k, 0, sizeof(*k));
    char *end;
    long tid = strtol(f[1], &end, 10);
    if (*end || tid <= 0 || tid > INT32_MAX)
        return false;
    k->tid = (int)tid;
    k->state = f[2][0];
    k->sysno = strtol(f[3], &end, 10);
    if (*end || k->sysno < PW_KTASK_SYS_UNKNOWN)
        return false;
    long fd = strtol(f[4], &end, 10);
    k->fd = *end || fd < -1 || fd > INT32_MAX ? -1 : (int)fd;
    get_str(k->name, sizeof(k->name), f[5]);
    get_str(k->fd_target, sizeof(k->fd_target), f[6]);
    get_str(k->why_no_stack, sizeof(k->why_no_stack), f[7]);
    if (strcmp(f[8], "-") != 0)
        for (char *p = f[8]; *p && k->npcs < PW_KTASK_MAX_FRAMES;) {
            uint64_t pc = strtoull(p, &end, 16);
            if (end == p)
                break;
            k->pcs[k->npcs++] = pc;
            p = *end == ',' ? end + 1 : end;
        }
    return true;
}

/* A "private" line's range (after the tag): -1 only when out of memory. */
static int add_private(struct pw_ktasks *out, const char *s)
{
    char *end, *end2;
    errno = 0;
    uint64_t lo = strtoull(s, &end, 16);
    uint64_t hi = *end == '\t' ? strtoull(end + 1, &end2, 16) : 0;
    if (end == s || *end != '\t' || errno || end2 == end + 1 || (*end2 && *end2 != '\n') ||
        hi <= lo)
        return 0; /* malformed: skipped like any unknown line */
    uint64_t *nv = realloc(out->priv, (out->npriv + 1) * 2 * sizeof(*nv));
    if (!nv)
        return -1;
    out->priv = nv;
    out->priv[2 * out->npriv] = lo;
    out->priv[2 * out->npriv + 1] = hi;
    out->npriv++;
    return 0;
}

int pw_ktasks_load(const char *path, struct pw_ktasks *out)
{
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    /* a FIFO or a device under that name would block or lie: regular files only */
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -1;
    }
    char line[4096];
    int pid = 0;
    if (!fgets(line, sizeof(line), f) || sscanf(line, "parkwatch-tasks 1 %d", &pid) != 1) {
        fclose(f);
        return -1;
    }
    out->pid = pid;
    while (fgets(line, sizeof(line), f) && out->n < MAX_TASKS) {
        struct pw_ktask k;
        if (strncmp(line, "private\t", 8) == 0) {
            if (out->npriv < MAX_TASKS && add_private(out, line + 8) < 0)
                break;
            continue;
        }
        if (!parse_line(line, &k))
            continue;
        struct pw_ktask *nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
        if (!nv)
            break;
        out->v = nv;
        out->v[out->n++] = k;
    }
    fclose(f);
    return 0;
}
