/* Formatting helpers and trace loading for the commands that take many traces. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "reader.h"

const char *pw_fmt_ms(uint64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%llu.%03llu", (unsigned long long)(ns / 1000000),
             (unsigned long long)(ns / 1000 % 1000));
    return buf;
}

/* ---- loading */

static int push(struct pw_trace ***traces, size_t *n, struct pw_trace *t)
{
    struct pw_trace **nt = realloc(*traces, (*n + 1) * sizeof(**traces));
    if (!nt) {
        pw_trace_close(t);
        pw_err("out of memory");
        return -1;
    }
    nt[(*n)++] = t;
    *traces = nt;
    return 0;
}

int pw_load_one(const char *path, struct pw_trace ***traces, size_t *n)
{
    char err[512];
    struct pw_trace *t;
    enum pw_read_status st = pw_trace_open(path, &t, err, sizeof(err));
    if (st == PW_READ_ERROR) {
        pw_err("%s", err);
        return -1;
    }
    if (st == PW_READ_TRUNCATED)
        pw_warn("%s", pw_trace_warning(t));
    return push(traces, n, t);
}

static int is_trace_name(const char *name)
{
    return pw_trace_file_name_matches(name);
}

/* Whether the directory entry PATH is worth opening as a trace: a FIFO, socket
 * or device named like a trace is skipped with one line (reading it would
 * block or never end), and with PW_LOAD_OWNED so is a file of another user. */
static bool loadable(const char *path, int flags)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return true; /* pw_load_one says why */
    if (!S_ISREG(st.st_mode)) {
        pw_warn("%s: not a trace: %s; skipped", path, pw_file_type_name(st.st_mode));
        return false;
    }
    if ((flags & PW_LOAD_OWNED) && st.st_uid != geteuid()) {
        pw_warn("%s: owned by uid %u, not by this user; skipped", path, (unsigned)st.st_uid);
        return false;
    }
    return true;
}

int pw_load_dir(const char *dir, int flags, struct pw_trace ***traces, size_t *n)
{
    struct dirent **ents;
    int ne = scandir(dir, &ents, NULL, alphasort);
    if (ne < 0) {
        pw_err("%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < ne; i++) {
        if (rc == 0 && is_trace_name(ents[i]->d_name)) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
            if (loadable(path, flags) && pw_load_one(path, traces, n) < 0 &&
                (flags & PW_LOAD_STRICT))
                rc = -1;
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

void pw_free_traces(struct pw_trace **traces, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pw_trace_close(traces[i]);
    free(traces);
}
