/* `parkwatch report [OPTIONS] TRACE-FILE|TRACE-DIR...`: post-mortem (or live)
 * analysis of existing traces.  Any unreadable input is a usage-class error:
 * a report silently missing a process would look clean. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "reader.h"

static int load_operand(const char *path, struct pw_trace ***traces, size_t *n)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t before = *n;
        if (pw_load_dir(path, PW_LOAD_STRICT, traces, n) < 0)
            return -1;
        if (*n == before) {
            pw_err("%s: no parkwatch.*.trace files in this directory", path);
            return -1;
        }
        return 0;
    }
    return pw_load_one(path, traces, n);
}

int pw_cmd_report(int argc, char **argv)
{
    struct pw_report_opts o;
    int first = pw_parse_opts(argc, argv, 0, &o);
    if (first == -2)
        return PW_EXIT_OK;
    if (first < 0)
        return PW_EXIT_USAGE;
    if (first >= argc) {
        pw_err("report: expected TRACE-FILE or TRACE-DIR (try 'parkwatch report --help')");
        return PW_EXIT_USAGE;
    }
    struct pw_trace **traces = NULL;
    size_t n = 0;
    int rc = PW_EXIT_OK;
    for (int i = first; i < argc && rc == PW_EXIT_OK; i++)
        if (load_operand(argv[i], &traces, &n) < 0)
            rc = PW_EXIT_USAGE;
    if (rc == PW_EXIT_OK) {
        struct stat st;
        /* Name the directory when the operand was one, like run does. */
        if (argc - first == 1 && stat(argv[first], &st) == 0 && S_ISDIR(st.st_mode))
            o.trace_dir = argv[first];
        rc = pw_analyze_and_report(traces, n, &o);
    }
    pw_free_traces(traces, n);
    return rc;
}
