/* Live deadlock detection from outside the traced process.
 *
 * The traces are shared mappings, so a watcher can read them while the program
 * runs.  Every interval it rebuilds the model of every live traced process and
 * runs the same detectors as the offline report: the judgment exists once.
 *   - all-threads-blocked: every thread parked in an untimed wait on an
 *     in-process object, and nothing happened since the previous check (same
 *     event count, same parks): the watcher marks the trace (end =
 *     deadlock-abort), prints a short report and, with on_deadlock=abort,
 *     terminates the process so CI never hangs.
 *   - deadlock: a wait-for cycle while other threads still run: reported once,
 *     the program is left alone.
 * `parkwatch run` watches its child this way; `parkwatch watch` does the same
 * for a process started with a plain LD_PRELOAD (the shim can start it).
 *
 * What a poll costs: one loop for every process of the run, and per live
 * process a look at its header's change count (header.park_gen, bumped by the
 * shim only on park, unpark, thread start and exit), kept mapped between
 * polls.  Unchanged: nothing more.  Changed: its thread records, to see
 * whether anything is parked.  The model is built only when a process with a
 * parked thread changed (at most once per interval for a busy one) or a
 * verdict is under way.  New trace files are noticed through inotify, so an
 * idle poll reads no directory either; a trace whose process ended is read
 * once, when it ends. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "finding.h"
#include "kcheck.h"
#include "model.h"
#include "probe.h"
#include "reader.h"
#include "trust.h"
#include "watch.h"

/* What the watcher remembers of a process between two checks. */
struct seen {
    int pid;
    uint64_t signature;    /* events + parks: unchanged means nothing happened */
    uint64_t stable_since; /* CLOCK_MONOTONIC ns when the signature last changed */
    bool cycle_reported;
    bool fired;
    /* the kernel's view when the verdict was first reached for this signature:
     * the verdict is taken again a window later and acted on only if nothing
     * moved in between */
    struct pw_kview before;
    bool have_before;
    bool suspect_reported; /* "suspected hang" printed for this signature */
    /* halt_on_deadlock: the same, for the threads of a partial cycle */
    struct pw_kview cycle_before;
    uint64_t cycle_sig;
    bool have_cycle_before;
};

/* A trace file of the directory, as the poll loop knows it. */
enum ent_state {
    ENT_NEW,  /* not read yet, or its header was not complete */
    ENT_LIVE, /* a watched process that runs: kept mapped */
    ENT_DONE, /* ended, or never ours: not looked at again */
};

struct entry {
    char *name;
    enum ent_state state;
    unsigned tries;               /* ENT_NEW: looks at an incomplete header */
    int pid;                      /* ENT_LIVE and after */
    struct pw_trace_probe *probe; /* ENT_LIVE */
    struct pw_trace *final;       /* a watched process that ended: its last state */
    bool forget;                  /* its pid is to leave the trust set once gone */
    uint64_t gen;                 /* the change count at the last look */
    uint64_t judged_ns;           /* the last time the model judged it */
    bool due;                     /* changed with a thread parked since it was last judged */
    bool pending;                 /* a verdict under way: judged at every poll */
};

struct watcher {
    const char *dir;
    const struct pw_watch_opts *o;
    struct seen *seen;
    size_t nseen, capseen;
    struct entry *ents;
    size_t nents, capents;
    int inotify; /* the directory's changes; -1: read it at every poll */
    bool scanned;
    /* the processes watched: the root and its descendants as they show up
     * (fork children write their own trace), each pinned by a pidfd */
    struct pw_trust trust;
};

/* A trace of a process that is not the root or its descendant (another
 * program's in a shared directory, or a forged one) is never judged; a file of
 * another user is not even read (probe.h, pw_trust_open). */
static bool relevant(struct watcher *w, const struct pw_trace_id *h)
{
    if (pw_trust_known(&w->trust, h->pid))
        return true;
    return h->end == PW_END_RUNNING && pw_trust_admit(&w->trust, h->pid);
}

static struct seen *seen_of(struct watcher *w, int pid)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].pid == pid)
            return &w->seen[i];
    if (w->nseen == w->capseen) {
        size_t cap = w->capseen ? 2 * w->capseen : 16;
        struct seen *nv = realloc(w->seen, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        w->seen = nv;
        w->capseen = cap;
    }
    struct seen *s = &w->seen[w->nseen++];
    memset(s, 0, sizeof(*s));
    s->pid = pid;
    return s;
}

