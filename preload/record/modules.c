/* Module map: what the analyzer needs to symbolize raw PCs offline (path, load
 * bias, PT_LOAD range, GNU build-id).  Refreshed at init and after every
 * dlopen/dlclose; entries are appended and never moved, an unloaded module
 * keeps its entry with unload_ns set (its PCs may still be in old stacks).
 *
 * The refresh runs under the shim's only lock, a spinlock that is never held
 * while calling anything a user can see (dl_iterate_phdr's callback stays in
 * here) and that fork prepare takes so the child never inherits it held. */
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <string.h>

#include "event.h"
#include "modules.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tracefile.h"
#include "util.h"

static uint32_t pw_mod_lock;
static uint32_t pw_mod_seen[PW_DEFAULT_MAX_MODULES]; /* refresh round that saw it */
static uint32_t pw_mod_round;
/* Each module's writable PT_LOAD segment (data, bss), shim-private: where a
 * futex word in static data lives.  Written before the module is published
 * (nmodules) and never changed after; lo == hi when it has none. */
static uint64_t pw_mod_data_lo[PW_DEFAULT_MAX_MODULES], pw_mod_data_hi[PW_DEFAULT_MAX_MODULES];

void pw_modules_lock(void)
{
    while (__atomic_exchange_n(&pw_mod_lock, 1, __ATOMIC_ACQUIRE) != 0)
        sched_yield();
}

void pw_modules_unlock(void)
{
    __atomic_store_n(&pw_mod_lock, 0, __ATOMIC_RELEASE);
}

static struct pw_module *module(uint32_t i)
{
    return (struct pw_module *)(pw_tf.base + pw_tf.hdr->modules.offset) + i;
}

static void load_range(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX;
    *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < *lo)
            *lo = a;
        if (a + ph->p_memsz > *hi)
            *hi = a + ph->p_memsz;
    }
}

/* The first writable PT_LOAD segment (a second one, which no common linker
 * emits, is simply not known: pw_modules_where then says "module" only). */
static void data_range(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi)
{
    *lo = *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & (PF_R | PF_W)) == (PF_R | PF_W)) {
            *lo = info->dlpi_addr + ph->p_vaddr;
            *hi = *lo + ph->p_memsz;
            return;
        }
    }
}

static uint32_t note_build_id(const char *p, uint64_t size, uint8_t *out)
{
    const char *end = p + size;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
        const char *name = p + sizeof *nh;
        const char *desc = name + ((nh->n_namesz + 3) & ~3u);
        const char *next = desc + ((nh->n_descsz + 3) & ~3u);
        if (next > end)
            return 0;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
            uint32_t n = nh->n_descsz < PW_BUILD_ID_MAX ? nh->n_descsz : PW_BUILD_ID_MAX;
            memcpy(out, desc, n);
            return n;
        }
        p = next;
    }
    return 0;
}

static uint32_t build_id(const struct dl_phdr_info *info, uint8_t *out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        uint32_t n = note_build_id((const char *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, out);
        if (n != 0)
            return n;
    }
    return 0;
}

static int find_loaded(uint64_t base, uint64_t lo, uint64_t hi)
{
    uint32_t n = pw_tf.hdr->nmodules;
    for (uint32_t i = 0; i < n; i++) {
        struct pw_module *m = module(i);
        if (m->unload_ns == 0 && m->base == base && m->lo == lo && m->hi == hi)
            return (int)i;
    }
    return -1;
}

static void append(const struct dl_phdr_info *info, uint64_t lo, uint64_t hi)
{
    struct pw_trace_header *h = pw_tf.hdr;
    uint32_t i = h->nmodules;
    if (i >= h->modules.count)
        return;
    struct pw_module *m = module(i);
    const char *path = info->dlpi_name;
    if (path == NULL || path[0] == '\0')
        path = h->exe; /* the main executable has no name in the link map */
    m->base = info->dlpi_addr;
    m->lo = lo;
    m->hi = hi;
    m->load_ns = pw_now();
    m->build_id_len = build_id(info, m->build_id);
    pw_strlcpy(m->path, path, sizeof m->path);
    if (i < PW_DEFAULT_MAX_MODULES)
        data_range(info, &pw_mod_data_lo[i], &pw_mod_data_hi[i]);
    PW_STORE(&m->state, 1);
    pw_mod_seen[i] = pw_mod_round;
    PW_STORE(&h->nmodules, i + 1);
}

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uint64_t lo, hi;
    load_range(info, &lo, &hi);
    if (lo >= hi)
        return 0;
    uint64_t self = (uint64_t)(uintptr_t)&pw_modules_refresh;
    if (self >= lo && self < hi) {
        pw_self_lo = lo;
        pw_self_hi = hi;
    }
    int i = find_loaded(info->dlpi_addr, lo, hi);
    if (i >= 0)
        pw_mod_seen[i] = pw_mod_round;
    else
        append(info, lo, hi);
    return 0;
}

/* Call with the guard raised. */
void pw_modules_refresh(void)
{
    if (pw_tf.hdr == NULL)
        return;
    pw_modules_lock();
    pw_mod_round++;
    dl_iterate_phdr(visit, NULL);
    uint32_t n = pw_tf.hdr->nmodules;
    uint64_t now = pw_now();
    for (uint32_t i = 0; i < n; i++)
        if (module(i)->unload_ns == 0 && pw_mod_seen[i] != pw_mod_round)
            PW_STORE(&module(i)->unload_ns, now);
    pw_modules_unlock();
    struct pw_event ev = {.kind = PW_EV_MODULES, .arg = n};
    pw_emit(pw_self(), &ev);
}

/* Lock-free: modules are appended and published with a release store of
 * nmodules, a range never changes once published, and an unloaded module is
 * marked by unload_ns.  A module unloaded by dlclose is marked only after
 * dlclose returned; a thread that waits on a futex inside a library another
 * thread is unloading at that moment is already using freed memory. */
enum pw_mod_where pw_modules_where(uint64_t addr)
{
    const struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL)
        return PW_MOD_NONE;
    const struct pw_module *mods = (const struct pw_module *)(pw_tf.base + h->modules.offset);
    uint32_t n = PW_LOAD(&h->nmodules);
    if (n > h->modules.count)
        n = h->modules.count;
    for (uint32_t i = 0; i < n; i++) {
        const struct pw_module *m = &mods[i];
        if (addr < m->lo || addr >= m->hi || PW_LOAD(&m->state) != 1 || m->unload_ns != 0)
            continue;
        if (i < PW_DEFAULT_MAX_MODULES && addr >= pw_mod_data_lo[i] && addr < pw_mod_data_hi[i])
            return PW_MOD_DATA;
        return PW_MOD_OTHER;
    }
    return PW_MOD_NONE;
}
