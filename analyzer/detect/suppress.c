/* Suppression rules: parsing and matching against a finding's stacks. */
#include "suppress.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "finding.h"
#include "frames.h"
#include "model.h"
#include "reader.h"

#define ANY_KIND (-1)
/* "abandoned-at-exit:GLOB": thread-leak findings marked abandoned at exit
 * (parked when the process exited or was stopped; detect.c), never one stuck
 * earlier.  A GLOB written "thread=NAME-GLOB" matches the threads' names, for
 * programs without symbols whose threads are named (memcached's mc-worker). */
#define ABANDONED_KIND (-2)
#define THREAD_PREFIX "thread="

struct rule {
    int kind; /* enum pw_finding_kind, or ANY_KIND */
    char *glob;
};

struct pw_suppressions {
    size_t n;
    struct rule *v;
};

void pw_supp_free(struct pw_suppressions *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].glob);
    free(s->v);
    free(s);
}

size_t pw_supp_count(const struct pw_suppressions *s)
{
    return s ? s->n : 0;
}

/* Trims blanks at both ends in place. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* One non-blank, non-comment line.  Returns 0, or -1 after the one-line error. */
static int parse_rule(char *line, const char *name, unsigned lineno, struct rule *r)
{
    char *colon = strchr(line, ':');
    if (!colon) {
        pw_err("%s:%u: expected 'kind:function-glob', got '%s'", name, lineno, line);
        return -1;
    }
    *colon = '\0';
    char *kind = trim(line), *glob = trim(colon + 1);
    if (strcmp(kind, "*") == 0) {
        r->kind = ANY_KIND;
    } else if (strcmp(kind, "abandoned-at-exit") == 0) {
        r->kind = ABANDONED_KIND;
    } else if ((r->kind = pw_finding_kind_parse(kind)) < 0) {
        pw_err("%s:%u: unknown finding kind '%s'", name, lineno, kind);
        return -1;
    }
    if (!*glob) {
        pw_err("%s:%u: empty function glob after '%s:'", name, lineno, kind);
        return -1;
    }
    r->glob = strdup(glob);
    if (!r->glob) {
        pw_err("out of memory");
        return -1;
    }
    return 0;
}

static int add_line(struct pw_suppressions *s, char *line, const char *name, unsigned lineno)
{
    line = trim(line);
    if (!*line || *line == '#')
        return 0;
    struct rule r;
    if (parse_rule(line, name, lineno, &r) < 0)
        return -1;
    struct rule *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
    if (!nv) {
        free(r.glob);
        pw_err("out of memory");
        return -1;
    }
    s->v = nv;
    s->v[s->n++] = r;
    return 0;
}

struct pw_suppressions *pw_supp_parse(const char *text, const char *name, bool *bad)
{
    *bad = false;
    struct pw_suppressions *s = calloc(1, sizeof(*s));
    char *copy = strdup(text);
    if (!s || !copy) {
        pw_err("out of memory");
        goto fail;
    }
    unsigned lineno = 0;
    for (char *line = copy, *next; line; line = next) {
        /* not strtok: it would skip empty lines and break the line numbers */
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (add_line(s, line, name, ++lineno) < 0) {
            *bad = true;
            goto fail;
        }
    }
    free(copy);
    return s;
fail:
    free(copy);
    pw_supp_free(s);
    return NULL;
}

/* A suppressions file is a short hand-written list; anything bigger is a
 * mistake (`--suppressions /dev/zero` would grow without limit). */
#define SUPP_MAX_BYTES (1u << 20)

