/* The trace file: created once per process image, sized in full (sparse),
 * mapped MAP_SHARED and its fd closed at once, so that every store is in the
 * page cache (complete after SIGKILL) and the host can neither close nor
 * overwrite it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "depot.h"
#include "options.h"
#include "proc.h"
#include "shim.h"
#include "tracefile.h"
#include "util.h"

#define PW_MAX_EXEC_GEN 4096u

struct pw_tracefile pw_tf;

uint64_t pw_now(void)
{
    return pw_mono_abs() - pw_tf.start_mono;
}

static uint64_t page_up(uint64_t x)
{
    return (x + PW_PAGE - 1) & ~(uint64_t)(PW_PAGE - 1);
}

static uint32_t pow2_up(uint64_t x)
{
    uint32_t p = 1;
    while (p < x && p < (1u << 31))
        p <<= 1;
    return p;
}

/* Places the sections one after another, page aligned; returns the file size. */
static uint64_t layout(struct pw_trace_header *h, const struct pw_options *o)
{
    uint64_t pool = o->depot_kb * 1024;
    struct {
        struct pw_section *s;
        uint64_t count, entry, bytes;
    } secs[] = {
        {&h->modules, PW_DEFAULT_MAX_MODULES, PW_MODULE_SIZE, 0},
        {&h->depot_index, pow2_up(pool / 128 < 1024 ? 1024 : pool / 128), 4, 0},
        {&h->depot_pool, 0, 0, pool},
        {&h->chans, o->max_chans, PW_CHAN_REC_SIZE, 0},
        {&h->notes, o->max_notes, sizeof(struct pw_event), 0},
        {&h->threads, o->max_threads, h->thread_slot_size, 0},
    };
    uint64_t off = page_up(PW_HEADER_SIZE);
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        uint64_t bytes = secs[i].bytes ? secs[i].bytes : secs[i].count * secs[i].entry;
        secs[i].s->offset = off;
        secs[i].s->size = bytes;
        secs[i].s->count = (uint32_t)secs[i].count;
        secs[i].s->entry_size = (uint32_t)secs[i].entry;
        off = page_up(off + bytes);
    }
    /* a quarter of the notes is kept from lock-order edges (ring.c): edges are
     * the only notes whose volume grows with the program's lock count */
    h->notes_reserve = h->notes.count / 4;
    h->edges_per_class = PW_EDGES_PER_CLASS;
    return off;
}

static size_t trace_name(char *buf, size_t cap, uint32_t gen)
{
    return pw_trace_file_name(buf, cap, pw_cfg.trace_dir, (uint64_t)pw_pid, gen);
}

/* O_EXCL|O_NOFOLLOW: never overwrite, never follow a planted symlink.  An exec'd
 * image keeps the pid, so the first free ".<n>" suffix is its exec generation. */
static int open_trace(uint32_t *gen)
{
    for (uint32_t g = 0; g < PW_MAX_EXEC_GEN; g++) {
        trace_name(pw_tf.path, sizeof pw_tf.path, g);
        int fd = open(pw_tf.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) {
            *gen = g;
            return fd;
        }
    }
    return -1;
}

static uint64_t read_small_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < cap && (r = pw_sys_read(fd, buf + n, cap - n)) > 0)
        n += (size_t)r;
    pw_sys_close(fd);
    return n;
}