static uint64_t signature(const struct pw_process *p)
{
    uint64_t sig = pw_trace_total_events(p->trace);
    for (size_t i = 0; i < p->nthreads; i++)
        sig = sig * 31 + p->threads[i].parks +
              (p->threads[i].status == PW_THR_EXITED ? PW_TS_EXITED : PW_TS_ALIVE);
    return sig;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Marks the trace as ended by the watchdog: `run` and `report` then know the
 * parks were cut short by us, not by the program. */
static void mark_deadlock_abort(const struct pw_process *p)
{
    uint64_t end_ns = now_ns();
    end_ns = end_ns > p->start_mono_ns ? end_ns - p->start_mono_ns : 0;
    const char *path = pw_trace_path(p->trace);
    if (pw_trace_mark_end(path, PW_END_DEADLOCK_ABORT, SIGABRT, end_ns, false) < 0)
        pw_warn("%s: cannot mark the trace: %s", path, strerror(errno));
}

/* Signals through the pidfd taken when the process was admitted: a pid reused
 * since can never be hit. */
static void terminate(const struct watcher *w, int pid)
{
    int pidfd = pw_trust_pidfd(&w->trust, pid);
    if (pw_trust_signal(&w->trust, pid, SIGABRT) < 0)
        return; /* gone already */
    /* a handler may catch SIGABRT and park again: insist after a grace period.
     * The pidfd turns readable when the process ends, a zombie included. */
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    for (int i = 0; i < 40; i++)
        if (poll(&pfd, 1, 50) > 0)
            return;
    pw_trust_signal(&w->trust, pid, SIGKILL);
}

static void notice(const struct pw_finding *f, const char *what)
{
    fprintf(stderr, "parkwatch: %s in pid %d: %s\n", what, f->proc->pid,
            f->message ? f->message : pw_finding_kind_name(f->kind));
    if (f->chain_text)
        fprintf(stderr, "parkwatch:   %s\n", f->chain_text);
    for (size_t i = 0; i < f->nthreads && i < 16; i++) {
        const struct pw_thread *t = f->threads[i].t;
        fprintf(stderr, "parkwatch:   %s (tid %d) parked in %s on %s\n", t->name, t->tid,
                pw_park_op_name(t->op), t->waits_on ? t->waits_on->id : "?");
    }
}

static void forget_view(struct pw_kview *v, bool *have)
{
    if (*have)
        pw_kview_free(v);
    *have = false;
}

/* Reads the kernel's view of P into V as the first of the two readings of a
 * verdict; false if there was none yet (the verdict waits a window). */
static bool first_view(const struct pw_process *p, struct pw_kview *v, bool *have)
{
    if (*have)
        return true;
    *have = pw_kview_take(p->pid, v) == 0;
    return false;
}

static void stop(const struct watcher *w, const struct pw_process *p, const char *why)
{
    fprintf(stderr, "parkwatch: terminating pid %d (%s)\n", p->pid, why);
    pw_stack_save_before_stop(p->pid, pw_trace_path(p->trace));
    mark_deadlock_abort(p);
    terminate(w, p->pid);
}

/* The second reading, a window after the first: NULL when the kernel agrees
 * with the model about THREADS (all of P's when ALL), else why not (in WHY).
 * The second reading becomes the first of the next verdict, so every window
 * is compared with the one before. */
static const char *second_view(const struct watcher *w, const struct pw_process *p,
                               struct pw_thread *const *threads, size_t n, bool all,
                               struct pw_kview *before, char *why, size_t len)
{
    struct pw_kview now;
    const char *r;
    if (now_ns() - before->taken_ns < (uint64_t)w->o->interval_ms * 1000000u)
        return ""; /* not a whole window yet: wait, say nothing */
    if (pw_kview_take(p->pid, &now) < 0) {
        pw_kview_free(&now);
        snprintf(why, len, "/proc/%d could not be read", p->pid);
        return why;
    }
    r = pw_kcheck(p, threads, n, all, before, &now, why, len);
    pw_kview_free(before);
    *before = now;
    return r;
}

static void thread_list(const struct pw_finding *f, struct pw_thread **out, size_t *n, size_t max)
{
    *n = 0;
    for (size_t i = 0; i < f->nthreads && *n < max; i++)
        out[(*n)++] = f->threads[i].t;
}

static void all_threads(const struct pw_process *p, struct pw_thread **out, size_t *n, size_t max)
{
    *n = 0;
    for (size_t i = 0; i < p->nthreads && *n < max; i++)
        if (p->threads[i].status == PW_THR_PARKED)
            out[(*n)++] = &p->threads[i];
}

#define MAX_VERDICT_THREADS 4096

/* Every thread parked: the model's verdict, quiet for a whole interval (a
 * thread about to post would have changed the signature), then the kernel's,
 * twice a window apart.  Uncertain: a "suspected hang" notice, once per
 * signature, and the program runs on. */
static void judge_all_blocked(struct watcher *w, struct seen *s, struct pw_process *p,
                              struct pw_finding *f, bool quiet)
{
    if (!first_view(p, &s->before, &s->have_before) || !quiet)
        return;
    static struct pw_thread *threads[MAX_VERDICT_THREADS];
    size_t n;
    all_threads(p, threads, &n, MAX_VERDICT_THREADS);
    char why[512];
    const char *r = second_view(w, p, threads, n, true, &s->before, why, sizeof(why));
    if (r && !*r)
        return;
    if (r) {
        if (!s->suspect_reported) {
            s->suspect_reported = true;
            notice(f, "suspected hang");
            fprintf(stderr,
                    "parkwatch:   not stopped, the verdict is uncertain: %s\n"
                    "parkwatch:   (the program runs on; `parkwatch run --timeout` bounds it)\n",
                    r);
        }
        return;
    }
    s->fired = true;
    notice(f, "all threads are blocked forever");
    if (w->o->action == PW_ON_DEADLOCK_ABORT)
        stop(w, p, "on_deadlock=abort");
}

static uint64_t cycle_signature(const struct pw_finding *f)
{
    uint64_t sig = 0;
    for (size_t i = 0; i < f->nthreads; i++)
        sig = sig * 31 + f->threads[i].t->serial * 7 + f->threads[i].t->parks;
    return sig;
}

/* halt_on_deadlock=1: a wait-for cycle among some threads stops the program
 * too, once its threads stayed put for a window and the kernel agrees about
 * them (other threads may run). */
static void judge_cycle(struct watcher *w, struct seen *s, struct pw_process *p,
                        struct pw_finding *f)
{
    uint64_t sig = cycle_signature(f);
    if (sig != s->cycle_sig) {
        s->cycle_sig = sig;
        forget_view(&s->cycle_before, &s->have_cycle_before);
    }
    if (!first_view(p, &s->cycle_before, &s->have_cycle_before))
        return;
    static struct pw_thread *threads[MAX_VERDICT_THREADS];
    size_t n;
    thread_list(f, threads, &n, MAX_VERDICT_THREADS);
    char why[512];
    const char *r = second_view(w, p, threads, n, false, &s->cycle_before, why, sizeof(why));
    if (r && !*r)
        return;
    if (r) {
        if (!s->suspect_reported) {
            s->suspect_reported = true;
            fprintf(stderr, "parkwatch: deadlock in pid %d not stopped: %s\n", p->pid, r);
        }
        return;
    }
    s->fired = true;
    stop(w, p, "halt_on_deadlock=1");
}

static void judge(struct watcher *w, struct pw_process *p, struct pw_findings *fs)
{
    struct seen *s = seen_of(w, p->pid);
    if (!s || s->fired || p->end != PW_END_RUNNING)
        return;
    uint64_t sig = signature(p), now = now_ns();
    if (sig != s->signature || !s->stable_since) {
        s->signature = sig;
        s->stable_since = now;
        s->suspect_reported = false;
        forget_view(&s->before, &s->have_before);
    }
    bool quiet = now - s->stable_since >= (uint64_t)w->o->interval_ms * 1000000u;
    for (size_t i = 0; i < fs->n; i++) {
        struct pw_finding *f = fs->v[i];
        if (f->proc != p)
            continue;
        if (f->kind == PW_FK_DEADLOCK) {
            if (!s->cycle_reported) {
                s->cycle_reported = true;
                notice(f, "deadlock");
            }
            if (w->o->halt_on_deadlock)
                judge_cycle(w, s, p, f);
        }
        if (f->kind == PW_FK_ALL_BLOCKED)
            judge_all_blocked(w, s, p, f, quiet);
        if (s->fired)
            return;
    }
}

/* Whether P's verdict is under way after judge(): a finding the watcher acts
 * on after a quiet window and the kernel's second reading, so P must be judged
 * at every poll until it is settled, whatever its change count says. */
static bool verdict_pending(struct watcher *w, const struct pw_process *p,
                            const struct pw_findings *fs)
{
    struct seen *s = seen_of(w, p->pid);
    if (!s || s->fired)
        return false;
    for (size_t i = 0; i < fs->n; i++) {
        const struct pw_finding *f = fs->v[i];
        if (f->proc == p &&
            (f->kind == PW_FK_ALL_BLOCKED || (f->kind == PW_FK_DEADLOCK && w->o->halt_on_deadlock)))
            return true;
    }
    return false;
}

static int load_quiet(const struct watcher *w, const char *dir, struct pw_trace ***out, size_t *n);

/* ---- dump_signal: the live report on demand */

int pw_dump_signal_parse(const char *s)
{
    if (!s || !*s)
        return 0;
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    int sig = -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (end != s && !*end) {
        sig = v > 0 && v < NSIG ? (int)v : -1;
    } else {
        for (int i = 1; i < NSIG && sig < 0; i++) {
            const char *name = sigabbrev_np(i);
            if (name && strcmp(name, s) == 0)
                sig = i;
        }
    }
    switch (sig) {
    case SIGQUIT: /* the program's own: Ctrl-\ reaches it, run forwards it */
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGCHLD: /* run waits for its child with it */
        return -1;
    default:
        return sig;
    }
}

static volatile sig_atomic_t dump_requested;

static void on_dump_signal(int sig)
{
    (void)sig;
    dump_requested = 1;
}

/* No SA_RESTART: the watcher's poll or waitpid returns at once with EINTR. */
static void install_dump_signal(const struct pw_watch_opts *o)
{
    if (o->dump_signal <= 0)
        return;
    struct sigaction sa = {.sa_handler = on_dump_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(o->dump_signal, &sa, NULL);
}

/* The live report of the watched processes, on stderr where the notices go;
 * it changes nothing (no exit status, no action on the process). */
static void dump_live(struct watcher *w)
{
    dump_requested = 0;
    struct pw_trace **traces = NULL;
    size_t n = 0, keep = 0;
    if (load_quiet(w, w->dir, &traces, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct pw_trace_id id;
        pw_trace_id_of(traces[i], &id);
        if (relevant(w, &id))
            traces[keep++] = traces[i];
        else
            pw_trace_close(traces[i]);
    }
    n = keep;
    struct pw_report_opts ro = {.format = PW_FMT_TEXT,
                                .to_stderr = 1,
                                .exitcode = 0,
                                .trace_dir = w->dir};
    fprintf(stderr, "parkwatch: live report (dump_signal)\n");
    if (n)
        pw_analyze_and_report(traces, n, &ro);
    else
        fprintf(stderr, "parkwatch: no trace to report on yet in %s\n", w->dir);
    pw_free_traces(traces, n);
}

void pw_watch_opts_default(struct pw_watch_opts *o)
{
    const struct pw_opt_desc *ms = &pw_opt_descs[PW_OPTKEY_watchdog_ms];
    int a = pw_on_deadlock_parse(pw_opt_descs[PW_OPTKEY_on_deadlock].def_str);
    *o = (struct pw_watch_opts){.interval_ms = (unsigned)ms->def_uint,
                                .action = a < 0 ? PW_ON_DEADLOCK_ABORT : (enum pw_on_deadlock)a};
}

unsigned pw_watch_interval_max(void)
{
    return (unsigned)pw_opt_descs[PW_OPTKEY_watchdog_ms].hi;
}

/* Loads the traces in DIR without a word about those that cannot be read yet: a
 * trace being created is all zeros for a moment. */
static int load_quiet(const struct watcher *w, const char *dir, struct pw_trace ***out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!pw_trace_file_name_matches(de->d_name))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct pw_trace *t = NULL;
        int fd = pw_trust_open(&w->trust, path, O_RDONLY);
        if (fd < 0)
            continue;
        enum pw_read_status rs = pw_trace_open_fd(fd, path, &t, NULL, 0);
        close(fd);
        if (rs == PW_READ_ERROR || !t)
            continue;
        struct pw_trace **nv = realloc(*out, (*n + 1) * sizeof(*nv));
        if (!nv) {
            pw_trace_close(t);
            break;
        }
        nv[(*n)++] = t;
        *out = nv;
    }
    closedir(d);
    return 0;
}

/* ---- the poll loop's view of the directory */

static void watcher_init(struct watcher *w, const char *dir, const struct pw_watch_opts *o)
{
    *w = (struct watcher){.dir = dir, .o = o};
    w->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->inotify >= 0 &&
        inotify_add_watch(w->inotify, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        close(w->inotify);
        w->inotify = -1;
    }
}

static void watcher_fini(struct watcher *w)
{
    for (size_t i = 0; i < w->nseen; i++) {
        forget_view(&w->seen[i].before, &w->seen[i].have_before);
        forget_view(&w->seen[i].cycle_before, &w->seen[i].have_cycle_before);
    }
    free(w->seen);
    for (size_t i = 0; i < w->nents; i++) {
        pw_probe_close(w->ents[i].probe);
        if (w->ents[i].final)
            pw_trace_close(w->ents[i].final);
        free(w->ents[i].name);
    }
    free(w->ents);
    if (w->inotify >= 0)
        close(w->inotify);
    pw_trust_fini(&w->trust);
}

/* True if files may have appeared since the last scan (drains the events). */
static bool dir_changed(struct watcher *w)
{
    if (!w->scanned || w->inotify < 0)
        return true;
    bool any = false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(w->inotify, buf, sizeof(buf)) > 0)
        any = true;
    return any;
}

