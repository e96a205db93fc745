/* PARKWATCH_OPTIONS="key=value:key=value", sanitizer style: the shim's
 * settings, in one list that both wings expand.  The shim parses them
 * (preload/options.c) and prints them with help=1; `parkwatch run` sets
 * trace_dir and watchdog and reads watchdog_ms, on_deadlock, halt_on_deadlock
 * and timeout for its own watcher (analyzer/cli/cmd_run.c).  log_path,
 * exitcode and suppressions are the sanitizer keys of the reports: `run` and
 * `report` take them as the defaults of -o, --exitcode and --suppressions
 * (analyzer/cli/opts.c); the shim accepts and ignores them.  Both decide a value with pw_opt_uint below,
 * so a key the user sets means the same to the host and to `run`.
 *
 * Everything here must stay usable from the shim: no allocation, no stdio. */
#ifndef PARKWATCH_OPTIONS_H
#define PARKWATCH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "parkwatch/trace.h" /* PW_STACK_MAX_FRAMES */

/* X(name, type, default, min, max, help).
 * STR: the default is a string; min and max are unused (0).
 * UINT: the default is a number; a decimal value outside [min, max] is clamped
 * into it with a warning, anything else is ignored with a warning (the
 * default, or an earlier occurrence, stays).  The last occurrence of a key wins. */
#define PW_OPTIONS(X)                                                                            \
    X(trace_dir, STR, ".", 0, 0, "directory for parkwatch.<pid>.trace")                          \
    X(ring_events, UINT, 256, 16, 65536, "events per thread ring (power of two)")                \
    X(max_threads, UINT, 4096, 4, 1048576, "thread slots in the trace")                          \
    X(max_chans, UINT, 4096, 16, 1048576, "channel records in the trace")                        \
    X(max_notes, UINT, 16384, 64, 16777216, "notes (never overwritten events)")                  \
    X(depot_kb, UINT, 8192, 64, 4194304, "stack depot pool size in KiB")                         \
    X(stack_depth, UINT, 32, 1, PW_STACK_MAX_FRAMES, "frames per stack")                         \
    X(verbose, UINT, 0, 0, 2, "print what the shim does on stderr")                              \
    X(watchdog_ms, UINT, 1000, 0, 3600000, "deadlock watchdog period (0 = off)")                 \
    X(on_deadlock, STR, "abort", 0, 0, "abort|report|off: what the watchdog does")               \
    X(halt_on_deadlock, UINT, 0, 0, 1, "1: a deadlock among some threads stops the program too") \
    X(timeout, UINT, 0, 0, 604800, "run: stop the program after this many seconds (0 = never)")  \
    X(watchdog, UINT, 0, 0, 1, "1: start the watchdog sidecar (plain LD_PRELOAD)")               \
    X(parkwatch_bin, STR, "", 0, 0, "the parkwatch CLI the watchdog sidecar runs")               \
    X(verify_at_exit, UINT, 0, 0, 1, "1: exit status 66 if a thread is parked forever at exit")  \
    X(exit_stacks, UINT, 1, 0, 1, "1: at exit, record what unfollowed threads are blocked in")   \
    X(dump_signal, STR, "", 0, 0, "signal on which the watcher prints the live report")          \
    X(help, UINT, 0, 0, 1, "1: print these options, their values and defaults on stderr")        \
    X(log_path, STR, "", 0, 0, "run/report: write the report to <log_path>.<pid>, not stderr")   \
    X(exitcode, UINT, 66, 0, 255, "run/report: exit status when a finding matches --fail-on")    \
    X(suppressions, STR, "", 0, 0, "run/report: suppressions file (kind:function-glob)")

/* Bytes of PARKWATCH_OPTIONS the shim reads, with the terminating NUL; the
 * rest is ignored with a warning. */
#define PW_OPTIONS_MAX 1024

