/* `parkwatch threads [OPTIONS] TRACE-FILE|--pid PID [THREAD...]`: threads of
 * one trace as the text report shows them (state, what they are parked in and
 * on, park and creation stacks, symbolized), all alive ones or those named.
 *
 * It is also how parkwatch_verify_none() (preload/api.c) prints the threads a
 * test case leaked: the shim never symbolizes, so at that quiet point it runs
 * this command on its own live trace with the leaked threads' serials and the
 * test's ignore list, and learns from the exit status whether any thread was
 * left after the ignores.  Exit status, as grep's: 0 when a thread was
 * listed, 1 when none was, 2 on a usage error or an unreadable trace. */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "cli.h"
#include "frames.h"
#include "model.h"
#include "reader.h"
#include "report.h"

#define MAX_IGNORE 64

struct topts {
    const char *ignore[MAX_IGNORE]; /* --ignore-top globs */
    size_t nignore;
    const char *header; /* printed first when a thread is listed; "{n}" = how many */
    int pid;
    const char *path;
    uint32_t *serials; /* THREAD operands; none = every thread alive */
    size_t nserials;
};

static int usage(const char *why)
{
    pw_err("threads: %s (try 'parkwatch threads --help')", why);
    return PW_EXIT_USAGE;
}

/* "T3" or "3" -> 3; 0 if it is neither. */
static uint32_t parse_serial(const char *s)
{
    if (s[0] == 'T')
        s++;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    return s[0] >= '0' && s[0] <= '9' && !*end && !errno && v && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static int parse(int argc, char **argv, struct topts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--ignore-top") == 0 && i + 1 < argc) {
            if (o->nignore == MAX_IGNORE)
                return usage("too many --ignore-top");
            o->ignore[o->nignore++] = argv[++i];
        } else if (strcmp(a, "--header") == 0 && i + 1 < argc) {
            o->header = argv[++i];
        } else if (strcmp(a, "--pid") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v <= 0 || v > INT32_MAX)
                return usage("--pid wants a process id");
            o->pid = (int)v;
        } else if (a[0] == '-' && a[1]) {
            pw_err("threads: unknown option or missing value: %s", a);
            return PW_EXIT_USAGE;
        } else if (!o->path && !o->pid) {
            o->path = a;
        } else {
            uint32_t s = parse_serial(a);
            if (!s)
                return usage("a THREAD is T<n> or <n>");
            o->serials[o->nserials++] = s;
        }
    }
    if (!o->path && !o->pid)
        return usage("expected TRACE-FILE or --pid PID");
    return PW_EXIT_OK;
}

/* T is parked with its innermost shown frame in an ignored function. */
static bool ignored(const struct topts *o, struct pw_frames *fr, const struct pw_thread *t)
{
    if (!o->nignore || t->status != PW_THR_PARKED || !t->park_stack)
        return false;
    const struct pw_frame *v;
    size_t n = pw_frames_get(fr, t->proc->trace, t->park_stack, &v);
    if (!n || !v[0].function)
        return false;
    for (size_t i = 0; i < o->nignore; i++)
        if (fnmatch(o->ignore[i], v[0].function, 0) == 0)
            return true;
    return false;
}

static bool wanted(const struct topts *o, const struct pw_thread *t)
{
    if (!o->nserials)
        return t->status != PW_THR_EXITED;
    for (size_t i = 0; i < o->nserials; i++)
        if (o->serials[i] == t->serial)
            return true;
    return false;
}

static void print_header(const char *h, size_t n)
{
    const char *at = strstr(h, "{n}");
    if (at)
        printf("%.*s%zu%s\n", (int)(at - h), h, n, at + 3);
    else
        printf("%s\n", h);
}

/* The chosen threads of the one process of TRACES. */
static int list(const struct topts *o, struct pw_trace **traces, struct pw_live *live)
{
    struct pw_findings fs = {0};
    struct pw_report r = {.traces = traces, .ntraces = 1, .findings = &fs};
    r.model = pw_model_build(traces, 1);
    r.frames = pw_frames_new();
    struct pw_thread **v = NULL;
    int rc = PW_EXIT_USAGE;
    if (!r.model || !r.frames || r.model->nprocs != 1)
        goto out;
    struct pw_process *p = &r.model->procs[0];
    if (live && p->end == PW_END_RUNNING && pw_model_set_ktasks(p, &live->tasks) < 0)
        goto out;
    if (!(v = calloc(p->nthreads ? p->nthreads : 1, sizeof(*v))))
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < p->nthreads; i++)
        if (wanted(o, &p->threads[i]) && !ignored(o, r.frames, &p->threads[i]))
            v[n++] = &p->threads[i];
    /* everything is known before the first line: a failure prints nothing,
     * so that verify_none can fall back to its own lines */
    if (n && o->header)
        print_header(o->header, n);
    if (pw_report_text_threads(stdout, &r, v, n) < 0)
        goto out;
    rc = !n ? PW_EXIT_NONE : fflush(stdout) == 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
out:
    if (rc == PW_EXIT_USAGE)
        pw_err("threads: out of memory or an unreadable trace");
    free(v);
    pw_frames_free(r.frames);
    pw_model_free(r.model);
    return rc;
}

int pw_cmd_threads(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        pw_print_usage(stdout, "threads");
        return PW_EXIT_OK;
    }
    struct topts o = {.serials = calloc((size_t)argc, sizeof(uint32_t))};
    if (!o.serials) {
        pw_err("out of memory");
        return PW_EXIT_USAGE;
    }
    int rc = parse(argc, argv, &o);
    char path[4096];
    struct pw_trace **traces = NULL;
    size_t n = 0;
    struct pw_live live = {0};
    bool have_live = false;
    if (rc != PW_EXIT_OK)
        goto out;
    rc = PW_EXIT_USAGE;
    if (o.pid) {
        if (kill(o.pid, 0) < 0 && errno == ESRCH) {
            pw_err("threads: no process with pid %d", o.pid);
            goto out;
        }
        if (pw_trace_of_pid(o.pid, path, sizeof(path)) < 0) {
            pw_err("threads: pid %d: no parkwatch trace found (is the shim loaded? is it yours?)",
                   o.pid);
            goto out;
        }
        o.path = path;
        /* each thread's state and blocked call from /proc; no stacks: the
         * process is not stopped (parkwatch stack does that) */
        char err[256];
        have_live = pw_live_capture(o.pid, false, 0, &live, err, sizeof(err)) == 0;
    }
    if (pw_load_one(o.path, &traces, &n) < 0 || n != 1)
        goto out;
    rc = list(&o, traces, have_live ? &live : NULL);
out:
    pw_free_traces(traces, n);
    if (have_live)
        pw_live_free(&live);
    free(o.serials);
    return rc;
}
