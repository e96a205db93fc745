/* Offline symbolization with elfutils libdwfl.
 *
 * Each module of the trace's module map gets its own Dwfl session, built the
 * first time one of its pcs is looked up and kept until pw_sym_free: a module
 * map may hold an unloaded library and a later one at overlapping addresses,
 * which one shared session could not place both of.  Per-pc results live in a
 * hash map (pc -> run of frames in one pool) and every string is interned, so
 * a stack seen a thousand times costs one lookup after the first.
 *
 * The trace is untrusted: paths are only opened for reading (never executed
 * or dlopen'd), a file whose GNU build-id differs from the recorded one is not
 * believed, and addresses are range-checked against our own module table
 * before libdwfl sees them.  Not thread-safe: the analyzer is single-threaded.
 */
#include "symbolize.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <fcntl.h>
#include <limits.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debuginfo.h"
#include "demangle.h"
#include "reader.h"

#define MAX_INLINE_FRAMES 32u /* frames one pc may expand to; deeper nests are cut */
#define HIDDEN_PREFIX "libparkwatch"

/* ---- string interning: chunks never move, so interned pointers stay valid */

struct str_chunk {
    struct str_chunk *next;
    size_t used, cap;
    char data[];
};

struct strtab {
    const char **slots; /* open addressing, NULL = empty */
    size_t cap, used;
    struct str_chunk *chunks;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static char *chunk_alloc(struct strtab *st, size_t n)
{
    struct str_chunk *c = st->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->next = st->chunks;
        c->used = 0;
        c->cap = cap;
        st->chunks = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static int strtab_grow(struct strtab *st)
{
    size_t cap = st->cap ? st->cap * 2 : 256;
    const char **slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < st->cap; i++) {
        if (!st->slots[i])
            continue;
        size_t j = hash_bytes(st->slots[i], strlen(st->slots[i])) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = st->slots[i];
    }
    free(st->slots);
    st->slots = slots;
    st->cap = cap;
    return 0;
}

/* Interns the first LEN bytes of S (need not be NUL-terminated).  NULL on OOM. */
static const char *strtab_intern_n(struct strtab *st, const char *s, size_t len)
{
    if (st->used * 2 >= st->cap && strtab_grow(st) < 0)
        return NULL;
    size_t j = hash_bytes(s, len) & (st->cap - 1);
    for (; st->slots[j]; j = (j + 1) & (st->cap - 1)) {
        if (strncmp(st->slots[j], s, len) == 0 && st->slots[j][len] == '\0')
            return st->slots[j];
    }
    char *copy = chunk_alloc(st, len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    st->slots[j] = copy;
    st->used++;
    return copy;
}

static const char *strtab_intern(struct strtab *st, const char *s)
{
    return s ? strtab_intern_n(st, s, strlen(s)) : NULL;
}

static void strtab_free(struct strtab *st)
{
    while (st->chunks) {
        struct str_chunk *next = st->chunks->next;
        free(st->chunks);
        st->chunks = next;
    }
    free(st->slots);
}

/* ---- modules */

enum mod_state { MOD_UNOPENED = 0, MOD_READY, MOD_NOSYMS };

/* A module file reported to libdwfl, shared by every symbolizer whose trace
 * loaded the same file (path, build-id, debug path): a report of many
 * processes of one program opens its binary and libraries, and their debug
 * files, once rather than once per process (each copy cost megabytes).  It is
 * reported at the base of the first trace that needed it; another process's
 * addresses are moved by the difference of the bases.  It lives while a
 * symbolizer uses it, with its own callbacks and debug-file state (libdwfl
 * keeps pointers to both). */
struct shared_mod {
    struct shared_mod *next;
    char *path, *debug_path;
    uint8_t build_id[PW_BUILD_ID_MAX];
    size_t build_id_len;
    uint64_t base; /* where it was reported */
    enum mod_state state;
    Dwfl_Callbacks callbacks;
    struct pw_debuginfo dbg;
    Dwfl *dwfl;
    Dwfl_Module *dwmod;
    unsigned refs;
};

static struct shared_mod *shared_mods;

/* Our copy of one trace module.  dwmod is set only in MOD_READY, i.e. when a
 * file with the recorded build-id (or any file, if none was recorded) was
 * found and reported to libdwfl. */
struct sym_mod {
    const char *path; /* interned, as recorded */
    uint64_t base, lo, hi;
    uint8_t build_id[PW_BUILD_ID_MAX];
    size_t build_id_len;
    bool loaded; /* still mapped at the end of the trace */
    bool hidden; /* libparkwatch itself */
    enum mod_state state;
    struct shared_mod *shared; /* the file, once opened */
    Dwfl_Module *dwmod;
    uint64_t delta; /* this process's address + delta = the shared file's */
};

/* ---- per-pc cache: pc -> frames pool[first .. first+n) */

struct pc_slot {
    uint64_t pc;
    uint32_t first;
    uint16_t n;
    uint16_t used;
};

struct pw_symbolizer {
    struct sym_mod *mods;
    size_t nmods;
    struct strtab strs;
    char *debug_path;         /* elfutils debuginfo_path, NULL = its default */
    Dwfl_Callbacks callbacks; /* points at debug_path */
    struct pw_debuginfo dbg;  /* every module's userdata: how debug files are found */

    struct pc_slot *slots;
    size_t slot_cap, slot_used;
    struct pw_frame *pool;
    size_t pool_len, pool_cap;
};

static bool is_hidden_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    return strncmp(base, HIDDEN_PREFIX, strlen(HIDDEN_PREFIX)) == 0;
}

static int add_module(struct pw_symbolizer *s, const struct pw_module *m)
{
    /* The record comes from the file: the path may lack its NUL, the range may
     * be reversed and build_id_len may exceed the array. */
    if (m->state != 1 || m->hi <= m->lo)
        return 0;
    struct sym_mod *sm = &s->mods[s->nmods];
    memset(sm, 0, sizeof(*sm));
    sm->path = strtab_intern_n(&s->strs, m->path, strnlen(m->path, sizeof(m->path)));
    if (!sm->path)
        return -1;
    sm->base = m->base;
    sm->lo = m->lo;
    sm->hi = m->hi;
    sm->build_id_len = m->build_id_len < PW_BUILD_ID_MAX ? m->build_id_len : PW_BUILD_ID_MAX;
    memcpy(sm->build_id, m->build_id, sm->build_id_len);
    sm->loaded = m->unload_ns == 0;
    sm->hidden = is_hidden_path(sm->path);
    s->nmods++;
    return 0;
}

static void sym_init_callbacks(struct pw_symbolizer *s)
{
    s->callbacks.find_elf = dwfl_build_id_find_elf;
    s->callbacks.find_debuginfo = pw_debuginfo_find;
    s->callbacks.section_address = dwfl_offline_section_address;
    s->callbacks.debuginfo_path = &s->debug_path;
}

struct pw_symbolizer *pw_sym_new_modules(const struct pw_module *mods, size_t n)
{
    elf_version(EV_CURRENT);
    struct pw_symbolizer *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    sym_init_callbacks(s);
    /* A trace read on another machine: PARKWATCH_DEBUG_PATH names where the
     * same binaries can be found by build-id (elfutils' debuginfo path). */
    const char *dp = getenv("PARKWATCH_DEBUG_PATH");
    if (dp && *dp)
        s->debug_path = strdup(dp);
    pw_debuginfo_init(&s->dbg, &s->debug_path);
    s->mods = calloc(n ? n : 1, sizeof(*s->mods));
    if (!s->mods)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (add_module(s, &mods[i]) < 0)
            goto fail;
    }
    return s;
fail:
    pw_sym_free(s);
    return NULL;
}

