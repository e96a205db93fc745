/* Symbolizer unit test: the program takes its own return addresses, builds the
 * module map the shim would record (dl_iterate_phdr: path, load bias, PT_LOAD
 * range, GNU build-id) and checks function, file and line of every frame,
 * including an always_inline function, against __LINE__.  Built twice, at -O0
 * and -O2, from this one source. */
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nodebug.h"
#include "parkwatch/trace.h"
#include "symbolize.h"

#define RA() ((uint64_t)(uintptr_t)__builtin_return_address(0))
#define BARRIER() __asm__ volatile("" ::: "memory")
#define NOINLINE __attribute__((noinline, noclone))

static int failures;

static void check(int ok, const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

/* ---- the victim call chain: test_chain -> outer -> mid -> inl_step -> grab */

static uint64_t chain_pcs[3];
static int line_grab, line_inl, line_mid, line_outer;

NOINLINE static void grab(void)
{
    chain_pcs[0] = RA();
    BARRIER();
}

static inline __attribute__((always_inline)) void inl_step(void)
{
    /* the call must be on __LINE__'s line */
    // clang-format off
    line_grab = __LINE__; grab();
    // clang-format on
    BARRIER();
}

NOINLINE static void mid(void)
{
    chain_pcs[1] = RA();
    /* the call must be on __LINE__'s line */
    // clang-format off
    line_inl = __LINE__; inl_step();
    // clang-format on
    BARRIER();
}

NOINLINE static void outer(void)
{
    chain_pcs[2] = RA();
    /* the call must be on __LINE__'s line */
    // clang-format off
    line_mid = __LINE__; mid();
    // clang-format on
    BARRIER();
}

NOINLINE static void run_chain(void)
{
    /* the call must be on __LINE__'s line */
    // clang-format off
    line_outer = __LINE__; outer();
    // clang-format on
    BARRIER();
}

NOINLINE static void *ra_of_caller(void)
{
    void *ra = __builtin_return_address(0);
    BARRIER();
    return ra;
}

/* ---- the module map, as the shim records it */

static struct pw_module mods[128];
static size_t nmods;
static size_t exe_index = (size_t)-1;

static void note_build_id(struct pw_module *m, const char *p, size_t size)
{
    while (size >= sizeof(ElfW(Nhdr))) {
        const ElfW(Nhdr) *nh = (const void *)p;
        size_t name = (nh->n_namesz + 3) & ~3u, desc = (nh->n_descsz + 3) & ~3u;
        size_t total = sizeof(*nh) + name + desc;
        if (total > size)
            return;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
            memcmp(p + sizeof(*nh), "GNU", 4) == 0 && nh->n_descsz <= PW_BUILD_ID_MAX) {
            memcpy(m->build_id, p + sizeof(*nh) + name, nh->n_descsz);
            m->build_id_len = nh->n_descsz;
            return;
        }
        p += total;
        size -= total;
    }
}

static int add_phdr_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (nmods == sizeof(mods) / sizeof(mods[0]))
        return 1;
    struct pw_module *m = &mods[nmods];
    memset(m, 0, sizeof(*m));
    int is_exe = info->dlpi_name[0] == '\0';
    snprintf(m->path, sizeof(m->path), "%s", is_exe ? "/proc/self/exe" : info->dlpi_name);
    m->base = info->dlpi_addr;
    m->lo = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            m->lo = start < m->lo ? start : m->lo;
            m->hi = start + ph->p_memsz > m->hi ? start + ph->p_memsz : m->hi;
        } else if (ph->p_type == PT_NOTE && !m->build_id_len) {
            note_build_id(m, (const char *)(uintptr_t)start, ph->p_memsz);
        }
    }
    m->state = 1;
    if (is_exe && exe_index == (size_t)-1)
        exe_index = nmods;
    nmods++;
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

/* ---- expectations */

struct want {
    const char *function;
    int line;
    int inlined;
};

