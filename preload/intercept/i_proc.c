/* Process-level interposers: fork, the exec family, dlopen/dlclose.
 *
 * vfork is deliberately NOT interposed: the child borrows the parent's memory
 * and stack until it execs or _exits, so a wrapper could neither return into
 * the child safely nor record anything without writing into the parent's
 * trace.  Passing it through untouched preserves the program's behaviour; the
 * exec and channel-close wrappers notice a vfork child (getpid differs) and
 * leave the parent's records alone. */
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chan.h"
#include "event.h"
#include "exec.h"
#include "init.h"
#include "modules.h"
#include "proc.h"
#include "real.h"
#include "shim.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

/* The fork as evidence: the FORK event is ring history, the header keeps the
 * count and the latest child for as long as the trace lives. */
static void pw_forked(pid_t pid)
{
    if (pw_tf.hdr == NULL)
        return;
    __atomic_add_fetch(&pw_tf.hdr->forks, 1, __ATOMIC_RELAXED);
    PW_STORE(&pw_tf.hdr->last_child_pid, (int32_t)pid);
}

/* Hold the guard across the real fork: the atfork handlers of other libraries
 * run inside it and their locking is not the program's. */
PW_EXPORT pid_t fork(void)
{
    if (!pw_on())
        return PW_REAL(fork)();
    pw_tls.guard++;
    pid_t pid = PW_REAL(fork)();
    int err = errno;
    if (pid > 0) {
        struct pw_event ev = {.kind = PW_EV_FORK, .op = PW_FORK_PARENT, .arg = (uint64_t)pid};
        pw_emit(pw_self(), &ev);
        pw_forked(pid);
        pw_chans_mark_forked(); /* the child holds copies: EPIPE is no longer certain */
    }
    pw_tls.guard--;
    errno = err;
    return pid;
}

/* posix_spawn skips atfork handlers (the child runs in our memory until it
 * execs, like vfork): the child is not followed here but traces itself after its
 * exec, and the parent books the fork (its channel ends were copied). */
static int spawned(int rc, pid_t *pidp)
{
    if (rc != 0 || pidp == NULL)
        return rc;
    int err = errno;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_FORK, .op = PW_FORK_PARENT, .arg = (uint64_t)*pidp};
    pw_emit(pw_self(), &ev);
    pw_forked(*pidp);
    pw_chans_mark_forked();
    pw_tls.guard--;
    errno = err;
    return rc;
}

PW_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!pw_on())
        return PW_REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
    pid_t child = 0;
    int rc = PW_REAL(posix_spawn)(&child, path, fa, attr, argv, envp);
    if (pid != NULL && rc == 0)
        *pid = child;
    return spawned(rc, &child);
}

PW_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!pw_on())
        return PW_REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
    pid_t child = 0;
    int rc = PW_REAL(posix_spawnp)(&child, file, fa, attr, argv, envp);
    if (pid != NULL && rc == 0)
        *pid = child;
    return spawned(rc, &child);
}

/* ---- _exit: shells (dash ends with _exit), fork children and daemons skip
 * exit handlers and destructors.  Unmarked, their traces would end "running",
 * which a reader must take for a kill or a crash, with every thread unknown.
 * _Exit is the same function under the C standard's name (in glibc, an
 * alias of _exit). */

static void __attribute__((noreturn)) exit_now(int status)
{
    pw_process_exit(status);
    if (PW_REAL(_exit) != NULL)
        PW_REAL(_exit)(status);
    for (;;) /* before the real table is resolved: what _exit does */
        syscall(SYS_exit_group, status);
}

PW_EXPORT void _exit(int status)
{
    exit_now(status);
}

PW_EXPORT void _Exit(int status)
{
    exit_now(status);
}

/* ---- exec: the trace says "exec" only if the exec succeeds, and exec does not
 * return then, so end_kind is set before and restored if it comes back. */

static bool exec_before(void)
{
    if (!pw_on() || syscall(SYS_getpid) != pw_pid) /* off, or a vfork child */
        return false;
    pw_tls.guard++;
    struct pw_event ev = {.kind = PW_EV_EXEC};
    pw_emit(pw_self(), &ev);
    pw_chans_exec_before();
    pw_tf.hdr->end_ns = pw_now();
    PW_STORE(&pw_tf.hdr->end_kind, PW_END_EXEC);
    pw_tls.guard--;
    return true;
}

static int exec_after(bool recorded, int rc)
{
    if (!recorded)
        return rc;
    int err = errno;
    PW_STORE(&pw_tf.hdr->end_kind, PW_END_RUNNING);
    pw_tf.hdr->end_ns = 0;
    pw_tls.guard++;
    pw_chans_exec_failed();
    pw_tls.guard--;
    errno = err;
    return rc;
}