/* Field 22 of /proc/self/stat, counted after the ")" that ends the comm. */
static uint64_t proc_start_ticks(void)
{
    char buf[1024];
    uint64_t n = read_small_file("/proc/self/stat", buf, sizeof buf - 1);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    for (int field = 2; field < 22 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    uint64_t v = 0;
    for (p = p ? p + 1 : NULL; p != NULL && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

/* argv as NUL-separated strings, truncated at a whole argument. */
static void fill_argv(struct pw_trace_header *h)
{
    char buf[PW_ARGV_MAX];
    uint64_t n = read_small_file("/proc/self/cmdline", buf, sizeof buf);
    uint32_t used = 0, argc = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (buf[i] != '\0')
            continue;
        used = i + 1;
        argc++;
    }
    memcpy(h->argv, buf, used);
    h->argv_len = used;
    h->argc = argc;
}

static void fill_header(struct pw_trace_header *h, uint64_t size, uint32_t gen, int32_t ppid)
{
    struct timespec rt;
    h->file_size = size;
    h->pid = pw_pid;
    h->ppid = ppid;
    h->clock_id = CLOCK_MONOTONIC;
    h->exec_gen = gen;
    clock_gettime(CLOCK_REALTIME, &rt);
    h->start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
    h->start_mono_ns = pw_mono_abs();
    pw_tf.start_mono = h->start_mono_ns;
    h->proc_start_ticks = proc_start_ticks();
    h->depot_used = 8;  /* offset 0 is reserved: stack id 0 means "none" */
    h->next_serial = 1; /* serial 1 is kept for the main thread */
    ssize_t n = readlink("/proc/self/exe", h->exe, PW_EXE_MAX - 1);
    h->exe[n > 0 ? n : 0] = '\0';
    fill_argv(h);
    const char *env = getenv("PARKWATCH_OPTIONS");
    pw_strlcpy(h->options, env ? env : "", sizeof h->options);
}

/* On ext4 (and other journalling filesystems) the first store into a hole of
 * a shared file mapping goes through page_mkwrite's slow path, which starts a
 * journal handle and can block for milliseconds when the journal is busy;
 * measured: 3-5 ms for the first page of a new trace, against 0.1 ms when the
 * page was written with pwrite first.  Every process touches the same few
 * pages at start (header, first modules, first depot pool page, first channel
 * and note records, thread slot 0), so those are written here; the file stays
 * sparse everywhere else. */
static void prewrite(int fd, const struct pw_trace_header *h)
{
    static const char zeros[2 * PW_PAGE];
    const struct pw_section *secs[] = {&h->modules, &h->depot_pool, &h->chans, &h->notes,
                                       &h->threads};
    if (pwrite(fd, zeros, PW_HEADER_SIZE, 0) != (ssize_t)PW_HEADER_SIZE)
        return; /* best effort: the mapping works without it */
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        size_t n = secs[i]->size < sizeof zeros ? (size_t)secs[i]->size : sizeof zeros;
        if (pwrite(fd, zeros, n, (off_t)secs[i]->offset) != (ssize_t)n)
            return;
    }
}

static void warn_off(const char *what)
{
    const char *why = strerrordesc_np(errno);
    pw_warn(what, pw_tf.path, ": ", why ? why : "error", "; recording is off", NULL);
}

/* The file is sparse, so running out of room never shows at ftruncate: a store
 * into a hole the filesystem cannot back (disk or tmpfs full) kills the host
 * with SIGBUS, and a file grown past RLIMIT_FSIZE gets SIGXFSZ (default action:
 * terminate).  Both were seen killing hosts; check before mapping, with one
 * line that says how to make the trace smaller. */
static int check_room(int fd, uint64_t size)
{
    const char *why = NULL;
    struct rlimit rl;
    struct statvfs vs;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && size > rl.rlim_cur)
        why = " KiB, over the file size limit (RLIMIT_FSIZE)";
    else if (fstatvfs(fd, &vs) == 0 && (uint64_t)vs.f_bavail * vs.f_frsize < size)
        why = " KiB, more than the free space there";
    if (why == NULL)
        return 0;
    char kib[24];
    pw_append_u64(kib, 0, sizeof kib, size >> 10);
    pw_warn("trace file ", pw_tf.path, " would need ", kib, why,
            "; recording is off (lower max_threads, ring_events or depot_kb)", NULL);
    return -1;
}

/* Backs [ADDR, ADDR+LEN) of the mapping with real blocks before first use, so
 * that a filesystem that filled up after the start gives an error here rather
 * than SIGBUS in the host.  On failure recording stops for good, with one line;
 * kernels without MADV_POPULATE_WRITE (before 5.14) keep the sparse behaviour. */
bool pw_trace_reserve(void *addr, uint64_t len)
{
    static uint32_t unsupported, warned;
    uintptr_t lo = (uintptr_t)addr & ~(uintptr_t)(PW_PAGE - 1);
    uintptr_t hi = ((uintptr_t)addr + len + PW_PAGE - 1) & ~(uintptr_t)(PW_PAGE - 1);
    if (PW_LOAD_RELAXED(&unsupported) ||
        madvise((void *)lo, hi - lo, 23 /* MADV_POPULATE_WRITE */) == 0)
        return true;
    if (errno == EINVAL) {
        PW_STORE_RELAXED(&unsupported, 1);
        return true;
    }
    if (pw_tf.hdr != NULL)
        PW_STORE(&pw_tf.hdr->recording, 0);
    PW_STORE(&pw_proc->ready, PW_READY_OFF);
    if (__atomic_exchange_n(&warned, 1, __ATOMIC_ACQ_REL) == 0)
        pw_warn("trace file ", pw_tf.path, ": no space left to grow it; recording stops", NULL);
    return false;
}