static void add_entry(struct watcher *w, const char *name)
{
    for (size_t i = 0; i < w->nents; i++)
        if (strcmp(w->ents[i].name, name) == 0)
            return;
    if (w->nents == w->capents) {
        size_t cap = w->capents ? 2 * w->capents : 64;
        struct entry *nv = realloc(w->ents, cap * sizeof(*nv));
        if (!nv)
            return;
        w->ents = nv;
        w->capents = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return;
    w->ents[w->nents++] = (struct entry){.name = copy, .state = ENT_NEW};
}

static void scan_dir(struct watcher *w)
{
    DIR *d = opendir(w->dir);
    if (!d)
        return; /* not there yet: scanned again at the next poll */
    w->scanned = true;
    struct dirent *de;
    while ((de = readdir(d)))
        if (pw_trace_file_name_matches(de->d_name))
            add_entry(w, de->d_name);
    closedir(d);
}

static int open_entry(const struct watcher *w, const struct entry *e)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", w->dir, e->name) >= (int)sizeof(path))
        return -1;
    return pw_trust_open(&w->trust, path, O_RDONLY);
}

/* A trace that cannot be read now, loaded quietly; NULL if it cannot. */
static struct pw_trace *load_entry(const struct watcher *w, const struct entry *e)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", w->dir, e->name);
    int fd = open_entry(w, e);
    if (fd < 0)
        return NULL;
    struct pw_trace *t = NULL;
    enum pw_read_status rs = pw_trace_open_fd(fd, path, &t, NULL, 0);
    close(fd);
    if (rs == PW_READ_ERROR) {
        pw_trace_close(t);
        return NULL;
    }
    return t;
}

