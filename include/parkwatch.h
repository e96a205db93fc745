/* parkwatch public API: goleak-style checkpoints and channel annotations.
 *
 * Header-only and safe without the shim: every call looks up its implementation
 * in libparkwatch.so at run time (dlsym) and does nothing when the shim is not
 * preloaded, so programs use it without linking anything.  Weak symbols would
 * not do: a weak reference from a main executable is resolved at link time to
 * NULL and stays NULL even when the shim is preloaded later.
 *
 *   if (parkwatch_active()) ...            1 under the shim, 0 otherwise
 *   parkwatch_checkpoint("test_pool");     start of a test case
 *   ...
 *   if (parkwatch_verify_none(500) != 0)   threads this thread created since the
 *       fail();                            checkpoint still alive after 500 ms
 *   parkwatch_ignore_top_function("logger_main");  never count threads parked there
 *   parkwatch_ignore_current();            nor any thread alive now
 *
 * Channel annotations make a user-written queue (mutex + cond, ring buffer, a
 * third-party channel library) a first-class channel in reports:
 *   parkwatch_chan_make(&q, capacity, "jobs");
 *   parkwatch_chan_send_begin(&q); ... parkwatch_chan_send_end(&q);
 *   parkwatch_chan_recv_begin(&q); ... parkwatch_chan_recv_end(&q, ok);
 *   parkwatch_chan_close(&q);  parkwatch_chan_destroy(&q);
 *
 * Link with -ldl on glibc older than 2.34 (dlsym moved into libc there). */
#ifndef PARKWATCH_H
#define PARKWATCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* RTLD_DEFAULT */
#endif
#include <dlfcn.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PARKWATCH_API_VERSION 1

/* Looks up an implementation exported by the shim, once per function.  The
 * pointer is published before the flag (release/acquire), so a racing first
 * call at worst looks it up twice. */
