/* See attach.h.  The order matters: /proc is read first, while every task is
 * still where the program left it (a task stopped by ptrace reports no system
 * call), and only then are the tasks seized for their stacks. */
#include "attach.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_WAIT_MS 500 /* how long we wait for all tasks to stop */

static int read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    int err = errno;
    close(fd);
    if (n < 0) {
        errno = err;
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* State letter: the field after the last ')' of stat (comm may hold ')'). */
static char task_state(int pid, int tid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
    if (read_small(path, buf, sizeof(buf)) < 0)
        return '?';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

static void task_syscall(int pid, struct pw_ktask *k)
{
    char path[64], buf[512];
    k->sysno = PW_KTASK_SYS_UNKNOWN;
    k->fd = -1;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, k->tid);
    if (read_small(path, buf, sizeof(buf)) < 0)
        return;
    if (strncmp(buf, "running", 7) == 0) {
        k->sysno = PW_KTASK_SYS_RUNNING;
        return;
    }
    /* "NR ARG1 ... ARG6 SP PC", or "-1 SP PC" outside a system call */
    unsigned long long a[6] = {0};
    long nr;
    int got = sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3],
                     &a[4], &a[5]);
    if (got < 1)
        return;
    k->sysno = nr < 0 ? PW_KTASK_SYS_RUNNING : nr;
    int fa = nr >= 0 ? pw_syscall_fd_arg(nr) : -1;
    if (fa < 0 || got < fa + 2 || (long long)a[fa] < 0 || a[fa] > 0x7fffffff)
        return;
    k->fd = (int)a[fa];
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, k->fd);
    ssize_t n = readlink(path, k->fd_target, sizeof(k->fd_target) - 1);
    k->fd_target[n > 0 ? n : 0] = '\0';
}

