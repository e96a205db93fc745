/* PARKWATCH_OPTIONS parser and its help=1 text: no malloc, no stdio (it runs
 * inside the first interposed call, possibly before libc is fully set up for
 * the program).  The keys, defaults and bounds are include/parkwatch/options.h. */
#include "options.h"

#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Where each key's value lives in struct pw_options, by enum pw_opt_key. */
static const size_t pw_opt_offset[PW_OPTKEY__COUNT] = {
#define PW_X(name, type, def, lo, hi, help) offsetof(struct pw_options, name),
    PW_OPTIONS(PW_X)
#undef PW_X
};

/* The values point into this copy of the environment string. */
static char pw_opt_buf[PW_OPTIONS_MAX];

static void *field_of(struct pw_options *opt, const struct pw_opt_desc *d)
{
    return (char *)opt + pw_opt_offset[d - pw_opt_descs];
}

static void set_value(struct pw_options *opt, const struct pw_opt_desc *d, const char *val)
{
    char *field = field_of(opt, d);
    if (d->type == PW_OPT_STR) {
        memcpy(field, &val, sizeof val);
        return;
    }
    uint64_t v;
    switch (pw_opt_uint(d, val, strlen(val), &v)) {
    case PW_OPT_BAD:
        pw_warn("ignoring bad value for option ", d->name, "=", val, NULL);
        return;
    case PW_OPT_CLAMPED:
        pw_warn("option value out of range, clamped: ", d->name, "=", val, NULL);
        break;
    case PW_OPT_OK:
        break;
    }
    memcpy(field, &v, sizeof v);
}

static void set_default(struct pw_options *opt, const struct pw_opt_desc *d)
{
    char *field = field_of(opt, d);
    if (d->type == PW_OPT_STR)
        memcpy(field, &d->def_str, sizeof d->def_str);
    else
        memcpy(field, &d->def_uint, sizeof d->def_uint);
}

static void parse_pair(struct pw_options *opt, char *pair)
{
    if (*pair == '\0')
        return;
    char *eq = strchr(pair, '=');
    if (eq == NULL) {
        pw_warn("ignoring option without a value: ", pair, NULL);
        return;
    }
    *eq = '\0';
    const struct pw_opt_desc *d = pw_opt_find(pair, (size_t)(eq - pair));
    if (d == NULL) {
        pw_warn("ignoring unknown option: ", pair, NULL);
        return;
    }
    set_value(opt, d, eq + 1);
}

/* ---- help=1 */

/* Lines collect here and go out in as few writes as fit, so that the help
 * text is not interleaved with the host's own output line by line. */
static char pw_help_buf[4096];
static size_t pw_help_len;

static void help_flush(void)
{
    if (pw_help_len > 0 && syscall(SYS_write, 2, pw_help_buf, pw_help_len) < 0)
        pw_help_len = 0; /* stderr is gone: nothing else to do */
    pw_help_len = 0;
}

static void help_line(const char *line, size_t n)
{
    if (pw_help_len + n > sizeof pw_help_buf)
        help_flush();
    memcpy(pw_help_buf + pw_help_len, line, n);
    pw_help_len += n;
}

/* "  ring_events=256 (default 256, 16..65536): events per thread ring" */
static void help_option(const struct pw_options *opt, const struct pw_opt_desc *d)
{
    char line[512];
    const char *field = (const char *)opt + pw_opt_offset[d - pw_opt_descs];
    size_t cap = sizeof line - 1, n = pw_append(line, 0, cap, "  ");
    n = pw_append(line, n, cap, d->name);
    n = pw_append(line, n, cap, "=");
    if (d->type == PW_OPT_STR) {
        const char *v;
        memcpy(&v, field, sizeof v);
        n = pw_append(line, n, cap, v);
        n = pw_append(line, n, cap, " (default \"");
        n = pw_append(line, n, cap, d->def_str);
        n = pw_append(line, n, cap, "\"");
    } else {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        n = pw_append_u64(line, n, cap, v);
        n = pw_append(line, n, cap, " (default ");
        n = pw_append_u64(line, n, cap, d->def_uint);
        n = pw_append(line, n, cap, ", ");
        n = pw_append_u64(line, n, cap, d->lo);
        n = pw_append(line, n, cap, "..");
        n = pw_append_u64(line, n, cap, d->hi);
    }
    n = pw_append(line, n, cap, "): ");
    n = pw_append(line, n, cap, d->help);
    line[n++] = '\n';
    help_line(line, n);
}

static void print_help(const struct pw_options *opt)
{
    static const char head[] =
        "parkwatch: PARKWATCH_OPTIONS=\"key=value:key=value\"; every key, its value, "
        "default and meaning:\n";
    help_line(head, sizeof head - 1);
    for (size_t i = 0; i < PW_OPTKEY__COUNT; i++)
        help_option(opt, &pw_opt_descs[i]);
    help_flush();
}

void pw_options_parse(struct pw_options *opt, const char *env)
{
    for (size_t i = 0; i < PW_OPTKEY__COUNT; i++)
        set_default(opt, &pw_opt_descs[i]);
    if (env != NULL) {
        if (pw_strlcpy(pw_opt_buf, env, sizeof pw_opt_buf) >= sizeof pw_opt_buf)
            pw_warn("PARKWATCH_OPTIONS too long, truncated", NULL);
        char *p = pw_opt_buf;
        while (p != NULL) {
            char *colon = strchr(p, ':');
            if (colon != NULL)
                *colon = '\0';
            parse_pair(opt, p);
            p = colon != NULL ? colon + 1 : NULL;
        }
    }
    if (opt->help)
        print_help(opt);
}
