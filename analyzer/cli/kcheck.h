/* What the kernel says about a traced process, read from /proc at the moment
 * of a verdict (never on the watcher's idle path): its tasks, their states and
 * CPU time, signals, shared mappings and who else holds its channels.  The
 * watcher kills only when the model and the kernel agree (kcheck.c). */
#ifndef PW_KCHECK_H
#define PW_KCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_process;
struct pw_thread;

struct pw_ktask {
    int tid;
    char state;      /* /proc/PID/task/TID/stat field 3: 'S' sleeping, 'R', 'D'... */
    uint64_t cpu;    /* utime + stime, clock ticks */
    uint64_t sigpnd; /* signals pending for this task */
    uint64_t sigblk; /* signals it blocks */
    char comm[24];
};

/* One reading of /proc/PID. */
struct pw_kview {
    int pid;
    uint64_t taken_ns; /* CLOCK_MONOTONIC */
    size_t ntasks;
    struct pw_ktask *tasks;
    bool truncated;  /* more tasks than read */
    uint64_t shdpnd; /* signals pending for the process */
    uint64_t sigcgt; /* signals with a handler */
    uint64_t sigign; /* signals ignored */
};

/* Reads /proc/PID into *V (freed with pw_kview_free).  -1 if the process is
 * gone or unreadable: a verdict is then uncertain. */
int pw_kview_take(int pid, struct pw_kview *v);
void pw_kview_free(struct pw_kview *v);

/* Why the verdict "THREADS of P are parked forever" (N of them; every thread
 * of P when ALL) cannot be acted on, or NULL when the kernel agrees: BEFORE and
 * NOW are two readings a window apart.  The reason is written into WHY. */
const char *pw_kcheck(const struct pw_process *p, struct pw_thread *const *threads, size_t n,
                      bool all, const struct pw_kview *before, const struct pw_kview *now,
                      char *why, size_t len);

#endif