struct pw_symbolizer *pw_sym_new(const struct pw_trace *t)
{
    size_t n = pw_trace_nmodules(t);
    struct pw_module *mods = calloc(n ? n : 1, sizeof(*mods));
    if (!mods)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pw_module *m = pw_trace_module(t, i);
        if (m)
            mods[k++] = *m;
    }
    struct pw_symbolizer *s = pw_sym_new_modules(mods, k);
    free(mods);
    return s;
}

void pw_sym_set_debug_path(struct pw_symbolizer *s, const char *path)
{
    if (!s)
        return;
    free(s->debug_path);
    s->debug_path = path ? strdup(path) : NULL;
}

static void shared_release(struct shared_mod *sm)
{
    if (!sm || --sm->refs)
        return;
    for (struct shared_mod **p = &shared_mods; *p; p = &(*p)->next) {
        if (*p == sm) {
            *p = sm->next;
            break;
        }
    }
    if (sm->dwfl)
        dwfl_end(sm->dwfl);
    pw_debuginfo_fini(&sm->dbg);
    free(sm->path);
    free(sm->debug_path);
    free(sm);
}

void pw_sym_free(struct pw_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nmods; i++)
        shared_release(s->mods[i].shared);
    free(s->mods);
    strtab_free(&s->strs);
    pw_debuginfo_fini(&s->dbg);
    free(s->debug_path);
    free(s->slots);
    free(s->pool);
    free(s);
}

