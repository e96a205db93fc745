/* Trace reader: one read(2) snapshot of an untrusted file, validated section by
 * section into private copies.  Nothing handed out points into the raw buffer
 * except depot stacks, whose bounds are checked on every lookup, and big rings
 * (a small trace's rings and pool are copied out and the snapshot freed).  The
 * rings of a finished process, when big, are not in the snapshot at all: they
 * are read from the file, a chunk at a time, by each scan
 * (pw_trace_each_event), the first of which validates them, so that a
 * report's memory and page faults do not grow with the number of events and
 * its rings are read once. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Big buffers (the snapshot, the merged events) come straight from mmap.  The
 * snapshot is the size of the file but sparse (a trace reserves tens of MB and
 * uses kilobytes): only the pages read into cost memory, so huge pages are
 * asked for only where hundreds of megabytes are read (faulting those in 4 KiB
 * at a time costs more than everything else a report does); elsewhere a 2 MiB
 * page per touched section made a directory of 1000 small traces take
 * gigabytes.  Small buffers use malloc. */
#define BIG_ALLOC (4u << 20)
#define HUGE_PAGE (2u << 20)

static void *big_zalloc(size_t n)
{
    if (n < BIG_ALLOC)
        return calloc(1, n ? n : 1);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Asks for huge pages over the whole huge pages inside [OFF, OFF+LEN) of BUF
 * (a big_zalloc'd buffer of SIZE bytes), when that span is big. */
static void want_huge(unsigned char *buf, size_t size, uint64_t off, uint64_t len)
{
    if (size < BIG_ALLOC || len < BIG_ALLOC || off > size || len > size - off)
        return;
    uintptr_t lo = ((uintptr_t)buf + off + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)buf + off + len) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

static void big_free(void *p, size_t n)
{
    if (!p)
        return;
    if (n < BIG_ALLOC)
        free(p);
    else
        munmap(p, n);
}

/* Per-thread view: the validated record and its surviving ring events. */
struct pw_thread_view {
    struct pw_thread_rec rec;
    struct pw_event *events; /* oldest first; inside the snapshot or the compacted
                              * rings unless owned; NULL for a streamed ring that
                              * nobody asked to see whole */
    bool owned;
    size_t nevents;
    uint64_t dropped;  /* overwritten or torn */
    uint64_t ring_off; /* streamed: file offset of the ring's record 0 */
};

/* What is built on first use, behind a const handle: the merged array, and a
 * streamed trace's rings read whole. */
struct pw_lazy {
    bool merged_built, rings_read;
    struct pw_event *merged;
    size_t nmerged;
    size_t merged_size; /* bytes allocated for merged (big_zalloc) */
    /* What the rings' validation says: known at open for a trace read whole;
     * for a streamed one, after its first complete scan (the model's), or
     * after its rings were read whole. */
    bool stats_known;
    bool sorted;           /* every ring is in (time, thread, seq) order */
    uint64_t last_ns;      /* time of the newest ring event */
    uint64_t ring_dropped; /* ring records overwritten or torn */
};

struct pw_trace {
    char *path;
    char *warning;
    unsigned char *buf; /* the snapshot; only the depot pool is read from it later */
    size_t len;
    size_t buf_size; /* bytes allocated for buf (big_zalloc) */
    struct pw_trace_header hdr;

    char **argv;
    unsigned argc;

    struct pw_thread_view *threads;
    size_t nthreads;
    struct pw_lazy *lazy;
    struct pw_event *ring_store; /* the rings of a small trace, compacted */
    /* Streamed: the file, kept open to read the rings when they are scanned
     * (a finished process's trace with big rings); -1 otherwise. */
    int fd;
    struct pw_event *notes;
    size_t nnotes;
    struct pw_chan_rec *chans;
    size_t nchans;
    const struct pw_chan_rec **chans_by_id; /* sorted by id for bsearch */
    struct pw_module *modules;
    size_t nmodules;

    const unsigned char *pool; /* depot pool, inside buf or pool_copy */
    uint64_t pool_len;         /* bytes of the pool that are used and present */
    unsigned char *pool_copy;  /* the pool once buf is gone */

    uint64_t total_events;
};

/* Error/warning sink: the first failure wins, later ones would only repeat it. */
struct pw_ctx {
    struct pw_trace *t;
    const char *name;
    char *err;
    size_t errlen;
    int truncated;
    int fd;      /* the file, for a second look at live rings; -1 for memory */
    bool stream; /* rings are not in the snapshot: t->fd reads them on demand */
};

static int fail(struct pw_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pw_ctx *c, const char *fmt, ...)
{
    if (!c->err || !c->errlen)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s: ", c->name);
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- names from the X-macro lists */

#define PW_NAME_FN(fn, LIST, STR)                                     \
    const char *fn(unsigned v)                                        \
    {                                                                 \
        static const char *const names[] = {LIST(STR)};               \
        return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?"; \
    }
#define PW_STR2(name, str) str,
#define PW_STR4(name, str, c1, c2) str,
#define PW_STR5(name, str, c1, c2, c3) str,
PW_NAME_FN(pw_event_kind_name, PW_EVENT_KINDS, PW_STR4)
PW_NAME_FN(pw_park_op_name, PW_PARK_OPS, PW_STR5)
PW_NAME_FN(pw_obj_type_name, PW_OBJ_TYPES, PW_STR4)
PW_NAME_FN(pw_misuse_name, PW_MISUSE_KINDS, PW_STR2)
PW_NAME_FN(pw_end_kind_name, PW_END_KINDS, PW_STR2)
PW_NAME_FN(pw_side_name, PW_SIDES, PW_STR2)
PW_NAME_FN(pw_exit_how_name, PW_EXIT_HOWS, PW_STR2)
PW_NAME_FN(pw_fork_side_name, PW_FORK_SIDES, PW_STR2)
#undef PW_STR2
#undef PW_STR4
#undef PW_STR5
#undef PW_NAME_FN

/* ---- bounds helpers (overflow-safe) */

/* 1 if [off, off+size) lies within [0, limit). */
static int in_bounds(uint64_t off, uint64_t size, uint64_t limit)
{
    return off <= limit && size <= limit - off;
}

/* Number of whole entries of STRIDE bytes starting at OFF that are present in
 * the snapshot, capped at WANT. */
static uint64_t entries_present(const struct pw_trace *t, uint64_t off, uint64_t stride,
                                uint64_t want)
{
    if (off >= t->len || stride == 0)
        return 0;
    uint64_t have = (t->len - off) / stride;
    return have < want ? have : want;
}

/* Entries of section SEC that are in use (USED, bounded by the capacity) and
 * present in the file, at STRIDE bytes each; fewer than in use marks the trace
 * truncated (it is still read as far as it goes). */
static uint64_t entries_in_use(struct pw_ctx *c, const struct pw_section *sec, uint64_t used,
                               uint64_t stride)
{
    uint64_t want = used < sec->count ? used : sec->count;
    uint64_t n = entries_present(c->t, sec->offset, stride, want);
    if (n < want)
        c->truncated = 1;
    return n;
}

/* ---- header */

static int check_magic(struct pw_ctx *c, const struct pw_trace_header *h, size_t len)
{
    if (len == 0)
        return fail(c, "empty file, not a parkwatch trace");
    if (len < sizeof(h->magic) || memcmp(h->magic, PW_TRACE_MAGIC, sizeof(h->magic)) != 0)
        return fail(c, "not a parkwatch trace");
    if (len < offsetof(struct pw_trace_header, header_size))
        return fail(c, "trace is truncated inside its header (%zu bytes)", len);
    if (h->version_major > PW_TRACE_VERSION_MAJOR)
        return fail(c, "trace format version %u is newer than this parkwatch (%u)",
                    h->version_major, PW_TRACE_VERSION_MAJOR);
    if (h->version_major < PW_TRACE_VERSION_MAJOR)
        return fail(c, "trace format version %u is not supported (expected %u)", h->version_major,
                    PW_TRACE_VERSION_MAJOR);
    if (len < sizeof(*h))
        return fail(c, "trace is truncated inside its header (%zu bytes)", len);
    return 0;
}

/* Record sizes may grow in minor versions: they must be at least what we know,
 * and the file's sizes are used as strides. */
static int check_sizes(struct pw_ctx *c, const struct pw_trace_header *h)
{
    if (h->header_size < sizeof(*h))
        return fail(c, "corrupt trace: header_size %u too small", h->header_size);
    if (h->event_size < sizeof(struct pw_event))
        return fail(c, "corrupt trace: event_size %u too small", h->event_size);
    if (h->thread_rec_size < sizeof(struct pw_thread_rec))
        return fail(c, "corrupt trace: thread_rec_size %u too small", h->thread_rec_size);
    if (h->chan_rec_size < sizeof(struct pw_chan_rec))
        return fail(c, "corrupt trace: chan_rec_size %u too small", h->chan_rec_size);
    if (h->module_size < sizeof(struct pw_module))
        return fail(c, "corrupt trace: module_size %u too small", h->module_size);
    if (h->header_size > h->file_size)
        return fail(c, "corrupt trace: header larger than the file");
    return 0;
}

/* A section must lie inside the declared file and hold COUNT entries of STRIDE. */
static int check_section(struct pw_ctx *c, const struct pw_section *s, const char *what,
                         uint64_t stride, uint64_t file_size)
{
    if (s->size == 0 && s->count == 0)
        return 0;
    if (s->offset < c->t->hdr.header_size || !in_bounds(s->offset, s->size, file_size))
        return fail(c, "corrupt trace: %s section [%llu, +%llu) outside the file (%llu bytes)",
                    what, (unsigned long long)s->offset, (unsigned long long)s->size,
                    (unsigned long long)file_size);
    if (stride && (uint64_t)s->count > s->size / stride)
        return fail(c, "corrupt trace: %s section holds %llu bytes, not %u entries of %llu", what,
                    (unsigned long long)s->size, s->count, (unsigned long long)stride);
    return 0;
}

static uint64_t stride_of(const struct pw_section *s, uint64_t dflt)
{
    return s->entry_size ? s->entry_size : dflt;
}

static int check_strides(struct pw_ctx *c, const struct pw_trace_header *h)
{
    if (stride_of(&h->modules, h->module_size) < sizeof(struct pw_module) ||
        stride_of(&h->chans, h->chan_rec_size) < sizeof(struct pw_chan_rec) ||
        stride_of(&h->notes, h->event_size) < sizeof(struct pw_event))
        return fail(c, "corrupt trace: section entry size too small");
    /* Depot records are read in place as uint64_t arrays. */
    if (h->depot_pool.offset % 8)
        return fail(c, "corrupt trace: depot pool is not 8-byte aligned");
    if (h->depot_index.entry_size && h->depot_index.entry_size != 4)
        return fail(c, "corrupt trace: depot index entry size %u", h->depot_index.entry_size);
    /* The ring follows the thread record in each slot; the slot must hold both. */
    uint64_t ring = (uint64_t)h->ring_events * h->event_size;
    if (h->ring_events == 0 || ring / h->event_size != h->ring_events ||
        (uint64_t)h->thread_slot_size < ring ||
        h->thread_slot_size - ring < sizeof(struct pw_thread_rec))
        return fail(c, "corrupt trace: thread slot of %u bytes cannot hold %u events",
                    h->thread_slot_size, h->ring_events);
    if (h->threads.entry_size && h->threads.entry_size != h->thread_slot_size)
        return fail(c, "corrupt trace: thread slot size mismatch");
    return 0;
}

static int load_header(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    struct pw_trace_header *h = &t->hdr;
    memcpy(h, t->buf, t->len < sizeof(*h) ? t->len : sizeof(*h));
    if (check_magic(c, h, t->len) < 0 || check_sizes(c, h) < 0 || check_strides(c, h) < 0)
        return -1;
    const struct {
        const struct pw_section *s;
        const char *what;
        uint64_t stride;
    } secs[] = {
        {&h->modules, "modules", stride_of(&h->modules, h->module_size)},
        {&h->depot_index, "depot index", 4},
        {&h->depot_pool, "depot pool", 0},
        {&h->chans, "channels", stride_of(&h->chans, h->chan_rec_size)},
        {&h->notes, "notes", stride_of(&h->notes, h->event_size)},
        {&h->threads, "threads", h->thread_slot_size},
    };
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
        if (check_section(c, secs[i].s, secs[i].what, secs[i].stride, h->file_size) < 0)
            return -1;
    /* Strings are written by a live process: terminate our copies. */
    h->exe[PW_EXE_MAX - 1] = '\0';
    h->argv[PW_ARGV_MAX - 1] = '\0';
    h->options[sizeof(h->options) - 1] = '\0';
    if (h->argv_len > PW_ARGV_MAX)
        h->argv_len = PW_ARGV_MAX;
    if (t->len < h->file_size) {
        c->truncated = 1;
        char w[256];
        snprintf(w, sizeof(w),
                 "%s: trace is truncated (%zu of %llu bytes); analyzing what is there", c->name,
                 t->len, (unsigned long long)h->file_size);
        t->warning = strdup(w);
    }
    return 0;
}

/* argv is NUL-separated; the last argument may be cut. */
static int load_argv(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    const char *p = t->hdr.argv;
    size_t len = t->hdr.argv_len;
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\0' || i + 1 == len)
            n++;
    if (n > t->hdr.argc)
        n = t->hdr.argc;
    t->argv = calloc(n ? n : 1, sizeof(*t->argv));
    if (!t->argv)
        return fail(c, "out of memory");
    size_t off = 0;
    for (unsigned i = 0; i < n && off < len; i++) {
        size_t l = strnlen(p + off, len - off);
        t->argv[i] = strndup(p + off, l);
        if (!t->argv[i])
            return fail(c, "out of memory");
        t->argc = i + 1;
        off += l + 1;
    }
    return 0;
}

/* ---- threads and rings */

/* Event kinds unknown to us are kept only when a newer minor version could have
 * added them; from our own version they mean a torn or corrupt record. */
static int kind_ok(const struct pw_trace *t, const struct pw_event *e)
{
    return e->kind < PW_EV__COUNT || t->hdr.version_minor > PW_TRACE_VERSION_MINOR;
}

/* seq of the event at byte offset OFF in a slot copy. */
static uint64_t seq_at(const unsigned char *slot, uint64_t off)
{
    uint64_t seq;
    memcpy(&seq, slot + off + offsetof(struct pw_event, seq), sizeof(seq));
    return seq;
}

/* Is the event at ring index J (byte offset OFF in the slot) complete?  seq is
 * stored last: a mismatch is a record being (over)written.  The snapshot copies
 * seq before the payload, so a writer that started overwriting in between
 * leaves an old seq over new data; it also changed seq (to 0, then to a later
 * lap), which the second read AGAIN sees. */
static bool event_ok(const struct pw_trace *t, const struct pw_event *e, uint64_t j,
                     const unsigned char *again, const unsigned char *before, uint64_t off)
{
    return e->seq == j + 1 && kind_ok(t, e) && (!again || seq_at(again, off) == e->seq) &&
           (!before || seq_at(before, off) == e->seq);
}

static void reverse(struct pw_event *a, size_t n)
{
    for (size_t i = 0, k = n; i + 1 < k; i++, k--) {
        struct pw_event tmp = a[i];
        a[i] = a[k - 1];
        a[k - 1] = tmp;
    }
}

/* Rings are used in place, in the snapshot: a copy of hundreds of megabytes
 * costs more in page faults than everything else the analyzer does.  A wrapped
 * ring is rotated oldest-first (three reversals, no memory), then torn records
 * are squeezed out.  Records of another size (a newer minor version) are
 * copied into a separate array instead.  AGAIN, if not NULL, is a second read of
 * the same slot taken after SLOT. */
static int load_ring(struct pw_trace *t, unsigned char *slot, const unsigned char *again,
                     const unsigned char *before, struct pw_thread_view *v)
{
    const struct pw_trace_header *h = &t->hdr;
    uint64_t head = v->rec.ring_head, cap = h->ring_events;
    uint64_t first = head > cap ? head - cap : 0;
    uint64_t ring = h->thread_slot_size - cap * h->event_size;
    t->total_events += head;
    v->dropped = first;
    if (h->event_size != sizeof(struct pw_event)) {
        v->events = malloc((size_t)cap * sizeof(*v->events));
        if (!v->events)
            return -1;
        v->owned = true;
        for (uint64_t j = first; j < head; j++) {
            struct pw_event e;
            uint64_t off = ring + (j % cap) * h->event_size;
            memcpy(&e, slot + off, sizeof(e));
            if (event_ok(t, &e, j, again, before, off))
                v->events[v->nevents++] = e;
            else
                v->dropped++;
        }
        return 0;
    }
    struct pw_event *ev = (struct pw_event *)(slot + ring);
    uint64_t n = head - first, start = first % cap;
    /* validate at the recorded positions (the second read is laid out so) */
    for (uint64_t j = first; j < head; j++) {
        uint64_t pos = j % cap;
        if (!event_ok(t, &ev[pos], j, again, before, ring + pos * sizeof(*ev)))
            ev[pos].kind = UINT16_MAX; /* torn: dropped below */
    }
    if (start && n == cap) {
        reverse(ev, start);
        reverse(ev + start, cap - start);
        reverse(ev, cap);
    }
    v->events = ev;
    for (uint64_t i = 0; i < n; i++) {
        if (ev[i].kind == UINT16_MAX) {
            v->dropped++;
            continue;
        }
        ev[v->nevents++] = ev[i];
    }
    return 0;
}

static int cmp_event(const void *a, const void *b);

/* Order and newest time of the events of an in-memory view, as the merge
 * needs them. */
static void ring_order(struct pw_lazy *z, const struct pw_thread_view *v)
{
    for (size_t j = 0; j < v->nevents; j++) {
        if (j && cmp_event(&v->events[j - 1], &v->events[j]) > 0)
            z->sorted = false;
        if (v->events[j].time_ns > z->last_ns)
            z->last_ns = v->events[j].time_ns;
    }
}

/* ---- streamed rings: read from the file in chunks, validated as they come.
 * Only a finished process's trace is streamed: nothing writes it any more, so
 * one read of each record is as good as the snapshot's (a file cut short reads
 * as records that fail validation, as in the snapshot).  A streamed ring is
 * validated by the scans themselves: the first complete one gives the counts,
 * the drops, the order and the newest time. */

struct ring_rd {
    int fd;
    uint64_t off;        /* file offset of the ring's record 0 */
    uint64_t cap, esz;   /* records in the ring, bytes per record */
    uint64_t j, head;    /* next ring index to read, one past the newest */
    size_t chunk;        /* records per read */
    unsigned char *raw;  /* chunk * esz bytes */
    struct pw_event *ev; /* the valid records of the last read (raw itself
                          * when records are sizeof(struct pw_event)) */
    size_t n;
    uint64_t valid; /* records kept so far */
    uint64_t bad;   /* records that failed validation: torn or cut off */
    uint64_t last_ns, max_ns;
    uint32_t last_thread;
    bool unsorted; /* a record older than the one before it */
    unsigned minor;
};

static void rd_init(struct ring_rd *r, const struct pw_trace *t, const struct pw_thread_view *v,
                    size_t chunk, unsigned char *raw, struct pw_event *ev)
{
    const struct pw_trace_header *h = &t->hdr;
    uint64_t head = v->rec.ring_head, cap = h->ring_events;
    *r = (struct ring_rd){.fd = t->fd,
                          .off = v->ring_off,
                          .cap = cap,
                          .esz = h->event_size,
                          .j = head > cap ? head - cap : 0,
                          .head = head,
                          .chunk = chunk,
                          .raw = raw,
                          .ev = ev,
                          .minor = h->version_minor};
}

/* Is record E at ring index J complete?  seq is stored last. */
static bool rd_valid(const struct ring_rd *r, const struct pw_event *e, uint64_t j)
{
    return e->seq == j + 1 && (e->kind < PW_EV__COUNT || r->minor > PW_TRACE_VERSION_MINOR);
}

/* Order and time of a kept record.  Within one ring seq only grows, so
 * (time, thread) decides cmp_event's order. */
static inline void rd_note(struct ring_rd *r, const struct pw_event *e)
{
    if (r->valid &&
        (e->time_ns < r->last_ns || (e->time_ns == r->last_ns && e->thread < r->last_thread)))
        r->unsorted = true;
    r->last_ns = e->time_ns;
    r->last_thread = e->thread;
    if (e->time_ns > r->max_ns)
        r->max_ns = e->time_ns;
    r->valid++;
}

/* Reads the next records into r->ev, keeping the valid ones; returns how many
 * (0 when the ring is done). */
static size_t rd_fill(struct ring_rd *r)
{
    r->n = 0;
    while (r->n == 0 && r->j < r->head) {
        uint64_t pos = r->j % r->cap, m = r->cap - pos;
        if (m > r->head - r->j)
            m = r->head - r->j;
        if (m > r->chunk)
            m = r->chunk;
        size_t want = (size_t)(m * r->esz), got = 0;
        while (got < want) {
            ssize_t k = pread(r->fd, r->raw + got, want - got,
                              (off_t)(r->off + pos * r->esz + got));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break; /* cut short (or unreadable): what is missing fails validation */
            got += (size_t)k;
        }
        uint64_t whole = got / r->esz;
        if (r->ev == (struct pw_event *)r->raw) {
            /* records of our size, validated where they were read: a torn
             * one is squeezed out, the others are not copied */
            for (uint64_t k = 0; k < whole; k++) {
                const struct pw_event *e = &r->ev[k];
                if (!rd_valid(r, e, r->j + k)) {
                    r->bad++;
                    continue;
                }
                rd_note(r, e);
                if (r->n++ != k)
                    r->ev[r->n - 1] = *e;
            }
        } else {
            for (uint64_t k = 0; k < whole; k++) {
                struct pw_event e;
                memcpy(&e, r->raw + k * r->esz, sizeof(e));
                if (!rd_valid(r, &e, r->j + k)) {
                    r->bad++;
                    continue;
                }
                rd_note(r, &e);
                r->ev[r->n++] = e;
            }
        }
        r->bad += m - whole;
        r->j += m;
    }
    return r->n;
}

/* Records per read for N rings read side by side: a few MB in all. */
static size_t rd_chunk(size_t n, uint64_t esz)
{
    size_t c = (size_t)((8u << 20) / (n ? n : 1) / esz);
    return c < 16 ? 16 : c > 1024 ? 1024 : c;
}

/* A streamed ring R of view V read to its end: what its validation says. */
static void rd_commit(const struct pw_trace *t, struct pw_thread_view *v, const struct ring_rd *r)
{
    struct pw_lazy *z = t->lazy;
    v->nevents = (size_t)r->valid;
    v->dropped = (r->head > r->cap ? r->head - r->cap : 0) + r->bad;
    z->ring_dropped += v->dropped;
    z->sorted = z->sorted && !r->unsorted;
    if (r->max_ns > z->last_ns)
        z->last_ns = r->max_ns;
}

/* Reads a streamed trace's rings whole into the views (dump and tests look at
 * them; a report never does), and the validation's results with them. */
static int read_rings(const struct pw_trace *t)
{
    struct pw_lazy *z = t->lazy;
    if (t->fd < 0 || z->rings_read)
        return 0;
    size_t chunk = rd_chunk(1, t->hdr.event_size);
    unsigned char *raw = malloc(chunk * t->hdr.event_size);
    struct pw_event *ev = t->hdr.event_size == sizeof(*ev) ? (struct pw_event *)raw
                                                           : malloc(chunk * sizeof(*ev));
    bool known = z->stats_known;
    if (!raw || !ev)
        goto oom;
    if (!known) {
        z->sorted = true;
        z->last_ns = z->ring_dropped = 0;
    }
    for (size_t i = 0; i < t->nthreads; i++) {
        struct pw_thread_view *v = &t->threads[i];
        free(v->events); /* from a read that ran out of memory */
        v->events = NULL;
        struct ring_rd r;
        rd_init(&r, t, v, chunk, raw, ev);
        size_t cap = (size_t)(r.head - r.j), n = 0;
        v->events = malloc((cap ? cap : 1) * sizeof(*v->events));
        if (!v->events)
            goto oom;
        v->owned = true;
        while (rd_fill(&r)) {
            memcpy(v->events + n, r.ev, r.n * sizeof(*ev));
            n += r.n;
        }
        if (!known)
            rd_commit(t, v, &r);
        v->nevents = n;
    }
    if (ev != (struct pw_event *)raw)
        free(ev);
    free(raw);
    z->rings_read = z->stats_known = true;
    return 0;
oom:
    if (ev != (struct pw_event *)raw)
        free(ev);
    free(raw);
    return -1;
}

/* The validation's results, from reading the rings whole if no complete scan
 * gave them yet. */
static int ensure_stats(const struct pw_trace *t)
{
    return t->lazy->stats_known ? 0 : read_rings(t);
}

/* Reads thread slot I from the file again into BUF; NULL if that fails (then
 * the snapshot alone is trusted, as for a finished process). */
static const unsigned char *reread_slot(struct pw_ctx *c, uint64_t i, unsigned char *buf)
{
    const struct pw_trace_header *h = &c->t->hdr;
    off_t off = (off_t)(h->threads.offset + i * h->thread_slot_size);
    ssize_t r = pread(c->fd, buf, h->thread_slot_size, off);
    return r == (ssize_t)h->thread_slot_size ? buf : NULL;
}

/* Rereads thread slot I in place, into the snapshot at SLOT; 0 or -1. */
static int reread_in_place(struct pw_ctx *c, uint64_t i, unsigned char *slot)
{
    return reread_slot(c, i, slot) ? 0 : -1;
}

/* A live process's slot is read three times: the bulk snapshot (BEFORE, kept
 * in PREV), a fresh read that becomes the data, and a last read (AFTER).  A
 * record is trusted only when its sequence number is the same in all three:
 * the kernel's copy gives no order between the fields of one read, so a single
 * read cannot tell a record that was being rewritten while it was copied, and a
 * comparison of two reads misses a writer that was preempted right after a
 * rewrite that the first read tore (a seqlock needs a read on each side). */
static int load_threads(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    const struct pw_trace_header *h = &t->hdr;
    uint64_t n = entries_in_use(c, &h->threads, h->threads_used, h->thread_slot_size);
    /* Only a process that may still be writing needs the extra reads: a
     * finished one's trace no longer changes (and rereading a big ring
     * doubles the cost of the whole report). */
    bool live = c->fd >= 0 && h->end_kind == PW_END_RUNNING && !c->stream;
    t->threads = calloc(n ? n : 1, sizeof(*t->threads));
    unsigned char *after = live ? malloc(h->thread_slot_size) : NULL;
    unsigned char *prev = live ? malloc(h->thread_slot_size) : NULL;
    if (!t->threads || (live && (!after || !prev))) {
        free(after);
        free(prev);
        return fail(c, "out of memory");
    }
    for (uint64_t i = 0; i < n; i++) {
        unsigned char *slot = t->buf + h->threads.offset + i * h->thread_slot_size;
        struct pw_thread_view *v = &t->threads[t->nthreads];
        const unsigned char *again = NULL, *before = NULL;
        if (live) {
            memcpy(prev, slot, h->thread_slot_size);
            if (reread_in_place(c, i, slot) == 0 && reread_slot(c, i, after)) {
                again = after;
                before = prev;
            } else {
                memcpy(slot, prev, h->thread_slot_size); /* trust the snapshot alone */
            }
        }
        memcpy(&v->rec, slot, sizeof(v->rec));
        if (v->rec.state != PW_TS_ALIVE && v->rec.state != PW_TS_EXITED)
            continue;
        /* An odd seqlock means the park state was mid-update in our snapshot. */
        if (v->rec.park_seq & 1)
            v->rec.park_op = PW_OP_NONE;
        if (v->rec.nheld > PW_HELD_MAX)
            v->rec.nheld = PW_HELD_MAX;
        v->rec.name[PW_THREAD_NAME_MAX - 1] = '\0';
        /* Park state that changed around the read is mid-update too. */
        size_t ps = offsetof(struct pw_thread_rec, park_seq);
        if (again && (memcmp(again + ps, slot + ps, sizeof(uint32_t)) ||
                      memcmp(before + ps, slot + ps, sizeof(uint32_t))))
            v->rec.park_op = PW_OP_NONE;
        if (c->stream) {
            /* validated by the first scan */
            v->ring_off = h->threads.offset + i * h->thread_slot_size + h->thread_slot_size -
                          (uint64_t)h->ring_events * h->event_size;
            t->total_events += v->rec.ring_head;
        } else if (load_ring(t, slot, again, before, v) < 0) {
            free(after);
            free(prev);
            return fail(c, "out of memory");
        } else {
            ring_order(t->lazy, v);
            t->lazy->ring_dropped += v->dropped;
        }
        t->nthreads++;
    }
    t->lazy->stats_known = !c->stream;
    free(after);
    free(prev);
    return 0;
}

static int cmp_event(const void *a, const void *b)
{
    const struct pw_event *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return 0;
}

/* K-way merge of the per-thread rings (each already in time order, since one
 * thread writes its ring in order) with a binary heap of ring cursors: n log k
 * instead of sorting n 64-byte records.  A cursor walks its ring in memory, or
 * a chunk at a time from the file for a streamed ring, and skips the kinds the
 * caller did not ask for before they reach the heap. */
struct cursor {
    const struct pw_event *e, *end;
    struct ring_rd *rd; /* streamed: refills [e, end) */
};

static bool kind_in(unsigned kind, uint64_t kinds)
{
    return kind < 64 ? (kinds >> kind) & 1u : kinds == PW_KINDS_ALL;
}

/* Moves C to its next event of a kind in KINDS (from the current one when
 * FIRST): 1, or 0 when the ring is done, or -1 when a streamed ring read for
 * the first time turns out to be out of order (the scan must stop: its order
 * is no longer the merged order). */
static int cursor_next(struct cursor *c, uint64_t kinds, bool first)
{
    if (!first)
        c->e++;
    for (;;) {
        while (c->e < c->end && !kind_in(c->e->kind, kinds))
            c->e++;
        if (c->e < c->end)
            return 1;
        if (!c->rd || !rd_fill(c->rd))
            return 0;
        if (c->rd->unsorted)
            return -1;
        c->e = c->rd->ev;
        c->end = c->e + c->rd->n;
    }
}

static int cursor_less(const struct cursor *a, const struct cursor *b)
{
    return cmp_event(a->e, b->e) < 0;
}

static void sift_down(struct cursor *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cursor_less(&h[l], &h[m]))
            m = l;
        if (r < n && cursor_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct cursor tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

static int merge_rings(const struct pw_trace *t, uint64_t kinds,
                       int (*fn)(void *arg, const struct pw_event *e), void *arg)
{
    struct pw_lazy *z = t->lazy;
    size_t k = 0, nt = t->nthreads ? t->nthreads : 1;
    bool stream = t->fd >= 0 && !z->rings_read;
    size_t chunk = stream ? rd_chunk(t->nthreads, t->hdr.event_size) : 0;
    struct cursor *heap = malloc(nt * sizeof(*heap));
    struct ring_rd *rds = stream ? calloc(nt, sizeof(*rds)) : NULL;
    int rc = 0, more;
    if (!heap || (stream && !rds)) {
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < t->nthreads; i++) {
        const struct pw_thread_view *v = &t->threads[i];
        /* a thread with no events may have no array: no pointer arithmetic on NULL */
        struct cursor c = {v->events, v->events ? v->events + v->nevents : NULL, NULL};
        if (stream) {
            struct ring_rd *r = &rds[i];
            unsigned char *raw = malloc(chunk * t->hdr.event_size);
            struct pw_event *ev = t->hdr.event_size == sizeof(*ev) ? (struct pw_event *)raw
                                                                   : malloc(chunk * sizeof(*ev));
            rd_init(r, t, v, chunk, raw, ev);
            if (!raw || !ev) {
                rc = -1;
                goto out;
            }
            c = (struct cursor){ev, ev, r};
        }
        if ((more = cursor_next(&c, kinds, true)) < 0)
            goto unsorted;
        if (more)
            heap[k++] = c;
    }
    for (size_t i = k; i-- > 0;)
        sift_down(heap, k, i);
    while (k) {
        if ((rc = fn(arg, heap[0].e)) != 0)
            goto out;
        if ((more = cursor_next(&heap[0], kinds, false)) < 0)
            goto unsorted;
        if (!more)
            heap[0] = heap[--k];
        sift_down(heap, k, 0);
    }
    /* every streamed ring was read to its end: its validation is complete */
    for (size_t i = 0; stream && !z->stats_known && i < t->nthreads; i++)
        rd_commit(t, &t->threads[i], &rds[i]);
    if (stream)
        z->stats_known = true;
    goto out;
unsorted:
    z->sorted = false; /* the next scan sorts */
    rc = PW_EACH_RESTART;
out:
    for (size_t i = 0; rds && i < t->nthreads; i++) {
        if (rds[i].ev != (struct pw_event *)rds[i].raw)
            free(rds[i].ev);
        free(rds[i].raw);
    }
    free(rds);
    free(heap);
    return rc;
}

static int append_event(void *arg, const struct pw_event *e)
{
    struct pw_lazy *z = arg;
    z->merged[z->nmerged++] = *e;
    return 0;
}

/* The merged array, built on first use; -1 when out of memory. */
static int build_merged(const struct pw_trace *t)
{
    struct pw_lazy *z = t->lazy;
    if (z->merged_built)
        return 0;
    /* the counts, and a ring out of order (a corrupt or hostile file) is
     * sorted whole below */
    if (ensure_stats(t) < 0 || (!z->sorted && read_rings(t) < 0))
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < t->nthreads; i++)
        n += t->threads[i].nevents;
    z->merged_size = (n ? n : 1) * sizeof(*z->merged);
    z->merged = big_zalloc(z->merged_size);
    if (!z->merged)
        return -1;
    want_huge((unsigned char *)z->merged, z->merged_size, 0, z->merged_size);
    z->nmerged = 0;
    if (z->sorted) {
        if (merge_rings(t, PW_KINDS_ALL, append_event, z) != 0) {
            big_free(z->merged, z->merged_size);
            z->merged = NULL;
            return -1;
        }
    } else {
        /* a clock that went backwards inside one ring: a plain sort, the
         * result is the same */
        for (size_t i = 0; i < t->nthreads; i++) {
            if (!t->threads[i].nevents)
                continue;
            memcpy(z->merged + z->nmerged, t->threads[i].events,
                   t->threads[i].nevents * sizeof(*z->merged));
            z->nmerged += t->threads[i].nevents;
        }
        qsort(z->merged, z->nmerged, sizeof(*z->merged), cmp_event);
    }
    z->merged_built = true;
    return 0;
}

int pw_trace_each_event(const struct pw_trace *t, uint64_t kinds,
                        int (*fn)(void *arg, const struct pw_event *e), void *arg)
{
    const struct pw_lazy *z = t->lazy;
    if (z->sorted)
        return merge_rings(t, kinds, fn, arg);
    if (build_merged(t) < 0)
        return -1;
    for (size_t i = 0; i < z->nmerged; i++) {
        int rc = kind_in(z->merged[i].kind, kinds) ? fn(arg, &z->merged[i]) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

uint64_t pw_trace_last_event_ns(const struct pw_trace *t)
{
    /* out of memory: 0, and the end comes from the header alone */
    return ensure_stats(t) == 0 ? t->lazy->last_ns : 0;
}

/* ---- notes, channels, modules, depot */

static int load_notes(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    const struct pw_trace_header *h = &t->hdr;
    uint64_t stride = stride_of(&h->notes, h->event_size);
    uint64_t n = entries_in_use(c, &h->notes, h->notes_used, stride);
    t->notes = malloc((n ? n : 1) * sizeof(*t->notes));
    if (!t->notes)
        return fail(c, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        struct pw_event e;
        memcpy(&e, t->buf + h->notes.offset + i * stride, sizeof(e));
        /* seq (index + 1) is stored last: anything else is still being written. */
        if (e.seq != i + 1 || !kind_ok(t, &e))
            continue;
        t->notes[t->nnotes++] = e;
    }
    return 0;
}

static int cmp_chan_id(const void *a, const void *b)
{
    const struct pw_chan_rec *x = *(const struct pw_chan_rec *const *)a;
    const struct pw_chan_rec *y = *(const struct pw_chan_rec *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int load_chans(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    const struct pw_trace_header *h = &t->hdr;
    uint64_t stride = stride_of(&h->chans, h->chan_rec_size);
    uint64_t n = entries_in_use(c, &h->chans, h->chans_used, stride);
    t->chans = calloc(n ? n : 1, sizeof(*t->chans));
    t->chans_by_id = calloc(n ? n : 1, sizeof(*t->chans_by_id));
    if (!t->chans || !t->chans_by_id)
        return fail(c, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        struct pw_chan_rec *r = &t->chans[t->nchans];
        memcpy(r, t->buf + h->chans.offset + i * stride, sizeof(*r));
        if (r->state != PW_CS_OPEN && r->state != PW_CS_CLOSED)
            continue;
        r->name[sizeof(r->name) - 1] = '\0';
        t->chans_by_id[t->nchans++] = r;
    }
    qsort(t->chans_by_id, t->nchans, sizeof(*t->chans_by_id), cmp_chan_id);
    return 0;
}

static int load_modules(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    const struct pw_trace_header *h = &t->hdr;
    uint64_t stride = stride_of(&h->modules, h->module_size);
    uint64_t n = entries_in_use(c, &h->modules, h->nmodules, stride);
    t->modules = calloc(n ? n : 1, sizeof(*t->modules));
    if (!t->modules)
        return fail(c, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        struct pw_module *m = &t->modules[t->nmodules];
        memcpy(m, t->buf + h->modules.offset + i * stride, sizeof(*m));
        if (m->state != 1)
            continue;
        m->path[PW_MODULE_PATH_MAX - 1] = '\0';
        if (m->build_id_len > PW_BUILD_ID_MAX)
            m->build_id_len = PW_BUILD_ID_MAX;
        t->nmodules++;
    }
    return 0;
}

static void load_depot(struct pw_ctx *c)
{
    struct pw_trace *t = c->t;
    const struct pw_trace_header *h = &t->hdr;
    uint64_t used = h->depot_used < h->depot_pool.size ? h->depot_used : h->depot_pool.size;
    if (h->depot_pool.offset >= t->len) {
        if (used)
            c->truncated = 1;
        return;
    }
    uint64_t have = t->len - h->depot_pool.offset;
    if (have < used) {
        c->truncated = 1;
        used = have;
    }
    t->pool = t->buf + h->depot_pool.offset;
    t->pool_len = used;
}

int pw_trace_stack(const struct pw_trace *t, uint32_t id, const uint64_t **pcs, unsigned *n)
{
    uint64_t off = (uint64_t)id * 8;
    if (id == 0 || !t->pool || !in_bounds(off, sizeof(struct pw_stack_rec), t->pool_len))
        return -1;
    const struct pw_stack_rec *r = (const struct pw_stack_rec *)(t->pool + off);
    if (r->nframes > PW_STACK_MAX_FRAMES ||
        !in_bounds(off + sizeof(*r), (uint64_t)r->nframes * 8, t->pool_len))
        return -1;
    /* The pool offset and records are 8-byte aligned (checked) in a malloc'd
     * buffer, so the pcs can be handed out in place. */
    *pcs = r->pcs;
    *n = r->nframes;
    return 0;
}

/* ---- open / close */

static int load_all(struct pw_ctx *c)
{
    if (load_header(c) < 0 || load_argv(c) < 0 || load_threads(c) < 0 || load_notes(c) < 0 ||
        load_chans(c) < 0 || load_modules(c) < 0)
        return -1;
    load_depot(c);
    if (c->truncated && !c->t->warning) {
        char w[256];
        snprintf(w, sizeof(w),
                 "%s: trace is truncated (a section is cut off); analyzing what is there", c->name);
        c->t->warning = strdup(w);
    }
    return 0;
}

/* Rings of at most this many bytes are copied out of the snapshot, which is
 * then freed; bigger ones are used in place (copying them costs more). */
#define COMPACT_MAX (16u << 20)

/* Copies what the trace keeps of the snapshot (the depot pool, small rings)
 * and frees the snapshot: it is the size of the file, and a report of a
 * directory holds every trace at once.  0, or -1 when out of memory. */
static int compact(struct pw_trace *t)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < t->nthreads; i++)
        if (!t->threads[i].owned && t->threads[i].events)
            n += t->threads[i].nevents;
    if (n > COMPACT_MAX / sizeof(struct pw_event))
        return 0;
    if (t->pool_len) {
        if (!(t->pool_copy = malloc(t->pool_len)))
            return -1;
        memcpy(t->pool_copy, t->pool, t->pool_len);
        t->pool = t->pool_copy;
    }
    if (n && !(t->ring_store = malloc(n * sizeof(*t->ring_store))))
        return -1;
    for (size_t i = 0; i < t->nthreads; i++) {
        struct pw_thread_view *v = &t->threads[i];
        if (v->owned || !v->events)
            continue;
        if (v->nevents)
            memcpy(t->ring_store + k, v->events, v->nevents * sizeof(*v->events));
        v->events = t->ring_store ? t->ring_store + k : NULL;
        k += v->nevents;
    }
    big_free(t->buf, t->buf_size);
    t->buf = NULL;
    return 0;
}

/* Streamed traces keep their file open; beyond this many at once the rest are
 * read whole (a directory of big traces must not run out of descriptors). */
#define STREAM_FDS_MAX 256u
static unsigned stream_fds;

/* Takes ownership of BUF (big_zalloc'd, SIZE bytes, LEN of them meaningful)
 * and of KEEP_FD (the file, for a streamed trace; -1 if none). */
static enum pw_read_status open_buf(unsigned char *buf, size_t size, size_t len, int fd,
                                    int keep_fd, const char *name, struct pw_trace **out, char *err,
                                    size_t errlen)
{
    *out = NULL;
    struct pw_trace *t = calloc(1, sizeof(*t));
    struct pw_ctx c =
        {.t = t, .name = name, .err = err, .errlen = errlen, .fd = fd, .stream = keep_fd >= 0};
    if (!t || !(t->path = strdup(name)) || !(t->lazy = calloc(1, sizeof(*t->lazy)))) {
        big_free(buf, size);
        if (t)
            free(t->path);
        free(t);
        if (keep_fd >= 0) {
            close(keep_fd);
            __atomic_fetch_sub(&stream_fds, 1, __ATOMIC_RELAXED);
        }
        fail(&c, "out of memory");
        return PW_READ_ERROR;
    }
    t->fd = keep_fd;
    t->lazy->sorted = true;
    t->buf = buf;
    t->buf_size = size;
    t->len = len;
    if (load_all(&c) < 0 || (compact(t) < 0 && fail(&c, "out of memory"))) {
        pw_trace_close(t);
        return PW_READ_ERROR;
    }
    *out = t;
    return c.truncated ? PW_READ_TRUNCATED : PW_READ_OK;
}

enum pw_read_status pw_trace_open_mem(const void *buf, size_t len, const char *name,
                                      struct pw_trace **out, char *err, size_t errlen)
{
    /* malloc's (and mmap's) alignment keeps the depot's uint64_t pcs aligned. */
    size_t size = len ? len : 1;
    unsigned char *copy = big_zalloc(size);
    if (!copy) {
        struct pw_ctx c = {.name = name, .err = err, .errlen = errlen};
        *out = NULL;
        fail(&c, "out of memory");
        return PW_READ_ERROR;
    }
    if (len)
        memcpy(copy, buf, len);
    return open_buf(copy, size, len, -1, -1, name, out, err, errlen);
}

/* ---- reading a file: one pass over the parts in use.
 * Never mmap the trace: a file that shrinks under us would SIGBUS.  A trace is
 * mostly sparse (tens of MB reserved, kilobytes used), so instead of reading
 * it whole we read the header, then each section up to its used count, into a
 * zero-filled buffer the size of the file (calloc's fresh pages cost nothing
 * until touched).  Everything read is validated afterwards as usual. */

/* Reads [off, off+len) clipped to *size; a short read means the file shrank:
 * *size then ends there. */
static int read_span(int fd, unsigned char *buf, size_t *size, uint64_t off, uint64_t len)
{
    if (off >= *size)
        return 0;
    if (len > *size - off)
        len = *size - off;
    while (len) {
        ssize_t r = pread(fd, buf + off, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            *size = off;
            return 0;
        }
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    return 0;
}

/* Bytes of section S in use: USED entries of STRIDE, within the section. */
static uint64_t used_bytes(const struct pw_section *s, uint64_t used, uint64_t stride)
{
    if (!stride) /* a byte pool: USED is bytes */
        return used < s->size ? used : s->size;
    if (used > s->count)
        used = s->count;
    if (used > s->size / stride)
        used = s->size / stride;
    return used * stride;
}

/* Ring bytes in use from which a finished trace's rings are streamed (read
 * from the file when scanned) rather than read into the snapshot. */
#define STREAM_MIN (16u << 20)

/* Reads the parts in use into BUF (SIZE bytes).  The thread slots of a
 * finished process whose rings are big are read without their rings: *KEEP
 * then gets a descriptor of the file to stream them from (else -1). */
static int read_used(int fd, unsigned char *buf, size_t *size, int *keep)
{
    *keep = -1;
    size_t hlen = *size < PW_HEADER_SIZE ? *size : PW_HEADER_SIZE;
    if (read_span(fd, buf, size, 0, hlen) < 0)
        return -1;
    if (*size < sizeof(struct pw_trace_header))
        return 0; /* validation reports it */
    struct pw_trace_header h;
    memcpy(&h, buf, sizeof(h));
    const struct {
        const struct pw_section *s;
        uint64_t used, stride;
    } secs[] = {
        {&h.modules, h.nmodules, h.modules.entry_size ? h.modules.entry_size : h.module_size},
        {&h.depot_pool, h.depot_used, 0},
        {&h.chans, h.chans_used, h.chans.entry_size ? h.chans.entry_size : h.chan_rec_size},
        {&h.notes, h.notes_used, h.notes.entry_size ? h.notes.entry_size : h.event_size},
    };
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
        if (read_span(fd, buf, size, secs[i].s->offset,
                      used_bytes(secs[i].s, secs[i].used, secs[i].stride)) < 0)
            return -1;
    uint64_t slots = used_bytes(&h.threads, h.threads_used, h.thread_slot_size);
    uint64_t ring = (uint64_t)h.ring_events * h.event_size;
    /* the header is validated later: these are only worth a try when sane */
    bool stream = h.end_kind != PW_END_RUNNING && h.thread_slot_size > ring && h.ring_events != 0 &&
                  ring / h.ring_events == h.event_size &&
                  slots / h.thread_slot_size * ring >= STREAM_MIN;
    if (stream && __atomic_add_fetch(&stream_fds, 1, __ATOMIC_RELAXED) <= STREAM_FDS_MAX)
        *keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (stream && *keep < 0)
        __atomic_fetch_sub(&stream_fds, 1, __ATOMIC_RELAXED);
    if (*keep < 0) {
        want_huge(buf, *size, h.threads.offset, slots);
        return read_span(fd, buf, size, h.threads.offset, slots);
    }
    /* a forged threads_used may claim billions of slots: only those that start
     * inside the file are read */
    for (uint64_t i = 0; i < slots / h.thread_slot_size; i++) {
        uint64_t off = h.threads.offset + i * h.thread_slot_size;
        if (off >= *size || off < h.threads.offset)
            break;
        if (read_span(fd, buf, size, off, h.thread_slot_size - ring) < 0)
            return -1;
    }
    return 0;
}

const char *pw_file_type_name(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "a regular file";
    case S_IFDIR:
        return "a directory";
    case S_IFIFO:
        return "a FIFO";
    case S_IFSOCK:
        return "a socket";
    case S_IFCHR:
        return "a character device";
    case S_IFBLK:
        return "a block device";
    case S_IFLNK:
        return "a symbolic link";
    default:
        return "not a regular file";
    }
}

enum pw_read_status pw_trace_open_fd(int fd, const char *name, struct pw_trace **out, char *err,
                                     size_t errlen)
{
    struct pw_ctx c = {.name = name, .err = err, .errlen = errlen};
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fail(&c, "%s", strerror(errno));
        return PW_READ_ERROR;
    }
    /* a FIFO or a device would block the read or never end it */
    if (!S_ISREG(st.st_mode)) {
        fail(&c, "not a trace: %s", pw_file_type_name(st.st_mode));
        return PW_READ_ERROR;
    }
    size_t len = (size_t)st.st_size;
    /* zero-filled: parts we do not read must read as zero (unused) */
    size_t size = len ? len : 1;
    unsigned char *buf = big_zalloc(size);
    int keep = -1;
    if (!buf || read_used(fd, buf, &len, &keep) < 0) {
        fail(&c, "%s", buf ? strerror(errno) : "out of memory");
        big_free(buf, size);
        if (keep >= 0) {
            close(keep);
            __atomic_fetch_sub(&stream_fds, 1, __ATOMIC_RELAXED);
        }
        return PW_READ_ERROR;
    }
    return open_buf(buf, size, len, fd, keep, name, out, err, errlen);
}

enum pw_read_status pw_trace_open(const char *path, struct pw_trace **out, char *err, size_t errlen)
{
    struct pw_ctx c = {.name = path, .err = err, .errlen = errlen};
    *out = NULL;
    /* Refused before opening: opening a device can have effects of its own
     * (a tape rewinds, a terminal becomes ours). */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        fail(&c, S_ISDIR(st.st_mode) ? "is a directory" : "not a trace: %s",
             pw_file_type_name(st.st_mode));
        return PW_READ_ERROR;
    }
    /* O_NONBLOCK: a FIFO put there after the check must not block the open
     * (waiting for a writer); pw_trace_open_fd refuses it after fstat */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        fail(&c, "%s", strerror(errno));
        return PW_READ_ERROR;
    }
    enum pw_read_status rs = pw_trace_open_fd(fd, path, out, err, errlen);
    close(fd);
    return rs;
}

void pw_trace_close(struct pw_trace *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].owned)
            free(t->threads[i].events);
    /* Views that were skipped (free slots) never got events. */
    for (unsigned i = 0; i < t->argc; i++)
        free(t->argv[i]);
    free(t->argv);
    free(t->threads);
    if (t->lazy)
        big_free(t->lazy->merged, t->lazy->merged_size);
    free(t->lazy);
    free(t->ring_store);
    free(t->pool_copy);
    if (t->fd >= 0) {
        close(t->fd);
        __atomic_fetch_sub(&stream_fds, 1, __ATOMIC_RELAXED);
    }
    free(t->notes);
    free(t->chans);
    free(t->chans_by_id);
    free(t->modules);
    big_free(t->buf, t->buf_size);
    free(t->warning);
    free(t->path);
    free(t);
}

/* ---- accessors */

const char *pw_trace_path(const struct pw_trace *t)
{
    return t->path;
}
const char *pw_trace_warning(const struct pw_trace *t)
{
    return t->warning;
}
const struct pw_trace_header *pw_trace_header(const struct pw_trace *t)
{
    return &t->hdr;
}
unsigned pw_trace_argc(const struct pw_trace *t)
{
    return t->argc;
}

const char *pw_trace_argv(const struct pw_trace *t, unsigned i)
{
    return i < t->argc ? t->argv[i] : NULL;
}

size_t pw_trace_nthreads(const struct pw_trace *t)
{
    return t->nthreads;
}

const struct pw_thread_rec *pw_trace_thread(const struct pw_trace *t, size_t i)
{
    return i < t->nthreads ? &t->threads[i].rec : NULL;
}

const struct pw_event *pw_trace_thread_events(const struct pw_trace *t, size_t i, size_t *n,
                                              uint64_t *dropped)
{
    if (i >= t->nthreads || read_rings(t) < 0) {
        *n = 0;
        if (dropped)
            *dropped = 0;
        return NULL;
    }
    *n = t->threads[i].nevents;
    if (dropped)
        *dropped = t->threads[i].dropped;
    return t->threads[i].events;
}

const struct pw_event *pw_trace_events(const struct pw_trace *t, size_t *n)
{
    /* out of memory: nothing to show (the callers print what there is) */
    *n = build_merged(t) == 0 ? t->lazy->nmerged : 0;
    return t->lazy->merged;
}

const struct pw_event *pw_trace_notes(const struct pw_trace *t, size_t *n)
{
    *n = t->nnotes;
    return t->notes;
}

size_t pw_trace_nchans(const struct pw_trace *t)
{
    return t->nchans;
}

const struct pw_chan_rec *pw_trace_chan(const struct pw_trace *t, size_t i)
{
    return i < t->nchans ? &t->chans[i] : NULL;
}

const struct pw_chan_rec *pw_trace_chan_by_id(const struct pw_trace *t, uint32_t id)
{
    size_t lo = 0, hi = t->nchans;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t m = t->chans_by_id[mid]->id;
        if (m == id)
            return t->chans_by_id[mid];
        if (m < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t pw_trace_nmodules(const struct pw_trace *t)
{
    return t->nmodules;
}

const struct pw_module *pw_trace_module(const struct pw_trace *t, size_t i)
{
    return i < t->nmodules ? &t->modules[i] : NULL;
}

uint64_t pw_trace_dropped(const struct pw_trace *t)
{
    /* out of memory: the header's count alone */
    return t->hdr.dropped_events + (ensure_stats(t) == 0 ? t->lazy->ring_dropped : 0);
}

uint64_t pw_trace_total_events(const struct pw_trace *t)
{
    return t->total_events;
}