/* A header being written is all zeros for a moment: looked at again for this
 * many polls, then left alone (a file that never becomes a trace). */
#define NEW_TRIES 64

static void retire_entry(struct watcher *w, struct entry *e);

/* The set of processes we may signal is full: a process that ended without a
 * word in its trace (_exit, SIGKILL) still holds its place there.  The kernel
 * says which ended (their pidfds); their traces are final. */
static void sweep_ended(struct watcher *w)
{
    for (size_t i = 0; i < w->nents; i++) {
        struct entry *e = &w->ents[i];
        if (e->state == ENT_LIVE && pw_trust_forget_ended(&w->trust, e->pid)) {
            retire_entry(w, e);
            e->forget = false;
        }
    }
}

/* A new file: watched if it is a trace of a process of ours that runs (the
 * same rule as before, relevant()); anything else is never looked at again. */
static void admit_entry(struct watcher *w, struct entry *e)
{
    int fd = open_entry(w, e);
    if (fd < 0) {
        e->state = ENT_DONE;
        return;
    }
    struct pw_trace_probe *p = pw_probe_open(fd);
    close(fd);
    if (!p) {
        if (++e->tries >= NEW_TRIES)
            e->state = ENT_DONE;
        return;
    }
    struct pw_trace_id id;
    pw_probe_id(p, &id);
    if (id.end == PW_END_RUNNING && pw_trust_full(&w->trust) && !pw_trust_known(&w->trust, id.pid))
        sweep_ended(w);
    if (id.end != PW_END_RUNNING || !relevant(w, &id)) {
        /* an image that ended before we saw it running is not judged, as a
         * process that was never admitted */
        pw_probe_close(p);
        e->state = ENT_DONE;
        return;
    }
    e->state = ENT_LIVE;
    e->pid = id.pid;
    e->probe = p;
    e->gen = UINT64_MAX; /* the first look is a change */
}

