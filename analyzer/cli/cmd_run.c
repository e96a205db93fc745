/* `parkwatch run [OPTIONS] -- PROGRAM [ARGS...]`: run PROGRAM with the shim
 * preloaded, record how it ended into its trace, then report. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "probe.h"
#include "parkwatch/options.h"
#include "reader.h"
#include "watch.h"

#ifndef PW_LIBDIR
#define PW_LIBDIR "/usr/local/lib"
#endif

#define PW_SHIM_NAME "libparkwatch.so"

/* Set by `run` for its program: the trace directory of the enclosing run.  A
 * `parkwatch run` started under it (nested) puts its own traces in a
 * subdirectory of it, where the outer run's report finds them too. */
#define PW_RUN_DIR_ENV "PARKWATCH_RUN_DIR"
/* The names of those subdirectories. */
#define PW_NESTED_PREFIX "run."

/* The child's pid for the forwarding handler; 0 before fork, so a signal that
 * arrives early (or in the child before exec) is never sent to pid 0, which
 * would mean our whole process group. */
static volatile pid_t child_pid;

/* ---- locating the shim */

static int usable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Tries DIR/REL; on success the canonical path is left in OUT. */
static int try_shim(const char *dir, const char *rel, char *out)
{
    char cand[PATH_MAX];
    if (snprintf(cand, sizeof(cand), "%s/%s", dir, rel) >= (int)sizeof(cand))
        return -1;
    return usable(cand) && realpath(cand, out) ? 0 : -1;
}

static int find_shim(char *out)
{
    const char *env = getenv("PARKWATCH_LIB");
    if (env && *env) {
        if (usable(env) && realpath(env, out))
            return 0;
        pw_err("PARKWATCH_LIB=%s: %s", env, strerror(errno ? errno : ENOENT));
        return -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* The build tree keeps the shim in a sibling directory. */
        if (try_shim(exe, "../preload/" PW_SHIM_NAME, out) == 0 ||
            try_shim(exe, PW_SHIM_NAME, out) == 0)
            return 0;
#ifdef PW_BIN_TO_LIBDIR
        /* An installed tree, wherever it was unpacked (DESTDIR, a moved prefix). */
        if (try_shim(exe, PW_BIN_TO_LIBDIR "/" PW_SHIM_NAME, out) == 0)
            return 0;
#endif
    }
    if (try_shim(PW_LIBDIR, PW_SHIM_NAME, out) == 0)
        return 0;
    pw_err("cannot find %s (set PARKWATCH_LIB)", PW_SHIM_NAME);
    return -1;
}

/* ---- the trace directory */

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0777);
        *p = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

/* A directory of our own, not a symlink: where a nested run's traces may go. */
static bool own_dir(const char *path)
{
    struct stat st;
    return path && *path == '/' && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
           st.st_uid == geteuid();
}

/* A nested run's directory as the outer run sees it: a directory of ours, or
 * a symlink of ours (a nested run with its own --trace-dir, below) to one. */
static bool nested_dir(const char *path)
{
    struct stat st;
    if (own_dir(path))
        return true;
    char target[PATH_MAX];
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid == geteuid() &&
           realpath(path, target) && own_dir(target);
}

/* A nested run given its own --trace-dir leaves a symlink to it in the outer
 * run's directory, so the outer report has those traces too. */
static void link_into_outer(const char *dir)
{
    const char *outer = getenv(PW_RUN_DIR_ENV);
    char link[PATH_MAX];
    if (!own_dir(outer) || snprintf(link, sizeof(link), "%s/" PW_NESTED_PREFIX "%d", outer,
                                    (int)getpid()) >= (int)sizeof(link))
        return;
    if (symlink(dir, link) < 0)
        pw_warn("%s: %s: the enclosing run will not report this run's traces", link,
                strerror(errno));
}

/* Sets *FRESH when the directory is a fresh one of run's own, which a clean
 * run removes (not a nested run's: the enclosing run reports those). */
