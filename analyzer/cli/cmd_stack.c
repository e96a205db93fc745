/* `parkwatch stack [--save FILE [--skip TID]] PID`: the goroutine dump of C.
 *
 * Every thread of a running process, grouped by identical stack, with its
 * name, the kernel's state, the system call it is blocked in and that call's
 * fd.  The stacks come from outside (symbols/attach.c: ptrace seize, interrupt,
 * unwind with libdwfl, detach), so it works on any process we may ptrace, with
 * or without the shim.  With the shim, the process's live trace (found through
 * its mappings or its PARKWATCH_OPTIONS) adds to each park its object, the
 * lock's owner and the blocked chain.
 *
 * --save writes the raw snapshot as a tasks file (model/ktasks.h) instead:
 * the shim runs that at exit, so the report can say what every thread left
 * alive was blocked in. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "finding.h"
#include "frames.h"
#include "ktasks.h"
#include "model.h"
#include "reader.h"
#include "symbolize.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: parkwatch stack [--save FILE [--skip TID]] PID\n"
               "  print every thread of running process PID, grouped by identical stack, with\n"
               "  its name, state, and the system call and fd it is blocked in; with the shim\n"
               "  loaded, each park is annotated with its object, owner and blocked chain.\n"
               "  Needs permission to ptrace PID; the threads are stopped only while their\n"
               "  stacks are read.\n"
               "  --save FILE  write the snapshot as a tasks file instead (what the shim does\n"
               "               at exit, next to its trace); --skip TID leaves that thread alone;\n"
               "               --quiet says nothing on failure (the exit status still does)\n");
}

/* ---- finding the trace of a running process */

static bool trace_in_maps(int pid, char *out, size_t len)
{
    char path[64], line[4096 + 128];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    bool found = false;
    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        char *p = strchr(line, '/');
        if (!p)
            continue;
        p[strcspn(p, "\n")] = '\0';
        const char *base = strrchr(p, '/') + 1;
        if (!pw_trace_file_name_matches(base))
            continue; /* includes "... (deleted)": a removed trace is no use */
        snprintf(out, len, "%s", p);
        found = true; /* the last one: after an exec, the newest image's trace */
    }
    fclose(f);
    return found;
}

/* trace_dir from PARKWATCH_OPTIONS in the environment the process started
 * with (the last occurrence wins, as in the shim) */
static bool trace_in_environ(int pid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    ssize_t r;
    while (buf && n < cap && (r = read(fd, buf + n, cap - n)) > 0)
        n += (size_t)r;
    close(fd);
    if (!buf)
        return false;
    buf[n] = '\0';
    static const char key[] = "PARKWATCH_OPTIONS=";
    char dir[PATH_MAX] = ".";
    bool set = false;
    for (char *e = buf; e < buf + n; e += strlen(e) + 1) {
        if (strncmp(e, key, sizeof(key) - 1) != 0)
            continue;
        for (char *kv = e + sizeof(key) - 1; *kv;) {
            size_t l = strcspn(kv, ":");
            if (l > 10 && strncmp(kv, "trace_dir=", 10) == 0) {
                snprintf(dir, sizeof(dir), "%.*s", (int)(l - 10), kv + 10);
                set = true;
            }
            kv += l + (kv[l] == ':');
        }
    }
    free(buf);
    if (!set || dir[0] != '/') {
        /* relative to the process's working directory */
        char cwd[PATH_MAX], link[64];
        snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
        ssize_t k = readlink(link, cwd, sizeof(cwd) - 1);
        if (k < 0)
            return false;
        cwd[k] = '\0';
        char tmp[PATH_MAX];
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", cwd, dir) >= sizeof(tmp))
            return false;
        memcpy(dir, tmp, sizeof(dir));
    }
    snprintf(out, len, "%s/" PW_TRACE_FILE_PREFIX "%d" PW_TRACE_FILE_SUFFIX, dir, pid);
    return access(out, R_OK) == 0;
}

int pw_trace_of_pid(int pid, char *out, size_t len)
{
    return trace_in_maps(pid, out, len) || trace_in_environ(pid, out, len) ? 0 : -1;
}

/* The watcher is about to stop PID: its threads' system calls, fds and stacks
 * are saved as the tasks file next to TRACE_PATH (NULL: found as `stack`
 * finds it), as the shim's own exit does, so the report of a stopped process
 * accounts for the threads the trace cannot (a read on a FIFO, a sleep) as it
 * does at a normal exit.  The threads are stopped only while each is unwound
 * and go back into their calls; the stop follows at once.  A failure costs only
 * the snapshot (the threads then read "unknown", with the reason). */
static int save_tasks(int pid, struct pw_live *l, const char *path);

