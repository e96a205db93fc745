/* parkwatch CLI entry: subcommand dispatch and the exit-status contract.
 * Every failure ends up here as a status code; messages are one line each,
 * "parkwatch: <reason>", so scripts can rely on a single stderr line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
#define PW_X(name, fn, synopsis, summary, opts) {name, fn},
    PW_SUBCOMMANDS(PW_X)
#undef PW_X
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        pw_err("missing subcommand (try 'parkwatch --help')");
        return PW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("parkwatch %s\n", PW_VERSION);
        return PW_EXIT_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        pw_print_usage(stdout, NULL);
        return PW_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(cmd, commands[i].name) == 0) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            /* A report written to stdout that cannot be flushed is an error too. */
            if (fflush(stdout) != 0 && rc == PW_EXIT_OK) {
                pw_err("cannot write the output");
                return PW_EXIT_USAGE;
            }
            return rc;
        }
    pw_err("unknown subcommand '%s' (try 'parkwatch --help')", cmd);
    return PW_EXIT_USAGE;
}