static int make_trace_dir(const char *want, char *out, bool *fresh)
{
    const char *outer = getenv(PW_RUN_DIR_ENV);
    *fresh = false;
    if (!want && own_dir(outer)) {
        /* nested: beside the outer run's traces, so its report has ours too */
        if (snprintf(out, PATH_MAX, "%s/" PW_NESTED_PREFIX "XXXXXX", outer) < PATH_MAX &&
            mkdtemp(out))
            return 0;
    }
    if (!want) {
        *fresh = true;
        const char *tmp = getenv("TMPDIR");
        snprintf(out, PATH_MAX, "%s/parkwatch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(out)) {
            pw_err("cannot create a trace directory in %s: %s", tmp && *tmp ? tmp : "/tmp",
                   strerror(errno));
            return -1;
        }
        return 0;
    }
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", want) >= (int)sizeof(buf) || mkdir_p(buf) < 0 ||
        !realpath(want, out)) {
        pw_err("--trace-dir %s: %s", want, strerror(errno ? errno : ENAMETOOLONG));
        return -1;
    }
    /* the program could not write its traces there: say so before it runs */
    if (access(out, W_OK | X_OK) < 0) {
        pw_err("--trace-dir %s: %s", want, strerror(errno));
        return -1;
    }
    link_into_outer(out);
    return 0;
}

/* ---- the child's environment */

/* Sets NAME to FIRST, followed by SEP and the current value if there is one. */
static int prepend_env(const char *name, const char *first, char sep)
{
    const char *old = getenv(name);
    size_t len = strlen(first) + (old ? strlen(old) + 1 : 0) + 1;
    char *v = malloc(len);
    if (!v)
        return -1;
    if (old && *old)
        snprintf(v, len, "%s%c%s", first, sep, old);
    else
        snprintf(v, len, "%s", first);
    int rc = setenv(name, v, 1);
    free(v);
    return rc;
}

/* The keys run depends on, and the values it gives them: trace_dir (traces
 * elsewhere would be neither watched nor reported: "no findings in 0
 * processes" and a deadlock never stopped) and watchdog (run watches by
 * itself; the shim's own sidecar would be a second watcher). */
struct owned {
    enum pw_opt_key key;
    const char *value;
};

/* Whether the user's ITEM (LEN bytes, "key=value") is one run owns; if its
 * value differs from run's, says so in one line.  A value an enclosing run set
 * (nested runs) is replaced silently. */
static bool overridden(const char *item, size_t len, const struct owned *own, size_t nown)
{
    const char *eq = memchr(item, '=', len);
    const struct pw_opt_desc *d = pw_opt_find(item, eq ? (size_t)(eq - item) : len);
    for (size_t i = 0; d && i < nown; i++) {
        if (d != &pw_opt_descs[own[i].key])
            continue;
        const char *val = eq ? eq + 1 : "";
        size_t vlen = eq ? len - (size_t)(val - item) : 0;
        const char *outer = own[i].key == PW_OPTKEY_trace_dir ? getenv(PW_RUN_DIR_ENV) : NULL;
        bool same = strlen(own[i].value) == vlen && memcmp(own[i].value, val, vlen) == 0;
        bool from_outer = outer && strlen(outer) == vlen && memcmp(outer, val, vlen) == 0;
        if (!same && !from_outer)
            pw_warn("PARKWATCH_OPTIONS: %.*s ignored: run sets %s=%s", (int)len, item, d->name,
                    own[i].value);
        return true;
    }
    return false;
}

/* PARKWATCH_OPTIONS for the program: run's own keys first (the shim reads only
 * the first PW_OPTIONS_MAX bytes), then the user's other items as they were. */
static int set_options(const char *dir)
{
    const struct owned own[] = {
        {PW_OPTKEY_trace_dir, dir},
        {PW_OPTKEY_watchdog, "0"},
    };
    const char *user = getenv("PARKWATCH_OPTIONS");
    size_t cap = strlen(dir) + 64 + (user ? strlen(user) : 0);
    char *v = malloc(cap);
    if (!v)
        return -1;
    size_t n = (size_t)snprintf(v, cap, "%s=%s:%s=0", PW_OPT_NAME(trace_dir), dir,
                                PW_OPT_NAME(watchdog));
    /* all of it: what lies past the shim's limit stays there, for the shim's
     * own warning */
    size_t left = user ? strlen(user) : 0;
    for (const char *p = user; left > 0;) {
        size_t len = strcspn(p, ":");
        if (len > left)
            len = left;
        if (len && !overridden(p, len, own, sizeof(own) / sizeof(own[0])))
            n += (size_t)snprintf(v + n, cap - n, ":%.*s", (int)len, p);
        len += len < left; /* the colon */
        p += len;
        left -= len;
    }
    int rc = setenv("PARKWATCH_OPTIONS", v, 1);
    free(v);
    return rc;
}