static int add_task(struct pw_live *l, int pid, int tid)
{
    struct pw_ktask *nv = realloc(l->tasks.v, (l->tasks.n + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    l->tasks.v = nv;
    struct pw_ktask *k = &nv[l->tasks.n++];
    memset(k, 0, sizeof(*k));
    k->tid = tid;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
    if (read_small(path, k->name, sizeof(k->name)) == 0)
        chomp(k->name);
    k->state = task_state(pid, tid);
    task_syscall(pid, k);
    return 0;
}

static int cmp_task(const void *a, const void *b)
{
    const struct pw_ktask *x = a, *y = b;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

/* ---- stacks */

static int module_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                     void *arg)
{
    (void)userdata;
    (void)start;
    struct pw_live *l = arg;
    Dwarf_Addr lo, hi, bias = 0;
    dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
    if (!name || name[0] != '/' || !dwfl_module_getelf(mod, &bias))
        return DWARF_CB_OK; /* [vdso] and the like: frames there print as addresses */
    struct pw_module *nv = realloc(l->mods, (l->nmods + 1) * sizeof(*nv));
    if (!nv)
        return DWARF_CB_ABORT;
    l->mods = nv;
    struct pw_module *m = &nv[l->nmods++];
    memset(m, 0, sizeof(*m));
    m->state = 1;
    m->base = bias;
    m->lo = lo;
    m->hi = hi;
    snprintf(m->path, sizeof(m->path), "%s", name);
    const unsigned char *bits;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    if (len > 0 && (unsigned)len <= PW_BUILD_ID_MAX) {
        m->build_id_len = (uint32_t)len;
        memcpy(m->build_id, bits, (size_t)len);
    }
    return DWARF_CB_OK;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
    struct pw_ktask *k = arg;
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
        return DWARF_CB_ABORT;
    k->pcs[k->npcs++] = pc;
    return k->npcs < PW_KTASK_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static void sleep_1ms(void)
{
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
}

/* Seizes and interrupts every task but SKIP; STOPPED[i] tells which are in a
 * ptrace stop afterwards (those are unwound and then detached). */
static void stop_all(struct pw_live *l, int skip, bool *seized, bool *stopped)
{
    size_t n = l->tasks.n;
    for (size_t i = 0; i < n; i++) {
        struct pw_ktask *k = &l->tasks.v[i];
        if (k->tid == skip) {
            snprintf(k->why_no_stack, sizeof(k->why_no_stack), "%s", PW_KTASK_SELF);
            continue;
        }
        /* EPERM for a moment: a process that runs us at its exit names us as
         * its ptracer (Yama) right after starting us */
        int r;
        for (int tries = 0; (r = (int)ptrace(PTRACE_SEIZE, k->tid, NULL, NULL)) < 0 &&
                            errno == EPERM && tries < 50;
             tries++)
            sleep_1ms();
        if (r < 0) {
            snprintf(k->why_no_stack, sizeof(k->why_no_stack), "ptrace: %s", strerror(errno));
            continue;
        }
        seized[i] = true;
        ptrace(PTRACE_INTERRUPT, k->tid, NULL, NULL);
    }
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
        left += seized[i];
    for (int ms = 0; left && ms < STOP_WAIT_MS; ms++) {
        for (size_t i = 0; i < n; i++) {
            if (!seized[i] || stopped[i])
                continue;
            int st;
            pid_t r = waitpid(l->tasks.v[i].tid, &st, __WALL | WNOHANG);
            if (r == l->tasks.v[i].tid && WIFSTOPPED(st)) {
                stopped[i] = true;
                left--;
            } else if (r < 0) {
                seized[i] = false; /* gone */
                left--;
            }
        }
        if (left)
            sleep_1ms();
    }
}

static void take_stacks(struct pw_live *l, int pid, int skip)
{
    size_t n = l->tasks.n;
    bool *seized = calloc(n ? n : 1, sizeof(bool)), *stopped = calloc(n ? n : 1, sizeof(bool));
    static char *debuginfo_path = NULL;
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    Dwfl *d = NULL;
    if (!seized || !stopped)
        goto out;
    stop_all(l, skip, seized, stopped);
    d = dwfl_begin(&cb);
    if (!d || dwfl_linux_proc_report(d, pid) != 0 || dwfl_report_end(d, NULL, NULL) != 0)
        goto out;
    dwfl_getmodules(d, module_cb, l, 0);
    /* the tasks are stopped by us: libdwfl reads their registers, attaches nothing */
    if (dwfl_linux_proc_attach(d, pid, true) != 0) {
        for (size_t i = 0; i < n; i++)
            if (stopped[i])
                snprintf(l->tasks.v[i].why_no_stack, sizeof(l->tasks.v[i].why_no_stack),
                         "cannot unwind: %s", dwfl_errmsg(-1));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct pw_ktask *k = &l->tasks.v[i];
        if (!stopped[i]) {
            if (seized[i])
                snprintf(k->why_no_stack, sizeof(k->why_no_stack), "did not stop in time (%s)",
                         pw_task_state_name(k->state));
            continue;
        }
        /* an unwinder stops at the outermost frame with an "error": what it has is the stack */
        if (dwfl_getthread_frames(d, k->tid, frame_cb, k) != 0 && k->npcs == 0)
            snprintf(k->why_no_stack, sizeof(k->why_no_stack), "cannot unwind: %s",
                     dwfl_errmsg(-1));
    }
out:
    for (size_t i = 0; seized && i < n; i++)
        if (seized[i])
            ptrace(PTRACE_DETACH, l->tasks.v[i].tid, NULL, NULL);
    if (d)
        dwfl_end(d);
    free(seized);
    free(stopped);
}

int pw_live_capture(int pid, bool stacks, int skip_tid, struct pw_live *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->tasks.pid = pid;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    ssize_t n = readlink(path, out->exe, sizeof(out->exe) - 1);
    /* ENOENT also when the thread-group leader has exited (pthread_exit from
     * main) while other threads live on: the process is still there */
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    if (n < 0 && errno == ENOENT && stat(path, &st) == 0)
        n = 0;
    if (n < 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(err, errlen, "no process with pid %d", pid);
        else
            snprintf(err, errlen, "pid %d: cannot inspect it (%s): ptrace permission needed", pid,
                     strerror(e));
        errno = e == ENOENT ? ESRCH : EPERM;
        return -1;
    }
    out->exe[n] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/comm", pid);
    if (read_small(path, out->comm, sizeof(out->comm)) == 0)
        chomp(out->comm);
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d) {
        int e = errno;
        snprintf(err, errlen, "pid %d: %s", pid, strerror(e));
        errno = e == ENOENT ? ESRCH : e;
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        int tid = atoi(de->d_name);
        if (tid > 0 && add_task(out, pid, tid) < 0) {
            closedir(d);
            pw_live_free(out);
            snprintf(err, errlen, "out of memory");
            errno = ENOMEM;
            return -1;
        }
    }
    closedir(d);
    qsort(out->tasks.v, out->tasks.n, sizeof(*out->tasks.v), cmp_task);
    if (stacks)
        take_stacks(out, pid, skip_tid);
    return 0;
}

void pw_live_free(struct pw_live *l)
{
    pw_ktasks_free(&l->tasks);
    free(l->mods);
    l->mods = NULL;
    l->nmods = 0;
}
