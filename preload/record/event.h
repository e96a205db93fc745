/* Event recording for the calling thread (event.c): ring events, notes, park
 * state.  ring.h has the raw writers. */
#ifndef PW_EVENT_H
#define PW_EVENT_H

#include "shim.h"

/* Into the ring of T, the calling thread's record (pw_self(); NULL counts the
 * event as dropped). */
void pw_emit(struct pw_thread_rec *t, struct pw_event *ev);
void pw_note(struct pw_event *ev); /* into the notes log (never overwritten) */

/* Park state under the record's seqlock; both also write the ring event. */
void pw_park_begin(struct pw_thread_rec *t, uint16_t op, uint16_t flags, uint64_t obj,
                   uint64_t obj2, int32_t fd, uint32_t stack);
void pw_park_end(struct pw_thread_rec *t, uint16_t op, uint64_t obj, int64_t result, int err,
                 uint64_t arg);
/* Cleanup handler for cancellable parks: clears the park of the calling thread. */
void pw_park_cancelled(void *op);

#endif
