/* Symbolized stacks for the writers, cached per (trace, stack id).
 *
 * A report names the same few stacks many times (every leaked worker of a pool
 * shares one park stack and one "created by" stack), so each is symbolized once.
 * The cache is an open-addressing table keyed by (trace, id); the frame arrays
 * it holds are never moved, so pointers handed out stay valid until the end. */
#include "frames.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demangle.h"
#include "reader.h"

struct fr_entry {
    const struct pw_trace *t; /* NULL = empty slot */
    uint32_t id;
    size_t n;
    struct pw_frame *v;
};

struct fr_sym {
    const struct pw_trace *t;
    struct pw_symbolizer *s;
};

struct fr_data {
    const struct pw_trace *t;
    uint64_t addr;
    char *name;
};

struct pw_frames {
    struct fr_entry *slots;
    size_t cap, used;
    struct fr_sym *syms;
    size_t nsyms;
    char *base; /* directory prefix stripped from source paths */
    size_t baselen;
    struct fr_data *data; /* pw_frames_data_name answers, NULL name = none */
    size_t ndata;
};

/* Outermost frames nobody wants to read: libc start-up below main and the
 * clone trampoline below start_thread.  From the first of these on, the rest
 * of the stack is dropped. */
static const char *const tail_functions[] = {
    "__libc_start_call_main",
    "__libc_start_main",
    "__libc_start_main_impl",
    "__libc_start_main_alias_2",
    "_start",
    "clone",
    "clone3",
    "__clone",
    "__clone3",
    "__clone_internal",
};

static bool is_tail(const struct pw_frame *f)
{
    if (!f->function)
        return false;
    for (size_t i = 0; i < sizeof(tail_functions) / sizeof(tail_functions[0]); i++)
        if (strcmp(f->function, tail_functions[i]) == 0)
            return true;
    return false;
}

struct pw_frames *pw_frames_new(void)
{
    struct pw_frames *fr = calloc(1, sizeof(*fr));
    if (!fr)
        return NULL;
    char *cwd = getcwd(NULL, 0);
    pw_frames_set_base_dir(fr, cwd);
    free(cwd);
    return fr;
}

void pw_frames_set_base_dir(struct pw_frames *fr, const char *dir)
{
    free(fr->base);
    fr->base = NULL;
    fr->baselen = 0;
    /* "/" would strip the leading slash of every absolute path */
    if (!dir || !*dir || strcmp(dir, "/") == 0)
        return;
    fr->base = strdup(dir);
    fr->baselen = fr->base ? strlen(fr->base) : 0;
    while (fr->baselen > 1 && fr->base[fr->baselen - 1] == '/')
        fr->base[--fr->baselen] = '\0';
}

void pw_frames_free(struct pw_frames *fr)
{
    if (!fr)
        return;
    for (size_t i = 0; i < fr->cap; i++)
        free(fr->slots[i].v);
    free(fr->slots);
    for (size_t i = 0; i < fr->nsyms; i++)
        pw_sym_free(fr->syms[i].s);
    free(fr->syms);
    for (size_t i = 0; i < fr->ndata; i++)
        free(fr->data[i].name);
    free(fr->data);
    free(fr->base);
    free(fr);
}

static struct pw_symbolizer *sym_for(struct pw_frames *fr, const struct pw_trace *t)
{
    for (size_t i = 0; i < fr->nsyms; i++)
        if (fr->syms[i].t == t)
            return fr->syms[i].s;
    struct fr_sym *ns = realloc(fr->syms, (fr->nsyms + 1) * sizeof(*ns));
    if (!ns)
        return NULL;
    fr->syms = ns;
    /* a NULL symbolizer is cached too: pw_sym_stack then yields no frames */
    fr->syms[fr->nsyms] = (struct fr_sym){t, pw_sym_new(t)};
    return fr->syms[fr->nsyms++].s;
}

static size_t slot_of(const struct pw_trace *t, uint32_t id, size_t cap)
{
    uint64_t h = ((uint64_t)(uintptr_t)t ^ ((uint64_t)id << 20)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 23) & (cap - 1);
}

static struct fr_entry *find_slot(struct pw_frames *fr, const struct pw_trace *t, uint32_t id)
{
    for (size_t i = slot_of(t, id, fr->cap);; i = (i + 1) & (fr->cap - 1)) {
        struct fr_entry *e = &fr->slots[i];
        if (!e->t || (e->t == t && e->id == id))
            return e;
    }
}