enum exec_via { VIA_EXECVE, VIA_EXECV, VIA_EXECVP, VIA_EXECVPE, VIA_FEXECVE };

static int exec_work(enum exec_via via, const char *path, int fd, char *const argv[],
                     char *const envp[])
{
    bool rec = exec_before();
    int rc;
    switch (via) {
    case VIA_EXECVE:
        rc = PW_REAL(execve)(path, argv, envp);
        break;
    case VIA_EXECV:
        rc = PW_REAL(execv)(path, argv);
        break;
    case VIA_EXECVP:
        rc = PW_REAL(execvp)(path, argv);
        break;
    case VIA_EXECVPE:
        rc = PW_REAL(execvpe)(path, argv, envp);
        break;
    default:
        rc = PW_REAL(fexecve)(fd, argv, envp);
        break;
    }
    return exec_after(rec, rc);
}

/* glibc's execv/execvp/execl* reach execve internally, not through the PLT, so
 * each entry point is wrapped; the execl forms are rebuilt as their v forms. */
PW_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return exec_work(VIA_EXECVE, path, -1, argv, envp);
}

PW_EXPORT int execv(const char *path, char *const argv[])
{
    return exec_work(VIA_EXECV, path, -1, argv, NULL);
}

PW_EXPORT int execvp(const char *file, char *const argv[])
{
    return exec_work(VIA_EXECVP, file, -1, argv, NULL);
}

PW_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return exec_work(VIA_EXECVPE, file, -1, argv, envp);
}

PW_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    return exec_work(VIA_FEXECVE, NULL, fd, argv, envp);
}

/* Counts the variadic arguments after ARG up to the terminating NULL. */
#define PW_COUNT_ARGS(n, arg)                           \
    do {                                                \
        va_list ap_;                                    \
        va_start(ap_, arg);                             \
        for (n = 1; va_arg(ap_, const char *) != NULL;) \
            n++;                                        \
        va_end(ap_);                                    \
    } while (0)

/* Fills ARGV[0..N] from ARG and the variadic list; returns the list position
 * after the NULL (for execle's envp). */
#define PW_FILL_ARGS(argv, n, arg, envp_out) \
    do {                                     \
        va_list ap_;                         \
        va_start(ap_, arg);                  \
        argv[0] = (char *)arg;               \
        for (size_t i_ = 1; i_ <= n; i_++)   \
            argv[i_] = va_arg(ap_, char *);  \
        envp_out = va_arg(ap_, char **);     \
        va_end(ap_);                         \
    } while (0)

PW_EXPORT int execl(const char *path, const char *arg, ...)
{
    size_t n;
    char **envp;
    PW_COUNT_ARGS(n, arg);
    char *argv[n + 1];
    PW_FILL_ARGS(argv, n, arg, envp);
    (void)envp;
    return exec_work(VIA_EXECV, path, -1, argv, NULL);
}

PW_EXPORT int execlp(const char *file, const char *arg, ...)
{
    size_t n;
    char **envp;
    PW_COUNT_ARGS(n, arg);
    char *argv[n + 1];
    PW_FILL_ARGS(argv, n, arg, envp);
    (void)envp;
    return exec_work(VIA_EXECVP, file, -1, argv, NULL);
}

PW_EXPORT int execle(const char *path, const char *arg, ...)
{
    size_t n;
    char **envp;
    PW_COUNT_ARGS(n, arg);
    char *argv[n + 1];
    PW_FILL_ARGS(argv, n, arg, envp);
    return exec_work(VIA_EXECVE, path, -1, argv, envp);
}

/* ---- dlopen/dlclose: refresh the module map; hold the guard across the real
 * call (constructors of the loaded library and the loader's own locks are not
 * the program's). */

PW_EXPORT void *dlopen(const char *file, int mode)
{
    if (!pw_on())
        return PW_REAL(dlopen)(file, mode);
    if (mode & RTLD_DEEPBIND) {
        /* a deep-bound library would call libc directly, around our wrappers */
        pw_warn("RTLD_DEEPBIND dropped so the library stays observable: ",
                file ? file : "(main program)", NULL);
        mode &= ~RTLD_DEEPBIND;
    }
    pw_tls.guard++;
    void *h = PW_REAL(dlopen)(file, mode);
    int err = errno;
    if (h != NULL)
        pw_modules_refresh();
    pw_tls.guard--;
    errno = err;
    return h;
}

PW_EXPORT int dlclose(void *handle)
{
    if (!pw_on())
        return PW_REAL(dlclose)(handle);
    pw_tls.guard++;
    int rc = PW_REAL(dlclose)(handle);
    int err = errno;
    pw_modules_refresh();
    pw_tls.guard--;
    errno = err;
    return rc;
}