/* ---- finding the right file for a module */

/* Tries DIR/.build-id/xx/rest.debug and DIR/.build-id/xx/rest for the
 * module's build-id in every absolute directory of the debug path. */
static int open_by_build_id(const struct pw_symbolizer *s, const struct sym_mod *m, char *file,
                            size_t len)
{
    const char *path = s->debug_path ? s->debug_path : PW_DEFAULT_DEBUG_ROOT;
    while (*path) {
        size_t n = strcspn(path, ":");
        const char *dir = path;
        path += n + (path[n] == ':');
        /* elfutils allows a +/- prefix (CRC checking policy) on each entry. */
        if (n && (*dir == '+' || *dir == '-'))
            dir++, n--;
        if (n == 0 || *dir != '/')
            continue;
        static const char *const suffixes[] = {".debug", ""};
        for (size_t k = 0; k < 2; k++) {
            if (!pw_build_id_path(file, len, dir, (int)n, ".build-id", m->build_id, m->build_id_len,
                                  suffixes[k]))
                continue;
            int fd = pw_open_elf_checked(file, m->build_id, m->build_id_len);
            if (fd >= 0)
                return fd;
        }
    }
    return -1;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Reports module M, as recorded, to a fresh Dwfl session of SM.  Any failure
 * leaves it MOD_NOSYMS: its frames degrade to module+offset. */
static void report_shared(struct pw_symbolizer *s, const struct sym_mod *m, struct shared_mod *sm)
{
    char file[PATH_MAX];
    sm->state = MOD_NOSYMS;
    snprintf(file, sizeof(file), "%s", m->path);
    int fd = pw_open_elf_checked(file, m->build_id, m->build_id_len);
    /* A rebuilt binary or a trace from another machine: the file at the path
     * is not the one that ran, its symbols would be confidently wrong. */
    if (fd < 0)
        fd = open_by_build_id(s, m, file, sizeof(file));
    if (fd < 0)
        return;
    sm->dwfl = dwfl_begin(&sm->callbacks);
    if (!sm->dwfl) {
        close(fd);
        return;
    }
    dwfl_report_begin(sm->dwfl);
    /* add_p_vaddr: the recorded base is the load bias (dlpi_addr), to which
     * the file's p_vaddr are added, also for prelinked libraries. */
    sm->dwmod = dwfl_report_elf(sm->dwfl, m->path, file, fd, sm->base, true);
    if (!sm->dwmod)
        close(fd); /* consumed only on success */
    if (dwfl_report_end(sm->dwfl, NULL, NULL) != 0 || !sm->dwmod) {
        dwfl_end(sm->dwfl);
        sm->dwfl = NULL;
        sm->dwmod = NULL;
        return;
    }
    void **userdata;
    if (dwfl_module_info(sm->dwmod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL))
        *userdata = &sm->dbg;
    sm->state = MOD_READY;
}

/* Opens module M: the shared file of the same path, build-id and debug path,
 * or a new one. */
static void open_module(struct pw_symbolizer *s, struct sym_mod *m)
{
    m->state = MOD_NOSYMS;
    struct shared_mod *sm = shared_mods;
    while (sm && !(strcmp(sm->path, m->path) == 0 && sm->build_id_len == m->build_id_len &&
                   memcmp(sm->build_id, m->build_id, m->build_id_len) == 0 &&
                   same_str(sm->debug_path, s->debug_path)))
        sm = sm->next;
    if (!sm) {
        if (!(sm = calloc(1, sizeof(*sm))) || !(sm->path = strdup(m->path)) ||
            (s->debug_path && !(sm->debug_path = strdup(s->debug_path)))) {
            if (sm)
                free(sm->path);
            free(sm);
            return;
        }
        memcpy(sm->build_id, m->build_id, m->build_id_len);
        sm->build_id_len = m->build_id_len;
        sm->base = m->base;
        sm->callbacks = s->callbacks;
        sm->callbacks.debuginfo_path = &sm->debug_path;
        pw_debuginfo_init(&sm->dbg, &sm->debug_path);
        report_shared(s, m, sm);
        sm->next = shared_mods;
        shared_mods = sm;
    }
    sm->refs++;
    m->shared = sm;
    m->dwmod = sm->dwmod;
    m->delta = sm->base - m->base;
    m->state = sm->state;
}

/* The module containing ADDR: one still loaded wins over an unloaded one at
 * the same place, the most recently recorded wins among equals. */
static struct sym_mod *find_module(struct pw_symbolizer *s, uint64_t addr)
{
    struct sym_mod *best = NULL;
    for (size_t i = 0; i < s->nmods; i++) {
        struct sym_mod *m = &s->mods[i];
        if (addr < m->lo || addr >= m->hi)
            continue;
        if (!best || m->loaded || !best->loaded)
            best = m;
    }
    return best;
}

/* ---- DWARF */

/* Linkage name when there is one (C++: mangled, see pw_frame), else the name;
 * follows abstract_origin/specification, so inlined instances get a name. */
static const char *die_name(Dwarf_Die *die)
{
    static const unsigned attrs[] = {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name};
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        Dwarf_Attribute a;
        const char *n = dwarf_formstring(dwarf_attr_integrate(die, attrs[i], &a));
        if (n)
            return n;
    }
    return NULL;
}

