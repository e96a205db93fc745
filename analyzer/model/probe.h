/* Trace-file probes: what the commands (run's end patch, the watchers' idle
 * check) need of a trace file without loading it.  With the reader, this is the
 * only code in the analyzer that touches trace records; commands above it see
 * the small struct below, never the on-disk format.
 * The probes serve the watchers and run, which act on what they find: each
 * uses only a regular file owned by our effective user, opened without
 * following a symlink and without blocking (a FIFO opens at once and is then
 * refused); any other file is treated as absent (analyzer/cli/trust.h). */
#ifndef PW_PROBE_H
#define PW_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkwatch/trace.h"

struct pw_trace;

/* Who a trace belongs to, and (when asked for) whether a live thread parks. */
struct pw_trace_id {
    int pid, ppid;
    uint32_t exec_gen;          /* 0 for a pid's first image, +1 per exec */
    enum pw_end_kind end;       /* PW_END_RUNNING while the process runs */
    uint64_t start_realtime_ns; /* 0 = unknown (a hand-made trace) */
    bool parked;                /* some alive thread is parked (pw_trace_peek with THREADS) */
};

/* Maps PATH read-only and reads its header, and with THREADS its thread records
 * (a live process's: read with the park fields' atomics).  The file is
 * untrusted: every offset is bounds-checked.  0, or -1 if PATH is not a
 * readable trace of this format's major version. */
int pw_trace_peek(const char *path, bool threads, struct pw_trace_id *out);
/* A trace kept mapped between looks, for a watcher's idle check: one look
 * costs a few loads from memory while nothing changes (header.park_gen). */
struct pw_trace_probe;
/* Maps the trace open on FD (a file pw_trust_open accepted; FD stays the
 * caller's) if its header is complete: NULL otherwise (not a trace, or one
 * still being created: try again later). */
struct pw_trace_probe *pw_probe_open(int fd);
void pw_probe_close(struct pw_trace_probe *p);
/* The header's facts (parked is not filled in). */
void pw_probe_id(const struct pw_trace_probe *p, struct pw_trace_id *out);
enum pw_look {
    PW_LOOK_ENDED,  /* the process ended (the header says how) */
    PW_LOOK_SAME,   /* no park, unpark, thread start or exit since *GEN */
    PW_LOOK_IDLE,   /* something changed; no live thread is parked */
    PW_LOOK_PARKED, /* something changed; a live thread is parked */
};
/* Looks at P again: compares the header's change count with *GEN and stores
 * the new one there.  A trace older than format 1.3 has no change count:
 * every look then reads its thread records (PW_LOOK_SAME never). */
enum pw_look pw_probe_look(struct pw_trace_probe *p, uint64_t *gen);

/* The same facts of a loaded trace (parked from its validated thread copies). */
void pw_trace_id_of(const struct pw_trace *t, struct pw_trace_id *out);
/* The trace of PID's last image in DIR (header pid equal, highest exec_gen),
 * matched by header and not by name, so that a stale file of a reused pid loses
 * to the newer image.  Its path goes into PATH; 0, or -1 if there is none. */
int pw_trace_find_last_image(const char *dir, int pid, char *path, size_t len);
/* Records in PATH's header how its process ended: KIND and STATUS, and END_NS
 * (ns since the trace's start) unless it is 0.  END_NS PW_END_NS_NOW: the time
 * of this call (waitpid just reported the end), unless the header already has
 * an end time (the shim's own, at exit).  With KEEP_DEADLOCK a watchdog's
 * deadlock-abort already there is kept (it is more precise than "killed by
 * SIGABRT").  0, or -1 with errno set. */
#define PW_END_NS_NOW UINT64_MAX
int pw_trace_mark_end(const char *path, enum pw_end_kind kind, int status, uint64_t end_ns,
                      bool keep_deadlock);
/* A reader that found PATH's process alive at SEEN_NS (ns since the trace's
 * start) notes it in the header's end_ns while the end kind is still
 * "running": should the process then be killed (SIGKILL writes nothing), the
 * post-mortem measures parks up to the last time it was seen alive, not to
 * its last event.  Best effort: a trace we may not write is left alone. */
void pw_trace_mark_seen(const char *path, uint64_t seen_ns);

#endif
