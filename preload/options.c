/* PARKWATCH_OPTIONS parser: no malloc, no stdio (it runs inside the first
 * interposed call, possibly before libc is fully set up for the program). */
#include "options.h"

#include <stddef.h>
#include <string.h>

#include "shim.h"

enum pw_opt_type { PW_OPT_STR, PW_OPT_UINT };

struct pw_opt_desc {
    const char *name;
    enum pw_opt_type type;
    const char *def;
    uint64_t lo, hi;
    size_t offset;
};

static const struct pw_opt_desc pw_opt_descs[] = {
#define PW_X(name, type, def, lo, hi, help) \
    {#name, PW_OPT_##type, def, lo, hi, offsetof(struct pw_options, name)},
    PW_OPTIONS(PW_X)
#undef PW_X
};

#define PW_NOPTS (sizeof pw_opt_descs / sizeof pw_opt_descs[0])

/* The values point into this copy of the environment string. */
static char pw_opt_buf[1024];

static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static const struct pw_opt_desc *find_desc(const char *key)
{
    for (size_t i = 0; i < PW_NOPTS; i++)
        if (strcmp(pw_opt_descs[i].name, key) == 0)
            return &pw_opt_descs[i];
    return NULL;
}

static void set_value(struct pw_options *opt, const struct pw_opt_desc *d, const char *val)
{
    char *field = (char *)opt + d->offset;
    if (d->type == PW_OPT_STR) {
        memcpy(field, &val, sizeof val);
        return;
    }
    uint64_t v;
    if (parse_u64(val, &v) != 0) {
        pw_warn("ignoring bad value for option ", d->name, "=", val, NULL);
        return;
    }
    if (v < d->lo || v > d->hi) {
        pw_warn("option value out of range, clamped: ", d->name, "=", val, NULL);
        v = v < d->lo ? d->lo : d->hi;
    }
    memcpy(field, &v, sizeof v);
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
    const struct pw_opt_desc *d = find_desc(pair);
    if (d == NULL) {
        pw_warn("ignoring unknown option: ", pair, NULL);
        return;
    }
    set_value(opt, d, eq + 1);
}

void pw_options_parse(struct pw_options *opt, const char *env)
{
    for (size_t i = 0; i < PW_NOPTS; i++)
        set_value(opt, &pw_opt_descs[i], pw_opt_descs[i].def);
    if (env == NULL)
        return;
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
