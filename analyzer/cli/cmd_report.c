/* `parkwatch report [OPTIONS] TRACE-FILE|TRACE-DIR...`: post-mortem (or live)
 * analysis of existing traces.  Any unreadable input is a usage-class error:
 * a report silently missing a process would look clean. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "attach.h"
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
    if (first >= argc && !o.pid) {
        pw_err("report: expected TRACE-FILE or TRACE-DIR (try 'parkwatch report --help')");
        return PW_EXIT_USAGE;
    }
    struct pw_trace **traces = NULL;
    size_t n = 0;
    int rc = PW_EXIT_OK;
    struct pw_live live = {0};
    if (o.pid) {
        /* the running process's own trace, wherever its options put it */
        char path[4096];
        if (kill(o.pid, 0) < 0 && errno == ESRCH) {
            pw_err("report: no process with pid %d", o.pid);
            return PW_EXIT_USAGE;
        }
        if (pw_trace_of_pid(o.pid, path, sizeof(path)) < 0) {
            pw_err("report: pid %d: no parkwatch trace found (is the shim loaded? is it yours?)",
                   o.pid);
            return PW_EXIT_USAGE;
        }
        if (pw_load_one(path, &traces, &n) < 0)
            rc = PW_EXIT_USAGE;
        /* each thread's state and blocked call from /proc; no stacks: the
         * process is not stopped for a report (parkwatch stack does that) */
        char err[256];
        if (rc == PW_EXIT_OK && pw_live_capture(o.pid, false, 0, &live, err, sizeof(err)) == 0)
            o.live = &live.tasks;
    }
    for (int i = first; i < argc && rc == PW_EXIT_OK; i++)
        if (load_operand(argv[i], &traces, &n) < 0)
            rc = PW_EXIT_USAGE;
    if (rc == PW_EXIT_OK) {
        struct stat st;
        /* Name the directory when the operand was one, like run does. */
        if (!o.pid && argc - first == 1 && stat(argv[first], &st) == 0 && S_ISDIR(st.st_mode))
            o.trace_dir = argv[first];
        rc = pw_analyze_and_report(traces, n, &o);
    }
    pw_free_traces(traces, n);
    pw_live_free(&live);
    return rc;
}
