/* One-line diagnostics (diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

static pw_diag_sink *sink;

void pw_diag_set_sink(pw_diag_sink *s)
{
    sink = s;
}

static void vmsg(bool warning, const char *fmt, va_list ap)
{
    /* One buffered line: concurrent writers (the traced program) cannot split it. */
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    if (sink) {
        sink(warning, line);
        return;
    }
    fprintf(stderr, "parkwatch: %s%s\n", warning ? "warning: " : "", line);
    fflush(stderr);
}

void pw_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(false, fmt, ap);
    va_end(ap);
}

void pw_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(true, fmt, ap);
    va_end(ap);
}