static void check_frames(const char *what, const struct pw_frame *f, size_t n, const struct want *w,
                         size_t nw, const char *module)
{
    check(n == nw, "%s: %zu frames, want %zu", what, n, nw);
    char buf[1024];
    for (size_t i = 0; i < n && i < nw; i++) {
        const char *fmt = pw_frame_format(&f[i], buf, sizeof(buf));
        printf("  %s #%zu %s%s col %d\n", what, i, fmt, f[i].inlined ? " [inlined]" : "",
               f[i].column);
        check(f[i].function && strcmp(f[i].function, w[i].function) == 0,
              "%s #%zu: function %s, want %s", what, i, f[i].function ? f[i].function : "(null)",
              w[i].function);
        check(f[i].file && strcmp(base_name(f[i].file), "test_symbolize.c") == 0,
              "%s #%zu: file %s", what, i, f[i].file ? f[i].file : "(null)");
        check(f[i].line == w[i].line, "%s #%zu: line %d, want %d", what, i, f[i].line, w[i].line);
        check(f[i].column > 0, "%s #%zu: no column", what, i);
        check(f[i].inlined == w[i].inlined, "%s #%zu: inlined %d", what, i, f[i].inlined);
        check(module && f[i].module && strcmp(f[i].module, module) == 0, "%s #%zu: module %s", what,
              i, f[i].module ? f[i].module : "(null)");
    }
}

static void check_chain(const char *what, struct pw_symbolizer *s, const uint64_t *pcs,
                        const char *module)
{
    const struct want w[] = {
        {"inl_step", line_grab, 1},
        {"mid", line_inl, 0},
        {"outer", line_mid, 0},
        {"run_chain", line_outer, 0},
    };
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, pcs, 3, &f);
    check_frames(what, f, n, w, 4, module);
    free(f);
}

/* Symbolizes the chain with the exe module replaced by M; expects module+offset. */
static void check_degraded(const char *what, const struct pw_module *m, const char *debug_path)
{
    struct pw_module copy[128];
    memcpy(copy, mods, nmods * sizeof(mods[0]));
    copy[exe_index] = *m;
    struct pw_symbolizer *s = pw_sym_new_modules(copy, nmods);
    check(s != NULL, "%s: no symbolizer", what);
    if (!s)
        return;
    pw_sym_set_debug_path(s, debug_path);
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, chain_pcs, 3, &f);
    check(n == 3, "%s: %zu frames, want 3 (no inline expansion without symbols)", what, n);
    for (size_t i = 0; i < n; i++) {
        char buf[1024], want[1024];
        snprintf(want, sizeof(want), "%s+0x%llx", m->path,
                 (unsigned long long)(chain_pcs[i] - m->base));
        pw_frame_format(&f[i], buf, sizeof(buf));
        printf("  %s #%zu %s\n", what, i, buf);
        check(!f[i].function && !f[i].file && f[i].line == 0, "%s #%zu: symbols from %s", what, i,
              buf);
        check(strcmp(buf, want) == 0, "%s #%zu: %s, want %s", what, i, buf, want);
    }
    free(f);
    pw_sym_free(s);
}

/* ---- tests */

static void test_chain(struct pw_symbolizer *s)
{
    check_chain("chain", s, chain_pcs, "/proc/self/exe");
    /* Second lookup comes from the cache: the very same interned strings. */
    struct pw_frame *a, *b;
    size_t na = pw_sym_stack(s, chain_pcs, 3, &a);
    size_t nb = pw_sym_stack(s, chain_pcs, 3, &b);
    check(na == nb && na > 0, "cache: %zu vs %zu frames", na, nb);
    for (size_t i = 0; i < na && i < nb; i++)
        check(a[i].function == b[i].function && a[i].file == b[i].file,
              "cache: frame %zu not interned", i);
    free(a);
    free(b);
}

static void test_nodebug(struct pw_symbolizer *s)
{
    uint64_t pc = (uint64_t)(uintptr_t)pw_nodebug_trampoline(ra_of_caller);
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, &pc, 1, &f);
    check(n == 1, "nodebug: %zu frames", n);
    if (n < 1)
        return;
    char buf[1024];
    printf("  nodebug %s\n", pw_frame_format(&f[0], buf, sizeof(buf)));
    check(f[0].function && strcmp(f[0].function, "pw_nodebug_trampoline") == 0,
          "nodebug: function %s", f[0].function ? f[0].function : "(null)");
    check(f[0].file == NULL && f[0].line == 0, "nodebug: has a file: %s", buf);
    check(f[0].module && strstr(f[0].module, "pwsymnodebug"), "nodebug: module %s",
          f[0].module ? f[0].module : "(null)");
    char want[1024];
    snprintf(want, sizeof(want), "pw_nodebug_trampoline (%s+0x%llx)", f[0].module,
             (unsigned long long)f[0].module_offset);
    check(strcmp(buf, want) == 0, "nodebug: format %s", buf);
    free(f);
}

