/* libFuzzer target: any byte string as a trace file.  Runs what `parkwatch
 * report` and `parkwatch dump` run on it (reader, replay model, detectors,
 * symbolization, every report writer) and must never crash, leak, hang or
 * read out of bounds; a corrupt input is simply an error.
 * Built by scripts/fuzz with clang -fsanitize=fuzzer,address,undefined. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "reader.h"

/* Every error or warning the CLI prints must be one line (SPEC: "a one-line
 * reason"): the diagnostics go to this sink, checked instead of printed. */
static void one_line(bool warning, const char *msg)
{
    (void)warning;
    if (strchr(msg, '\n') != NULL) {
        fprintf(stderr, "message is not one line: %s\n", msg);
        abort();
    }
}

static int quiet(void)
{
    /* the writers and dump print; the sanitizers report on stderr (kept) */
    pw_diag_set_sink(one_line);
    return freopen("/dev/null", "w", stdout) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = quiet();

    struct pw_trace *t = NULL;
    char err[256];
    if (pw_trace_open_mem(data, size, "fuzz.trace", &t, err, sizeof err) != PW_READ_ERROR &&
        t != NULL) {
        struct pw_report_opts o = {
            .format = (enum pw_format)(size % PW_FMT__COUNT),
            .output = "/dev/null",
            .fail_on = ~0u,
            .exitcode = PW_EXIT_FINDINGS,
        };
        pw_analyze_and_report(&t, 1, &o);
        pw_trace_close(t);
    }

    /* dump reads from a path: give it the same bytes through a memfd */
    int fd = memfd_create("fuzz.trace", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        char *argv[] = {"dump", path, NULL};
        pw_cmd_dump(2, argv);
    }
    close(fd);
    return 0;
}