struct src_loc {
    const char *file;
    const char *comp_dir; /* the CU's build directory: FILE may be relative to it */
    int line, column;
};

static const char *comp_dir_of(Dwarf_Die *cu)
{
    Dwarf_Attribute a;
    return dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
}

static struct src_loc line_table_loc(Dwarf_Die *cu, Dwarf_Addr addr)
{
    struct src_loc loc = {0};
    Dwarf_Line *l = dwarf_getsrc_die(cu, addr);
    if (!l)
        return loc;
    loc.file = dwarf_linesrc(l, NULL, NULL);
    loc.comp_dir = comp_dir_of(cu);
    dwarf_lineno(l, &loc.line);
    dwarf_linecol(l, &loc.column);
    return loc;
}

static int attr_udata(Dwarf_Die *die, unsigned name, Dwarf_Word *v)
{
    Dwarf_Attribute a;
    return dwarf_formudata(dwarf_attr(die, name, &a), v);
}

/* Where the inlined instance DIE was called from: its caller's location. */
static struct src_loc call_site_loc(Dwarf_Die *die)
{
    struct src_loc loc = {0};
    Dwarf_Die cu;
    Dwarf_Files *files;
    size_t nfiles;
    Dwarf_Word v;
    if (attr_udata(die, DW_AT_call_file, &v) == 0 && dwarf_diecu(die, &cu, NULL, NULL) &&
        dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && v < nfiles) {
        loc.file = dwarf_filesrc(files, v, NULL, NULL);
        loc.comp_dir = comp_dir_of(&cu);
    }
    if (attr_udata(die, DW_AT_call_line, &v) == 0)
        loc.line = (int)v;
    if (attr_udata(die, DW_AT_call_column, &v) == 0)
        loc.column = (int)v;
    return loc;
}

/* Frames being built for one pc; strings are not interned yet. */
struct frame_buf {
    struct pw_frame f[MAX_INLINE_FRAMES];
    const char *comp_dir[MAX_INLINE_FRAMES];
    unsigned n;
};