static void test_outside(struct pw_symbolizer *s)
{
    uint64_t pcs[] = {0x10, 0, UINT64_MAX};
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, pcs, 3, &f);
    check(n == 3, "outside: %zu frames", n);
    for (size_t i = 0; i < n; i++) {
        char buf[64], want[64];
        snprintf(want, sizeof(want), "0x%llx", (unsigned long long)pcs[i]);
        check(!f[i].module && !f[i].function, "outside #%zu: has a module", i);
        check(strcmp(pw_frame_format(&f[i], buf, sizeof(buf)), want) == 0,
              "outside #%zu: %s, want %s", i, buf, want);
    }
    free(f);
}

static void test_bad_modules(const char *empty_dir)
{
    struct pw_module m = mods[exe_index];
    m.build_id[0] ^= 0xff; /* a rebuilt binary: same path, another build-id */
    check_degraded("wrong-build-id", &m, empty_dir);

    m = mods[exe_index];
    snprintf(m.path, sizeof(m.path), "/nonexistent/parkwatch-test/prog");
    check_degraded("missing-path", &m, empty_dir);

    m = mods[exe_index];
    snprintf(m.path, sizeof(m.path), "/dev/null");
    check_degraded("not-elf", &m, empty_dir);

    m = mods[exe_index];
    memset(m.path, 'x', sizeof(m.path)); /* no NUL: untrusted record */
    m.path[0] = '/';
    struct pw_symbolizer *s = pw_sym_new_modules(&m, 1);
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, chain_pcs, 1, &f);
    check(n == 1 && f[0].module && strlen(f[0].module) == sizeof(m.path),
          "unterminated path not clamped");
    free(f);
    pw_sym_free(s);
}

/* The recorded path holds another file, but a .build-id tree has the right
 * one: symbols come from there. */
static void test_build_id_tree(const char *dir)
{
    const struct pw_module *exe = &mods[exe_index];
    char hex[2 * PW_BUILD_ID_MAX + 1], sub[PATH_MAX], link[PATH_MAX + 128], target[PATH_MAX];
    for (size_t i = 0; i < exe->build_id_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", exe->build_id[i]);
    snprintf(sub, sizeof(sub), "%s/.build-id", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof(sub), "%s/.build-id/%.2s", dir, hex);
    mkdir(sub, 0700);
    snprintf(link, sizeof(link), "%s/%s.debug", sub, hex + 2);
    check(realpath("/proc/self/exe", target) != NULL, "realpath of the test program");
    check(symlink(target, link) == 0, "symlink %s", link);

    struct pw_module copy[128];
    memcpy(copy, mods, nmods * sizeof(mods[0]));
    snprintf(copy[exe_index].path, sizeof(copy[exe_index].path), "/bin/sh");
    struct pw_symbolizer *s = pw_sym_new_modules(copy, nmods);
    pw_sym_set_debug_path(s, dir);
    check_chain("build-id-tree", s, chain_pcs, "/bin/sh");
    pw_sym_free(s);
    unlink(link);
    rmdir(sub);
}

/* Frames of libparkwatch itself are dropped, the others kept. */
static void test_hidden(void)
{
    struct pw_module copy[129];
    memcpy(copy, mods, nmods * sizeof(mods[0]));
    copy[nmods] = mods[exe_index];
    snprintf(copy[nmods].path, sizeof(copy[nmods].path), "/opt/pw/lib/libparkwatch.so");
    struct pw_symbolizer *s = pw_sym_new_modules(copy, nmods + 1);
    uint64_t pcs[] = {chain_pcs[0], 0x10, chain_pcs[1]};
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, pcs, 3, &f);
    check(n == 1 && f[0].pc == 0x10, "hidden: %zu frames, want only the pc outside", n);
    free(f);
    pw_sym_free(s);
}

#ifdef PW_TEST_WITH_READER
#include "reader.h"

/* The whole path the analyzer takes: a trace holding the module map and the
 * chain as a depot stack, read back by the reader, symbolized by pw_sym_new. */
