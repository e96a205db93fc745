/* Whom a watcher may believe and signal (see trust.h for the rules). */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

static int pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A pidfd turns readable when its process has ended (a zombie included). */
static bool running(int pidfd)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return r == 0;
}

/* Reads up to CAP-1 bytes of PATH as a string; -1 if it cannot. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    while ((n = read(fd, buf, cap - 1)) < 0 && errno == EINTR)
        ;
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* PID's parent as /proc/PID/stat says, or -1.  The command name (field 2) may
 * hold blanks and parentheses, so fields are counted after its last ')'. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small(path, buf, sizeof(buf)) < 0)
        return -1;
    const char *rp = strrchr(buf, ')');
    char state;
    int ppid;
    if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

static bool descends(pid_t pid, pid_t root)
{
    /* bounded: a pid table being rewritten under us must not loop forever */
    for (int depth = 0; depth < 4096 && pid > 1; depth++) {
        if (pid == root)
            return true;
        pid = parent_of(pid);
    }
    return false;
}

int pw_trust_check_pidfd(int fd, pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    const char *p = read_small(path, buf, sizeof(buf)) < 0 ? NULL : strstr(buf, "\nPid:");
    if (!p || atoi(p + 5) != (int)pid) {
        pw_warn("watch: fd %d is not a pidfd of pid %d: no process will be signalled", fd,
                (int)pid);
        close(fd);
        return -1;
    }
    return fd;
}

int pw_trust_init(struct pw_trust *t, pid_t root, int root_pidfd)
{
    memset(t, 0, sizeof(*t));
    t->uid = geteuid();
    int fd = root_pidfd >= 0 ? root_pidfd : pidfd_open(root);
    if (fd < 0) {
        pw_warn("watch: pid %d: %s: no process will be signalled", (int)root, strerror(errno));
        return -1;
    }
    t->v[0] = (struct pw_trust_proc){.pid = root, .pidfd = fd};
    t->n = 1;
    return 0;
}

void pw_trust_fini(struct pw_trust *t)
{
    for (size_t i = 0; i < t->n; i++)
        close(t->v[i].pidfd);
    t->n = 0;
}

int pw_trust_open(const struct pw_trust *t, const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != t->uid) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

bool pw_trust_known(const struct pw_trust *t, pid_t pid)
{
    return pw_trust_pidfd(t, pid) >= 0;
}

bool pw_trust_admit(struct pw_trust *t, pid_t pid)
{
    if (pw_trust_known(t, pid))
        return true;
    /* once the root has ended its pid may be reused, and its descendants were
     * re-parented away: no ancestry through it can be told any more */
    if (pid <= 1 || t->n == 0 || t->n == PW_TRUST_MAX || !running(t->v[0].pidfd))
        return false;
    int fd = pidfd_open(pid);
    if (fd < 0)
        return false;
    /* The pidfd came first: if PID still runs after /proc was read, the pid
     * was not reused in between, so /proc described the process pinned. */
    if (!descends(pid, t->v[0].pid) || !running(fd) || !running(t->v[0].pidfd)) {
        close(fd);
        return false;
    }
    t->v[t->n++] = (struct pw_trust_proc){.pid = pid, .pidfd = fd};
    return true;
}

bool pw_trust_forget_ended(struct pw_trust *t, pid_t pid)
{
    for (size_t i = 1; i < t->n; i++) {
        if (t->v[i].pid != pid)
            continue;
        if (running(t->v[i].pidfd))
            return false;
        close(t->v[i].pidfd);
        t->v[i] = t->v[--t->n];
        return true;
    }
    return false;
}

bool pw_trust_full(const struct pw_trust *t)
{
    return t->n == PW_TRUST_MAX;
}

int pw_trust_pidfd(const struct pw_trust *t, pid_t pid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].pid == pid)
            return t->v[i].pidfd;
    return -1;
}

int pw_trust_signal(const struct pw_trust *t, pid_t pid, int sig)
{
    int fd = pw_trust_pidfd(t, pid);
    if (fd < 0) {
        errno = ESRCH;
        return -1;
    }
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

bool pw_trust_any_alive(const struct pw_trust *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (running(t->v[i].pidfd))
            return true;
    return false;
}