#define PARKWATCH__FN(type, name)                                         \
    static type parkwatch__fn_##name;                                     \
    static int parkwatch__looked_##name;                                  \
    if (!__atomic_load_n(&parkwatch__looked_##name, __ATOMIC_ACQUIRE)) {  \
        union {                                                           \
            void *obj;                                                    \
            type fn;                                                      \
        } parkwatch__u;                                                   \
        parkwatch__u.obj = dlsym(RTLD_DEFAULT, "parkwatch_impl_" #name);  \
        parkwatch__fn_##name = parkwatch__u.fn;                           \
        __atomic_store_n(&parkwatch__looked_##name, 1, __ATOMIC_RELEASE); \
    }

typedef int (*parkwatch__int_void)(void);
typedef int (*parkwatch__int_str)(const char *);
typedef int (*parkwatch__int_uint)(unsigned);
typedef int (*parkwatch__int_ptr)(const void *);
typedef int (*parkwatch__int_ptr_int)(const void *, int);
typedef int (*parkwatch__int_ptr_size_str)(const void *, unsigned long, const char *);

/* 1 when libparkwatch is preloaded and recording, 0 otherwise ("inactive"). */
static inline int parkwatch_active(void)
{
    PARKWATCH__FN(parkwatch__int_void, active)
    return parkwatch__fn_active ? parkwatch__fn_active() : 0;
}

/* Starts a leak-check scope for the calling thread; LABEL names it in reports.
 * Returns 0, or -1 when inactive. */
static inline int parkwatch_checkpoint(const char *label)
{
    PARKWATCH__FN(parkwatch__int_str, checkpoint)
    return parkwatch__fn_checkpoint ? parkwatch__fn_checkpoint(label) : -1;
}

/* Non-zero (with a report on stderr) if threads created, directly or through
 * other threads, by the calling thread since its last checkpoint are still alive
 * after TIMEOUT_MS.  Threads of other test cases running in parallel are not
 * counted.  Returns 0 when inactive. */
static inline int parkwatch_verify_none(unsigned timeout_ms)
{
    PARKWATCH__FN(parkwatch__int_uint, verify_none)
    return parkwatch__fn_verify_none ? parkwatch__fn_verify_none(timeout_ms) : 0;
}

/* Later verify_none calls (and verify_at_exit) do not count threads whose park
 * stack's innermost frame, as the report shows it (#0), is in function NAME:
 * goleak's IgnoreTopFunction.  NAME may be a glob (fnmatch).  Matching a
 * static function needs the parkwatch CLI (found beside the shim, or
 * parkwatch_bin=); without it, only exported functions match.  `parkwatch
 * report` still reports such threads: give it a suppression
 * (thread-leak:NAME).  Returns 0, or -1 when inactive or the list is full. */
static inline int parkwatch_ignore_top_function(const char *name)
{
    PARKWATCH__FN(parkwatch__int_str, ignore_top_function)
    return parkwatch__fn_ignore_top_function ? parkwatch__fn_ignore_top_function(name) : -1;
}

/* Later verify_none calls (and verify_at_exit) do not count the threads alive
 * now (goleak's IgnoreCurrent); threads started afterwards still count.  The
 * report leaves them out of thread-leak findings too.  Returns 0, or -1 when
 * inactive. */
static inline int parkwatch_ignore_current(void)
{
    PARKWATCH__FN(parkwatch__int_void, ignore_current)
    return parkwatch__fn_ignore_current ? parkwatch__fn_ignore_current() : -1;
}

/* ---- channel annotations; CH is the address of the user's queue object */

static inline int parkwatch_chan_make(const void *ch, unsigned long capacity, const char *name)
{
    PARKWATCH__FN(parkwatch__int_ptr_size_str, chan_make)
    return parkwatch__fn_chan_make ? parkwatch__fn_chan_make(ch, capacity, name) : -1;
}

#define PARKWATCH__CHAN_OP(name)                                               \
    static inline int parkwatch_chan_##name(const void *ch)                    \
    {                                                                          \
        PARKWATCH__FN(parkwatch__int_ptr, chan_##name)                         \
        return parkwatch__fn_chan_##name ? parkwatch__fn_chan_##name(ch) : -1; \
    }

PARKWATCH__CHAN_OP(send_begin)
PARKWATCH__CHAN_OP(send_end)
PARKWATCH__CHAN_OP(recv_begin)
PARKWATCH__CHAN_OP(close)
PARKWATCH__CHAN_OP(destroy)

/* OK is 0 when the receive found the channel closed and empty. */
static inline int parkwatch_chan_recv_end(const void *ch, int ok)
{
    PARKWATCH__FN(parkwatch__int_ptr_int, chan_recv_end)
    return parkwatch__fn_chan_recv_end ? parkwatch__fn_chan_recv_end(ch, ok) : -1;
}

/* ---- the implementations, for the shim only (it defines PARKWATCH_IMPL before
 * including this header).  The shim builds with -Wmissing-prototypes, so each
 * definition must match these declarations, and each declaration must have
 * the type its lookup above casts the dlsym result to. */
#if defined(PARKWATCH_IMPL) && !defined(__cplusplus)
int parkwatch_impl_active(void);
int parkwatch_impl_checkpoint(const char *label);
int parkwatch_impl_verify_none(unsigned timeout_ms);
int parkwatch_impl_ignore_top_function(const char *name);
int parkwatch_impl_ignore_current(void);
int parkwatch_impl_chan_make(const void *ch, unsigned long capacity, const char *name);
int parkwatch_impl_chan_send_begin(const void *ch);
int parkwatch_impl_chan_send_end(const void *ch);
int parkwatch_impl_chan_recv_begin(const void *ch);
int parkwatch_impl_chan_recv_end(const void *ch, int ok);
int parkwatch_impl_chan_close(const void *ch);
int parkwatch_impl_chan_destroy(const void *ch);

#define PARKWATCH__IMPL_TYPE(name, type)                                                   \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&parkwatch_impl_##name), type), \
                   "parkwatch_impl_" #name " has the type its lookup expects")
PARKWATCH__IMPL_TYPE(active, parkwatch__int_void);
PARKWATCH__IMPL_TYPE(checkpoint, parkwatch__int_str);
PARKWATCH__IMPL_TYPE(verify_none, parkwatch__int_uint);
PARKWATCH__IMPL_TYPE(ignore_top_function, parkwatch__int_str);
PARKWATCH__IMPL_TYPE(ignore_current, parkwatch__int_void);
PARKWATCH__IMPL_TYPE(chan_make, parkwatch__int_ptr_size_str);
PARKWATCH__IMPL_TYPE(chan_send_begin, parkwatch__int_ptr);
PARKWATCH__IMPL_TYPE(chan_send_end, parkwatch__int_ptr);
PARKWATCH__IMPL_TYPE(chan_recv_begin, parkwatch__int_ptr);
PARKWATCH__IMPL_TYPE(chan_recv_end, parkwatch__int_ptr_int);
PARKWATCH__IMPL_TYPE(chan_close, parkwatch__int_ptr);
PARKWATCH__IMPL_TYPE(chan_destroy, parkwatch__int_ptr);
#undef PARKWATCH__IMPL_TYPE
#endif

#ifdef __cplusplus
}
#endif

#endif