/* Sections that fill from the front (depot pool, notes, channels) are backed
 * ahead of use in steps: B remembers how far, for the mapping it belongs to (a
 * fork child maps a new trace).  Racing writers are covered by the step, which
 * is far larger than what the threads between two checks can add. */
bool pw_trace_back(struct pw_backing *b, char *sec, uint64_t sec_size, uint64_t upto)
{
    if (PW_LOAD_RELAXED(&b->sec) == sec && PW_LOAD_RELAXED(&b->to) >= upto)
        return true;
    uint64_t from = PW_LOAD_RELAXED(&b->sec) == sec ? PW_LOAD_RELAXED(&b->to) : 0;
    uint64_t to = upto + PW_BACK_STEP < sec_size ? upto + PW_BACK_STEP : sec_size;
    if (to <= from)
        return true;
    if (!pw_trace_reserve(sec + from, to - from))
        return false;
    PW_STORE_RELAXED(&b->to, to);
    PW_STORE_RELAXED(&b->sec, sec);
    return true;
}

int pw_trace_create(int32_t ppid)
{
    struct pw_trace_header tmp;
    memset(&tmp, 0, sizeof tmp);
    pw_trace_header_init(&tmp, pw_cfg.ring_events);
    uint64_t size = layout(&tmp, &pw_cfg.opt);
    uint32_t gen = 0;
    int fd = open_trace(&gen);
    if (fd < 0) {
        warn_off("cannot create trace file ");
        return -1;
    }
    if (check_room(fd, size) != 0) {
        pw_sys_close(fd);
        unlink(pw_tf.path);
        return -1;
    }
    void *base = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0) {
        prewrite(fd, &tmp);
        base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        /* Every first touch of a page of the trace faults a hole in; the
         * kernel's read-around then zero-fills a whole readahead window of
         * holes each time (measured: a third of a short process's start-up,
         * and of each new thread's slot reservation).  We never read the
         * file through the mapping before writing it: no read-around. */
        if (base != MAP_FAILED)
            madvise(base, size, MADV_RANDOM);
    }
    int saved = errno;
    pw_sys_close(fd);
    if (base == MAP_FAILED) {
        errno = saved;
        warn_off("cannot map trace file ");
        unlink(pw_tf.path);
        return -1;
    }
    struct pw_trace_header *h = base;
    memcpy(h, &tmp, sizeof tmp);
    fill_header(h, size, gen, ppid);
    pw_depot_bind(&pw_tf.depot, h, base);
    pw_tf.base = base;
    pw_tf.size = size;
    PW_STORE(&pw_tf.hdr, h);
    return 0;
}

/* The fork child stops using the parent's mapping (it must never write into
 * it); the caller unmaps it when done copying. */
void pw_trace_detach(void)
{
    pw_tf.hdr = NULL;
    pw_tf.base = NULL;
    pw_tf.size = 0;
    memset(&pw_tf.depot, 0, sizeof pw_tf.depot);
}

/* ---- the previous image */

struct pw_trace_header *pw_trace_map_previous(uint32_t gen, uint64_t *size)
{
    char path[sizeof pw_tf.path];
    pw_trace_file_name(path, sizeof path, pw_cfg.trace_dir, (uint64_t)pw_pid, gen - 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *base = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= PW_HEADER_SIZE)
        base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    pw_sys_close(fd);
    if (base == MAP_FAILED)
        return NULL;
    struct pw_trace_header *old = base;
    uint64_t n = (uint64_t)st.st_size;
    /* the previous image of this very process (an exec keeps the start time), and
     * a layout this image understands; anything else is left alone */
    bool ok = memcmp(old->magic, PW_TRACE_MAGIC, 8) == 0 &&
              old->version_major == PW_TRACE_VERSION_MAJOR && old->pid == pw_pid &&
              old->proc_start_ticks == pw_tf.hdr->proc_start_ticks &&
              old->chan_rec_size == PW_CHAN_REC_SIZE && old->end_kind == PW_END_EXEC &&
              old->chans.offset + (uint64_t)old->chans.count * PW_CHAN_REC_SIZE <= n &&
              old->notes.offset + (uint64_t)old->notes.count * sizeof(struct pw_event) <= n &&
              old->depot_pool.offset + old->depot_pool.size <= n;
    if (!ok) {
        munmap(base, (size_t)n);
        return NULL;
    }
    *size = n;
    return old;
}

void pw_trace_unmap(struct pw_trace_header *h, uint64_t size)
{
    munmap(h, (size_t)size);
}