static char *read_bounded(int fd, const char *path, size_t *lenp)
{
    char *buf = malloc(SUPP_MAX_BYTES + 1);
    size_t len = 0;
    if (!buf) {
        pw_err("out of memory");
        return NULL;
    }
    /* one byte more than allowed: a file that grew past the bound is seen */
    while (len <= SUPP_MAX_BYTES) {
        ssize_t r = read(fd, buf + len, SUPP_MAX_BYTES + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            pw_err("%s: %s", path, strerror(errno));
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len > SUPP_MAX_BYTES) {
        pw_err("%s: larger than %u KiB: not a suppressions file", path, SUPP_MAX_BYTES / 1024);
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

static char *slurp(const char *path, size_t *lenp)
{
    /* refused before opening: a device's open can act (see reader.c) */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        pw_err("%s: not a suppressions file: %s", path, pw_file_type_name(st.st_mode));
        return NULL;
    }
    /* O_NONBLOCK: a FIFO swapped in after the check must not block the open */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        pw_err("%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    if (fstat(fd, &st) < 0)
        pw_err("%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        pw_err("%s: not a suppressions file: %s", path, pw_file_type_name(st.st_mode));
    else if ((uint64_t)st.st_size > SUPP_MAX_BYTES)
        pw_err("%s: larger than %u KiB: not a suppressions file", path, SUPP_MAX_BYTES / 1024);
    else
        text = read_bounded(fd, path, lenp);
    close(fd);
    return text;
}

struct pw_suppressions *pw_supp_load(const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text)
        return NULL;
    /* a NUL byte would silently cut every rule after it */
    if (strlen(text) != len) {
        pw_err("%s: not a text file (contains a NUL byte)", path);
        free(text);
        return NULL;
    }
    bool bad;
    struct pw_suppressions *s = pw_supp_parse(text, path, &bad);
    free(text);
    return s;
}

bool pw_supp_match(const struct pw_suppressions *s, int kind, const char *fn)
{
    if (!s || !fn)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const struct rule *r = &s->v[i];
        if ((r->kind == ANY_KIND || r->kind == kind) && fnmatch(r->glob, fn, 0) == 0)
            return true;
    }
    return false;
}

static bool rule_applies(const struct rule *r, const struct pw_finding *f)
{
    if (r->kind == ABANDONED_KIND)
        /* the leaked threads, and the never-closed channel they wait on when
         * its sender was still alive at the end: one story, one rule */
        return (f->kind == PW_FK_THREAD_LEAK || f->kind == PW_FK_CHAN_NEVER_CLOSED) &&
               f->abandoned_at_exit;
    return r->kind == ANY_KIND || r->kind == (int)f->kind;
}

static bool thread_rule(const struct rule *r)
{
    return strncmp(r->glob, THREAD_PREFIX, strlen(THREAD_PREFIX)) == 0;
}

static bool stack_matches(const struct pw_suppressions *s, const struct pw_finding *f,
                          struct pw_frames *fr, uint32_t id)
{
    const struct pw_frame *v;
    size_t n = pw_frames_get(fr, f->proc->trace, id, &v);
    for (size_t k = 0; k < s->n; k++) {
        const struct rule *r = &s->v[k];
        if (!rule_applies(r, f) || thread_rule(r))
            continue;
        for (size_t i = 0; i < n; i++)
            if (v[i].function && fnmatch(r->glob, v[i].function, 0) == 0)
                return true;
    }
    return false;
}

/* Every thread of F is named by a thread= rule that applies to F. */
static bool names_match(const struct pw_suppressions *s, const struct pw_finding *f)
{
    if (!f->nthreads)
        return false;
    for (size_t i = 0; i < f->nthreads; i++) {
        bool hit = false;
        for (size_t k = 0; k < s->n && !hit; k++) {
            const struct rule *r = &s->v[k];
            hit = rule_applies(r, f) && thread_rule(r) &&
                  fnmatch(r->glob + strlen(THREAD_PREFIX), f->threads[i].t->name, 0) == 0;
        }
        if (!hit)
            return false;
    }
    return true;
}

static bool finding_matches(const struct pw_suppressions *s, const struct pw_finding *f,
                            struct pw_frames *fr)
{
    if (names_match(s, f))
        return true;
    for (size_t i = 0; i < f->nthreads; i++) {
        const struct pw_fthread *ft = &f->threads[i];
        if (stack_matches(s, f, fr, ft->stack) || stack_matches(s, f, fr, ft->stack2) ||
            stack_matches(s, f, fr, ft->t->create_stack))
            return true;
    }
    for (size_t i = 0; i < f->nobjects; i++)
        if (stack_matches(s, f, fr, f->objects[i].stack))
            return true;
    return false;
}

size_t pw_supp_apply(const struct pw_suppressions *s, struct pw_findings *fs, struct pw_frames *fr)
{
    size_t n = 0;
    if (!s || !s->n)
        return 0;
    for (size_t i = 0; i < fs->n; i++) {
        struct pw_finding *f = fs->v[i];
        if (finding_matches(s, f, fr)) {
            f->suppressed = true;
            n++;
        }
    }
    return n;
}
