/* The report pipeline behind `run` and `report`: model -> detectors ->
 * suppressions -> one writer -> the --fail-on decision.  Writers are chosen
 * by format from one table that expands PW_FORMATS (cli.h), so a new format
 * is one row there and one writer file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "finding.h"
#include "frames.h"
#include "jsonutil.h"
#include "ktasks.h"
#include "model.h"
#include "reader.h"
#include "report.h"
#include "suppress.h"

typedef int writer_fn(FILE *f, const struct pw_report *r);

static writer_fn *const writers[PW_FMT__COUNT] = {
#define PW_X(name, str, writer) [PW_FMT_##name] = writer,
    PW_FORMATS(PW_X)
#undef PW_X
};

void pw_report_summarize(const struct pw_report *r, struct pw_report_summary *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < r->findings->n; i++) {
        const struct pw_finding *f = r->findings->v[i];
        if (f->suppressed)
            s->suppressed++;
        else if (f->severity == PW_SEV_ERROR)
            s->errors++;
        else if (f->severity == PW_SEV_WARNING)
            s->warnings++;
    }
    s->processes = r->model->nprocs;
    for (size_t i = 0; i < r->model->nprocs; i++)
        s->threads += r->model->procs[i].nthreads;
    for (size_t i = 0; i < r->ntraces; i++) {
        s->events += pw_trace_total_events(r->traces[i]);
        s->dropped += pw_trace_dropped(r->traces[i]);
    }
}

bool pw_report_fails(const struct pw_findings *fs, uint32_t fail_on)
{
    for (size_t i = 0; i < fs->n; i++) {
        const struct pw_finding *f = fs->v[i];
        if (f->suppressed || f->severity == PW_SEV_NOTE)
            continue; /* a note is for the record only */
        /* "errors" is the finding's severity, not its kind's default: a
         * double-close that only failed with EBADF is a warning */
        if ((fail_on & PW_FAIL_ERRORS) && f->severity == PW_SEV_ERROR)
            return true;
        if (f->kind < 32 && (fail_on & (1u << f->kind)))
            return true;
    }
    return false;
}

/* Runs WRITER under the JSON writers' out-of-memory catcher (jsonutil.h):
 * 0, or -1 when out of memory. */
static int run_writer(writer_fn *writer, FILE *f, const struct pw_report *r)
{
    jmp_buf env;
    if (setjmp(env)) {
        pw_json_catch(NULL);
        return -1;
    }
    pw_json_catch(&env);
    int rc = writer(f, r);
    pw_json_catch(NULL);
    return rc;
}

