/* Helpers shared by the stress hosts.  A host prints only deterministic lines
 * on stdout (the checker compares them with and without the shim) and never
 * relies on sleeps: when it must act while another thread is parked, it waits
 * until the kernel shows that thread blocked in the expected system call. */
#ifndef PW_STRESS_H
#define PW_STRESS_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void die(const char *what, int err)
{
    fprintf(stderr, "host: %s: %s\n", what, strerror(err));
    exit(99);
}

/* One stdout line, flushed at once: a host may fork, abort or crash next. */
static inline void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static inline pid_t self_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static inline void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Published by a thread before it parks, read by the thread that waits for
 * the park: 0 until the thread has run far enough to know its tid. */
static inline void publish_tid(volatile pid_t *slot)
{
    __atomic_store_n(slot, self_tid(), __ATOMIC_RELEASE);
}

static inline pid_t await_tid(volatile pid_t *slot)
{
    pid_t t;
    while ((t = __atomic_load_n(slot, __ATOMIC_ACQUIRE)) == 0)
        pause_ms(1);
    return t;
}

/* The system call thread TID is blocked in, or -1 if it is running (first
 * field of /proc/self/task/TID/syscall; "running" when on a CPU). */
static inline long blocked_syscall(pid_t tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (buf[0] < '0' || buf[0] > '9')
        return -1;
    return strtol(buf, NULL, 10);
}

/* Waits until TID sleeps inside system call NR (SYS_read, SYS_futex, ...):
 * the only reliable sign that a thread has reached its park. */
static inline void await_blocked(pid_t tid, long nr)
{
    for (int spins = 0;; spins++) {
        if (blocked_syscall(tid) == nr) {
            char path[64], st[512];
            snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            ssize_t n = fd >= 0 ? read(fd, st, sizeof st - 1) : -1;
            if (fd >= 0)
                close(fd);
            if (n > 0) {
                st[n] = '\0';
                char *p = strrchr(st, ')');
                if (p && p[1] == ' ' && p[2] == 'S')
                    return;
            }
        }
        if (spins > 60000)
            die("thread never blocked", ETIMEDOUT);
        pause_ms(1);
    }
}

static inline pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    if (rc)
        die("pthread_create", rc);
    return t;
}

#endif
