/* Ring and notes writers.
 *
 * A reader may copy an entry while it is being overwritten, so every entry is
 * bracketed: seq is zeroed first, the body written, and seq stored last with
 * release.  A reader that sees the same non-zero seq before and after its copy
 * (with an acquire fence between) has a complete event. */
#include "ring.h"

#include <string.h>

static void put_entry(struct pw_event *slot, const struct pw_event *ev, uint64_t seq)
{
    __atomic_store_n(&slot->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    /* body after seq: everything but the first 8 bytes */
    memcpy((char *)slot + sizeof slot->seq, (const char *)ev + sizeof ev->seq,
           sizeof *ev - sizeof ev->seq);
    __atomic_store_n(&slot->seq, seq, __ATOMIC_RELEASE);
}

void pw_ring_put(struct pw_thread_rec *t, uint32_t ring_events, const struct pw_event *ev)
{
    uint64_t head = t->ring_head; /* only the owner writes it */
    /* a mask, not a division (tens of cycles on every event) */
    struct pw_event *slot = &pw_thread_ring(t)[head & (ring_events - 1)];
    put_entry(slot, ev, head + 1);
    __atomic_store_n(&t->ring_head, head + 1, __ATOMIC_RELEASE);
}

/* Claims the next notes index below LIMIT, never overshooting it. */
static int claim_note(struct pw_trace_header *h, uint32_t limit, uint32_t *idx)
{
    uint32_t cur = __atomic_load_n(&h->notes_used, __ATOMIC_RELAXED);
    do {
        if (cur >= limit)
            return -1;
    } while (!__atomic_compare_exchange_n(&h->notes_used, &cur, cur + 1, 1, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    *idx = cur;
    return 0;
}

int pw_notes_put(struct pw_trace_header *h, void *base, const struct pw_event *ev)
{
    uint32_t idx;
    if (claim_note(h, pw_notes_limit(h, ev->kind), &idx) != 0) {
        __atomic_add_fetch(&h->dropped_notes, 1, __ATOMIC_RELAXED);
        return -1;
    }
    struct pw_event *notes = (struct pw_event *)((char *)base + h->notes.offset);
    put_entry(&notes[idx], ev, (uint64_t)idx + 1);
    return 0;
}
