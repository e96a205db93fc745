/* Reader tests on synthetic traces: round trip, ring wrap and tearing, the park
 * seqlock, truncation, and damaged input that must fail cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "reader.h"
#include "synth.h"

#include "../check.h"

static char err[512];

static enum pw_read_status open_synth(const struct synth *s, size_t len, struct pw_trace **t)
{
    err[0] = '\0';
    return pw_trace_open_mem(s->buf, len, "t.trace", t, err, sizeof(err));
}

static void test_round_trip(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 4242) == 0);
    struct pw_trace *t;
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    if (!t)
        goto out;
    const struct pw_trace_header *h = pw_trace_header(t);
    CHECK(h->pid == 4242 && strcmp(h->exe, "/usr/bin/prog") == 0);
    CHECK(pw_trace_argc(t) == 3 && strcmp(pw_trace_argv(t, 2), "x") == 0);
    CHECK(pw_trace_argv(t, 3) == NULL);
    CHECK(pw_trace_nthreads(t) == 2);
    const struct pw_thread_rec *w = pw_trace_thread(t, 1);
    CHECK(w->serial == 2 && strcmp(w->name, "worker") == 0 && w->park_op == PW_OP_PIPE_READ);
    CHECK(pw_trace_thread(t, 0)->nheld == 1);
    size_t n;
    const struct pw_event *ev = pw_trace_events(t, &n);
    CHECK(n == 5);
    /* merged by time across the two rings */
    for (size_t i = 1; i < n; i++)
        CHECK(ev[i - 1].time_ns <= ev[i].time_ns);
    CHECK(ev[0].kind == PW_EV_THREAD_CREATE && ev[1].thread == 2 && ev[3].kind == PW_EV_PARK);
    uint64_t dropped = 99;
    pw_trace_thread_events(t, 1, &n, &dropped);
    CHECK(n == 2 && dropped == 0);
    pw_trace_notes(t, &n);
    CHECK(n == 1);
    CHECK(pw_trace_nchans(t) == 1 && pw_trace_chan_by_id(t, 3) && !pw_trace_chan_by_id(t, 4));
    CHECK(pw_trace_nmodules(t) == 1 && pw_trace_module(t, 0)->hi == 0x500000);
    const uint64_t *pcs;
    unsigned np;
    CHECK(pw_trace_stack(t, w->park_stack, &pcs, &np) == 0 && np == 3 && pcs[2] == 0x402200);
    CHECK(pw_trace_stack(t, 0, &pcs, &np) == -1);
    CHECK(pw_trace_total_events(t) == 5 && pw_trace_dropped(t) == 0);
    CHECK(strcmp(pw_event_kind_name(PW_EV_CHAN_CLOSE), "chan-close") == 0);
    CHECK(strcmp(pw_park_op_name(PW_OP__COUNT), "?") == 0);
    pw_trace_close(t);
out:
    synth_free(&s);
}

static void test_wrapped_ring(void)
{
    struct synth s;
    CHECK(synth_init(&s, &(struct synth_cfg){.ring_events = 8}) == 0);
    struct pw_thread_rec *r = synth_thread(&s, 1, "main", PW_TS_ALIVE);
    for (uint64_t i = 0; i < 20; i++)
        synth_event(&s, r, (struct pw_event){.time_ns = i, .kind = PW_EV_COND_SIGNAL, .arg = i});
    struct pw_trace *t;
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    size_t n;
    uint64_t dropped;
    const struct pw_event *ev = pw_trace_thread_events(t, 0, &n, &dropped);
    CHECK(n == 8 && dropped == 12);
    CHECK(n == 8 && ev[0].arg == 12 && ev[7].arg == 19);
    CHECK(pw_trace_total_events(t) == 20 && pw_trace_dropped(t) == 12);
    pw_trace_close(t);
    synth_free(&s);
}

