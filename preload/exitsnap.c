/* At an orderly exit, the kernel's view of the threads the trace cannot
 * account for.
 *
 * A thread blocked in a call the shim does not model (a read on a FIFO or a
 * terminal, a raw futex, a sleep) is just "alive" in the trace; a futex wait
 * the shim could not place in private memory is parked but external, though
 * its word may well lie in private anonymous memory (a thread arena), which
 * only our mappings tell and which go away with us.  So when the
 * process exits while such a thread is alive, the exiting thread runs
 * `parkwatch stack --save <trace>.tasks --skip <itself> <pid>` and waits for
 * it: from outside, that reads each task's blocked system call and fd from
 * /proc and unwinds its stack with ptrace (seize, interrupt, unwind, detach),
 * and the report then says "fiforeader blocked in read(fd 5: /tmp/x/fifo)"
 * with the stack.
 *
 * Why from outside and not by signalling our own threads: a signal handler in
 * the host would own a signal disposition and could change the result of the
 * very call the thread is blocked in (EINTR without SA_RESTART); a ptrace
 * interrupt restarts it invisibly.  The cost is paid only at such an exit:
 * one process start and a few milliseconds per thread (exit_stacks=0 turns it
 * off).  It needs ptrace permission over ourselves from a child: with Yama's
 * ptrace_scope=1 we name the child as our ptracer (PR_SET_PTRACER) for that
 * moment; with 2 or 3 only the /proc part works, and the report says why the
 * stacks are missing.
 *
 * Behaviour-preserving rules, as for the watchdog sidecar (pw_cli_run): the
 * CLI runs in a grandchild under a raw clone with no exit signal (the host
 * gets no SIGCHLD and its wait() never sees either), raw system calls only in
 * the children before execve, no fd of the host kept but stderr, LD_PRELOAD
 * removed from its environment. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "exitsnap.h"
#include "options.h"
#include "threads.h"
#include "tracefile.h"
#include "util.h"
#include "watchdog.h"

extern char **environ;

#define MAX_ENV 512
#define EXIT_SNAPSHOT_WAIT_MS 30000

/* Is any thread but ME alive and parked on nothing the trace knows, or parked
 * on a futex the shim had to call external (no FUTEX_PRIVATE_FLAG, word
 * outside static data and the brk heap: maybe private anonymous memory, which
 * only the snapshot, reading our mappings, can tell)? */
static bool unfollowed_threads(const struct pw_thread_rec *me)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        const struct pw_thread_rec *t = pw_slot(i);
        if (t == me || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint16_t op = PW_LOAD_RELAXED(&t->park_op);
        if (op == PW_OP_NONE || ((op == PW_OP_FUTEX_WAIT || op == PW_OP_FUTEX_LOCK_PI) &&
                                 (PW_LOAD_RELAXED(&t->park_flags) & PW_PARK_OUTSIDE)))
            return true;
    }
    return false;
}

/* ".../parkwatch.<pid>.trace" -> ".../parkwatch.<pid>.tasks" */
static bool tasks_path(char *out, size_t cap)
{
    static const char suffix[] = ".trace";
    size_t n = strlen(pw_tf.path), sl = sizeof suffix - 1;
    if (n <= sl || strcmp(pw_tf.path + n - sl, suffix) != 0 || n - sl + 7 > cap)
        return false;
    memcpy(out, pw_tf.path, n - sl);
    memcpy(out + n - sl, ".tasks", 7);
    return true;
}

/* Yama restricts ptrace to descendants (1): name our child as a ptracer. */
static bool yama_scope_one(void)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope",
                          O_RDONLY | O_CLOEXEC);
    char c = 0;
    if (fd < 0)
        return false;
    if (syscall(SYS_read, fd, &c, 1) != 1)
        c = 0;
    syscall(SYS_close, fd);
    return c == '1';
}

void pw_exit_snapshot(void)
{
    if (!pw_cfg.opt.exit_stacks || pw_tf.hdr == NULL || !unfollowed_threads(pw_tls.rec))
        return;
    static char cli[PATH_MAX], path[PATH_MAX], pid_s[24], tid_s[24];
    if (!pw_cli_find(cli, sizeof cli) || !tasks_path(path, sizeof path))
        return;
    pw_append_u64(pid_s, 0, sizeof pid_s, (uint64_t)getpid());
    pw_append_u64(tid_s, 0, sizeof tid_s, (uint64_t)syscall(SYS_gettid));
    static char *argv[] = {NULL, "stack", "--quiet", "--save", NULL, "--skip", NULL, NULL, NULL};
    argv[0] = cli;
    argv[4] = path;
    argv[6] = tid_s;
    argv[7] = pid_s;
    static char *envp[MAX_ENV + 1];
    size_t n = 0;
    for (char **e = environ; e != NULL && *e != NULL && n < MAX_ENV; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            envp[n++] = *e;
    envp[n] = NULL;
    /* bounded: a hung CLI must not keep the host from exiting */
    pw_cli_run(cli, argv, envp, -1, EXIT_SNAPSHOT_WAIT_MS, yama_scope_one());
}
