/* Event recording for the calling thread (event.c): ring events, notes, park
 * state.  ring.h has the raw writers. */
#ifndef PW_EVENT_H
#define PW_EVENT_H

#include "shim.h"
#include "tls.h"

/* Into the ring of T, the calling thread's record (pw_self(); NULL counts the
 * event as dropped). */
void pw_emit(struct pw_thread_rec *t, struct pw_event *ev);
void pw_note(struct pw_event *ev); /* into the notes log (never overwritten) */

/* Park state under the record's seqlock; both also write the ring event. */
void pw_park_begin(struct pw_thread_rec *t, uint16_t op, uint16_t flags, uint64_t obj,
                   uint64_t obj2, int32_t fd, uint32_t stack);
void pw_park_end(struct pw_thread_rec *t, uint16_t op, uint64_t obj, int64_t result, int err,
                 uint64_t arg);
/* A contended mutex (i_mutex.c) publishes its park state first, with
 * SINCE on pw_now's scale (the held sites mirrored as pw_park_begin does) and
 * no ring event; pw_park_clear ends it, pw_park_confirm makes it a park like
 * any other (STACK published, counted, PARK written; pw_park_end ends it). */
void pw_park_publish(struct pw_thread_rec *t, uint16_t op, uint64_t obj, uint32_t stack,
                     uint64_t since);
void pw_park_clear(struct pw_thread_rec *t);
void pw_park_confirm(struct pw_thread_rec *t, uint16_t op, uint64_t obj, uint32_t stack,
                     uint64_t since);
/* The events of a park already over: PARK (at SINCE) and UNPARK (at UNTIL)
 * and its count, written after the fact.  Times are CLOCK_MONOTONIC
 * (pw_mono_abs). */
void pw_park_after(struct pw_thread_rec *t, uint16_t op, uint64_t obj, uint32_t stack,
                   uint64_t since, uint64_t until, int64_t result);
/* The same for the mutex park pending in pw_tls (tls.h), if any: called with
 * the guard raised. */
void pw_park_flush_slow(void);
static inline void pw_park_flush(void)
{
    if (PW_UNLIKELY(pw_tls.pend_obj != 0))
        pw_park_flush_slow();
}
/* Where the calling thread took its I-th held lock (a stack id, 0 unknown):
 * set by the lock-order module at init (lockorder.c knows the sites; this layer
 * sits below it).  NULL until then. */
extern uint32_t (*pw_held_site)(const struct pw_thread_rec *t, uint32_t i);
/* Copies the sites of T's first PW_HELD_SITES held locks into its record
 * (parks and the thread's end: a parked or exited holder explains a chain). */
void pw_held_sites_mirror(struct pw_thread_rec *t);
/* Cleanup handler for cancellable parks: clears the park of the calling thread. */
void pw_park_cancelled(void *op);

#endif