static void test_torn_event_and_seqlock(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    struct pw_thread_rec *w = pw_thread_slot(s.buf, s.h, 1);
    pw_thread_ring(w)[0].seq = 77; /* being overwritten by a later lap */
    w->park_seq = 3;               /* odd: park state mid-update */
    ((struct pw_event *)(s.buf + s.h->notes.offset))[0].seq = 0; /* note claimed, unwritten */
    struct pw_trace *t;
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    size_t n;
    uint64_t dropped;
    const struct pw_event *ev = pw_trace_thread_events(t, 1, &n, &dropped);
    CHECK(n == 1 && dropped == 1 && ev[0].kind == PW_EV_PARK);
    CHECK(pw_trace_thread(t, 1)->park_op == PW_OP_NONE);
    pw_trace_events(t, &n);
    CHECK(n == 4);
    pw_trace_notes(t, &n);
    CHECK(n == 0);
    pw_trace_close(t);
    synth_free(&s);
}

static void test_unknown_kind(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    pw_thread_ring(pw_thread_slot(s.buf, s.h, 0))[0].kind = 200;
    struct pw_trace *t;
    size_t n;
    /* same minor version: a kind we do not know is corruption, dropped */
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    pw_trace_events(t, &n);
    CHECK(n == 4);
    pw_trace_close(t);
    /* newer minor version: kept, for dump to print as unknown-200 */
    s.h->version_minor = PW_TRACE_VERSION_MINOR + 1;
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    pw_trace_events(t, &n);
    CHECK(n == 5);
    pw_trace_close(t);
    synth_free(&s);
}

static void test_truncated(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    /* Cut inside the second thread slot: the first thread survives. */
    size_t cut = s.h->threads.offset + s.h->thread_slot_size + 100;
    struct pw_trace *t;
    CHECK(open_synth(&s, cut, &t) == PW_READ_TRUNCATED);
    CHECK(t && pw_trace_warning(t) && strstr(pw_trace_warning(t), "trace is truncated ("));
    if (t) {
        char want[128];
        snprintf(want, sizeof(want), "(%zu of %zu bytes)", cut, s.len);
        CHECK(strstr(pw_trace_warning(t), want) != NULL);
        CHECK(pw_trace_nthreads(t) == 1 && pw_trace_nchans(t) == 1);
    }
    pw_trace_close(t);
    /* Cut inside the header: nothing to analyze. */
    CHECK(open_synth(&s, 100, &t) == PW_READ_ERROR && !t && strstr(err, "truncated"));
    synth_free(&s);
}

/* Damage a fresh sample with FN and expect PW_READ_ERROR with a reason. */
static void expect_error(void (*fn)(struct synth *), const char *want, int line)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    fn(&s);
    struct pw_trace *t = (struct pw_trace *)1;
    enum pw_read_status st = open_synth(&s, s.len, &t);
    if (st != PW_READ_ERROR || t || !strstr(err, want) || strchr(err, '\n')) {
        fprintf(stderr, "%s:%d: expected error '%s', got status %d '%s'\n", __FILE__, line, want,
                st, err);
        failures++;
    }
    if (st != PW_READ_ERROR)
        pw_trace_close(t);
    synth_free(&s);
}

static void bad_magic(struct synth *s)
{
    s->h->magic[0] = 'X';
}
static void newer_major(struct synth *s)
{
    s->h->version_major = 7;
}
static void section_beyond(struct synth *s)
{
    s->h->chans.offset = s->h->file_size - 64;
}
static void offset_overflow(struct synth *s)
{
    s->h->notes.offset = UINT64_MAX - 10;
}
static void huge_count(struct synth *s)
{
    s->h->chans.count = UINT32_MAX;
}
static void huge_ring(struct synth *s)
{
    s->h->ring_events = UINT32_MAX;
}
static void small_event(struct synth *s)
{
    s->h->event_size = 32;
}
static void zero_event(struct synth *s)
{
    s->h->event_size = 0;
}
static void small_header(struct synth *s)
{
    s->h->header_size = 16;
}