int pw_stack_save_before_stop(int pid, const char *trace_path)
{
    char trace[4096], path[4096], err[256];
    if (!trace_path && pw_trace_of_pid(pid, trace, sizeof(trace)) == 0)
        trace_path = trace;
    if (!trace_path || !pw_ktasks_path(trace_path, path, sizeof(path)))
        return -1;
    struct pw_live l;
    if (pw_live_capture(pid, true, 0, &l, err, sizeof(err)) < 0) {
        pw_warn("no thread snapshot of pid %d before stopping it: %s", pid, err);
        return -1;
    }
    int rc = save_tasks(pid, &l, path);
    if (rc < 0 && errno != EEXIST) /* the process's own exit wrote one first */
        pw_warn("%s: %s", path, strerror(errno));
    pw_live_free(&l);
    return rc;
}

/* ---- the shim's view: the live trace's model */

struct shimview {
    struct pw_trace **traces;
    size_t ntraces;
    struct pw_model *m;
    struct pw_process *p;
    struct pw_findings fs; /* scratch findings for the chains */
};

static void shimview_load(int pid, const struct pw_ktasks *now, struct shimview *v)
{
    char path[4096];
    memset(v, 0, sizeof(*v));
    if (pw_trace_of_pid(pid, path, sizeof(path)) < 0)
        return;
    struct pw_trace *t = NULL;
    if (pw_trace_open(path, &t, NULL, 0) == PW_READ_ERROR || !t)
        return;
    v->traces = malloc(sizeof(*v->traces));
    if (!v->traces) {
        pw_trace_close(t);
        return;
    }
    v->traces[0] = t;
    v->ntraces = 1;
    v->m = pw_model_build(v->traces, 1);
    if (v->m && v->m->nprocs == 1 && v->m->procs[0].pid == pid)
        v->p = &v->m->procs[0];
    /* the model's view of the threads it does not see parked is the kernel's
     * one we just took (chains then say what the root is blocked in) */
    struct pw_ktasks copy = {.pid = now->pid, .n = now->n, .v = malloc(now->n * sizeof(*now->v))};
    if (v->p && copy.v) {
        memcpy(copy.v, now->v, now->n * sizeof(*now->v));
        pw_model_set_ktasks(v->p, &copy);
    }
    pw_ktasks_free(&copy);
}

static void shimview_free(struct shimview *v)
{
    pw_findings_free(&v->fs);
    pw_model_free(v->m);
    pw_free_traces(v->traces, v->ntraces);
}

/* Saves L, PID's snapshot, as tasks file PATH, with PID's private anonymous
 * mappings (they die with the process; the report after it needs them to
 * tell which futex waits only this process could end).  Read after the
 * threads were seen, so every word a thread waited on then is mapped. */
static int save_tasks(int pid, struct pw_live *l, const char *path)
{
    l->tasks.npriv = pw_kcheck_private_ranges(pid, &l->tasks.priv);
    return pw_ktasks_save(path, &l->tasks);
}

static struct pw_thread *shim_thread(struct shimview *v, int tid)
{
    for (size_t i = 0; v->p && i < v->p->nthreads; i++)
        if (v->p->threads[i].tid == tid && v->p->threads[i].status != PW_THR_EXITED)
            return &v->p->threads[i];
    return NULL;
}

/* "; parked in mutex-lock on mutex#1 (held by worker (tid 12)) for 300 ms;
 * chain: ..." */
static void print_park(FILE *f, struct shimview *v, struct pw_thread *t)
{
    if (!t) {
        if (v->p)
            fputs("; not seen by the shim", f);
        return;
    }
    if (t->status != PW_THR_PARKED || !t->waits_on) {
        fputs("; not parked on an object the shim knows", f);
        return;
    }
    fprintf(f, "; parked in %s on %s", pw_park_op_name(t->op), t->waits_on->id);
    struct pw_thread *own[4];
    size_t n = pw_model_holders(v->p, t->waits_on, own, 4);
    for (size_t i = 0; i < n && i < 4; i++)
        fprintf(f, "%s%s (tid %d)", i ? ", " : " (held by ", own[i]->name, own[i]->tid);
    if (n)
        fputc(')', f);
    fprintf(f, " for %llu ms", (unsigned long long)t->since_ms);
    struct pw_finding *fd = pw_finding_new(&v->fs, PW_FK_THREAD_LEAK, v->p);
    if (fd) {
        pw_chain_build(fd, t);
        if (fd->chain_text)
            fprintf(f, "\n      chain: %s", fd->chain_text);
    }
}

/* ---- printing */

static bool same_stack(const struct pw_ktask *a, const struct pw_ktask *b)
{
    return a->npcs == b->npcs && a->npcs > 0 &&
           memcmp(a->pcs, b->pcs, a->npcs * sizeof(a->pcs[0])) == 0;
}

