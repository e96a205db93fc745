/* Placeholder symbolizer: module+offset only.  Replaced by the libdwfl one. */
#include "symbolize.h"

#include <stdio.h>
#include <stdlib.h>

#include "reader.h"

struct pw_symbolizer {
    const struct pw_trace *t;
};

struct pw_symbolizer *pw_sym_new(const struct pw_trace *t)
{
    struct pw_symbolizer *s = calloc(1, sizeof(*s));
    if (s)
        s->t = t;
    return s;
}

void pw_sym_free(struct pw_symbolizer *s)
{
    free(s);
}

size_t pw_sym_stack(struct pw_symbolizer *s, const uint64_t *pcs, unsigned n,
                    struct pw_frame **out)
{
    struct pw_frame *f = calloc(n ? n : 1, sizeof(*f));
    *out = f;
    if (!f)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        f[i].pc = pcs[i];
        for (size_t m = 0; m < pw_trace_nmodules(s->t); m++) {
            const struct pw_module *mod = pw_trace_module(s->t, m);
            if (pcs[i] >= mod->lo && pcs[i] < mod->hi) {
                f[i].module = mod->path;
                f[i].module_offset = pcs[i] - mod->base;
                break;
            }
        }
    }
    return n;
}

const char *pw_frame_format(const struct pw_frame *f, char *buf, size_t len)
{
    if (f->function && f->file)
        snprintf(buf, len, "%s (%s:%d)", f->function, f->file, f->line);
    else if (f->function)
        snprintf(buf, len, "%s (%s+0x%llx)", f->function, f->module ? f->module : "?",
                 (unsigned long long)f->module_offset);
    else if (f->module)
        snprintf(buf, len, "%s+0x%llx", f->module, (unsigned long long)f->module_offset);
    else
        snprintf(buf, len, "0x%llx", (unsigned long long)f->pc);
    return buf;
}
