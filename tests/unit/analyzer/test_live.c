/* Reading a live trace: a writer thread keeps appending ring events and
 * changing its park state through a MAP_SHARED mapping, exactly as the shim
 * does, while the reader opens the file again and again.  Every event and park
 * state the reader returns must be internally consistent (no torn records). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "synth.h"

static volatile int stop;

struct live {
    struct pw_trace_header *h;
    struct pw_thread_rec *rec;
};

/* The shim's ring protocol: seq cleared, payload, seq stored last. */
static void put(struct live *l, uint64_t j)
{
    struct pw_event *slot = pw_thread_ring(l->rec) + j % l->h->ring_events;
    __atomic_store_n(&slot->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    struct pw_event e = {.time_ns = j,
                         .kind = PW_EV_COND_SIGNAL,
                         .thread = 1,
                         .obj = j * 3,
                         .obj2 = j * 5,
                         .arg = j * 7,
                         .result = (int32_t)j};
    memcpy((char *)slot + sizeof(slot->seq), (char *)&e + sizeof(e.seq), sizeof(e) - sizeof(e.seq));
    __atomic_store_n(&slot->seq, j + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&l->rec->ring_head, j + 1, __ATOMIC_RELEASE);
}

/* The park seqlock: odd while park_op/park_obj change. */
static void park(struct live *l, uint64_t j)
{
    uint32_t s = l->rec->park_seq;
    __atomic_store_n(&l->rec->park_seq, s + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint16_t op = (uint16_t)(j % PW_OP__COUNT);
    __atomic_store_n(&l->rec->park_op, op, __ATOMIC_RELAXED);
    __atomic_store_n(&l->rec->park_obj, op * 1000u, __ATOMIC_RELAXED);
    __atomic_store_n(&l->rec->park_seq, s + 2, __ATOMIC_RELEASE);
}

static void *writer(void *arg)
{
    struct live *l = arg;
    for (uint64_t j = 0; !stop; j++) {
        put(l, j);
        park(l, j);
    }
    return NULL;
}

static int check_snapshot(const struct pw_trace *t)
{
    int bad = 0;
    size_t n;
    const struct pw_event *ev = pw_trace_events(t, &n);
    for (size_t i = 0; i < n; i++) {
        uint64_t j = ev[i].seq - 1;
        if (ev[i].time_ns != j || ev[i].obj != j * 3 || ev[i].obj2 != j * 5 || ev[i].arg != j * 7 ||
            ev[i].result != (int32_t)j)
            bad++;
    }
    const struct pw_thread_rec *r = pw_trace_thread(t, 0);
    if (r && r->park_obj != r->park_op * 1000u && r->park_op != PW_OP_NONE)
        bad++;
    return bad;
}

int main(void)
{
    char path[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/pwlive.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    struct synth s;
    if (fd < 0 || synth_init(&s, &(struct synth_cfg){.ring_events = 64}) < 0)
        return 1;
    synth_thread(&s, 1, "main", PW_TS_ALIVE);
    if (write(fd, s.buf, s.len) != (ssize_t)s.len)
        return 1;
    void *map = mmap(NULL, s.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return 1;
    struct live l = {.h = map, .rec = pw_thread_slot(map, map, 0)};
    pthread_t th;
    pthread_create(&th, NULL, writer, &l);
    int bad = 0, opened = 0;
    uint64_t seen = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct pw_trace *t;
        char err[256];
        if (pw_trace_open(path, &t, err, sizeof(err)) != PW_READ_OK) {
            fprintf(stderr, "open: %s\n", err);
            bad++;
            break;
        }
        size_t n;
        pw_trace_events(t, &n);
        seen += n;
        bad += check_snapshot(t);
        opened++;
        pw_trace_close(t);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 500 &&
             bad == 0);
    stop = 1;
    pthread_join(th, NULL);
    munmap(map, s.len);
    unlink(path);
    synth_free(&s);
    printf("live: %d snapshots, %llu events checked, %d inconsistent\n", opened,
           (unsigned long long)seen, bad);
    /* The test only means something if the reader saw the writer at work. */
    return bad != 0 || seen == 0;
}
