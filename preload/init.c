/* Lazy, idempotent initialisation, fork handling and the exit path.
 *
 * Every interposer calls pw_on(); the first call (from our constructor or from
 * another library's constructor that ran before ours: constructor order is not
 * guaranteed) initialises.  While the real-function table is being filled the
 * guard is up, so re-entrant calls (dlsym -> calloc -> an interposing
 * allocator -> our mutex wrapper) pass straight through. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "acts.h"
#include "chan.h"
#include "config.h"
#include "exitsnap.h"
#include "event.h"
#include "exec.h"
#include "fdtab.h"
#include "init.h"
#include "lockorder.h"
#include "modules.h"
#include "proc.h"
#include "real.h"
#include "shim.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"
#include "watchdog.h"

enum { PW_INIT_NONE, PW_INIT_RUNNING, PW_INIT_DONE };
static uint32_t pw_init_state;

/* The readiness word, in a page the kernel zeroes in a fork child. */
static void map_proc_page(void)
{
    struct pw_proc *p = pw_anon_map(sizeof *p < 4096 ? 4096 : sizeof *p);
    if (p == NULL)
        return;
    if (madvise(p, 4096, MADV_WIPEONFORK) != 0) {
        munmap(p, 4096); /* older kernel: only atfork handlers see forks */
        return;
    }
    pw_proc = p;
}

/* Trace, first thread, modules: once per process (and once per fork child). */
static void start_process(int32_t ppid, uint32_t thread_flags)
{
    pw_pid = (int32_t)syscall(SYS_getpid);
    pw_proc->pid = pw_pid;
    pw_mem_self(pw_pid);
    if (pw_trace_create(ppid) != 0) {
        PW_STORE(&pw_proc->ready, PW_READY_OFF);
        return;
    }
    if (pw_tf.hdr->exec_gen != 0 && !(thread_flags & PW_TF_FORKED))
        pw_chans_exec_inherit(pw_tf.hdr->exec_gen); /* channel fds kept across the exec */
    pw_register_self(thread_flags);
    pw_modules_refresh();
    if (pw_cfg.opt.verbose)
        pw_warn("recording to ", pw_tf.path, NULL);
}

static void at_exit_status(int status, void *arg);

static void init_first(void)
{
    pw_real_resolve();
    pw_config_load();
    map_proc_page();
    if (pw_fdtab_init() != 0 || pw_chans_init() != 0 || pw_threads_init() != 0) {
        pw_warn("out of memory at start; recording is off", NULL);
        PW_STORE(&pw_proc->ready, PW_READY_OFF);
        return;
    }
    pw_stack_warmup();
    pw_lockorder_init();
    pw_acts_init();
    start_process((int32_t)getppid(), 0);
    pthread_atfork(pw_fork_prepare, pw_fork_parent, pw_fork_child);
    on_exit(at_exit_status, NULL); /* fork children inherit it: see there */
    if (pw_tf.hdr != NULL)
        pw_watchdog_start(); /* before the host has threads: see watchdog.c */
    if (pw_tf.hdr != NULL)
        PW_STORE(&pw_proc->ready, PW_READY_REC);
}

static bool forked_child(void)
{
    /* initialised before, but the readiness page was wiped: a fork that did not
     * run our atfork handlers (_Fork, a raw clone) */
    return PW_LOAD(&pw_init_state) == PW_INIT_DONE && pw_proc != &pw_proc_boot;
}

