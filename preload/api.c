/* The shim side of include/parkwatch.h: the header looks these up with dlsym
 * ("parkwatch_impl_<name>") and does nothing without the shim.  The channel
 * annotations (parkwatch_impl_chan_*) are in userchan.c.
 *
 * verify_none is goleak's VerifyNone, scoped by lineage: the threads created
 * since the calling thread's checkpoint by that thread, or by threads it
 * created since then (and so on), must all have ended within the timeout.
 * Threads of test cases running in parallel descend from other threads and are
 * not counted; nor are threads created before the checkpoint (a pool started
 * by an earlier case) or their own children.  The lineage is followed through
 * the thread records, which keep parent serials after the threads end; it is
 * lost only when a record was recycled (more threads than max_threads).
 *
 * verify_at_exit=1 does the same for the whole program at an orderly exit:
 * a thread still parked forever (an untimed wait) turns the exit status into 66.
 *
 * Reports go to stderr with write(2) and name what the shim knows cheaply: the
 * thread's serial, name and tid, what it is parked in and on what, for how
 * long, and its park stack as raw frames (module+offset: the shim never
 * symbolizes; addr2line or the analyzer can).  The last line names the trace,
 * where `parkwatch report` gives the symbolized stacks (after the exit, the
 * threads still parked are its thread-leak findings). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PARKWATCH_IMPL
#include "parkwatch.h"
#include "parkwatch/ops.h"

#include "chan.h"
#include "config.h"
#include "depot.h"
#include "init.h"
#include "proc.h"
#include "shim.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

#define PW_EXIT_LEAK 66     /* verify_at_exit's status, as `parkwatch run`'s */
#define PW_REPORT_FRAMES 8u /* park stack frames printed per thread */
#define PW_EXIT_GRACE_MS 50 /* see at_exit_check */

/* Per-thread checkpoint: serials above cp_serial were created after it. */
static __thread uint32_t pw_cp_serial __attribute__((tls_model("initial-exec")));
static __thread char pw_cp_label[32] __attribute__((tls_model("initial-exec")));

static const char *const pw_op_names[] = {
#define PW_X(name, str, obj, dir, strict) str,
    PW_PARK_OPS(PW_X)
#undef PW_X
};

PW_EXPORT int parkwatch_impl_active(void)
{
    return pw_on() || (pw_tls.guard != 0 && pw_tf.hdr != NULL);
}

PW_EXPORT int parkwatch_impl_checkpoint(const char *label)
{
    if (!pw_on())
        return -1;
    pw_cp_serial = PW_LOAD(&pw_tf.hdr->next_serial);
    pw_strlcpy(pw_cp_label, label != NULL ? label : "", sizeof pw_cp_label);
    return 0;
}

static struct pw_thread_rec *by_serial(uint32_t serial)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (PW_LOAD(&t->state) != PW_TS_FREE && t->serial == serial)
            return t;
    }
    return NULL;
}

/* T was created since the checkpoint by ME or by one of its descendants. */
static bool descends(const struct pw_thread_rec *t, uint32_t me, uint32_t cp)
{
    uint32_t s = t->parent_serial;
    for (int depth = 0; depth < 1024 && s > cp; depth++) {
        const struct pw_thread_rec *p = by_serial(s);
        if (p == NULL) /* slot recycled: the chain is lost */
            return false;
        s = p->parent_serial;
    }
    return s == me;
}

/* ---- reports (no stdio, no malloc: a line buffer and pw_warn) */

static size_t append_hex(char *dst, size_t pos, size_t cap, uint64_t v)
{
    char tmp[19] = "0x";
    int n = 2;
    for (int shift = 60; shift >= 0; shift -= 4)
        if ((v >> shift) != 0 || shift == 0)
            tmp[n++] = "0123456789abcdef"[(v >> shift) & 0xf];
    tmp[n] = '\0';
    return pw_append(dst, pos, cap, tmp);
}

static size_t append_chan(char *dst, size_t pos, size_t cap, uint64_t id)
{
    static const char *const types[] = {
#define PW_X(name, str, lock, chan) str,
        PW_OBJ_TYPES(PW_X)
#undef PW_X
    };
    uint32_t n = PW_LOAD(&pw_tf.hdr->chans_used);
    for (uint32_t i = 0; i < n; i++) {
        const struct pw_chan_rec *c = pw_chan_rec(i);
        if (PW_LOAD(&c->state) == PW_CS_FREE || c->id != id)
            continue;
        pos = pw_append(dst, pos, cap, c->type < PW_OBJ__COUNT ? types[c->type] : "channel");
        if (c->flags & PW_CF_NAMED) {
            char name[sizeof c->name];
            pw_strlcpy(name, c->name, sizeof name);
            pos = pw_append(dst, pos, cap, " '");
            pos = pw_append(dst, pos, cap, name);
            return pw_append(dst, pos, cap, "'");
        }
        break;
    }
    pos = pw_append(dst, pos, cap, "#");
    return pw_append_u64(dst, pos, cap, id);
}

