/* Test-only trace writer (see synth.h). */
#include "synth.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

static uint64_t page_up(uint64_t n)
{
    return (n + PAGE - 1) / PAGE * PAGE;
}

static uint64_t place(struct pw_section *sec, uint64_t off, uint32_t count, uint32_t entry,
                      uint64_t bytes)
{
    sec->offset = off;
    sec->count = count;
    sec->entry_size = entry;
    sec->size = bytes ? bytes : (uint64_t)count * entry;
    return page_up(off + sec->size);
}

static uint32_t or_default(uint32_t v, uint32_t d)
{
    return v ? v : d;
}

static void fill_header(struct pw_trace_header *h, uint32_t ring)
{
    pw_trace_header_init(h, ring);
    h->pid = 4242;
    h->ppid = 4100;
    h->start_mono_ns = 1000000000000ull;
}

int synth_init(struct synth *s, const struct synth_cfg *cfg)
{
    struct synth_cfg c = cfg ? *cfg : (struct synth_cfg){0};
    uint32_t ring = or_default(c.ring_events, 16);
    struct pw_trace_header h = {0};
    fill_header(&h, ring);
    uint64_t off = PW_HEADER_SIZE;
    off = place(&h.modules, off, or_default(c.max_modules, 4), PW_MODULE_SIZE, 0);
    off = place(&h.depot_index, off, 64, 4, 0);
    off = place(&h.depot_pool, off, 0, 0, or_default(c.depot_bytes, 4096));
    off = place(&h.chans, off, or_default(c.max_chans, 4), PW_CHAN_REC_SIZE, 0);
    off = place(&h.notes, off, or_default(c.max_notes, 8), sizeof(struct pw_event), 0);
    off = place(&h.threads, off, or_default(c.max_threads, 4), h.thread_slot_size, 0);
    h.file_size = off;
    h.depot_used = 8; /* offset 0 is reserved: id 0 means "no stack" */
    s->len = off;
    s->buf = calloc(1, off);
    if (!s->buf)
        return -1;
    s->h = (struct pw_trace_header *)s->buf;
    *s->h = h;
    return 0;
}

void synth_free(struct synth *s)
{
    free(s->buf);
    s->buf = NULL;
}

struct pw_thread_rec *synth_thread(struct synth *s, uint32_t serial, const char *name,
                                   uint32_t state)
{
    if (s->h->threads_used >= s->h->threads.count)
        return NULL;
    struct pw_thread_rec *t = pw_thread_slot(s->buf, s->h, s->h->threads_used++);
    t->state = state;
    t->serial = serial;
    t->tid = 5000 + (int)serial;
    strncpy(t->name, name ? name : "", sizeof(t->name) - 1);
    if (serial > s->h->next_serial)
        s->h->next_serial = serial;
    return t;
}

struct pw_event *synth_event(struct synth *s, struct pw_thread_rec *t, struct pw_event e)
{
    uint64_t i = t->ring_head++;
    struct pw_event *slot = pw_thread_ring(t) + i % s->h->ring_events;
    e.seq = i + 1;
    e.thread = t->serial;
    *slot = e;
    return slot;
}

struct pw_event *synth_note(struct synth *s, struct pw_event e)
{
    if (s->h->notes_used >= s->h->notes.count)
        return NULL;
    uint32_t i = s->h->notes_used++;
    struct pw_event *n = (struct pw_event *)(s->buf + s->h->notes.offset) + i;
    e.seq = i + 1;
    *n = e;
    return n;
}

uint32_t synth_stack(struct synth *s, const uint64_t *pcs, unsigned n)
{
    uint64_t need = sizeof(struct pw_stack_rec) + (uint64_t)n * 8;
    if (s->h->depot_used + need > s->h->depot_pool.size)
        return 0;
    uint64_t off = s->h->depot_used;
    struct pw_stack_rec *r = (struct pw_stack_rec *)(s->buf + s->h->depot_pool.offset + off);
    r->nframes = (uint16_t)n;
    memcpy(r->pcs, pcs, (size_t)n * 8);
    s->h->depot_used += need;
    return (uint32_t)(off / 8);
}