bool pw_on_slow(void)
{
    if (pw_tls.guard != 0)
        return false;
    uint32_t r = PW_LOAD(&pw_proc->ready);
    if (r != PW_READY_NO)
        return r == PW_READY_REC;
    if (forked_child()) {
        pw_fork_child();
        return PW_LOAD(&pw_proc->ready) == PW_READY_REC;
    }
    uint32_t exp = PW_INIT_NONE;
    if (__atomic_compare_exchange_n(&pw_init_state, &exp, PW_INIT_RUNNING, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        pw_tls.guard++;
        init_first();
        pw_tls.guard--;
        PW_STORE(&pw_init_state, PW_INIT_DONE);
    } else {
        while (PW_LOAD(&pw_init_state) != PW_INIT_DONE)
            sched_yield(); /* another thread is initialising: it is quick */
    }
    return PW_LOAD(&pw_proc->ready) == PW_READY_REC;
}

/* ---- fork */

/* The forking thread's held set when it forked.  Taken before the fork: the
 * parent's record lives in the shared trace, and the parent may unlock and
 * pop before the child reads it.  Guarded by the modules lock, held from
 * prepare to the parent and child handlers, so concurrent forks queue. */
static struct {
    uint32_t n, overflow;
    uint64_t held[PW_HELD_MAX];
    uint8_t type[PW_HELD_MAX];
} fork_held;

void pw_fork_prepare(void)
{
    pw_modules_lock(); /* the only shim lock: never inherited held */
    struct pw_thread_rec *t = pw_tls.rec;
    fork_held.n = t != NULL ? t->nheld : 0;
    if (t != NULL) {
        fork_held.overflow = t->held_overflow;
        memcpy(fork_held.held, t->held, sizeof fork_held.held);
        memcpy(fork_held.type, t->held_type, sizeof fork_held.type);
    }
}

void pw_fork_parent(void)
{
    fork_held.n = 0;
    pw_modules_unlock();
}

/* The forking thread still holds, in the child, what it held in the parent
 * (a lock taken around fork and released on both sides is no misuse).  Only
 * after the atfork handlers (fork_held); a fork that skipped them (_Fork, a
 * raw clone) starts empty. */
static void inherit_held(struct pw_thread_rec *t)
{
    memcpy(t->held, fork_held.held, sizeof t->held);
    memcpy(t->held_type, fork_held.type, sizeof t->held_type);
    t->held_overflow = fork_held.overflow;
    PW_STORE_RELAXED(&t->nheld, fork_held.n);
    fork_held.n = 0;
}

/* In the child: the same thread, a new process.  It must never write into the
 * parent's mapping again; it gets its own trace, where the forking thread is
 * the main thread (PW_TF_FORKED) and the channels still open are inherited. */
void pw_fork_child(void)
{
    pw_modules_unlock();
    int32_t pid = (int32_t)syscall(SYS_getpid);
    if (pw_pid == pid && PW_LOAD(&pw_proc->ready) != PW_READY_NO)
        return; /* already done (lazy path ran first) */
    struct pw_trace_header *old = pw_tf.hdr;
    char *old_base = pw_tf.base;
    uint64_t old_size = pw_tf.size;
    int32_t ppid = pw_pid;
    if (old == NULL) {
        /* the parent could not record (it already said why): neither do we */
        pw_pid = pid;
        PW_STORE(&pw_proc->ready, PW_READY_OFF);
        return;
    }
    char name[PW_THREAD_NAME_MAX] = {0};
    if (pw_tls.rec != NULL)
        memcpy(name, pw_tls.rec->name, sizeof name - 1);
    pw_tls.guard++;
    pw_stack_after_fork();
    pw_trace_detach();
    pw_tls.rec = NULL;
    pw_tls.state = PW_TLS_NEW;
    pw_tls.serial = 0;
    pw_tls.last_cond = 0;
    pw_threads_reset_private();
    start_process(ppid, PW_TF_FORKED);
    if (pw_tf.hdr != NULL) {
        if (old != NULL)
            pw_chans_inherit(old, old_base);
        if (pw_tls.rec != NULL && name[0] != '\0')
            memcpy(pw_tls.rec->name, name, sizeof name);
        if (pw_tls.rec != NULL)
            inherit_held(pw_tls.rec);
        struct pw_event ev = {.kind = PW_EV_FORK, .op = PW_FORK_CHILD, .arg = (uint64_t)ppid};
        pw_emit(pw_self(), &ev);
        PW_STORE(&pw_proc->ready, PW_READY_REC);
    }
    if (old_base != NULL)
        munmap(old_base, old_size);
    pw_tls.guard--;
}

/* ---- life cycle */

__attribute__((constructor)) static void pw_ctor(void)
{
    pw_on();
}

/* The process ends: say so in the header, with STATUS (-1: not known yet).
 * Only by the process whose trace it is: a vfork child runs in our memory and
 * a fork that skipped the atfork handlers still has the parent's mapping. */
static void process_end(int status)
{
    struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL || PW_LOAD(&pw_proc->ready) != PW_READY_REC ||
        pw_proc->pid != (int32_t)syscall(SYS_getpid) || PW_LOAD(&h->end_kind) != PW_END_RUNNING)
        return;
    pw_tls.guard++;
    /* before the end is marked: a watcher reading the trace meanwhile still
     * sees a live process, and the snapshot sees every thread where it was */
    pw_exit_snapshot();
    h->end_status = status;
    h->end_ns = pw_now();
    struct pw_event ev = {.kind = PW_EV_PROC_END, .op = PW_END_EXIT, .result = status};
    pw_note(&ev);
    PW_STORE(&h->end_kind, PW_END_EXIT);
    pw_tls.guard--;
}

/* Normal exit: say so in the header.  Signals and SIGKILL skip this and
 * leave end_kind RUNNING; `parkwatch run` patches the real status after
 * waitpid, and a reader can tell a dead pid by proc_start_ticks.  The status
 * is not known here (destructors get none): at_exit_status fills it in. */
__attribute__((destructor)) static void pw_dtor(void)
{
    process_end(-1);
}

void pw_process_exit(int status)
{
    int err = errno;
    process_end(status & 0xff); /* what the parent's wait sees */
    errno = err;
}

/* exit()'s status, also for a return from main (the C library calls exit with
 * it), without interposing exit: an on_exit handler registered at our init.
 * That is before the C library registers the loader's destructor pass, so it
 * runs after it, pw_dtor included: it only fills in the status pw_dtor left
 * unknown (verify_at_exit's handler, registered later, ran before and may
 * already have set its own status and never come back).  A fork child
 * inherits the handler with its own trace; one the shim has not seen yet (a
 * fork that skipped the atfork handlers) still has the parent's mapping:
 * hands off.  _exit and signals run no handler; the status stays -1. */
static void at_exit_status(int status, void *arg)
{
    (void)arg;
    struct pw_trace_header *h = pw_tf.hdr;
    if (h == NULL || pw_proc->pid != (int32_t)syscall(SYS_getpid) ||
        PW_LOAD(&h->end_kind) != PW_END_EXIT || PW_LOAD(&h->end_status) != -1)
        return;
    PW_STORE(&h->end_status, status & 0xff); /* what the parent's wait sees */
}
