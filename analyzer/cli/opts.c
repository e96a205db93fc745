/* Command-line options of `run` and `report`: one X-macro table drives the
 * getopt_long table, the parser and the --help text. */
#include "cli.h"
#include "parkwatch/options.h"
#include "finding.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parkwatch/options.h"

static const char *const format_names[] = {
#define PW_X(name, str, writer) str,
    PW_FORMATS(PW_X)
#undef PW_X
};

/* "text|json|sarif": "|text|json|sarif" without its first bar. */
#define FORMAT_BAR(name, str, writer) "|" str
#define FORMAT_ARG (&("" PW_FORMATS(FORMAT_BAR))[1])

/* "text, json or sarif", for the error message. */
static const char *format_choices(void)
{
    static char buf[128];
    size_t n = 0;
    for (unsigned i = 0; i < PW_FMT__COUNT && n < sizeof(buf); i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
                              i == 0                   ? ""
                              : i + 1 == PW_FMT__COUNT ? " or "
                                                       : ", ",
                              format_names[i]);
    return buf;
}

/* name, short letter (0 = none), id, argument name, only for (0 both, 1 run, 2 report), help */
#define PW_CLI_OPTS(X)                                                                        \
    X("format", 0, FORMAT, FORMAT_ARG, 0,                                                     \
      "report format, or a comma list of them, one -o each (default text)")                   \
    X("output", 'o', OUTPUT, "FILE", 0,                                                       \
      "write the report to FILE ('-': the default stream); FORMAT:FILE adds one; repeatable") \
    X("fail-on", 0, FAIL_ON, "KINDS", 0,                                                      \
      "comma list of finding kinds, or errors, any, none (default errors)")                   \
    X("suppressions", 0, SUPPRESSIONS, "FILE", 0, "findings to ignore (kind:function-glob)")  \
    X("exitcode", 0, EXITCODE, "N", 0, "exit status when a finding matches (default 66)")     \
    X("gen-suppressions", 0, GEN_SUPPRESSIONS, NULL, 0,                                       \
      "print a ready suppression rule (kind:function) for each finding")                      \
    X("source-root", 0, SOURCE_ROOT, "DIR", 0,                                                \
      "SARIF paths relative to DIR (default: the git top level, else .)")                     \
    X("trace-dir", 0, TRACE_DIR, "DIR", 1,                                                    \
      "where traces are written (default: a fresh directory)")                                \
    X("keep-traces", 0, KEEP_TRACES, NULL, 1,                                                 \
      "keep the fresh trace directory after a clean run too")                                 \
    X("timeout", 0, TIMEOUT, "SECONDS", 1,                                                    \
      "stop PROGRAM after SECONDS (also PARKWATCH_OPTIONS timeout=; default: never)")         \
    X("pid", 0, PID, "PID", 2, "the trace of running process PID (found from /proc)")         \
    X("help", 'h', HELP, NULL, 0, "print this help")

enum {
    PW_OPT__BASE = 256, /* above every short option letter */
#define PW_X(name, sh, id, arg, run, help) PW_OPT_##id,
    PW_CLI_OPTS(PW_X)
#undef PW_X
};

