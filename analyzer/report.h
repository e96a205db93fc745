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
    struct pw_model *model;          /* one process per trace, same order */
    struct pw_findings *findings;
    struct pw_frames *frames;        /* symbolized stacks, cached */
    const char *trace_dir;           /* named in the text footer, may be NULL */
};

struct pw_report_summary {
    size_t errors, warnings, suppressed; /* findings (a grouped finding counts once) */
    size_t processes, threads;
    uint64_t events, dropped;
};

void pw_report_summarize(const struct pw_report *r, struct pw_report_summary *s);

/* True if a finding that is not suppressed has a kind in FAIL_ON (1u << kind). */
bool pw_report_fails(const struct pw_findings *fs, uint32_t fail_on);

/* Writers: return 0, or -1 if the report could not be built (out of memory);
 * write errors are left in ferror(F) for the caller. */
int pw_report_text(FILE *f, const struct pw_report *r);
int pw_report_json(FILE *f, const struct pw_report *r);
int pw_report_sarif(FILE *f, const struct pw_report *r);

#endif