static void test_errors(void)
{
    expect_error(bad_magic, "t.trace: not a parkwatch trace", __LINE__);
    expect_error(newer_major, "t.trace: trace format version 7 is newer than this parkwatch (1)",
                 __LINE__);
    expect_error(section_beyond, "channels section", __LINE__);
    expect_error(offset_overflow, "notes section", __LINE__);
    expect_error(huge_count, "channels section", __LINE__);
    expect_error(huge_ring, "thread slot", __LINE__);
    expect_error(small_event, "event_size", __LINE__);
    expect_error(zero_event, "event_size", __LINE__);
    expect_error(small_header, "header_size", __LINE__);
    struct pw_trace *t;
    CHECK(pw_trace_open_mem("", 0, "e", &t, err, sizeof(err)) == PW_READ_ERROR &&
          strstr(err, "e: empty file"));
    CHECK(pw_trace_open("/nonexistent/x.trace", &t, err, sizeof(err)) == PW_READ_ERROR &&
          strstr(err, "No such file"));
    CHECK(pw_trace_open("/", &t, err, sizeof(err)) == PW_READ_ERROR &&
          strstr(err, "is a directory"));
}

/* Used counters beyond capacity are clamped, and bad stack ids are refused. */
static void test_clamps_and_stacks(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    s.h->threads_used = UINT32_MAX;
    s.h->notes_used = UINT32_MAX;
    s.h->nmodules = UINT32_MAX;
    s.h->chans_used = UINT32_MAX;
    struct pw_trace *t;
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    if (t) {
        const uint64_t *pcs;
        unsigned n;
        CHECK(pw_trace_nthreads(t) == 2); /* free slots are skipped */
        CHECK(pw_trace_stack(t, UINT32_MAX, &pcs, &n) == -1);
        CHECK(pw_trace_stack(t, (uint32_t)(s.h->depot_used / 8), &pcs, &n) == -1);
        pw_trace_close(t);
    }
    /* a record claiming more frames than the maximum */
    struct pw_stack_rec *r = (struct pw_stack_rec *)(s.buf + s.h->depot_pool.offset + 8);
    r->nframes = PW_STACK_MAX_FRAMES + 1;
    CHECK(open_synth(&s, s.len, &t) == PW_READ_OK);
    if (t) {
        const uint64_t *pcs;
        unsigned n;
        CHECK(pw_trace_stack(t, 1, &pcs, &n) == -1);
        pw_trace_close(t);
    }
    synth_free(&s);
}

/* Random damage and every truncation point: the reader may refuse, never crash. */
static void test_damage(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    unsigned char *copy = malloc(s.len);
    srand(12345);
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, s.buf, s.len);
        for (int k = 0; k < 8; k++) {
            /* mostly the header, where the offsets and counts live */
            size_t at = (iter & 1) ? (size_t)rand() % 512 : (size_t)rand() % s.len;
            copy[at] = (unsigned char)rand();
        }
        struct pw_trace *t;
        enum pw_read_status st = pw_trace_open_mem(copy, s.len, "d", &t, err, sizeof(err));
        if (st == PW_READ_ERROR) {
            bad++;
            continue;
        }
        ok++;
        size_t n;
        pw_trace_events(t, &n);
        for (size_t i = 0; i < pw_trace_nthreads(t); i++) {
            const uint64_t *pcs;
            unsigned np;
            if (pw_trace_stack(t, pw_trace_thread(t, i)->park_stack, &pcs, &np) == 0)
                CHECK(np <= PW_STACK_MAX_FRAMES);
        }
        pw_trace_close(t);
    }
    CHECK(ok > 0 && bad > 0);
    for (size_t cut = 0; cut < s.len; cut += 256) {
        struct pw_trace *t;
        if (pw_trace_open_mem(s.buf, cut, "c", &t, err, sizeof(err)) != PW_READ_ERROR) {
            CHECK(pw_trace_warning(t) != NULL);
            pw_trace_close(t);
        }
    }
    free(copy);
    synth_free(&s);
}

/* Through a file: only the used parts are read; the result must equal the
 * in-memory read of the same bytes, and a file cut short must say so. */