static void buf_push(struct frame_buf *b, const char *fn, struct src_loc loc, int inlined)
{
    if (b->n == MAX_INLINE_FRAMES)
        return;
    b->comp_dir[b->n] = loc.comp_dir;
    struct pw_frame *f = &b->f[b->n++];
    f->function = fn;
    f->file = loc.file;
    f->line = loc.line;
    f->column = loc.column;
    f->inlined = inlined;
}

/* DIEs that can hold code, and so sit on the path from a CU to a pc. */
static bool is_code_scope(int tag)
{
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_lexical_block || tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

/* C++ puts subprograms inside these; they have no pc range of their own. */
static bool is_container(int tag)
{
    return tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
           tag == DW_TAG_union_type || tag == DW_TAG_module;
}

/* Finds, among PARENT's children (looking through containers), the code
 * scope that contains ADDR.  DEPTH bounds the recursion: DWARF is untrusted. */
static bool child_scope(Dwarf_Die *parent, Dwarf_Addr addr, Dwarf_Die *out, int depth)
{
    Dwarf_Die child;
    if (depth <= 0 || dwarf_child(parent, &child) != 0)
        return false;
    do {
        int tag = dwarf_tag(&child);
        if (is_code_scope(tag) && dwarf_haspc(&child, addr) > 0) {
            *out = child;
            return true;
        }
        if (is_container(tag) && dwarf_haschildren(&child) &&
            child_scope(&child, addr, out, depth - 1))
            return true;
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

/* The code scopes containing ADDR, outermost (the concrete subprogram) first.
 * A descent that only visits the siblings on the path: dwarf_getscopes and
 * dwarf_getscopes_die walk the whole CU, about 100 us a pc on a large CU. */
static int scope_path(Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die *path, int max)
{
    int n = 0;
    Dwarf_Die cur = *cu;
    while (n < max && child_scope(&cur, addr, &path[n], 8))
        cur = path[n++];
    return n;
}

/* Same result the generic way (dwz partial units, unusual producers):
 * dwarf_getscopes finds the innermost scope, dwarf_getscopes_die its physical
 * parents, innermost first; reversed here. */
static int scope_path_slow(Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die *path, int max)
{
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cu, addr, &scopes);
    if (n <= 0) {
        free(scopes);
        return 0;
    }
    Dwarf_Die inner = scopes[0];
    free(scopes);
    scopes = NULL;
    n = dwarf_getscopes_die(&inner, &scopes);
    int k = 0;
    for (int i = n - 1; i >= 0 && k < max; i--) {
        if (is_code_scope(dwarf_tag(&scopes[i])))
            path[k++] = scopes[i];
    }
    free(scopes);
    return k;
}

/* Expands the inline chain at ADDR (CU-relative DWARF address) into B,
 * innermost first: every inlined instance on the path is a frame, whose
 * DW_AT_call_* is the location in the frame above it; the innermost
 * subprogram ends the chain.  Returns false if no subprogram was found. */
static bool expand_scopes(Dwarf_Die *cu, Dwarf_Addr addr, struct frame_buf *b)
{
    Dwarf_Die path[2 * MAX_INLINE_FRAMES];
    int max = (int)(sizeof(path) / sizeof(path[0]));
    int n = scope_path(cu, addr, path, max);
    if (n == 0)
        n = scope_path_slow(cu, addr, path, max);
    struct src_loc loc = line_table_loc(cu, addr);
    for (int i = n - 1; i >= 0; i--) {
        int tag = dwarf_tag(&path[i]);
        if (tag == DW_TAG_inlined_subroutine) {
            buf_push(b, die_name(&path[i]), loc, 1);
            loc = call_site_loc(&path[i]);
        } else if (tag == DW_TAG_subprogram) {
            buf_push(b, die_name(&path[i]), loc, 0);
            return true;
        }
    }
    b->n = 0;
    return false;
}

/* The ELF symbol containing ADDR.  Only asked when DWARF has no name: libdwfl
 * scans the whole symbol table for it (about 20 us in a mid-sized program). */
static const char *elf_symbol(struct sym_mod *m, Dwarf_Addr addr)
{
    GElf_Off off;
    GElf_Sym sym;
    return dwfl_module_addrinfo(m->dwmod, addr, &off, &sym, NULL, NULL, NULL);
}

/* All frames for ADDR (= pc - 1) in a module that has symbols. */
static void describe(struct sym_mod *m, Dwarf_Addr addr, struct frame_buf *b)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(m->dwmod, addr, &bias);
    if (cu && expand_scopes(cu, addr - bias, b)) {
        struct pw_frame *outer = &b->f[b->n - 1];
        if (!outer->function)
            outer->function = elf_symbol(m, addr);
        return;
    }
    /* No DWARF subprogram (no debug info, or an assembly CU): the ELF symbol,
     * with a line only if the line table knows one. */
    struct src_loc loc = cu ? line_table_loc(cu, addr - bias) : (struct src_loc){0};
    buf_push(b, elf_symbol(m, addr), loc, 0);
}

/* ---- the cache */

static int pool_reserve(struct pw_symbolizer *s, size_t extra)
{
    if (s->pool_len + extra <= s->pool_cap)
        return 0;
    size_t cap = s->pool_cap ? s->pool_cap * 2 : 1024;
    while (cap < s->pool_len + extra)
        cap *= 2;
    struct pw_frame *p = realloc(s->pool, cap * sizeof(*p));
    if (!p)
        return -1;
    s->pool = p;
    s->pool_cap = cap;
    return 0;
}

static size_t slot_index(uint64_t pc, size_t cap)
{
    return hash_bytes(&pc, sizeof(pc)) & (cap - 1);
}

static int slots_grow(struct pw_symbolizer *s)
{
    size_t cap = s->slot_cap ? s->slot_cap * 2 : 1024;
    struct pc_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < s->slot_cap; i++) {
        if (!s->slots[i].used)
            continue;
        size_t j = slot_index(s->slots[i].pc, cap);
        while (slots[j].used)
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->slot_cap = cap;
    return 0;
}

/* A source path as the compiler saw it is often relative to the build
 * directory ("../src/pool.c" under Meson): join it with the CU's comp_dir and
 * fold "." and ".." lexically, so reports (and SARIF locations) name the real
 * file.  Returns a malloc'd path, or NULL to keep FILE as it is. */
static char *absolute_source(const char *comp_dir, const char *file)
{
    if (!file || file[0] == '/' || !comp_dir || comp_dir[0] != '/')
        return NULL;
    size_t cap = strlen(comp_dir) + strlen(file) + 2;
    char *joined = malloc(cap), *out = malloc(cap);
    if (!joined || !out) {
        free(joined);
        free(out);
        return NULL;
    }
    snprintf(joined, cap, "%s/%s", comp_dir, file);
    size_t len = 0;
    for (char *save = NULL, *part = strtok_r(joined, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* drop the slash too */
            continue;
        }
        out[len++] = '/';
        size_t n = strlen(part);
        memcpy(out + len, part, n);
        len += n;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    free(joined);
    return out;
}

/* Interns B's strings and appends its frames to the pool. */
static int pool_append(struct pw_symbolizer *s, uint64_t pc, struct sym_mod *m, struct frame_buf *b)
{
    if (pool_reserve(s, b->n) < 0)
        return -1;
    for (unsigned i = 0; i < b->n; i++) {
        struct pw_frame f = b->f[i];
        f.pc = pc;
        f.module = m ? m->path : NULL;
        f.module_offset = m ? pc - m->base : 0;
        char *pretty = pw_demangle(f.function);
        f.function = strtab_intern(&s->strs, pretty ? pretty : f.function);
        free(pretty);
        char *full = absolute_source(b->comp_dir[i], f.file);
        f.file = strtab_intern(&s->strs, full ? full : f.file);
        free(full);
        if ((b->f[i].function && !f.function) || (b->f[i].file && !f.file))
            return -1;
        s->pool[s->pool_len + i] = f;
    }
    return 0;
}

/* The public header's functions are inlined into the user's code: they are
 * parkwatch's frames as much as the shim's, so a stack starts at their caller. */
static void drop_api_frames(struct frame_buf *b)
{
    unsigned k = 0;
    for (unsigned i = 0; i < b->n; i++) {
        const char *fn = b->f[i].function;
        if (b->f[i].inlined && fn && strncmp(fn, "parkwatch_", 10) == 0)
            continue;
        b->comp_dir[k] = b->comp_dir[i];
        b->f[k++] = b->f[i];
    }
    b->n = k;
}

/* Symbolizes PC into B (not cached). */
static void resolve(struct pw_symbolizer *s, uint64_t pc, struct sym_mod **mod, struct frame_buf *b)
{
    /* pc - 1: every recorded pc is a return address; the call (and its line
     * and inline context) is the instruction before it. */
    uint64_t addr = pc ? pc - 1 : 0;
    struct sym_mod *m = find_module(s, addr);
    *mod = m;
    b->n = 0;
    /* The shim skips its own frames at capture; any left are dropped here. */
    if (m && m->hidden)
        return;
    if (m && m->state == MOD_UNOPENED)
        open_module(s, m);
    if (m && m->state == MOD_READY)
        describe(m, addr + m->delta, b);
    drop_api_frames(b);
    if (b->n == 0)
        buf_push(b, NULL, (struct src_loc){0}, 0); /* module+offset, or bare pc */
}

/* The cache slot for PC, filled on first use.  NULL on OOM. */
static struct pc_slot *find_slot(struct pw_symbolizer *s, uint64_t pc)
{
    if (!s->slot_cap)
        return NULL;
    size_t j = slot_index(pc, s->slot_cap);
    for (; s->slots[j].used; j = (j + 1) & (s->slot_cap - 1)) {
        if (s->slots[j].pc == pc)
            return &s->slots[j];
    }
    return &s->slots[j]; /* the free slot where PC belongs */
}

static struct pc_slot *lookup(struct pw_symbolizer *s, uint64_t pc)
{
    struct pc_slot *slot = find_slot(s, pc);
    if (slot && slot->used)
        return slot;
    if (s->slot_used * 2 >= s->slot_cap) {
        if (slots_grow(s) < 0)
            return NULL;
        slot = find_slot(s, pc);
    }
    struct frame_buf b;
    struct sym_mod *m;
    resolve(s, pc, &m, &b);
    if (pool_append(s, pc, m, &b) < 0)
        return NULL;
    slot->pc = pc;
    slot->first = (uint32_t)s->pool_len;
    slot->n = (uint16_t)b.n;
    slot->used = 1;
    s->pool_len += b.n;
    s->slot_used++;
    return slot;
}

size_t pw_sym_stack(struct pw_symbolizer *s, const uint64_t *pcs, unsigned n, struct pw_frame **out)
{
    *out = NULL;
    if (!s)
        return 0;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        struct pc_slot *slot = lookup(s, pcs[i]);
        if (!slot)
            return 0;
        total += slot->n;
    }
    struct pw_frame *f = calloc(total ? total : 1, sizeof(*f));
    if (!f)
        return 0;
    /* Second pass: the pool may have moved while the first pass filled it. */
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct pc_slot *slot = find_slot(s, pcs[i]);
        memcpy(f + k, s->pool + slot->first, slot->n * sizeof(*f));
        k += slot->n;
    }
    *out = f;
    return total;
}

const char *pw_sym_data(struct pw_symbolizer *s, uint64_t addr, uint64_t *offset)
{
    /* The module map covers every PT_LOAD segment (p_memsz: .bss too), so a
     * global lock falls in the module that defines it. */
    struct sym_mod *m = s ? find_module(s, addr) : NULL;
    if (!m || m->hidden)
        return NULL;
    if (m->state == MOD_UNOPENED)
        open_module(s, m);
    if (m->state != MOD_READY)
        return NULL;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(m->dwmod, addr + m->delta, &off, &sym, NULL, NULL,
                                            NULL);
    /* only a variable that really contains ADDR: the nearest symbol below a
     * heap-like gap or a function would name the wrong thing */
    if (!name || GELF_ST_TYPE(sym.st_info) != STT_OBJECT || off >= sym.st_size)
        return NULL;
    *offset = off;
    return strtab_intern(&s->strs, name);
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
