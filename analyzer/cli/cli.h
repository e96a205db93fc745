/* Declarations shared by the parkwatch subcommands.  The exit-status contract
 * lives here and in main.c only: commands return one of these codes (or the
 * traced program's own status) and never call exit() themselves. */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parkwatch/trace.h"

#include "diag.h" /* pw_err, pw_warn and the error policy */

struct pw_trace;
struct pw_ktasks;

/* ---- exit statuses (SPEC.md "Exit status") */
#define PW_EXIT_OK 0
#define PW_EXIT_USAGE 2     /* usage error, unreadable/foreign/corrupt input, cannot run */
#define PW_EXIT_FINDINGS 66 /* default --exitcode */
#define PW_EXIT_NONE 1      /* threads: no thread listed (grep's convention) */

/* --fail-on's "errors": every finding of error severity (a kind's default
 * severity may be lowered per finding), above the per-kind bits */
#define PW_FAIL_ERRORS (1u << 31)

/* ---- report formats: X(enum suffix, --format name, writer (report.h)).
 * --format, --help and the writer table expand this list: a new format is
 * one row here and one writer file. */
#define PW_FORMATS(X)                           \
    X(TEXT, "text", pw_report_text)             \
    X(JSON, "json", pw_report_json)             \
    X(SARIF, "sarif", pw_report_sarif)          \
    X(DOT, "dot", pw_report_dot)                \
    X(PERFETTO, "perfetto", pw_report_perfetto) \
    X(HTML, "html", pw_report_html)

enum pw_format {
#define PW_X(name, str, writer) PW_FMT_##name,
    PW_FORMATS(PW_X)
#undef PW_X
        PW_FMT__COUNT
};

/* One report to write: FORMAT into PATH, or into the default stream (stderr
 * for run, stdout for report) when PATH is NULL ("-o -"). */
struct pw_output {
    enum pw_format format;
    const char *path;
    int fd;       /* opened by pw_outputs_open, or -1 */
    bool created; /* the file did not exist before pw_outputs_open */
};
#define PW_OUTPUTS_MAX 8

/* Options shared by `run` and `report`. */
struct pw_report_opts {
    struct pw_output out[PW_OUTPUTS_MAX]; /* --format and -o, paired (opts.c) */
    size_t nout;
    /* the one output when nout is 0 (options built by hand) */
    enum pw_format format;
    const char *output;       /* -o FILE; NULL = stderr for run, stdout for report */
    int to_stderr;            /* default stream when output is NULL */
    int summary_to_stderr;    /* run: the footer's summary line on stderr when
                               * no text report goes there */
    int remove_clean_dir;     /* run: its own trace directory goes when clean */
    int *clean;               /* if set, told whether no finding matched fail_on */
    uint32_t fail_on;         /* bit (1u << kind) per enum pw_finding_kind (finding.h),
                               * and PW_FAIL_ERRORS */
    const char *suppressions; /* FILE or NULL */
    int exitcode;             /* status when a finding matches fail_on */
    const char *trace_dir;    /* named in the report ("traces in DIR"), may be NULL */
    unsigned timeout_s;       /* run --timeout: stop PROGRAM after this long (0 = not given) */
    int keep_traces;          /* run --keep-traces */
    int gen_suppressions;     /* --gen-suppressions: a rule per finding */
    int pid;                  /* report --pid: the trace of this running process, 0 if none */
    struct pw_ktasks *live;   /* report --pid: the kernel's view of it now, or NULL */
    const char *source_root;  /* --source-root DIR (a directory), NULL = the default */
};

/* Opens every -o FILE for writing, without truncating it yet, so that a bad
 * path is a usage error before anything runs.  0, or -1 (reported). */
int pw_outputs_open(struct pw_report_opts *o);
/* Closes what pw_outputs_open opened, removing the files it created: the
 * report will not be written. */
void pw_outputs_abandon(struct pw_report_opts *o);

/* Parses the shared options (plus --trace-dir when IS_RUN) from ARGV[1..].
 * Returns the index of the first operand, -1 after a usage error (already
 * reported) or -2 when --help was printed. */
int pw_parse_opts(int argc, char **argv, int is_run, struct pw_report_opts *o);
void pw_print_usage(FILE *f, const char *cmd);

/* Analyzes N traces and writes the report.  Returns PW_EXIT_OK when no finding
 * matches o->fail_on, o->exitcode when one does, PW_EXIT_USAGE on an error
 * (already reported).  Implemented in report.c. */
int pw_analyze_and_report(struct pw_trace **traces, size_t n, const struct pw_report_opts *o);

