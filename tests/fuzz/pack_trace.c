/* Packs a trace for the fuzzing corpus: every section shrunk to the entries
 * actually used and placed right after the previous one (8-byte aligned), so a
 * sparse 80 MB trace becomes a few KiB that still reads the same.  Paths
 * under PREFIX (the checkout the seeds were made in) become relative to it.
 * usage: pack_trace IN OUT [PREFIX] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkwatch/trace.h"

static uint64_t used_bytes(const struct pw_trace_header *h, const struct pw_section *s)
{
    if (s == &h->modules)
        return (uint64_t)h->nmodules * s->entry_size;
    if (s == &h->depot_pool)
        return h->depot_used;
    if (s == &h->chans)
        return (uint64_t)h->chans_used * s->entry_size;
    if (s == &h->notes)
        return (uint64_t)h->notes_used * s->entry_size;
    if (s == &h->threads)
        return (uint64_t)h->threads_used * h->thread_slot_size;
    return s->size; /* the depot index is a hash table: kept whole */
}

/* Rewrites "PREFIX/rest..." at the start of field S (LEN bytes used) as
 * "rest..."; returns the bytes removed. */
static size_t unprefix(char *s, size_t len, const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || len <= n || strncmp(s, prefix, n) != 0 || s[n] != '/')
        return 0;
    memmove(s, s + n + 1, len - n - 1);
    memset(s + len - n - 1, 0, n + 1);
    return n + 1;
}

/* Rewrites the path in field S (SIZE bytes) as /golden/<its last component>;
 * returns the change in its length. */
static long golden_path(char *s, size_t size)
{
    size_t len = strnlen(s, size);
    if (len == 0)
        return 0;
    size_t b = len;
    while (b > 0 && s[b - 1] != '/')
        b--;
    char base[PW_MODULE_PATH_MAX];
    snprintf(base, sizeof base, "%.*s", (int)(len - b), s + b);
    size_t n = (size_t)snprintf(s, size, "/golden/%s", base);
    if (n >= size)
        n = size - 1;
    memset(s + n, 0, size - n);
    return (long)n - (long)len;
}

/* The golden rewrite of the header (exe, argv[0]) and the modules. */
static void make_golden(struct pw_trace_header *h, char *out)
{
    golden_path(h->exe, sizeof h->exe);
    if (h->argv_len > 0 && h->argv_len <= sizeof h->argv) {
        char rest[PW_ARGV_MAX], arg0[PW_ARGV_MAX];
        size_t n0 = strnlen(h->argv, h->argv_len);
        size_t nrest = h->argv_len - (n0 < h->argv_len ? n0 + 1 : n0);
        memcpy(rest, h->argv + h->argv_len - nrest, nrest);
        memset(arg0, 0, sizeof arg0);
        memcpy(arg0, h->argv, n0);
        golden_path(arg0, sizeof arg0);
        size_t n = strlen(arg0);
        if (n + 1 + nrest <= sizeof h->argv) {
            memset(h->argv, 0, sizeof h->argv);
            memcpy(h->argv, arg0, n + 1);
            memcpy(h->argv + n + 1, rest, nrest);
            h->argv_len = (uint32_t)(n + 1 + nrest);
        }
    }
    for (uint32_t i = 0; i < h->nmodules; i++) {
        struct pw_module *m = (struct pw_module *)(out + h->modules.offset) + i;
        golden_path(m->path, sizeof m->path);
        memset(m->build_id, 0, sizeof m->build_id);
        m->build_id_len = 0;
    }
}

int main(int argc, char **argv)
{
    int golden = argc > 1 && strcmp(argv[1], "--golden") == 0;
    argc -= golden;
    argv += golden;
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: pack_trace [--golden] IN OUT [PREFIX]\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in || fseek(in, 0, SEEK_END) != 0)
        return perror(argv[1]), 1;
    long len = ftell(in);
    char *buf = malloc((size_t)len), *out = calloc(1, (size_t)len);
    rewind(in);
    if (!buf || !out || fread(buf, 1, (size_t)len, in) != (size_t)len)
        return perror(argv[1]), 1;
    fclose(in);
    struct pw_trace_header *h = (struct pw_trace_header *)out;
    memcpy(out, buf, PW_HEADER_SIZE);
    struct pw_section *secs[] = {&h->modules, &h->depot_index, &h->depot_pool,
                                 &h->chans,   &h->notes,       &h->threads};
    uint64_t off = PW_HEADER_SIZE;
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        struct pw_section *s = secs[i];
        uint64_t n = used_bytes(h, s);
        if (s->offset + n > (uint64_t)len || n > s->size)
            return fprintf(stderr, "%s: section %zu out of bounds\n", argv[1], i), 1;
        memcpy(out + off, buf + s->offset, n);
        s->offset = off;
        s->size = n;
        if (s->entry_size)
            s->count = (uint32_t)(n / (s == &h->threads ? h->thread_slot_size : s->entry_size));
        off = (off + n + 7) & ~7ull;
    }
    h->file_size = off;
    const char *prefix = argc == 4 ? argv[3] : NULL;
    unprefix(h->exe, sizeof h->exe, prefix);
    h->argv_len -= (uint32_t)unprefix(h->argv, h->argv_len, prefix);
    for (uint32_t i = 0; i < h->nmodules; i++) {
        struct pw_module *m = (struct pw_module *)(out + h->modules.offset) + i;
        unprefix(m->path, sizeof m->path, prefix);
    }
    if (golden)
        make_golden(h, out);
    FILE *o = fopen(argv[2], "wb");
    if (!o || fwrite(out, 1, off, o) != off || fclose(o) != 0)
        return perror(argv[2]), 1;
    return 0;
}
