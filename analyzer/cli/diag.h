/* Diagnostics of the analyzer: every message to the user is one line,
 * "parkwatch: <reason>" or "parkwatch: warning: <reason>", on stderr, so
 * scripts can rely on a single stderr line per problem.
 *
 * Error policy (out-of-memory included): library code reports what went wrong
 * here, or returns -1 / NULL for its caller to report, and returns the error
 * up to the subcommand, which returns PW_EXIT_USAGE (cli.h) to main.  Nothing
 * below main exits the process, and nothing is dropped silently: a report
 * missing a finding or a key would mislead more than no report at all. */
#ifndef PW_DIAG_H
#define PW_DIAG_H

#include <stdbool.h>

/* Prints "parkwatch: <message>" as one line on stderr. */
void pw_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "parkwatch: warning: <message>" as one line on stderr. */
void pw_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Where the lines go instead of stderr (the message without the prefix and
 * newline): tests capture them with it; NULL restores stderr. */
typedef void pw_diag_sink(bool warning, const char *message);
void pw_diag_set_sink(pw_diag_sink *sink);

#endif