/* The process ended: its trace is final, read once and kept for the model
 * (its channels and children still explain the live processes' waits). */
static void retire_entry(struct watcher *w, struct entry *e)
{
    struct pw_trace_id id;
    pw_probe_id(e->probe, &id);
    pw_probe_close(e->probe);
    e->probe = NULL;
    e->state = ENT_DONE;
    e->final = load_entry(w, e);
    /* an exec: the same process runs on in its next image */
    e->forget = id.end != PW_END_EXEC;
}

/* Looks at every live process once (the poll loop's only per-process cost
 * while nothing changes); true if the model must judge some of them now. */
static bool look_all(struct watcher *w, uint64_t now)
{
    uint64_t interval = (uint64_t)w->o->interval_ms * 1000000u;
    bool judge_now = false;
    for (size_t i = 0; i < w->nents; i++) {
        struct entry *e = &w->ents[i];
        if (e->state == ENT_NEW)
            admit_entry(w, e);
        if (e->forget && pw_trust_forget_ended(&w->trust, e->pid))
            e->forget = false;
        if (e->state != ENT_LIVE)
            continue;
        switch (pw_probe_look(e->probe, &e->gen)) {
        case PW_LOOK_ENDED:
            retire_entry(w, e);
            continue;
        case PW_LOOK_SAME:
            break;
        case PW_LOOK_IDLE:
            e->due = e->pending = false; /* nothing parked: nothing to judge */
            break;
        case PW_LOOK_PARKED:
            e->due = true;
            break;
        }
        /* a busy process (parks come and go) is judged once per interval at
         * most: a verdict needs a quiet interval anyway */
        if (e->pending || (e->due && now - e->judged_ns >= interval))
            judge_now = true;
    }
    return judge_now;
}

