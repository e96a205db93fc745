/* Per-thread event rings and the shared notes log, over trace.h's layout.
 * No globals: the unit tests drive these on plain memory. */
#ifndef PW_RING_H
#define PW_RING_H

#include <stdint.h>

#include "parkwatch/trace.h"

/* Appends EV to T's ring of RING_EVENTS entries, a power of two (config.c
 * rounds the option up; single writer: the owner).
 * EV->seq is ignored; the stored seq is the event's index + 1. */
void pw_ring_put(struct pw_thread_rec *t, uint32_t ring_events, const struct pw_event *ev);

/* Appends EV to the notes section of H (mapped at BASE); any thread may call it.
 * Returns 0, or -1 when the log is full (header.dropped_notes counts it). */
/* Notes of KIND may fill the log up to this index: a lock-order edge stops
 * short of the reserve, so that the notes verdicts need (exits, held-at-exit,
 * lock lives, first acts, the process end) can never be crowded out. */
static inline uint32_t pw_notes_limit(const struct pw_trace_header *h, uint16_t kind)
{
    uint32_t r = h->notes_reserve < h->notes.count ? h->notes_reserve : 0;
    return kind == PW_EV_LOCK_EDGE ? h->notes.count - r : h->notes.count;
}

int pw_notes_put(struct pw_trace_header *h, void *base, const struct pw_event *ev);

#endif