static void test_file(void)
{
    struct synth s;
    CHECK(synth_sample(&s, 1) == 0);
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/pwreader.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, s.buf, s.len) == (ssize_t)s.len);
    struct pw_trace *f, *m;
    CHECK(pw_trace_open(path, &f, err, sizeof(err)) == PW_READ_OK);
    CHECK(open_synth(&s, s.len, &m) == PW_READ_OK);
    if (f && m) {
        size_t nf, nm;
        const struct pw_event *ef = pw_trace_events(f, &nf), *em = pw_trace_events(m, &nm);
        CHECK(nf == nm && nf && memcmp(ef, em, nf * sizeof(*ef)) == 0);
        CHECK(pw_trace_nthreads(f) == 2 && pw_trace_nchans(f) == 1 && pw_trace_nmodules(f) == 1);
        const uint64_t *pcs;
        unsigned np;
        CHECK(pw_trace_stack(f, pw_trace_thread(f, 1)->park_stack, &pcs, &np) == 0 && np == 3 &&
              pcs[0] == 0x402000);
        pw_trace_notes(f, &nf);
        CHECK(nf == 1);
    }
    pw_trace_close(f);
    pw_trace_close(m);
    CHECK(ftruncate(fd, (off_t)(s.h->threads.offset + 10)) == 0);
    CHECK(pw_trace_open(path, &f, err, sizeof(err)) == PW_READ_TRUNCATED);
    CHECK(f && pw_trace_nthreads(f) == 0 && pw_trace_nchans(f) == 1);
    pw_trace_close(f);
    close(fd);
    unlink(path);
    synth_free(&s);
}

/* A finished trace with big rings is streamed from its file (its rings are
 * read again in chunks when scanned, not kept): everything it serves must be
 * what the in-memory read of the same bytes serves, wrapped and torn rings
 * and a ring whose clock went backwards included. */
struct collected {
    struct pw_event *v;
    size_t n, cap;
};

static int collect(void *arg, const struct pw_event *e)
{
    struct collected *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->v = realloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n++] = *e;
    return 0;
}

static void same_scan(struct pw_trace *f, struct pw_trace *m, uint64_t kinds)
{
    struct collected a = {0}, b = {0};
    CHECK(pw_trace_each_event(f, kinds, collect, &a) == 0);
    CHECK(pw_trace_each_event(m, kinds, collect, &b) == 0);
    CHECK(a.n == b.n && a.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0);
    for (size_t i = 1; i < a.n; i++)
        CHECK(a.v[i - 1].time_ns <= a.v[i].time_ns);
    free(a.v);
    free(b.v);
}

