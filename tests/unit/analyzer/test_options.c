/* PARKWATCH_OPTIONS seen from both wings.
 *
 *   test_options help LIB    a program run with help=1 under the shim LIB names
 *                            every key of the list, with its default and
 *                            meaning, and then runs as usual;
 *   test_options bounds LIB  for values over and under the bounds, not numbers
 *                            or repeated, the shim (its help=1 report of the
 *                            values it took) and `run` (pw_run_watch_opts)
 *                            decide watchdog_ms alike.
 *
 * The program run under the shim is this executable with "child". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "cli.h"
#include "parkwatch/options.h"
#include "watch.h"

#define CHILD_STATUS 42 /* the child's own exit status: it ran to the end */

static const char *self, *lib;
static char dir[] = "/tmp/pwopts.XXXXXX";
static char err[16384];

/* Runs the child under the shim with PARKWATCH_OPTIONS=OPTS; its stderr is
 * left in err.  Returns its exit status, -1 if it did not exit. */
static int run_child(const char *opts)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        setenv("LD_PRELOAD", lib, 1);
        setenv("PARKWATCH_OPTIONS", opts, 1);
        execl(self, self, "child", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], err + n, sizeof(err) - 1 - n)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0)
            n += (size_t)r;
    err[n] = '\0';
    close(p[0]);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* The help line of KEY ("  KEY=VALUE (default ...): help"), or NULL. */
static const char *help_line(const char *key)
{
    for (const char *l = err; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, "  ", 2) == 0 && strncmp(l + 2, key, strlen(key)) == 0 &&
            l[2 + strlen(key)] == '=')
            return l;
    return NULL;
}

/* The value the shim reports for the UINT KEY, or UINT64_MAX. */
static uint64_t shim_value(const char *key)
{
    const char *l = help_line(key);
    return l ? strtoull(l + 2 + strlen(key) + 1, NULL, 10) : UINT64_MAX;
}

static void with_opts(char *buf, size_t len, const char *extra)
{
    snprintf(buf, len, "trace_dir=%s:help=1%s%s", dir, *extra ? ":" : "", extra);
}

static void test_help(void)
{
    char opts[256];
    with_opts(opts, sizeof(opts), "");
    CHECK(run_child(opts) == CHILD_STATUS);
    for (size_t i = 0; i < PW_OPTKEY__COUNT; i++) {
        const struct pw_opt_desc *d = &pw_opt_descs[i];
        const char *l = help_line(d->name);
        CHECK(l != NULL);
        if (!l) {
            fprintf(stderr, "no help line for %s in:\n%s", d->name, err);
            continue;
        }
        const char *end = strchr(l, '\n');
        char line[512];
        snprintf(line, sizeof(line), "%.*s", end ? (int)(end - l) : (int)strlen(l), l);
        char def[64];
        if (d->type == PW_OPT_UINT)
            snprintf(def, sizeof(def),
                     "(default %" PRIu64 ", %" PRIu64 "..%" PRIu64 "): ", d->def_uint, d->lo,
                     d->hi);
        else
            snprintf(def, sizeof(def), "(default \"%s\"): ", d->def_str);
        CHECK(strstr(line, def) != NULL);
        CHECK(strstr(line, d->help) != NULL);
    }
}

/* The shim and `run` take the same watchdog_ms from OPTS; WANT is that value. */
static void agree(const char *extra, uint64_t want)
{
    char opts[256];
    with_opts(opts, sizeof(opts), extra);
    CHECK(run_child(opts) == CHILD_STATUS);
    uint64_t shim = shim_value("watchdog_ms");
    struct pw_watch_opts w;
    pw_run_watch_opts(opts, &w);
    if (shim != want || w.interval_ms != want)
        fprintf(stderr, "%s: shim %" PRIu64 ", run %u, expected %" PRIu64 "\n", extra, shim,
                w.interval_ms, want);
    CHECK(shim == want);
    CHECK(w.interval_ms == want);
}

static void test_bounds(void)
{
    const struct pw_opt_desc *d = &pw_opt_descs[PW_OPTKEY_watchdog_ms];
    char over[64];
    snprintf(over, sizeof(over), "watchdog_ms=%" PRIu64, d->hi + 1);
    agree(over, d->hi);                                        /* clamped */
    agree("watchdog_ms=99999999999999999999999", d->def_uint); /* not a number */
    agree("watchdog_ms=12x", d->def_uint);
    agree("watchdog_ms=", d->def_uint);
    agree("watchdog_ms=0", 0);
    agree("watchdog_ms=250:watchdog_ms=oops", 250);        /* ignored: the earlier stays */
    agree("watchdog_ms=250:watchdog_ms=999999999", d->hi); /* the last wins */
    agree("watchdog_ms=250:nokey:=3:watchdog_ms", 250);

    /* and the shim keeps to the list's bounds for its other numbers */
    char opts[256];
    with_opts(opts, sizeof(opts), "stack_depth=0:verbose=3");
    CHECK(run_child(opts) == CHILD_STATUS);
    CHECK(shim_value("stack_depth") == pw_opt_descs[PW_OPTKEY_stack_depth].lo);
    CHECK(shim_value("verbose") == pw_opt_descs[PW_OPTKEY_verbose].hi);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "child") == 0)
        return CHILD_STATUS;
    if (argc != 3) {
        fprintf(stderr, "usage: test_options help|bounds LIBPARKWATCH\n");
        return 2;
    }
    self = "/proc/self/exe";
    char path[4096];
    ssize_t n = readlink(self, path, sizeof(path) - 1);
    if (n > 0) {
        path[n] = '\0';
        self = path;
    }
    lib = argv[2];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    if (strcmp(argv[1], "help") == 0)
        test_help();
    else
        test_bounds();
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return failures != 0;
}
