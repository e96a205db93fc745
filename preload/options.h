/* Shim options: PARKWATCH_OPTIONS="key=value:key=value", sanitizer style.
 * One X-macro list; the parser, the defaults and the struct all expand it. */
#ifndef PW_OPTIONS_H
#define PW_OPTIONS_H

#include <stdint.h>

#include "parkwatch/trace.h"

/* X(name, type, default, min, max, help).  type is STR or UINT; min/max bound
 * UINT values (out-of-range values are clamped with a warning). */
#define PW_OPTIONS(X)                                                               \
    X(trace_dir, STR, ".", 0, 0, "directory for parkwatch.<pid>.trace")               \
    X(ring_events, UINT, "256", 16, 65536, "events per thread ring (power of two)")   \
    X(max_threads, UINT, "4096", 4, 1048576, "thread slots in the trace")             \
    X(max_chans, UINT, "4096", 16, 1048576, "channel records in the trace")           \
    X(max_notes, UINT, "16384", 64, 16777216, "notes (never overwritten events)")     \
    X(depot_kb, UINT, "8192", 64, 4194304, "stack depot pool size in KiB")            \
    X(stack_depth, UINT, "32", 1, PW_STACK_MAX_FRAMES, "frames per stack")            \
    X(verbose, UINT, "0", 0, 2, "print what the shim does on stderr")                 \
    X(watchdog_ms, UINT, "1000", 0, 3600000, "deadlock watchdog period (0 = off)")    \
    X(on_deadlock, STR, "abort", 0, 0, "abort|report|off: what the watchdog does")    \
    X(watchdog, UINT, "0", 0, 1, "1: start the watchdog sidecar (plain LD_PRELOAD)")  \
    X(parkwatch_bin, STR, "", 0, 0, "the parkwatch CLI the watchdog sidecar runs")   \
    X(verify_at_exit, UINT, "0", 0, 1, "1: exit status 66 if a thread is parked forever at exit")

#define PW_OPT_CTYPE_STR const char *
#define PW_OPT_CTYPE_UINT uint64_t

struct pw_options {
#define PW_X(name, type, def, lo, hi, help) PW_OPT_CTYPE_##type name;
    PW_OPTIONS(PW_X)
#undef PW_X
};

/* Fills OPT from the defaults, then from ENV (may be NULL).  Strings point into
 * a static buffer; unknown keys give one warning line each and are ignored. */
void pw_options_parse(struct pw_options *opt, const char *env);

#endif
