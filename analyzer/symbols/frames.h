/* Stack id -> symbolized, filtered frames, for the report writers and the
 * suppression matcher.  One symbolizer per trace, created on first use; every
 * (trace, stack id) is symbolized once and cached until pw_frames_free. */
#ifndef PW_FRAMES_H
#define PW_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

struct pw_trace;
struct pw_frames;

struct pw_frames *pw_frames_new(void);
void pw_frames_free(struct pw_frames *fr);

/* Source paths under DIR are shown relative to it (default: the current
 * directory at pw_frames_new).  NULL keeps every path as recorded. */
void pw_frames_set_base_dir(struct pw_frames *fr, const char *dir);

/* Frames of stack ID of trace T, innermost first, into *OUT (owned by FR).
 * Process start-up frames below main and the clone frames below start_thread
 * are dropped; file paths are shortened as above.  Returns the number of
 * frames; 0 for stack 0, an unknown id, or out-of-memory. */
size_t pw_frames_get(struct pw_frames *fr, const struct pw_trace *t, uint32_t id,
                     const struct pw_frame **out);

/* Frames of N raw return addresses PCS (innermost first) taken from trace
 * T's process some other way (the kernel's view at exit), symbolized with T's
 * module map and tidied as pw_frames_get does.  *OUT is malloc'd: the caller
 * frees it.  Returns the number of frames. */
size_t pw_frames_pcs(struct pw_frames *fr, const struct pw_trace *t, const uint64_t *pcs,
                     unsigned n, struct pw_frame **out);

/* Applies the same tidying as pw_frames_get to frames V[0..N) symbolized
 * elsewhere (a live stack): drops the start-up and clone frames and shortens
 * paths.  Returns the number of frames kept. */
size_t pw_frames_tidy(const struct pw_frames *fr, struct pw_frame *v, size_t n);

/* "&accounts_lock" (or "&forks+40" inside an array or struct) for a lock at
 * ADDR in trace T's process when it is a global or static variable, else NULL.
 * Owned by FR. */
const char *pw_frames_data_name(struct pw_frames *fr, const struct pw_trace *t, uint64_t addr);

#endif