static void print_frames(FILE *f, struct pw_symbolizer *s, const struct pw_frames *fr,
                         const struct pw_ktask *k)
{
    if (!k->npcs) {
        fprintf(f, "      (stack not available: %s)\n",
                k->why_no_stack[0] ? k->why_no_stack : "unknown reason");
        return;
    }
    struct pw_frame *v = NULL;
    size_t n = s ? pw_sym_stack(s, k->pcs, k->npcs, &v) : 0;
    n = pw_frames_tidy(fr, v, n);
    char buf[1024];
    for (size_t i = 0; i < n; i++)
        fprintf(f, "      #%zu %s%s\n", i, pw_frame_format(&v[i], buf, sizeof(buf)),
                v[i].inlined ? " [inlined]" : "");
    if (!n)
        for (unsigned i = 0; i < k->npcs; i++)
            fprintf(f, "      #%u 0x%llx\n", i, (unsigned long long)k->pcs[i]);
    free(v);
}

static void print_task(FILE *f, struct shimview *v, const struct pw_ktask *k)
{
    char buf[256];
    fprintf(f, "  %s (tid %d) %s", k->name[0] ? k->name : "?", k->tid,
            pw_task_state_name(k->state));
    if (pw_ktask_blocked_in(k, buf, sizeof(buf)))
        fprintf(f, " in %s", buf);
    struct pw_thread *t = shim_thread(v, k->tid);
    if (t && strcmp(t->name, k->name) != 0)
        fprintf(f, " [%s]", t->name);
    print_park(f, v, t);
    fputc('\n', f);
}

static int print_dump(FILE *f, int pid, const struct pw_live *l)
{
    struct shimview v;
    shimview_load(pid, &l->tasks, &v);
    struct pw_symbolizer *s = pw_sym_new_modules(l->mods, l->nmods);
    struct pw_frames *fr = pw_frames_new();
    size_t n = l->tasks.n, groups = 0;
    bool *done = calloc(n ? n : 1, sizeof(bool));
    if (!done || !fr) {
        free(done);
        pw_frames_free(fr);
        pw_sym_free(s);
        shimview_free(&v);
        pw_err("stack: out of memory");
        return PW_EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        groups++;
        for (size_t j = i + 1; j < n; j++)
            if (!done[j] && same_stack(&l->tasks.v[i], &l->tasks.v[j]))
                done[j] = true;
    }
    memset(done, 0, n * sizeof(bool));
    fprintf(f, "parkwatch: pid %d (%s): %zu thread%s, %zu distinct stack%s%s\n", pid, l->comm, n,
            n == 1 ? "" : "s", groups, groups == 1 ? "" : "s",
            v.p ? "; annotated from its trace" : "");
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        size_t count = 0;
        for (size_t j = i; j < n; j++)
            if (j == i || (!done[j] && same_stack(&l->tasks.v[i], &l->tasks.v[j])))
                count++;
        fprintf(f, "\n%zu thread%s with this stack:\n", count, count == 1 ? "" : "s");
        for (size_t j = i; j < n; j++) {
            if (j != i && (done[j] || !same_stack(&l->tasks.v[i], &l->tasks.v[j])))
                continue;
            done[j] = true;
            print_task(f, &v, &l->tasks.v[j]);
        }
        print_frames(f, s, fr, &l->tasks.v[i]);
    }
    free(done);
    pw_frames_free(fr);
    pw_sym_free(s);
    shimview_free(&v);
    return PW_EXIT_OK;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

int pw_cmd_stack(int argc, char **argv)
{
    static const struct option opts[] = {
        {"save", required_argument, NULL, 's'},
        {"skip", required_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *save = NULL;
    int skip = 0, pid = 0, c;
    bool quiet = false; /* the shim's exit snapshot: the host's stderr is not ours */
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            save = optarg;
            break;
        case 'k':
            if (parse_int(optarg, &skip) < 0) {
                pw_err("stack: bad --skip %s", optarg);
                return PW_EXIT_USAGE;
            }
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return PW_EXIT_OK;
        default:
            usage(stderr);
            return PW_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || parse_int(argv[optind], &pid) < 0) {
        if (optind == argc - 1)
            pw_err("stack: bad pid %s", argv[optind]);
        else
            usage(stderr);
        return PW_EXIT_USAGE;
    }
    struct pw_live l;
    char err[256];
    if (pw_live_capture(pid, true, skip, &l, err, sizeof(err)) < 0) {
        if (!quiet)
            pw_err("stack: %s", err);
        return PW_EXIT_USAGE;
    }
    int rc = PW_EXIT_OK;
    if (save) {
        if (save_tasks(pid, &l, save) < 0) {
            if (!quiet)
                pw_err("stack: %s: %s", save, strerror(errno));
            rc = PW_EXIT_USAGE;
        }
    } else {
        rc = print_dump(stdout, pid, &l);
    }
    pw_live_free(&l);
    return rc;
}
