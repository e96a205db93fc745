/* In-process watchdog for plain LD_PRELOAD use (PARKWATCH_OPTIONS=watchdog=1).
 *
 * The judgment of "deadlock" and "all threads blocked" exists once, in the
 * analyzer.  So the shim does not grow a second detector: at init it starts the
 * analyzer as a sidecar process, `parkwatch watch --pid <us>`, which reads our
 * shared trace from outside exactly as `parkwatch run` does, prints the notice
 * and, with on_deadlock=abort, stops us.  Inside the host this costs one
 * process creation at start and nothing afterwards.
 *
 * Behaviour-preserving rules, and why:
 *   - started at init, before the host has any thread of its own: nothing can
 *     hold a lock across our fork;
 *   - raw clone() with no exit signal, twice: the host gets no SIGCHLD, its
 *     wait() never sees a child it did not make (a clone child is invisible to
 *     wait without __WCLONE), the intermediate child is reaped here at once and
 *     the sidecar is re-parented away from the host; and no atfork handler of
 *     the host (or of ours) runs for a fork the host did not make;
 *   - the children only make raw system calls before execve: they are copies of
 *     a process whose libc state (cached tid, locks) is not theirs;
 *   - the sidecar keeps stderr (its notices go where the host's would) but gets
 *     /dev/null for stdin and stdout, and no other fd of the host: it must not
 *     keep a pipe or socket of the host open, which would delay the EOF a peer
 *     of the host waits for;
 *   - LD_PRELOAD is removed from its environment: it is not traced itself;
 *   - it gets a pidfd of the host as fd 3 (--pidfd 3), opened by the
 *     intermediate child while the host waits for it, so the pid cannot have
 *     been reused: only the host and its descendants are ever signalled
 *     (analyzer/cli/trust.h), and never a process that got the host's pid
 *     after it ended;
 *   - it exits when the host (and the host's traced children) are gone.
 * Under `parkwatch run` the sidecar is not started: run watches by itself and
 * passes watchdog=0.  A new image after exec is already watched (same pid), so
 * only the first image of a pid starts one. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "proc.h"
#include "tracefile.h"
#include "util.h"
#include "watchdog.h"

extern char **environ;

#define MAX_ENV 512

/* Candidate CLI paths relative to the shim's directory: the build tree keeps
 * the CLI in a sibling directory; an install keeps it in bin/ beside lib/ (or
 * lib/<multiarch>/). */
static const char *const cli_rel[] = {
    "/../analyzer/parkwatch",
    "/../bin/parkwatch",
    "/../../bin/parkwatch",
};