static void streamed_case(int backwards)
{
    enum { THREADS = 5, RING = 1 << 16 }; /* 20 MiB of rings: streamed */
    struct synth s;
    CHECK(synth_init(&s, &(struct synth_cfg){.ring_events = RING, .max_threads = THREADS}) == 0);
    for (uint32_t t = 0; t < THREADS; t++) {
        struct pw_thread_rec *r = synth_thread(&s, t + 1, "w", PW_TS_EXITED);
        /* thread 0 wraps its ring; the others interleave in time */
        uint64_t n = t == 0 ? RING + 1000 : RING / 2 + t;
        for (uint64_t i = 0; i < n; i++)
            synth_event(&s, r,
                        (struct pw_event){.time_ns = 10 * i + t,
                                          .kind = i % 97 == 0 ? PW_EV_LOCK_DESTROY
                                                  : i % 3     ? PW_EV_COND_SIGNAL
                                                              : PW_EV_PARK,
                                          .obj = 0x1000 + i % 7,
                                          .obj2 = i % 5,
                                          .arg = i});
        if (t == 2)
            pw_thread_ring(r)[5].seq = 3; /* torn */
        if (t == 3 && backwards)
            pw_thread_ring(r)[100].time_ns = 1; /* a clock that went backwards */
    }
    s.h->end_kind = PW_END_EXIT;
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/pwstream.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, s.buf, s.len) == (ssize_t)s.len);
    struct pw_trace *f = NULL, *m = NULL;
    CHECK(pw_trace_open(path, &f, err, sizeof(err)) == PW_READ_OK);
    CHECK(open_synth(&s, s.len, &m) == PW_READ_OK);
    if (f && m) {
        /* the first scan validates the streamed rings; a ring out of order
         * stops it (the scan gave events out of merged order) */
        if (backwards) {
            struct collected a = {0};
            CHECK(pw_trace_each_event(f, PW_KINDS_ALL, collect, &a) == PW_EACH_RESTART);
            free(a.v);
        }
        same_scan(f, m, PW_KIND_BIT(PW_EV_COND_SIGNAL));
        CHECK(pw_trace_dropped(f) == 1000 + 1 && pw_trace_dropped(m) == 1000 + 1);
        CHECK(pw_trace_total_events(f) == pw_trace_total_events(m));
        CHECK(pw_trace_last_event_ns(f) == pw_trace_last_event_ns(m) &&
              pw_trace_last_event_ns(f) == 10 * (RING + 999));
        same_scan(f, m, PW_KINDS_ALL);
        size_t nf, nm;
        const struct pw_event *ef = pw_trace_events(f, &nf), *em = pw_trace_events(m, &nm);
        CHECK(nf == nm && nf && memcmp(ef, em, nf * sizeof(*ef)) == 0);
        for (size_t t = 0; t < THREADS; t++) {
            uint64_t df, dm;
            ef = pw_trace_thread_events(f, t, &nf, &df);
            em = pw_trace_thread_events(m, t, &nm, &dm);
            CHECK(nf == nm && df == dm && memcmp(ef, em, nf * sizeof(*ef)) == 0);
        }
        same_scan(f, m, PW_KIND_BIT(PW_EV_PARK)); /* and once the rings were read whole */
    }
    pw_trace_close(f);
    pw_trace_close(m);
    /* the model of a fresh streamed open (its first scan is the model's: with
     * a ring out of order the process is built again, sorted) is the model
     * of the same bytes in memory */
    CHECK(pw_trace_open(path, &f, err, sizeof(err)) == PW_READ_OK);
    CHECK(open_synth(&s, s.len, &m) == PW_READ_OK);
    struct pw_model *mf = f ? pw_model_build(&f, 1) : NULL, *mm = m ? pw_model_build(&m, 1) : NULL;
    CHECK(mf && mm);
    if (mf && mm) {
        const struct pw_process *pf = &mf->procs[0], *pm = &mm->procs[0];
        CHECK(pf->end_ms == pm->end_ms && pf->end_ms == 10 * (RING + 999) / 1000000);
        CHECK(pf->nobjects == pm->nobjects && pf->nobjects > 0 && pf->nmarks == pm->nmarks);
        for (size_t i = 0; i < pf->nobjects && i < pm->nobjects; i++) {
            const struct pw_object *a = pf->objects[i], *b = pm->objects[i];
            CHECK(a->type == b->type && a->key == b->key && a->gen == b->gen &&
                  strcmp(a->id, b->id) == 0 && a->nsignallers == b->nsignallers &&
                  a->wake_ns == b->wake_ns);
            for (size_t k = 0; k < a->nsignallers && k < b->nsignallers; k++)
                CHECK(a->signallers[k]->serial == b->signallers[k]->serial);
        }
    }
    pw_model_free(mf);
    pw_model_free(mm);
    pw_trace_close(f);
    pw_trace_close(m);
    close(fd);
    unlink(path);
    synth_free(&s);
}

static void test_streamed(void)
{
    streamed_case(0);
    streamed_case(1);
}

int main(void)
{
    test_round_trip();
    test_wrapped_ring();
    test_torn_event_and_seqlock();
    test_unknown_kind();
    test_truncated();
    test_errors();
    test_clamps_and_stacks();
    test_damage();
    test_file();
    test_streamed();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("reader: all checks passed\n");
    return failures != 0;
}
