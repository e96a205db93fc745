/* `parkwatch watch --pid PID [--trace-dir DIR] [--interval MS] [--on-deadlock A]`:
 * the live watchdog for a process started with a plain LD_PRELOAD.  The shim
 * starts it as a sidecar when PARKWATCH_OPTIONS has watchdog=1 (see
 * preload/watchdog.c); it can also be run by hand against any traced process.
 * It watches PID and its traced descendants, and returns when they are all
 * gone.  The sidecar gets a pidfd of the process that started it (--pidfd):
 * that process is the root of what it may signal (trust.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trust.h"
#include "watch.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: parkwatch watch --pid PID [--pidfd FD] [--trace-dir DIR] [--interval MS]\n"
               "                       [--on-deadlock abort|report] [--dump-signal SIG]\n"
               "  watch a traced process (and its traced children) until it ends: report a\n"
               "  wait-for cycle once, and when every thread is parked forever for a whole\n"
               "  interval, report it and (abort, the default) stop the process; on SIG (sent\n"
               "  to this watcher), print the live report\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int pw_cmd_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pid", required_argument, NULL, 'p'},      {"trace-dir", required_argument, NULL, 'd'},
        {"interval", required_argument, NULL, 'i'}, {"on-deadlock", required_argument, NULL, 'a'},
        {"pidfd", required_argument, NULL, 'f'},    {"dump-signal", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct pw_watch_opts wo;
    pw_watch_opts_default(&wo);
    /* halt_on_deadlock has no flag: the sidecar takes it from the options the
     * host was started with, like the shim */
    struct pw_watch_opts env;
    pw_run_watch_opts(getenv("PARKWATCH_OPTIONS"), &env);
    wo.halt_on_deadlock = env.halt_on_deadlock;
    unsigned long pid = 0, v;
    long pidfd = -1;
    const char *dir = ".";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_uint(optarg, INT_MAX, &pid) < 0 || pid == 0) {
                pw_err("watch: bad --pid %s", optarg);
                return PW_EXIT_USAGE;
            }
            break;
        case 'f':
            if (parse_uint(optarg, INT_MAX, &v) < 0) {
                pw_err("watch: bad --pidfd %s", optarg);
                return PW_EXIT_USAGE;
            }
            pidfd = (long)v;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'i':
            if (parse_uint(optarg, pw_watch_interval_max(), &v) < 0 || v == 0) {
                pw_err("watch: bad --interval %s (1..%u ms)", optarg, pw_watch_interval_max());
                return PW_EXIT_USAGE;
            }
            wo.interval_ms = (unsigned)v;
            break;
        case 'a': {
            int a = pw_on_deadlock_parse(optarg);
            if (a < 0 || a == PW_ON_DEADLOCK_OFF) {
                pw_err("watch: bad --on-deadlock %s (abort or report)", optarg);
                return PW_EXIT_USAGE;
            }
            wo.action = (enum pw_on_deadlock)a;
            break;
        }
        case 's': {
            int sig = pw_dump_signal_parse(optarg);
            if (sig <= 0) {
                pw_err("watch: bad --dump-signal %s (a signal such as SIGUSR2; never SIGQUIT)",
                       optarg);
                return PW_EXIT_USAGE;
            }
            wo.dump_signal = sig;
            break;
        }
        case 'h':
            usage(stdout);
            return PW_EXIT_OK;
        default:
            usage(stderr);
            return PW_EXIT_USAGE;
        }
    }
    if (!pid || optind != argc) {
        usage(stderr);
        return PW_EXIT_USAGE;
    }
    /* an inherited pidfd that is not one of PID is never used, nor is a pidfd
     * opened in its place: the pid may already name another process */
    if (pidfd >= 0 && pw_trust_check_pidfd((int)pidfd, (pid_t)pid) < 0)
        return PW_EXIT_OK;
    pw_watch_pid((pid_t)pid, (int)pidfd, dir, &wo);
    return PW_EXIT_OK;
}