/* "module+0xoff" for PC, from the module map in the trace. */
static size_t append_frame(char *dst, size_t pos, size_t cap, uint64_t pc)
{
    const struct pw_module *m = (const struct pw_module *)(pw_tf.base + pw_tf.hdr->modules.offset);
    uint32_t n = PW_LOAD(&pw_tf.hdr->nmodules);
    pos = append_hex(dst, pos, cap, pc);
    for (uint32_t i = 0; i < n; i++) {
        if (PW_LOAD(&m[i].state) != 1 || pc < m[i].lo || pc >= m[i].hi || m[i].unload_ns != 0)
            continue;
        const char *base = strrchr(m[i].path, '/');
        pos = pw_append(dst, pos, cap, " ");
        pos = pw_append(dst, pos, cap, base != NULL ? base + 1 : m[i].path);
        pos = pw_append(dst, pos, cap, "+");
        return append_hex(dst, pos, cap, pc - m[i].base);
    }
    return pos;
}

/* One thread: a headline, then its park stack. */
static void report_thread(const struct pw_thread_rec *t)
{
    char line[400];
    size_t n = pw_append(line, 0, sizeof line, "  T");
    n = pw_append_u64(line, n, sizeof line, t->serial);
    n = pw_append(line, n, sizeof line, " '");
    char name[PW_THREAD_NAME_MAX];
    pw_strlcpy(name, t->name, sizeof name);
    n = pw_append(line, n, sizeof line, name);
    n = pw_append(line, n, sizeof line, "' tid ");
    n = pw_append_u64(line, n, sizeof line, (uint64_t)(t->tid > 0 ? t->tid : 0));
    if (t->parent_serial != 0) {
        n = pw_append(line, n, sizeof line, " (created by T");
        n = pw_append_u64(line, n, sizeof line, t->parent_serial);
        n = pw_append(line, n, sizeof line, ")");
    }
    /* a consistent copy of the park fields (the thread may be moving) */
    uint32_t seq = PW_LOAD(&t->park_seq);
    uint16_t op = t->park_op, flags = t->park_flags;
    uint64_t obj = t->park_obj, since = t->park_since_ns;
    uint32_t stack = t->park_stack;
    if ((seq & 1) || PW_LOAD(&t->park_seq) != seq || op >= PW_OP__COUNT)
        op = PW_OP_NONE;
    if (op == PW_OP_NONE) {
        pw_warn(line, " running", NULL);
        return;
    }
    n = pw_append(line, n, sizeof line, flags & PW_PARK_TIMED ? " in a timed " : " parked in ");
    n = pw_append(line, n, sizeof line, pw_op_names[op]);
    n = pw_append(line, n, sizeof line, " on ");
    if (pw_op_is_chan(op)) { /* a channel id: named as the analyzer does */
        n = append_chan(line, n, sizeof line, obj);
    } else if (op == PW_OP_JOIN) {
        n = pw_append(line, n, sizeof line, "T");
        n = pw_append_u64(line, n, sizeof line, obj);
    } else {
        n = append_hex(line, n, sizeof line, obj);
    }
    uint64_t now = pw_now();
    n = pw_append(line, n, sizeof line, " for ");
    n = pw_append_u64(line, n, sizeof line, now > since ? (now - since) / 1000000 : 0);
    pw_append(line, n, sizeof line, " ms");
    pw_warn(line, NULL);
    const struct pw_stack_rec *r = pw_depot_get(&pw_tf.depot, stack);
    for (unsigned i = 0; r != NULL && i < r->nframes && i < PW_REPORT_FRAMES; i++) {
        n = pw_append(line, 0, sizeof line, "      #");
        n = pw_append_u64(line, n, sizeof line, i);
        n = pw_append(line, n, sizeof line, " ");
        append_frame(line, n, sizeof line, r->pcs[i]);
        pw_warn(line, NULL);
    }
}

static void report_trace_hint(void)
{
    pw_warn("  symbolized stacks: parkwatch report ", pw_tf.path, NULL);
}

/* ---- verify_none */

/* Live descendants; with REPORT, their report lines. */
static int leaked(uint32_t me, uint32_t cp, bool report)
{
    int n = 0;
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (PW_LOAD(&t->state) != PW_TS_ALIVE || t->serial <= cp || !descends(t, me, cp))
            continue;
        n++;
        if (report)
            report_thread(t);
    }
    return n;
}

