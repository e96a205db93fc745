/* Helpers shared by the victim programs.  Victims must never hang on their own:
 * a leaking victim parks its workers forever and lets main leave after a short
 * settle time (the settle time only gives the workers a chance to reach their
 * park; no test asserts on timing). */
#ifndef PW_VICTIM_H
#define PW_VICTIM_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline void die(const char *what, int err)
{
    fprintf(stderr, "victim: %s: %s\n", what, strerror(err));
    exit(99);
}

struct named_start {
    void *(*fn)(void *);
    void *arg;
    char name[16];
};

/* The thread names itself before anything else: naming it from the creator
 * races with a thread that has already exited (pthread_setname_np then fails
 * and the thread keeps the process's name). */
static inline void *named_trampoline(void *p)
{
    struct named_start s = *(struct named_start *)p;
    free(p);
    pthread_setname_np(pthread_self(), s.name);
    return s.fn(s.arg);
}

/* Starts a joinable thread named NAME, so expectations can say thread=NAME. */
static inline pthread_t start_named(void *(*fn)(void *), void *arg, const char *name)
{
    struct named_start *s = malloc(sizeof *s);
    if (!s)
        die("malloc", ENOMEM);
    s->fn = fn;
    s->arg = arg;
    snprintf(s->name, sizeof s->name, "%s", name);
    pthread_t t;
    int rc = pthread_create(&t, NULL, named_trampoline, s);
    if (rc)
        die("pthread_create", rc);
    return t;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Long enough for the workers to park on an idle 2-vCPU machine. */
static inline void settle(void)
{
    sleep_ms(300);
}

/* The calling thread's kernel tid, for wait_asleep. */
static inline pid_t self_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* True when thread TID of this process sleeps in the kernel (state S with a
 * wait channel): it has reached its blocking call, whatever that is. */
static inline int task_asleep(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')');
    if (!s || s[1] != ' ' || s[2] != 'S')
        return 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
    f = fopen(path, "r");
    if (!f)
        return 1; /* no wchan file: state S is all we can know */
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 && strcmp(buf, "0") != 0;
}

/* Waits (polling, no deadline: the test's own timeout bounds it) until thread
 * *TIDP (published by the thread itself, 0 until then) sleeps in the kernel. */
static inline void wait_asleep(volatile pid_t *tidp)
{
    while (*tidp == 0 || !task_asleep(*tidp)) {
        struct timespec ts = {0, 2000000L};
        nanosleep(&ts, NULL);
    }
}

static inline void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("write", errno);
        p += n;
        len -= (size_t)n;
    }
}

#endif
