/* Declarations shared by the parkwatch subcommands.  The exit-status contract
 * lives here and in main.c only: commands return one of these codes (or the
 * traced program's own status) and never call exit() themselves. */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "parkwatch/trace.h"

struct pw_trace;

/* ---- exit statuses (SPEC.md "Exit status") */
#define PW_EXIT_OK 0
#define PW_EXIT_USAGE 2       /* usage error, unreadable/foreign/corrupt input, cannot run */
#define PW_EXIT_FINDINGS 66   /* default --exitcode */

/* Prints "parkwatch: <message>" as one line on stderr. */
void pw_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "parkwatch: warning: <message>" as one line on stderr. */
void pw_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- report formats */
#define PW_FORMATS(X)      \
    X(TEXT, "text")        \
    X(JSON, "json")        \
    X(SARIF, "sarif")

enum pw_format {
#define PW_X(name, str) PW_FMT_##name,
    PW_FORMATS(PW_X)
#undef PW_X
    PW_FMT__COUNT
};

/* Options shared by `run` and `report`. */
struct pw_report_opts {
    enum pw_format format;
    const char *output;       /* -o FILE; NULL = stderr for run, stdout for report */
    int to_stderr;            /* default stream when output is NULL */
    uint32_t fail_on;         /* bit (1u << kind) per enum pw_finding_kind (finding.h) */
    const char *suppressions; /* FILE or NULL */
    int exitcode;             /* status when a finding matches fail_on */
    const char *trace_dir;    /* named in the report ("traces in DIR"), may be NULL */
};

/* Parses the shared options (plus --trace-dir when IS_RUN) from ARGV[1..].
 * Returns the index of the first operand, -1 after a usage error (already
 * reported) or -2 when --help was printed. */
int pw_parse_opts(int argc, char **argv, int is_run, struct pw_report_opts *o);
void pw_print_usage(FILE *f, const char *cmd);

/* Analyzes N traces and writes the report.  Returns PW_EXIT_OK when no finding
 * matches o->fail_on, o->exitcode when one does, PW_EXIT_USAGE on an error
 * (already reported).  Implemented in report.c. */
int pw_analyze_and_report(struct pw_trace **traces, size_t n, const struct pw_report_opts *o);

/* Subcommands: ARGV[0] is the subcommand name; they return the exit status. */
int pw_cmd_run(int argc, char **argv);
int pw_cmd_report(int argc, char **argv);
int pw_cmd_dump(int argc, char **argv);
int pw_cmd_watch(int argc, char **argv);

struct pw_watch_opts;
/* How `run` watches its child under PARKWATCH_OPTIONS=ENV (may be NULL): the
 * shim's watchdog_ms and on_deadlock, decided by the shim's own rules
 * (parkwatch/options.h), so the host and `run` agree on every value. */
void pw_run_watch_opts(const char *env, struct pw_watch_opts *w);

/* ---- formatting helpers shared by dump and the reports (format.c) */

/* "12.345": milliseconds with 3 decimals. */
const char *pw_fmt_ms(uint64_t ns, char *buf, size_t len);
/* The object an event/park names: "pipe#3", "T2" or "0x7f..". */
const char *pw_fmt_object(const struct pw_trace *t, unsigned kind, unsigned op, uint64_t obj,
                          char *buf, size_t len);
/* Loads every parkwatch.*.trace in DIR (sorted by name) into *traces.
 * Unreadable traces are reported; they make the result -1 only if STRICT. */
int pw_load_dir(const char *dir, int strict, struct pw_trace ***traces, size_t *n);
int pw_load_one(const char *path, struct pw_trace ***traces, size_t *n);
void pw_free_traces(struct pw_trace **traces, size_t n);

#endif