PW_EXPORT int parkwatch_impl_verify_none(unsigned timeout_ms)
{
    if (!pw_on() || pw_self() == NULL)
        return 0;
    int err = errno;
    uint32_t me = pw_tls.serial, cp = pw_cp_serial;
    struct timespec step = {0, 5 * 1000 * 1000};
    for (unsigned waited = 0;; waited += 5) {
        if (leaked(me, cp, false) == 0) {
            errno = err;
            return 0;
        }
        if (waited >= timeout_ms)
            break;
        nanosleep(&step, NULL);
    }
    pw_tls.guard++;
    char count[16], ms[16];
    pw_append_u64(count, 0, sizeof count, (uint64_t)leaked(me, cp, false));
    pw_append_u64(ms, 0, sizeof ms, timeout_ms);
    pw_warn("verify_none(", pw_cp_label, "): ", count,
            " thread(s) created since the checkpoint still alive after ", ms, " ms:", NULL);
    int n = leaked(me, cp, true);
    report_trace_hint();
    pw_tls.guard--;
    errno = err;
    return n > 0 ? n : 1;
}

/* ---- verify_at_exit */

/* T (not the exiting thread ME) is parked in an untimed wait that began no
 * later than BEFORE (pw_now time).  A join on the exiting thread is not
 * forever: the exit ends it. */
static bool parked_forever(const struct pw_thread_rec *t, uint32_t me, uint64_t before)
{
    if (PW_LOAD(&t->state) != PW_TS_ALIVE || t->serial == me)
        return false;
    uint32_t seq = PW_LOAD(&t->park_seq);
    uint16_t op = t->park_op, flags = t->park_flags;
    uint64_t obj = t->park_obj, since = t->park_since_ns;
    if ((seq & 1) || PW_LOAD(&t->park_seq) != seq)
        return false; /* changing right now: not parked forever */
    if (op == PW_OP_NONE || (flags & (PW_PARK_TIMED | PW_PARK_NONBLOCK)) || since > before)
        return false;
    return !(op == PW_OP_JOIN && obj == me);
}

static uint32_t count_forever(uint32_t me, uint64_t before, bool report)
{
    uint32_t n = 0, used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (!parked_forever(t, me, before))
            continue;
        n++;
        if (report)
            report_thread(t);
    }
    return n;
}

/* Registered with atexit at load time, before the C library registers the
 * loader's destructor pass, so it runs after every other atexit handler and
 * every ELF destructor (the program's and ours): last, just before the C
 * library flushes stdio and calls _exit with the program's status.  Nothing
 * of the host's own exit is skipped: we flush stdio as the library would
 * have, then _exit with 66.  A thread woken just before the exit may still
 * look parked: only threads whose park began before a short grace period and
 * did not change during it count (the check costs nothing without leaks). */
static void at_exit_check(void)
{
    if (pw_tf.hdr == NULL || PW_LOAD(&pw_proc->ready) != PW_READY_REC ||
        pw_proc->pid != (int32_t)getpid() || pw_tls.guard != 0)
        return; /* not recording, or a fork child the shim has not seen yet */
    pw_tls.guard++;
    uint32_t me = pw_tls.serial;
    uint64_t first = pw_now();
    if (count_forever(me, first, false) == 0) {
        pw_tls.guard--;
        return;
    }
    struct timespec grace = {0, PW_EXIT_GRACE_MS * 1000 * 1000};
    while (nanosleep(&grace, &grace) != 0 && errno == EINTR)
        ;
    uint32_t n = count_forever(me, first, false);
    if (n == 0) {
        pw_tls.guard--;
        return;
    }
    char count[16];
    pw_append_u64(count, 0, sizeof count, n);
    pw_warn("verify_at_exit: ", count, " thread(s) parked forever at exit; exit status 66:", NULL);
    count_forever(me, first, true);
    report_trace_hint();
    PW_STORE(&pw_tf.hdr->end_status, PW_EXIT_LEAK);
    /* Hazard: fflush(NULL) takes each stream's lock, where the library's own
     * exit-time flush does not; a thread parked while holding a stream lock
     * (flockfile) would hang us here.  Such a park is rare, and skipping the
     * flush would lose the program's buffered output every time. */
    fflush(NULL);
    _exit(PW_EXIT_LEAK);
}

/* Runs with the other constructors, before main; init itself is idempotent
 * (another library's constructor may have started it). */
__attribute__((constructor)) static void pw_api_init(void)
{
    if (pw_on() && pw_cfg.opt.verify_at_exit)
        atexit(at_exit_check);
}