struct pw_chan_rec *synth_chan(struct synth *s, uint32_t id, uint16_t type, int fd0, int fd1)
{
    if (s->h->chans_used >= s->h->chans.count)
        return NULL;
    struct pw_chan_rec *c = (struct pw_chan_rec *)(s->buf + s->h->chans.offset) +
                            s->h->chans_used++;
    c->state = PW_CS_OPEN;
    c->id = id;
    c->type = type;
    c->fd[0] = fd0;
    c->fd[1] = fd1;
    c->open[0] = c->open[1] = 1;
    if (id > s->h->next_chan_id)
        s->h->next_chan_id = id;
    return c;
}

struct pw_module *synth_module(struct synth *s, const char *path, uint64_t lo, uint64_t hi)
{
    if (s->h->nmodules >= s->h->modules.count)
        return NULL;
    struct pw_module *m = (struct pw_module *)(s->buf + s->h->modules.offset) + s->h->nmodules++;
    m->state = 1;
    m->base = lo;
    m->lo = lo;
    m->hi = hi;
    strncpy(m->path, path, sizeof(m->path) - 1);
    return m;
}

static void set_argv(struct pw_trace_header *h, const char *const *argv, unsigned argc)
{
    size_t off = 0;
    for (unsigned i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        memcpy(h->argv + off, argv[i], l);
        off += l;
    }
    h->argc = argc;
    h->argv_len = (uint32_t)off;
}

int synth_sample(struct synth *s, int32_t pid)
{
    if (synth_init(s, NULL) < 0)
        return -1;
    struct pw_trace_header *h = s->h;
    h->pid = pid;
    strcpy(h->exe, "/usr/bin/prog");
    static const char *const argv[] = {"prog", "-v", "x"};
    set_argv(h, argv, 3);
    struct pw_module *m = synth_module(s, "/usr/bin/prog", 0x400000, 0x500000);
    m->build_id_len = 2;
    m->build_id[0] = 0xab;
    m->build_id[1] = 0x01;
    static const uint64_t create_pcs[] = {0x401000, 0x401100};
    static const uint64_t park_pcs[] = {0x402000, 0x402100, 0x402200};
    uint32_t create = synth_stack(s, create_pcs, 2);
    uint32_t park = synth_stack(s, park_pcs, 3);

    struct pw_thread_rec *t1 = synth_thread(s, 1, "main", PW_TS_ALIVE);
    t1->flags = PW_TF_MAIN;
    t1->nheld = 1;
    t1->held[0] = 0x7000;
    t1->held_type[0] = PW_OBJ_MUTEX;
    struct pw_thread_rec *t2 = synth_thread(s, 2, "worker", PW_TS_ALIVE);
    t2->parent_serial = 1;
    t2->create_stack = create;
    t2->park_op = PW_OP_PIPE_READ;
    t2->park_obj = 3;
    t2->park_since_ns = 1500000; /* relative to start_mono_ns */
    t2->park_stack = park;

    struct pw_chan_rec *c = synth_chan(s, 3, PW_OBJ_PIPE, 5, 6);
    c->creator = 1;
    c->create_stack = create;
    c->sent = 12;
    c->received = 12;

    synth_event(s, t1,
                (struct pw_event){.time_ns = 1000000,
                                  .kind = PW_EV_THREAD_CREATE,
                                  .obj = 2,
                                  .stack = create});
    synth_event(s, t2,
                (struct pw_event){.time_ns = 1200000,
                                  .kind = PW_EV_THREAD_START,
                                  .obj = 2,
                                  .obj2 = 1,
                                  .arg = 5002});
    synth_event(s, t1,
                (struct pw_event){.time_ns = 1300000,
                                  .kind = PW_EV_CHAN_SEND,
                                  .obj = 3,
                                  .obj2 = 6,
                                  .arg = 12,
                                  .result = 12});
    synth_event(s, t2,
                (struct pw_event){.time_ns = 1500000,
                                  .kind = PW_EV_PARK,
                                  .op = PW_OP_PIPE_READ,
                                  .obj = 3,
                                  .obj2 = 5,
                                  .stack = park});
    synth_event(s, t1,
                (struct pw_event){.time_ns = 1600000,
                                  .kind = PW_EV_UNPARK,
                                  .op = PW_OP_MUTEX_LOCK,
                                  .obj = 0x7000,
                                  .err = 4});
    synth_note(s, (struct pw_event){.time_ns = 1700000,
                                    .kind = PW_EV_MISUSE,
                                    .thread = 1,
                                    .op = PW_MISUSE_DOUBLE_CLOSE,
                                    .obj = 3,
                                    .obj2 = 6,
                                    .stack = park,
                                    .stack2 = create});
    return 0;
}
