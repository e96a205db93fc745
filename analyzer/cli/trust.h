/* Whom a watcher may believe and signal.  A watcher reads trace files from a
 * directory and stops the processes they name, so a file anyone could write
 * there must not steer it:
 *   - a trace is opened only if it is a regular file owned by the watcher's
 *     own user, and not a symbolic link (pw_trust_open);
 *   - the pid in a trace is acted on only if that process is the watcher's
 *     root (the program `run` started, or the process that started the
 *     sidecar) or a descendant of it, checked through /proc when the pid is
 *     first seen (pw_trust_admit);
 *   - at that moment a pidfd is opened, and every signal goes through it, so a
 *     pid recycled after the process ended is never hit (pw_trust_signal). */
#ifndef PW_TRUST_H
#define PW_TRUST_H

#include <stdbool.h>
#include <sys/types.h>

#define PW_TRUST_MAX 64

struct pw_trust_proc {
    pid_t pid;
    int pidfd; /* pins the process: its pid is not reused while this is open */
};

/* Invariant: v[0] is the root; every entry was the root or a live descendant
 * of the live root when admitted, and its pidfd refers to that process. */
struct pw_trust {
    uid_t uid;
    size_t n;
    struct pw_trust_proc v[PW_TRUST_MAX];
};

/* Roots the set at ROOT, through ROOT_PIDFD if it is >= 0 (taken over: closed
 * by pw_trust_fini), else through a pidfd opened now.  Returns -1 (with a
 * reason on stderr) if no pidfd can be had: nothing is then ever signalled. */
int pw_trust_init(struct pw_trust *t, pid_t root, int root_pidfd);
void pw_trust_fini(struct pw_trust *t);

/* Opens the trace at PATH with FLAGS (O_RDONLY or O_WRONLY) if the watcher may
 * believe it: never through a symlink, never blocking (a FIFO), and only a
 * regular file owned by the watcher's user.  Returns an fd, or -1. */
int pw_trust_open(const struct pw_trust *t, const char *path, int flags);

/* True if PID is in the set, or is now admitted: a live descendant of the
 * root, as /proc shows it at this moment. */
bool pw_trust_admit(struct pw_trust *t, pid_t pid);
/* True if PID was admitted (no new check). */
bool pw_trust_known(const struct pw_trust *t, pid_t pid);

/* Drops PID (not the root) from the set once it has ended, closing its pidfd,
 * so that a long run's set holds the live processes only: its trace is final
 * and nothing will be signalled through it again.  True if it was dropped. */
bool pw_trust_forget_ended(struct pw_trust *t, pid_t pid);
/* True when no process can be admitted until one is forgotten. */
bool pw_trust_full(const struct pw_trust *t);

/* The pidfd of an admitted PID, or -1. */
int pw_trust_pidfd(const struct pw_trust *t, pid_t pid);
/* Sends SIG to an admitted PID through its pidfd; -1 (errno ESRCH) otherwise. */
int pw_trust_signal(const struct pw_trust *t, pid_t pid, int sig);
/* True while some admitted process has not ended. */
bool pw_trust_any_alive(const struct pw_trust *t);

/* Checks that FD (inherited, e.g. from the shim that started the sidecar) is
 * a pidfd of PID.  Returns FD, or -1 after closing it. */
int pw_trust_check_pidfd(int fd, pid_t pid);

#endif