static int set_child_env(const char *shim, const char *dir)
{
    if (prepend_env("LD_PRELOAD", shim, ':') < 0 || set_options(dir) < 0 ||
        setenv(PW_RUN_DIR_ENV, dir, 1) < 0) {
        pw_err("cannot set the environment: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the live watchdog (watch.c), configured by the shim's own keys */

/* Applies one "key=value" item of PARKWATCH_OPTIONS; the last one wins.  A
 * number is decided by the shim's own rule (pw_opt_uint): the shim in the
 * child says what was clamped or ignored, so this stays quiet about it. */
static void watch_opt(const char *item, size_t len, struct pw_watch_opts *w)
{
    const char *eq = memchr(item, '=', len);
    if (!eq)
        return;
    const struct pw_opt_desc *d = pw_opt_find(item, (size_t)(eq - item));
    const char *val = eq + 1;
    size_t vlen = len - (size_t)(val - item);
    uint64_t v;
    if (d == &pw_opt_descs[PW_OPTKEY_watchdog_ms]) {
        if (pw_opt_uint(d, val, vlen, &v) != PW_OPT_BAD)
            w->interval_ms = (unsigned)v;
    } else if (d == &pw_opt_descs[PW_OPTKEY_halt_on_deadlock]) {
        if (pw_opt_uint(d, val, vlen, &v) != PW_OPT_BAD)
            w->halt_on_deadlock = (unsigned)v;
    } else if (d == &pw_opt_descs[PW_OPTKEY_timeout]) {
        if (pw_opt_uint(d, val, vlen, &v) != PW_OPT_BAD)
            w->timeout_s = (unsigned)v;
    } else if (d == &pw_opt_descs[PW_OPTKEY_on_deadlock]) {
        char act[64];
        snprintf(act, sizeof(act), "%.*s", (int)vlen, val);
        int a = pw_on_deadlock_parse(act);
        if (a < 0)
            pw_warn("%s=%s ignored (abort, report or off)", d->name, act);
        else
            w->action = (enum pw_on_deadlock)a;
    } else if (d == &pw_opt_descs[PW_OPTKEY_dump_signal]) {
        char sig[32];
        snprintf(sig, sizeof(sig), "%.*s", (int)vlen, val);
        int n = pw_dump_signal_parse(sig);
        if (n < 0)
            pw_warn("%s=%s ignored (a signal such as SIGUSR2; never SIGQUIT)", d->name, sig);
        else
            w->dump_signal = n;
    }
}

void pw_run_watch_opts(const char *env, struct pw_watch_opts *w)
{
    pw_watch_opts_default(w);
    /* the shim reads no further than this either */
    size_t left = env ? strnlen(env, PW_OPTIONS_MAX - 1) : 0;
    for (const char *p = env; left > 0;) {
        size_t len = strcspn(p, ":");
        if (len > left)
            len = left;
        watch_opt(p, len, w);
        len += len < left; /* the colon */
        p += len;
        left -= len;
    }
    if (w->interval_ms == 0)
        w->action = PW_ON_DEADLOCK_OFF;
}

static int wait_child(pid_t pid, int *status);

/* Waits for the child under the watchdog (which wakes as soon as it ends).
 * --timeout (TIMEOUT_S, 0 = not given) wins over PARKWATCH_OPTIONS' timeout. */
static int wait_watched(pid_t pid, const char *dir, unsigned timeout_s, int *status)
{
    struct pw_watch_opts wo;
    pw_run_watch_opts(getenv("PARKWATCH_OPTIONS"), &wo);
    if (timeout_s)
        wo.timeout_s = timeout_s;
    if (wo.action == PW_ON_DEADLOCK_OFF && !wo.timeout_s && !wo.dump_signal)
        return wait_child(pid, status);
    return pw_watch_wait(pid, dir, &wo, status);
}

/* ---- running */

static void forward(int sig)
{
    pid_t p = child_pid;
    if (p > 0)
        kill(p, sig);
}

static void install_forwarding(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa = {.sa_handler = forward};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* In the child: exec, or report errno through the close-on-exec pipe. */
static void __attribute__((noreturn)) exec_child(int errfd, char **argv)
{
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof(e));
    (void)w;
    _exit(127);
}

static int wait_child(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Starts PROGRAM; returns its pid, or -1 after reporting why it could not run. */
static pid_t spawn(char **argv)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        pw_err("pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        exec_child(p[1], argv);
    }
    close(p[1]);
    if (pid < 0) {
        pw_err("fork: %s", strerror(errno));
        close(p[0]);
        return -1;
    }
    child_pid = pid;
    int e = 0;
    ssize_t r;
    while ((r = read(p[0], &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    close(p[0]);
    if (r == (ssize_t)sizeof(e)) {
        int st;
        wait_child(pid, &st);
        child_pid = 0;
        pw_err("cannot run '%s': %s", argv[0], strerror(e));
        return -1;
    }
    return pid;
}

/* ---- recording how the program ended */

static void patch_end(const char *dir, pid_t pid, int status)
{
    char path[4096];
    if (pw_trace_find_last_image(dir, pid, path, sizeof(path)) < 0)
        return;
    bool sig = WIFSIGNALED(status);
    /* the time is now (waitpid just told us), unless the shim recorded its own */
    if (pw_trace_mark_end(path, sig ? PW_END_SIGNAL : PW_END_EXIT,
                          sig ? WTERMSIG(status) : WEXITSTATUS(status), PW_END_NS_NOW, true) < 0)
        pw_warn("cannot record how pid %d ended: %s", (int)pid, strerror(errno));
}

static int program_status(int status)
{
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* PROGRAM as execvp found it (argv[0] alone when it has a slash). */
static int resolve_program(const char *prog, char *out)
{
    if (strchr(prog, '/'))
        return snprintf(out, PATH_MAX, "%s", prog) < PATH_MAX ? 0 : -1;
    const char *path = getenv("PATH");
    for (path = path ? path : "/usr/bin:/bin"; *path;) {
        size_t n = strcspn(path, ":");
        if (snprintf(out, PATH_MAX, "%.*s/%s", (int)n, n ? path : ".", prog) < PATH_MAX &&
            access(out, X_OK) == 0)
            return 0;
        path += n + (path[n] == ':');
    }
    return -1;
}

/* True when the ELF file at PATH has no PT_INTERP: nothing runs the dynamic
 * loader, so LD_PRELOAD is never read.  Only the ELF header and program
 * headers are read; a script or an unreadable file is not "static". */
static int is_static_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    Elf64_Ehdr eh;
    int found_interp = 0, elf = pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
                                memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
                                eh.e_ident[EI_CLASS] == ELFCLASS64 &&
                                eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 4096;
    for (unsigned i = 0; elf && i < eh.e_phnum && !found_interp; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            elf = 0;
        else
            found_interp = ph.p_type == PT_INTERP;
    }
    close(fd);
    return elf && !found_interp;
}

/* No trace at all: say why in one line, when it can be told from the file. */
static void explain_untraced(const char *prog)
{
    char path[PATH_MAX];
    struct stat st;
    if (resolve_program(prog, path) != 0 || stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_ISUID | S_ISGID))
        pw_warn("%s is set-user-ID or set-group-ID: the dynamic loader ignores LD_PRELOAD "
                "for it, so nothing was traced",
                prog);
    else if (getxattr(path, "security.capability", NULL, 0) >= 0)
        pw_warn("%s has file capabilities: the dynamic loader ignores LD_PRELOAD for it, "
                "so nothing was traced",
                prog);
    else if (is_static_elf(path))
        pw_warn("%s is statically linked: LD_PRELOAD cannot reach it, so nothing was traced", prog);
    else
        pw_warn("%s wrote no readable trace (it may have dropped LD_PRELOAD from its environment)",
                prog);
}

/* Keeps the traces of this run only: ROOT's and its descendants' (a trace
 * records its parent's pid, also after the parent is gone), started after the
 * run began (a pid reused since an older trace).  A --trace-dir used before
 * still holds older traces: they are left for `parkwatch report`, which reads
 * them all, and counted in one line rather than reported again as this run's. */
static size_t own_traces(struct pw_trace **t, size_t n, pid_t root, uint64_t since_ns,
                         const char *dir)
{
    bool *keep = calloc(n ? n : 1, sizeof(*keep));
    if (!keep)
        return n; /* no memory to sort them out: report everything, as before */
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            struct pw_trace_id h, hj;
            pw_trace_id_of(t[i], &h);
            /* a start time of 0 is unknown (a hand-made trace), not old */
            if (keep[i] || (h.start_realtime_ns != 0 && h.start_realtime_ns < since_ns))
                continue;
            /* the parent may have no trace of its own (a nested run's
             * program is the child of an untraced inner parkwatch) */
            bool ours = h.pid == root || h.ppid == root;
            for (size_t j = 0; j < n && !ours; j++) {
                pw_trace_id_of(t[j], &hj);
                ours = keep[j] && hj.pid == h.ppid;
            }
            if (ours)
                keep[i] = grew = true;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i])
            t[k++] = t[i];
        else
            pw_trace_close(t[i]);
    }
    free(keep);
    if (k < n)
        pw_warn("%zu older trace%s in %s not part of this run, not reported "
                "(`parkwatch report %s` reads them all)",
                n - k, n - k == 1 ? "" : "s", dir, dir);
    return k;
}

/* Loads DIR's traces and those of runs nested in it (their subdirectories,
 * make_trace_dir), DEPTH levels down at most. */
static void load_run_dir(const char *dir, int depth, struct pw_trace ***traces, size_t *n)
{
    /* A trace we cannot read is mentioned but does not hide PROGRAM's status. */
    pw_load_dir(dir, PW_LOAD_OWNED, traces, n);
    DIR *d = depth > 0 ? opendir(dir) : NULL;
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char sub[PATH_MAX];
        if (strncmp(de->d_name, PW_NESTED_PREFIX, strlen(PW_NESTED_PREFIX)) == 0 &&
            snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < (int)sizeof(sub) &&
            nested_dir(sub))
            load_run_dir(sub, depth - 1, traces, n);
    }
    closedir(d);
}

static int report_dir(const char *dir, struct pw_report_opts *o, const char *prog, pid_t root,
                      uint64_t since_ns)
{
    struct pw_trace **traces = NULL;
    size_t n = 0;
    load_run_dir(dir, 8, &traces, &n);
    n = own_traces(traces, n, root, since_ns, dir);
    if (n == 0)
        explain_untraced(prog);
    o->trace_dir = dir;
    int rc = pw_analyze_and_report(traces, n, o);
    pw_free_traces(traces, n);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0)
        pw_warn("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/* Removes run's own fresh trace directory (never following a symlink out of
 * it, never crossing into another file system). */
static void remove_trace_dir(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int pw_cmd_run(int argc, char **argv)
{
    struct pw_report_opts o;
    int first = pw_parse_opts(argc, argv, 1, &o);
    if (first == -2)
        return PW_EXIT_OK;
    if (first < 0)
        return PW_EXIT_USAGE;
    if (first >= argc) {
        pw_err("run: expected -- PROGRAM [ARGS...] (try 'parkwatch run --help')");
        return PW_EXIT_USAGE;
    }
    char shim[PATH_MAX], dir[PATH_MAX];
    bool fresh;
    /* a bad -o or --trace-dir is found before the program runs, not after */
    if (find_shim(shim) < 0 || pw_outputs_open(&o) < 0)
        return PW_EXIT_USAGE;
    if (make_trace_dir(o.trace_dir, dir, &fresh) < 0) {
        pw_outputs_abandon(&o);
        return PW_EXIT_USAGE;
    }
    if (set_child_env(shim, dir) < 0) {
        pw_outputs_abandon(&o);
        if (fresh)
            remove_trace_dir(dir);
        return PW_EXIT_USAGE;
    }
    install_forwarding();
    /* a clock stepped back during the run must not lose its traces: a second
     * of slack (a pid reused within it in the same directory is not credible) */
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    uint64_t since_ns = (uint64_t)t0.tv_sec * 1000000000u + (uint64_t)t0.tv_nsec - 1000000000u;
    pid_t pid = spawn(argv + first);
    if (pid < 0) {
        pw_outputs_abandon(&o);
        if (fresh)
            remove_trace_dir(dir);
        return PW_EXIT_USAGE;
    }
    /* where to look if the run is interrupted, or the report lost */
    fprintf(stderr, "parkwatch: tracing %s (pid %d); traces in %s\n", argv[first], (int)pid, dir);
    fflush(stderr);
    int status;
    if (wait_watched(pid, dir, o.timeout_s, &status) < 0) {
        pw_err("waitpid: %s", strerror(errno));
        return PW_EXIT_USAGE;
    }
    child_pid = 0;
    patch_end(dir, pid, status);
    int clean = 0;
    o.clean = &clean;
    o.summary_to_stderr = 1;
    o.remove_clean_dir = fresh;
    int rc = report_dir(dir, &o, argv[first], pid, since_ns);
    if (clean && fresh && !o.keep_traces && rc != PW_EXIT_USAGE)
        remove_trace_dir(dir);
    /* The report's verdict wins only when a finding matched --fail-on (or the
     * report itself could not be written). */
    if ((rc != PW_EXIT_OK && rc == o.exitcode) || rc == PW_EXIT_USAGE)
        return rc;
    return program_status(status);
}