int pw_outputs_open(struct pw_report_opts *o)
{
    for (size_t i = 0; i < o->nout; i++) {
        struct pw_output *out = &o->out[i];
        if (!out->path || out->fd >= 0)
            continue;
        /* not truncated yet: a run whose program cannot start leaves the old
         * report as it was */
        out->fd = open(out->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        out->created = out->fd >= 0;
        if (out->fd < 0 && errno == EEXIST)
            out->fd = open(out->path, O_WRONLY | O_CLOEXEC);
        if (out->fd < 0) {
            pw_err("-o %s: %s", out->path, strerror(errno));
            pw_outputs_abandon(o);
            return -1;
        }
    }
    return 0;
}

void pw_outputs_abandon(struct pw_report_opts *o)
{
    for (size_t i = 0; i < o->nout; i++) {
        struct pw_output *out = &o->out[i];
        if (out->fd < 0)
            continue;
        close(out->fd);
        out->fd = -1;
        if (out->created)
            unlink(out->path);
        out->created = false;
    }
}

/* Writes one report to its file or the default stream.  0 or -1 (reported). */
static int write_report(const struct pw_report *r, const struct pw_report_opts *o,
                        const struct pw_output *out)
{
    FILE *f = o->to_stderr ? stderr : stdout;
    struct stat st;
    if (out->path) {
        /* a regular file is emptied now; a pipe or a device cannot be */
        if (fstat(out->fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(out->fd, 0) < 0) {
            pw_err("%s: %s", out->path, strerror(errno));
            return -1;
        }
        if (!(f = fdopen(out->fd, "w"))) {
            pw_err("%s: %s", out->path, strerror(errno));
            return -1;
        }
    }
    int rc = run_writer(writers[out->format], f, r);
    int bad = ferror(f);
    if (out->path)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    if (rc < 0)
        pw_err("out of memory while writing the report");
    else if (bad)
        pw_err("%s: cannot write the report", out->path ? out->path : "output");
    return rc < 0 || bad ? -1 : 0;
}

/* A system library's frame (libc, libstdc++, the loader) makes a poor rule:
 * it would hide every finding that passes through it. */
static bool system_frame(const struct pw_frame *fr)
{
    const char *m = fr->module ? fr->module : "";
    return strncmp(m, "/lib", 4) == 0 || strncmp(m, "/usr/lib", 8) == 0 ||
           (fr->file && strncmp(fr->file, "/usr/include/", 13) == 0);
}

/* The function a rule for F names: the innermost frame outside the system
 * libraries of the first stack F shows, else its innermost named frame. */
static const char *rule_function(const struct pw_report *r, const struct pw_finding *f)
{
    const char *any = NULL;
    for (size_t i = 0; i < f->nthreads; i++) {
        const uint32_t ids[] = {f->threads[i].stack, f->threads[i].stack2,
                                f->threads[i].t->create_stack};
        for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
            const struct pw_frame *v;
            size_t n = pw_frames_get(r->frames, f->proc->trace, ids[k], &v);
            for (size_t j = 0; j < n; j++) {
                if (!v[j].function)
                    continue;
                if (!system_frame(&v[j]))
                    return v[j].function;
                if (!any)
                    any = v[j].function;
            }
        }
    }
    for (size_t i = 0; i < f->nobjects && !any; i++) {
        const struct pw_frame *v;
        size_t n = pw_frames_get(r->frames, f->proc->trace, f->objects[i].stack, &v);
        for (size_t j = 0; j < n && !any; j++)
            any = v[j].function;
    }
    return any;
}

/* --gen-suppressions: one ready rule per reported finding, as Valgrind's
 * option does, to paste into a --suppressions file. */
static void gen_suppressions(FILE *out, const struct pw_report *r)
{
    for (size_t i = 0; i < r->findings->n; i++) {
        const struct pw_finding *f = r->findings->v[i];
        if (f->suppressed)
            continue;
        const char *fn = rule_function(r, f), *kind = pw_finding_kind_name(f->kind);
        if (fn)
            fprintf(out, "%s:%s\n", kind, fn);
        /* no frame to name: the threads' names, which together match it */
        for (size_t t = 0; !fn && t < f->nthreads; t++)
            fprintf(out, "%s:thread=%s\n", kind, f->threads[t].t->name);
        if (!fn && !f->nthreads)
            fprintf(out, "# finding %u (%s): no frame or thread to name\n", f->id, kind);
    }
    fflush(out);
}

static int analyze(struct pw_report *r, struct pw_report_opts *o)
{
    if (pw_detect_all(r->model, r->findings) < 0) {
        pw_err("analysis failed (out of memory)");
        return PW_EXIT_USAGE;
    }
    if (o->suppressions) {
        struct pw_suppressions *s = pw_supp_load(o->suppressions);
        if (!s)
            return PW_EXIT_USAGE;
        pw_supp_apply(s, r->findings, r->frames);
        pw_supp_free(s);
    }
    pw_findings_number(r->findings);
    pw_report_site_headlines(r);
    bool fails = pw_report_fails(r->findings, o->fail_on);
    if (!fails && o->remove_clean_dir && !o->keep_traces) {
        /* run removes its directory after a clean run: do not name it */
        r->trace_dir = NULL;
        r->traces_removed = true;
    }
    if (pw_outputs_open(o) < 0)
        return PW_EXIT_USAGE;
    bool text_on_stderr = false;
    int rc = 0;
    for (size_t i = 0; i < o->nout; i++) {
        text_on_stderr |= o->out[i].format == PW_FMT_TEXT && !o->out[i].path && o->to_stderr;
        if (write_report(r, o, &o->out[i]) < 0)
            rc = -1;
        o->out[i].fd = -1; /* closed by write_report, or left for exit */
    }
    if (rc < 0)
        return PW_EXIT_USAGE;
    /* a CI log shows the verdict even when the report went to a file */
    if (o->summary_to_stderr && !text_on_stderr) {
        pw_report_text_summary(stderr, r);
        fflush(stderr);
    }
    if (o->gen_suppressions)
        gen_suppressions(o->to_stderr ? stderr : stdout, r);
    if (o->clean)
        *o->clean = !fails;
    return fails ? o->exitcode : PW_EXIT_OK;
}

int pw_analyze_and_report(struct pw_trace **traces, size_t n, const struct pw_report_opts *opts)
{
    struct pw_report_opts copy = *opts, *o = &copy;
    if (o->nout == 0)
        o->out[o->nout++] = (struct pw_output){o->format, o->output, -1, false};
    struct pw_findings fs = {0};
    struct pw_report r = {.traces = traces,
                          .ntraces = n,
                          .findings = &fs,
                          .trace_dir = o->trace_dir,
                          .source_root = o->source_root};
    r.model = pw_model_build(traces, n);
    r.frames = pw_frames_new();
    /* report --pid: what the kernel says of the threads not parked, now */
    for (size_t i = 0; r.model && o->live && i < r.model->nprocs; i++)
        if (r.model->procs[i].pid == o->live->pid && r.model->procs[i].end == PW_END_RUNNING &&
            pw_model_set_ktasks(&r.model->procs[i], o->live) < 0)
            pw_err("out of memory");
    int rc = PW_EXIT_USAGE;
    if (!r.model || !r.frames)
        pw_err("out of memory");
    else
        rc = analyze(&r, o);
    pw_findings_free(&fs);
    pw_frames_free(r.frames);
    pw_model_free(r.model);
    return rc;
}