static void test_from_trace(void)
{
    size_t mods_off = PW_HEADER_SIZE, mods_size = nmods * sizeof(struct pw_module);
    size_t pool_off = (mods_off + mods_size + 4095) & ~(size_t)4095, pool_size = 4096;
    size_t len = pool_off + pool_size;
    unsigned char *buf = calloc(1, len);
    struct pw_trace_header *h = (struct pw_trace_header *)buf;
    pw_trace_header_init(h, 1);
    h->file_size = len;
    h->modules = (struct pw_section){mods_off, mods_size, (uint32_t)nmods, PW_MODULE_SIZE};
    h->nmodules = (uint32_t)nmods;
    memcpy(buf + mods_off, mods, mods_size);
    h->depot_pool = (struct pw_section){pool_off, pool_size, 0, 0};
    struct pw_stack_rec *r = (struct pw_stack_rec *)(buf + pool_off + 8); /* id 1 */
    r->nframes = 3;
    memcpy(r->pcs, chain_pcs, sizeof(chain_pcs));
    h->depot_used = 8 + sizeof(*r) + sizeof(chain_pcs);

    struct pw_trace *t = NULL;
    char err[256] = "";
    enum pw_read_status st = pw_trace_open_mem(buf, len, "synthetic", &t, err, sizeof(err));
    free(buf);
    check(st == PW_READ_OK && t, "synthetic trace refused: %s", err);
    if (!t)
        return;
    const uint64_t *pcs = NULL;
    unsigned n = 0;
    check(pw_trace_stack(t, 1, &pcs, &n) == 0 && n == 3, "depot stack 1 not found");
    struct pw_symbolizer *s = pw_sym_new(t);
    pw_sym_set_debug_path(s, "");
    if (n == 3)
        check_chain("trace", s, pcs, "/proc/self/exe");
    pw_sym_free(s);
    pw_trace_close(t);
}
#else
static void test_from_trace(void)
{
    printf("trace: skipped, built without the analyzer library\n");
}
#endif

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void);

/* Two processes of one program, loaded at different bases (ASLR), share the
 * opened files: the second symbolizes its own addresses right, and keeps
 * doing so after the first one is freed. */
static void test_shared(const char *dir)
{
    const uint64_t shift = 0x100000000ull;
    struct pw_module moved[128];
    memcpy(moved, mods, nmods * sizeof(mods[0]));
    for (size_t i = 0; i < nmods; i++) {
        moved[i].base += shift;
        moved[i].lo += shift;
        moved[i].hi += shift;
    }
    uint64_t pcs[3];
    for (int i = 0; i < 3; i++)
        pcs[i] = chain_pcs[i] + shift;
    struct pw_symbolizer *a = pw_sym_new_modules(mods, nmods);
    struct pw_symbolizer *b = pw_sym_new_modules(moved, nmods);
    check(a && b, "shared: no symbolizer");
    if (!a || !b)
        goto out;
    pw_sym_set_debug_path(a, dir);
    pw_sym_set_debug_path(b, dir);
    check_chain("shared-a", a, chain_pcs, "/proc/self/exe");
    check_chain("shared-b", b, pcs, "/proc/self/exe");
    pw_sym_free(a);
    a = NULL;
    /* a pc neither looked up before, in the file the two shared: main's
     * first instruction (a recorded pc is a return address: + 1) */
    uint64_t pc = (uint64_t)(uintptr_t)&main + 1 + shift;
    struct pw_frame *f;
    size_t n = pw_sym_stack(b, &pc, 1, &f);
    check(n == 1 && f[0].function && strcmp(f[0].function, "main") == 0,
          "shared: after the first symbolizer was freed: %s",
          n && f[0].function ? f[0].function : "(null)");
    free(f);
out:
    pw_sym_free(a);
    pw_sym_free(b);
}

/* Cold first lookup, then 1000 stacks from the cache. */
static void test_speed(void)
{
    double t0 = now_ns();
    struct pw_symbolizer *s = pw_sym_new_modules(mods, nmods);
    struct pw_frame *f;
    size_t n = pw_sym_stack(s, chain_pcs, 3, &f);
    free(f);
    double t1 = now_ns();
    for (int i = 0; i < 1000; i++) {
        n = pw_sym_stack(s, chain_pcs, 3, &f);
        free(f);
    }
    double t2 = now_ns();
    printf("speed: first stack %.2f ms, then %.0f ns per 3-pc stack (%zu frames)\n",
           (t1 - t0) / 1e6, (t2 - t1) / 1000, n);
    /* Generous: the cached path is a hash lookup and a memcpy. */
    check((t2 - t1) < 0.5e9, "1000 cached stacks took %.0f ms", (t2 - t1) / 1e6);
    pw_sym_free(s);
}

int main(void)
{
    run_chain();
    dl_iterate_phdr(add_phdr_module, NULL);
    if (exe_index == (size_t)-1 || !mods[exe_index].build_id_len) {
        fprintf(stderr, "FAIL: no main program with a build-id in the module map\n");
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/pwsym.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    struct pw_symbolizer *s = pw_sym_new_modules(mods, nmods);
    pw_sym_set_debug_path(s, dir); /* no debuginfo lookups outside the test */
    test_chain(s);
    test_nodebug(s);
    test_outside(s);
    pw_sym_free(s);

    test_bad_modules(dir);
    test_build_id_tree(dir);
    test_hidden();
    test_from_trace();
    test_shared(dir);
    test_speed();
    rmdir(dir);

    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
