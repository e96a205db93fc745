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
 * Reports go to stderr.  The shim never symbolizes, but a verify call is made
 * by the test author at a quiet point, so there it runs the CLI, `parkwatch
 * threads --pid <us> T<n>...` (cmd_threads.c), which reads our live trace and
 * prints the leaked threads as the report does: functions, file:line, the
 * objects' symbols.  It runs as a raw clone child (no SIGCHLD, invisible to
 * the host's wait, no atfork handler), with stdout pointed at our stderr and
 * no other fd of ours, and is waited for; errno is kept.  Without the CLI
 * (not beside the shim, nor parkwatch_bin=), or if it fails, the shim prints
 * what it knows cheaply itself: each thread's serial, name and tid, what it
 * is parked in and on what, for how long, and its park stack as module+offset,
 * then the one command that symbolizes them.
 *
 * The ignore list is goleak's: parkwatch_ignore_current() ignores every thread
 * alive at the call (serials up to the last one handed out: a thread that
 * ended cannot leak later), parkwatch_ignore_top_function(glob) every thread
 * whose park stack's innermost frame is in that function.  The shim matches
 * that frame against exported symbols itself (dladdr); the CLI matches it
 * from the debug info, and the threads it finds so are remembered as
 * ignored, so that the next verify does not wait for them again. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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
#include "watchdog.h"