/* Builds the model of the watched processes (the live ones read now, the
 * ended ones as they ended) and judges it. */
static void judge_all(struct watcher *w, uint64_t now)
{
    size_t cap = w->nents ? w->nents : 1, n = 0;
    struct pw_trace **traces = calloc(cap, sizeof(*traces));
    struct entry **owner = calloc(cap, sizeof(*owner));
    if (!traces || !owner)
        goto out;
    bool live = false;
    for (size_t i = 0; i < w->nents; i++) {
        struct entry *e = &w->ents[i];
        if (e->state == ENT_DONE && e->final) {
            traces[n++] = e->final;
        } else if (e->state == ENT_LIVE && (traces[n] = load_entry(w, e))) {
            owner[n++] = e;
            live = true;
        }
    }
    if (!live)
        goto out;
    struct pw_model *m = pw_model_build(traces, n);
    if (!m)
        goto out;
    for (size_t i = 0; i < m->nprocs; i++)
        if (!m->procs[i].finished)
            pw_kcheck_private(&m->procs[i]); /* futex words only this process can wake */
    struct pw_findings fs = {0};
    pw_detect_all(m, &fs);
    /* the model keeps the order of the traces given */
    for (size_t i = 0; i < m->nprocs && i < n; i++) {
        if (!owner[i])
            continue;
        judge(w, &m->procs[i], &fs);
        owner[i]->judged_ns = now;
        owner[i]->due = false;
        owner[i]->pending = verdict_pending(w, &m->procs[i], &fs);
    }
    pw_findings_free(&fs);
    pw_model_free(m);
out:
    for (size_t i = 0; traces && i < n; i++)
        if (owner[i])
            pw_trace_close(traces[i]);
    free(traces);
    free(owner);
}