static const struct option long_opts[] = {
#define PW_X(name, sh, id, arg, run, help) \
    {name, (arg) ? required_argument : no_argument, NULL, PW_OPT_##id},
    PW_CLI_OPTS(PW_X)
#undef PW_X
        {NULL, 0, NULL, 0},
};

static const struct {
    const char *name;
    char sh;
    int id;
    int run_only;
    const char *arg;
    const char *help;
} opt_info[] = {
#define PW_X(name, sh, id, arg, run, help) {name, sh, PW_OPT_##id, run, arg, help},
    PW_CLI_OPTS(PW_X)
#undef PW_X
};

_Static_assert(PW_FK__COUNT <= 31, "--fail-on keeps one bit per finding kind and PW_FAIL_ERRORS");

/* "errors" is decided per finding (its severity may be lower than its kind's
 * default); "any" is every kind */
static uint32_t severity_mask(int errors_only)
{
    if (errors_only)
        return PW_FAIL_ERRORS;
    uint32_t m = 0;
    for (unsigned k = 0; k < PW_FK__COUNT; k++)
        m |= 1u << k;
    return m;
}

/* The format named by the LEN bytes at S, or -1. */
static int format_of(const char *s, size_t len)
{
    for (unsigned i = 0; i < PW_FMT__COUNT; i++)
        if (strlen(format_names[i]) == len && strncmp(s, format_names[i], len) == 0)
            return (int)i;
    return -1;
}

/* What --format and -o said, paired into o->out once all are seen. */
struct outs_seen {
    enum pw_format formats[PW_OUTPUTS_MAX];
    size_t nformats;                   /* 0: no --format */
    const char *plain[PW_OUTPUTS_MAX]; /* -o FILE, in order */
    size_t nplain;
};

/* --format text,sarif: a comma list of formats (the last --format wins). */
static int parse_format(const char *s, struct outs_seen *w)
{
    w->nformats = 0;
    for (;;) {
        size_t len = strcspn(s, ",");
        int f = format_of(s, len);
        if (f < 0) {
            pw_err("--format: unknown format '%.*s' (expected %s)", (int)len, s, format_choices());
            return -1;
        }
        if (w->nformats == PW_OUTPUTS_MAX) {
            pw_err("--format: more than %d formats", PW_OUTPUTS_MAX);
            return -1;
        }
        w->formats[w->nformats++] = (enum pw_format)f;
        if (!s[len])
            return 0;
        s += len + 1;
    }
}

static int add_output(struct pw_report_opts *o, enum pw_format f, const char *path)
{
    if (o->nout == PW_OUTPUTS_MAX) {
        pw_err("-o: more than %d outputs", PW_OUTPUTS_MAX);
        return -1;
    }
    o->out[o->nout++] = (struct pw_output){f, path && strcmp(path, "-") ? path : NULL, -1, false};
    return 0;
}

/* -o FORMAT:FILE is an output of its own; -o FILE is paired with --format. */
static int parse_output(char *arg, struct pw_report_opts *o, struct outs_seen *w)
{
    char *colon = strchr(arg, ':');
    int f = colon ? format_of(arg, (size_t)(colon - arg)) : -1;
    if (f >= 0)
        return add_output(o, (enum pw_format)f, colon + 1);
    if (w->nplain == PW_OUTPUTS_MAX) {
        pw_err("-o: more than %d outputs", PW_OUTPUTS_MAX);
        return -1;
    }
    w->plain[w->nplain++] = arg;
    return 0;
}

/* The sanitizer keys of PARKWATCH_OPTIONS that are defaults of the reports'
 * options; the last occurrence of a key wins, as in the shim. */
struct env_defaults {
    char log_path[PATH_MAX]; /* "" = none */
    char suppressions[PATH_MAX];
    int exitcode; /* -1 = none */
};

static void read_env_defaults(struct env_defaults *e)
{
    const char *env = getenv("PARKWATCH_OPTIONS");
    *e = (struct env_defaults){.exitcode = -1};
    size_t left = env ? strnlen(env, PW_OPTIONS_MAX - 1) : 0;
    for (const char *p = env; left > 0;) {
        size_t len = strcspn(p, ":");
        if (len > left)
            len = left;
        const char *eq = memchr(p, '=', len);
        const struct pw_opt_desc *d = eq ? pw_opt_find(p, (size_t)(eq - p)) : NULL;
        size_t vlen = eq ? len - (size_t)(eq + 1 - p) : 0;
        uint64_t v;
        if (d == &pw_opt_descs[PW_OPTKEY_log_path])
            snprintf(e->log_path, sizeof(e->log_path), "%.*s", (int)vlen, eq + 1);
        else if (d == &pw_opt_descs[PW_OPTKEY_suppressions])
            snprintf(e->suppressions, sizeof(e->suppressions), "%.*s", (int)vlen, eq + 1);
        else if (d == &pw_opt_descs[PW_OPTKEY_exitcode] &&
                 pw_opt_uint(d, eq + 1, vlen, &v) != PW_OPT_BAD)
            e->exitcode = (int)v;
        len += len < left; /* the colon */
        p += len;
        left -= len;
    }
}

/* log_path=PATH: the report that would go to the default stream goes to
 * PATH.PID instead, as a sanitizer's does ("stderr" and "stdout" keep it). */
static const char *log_path_file(const struct env_defaults *e, int to_stderr)
{
    static char path[PATH_MAX + 16];
    if (!e->log_path[0] || strcmp(e->log_path, to_stderr ? "stderr" : "stdout") == 0)
        return NULL;
    snprintf(path, sizeof(path), "%s.%d", e->log_path, (int)getpid());
    return path;
}

/* Pairs the formats of --format with the plain -o FILEs, in order: one
 * format and no -o is the default stream; several formats take as many
 * FILEs, given one -o each or as one comma list (-o -,report.sarif). */
static int pair_outputs(struct pw_report_opts *o, struct outs_seen *w, const struct env_defaults *e)
{
    bool typed = o->nout > 0;
    if (w->nformats == 0 && (w->nplain > 0 || !typed))
        w->formats[w->nformats++] = PW_FMT_TEXT;
    if (w->nformats == 0)
        return 0; /* only -o FORMAT:FILE */
    if (w->nformats > 1 && w->nplain == 1 && strchr(w->plain[0], ',')) {
        char *p = (char *)w->plain[0];
        w->nplain = 0;
        for (char *c; w->nplain < PW_OUTPUTS_MAX; p = c + 1) {
            w->plain[w->nplain++] = p;
            if (!(c = strchr(p, ',')))
                break;
            *c = '\0';
        }
    }
    if (w->nplain == 0 && w->nformats == 1)
        return add_output(o, w->formats[0], log_path_file(e, o->to_stderr));
    if (w->nplain != w->nformats) {
        pw_err("--format gives %zu format%s but -o %zu file%s (one -o FILE per format, or "
               "-o FORMAT:FILE)",
               w->nformats, w->nformats == 1 ? "" : "s", w->nplain, w->nplain == 1 ? "" : "s");
        return -1;
    }
    for (size_t i = 0; i < w->nformats; i++)
        if (add_output(o, w->formats[i], w->plain[i]) < 0)
            return -1;
    return 0;
}

static int parse_kind(const char *s, size_t len, uint32_t *mask)
{
    static const struct {
        const char *word;
        int errors_only;
    } groups[] = {{"errors", 1}, {"any", 0}};
    if (len == 4 && strncmp(s, "none", 4) == 0)
        return 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        if (strlen(groups[g].word) == len && strncmp(s, groups[g].word, len) == 0) {
            *mask |= severity_mask(groups[g].errors_only);
            return 0;
        }
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)len, s);
    int k = len < sizeof(name) ? pw_finding_kind_parse(name) : -1;
    if (k >= 0) {
        *mask |= 1u << k;
        return 0;
    }
    pw_err("--fail-on: unknown finding kind '%.*s'", (int)len, s);
    return -1;
}

