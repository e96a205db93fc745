/* What every preload/ file shares: the shim's rules and its macros.  Each
 * module declares its own functions and state in the header next to its .c
 * file; the layering (lowest first) is
 *   shim.h, tls.h, proc.h, util, config, record/tracefile, record/event,
 *   state/threads, record/stack, state/lockorder, state/fdtab, state/chan,
 *   state/exec, record/modules, watchdog, state/userchan, init,
 * then the interposers (intercept/i_*.c), which nothing includes.
 *
 * Everything here is hidden (the library is built with -fvisibility=hidden and a
 * version script); only interposers and parkwatch_* are exported.
 *
 * Rules every file follows (the reasons are in the project's design notes):
 *   - the recording path never allocates, never uses stdio and never takes a lock
 *     a user can see;
 *   - everything the shim does runs with the TLS guard raised, so that library-
 *     internal calls (libunwind's mutexes, the loader's locks) pass through our
 *     wrappers untouched;
 *   - on any failure the shim counts a drop and lets the program run.
 */
#ifndef PW_SHIM_H
#define PW_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parkwatch/trace.h"

#define PW_EXPORT __attribute__((visibility("default")))
#define PW_LIKELY(x) __builtin_expect(!!(x), 1)
#define PW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define PW_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define PW_LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define PW_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define PW_STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define PW_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)
#define PW_OR(p, v) __atomic_or_fetch((p), (v), __ATOMIC_ACQ_REL)

#endif
