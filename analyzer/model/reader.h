/* Trace reader: loads one trace file into memory and gives validated, bounds-
 * checked access to its sections.  Every field of the file is untrusted; nothing
 * returned here points outside the loaded copy.  A live process may keep writing
 * its trace: the reader takes one snapshot with read(2) and validates records
 * (ring sequence numbers, the park seqlock, publish states).  The rings of a
 * finished process are validated at open but, when they are big, not kept:
 * they are read again from the file when scanned. */
#ifndef PW_READER_H
#define PW_READER_H

#include <stddef.h>
#include <stdint.h>

#include "parkwatch/trace.h"

struct pw_trace;

/* Result of pw_trace_open. */
enum pw_read_status {
    PW_READ_OK = 0,
    PW_READ_TRUNCATED = 1, /* usable as far as it goes; a warning was set */
    PW_READ_ERROR = -1,    /* unreadable, foreign, corrupt or newer major version */
};

/* Opens and validates PATH.  On PW_READ_ERROR *out is NULL and ERR (if not NULL)
 * receives a one-line reason without a trailing newline.  On PW_READ_TRUNCATED
 * the warning is available through pw_trace_warning(). */
enum pw_read_status pw_trace_open(const char *path, struct pw_trace **out, char *err,
                                  size_t errlen);
/* Same, from FD (open for reading, left open; only pread is used), named NAME in
 * messages.  Anything but a regular file is refused without reading. */
enum pw_read_status pw_trace_open_fd(int fd, const char *name, struct pw_trace **out, char *err,
                                     size_t errlen);
/* "a FIFO", "a socket", "a character device"...: what a stat mode is, for
 * one-line refusals of files that are not what was expected. */
const char *pw_file_type_name(unsigned mode);
/* Same, from a memory buffer (unit tests, fuzzing).  The buffer is copied. */
enum pw_read_status pw_trace_open_mem(const void *buf, size_t len, const char *name,
                                      struct pw_trace **out, char *err, size_t errlen);
void pw_trace_close(struct pw_trace *t);

const char *pw_trace_path(const struct pw_trace *t);
const char *pw_trace_warning(const struct pw_trace *t); /* NULL if none */
/* A validated copy of the header (strings NUL-terminated). */
const struct pw_trace_header *pw_trace_header(const struct pw_trace *t);
unsigned pw_trace_argc(const struct pw_trace *t);
const char *pw_trace_argv(const struct pw_trace *t, unsigned i);

/* Threads: every claimed slot (ALIVE or EXITED), in slot order.  The record is a
 * validated copy: park_* are cleared (park_op = NONE) if the seqlock was odd,
 * nheld is clamped to PW_HELD_MAX (held_overflow keeps the true excess). */
size_t pw_trace_nthreads(const struct pw_trace *t);
const struct pw_thread_rec *pw_trace_thread(const struct pw_trace *t, size_t i);
/* The complete events still in thread i's ring, oldest first.  *dropped gets the
 * number of events of that thread that were overwritten (ring wrapped). */
const struct pw_event *pw_trace_thread_events(const struct pw_trace *t, size_t i, size_t *n,
                                              uint64_t *dropped);
/* All ring events of all threads merged by (time_ns, thread, seq).  Built on
 * first use (dump, tests): the model scans with pw_trace_each_event instead. */
const struct pw_event *pw_trace_events(const struct pw_trace *t, size_t *n);
/* Calls FN(ARG, e) for each ring event whose kind is in KINDS (a set of
 * PW_KIND_BIT), in the order of pw_trace_events, without building that array:
 * a finished trace with big rings is read from its file in chunks, so the cost
 * is one sequential pass and the memory a few chunks.  Stops at FN's first
 * non-zero return and returns it; -1 when out of memory; PW_EACH_RESTART when
 * the first scan of a streamed trace finds a ring out of time order (a corrupt
 * file): what FN saw was not in merged order, and a new scan sorts. */
#define PW_KIND_BIT(k) (1ull << (k))
#define PW_KINDS_ALL UINT64_MAX /* every kind, those of a newer minor version too */
#define PW_EACH_RESTART (-2)
int pw_trace_each_event(const struct pw_trace *t, uint64_t kinds,
                        int (*fn)(void *arg, const struct pw_event *e), void *arg);
/* Time of the newest ring event (the last of pw_trace_events), 0 if none. */
uint64_t pw_trace_last_event_ns(const struct pw_trace *t);
/* The notes log (never overwritten): misuse, lock-order edges, held-at-exit... */
const struct pw_event *pw_trace_notes(const struct pw_trace *t, size_t *n);

size_t pw_trace_nchans(const struct pw_trace *t);
const struct pw_chan_rec *pw_trace_chan(const struct pw_trace *t, size_t i);
/* Channel by id, or NULL. */
const struct pw_chan_rec *pw_trace_chan_by_id(const struct pw_trace *t, uint32_t id);

size_t pw_trace_nmodules(const struct pw_trace *t);
const struct pw_module *pw_trace_module(const struct pw_trace *t, size_t i);

/* Stack by depot id: 0 on success with *pcs and *n set (innermost first), -1 if the
 * id is 0, out of bounds or the record is malformed. */
int pw_trace_stack(const struct pw_trace *t, uint32_t id, const uint64_t **pcs, unsigned *n);

/* Total events lost: header counters plus ring overwrites. */
uint64_t pw_trace_dropped(const struct pw_trace *t);
/* Total events recorded (still in rings + overwritten). */
uint64_t pw_trace_total_events(const struct pw_trace *t);

/* Names from the X-macro lists (never NULL; "?" for out-of-range values). */
const char *pw_event_kind_name(unsigned kind);
const char *pw_park_op_name(unsigned op);
const char *pw_obj_type_name(unsigned type);
const char *pw_misuse_name(unsigned kind);
const char *pw_end_kind_name(unsigned kind);
const char *pw_side_name(unsigned side);
const char *pw_exit_how_name(unsigned how);
const char *pw_fork_side_name(unsigned side);

#endif