/* Keeps the table at most half full. */
static int grow(struct pw_frames *fr)
{
    if (fr->cap && (fr->used + 1) * 2 <= fr->cap)
        return 0;
    size_t cap = fr->cap ? fr->cap * 2 : 64;
    struct fr_entry *old = fr->slots;
    size_t oldcap = fr->cap;
    fr->slots = calloc(cap, sizeof(*fr->slots));
    if (!fr->slots) {
        fr->slots = old;
        return -1;
    }
    fr->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].t)
            *find_slot(fr, old[i].t, old[i].id) = old[i];
    free(old);
    return 0;
}

static const char *short_path(const struct pw_frames *fr, const char *file)
{
    if (!file || !fr->baselen || strncmp(file, fr->base, fr->baselen) != 0 ||
        file[fr->baselen] != '/')
        return file;
    return file + fr->baselen + 1;
}

static bool in_public_header(const struct pw_frame *f)
{
    const char *slash = f->file ? strrchr(f->file, '/') : NULL;
    return f->file && strcmp(slash ? slash + 1 : f->file, "parkwatch.h") == 0;
}

size_t pw_frames_tidy(const struct pw_frames *fr, struct pw_frame *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (is_tail(&v[i])) {
            n = i;
            break;
        }
        v[i].file = short_path(fr, v[i].file);
    }
    /* the public header's inline wrappers (parkwatch_chan_make) are the
     * tool's own frames, hidden like the shim's: the caller is the site */
    size_t skip = 0;
    while (skip + 1 < n && in_public_header(&v[skip]))
        skip++;
    if (skip)
        memmove(v, v + skip, (n - skip) * sizeof(*v));
    return n - skip;
}

static size_t symbolize(struct pw_frames *fr, const struct pw_trace *t, uint32_t id,
                        struct pw_frame **out)
{
    const uint64_t *pcs;
    unsigned n;
    *out = NULL;
    if (pw_trace_stack(t, id, &pcs, &n) < 0 || n == 0)
        return 0;
    struct pw_symbolizer *s = sym_for(fr, t);
    size_t k = pw_sym_stack(s, pcs, n, out);
    return pw_frames_tidy(fr, *out, k);
}

size_t pw_frames_pcs(struct pw_frames *fr, const struct pw_trace *t, const uint64_t *pcs,
                     unsigned n, struct pw_frame **out)
{
    *out = NULL;
    if (!fr || !t || !n)
        return 0;
    size_t k = pw_sym_stack(sym_for(fr, t), pcs, n, out);
    return pw_frames_tidy(fr, *out, k);
}

size_t pw_frames_get(struct pw_frames *fr, const struct pw_trace *t, uint32_t id,
                     const struct pw_frame **out)
{
    *out = NULL;
    if (!fr || !t || id == 0 || grow(fr) < 0)
        return 0;
    struct fr_entry *e = find_slot(fr, t, id);
    if (!e->t) {
        *e = (struct fr_entry){t, id, 0, NULL};
        e->n = symbolize(fr, t, id, &e->v);
        fr->used++;
    }
    *out = e->v;
    return e->n;
}

const char *pw_frames_data_name(struct pw_frames *fr, const struct pw_trace *t, uint64_t addr)
{
    /* a report names a handful of locks: a list will do */
    for (size_t i = 0; i < fr->ndata; i++)
        if (fr->data[i].t == t && fr->data[i].addr == addr)
            return fr->data[i].name;
    struct fr_data *nd = realloc(fr->data, (fr->ndata + 1) * sizeof(*nd));
    if (!nd)
        return NULL;
    fr->data = nd;
    uint64_t off = 0;
    const char *sym = pw_sym_data(sym_for(fr, t), addr, &off);
    char *pretty = pw_demangle(sym); /* a C++ or Rust static: "&(anonymous namespace)::gate" */
    char *name = NULL;
    if (pretty)
        sym = pretty;
    if (sym && (off ? asprintf(&name, "&%s+%llu", sym, (unsigned long long)off)
                    : asprintf(&name, "&%s", sym)) < 0)
        name = NULL;
    free(pretty);
    fr->data[fr->ndata++] = (struct fr_data){t, addr, name};
    return name;
}