bool pw_cli_find(char *out, size_t cap)
{
    const char *bin = pw_cfg.opt.parkwatch_bin;
    if (bin != NULL && bin[0] != '\0') {
        pw_strlcpy(out, bin, cap);
        return access(out, X_OK) == 0;
    }
    Dl_info di;
    if (dladdr((void *)pw_cli_find, &di) == 0 || di.dli_fname == NULL)
        return false;
    char dir[PATH_MAX];
    pw_strlcpy(dir, di.dli_fname, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        pw_strlcpy(dir, ".", sizeof dir);
    for (size_t i = 0; i < sizeof cli_rel / sizeof cli_rel[0]; i++) {
        size_t n = pw_append(out, 0, cap, dir);
        if (pw_append(out, n, cap, cli_rel[i]) >= cap)
            continue;
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* on_deadlock values that watch: not off, not unknown. */
static bool valid_action(const char *a)
{
    int v = pw_on_deadlock_parse(a);
    return v >= 0 && v != PW_ON_DEADLOCK_OFF;
}

/* A fork-like clone without atfork handlers; EXIT_SIGNAL 0 sends the parent
 * nothing when the child ends (it is then waited for with __WCLONE). */
static pid_t raw_clone(unsigned long exit_signal)
{
    return (pid_t)syscall(SYS_clone, exit_signal, NULL, NULL, NULL, NULL);
}

/* The fd number the sidecar finds the host's pidfd at (its --pidfd). */
#define SIDECAR_PIDFD 3
#define SIDECAR_PIDFD_S "3"

/* In a child, before execve: raw system calls only.  PIDFD: the host's, or
 * -1.  OUT: the fd that becomes the child's stdout (2: our stderr), or -1 for
 * /dev/null. */
static void __attribute__((noreturn))
exec_sidecar(const char *path, char **argv, char **envp, int pidfd, int out)
{
    sigset_t none;
    sigemptyset(&none);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(uint64_t));
    int null = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
    if (null >= 0)
        syscall(SYS_dup2, null, 0);
    if ((out < 0 || syscall(SYS_dup2, out, 1) < 0) && null >= 0) /* no OUT: nowhere to print */
        syscall(SYS_dup2, null, 1);
    /* the pidfd at its place, kept across execve (pidfd_open sets
     * close-on-exec; dup2 to another number clears it, but not to itself) */
    unsigned first = SIDECAR_PIDFD;
    if (pidfd >= 0) {
        if (pidfd != SIDECAR_PIDFD)
            syscall(SYS_dup2, pidfd, SIDECAR_PIDFD);
        syscall(SYS_fcntl, SIDECAR_PIDFD, F_SETFD, 0);
        first = SIDECAR_PIDFD + 1;
    }
    /* every fd of the host but stderr goes */
    if (syscall(SYS_close_range, first, ~0u, 0u) != 0)
        for (int fd = (int)first; fd < 4096; fd++)
            syscall(SYS_close, fd);
    syscall(SYS_execve, path, argv, envp);
    syscall(SYS_exit_group, 127);
    __builtin_unreachable();
}

/* The intermediate child of pw_cli_run: raw system calls only, every signal
 * blocked (a handler of the host's must not run in this copy of it).  Exits
 * with the CLI's status, 127 when it could not start, 126 when it died. */
static void __attribute__((noreturn)) cli_child(const char *path, char **argv, char **envp, int out)
{
    sigset_t all;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(uint64_t));
    pid_t cli = raw_clone(SIGCHLD);
    if (cli == 0) {
        /* killed with this child: the host kills it when the CLI hangs */
        syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        exec_sidecar(path, argv, envp, -1, out);
    }
    int st = 0;
    if (cli < 0 || syscall(SYS_wait4, cli, &st, 0, NULL) != cli)
        syscall(SYS_exit_group, 127);
    syscall(SYS_exit_group, WIFEXITED(st) ? WEXITSTATUS(st) : 126);
    __builtin_unreachable();
}

int pw_cli_run(const char *path, char **argv, char **envp, int out, unsigned wait_ms, bool ptracer)
{
    int err = errno;
    /* fork-like, without atfork handlers, and no exit signal: the host gets no
     * SIGCHLD and its wait() never sees this child (only __WCLONE does).  But
     * execve gives a child the exit signal SIGCHLD again, so the CLI runs in
     * a grandchild, whose status this child waits for and passes on. */
    pid_t child = raw_clone(0);
    if (child == 0)
        cli_child(path, argv, envp, out);
    /* Yama's ptrace_scope=1 lets a process trace only its descendants, or us
     * when we name it (or an ancestor of it) as our ptracer.  The CLI retries
     * its seize for a moment, so naming it now is in time. */
    if (ptracer && child > 0)
        prctl(PR_SET_PTRACER, (unsigned long)child, 0, 0, 0);
    int st = 0, rc = -1;
    struct timespec step = {0, 2 * 1000 * 1000};
    for (unsigned waited = 0; child > 0; waited += 2) {
        pid_t r = waitpid(child, &st, __WCLONE | WNOHANG);
        if (r == child) {
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 126;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        if (waited >= wait_ms) { /* a hung CLI must not hang the host */
            kill(child, SIGKILL);
            while (waitpid(child, &st, __WCLONE) < 0 && errno == EINTR)
                ;
            break;
        }
        nanosleep(&step, NULL);
    }
    if (ptracer && child > 0)
        prctl(PR_SET_PTRACER, 0ul, 0, 0, 0);
    errno = err;
    return rc;
}

void pw_watchdog_start(void)
{
    struct pw_options *o = &pw_cfg.opt;
    if (!o->watchdog || o->watchdog_ms == 0 || pw_tf.hdr == NULL || pw_tf.hdr->exec_gen != 0)
        return;
    if (!valid_action(o->on_deadlock))
        return; /* off (or unknown): nothing to watch for */
    static char cli[PATH_MAX];
    if (!pw_cli_find(cli, sizeof cli)) {
        pw_warn("watchdog: cannot find the parkwatch CLI (set parkwatch_bin=); no watchdog", NULL);
        return;
    }
    /* everything the children need is prepared here, in the parent */
    static char pid_s[24], ms_s[24];
    pw_append_u64(pid_s, 0, sizeof pid_s, (uint64_t)pw_pid);
    pw_append_u64(ms_s, 0, sizeof ms_s, o->watchdog_ms);
    static char *argv[] = {
        NULL,          "watch", "--pid",      pid_s, "--pidfd",       SIDECAR_PIDFD_S,
        "--trace-dir", NULL,    "--interval", ms_s,  "--on-deadlock", NULL,
        NULL,          NULL,    NULL};
    argv[0] = cli;
    argv[7] = pw_cfg.trace_dir;
    argv[11] = (char *)o->on_deadlock;
    /* the sidecar, not the host, takes the signal: the host's dispositions stay its own */
    if (o->dump_signal != NULL && o->dump_signal[0] != '\0') {
        argv[12] = "--dump-signal";
        argv[13] = (char *)o->dump_signal;
    }
    static char *envp[MAX_ENV + 1];
    size_t n = 0;
    for (char **e = environ; e != NULL && *e != NULL && n < MAX_ENV; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            envp[n++] = *e;
    envp[n] = NULL;

    pid_t mid = raw_clone(0);
    if (mid < 0) {
        pw_warn("watchdog: cannot start the sidecar; no watchdog", NULL);
        return;
    }
    if (mid == 0) {
        /* SIGCHLD goes to mid, which is gone by then; the reaper that adopts
         * the sidecar expects an ordinary child */
        /* we are the host's child and it waits for us: its pid is its own */
        int pidfd = (int)syscall(SYS_pidfd_open, pw_pid, 0u);
        if (raw_clone(SIGCHLD) == 0)
            exec_sidecar(cli, argv, envp, pidfd, -1);
        syscall(SYS_exit_group, 0);
    }
    int st;
    while (waitpid(mid, &st, __WCLONE) < 0 && errno == EINTR)
        ;
    if (o->verbose)
        pw_warn("watchdog: ", cli, " watches this process", NULL);
}