static int parse_fail_on(const char *s, uint32_t *mask)
{
    *mask = 0;
    if (!*s) {
        pw_err("--fail-on: empty list");
        return -1;
    }
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len == 0 || parse_kind(s, len, mask) < 0) {
            if (len == 0)
                pw_err("--fail-on: empty item in list");
            return -1;
        }
        s += len;
        if (*s == ',' && *++s == '\0') {
            pw_err("--fail-on: empty item in list");
            return -1;
        }
    }
    return 0;
}

static int parse_exitcode(const char *s, int *code)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 255) {
        pw_err("--exitcode: '%s' is not a number in 0..255", s);
        return -1;
    }
    *code = (int)v;
    return 0;
}

/* Checked here, before run starts PROGRAM: a typo must not cost the run. */
static int parse_source_root(const char *s, const char **root)
{
    struct stat st;
    if (stat(s, &st) < 0) {
        pw_err("--source-root: %s: %s", s, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        pw_err("--source-root: %s: not a directory", s);
        return -1;
    }
    *root = s;
    return 0;
}

static int apply(int id, char *arg, struct pw_report_opts *o, struct outs_seen *w)
{
    switch (id) {
    case PW_OPT_FORMAT:
        return parse_format(arg, w);
    case PW_OPT_OUTPUT:
        return parse_output(arg, o, w);
    case PW_OPT_KEEP_TRACES:
        o->keep_traces = 1;
        return 0;
    case PW_OPT_GEN_SUPPRESSIONS:
        o->gen_suppressions = 1;
        return 0;
    case PW_OPT_FAIL_ON:
        return parse_fail_on(arg, &o->fail_on);
    case PW_OPT_SUPPRESSIONS:
        o->suppressions = arg;
        return 0;
    case PW_OPT_EXITCODE:
        return parse_exitcode(arg, &o->exitcode);
    case PW_OPT_TRACE_DIR:
        o->trace_dir = arg;
        return 0;
    case PW_OPT_TIMEOUT: {
        /* the shim's own rule for its timeout key, so both spellings agree */
        const struct pw_opt_desc *d = &pw_opt_descs[PW_OPTKEY_timeout];
        uint64_t v;
        if (pw_opt_uint(d, arg, strlen(arg), &v) != PW_OPT_OK || v == 0) {
            pw_err("--timeout: expected a number of seconds from 1 to %llu, not '%s'",
                   (unsigned long long)d->hi, arg);
            return -1;
        }
        o->timeout_s = (unsigned)v;
        return 0;
    }
    case PW_OPT_PID: {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*arg == '\0' || *end || v <= 0 || v > INT_MAX) {
            pw_err("report: bad --pid %s", arg);
            return -1;
        }
        o->pid = (int)v;
        return 0;
    }
    case PW_OPT_SOURCE_ROOT:
        return parse_source_root(arg, &o->source_root);
    default:
        return -1;
    }
}