/* Subcommands: X(name, function, synopsis, summary, options listed by --help).
 * main.c dispatches on this list and the usage text (pw_print_usage) prints
 * it, in this order.  OPTIONS: PW_USAGE_NO_OPTS (the command has its own, or
 * none), PW_USAGE_OPTS (those shared by run and report) or PW_USAGE_RUN_OPTS
 * (those and run's own). */
#define PW_SUBCOMMANDS(X)                                                                    \
    X("run", pw_cmd_run, "[OPTIONS] -- PROGRAM [ARGS...]",                                   \
      "run PROGRAM with the shim preloaded, then report on its traces", PW_USAGE_RUN_OPTS)   \
    X("report", pw_cmd_report, "[OPTIONS] TRACE-FILE|TRACE-DIR...|--pid PID",                \
      "analyze traces after the fact, or of a running process", PW_USAGE_OPTS)               \
    X("dump", pw_cmd_dump, "TRACE-FILE", "print the raw trace, one record per line",         \
      PW_USAGE_NO_OPTS)                                                                      \
    X("watch", pw_cmd_watch,                                                                 \
      "--pid PID [--trace-dir DIR] [--interval MS] [--on-deadlock abort|report]",            \
      "watch a traced process live (started by the shim with watchdog=1)", PW_USAGE_NO_OPTS) \
    X("stack", pw_cmd_stack, "PID",                                                          \
      "print every thread of a running process, grouped by stack (needs ptrace)",            \
      PW_USAGE_NO_OPTS)                                                                      \
    X("threads", pw_cmd_threads,                                                             \
      "[--ignore-top FUNC]... [--header TEXT] TRACE-FILE|--pid PID [THREAD...]",             \
      "print threads of a trace, symbolized (verify_none runs it); exit 0 listed, 1 none",   \
      PW_USAGE_NO_OPTS)

enum pw_usage_opts { PW_USAGE_NO_OPTS, PW_USAGE_OPTS, PW_USAGE_RUN_OPTS };

/* ARGV[0] is the subcommand name; they return the exit status. */
#define PW_X(name, fn, synopsis, summary, opts) int fn(int argc, char **argv);
PW_SUBCOMMANDS(PW_X)
#undef PW_X

struct pw_watch_opts;
/* How `run` watches its child under PARKWATCH_OPTIONS=ENV (may be NULL): the
 * shim's watchdog_ms and on_deadlock, decided by the shim's own rules
 * (parkwatch/options.h), so the host and `run` agree on every value. */
void pw_run_watch_opts(const char *env, struct pw_watch_opts *w);

/* The trace of running process PID (from its mappings, else from the
 * trace_dir of its PARKWATCH_OPTIONS) into OUT; -1 if it has none we can see.
 * Implemented in cmd_stack.c. */
int pw_trace_of_pid(int pid, char *out, size_t len);

/* Saves PID's threads (system calls, fds, stacks) as the tasks file of its
 * trace TRACE_PATH (NULL: pw_trace_of_pid) before the watcher stops it; -1
 * (said why, unless the process had already saved one) on failure.
 * Implemented in cmd_stack.c. */
int pw_stack_save_before_stop(int pid, const char *trace_path);

struct pw_process;
/* The private anonymous mappings of process PID (MAP_PRIVATE, no file), from
 * /proc/PID/maps: into *OUT as lo, hi pairs (malloc'd, NULL when none), the
 * count returned.  A futex word there can only be woken by PID itself. */
size_t pw_kcheck_private_ranges(int pid, uint64_t **out);
/* When live process P has futex waits the shim marked external (no
 * FUTEX_PRIVATE_FLAG, outside static data and the brk heap), reads its
 * mappings and applies them (pw_model_set_private): only P can wake those in
 * private anonymous memory.
 * Both implemented in kcheck.c. */
void pw_kcheck_private(struct pw_process *p);

/* ---- formatting helpers shared by dump and the reports (format.c) */

/* "12.345": milliseconds with 3 decimals. */
const char *pw_fmt_ms(uint64_t ns, char *buf, size_t len);
/* Loads every parkwatch.*.trace in DIR (sorted by name) into *traces.
 * Unreadable traces are reported; they make the result -1 only with
 * PW_LOAD_STRICT.  A FIFO, socket or device is skipped with one line, and with
 * PW_LOAD_OWNED so is a file another user owns. */
#define PW_LOAD_STRICT 1
#define PW_LOAD_OWNED 2
int pw_load_dir(const char *dir, int flags, struct pw_trace ***traces, size_t *n);
int pw_load_one(const char *path, struct pw_trace ***traces, size_t *n);
void pw_free_traces(struct pw_trace **traces, size_t n);

#endif
