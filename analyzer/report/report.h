/* Report writers: thin views of one finding model.  pw_analyze_and_report
 * (report.c) builds the model, runs the detectors, applies suppressions and
 * hands everything to one writer; writers judge nothing, they only lay out
 * what the model and the findings say. */
#ifndef PW_REPORT_H
#define PW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "finding.h"

/* Reported as tool.version in JSON and SARIF: the same string as `parkwatch
 * --version`, both the project version that meson.build passes as PW_VERSION. */
#define PW_REPORT_TOOL_VERSION PW_VERSION
#define PW_REPORT_SCHEMA "parkwatch-report/1"

struct pw_trace;
struct pw_model;
struct pw_findings;
struct pw_frames;

/* Everything a writer needs.  Findings with f->suppressed set are left out of
 * the report and only counted. */
struct pw_report {
    struct pw_trace **traces;
    size_t ntraces;
    struct pw_model *model; /* one process per trace, same order */
    struct pw_findings *findings;
    struct pw_frames *frames; /* symbolized stacks, cached */
    const char *trace_dir;    /* named in the text footer, may be NULL */
    bool traces_removed;      /* run removes its trace directory (a clean run) */
    const char *source_root;  /* --source-root DIR, NULL = the default (SARIF) */
};

struct pw_report_summary {
    size_t errors, warnings, suppressed; /* findings (a grouped finding counts once) */
    size_t processes, threads;
    uint64_t events, dropped;
};

void pw_report_summarize(const struct pw_report *r, struct pw_report_summary *s);
/* The text footer's first line ("parkwatch: 1 error, ... traces in DIR"),
 * which run also prints on stderr when the report went elsewhere. */
void pw_report_text_summary(FILE *f, const struct pw_report *r);

/* Threads (and tasks the shim never saw) left alive at the end of finished
 * processes in waits the trace does not follow (pw_thread.unfollowed); *UNKNOWN
 * gets how many of them nobody could say anything about. */
size_t pw_report_unfollowed(const struct pw_report *r, size_t *unknown);

struct pw_thread;
/* The text report's thread blocks for threads V[0..N) of one process (parked
 * ones with their park stacks, each with its creation stack), grouped by
 * identical stacks as in the live dump.  0, or -1 when out of memory. */
int pw_report_text_threads(FILE *f, const struct pw_report *r, struct pw_thread *const *v,
                           size_t n);

/* ---- what the writers share (report_common.c) */

/* The summary's counts in the JSON and SARIF reports: X(field of struct
 * pw_report_summary, JSON key, its place there, SARIF key, its place there).
 * The key names and orders are the published schemas: never change them. */
#define PW_SUMMARY_COUNTS(X)                            \
    X(errors, "errors", 0, "errors", 0)                 \
    X(warnings, "warnings", 1, "warnings", 1)           \
    X(threads, "threads", 2, "threads", 4)              \
    X(events, "events", 3, "events", 5)                 \
    X(dropped, "dropped_events", 4, "droppedEvents", 6) \
    X(suppressed, "suppressed", 5, "suppressed", 2)     \
    X(processes, "processes", 6, "processes", 3)

enum pw_summary_style { PW_SUMMARY_JSON, PW_SUMMARY_SARIF };

struct json_t;
/* The summary object of the report, with STYLE's keys in STYLE's order. */
struct json_t *pw_report_summary_json(const struct pw_report *r, enum pw_summary_style style);

struct pw_object;
/* "&accounts_lock" for a lock or other sync object that is a global or static
 * variable; NULL otherwise (heap objects, channels, threads). */
const char *pw_report_object_symbol(const struct pw_report *r, const struct pw_object *o);
/* "leaky_update (pool.c:42)" (or "fn", or "module+0xoff") for the innermost
 * frame of STACK of P, into BUF; false when the stack is unknown. */
bool pw_report_site(const struct pw_report *r, const struct pw_process *p, uint32_t stack,
                    char *buf, size_t cap);
/* Headlines that name sites, now that symbols are at hand (lockdep's "T2 exited
 * holding mutex#1 (&stats_mu), taken in leaky_update (pool.c:42)"); every
 * format prints the same message. */
void pw_report_site_headlines(struct pw_report *r);
/* What the trace's losses (notes, edges folded or dropped, first acts) mean
 * for a finding of KIND in P, into BUF; "" when nothing that matters was lost. */
void pw_report_loss(const struct pw_process *p, enum pw_finding_kind kind, char *buf, size_t cap);
/* One line counting P's losses, into BUF; "" when nothing was lost. */
void pw_report_process_loss(const struct pw_process *p, char *buf, size_t cap);

/* True if a finding that is not suppressed has a kind in FAIL_ON (1u << kind). */
bool pw_report_fails(const struct pw_findings *fs, uint32_t fail_on);

/* Writers, one per row of PW_FORMATS (cli.h), each in its report_*.c: return
 * 0, or -1 if the report could not be built (out of memory); write errors are
 * left in ferror(F) for the caller. */
#define PW_X(name, str, writer) int writer(FILE *f, const struct pw_report *r);
PW_FORMATS(PW_X)
#undef PW_X

#endif
