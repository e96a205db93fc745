/* Ring and notes writers on plain memory: wrap-around, sequence numbers a
 * reader can validate, and the drop counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parkwatch/trace.h"
#include "ring.h"

#include "../check.h"

enum { RING = 16, WRITES = 40 };

static void test_ring_wrap(void)
{
    struct pw_thread_rec *t = calloc(1, PW_THREAD_REC_SIZE + RING * sizeof(struct pw_event));
    for (uint64_t i = 0; i < WRITES; i++) {
        struct pw_event ev = {.seq = 999, .kind = PW_EV_PARK, .obj = 0x1000 + i, .arg = i};
        pw_ring_put(t, RING, &ev);
    }
    CHECK(t->ring_head == WRITES);
    /* what a reader computes: the overwritten events */
    CHECK(t->ring_head - RING == WRITES - RING);
    struct pw_event *ring = pw_thread_ring(t);
    for (uint64_t seq = WRITES - RING + 1; seq <= WRITES; seq++) {
        struct pw_event *e = &ring[(seq - 1) % RING];
        CHECK(e->seq == seq); /* the caller's seq is ignored */
        CHECK(e->arg == seq - 1);
        CHECK(e->obj == 0x1000 + seq - 1);
        CHECK(e->kind == PW_EV_PARK);
    }
    free(t);
}

static void test_ring_partial(void)
{
    struct pw_thread_rec *t = calloc(1, PW_THREAD_REC_SIZE + RING * sizeof(struct pw_event));
    struct pw_event ev = {.kind = PW_EV_UNPARK, .result = -1, .err = 4};
    pw_ring_put(t, RING, &ev);
    pw_ring_put(t, RING, &ev);
    struct pw_event *ring = pw_thread_ring(t);
    CHECK(t->ring_head == 2);
    CHECK(ring[0].seq == 1 && ring[1].seq == 2);
    CHECK(ring[2].seq == 0); /* never written: invalid for a reader */
    CHECK(ring[1].result == -1 && ring[1].err == 4);
    free(t);
}

static void test_notes_full(void)
{
    enum { CAP = 8 };
    size_t off = PW_HEADER_SIZE; /* the notes follow the whole header */
    char *base = calloc(1, off + CAP * sizeof(struct pw_event));
    struct pw_trace_header *h = (struct pw_trace_header *)base;
    h->notes.offset = off;
    h->notes.count = CAP;
    int ok = 0;
    for (int i = 0; i < CAP + 3; i++) {
        struct pw_event ev = {.kind = PW_EV_HELD_AT_EXIT, .obj = (uint64_t)i};
        ok += pw_notes_put(h, base, &ev) == 0;
    }
    CHECK(ok == CAP);
    CHECK(h->notes_used == CAP);
    CHECK(h->dropped_notes == 3);
    struct pw_event *notes = (struct pw_event *)(base + off);
    for (int i = 0; i < CAP; i++)
        CHECK(notes[i].seq == (uint64_t)i + 1 && notes[i].obj == (uint64_t)i);
    free(base);
}

int main(void)
{
    test_ring_wrap();
    test_ring_partial();
    test_notes_full();
    if (failures != 0)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
