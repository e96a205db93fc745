/* Interim report: a short per-process summary of who is parked where.  The
 * findings pipeline (model, detectors, text/JSON/SARIF writers) replaces this
 * file behind the same pw_analyze_and_report() entry point. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "reader.h"

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static size_t count_parked(const struct pw_trace *t)
{
    size_t n = 0;
    for (size_t i = 0; i < pw_trace_nthreads(t); i++) {
        const struct pw_thread_rec *r = pw_trace_thread(t, i);
        n += r->state == PW_TS_ALIVE && r->park_op != PW_OP_NONE;
    }
    return n;
}

static void summarize(FILE *f, const struct pw_trace *t)
{
    const struct pw_trace_header *h = pw_trace_header(t);
    fprintf(f, "parkwatch: pid %d (%s): %zu threads, %zu parked, %llu events, %llu dropped\n",
            h->pid, h->exe[0] ? basename_of(h->exe) : "?", pw_trace_nthreads(t),
            count_parked(t), (unsigned long long)pw_trace_total_events(t),
            (unsigned long long)pw_trace_dropped(t));
    for (size_t i = 0; i < pw_trace_nthreads(t); i++) {
        const struct pw_thread_rec *r = pw_trace_thread(t, i);
        if (r->state != PW_TS_ALIVE || r->park_op == PW_OP_NONE)
            continue;
        char obj[64], ms[32];
        pw_fmt_object(t, PW_EV_PARK, r->park_op, r->park_obj, obj, sizeof(obj));
        fprintf(f, "parkwatch:   T%u %s parked in %s on %s (since %s ms)\n", r->serial,
                r->name[0] ? r->name : "-", pw_park_op_name(r->park_op), obj,
                pw_fmt_ms(r->park_since_ns, ms, sizeof(ms)));
    }
}

int pw_analyze_and_report(struct pw_trace **traces, size_t n, const struct pw_report_opts *o)
{
    FILE *f = o->to_stderr ? stderr : stdout;
    if (o->output && !(f = fopen(o->output, "w"))) {
        pw_err("%s: %s", o->output, strerror(errno));
        return PW_EXIT_USAGE;
    }
    if (o->trace_dir)
        fprintf(f, "parkwatch: traces in %s\n", o->trace_dir);
    for (size_t i = 0; i < n; i++)
        summarize(f, traces[i]);
    int bad = ferror(f);
    if (o->output && fclose(f) != 0)
        bad = 1;
    else if (!o->output)
        fflush(f);
    if (bad) {
        pw_err("%s: cannot write the report", o->output ? o->output : "output");
        return PW_EXIT_USAGE;
    }
    /* No detectors yet: nothing can match --fail-on. */
    return PW_EXIT_OK;
}