enum pw_opt_key {
#define PW_X(name, type, def, lo, hi, help) PW_OPTKEY_##name,
    PW_OPTIONS(PW_X)
#undef PW_X
        PW_OPTKEY__COUNT
};

/* The values of on_deadlock, what a watcher does when every thread of a
 * process is blocked forever: X(enum suffix, value).  The shim starts its
 * sidecar for those that watch; `run` and `watch` act on them. */
#define PW_ON_DEADLOCK(X) \
    X(ABORT, "abort")     \
    X(REPORT, "report")   \
    X(OFF, "off")

enum pw_on_deadlock {
#define PW_X(e, s) PW_ON_DEADLOCK_##e,
    PW_ON_DEADLOCK(PW_X)
#undef PW_X
};

/* Parses an on_deadlock value; -1 if unknown. */
static inline int pw_on_deadlock_parse(const char *s)
{
    static const char *const names[] = {
#define PW_X(e, str) str,
        PW_ON_DEADLOCK(PW_X)
#undef PW_X
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *a = s, *b = names[i];
        while (*a != '\0' && *a == *b)
            a++, b++;
        if (*a == *b)
            return (int)i;
    }
    return -1;
}

enum pw_opt_type { PW_OPT_STR, PW_OPT_UINT };

struct pw_opt_desc {
    const char *name;
    enum pw_opt_type type;
    const char *def_str; /* STR: the default; UINT: NULL */
    uint64_t def_uint;   /* UINT: the default; STR: 0 */
    uint64_t lo, hi;     /* UINT: the bounds */
    const char *help;
};

/* Each default lands in the column of its type. */
#define PW_OPT_DEF_STR_STR(d) d
#define PW_OPT_DEF_STR_UINT(d) NULL
#define PW_OPT_DEF_UINT_STR(d) 0
#define PW_OPT_DEF_UINT_UINT(d) (d)

/* Indexed by enum pw_opt_key.  (A static table in a header: each wing that
 * includes it gets its own copy, and neither links the other.) */
static const struct pw_opt_desc pw_opt_descs[PW_OPTKEY__COUNT] = {
#define PW_X(name, type, def, lo, hi, help) \
    {#name, PW_OPT_##type, PW_OPT_DEF_STR_##type(def), PW_OPT_DEF_UINT_##type(def), lo, hi, help},
    PW_OPTIONS(PW_X)
#undef PW_X
};

/* The key's name; does not compile if NAME is not in the list. */
#define PW_OPT_NAME(key) (pw_opt_descs[PW_OPTKEY_##key].name)

/* The key named by the LEN bytes at KEY, or NULL. */
static inline const struct pw_opt_desc *pw_opt_find(const char *key, size_t len)
{
    for (size_t i = 0; i < PW_OPTKEY__COUNT; i++) {
        const char *n = pw_opt_descs[i].name;
        size_t k = 0;
        while (k < len && n[k] != '\0' && n[k] == key[k])
            k++;
        if (k == len && n[k] == '\0')
            return &pw_opt_descs[i];
    }
    return NULL;
}

enum pw_opt_verdict {
    PW_OPT_OK,      /* *OUT is the value */
    PW_OPT_CLAMPED, /* out of bounds: *OUT is the nearest bound */
    PW_OPT_BAD,     /* not a decimal number: keep the previous value */
};

/* Decides the LEN bytes at VAL for the UINT option D: the one rule both wings
 * apply, so the shim and `run` cannot disagree about a value. */
static inline enum pw_opt_verdict pw_opt_uint(const struct pw_opt_desc *d, const char *val,
                                              size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return PW_OPT_BAD;
    for (size_t i = 0; i < len; i++) {
        if (val[i] < '0' || val[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return PW_OPT_BAD;
        v = v * 10 + (uint64_t)(val[i] - '0');
    }
    if (v < d->lo || v > d->hi) {
        *out = v < d->lo ? d->lo : d->hi;
        return PW_OPT_CLAMPED;
    }
    *out = v;
    return PW_OPT_OK;
}

#endif