/* Short options string, e.g. "+o:h". */
static void short_opts(char *buf, size_t len)
{
    size_t n = 0;
    buf[n++] = '+'; /* stop at the first operand: PROGRAM's own options follow */
    buf[n++] = ':'; /* report a missing argument as ':' */
    for (size_t i = 0; i < sizeof(opt_info) / sizeof(opt_info[0]) && n + 3 < len; i++) {
        if (!opt_info[i].sh)
            continue;
        buf[n++] = opt_info[i].sh;
        if (long_opts[i].has_arg)
            buf[n++] = ':';
    }
    buf[n] = '\0';
}

static int id_of_short(int c)
{
    for (size_t i = 0; i < sizeof(opt_info) / sizeof(opt_info[0]); i++)
        if (opt_info[i].sh == c)
            return opt_info[i].id;
    return -1;
}

static int run_only(int id)
{
    for (size_t i = 0; i < sizeof(opt_info) / sizeof(opt_info[0]); i++)
        if (opt_info[i].id == id)
            return opt_info[i].run_only;
    return 0;
}

int pw_parse_opts(int argc, char **argv, int is_run, struct pw_report_opts *o)
{
    char shorts[32];
    short_opts(shorts, sizeof(shorts));
    struct outs_seen w = {0};
    static struct env_defaults env;
    read_env_defaults(&env);
    /* the command line wins over PARKWATCH_OPTIONS */
    *o = (struct pw_report_opts){.to_stderr = is_run,
                                 .fail_on = severity_mask(1),
                                 .suppressions = env.suppressions[0] ? env.suppressions : NULL,
                                 .exitcode = env.exitcode >= 0 ? env.exitcode : PW_EXIT_FINDINGS};
    optind = 1;
    opterr = 0;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, shorts, long_opts, &idx);
        if (c == -1)
            break;
        if (c == '?' || c == ':') {
            const char *what = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            pw_err("%s: %s '%s'", argv[0], c == ':' ? "missing argument for" : "unknown option",
                   what);
            return -1;
        }
        int id = c < PW_OPT__BASE ? id_of_short(c) : c;
        if (id == PW_OPT_HELP) {
            pw_print_usage(stdout, argv[0]);
            return -2;
        }
        if (run_only(id) && run_only(id) != (is_run ? 1 : 2)) {
            pw_err("%s: --%s is only valid for %s", argv[0], long_opts[id - PW_OPT__BASE - 1].name,
                   run_only(id) == 1 ? "run" : "report");
            return -1;
        }
        if (apply(id, optarg, o, &w) < 0)
            return -1;
    }
    return pair_outputs(o, &w, &env) < 0 ? -1 : optind;
}

static void print_opts(FILE *f, int is_run)
{
    fprintf(f, "Options:\n");
    for (size_t i = 0; i < sizeof(opt_info) / sizeof(opt_info[0]); i++) {
        if (opt_info[i].run_only && opt_info[i].run_only != (is_run ? 1 : 2))
            continue;
        char left[64];
        snprintf(left, sizeof(left), "%c%c%c --%s%s%s", opt_info[i].sh ? '-' : ' ',
                 opt_info[i].sh ? opt_info[i].sh : ' ', opt_info[i].sh ? ',' : ' ',
                 opt_info[i].name, opt_info[i].arg ? " " : "",
                 opt_info[i].arg ? opt_info[i].arg : "");
        fprintf(f, "  %-28s %s\n", left, opt_info[i].help);
    }
}

void pw_print_usage(FILE *f, const char *cmd)
{
    static const struct {
        const char *name, *synopsis, *summary;
        enum pw_usage_opts opts;
    } cmds[] = {
#define PW_X(name, fn, synopsis, summary, opts) {name, synopsis, summary, opts},
        PW_SUBCOMMANDS(PW_X)
#undef PW_X
    };
    int all = !cmd;
    enum pw_usage_opts opts = all ? PW_USAGE_RUN_OPTS : PW_USAGE_NO_OPTS;
    if (all)
        fprintf(f, "parkwatch finds threads that will never wake up.\n\nUsage:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (!all && strcmp(cmd, cmds[i].name) != 0)
            continue;
        fprintf(f, "  parkwatch %s %s\n      %s\n", cmds[i].name, cmds[i].synopsis,
                cmds[i].summary);
        if (!all)
            opts = cmds[i].opts;
    }
    if (all)
        fprintf(f, "  parkwatch --version | --help | SUBCOMMAND --help\n");
    if (opts != PW_USAGE_NO_OPTS) {
        fprintf(f, "\n");
        print_opts(f, opts == PW_USAGE_RUN_OPTS);
    }
    fprintf(f, "\nExit status: 66 (--exitcode) when a finding matches --fail-on; otherwise\n"
               "run: PROGRAM's own status (128+N for signal N), report: 0.\n"
               "2 on a usage error, an unreadable trace, or a PROGRAM that cannot start.\n");
}