static void check_once(struct watcher *w)
{
    if (dir_changed(w))
        scan_dir(w);
    uint64_t now = now_ns();
    if (look_all(w, now))
        judge_all(w, now);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Checks come four times per interval, so a hang is acted on within about 1.25
 * intervals of its start rather than two. */
static unsigned poll_ms(const struct pw_watch_opts *o)
{
    return o->interval_ms >= 4 ? o->interval_ms / 4 : 1;
}

/* Sleeps up to MS, waking early when the process behind PIDFD ends; true if
 * it has ended. */
static bool wait_interval(int pidfd, unsigned ms)
{
    if (pidfd < 0) {
        sleep_ms(ms);
        return false;
    }
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int r;
    while ((r = poll(&pfd, 1, (int)ms)) < 0 && errno == EINTR)
        ;
    return r > 0;
}

/* run --timeout: the bound on a program that hangs in a way the watcher
 * cannot be sure of (a suspected hang), so that CI never waits forever. */
static bool timed_out(const struct watcher *w, uint64_t start, pid_t pid, bool *done)
{
    const struct pw_watch_opts *o = w->o;
    if (!o->timeout_s || *done || now_ns() - start < (uint64_t)o->timeout_s * 1000000000ull)
        return false;
    *done = true;
    fprintf(stderr, "parkwatch: timeout: pid %d still runs after %u s; terminating it\n", (int)pid,
            o->timeout_s);
    pw_stack_save_before_stop(pid, NULL);
    terminate(w, pid);
    return true;
}

int pw_watch_wait(pid_t pid, const char *dir, const struct pw_watch_opts *o, int *status)
{
    struct watcher w;
    watcher_init(&w, dir, o);
    /* our unreaped child: its pid cannot be reused before waitpid below */
    pw_trust_init(&w.trust, pid, -1);
    int pidfd = pw_trust_pidfd(&w.trust, pid);
    int rc = 0;
    uint64_t start = now_ns();
    bool timeout_done = false;
    bool watching = o->action != PW_ON_DEADLOCK_OFF;
    install_dump_signal(o);
    for (;;) {
        pid_t r = waitpid(pid, status, watching || o->timeout_s ? WNOHANG : 0);
        if (r == pid)
            break;
        if (dump_requested)
            dump_live(&w);
        if (r < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        /* an ended process is reaped above, not judged: the report follows */
        if (r == 0 && !wait_interval(pidfd, watching ? poll_ms(o) : 250) &&
            !timed_out(&w, start, pid, &timeout_done) && watching)
            check_once(&w);
    }
    int err = errno;
    watcher_fini(&w);
    errno = err;
    return rc;
}

int pw_watch_pid(pid_t pid, int pidfd, const char *dir, const struct pw_watch_opts *o)
{
    struct watcher w;
    watcher_init(&w, dir, o);
    if (pw_trust_init(&w.trust, pid, pidfd) < 0) {
        watcher_fini(&w);
        return 0; /* nothing could be acted on safely (said why) */
    }
    /* not our child: the pidfd still tells us at once when it ends */
    pidfd = pw_trust_pidfd(&w.trust, pid);
    install_dump_signal(o);
    while (pw_trust_any_alive(&w.trust)) {
        if (dump_requested)
            dump_live(&w);
        /* ended (maybe a zombie nobody reaped yet): stop waiting on it, or the
         * readable pidfd would spin */
        if (pidfd >= 0 && wait_interval(pidfd, poll_ms(o)))
            pidfd = -1;
        else if (pidfd < 0)
            sleep_ms(poll_ms(o));
        check_once(&w);
    }
    watcher_fini(&w);
    return 0;
}
