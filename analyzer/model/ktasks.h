/* What the kernel says about the tasks of a process at one moment: for each
 * task its name, scheduler state, the system call it is blocked in with that
 * call's fd and what the fd is, and its stack as raw return addresses.
 *
 * `parkwatch stack` takes it live (symbols/attach.c, with ptrace); at a normal
 * exit the shim has `parkwatch stack --save` write it next to the trace, as
 * parkwatch.<pid>[.<gen>].tasks (pw_ktasks_path), so the report can account
 * for every thread the trace does not show parked on a known object.  The
 * file is a text table, one task a line, fields separated by tabs:
 *
 *   parkwatch-tasks 1
 *   task TID STATE SYSNO FD NAME FD-TARGET WHY-NO-STACK PC,PC,...
 *   private LO HI
 *
 * SYSNO is -1 when the task was not in a system call (running), -2 unknown;
 * FD is -1 when the call takes none; empty strings are written as "-".
 * A "private" line gives (in hex) the range of a private anonymous mapping of
 * the process when the snapshot was taken: the kernel keys a futex whose word
 * lies there by this process's address space, whatever the op's flags, so
 * only this process can wake it.  Readers skip lines they do not know.  The file is
 * untrusted input: every field is bounded when read. */
#ifndef PW_KTASKS_H
#define PW_KTASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_KTASK_MAX_FRAMES 64
#define PW_KTASK_SYS_RUNNING (-1L) /* not in a system call */
#define PW_KTASK_SYS_UNKNOWN (-2L) /* not readable (no permission, gone) */
/* why_no_stack of the task that ran the snapshot (the one calling exit) */
#define PW_KTASK_SELF "the thread taking the snapshot"

struct pw_ktask {
    int tid;
    char name[32];         /* /proc/PID/task/TID/comm */
    char state;            /* /proc/PID/task/TID/stat: R S D T t Z X I, '?' unknown */
    long sysno;            /* blocked system call, or PW_KTASK_SYS_* */
    int fd;                /* the call's fd argument, -1 if none */
    char fd_target[128];   /* readlink /proc/PID/fd/FD: "pipe:[1234]", a path... */
    char why_no_stack[64]; /* "" when the stack was taken */
    unsigned npcs;
    uint64_t pcs[PW_KTASK_MAX_FRAMES]; /* innermost first, as the depot stores them */
};

struct pw_ktasks {
    int pid;
    size_t n;
    struct pw_ktask *v;
    /* private anonymous mappings ("private" lines): npriv ranges, priv[2i] to
     * priv[2i+1] (exclusive), any order */
    size_t npriv;
    uint64_t *priv;
};

/* The tasks file that belongs to trace file TRACE_PATH (".trace" replaced by
 * ".tasks"), into BUF; NULL if it does not fit. */
const char *pw_ktasks_path(const char *trace_path, char *buf, size_t len);
/* Reads PATH into *OUT (freed with pw_ktasks_free).  0 on success, -1 if
 * absent, unreadable or not a tasks file (nothing to free then). */
int pw_ktasks_load(const char *path, struct pw_ktasks *out);
/* Writes T to PATH, created 0600, never over an existing file nor through a
 * symlink.  0 on success, -1 with errno. */
int pw_ktasks_save(const char *path, const struct pw_ktasks *t);
void pw_ktasks_free(struct pw_ktasks *t);
/* Does ADDR lie in one of T's private anonymous mappings?  (T may be NULL.) */
bool pw_ktasks_private(const struct pw_ktasks *t, uint64_t addr);
/* The task TID in T, or NULL. */
const struct pw_ktask *pw_ktasks_find(const struct pw_ktasks *t, int tid);

/* "read", "futex"... for a system call number of this architecture; NULL if
 * not in the table (the caller prints "syscall N"). */
const char *pw_syscall_name(long nr);
/* Index of the fd argument of system call NR (0-based), -1 if it takes none. */
int pw_syscall_fd_arg(long nr);
/* "read(fd 7: pipe:[1234])", "futex", "syscall 999" into BUF, for a task
 * in a system call; NULL if it was in none. */
const char *pw_ktask_blocked_in(const struct pw_ktask *k, char *buf, size_t len);
/* "sleeping", "running", "disk wait"... for a /proc state letter. */
const char *pw_task_state_name(char state);

#endif