#define PW_EXIT_LEAK 66     /* verify_at_exit's status, as `parkwatch run`'s */
#define PW_REPORT_FRAMES 8u /* park stack frames printed per thread */
#define PW_EXIT_GRACE_MS 50 /* see at_exit_check */
#define PW_IGNORE_FUNCS 32  /* ignore_top_function names */
#define PW_IGNORE_NAME 128
#define PW_IGNORED_MAX 256   /* threads the CLI found parked in an ignored function */
#define PW_CLI_THREADS 128   /* threads named to the CLI per report */
#define PW_CLI_WAIT_MS 60000 /* then the CLI is killed and the shim reports alone */
#define PW_MAX_ENV 512

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
    /* without a checkpoint (cp 0) ME is above cp: stop at it, not at the root */
    for (int depth = 0; depth < 1024 && s > cp && s != me; depth++) {
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
    /* named as the reports name threads (analyzer/model pw_thread_rec_name):
     * the main thread is 'main'; a name only inherited from the program says
     * nothing and is left out */
    char name[PW_THREAD_NAME_MAX];
    pw_strlcpy(name, t->flags & PW_TF_MAIN ? "main" : t->name, sizeof name);
    if (!(t->flags & PW_TF_MAIN) &&
        strncmp(name, program_invocation_short_name, PW_THREAD_NAME_MAX - 1) == 0)
        name[0] = '\0';
    if (name[0] != '\0') {
        n = pw_append(line, n, sizeof line, " '");
        n = pw_append(line, n, sizeof line, name);
        n = pw_append(line, n, sizeof line, "'");
    }
    n = pw_append(line, n, sizeof line, " tid ");
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

/* ---- the ignore list.  Slots are claimed with an atomic counter and
 * published with a flag, so test cases in parallel threads may add to it
 * while others verify; entries are never removed. */

static struct {
    uint32_t claimed;
    uint8_t ready[PW_IGNORE_FUNCS];
    char name[PW_IGNORE_FUNCS][PW_IGNORE_NAME];
} pw_ign_fn;
static uint32_t pw_ign_upto; /* ignore_current: serials up to this one */
static struct {
    uint32_t claimed;
    uint32_t serial[PW_IGNORED_MAX]; /* 0 until published */
} pw_ign_seen;

PW_EXPORT int parkwatch_impl_ignore_top_function(const char *name)
{
    if (!pw_on() || name == NULL || name[0] == '\0')
        return -1;
    uint32_t i = __atomic_fetch_add(&pw_ign_fn.claimed, 1, __ATOMIC_ACQ_REL);
    if (i >= PW_IGNORE_FUNCS)
        return -1;
    pw_strlcpy(pw_ign_fn.name[i], name, PW_IGNORE_NAME);
    PW_STORE(&pw_ign_fn.ready[i], 1);
    return 0;
}

PW_EXPORT int parkwatch_impl_ignore_current(void)
{
    if (!pw_on())
        return -1;
    uint32_t now = PW_LOAD(&pw_tf.hdr->next_serial), old = PW_LOAD(&pw_ign_upto);
    while (old < now && !__atomic_compare_exchange_n(&pw_ign_upto, &old, now, false,
                                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
    /* the report leaves them out of thread-leak too: marked in their records
     * (flags are only ever or-ed in, atomically) */
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (PW_LOAD(&t->state) != PW_TS_ALIVE || t->serial > now)
            continue;
        PW_OR(&t->flags, PW_TF_IGNORED);
        if (PW_LOAD(&t->serial) > now) /* the slot went to a new thread meanwhile */
            __atomic_and_fetch(&t->flags, ~PW_TF_IGNORED, __ATOMIC_ACQ_REL);
    }
    return 0;
}

static uint32_t ignore_fns(void)
{
    uint32_t n = PW_LOAD(&pw_ign_fn.claimed);
    return n < PW_IGNORE_FUNCS ? n : PW_IGNORE_FUNCS;
}

static void remember_ignored(uint32_t serial)
{
    uint32_t i = __atomic_fetch_add(&pw_ign_seen.claimed, 1, __ATOMIC_ACQ_REL);
    if (i < PW_IGNORED_MAX)
        PW_STORE(&pw_ign_seen.serial[i], serial);
}

/* The innermost frame of T's park stack, 0 if it is not parked. */
static uint64_t top_pc(const struct pw_thread_rec *t)
{
    uint32_t seq = PW_LOAD(&t->park_seq);
    uint16_t op = t->park_op;
    uint32_t stack = t->park_stack;
    if ((seq & 1) || PW_LOAD(&t->park_seq) != seq || op == PW_OP_NONE || op >= PW_OP__COUNT)
        return 0;
    const struct pw_stack_rec *r = pw_depot_get(&pw_tf.depot, stack);
    return r != NULL && r->nframes > 0 ? r->pcs[0] : 0;
}

/* PC is in an exported function named by the ignore list.  dladdr names the
 * nearest exported symbol below PC, so its size must cover PC: a static
 * function right after an exported one is not that one. */
static bool exported_match(uint64_t pc, uint32_t nfns)
{
    Dl_info di;
    const ElfW(Sym) *sym = NULL;
    void *at = (void *)(uintptr_t)(pc - 1); /* a return address: the call is before it */
    if (pc == 0 || dladdr1(at, &di, (void **)&sym, RTLD_DL_SYMENT) == 0 || di.dli_sname == NULL ||
        sym == NULL || (uintptr_t)at >= (uintptr_t)di.dli_saddr + sym->st_size)
        return false;
    for (uint32_t i = 0; i < nfns; i++)
        if (PW_LOAD(&pw_ign_fn.ready[i]) && fnmatch(pw_ign_fn.name[i], di.dli_sname, 0) == 0)
            return true;
    return false;
}

static bool ignored(const struct pw_thread_rec *t)
{
    if (t->serial <= PW_LOAD(&pw_ign_upto))
        return true;
    uint32_t seen = PW_LOAD(&pw_ign_seen.claimed);
    for (uint32_t i = 0; i < seen && i < PW_IGNORED_MAX; i++)
        if (PW_LOAD(&pw_ign_seen.serial[i]) == t->serial)
            return true;
    uint32_t nfns = ignore_fns();
    return nfns != 0 && exported_match(top_pc(t), nfns);
}

/* ---- symbolized reports through the CLI */

extern char **environ;

/* Runs `parkwatch threads --pid <us> [--ignore-top F]... --header HEADER
 * T<n>...` for SERIALS[0..N).  1 when it listed threads, 0 when every one was
 * ignored, -1 when there is no CLI or it failed (then it printed nothing). */
static int cli_threads(const char *header, const uint32_t *serials, size_t n)
{
    char cli[PATH_MAX], pid_s[24], ser[PW_CLI_THREADS][16];
    char *argv[8 + 2 * PW_IGNORE_FUNCS + PW_CLI_THREADS + 1], *envp[PW_MAX_ENV + 1];
    if (!pw_cli_find(cli, sizeof cli))
        return -1;
    size_t a = 0, e = 0;
    argv[a++] = cli;
    argv[a++] = "threads";
    argv[a++] = "--pid";
    pw_append_u64(pid_s, 0, sizeof pid_s, (uint64_t)getpid());
    argv[a++] = pid_s;
    for (uint32_t i = 0, k = ignore_fns(); i < k; i++)
        if (PW_LOAD(&pw_ign_fn.ready[i])) {
            argv[a++] = "--ignore-top";
            argv[a++] = pw_ign_fn.name[i];
        }
    argv[a++] = "--header";
    argv[a++] = (char *)header;
    for (size_t i = 0; i < n && i < PW_CLI_THREADS; i++) {
        size_t k = pw_append(ser[i], 0, sizeof ser[i], "T");
        pw_append_u64(ser[i], k, sizeof ser[i], serials[i]);
        argv[a++] = ser[i];
    }
    argv[a] = NULL;
    for (char **v = environ; v != NULL && *v != NULL && e < PW_MAX_ENV; v++)
        if (strncmp(*v, "LD_PRELOAD=", 11) != 0)
            envp[e++] = *v;
    envp[e] = NULL;
    /* a hung symbolizer must not hang the test */
    int st = pw_cli_run(cli, argv, envp, 2, PW_CLI_WAIT_MS, false);
    if (st < 0 || st > 1)
        return -1;
    return st == 0 ? 1 : 0;
}

/* Each of the N threads SERIALS is left alive: report them under HEADER
 * ("{n}" is their number), symbolized when the CLI can, else raw.  Returns
 * how many are left once the CLI's ignore matching is applied (those it
 * found ignored are remembered). */
static size_t report_left(const char *header, const uint32_t *serials, size_t n)
{
    int cli = cli_threads(header, serials, n);
    if (cli == 0) {
        for (size_t i = 0; i < n && i < PW_CLI_THREADS; i++)
            remember_ignored(serials[i]);
        return 0;
    }
    if (cli > 0) {
        pw_warn("  full report: parkwatch report ", pw_tf.path, NULL);
        return n;
    }
    char count[16], line[512];
    pw_append_u64(count, 0, sizeof count, n);
    const char *at = strstr(header, "{n}");
    size_t k = pw_append(line, 0, sizeof line, header);
    if (at != NULL) {
        k = (size_t)(at - header) < sizeof line ? (size_t)(at - header) : sizeof line - 1;
        line[k] = '\0';
        k = pw_append(line, k, sizeof line, count);
        k = pw_append(line, k, sizeof line, at + 3);
    }
    /* the header names itself "parkwatch: ...", as pw_warn does */
    line[k < sizeof line - 1 ? k : sizeof line - 2] = '\n';
    if (syscall(SYS_write, 2, line, k < sizeof line - 1 ? k + 1 : sizeof line - 1) < 0)
        return n;
    for (size_t i = 0; i < n; i++) {
        const struct pw_thread_rec *t = by_serial(serials[i]);
        if (t != NULL)
            report_thread(t);
    }
    /* the one command that prints the same threads symbolized */
    k = pw_append(line, 0, sizeof line, "  symbolized: parkwatch threads ");
    k = pw_append(line, k, sizeof line, pw_tf.path);
    for (size_t i = 0; i < n && i < 16; i++) {
        k = pw_append(line, k, sizeof line, " T");
        k = pw_append_u64(line, k, sizeof line, serials[i]);
    }
    pw_warn(line, NULL);
    return n;
}

/* Reports of concurrent verify calls do not interleave (an internal flag,
 * never a lock of the host's). */
static uint32_t pw_report_busy;

static void report_begin(void)
{
    struct timespec step = {0, 1000 * 1000};
    while (__atomic_exchange_n(&pw_report_busy, 1, __ATOMIC_ACQUIRE) != 0)
        nanosleep(&step, NULL);
}

static void report_end(void)
{
    __atomic_store_n(&pw_report_busy, 0, __ATOMIC_RELEASE);
}

/* ---- verify_none */

/* Live descendants not ignored, into OUT (up to CAP); returns how many. */
static size_t leaked(uint32_t me, uint32_t cp, uint32_t *out, size_t cap)
{
    size_t n = 0;
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (PW_LOAD(&t->state) != PW_TS_ALIVE || t->serial <= cp || !descends(t, me, cp) ||
            ignored(t))
            continue;
        if (n < cap)
            out[n] = t->serial;
        n++;
    }
    return n;
}

PW_EXPORT int parkwatch_impl_verify_none(unsigned timeout_ms)
{
    if (!pw_on() || pw_self() == NULL)
        return 0;
    int err = errno;
    uint32_t me = pw_tls.serial, cp = pw_cp_serial, left[PW_CLI_THREADS];
    struct timespec step = {0, 5 * 1000 * 1000};
    pw_tls.guard++; /* dladdr and fnmatch may lock and allocate: not recorded */
    size_t n;
    for (unsigned waited = 0;; waited += 5) {
        if ((n = leaked(me, cp, left, PW_CLI_THREADS)) == 0)
            goto out;
        if (waited >= timeout_ms)
            break;
        nanosleep(&step, NULL);
    }
    char ms[16], header[160];
    pw_append_u64(ms, 0, sizeof ms, timeout_ms);
    size_t k = pw_append(header, 0, sizeof header, "parkwatch: verify_none(");
    k = pw_append(header, k, sizeof header, pw_cp_label);
    k = pw_append(header, k, sizeof header, "): {n} thread(s) created since the checkpoint ");
    k = pw_append(header, k, sizeof header, "still alive after ");
    k = pw_append(header, k, sizeof header, ms);
    pw_append(header, k, sizeof header, " ms:");
    report_begin();
    n = report_left(header, left, n < PW_CLI_THREADS ? n : PW_CLI_THREADS);
    report_end();
out:
    pw_tls.guard--;
    errno = err;
    return n > INT_MAX ? INT_MAX : (int)n;
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
    return !(op == PW_OP_JOIN && obj == me) && !ignored(t);
}

static size_t count_forever(uint32_t me, uint64_t before, uint32_t *out, size_t cap)
{
    size_t n = 0;
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (!parked_forever(t, me, before))
            continue;
        if (n < cap)
            out[n] = t->serial;
        n++;
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
    uint32_t me = pw_tls.serial, left[PW_CLI_THREADS];
    uint64_t first = pw_now();
    if (count_forever(me, first, left, PW_CLI_THREADS) == 0) {
        pw_tls.guard--;
        return;
    }
    struct timespec grace = {0, PW_EXIT_GRACE_MS * 1000 * 1000};
    while (nanosleep(&grace, &grace) != 0 && errno == EINTR)
        ;
    size_t n = count_forever(me, first, left, PW_CLI_THREADS);
    if (n == 0 || report_left("parkwatch: verify_at_exit: {n} thread(s) parked forever at exit; "
                              "exit status 66:",
                              left, n < PW_CLI_THREADS ? n : PW_CLI_THREADS) == 0) {
        pw_tls.guard--;
        return;
    }
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
