/* The finding model: what detectors produce and every report writer consumes.
 * One X-macro list of finding kinds drives the detectors, --fail-on parsing,
 * the text, JSON and SARIF writers and --help, so they cannot disagree. */
#ifndef PW_FINDING_H
#define PW_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_process;
struct pw_thread;
struct pw_object;
struct pw_model;

/* NOTE: a finding kept for the record (a robust mutex recovered after its
 * owner died): reported, never counted as an error or warning, never fails. */
enum pw_severity { PW_SEV_ERROR, PW_SEV_WARNING, PW_SEV_NOTE };

static inline const char *pw_severity_name(enum pw_severity s)
{
    return s == PW_SEV_ERROR ? "error" : s == PW_SEV_WARNING ? "warning" : "note";
}

/* X(enum suffix, kind string, default severity, short description, hint).
 * Kinds are facts, not exclusive buckets: every detector reports what its
 * definition covers, whatever other findings say about the same threads.  The
 * order is the detectors' (and the report's) order: the findings that explain
 * (a cycle, a channel never closed) come before the leaks they explain, which
 * then name them as their cause instead of repeating their stacks. */
#define PW_FINDING_KINDS(X)                                                                        \
    X(DEADLOCK, "deadlock", PW_SEV_ERROR,                                                          \
      "a cycle in the wait-for graph: each thread waits for an object only the next one can "      \
      "release",                                                                                   \
      "take the locks in one global order, or release one before waiting for the other")           \
    X(ALL_BLOCKED, "all-threads-blocked", PW_SEV_ERROR,                                            \
      "every thread parked forever on in-process objects",                                         \
      "nothing inside the process can wake any thread: find the missing signal, unlock or "        \
      "close in the chain below")                                                                  \
    X(LOCK_ORDER, "lock-order-inversion", PW_SEV_ERROR,                                            \
      "locks taken in conflicting orders (by different threads, or by one thread at different "    \
      "times): a potential deadlock",                                                              \
      "always acquire these locks in the same order")                                              \
    X(CHAN_NEVER_CLOSED, "channel-never-closed", PW_SEV_ERROR,                                     \
      "receivers parked on a channel whose send side was never closed",                            \
      "close the write end when the producer is done so readers see EOF")                          \
    X(THREAD_LEAK, "thread-leak", PW_SEV_ERROR,                                                    \
      "a thread still parked forever when the process exited",                                     \
      "make sure every thread is woken and joined before exit (close its channel, signal "         \
      "its condition, unlock its mutex)")                                                          \
    X(SEND_ON_CLOSED, "send-on-closed", PW_SEV_ERROR,                                              \
      "a send into a channel whose receive side is closed (EPIPE / SIGPIPE)",                      \
      "stop the producer before closing the read end, or check for EPIPE")                         \
    X(DOUBLE_CLOSE, "double-close", PW_SEV_ERROR, "close of a channel fd that is already closed",  \
      "close each fd exactly once; set the variable to -1 after closing it")                       \
    X(CLOSE_WHILE_BLOCKED, "close-while-blocked", PW_SEV_ERROR,                                    \
      "a channel fd closed while another thread is parked on it",                                  \
      "on Linux the parked thread stays blocked: close the other end (or shut down) to wake "      \
      "it first")                                                                                  \
    X(LOCK_HELD_BY_EXITED, "lock-held-by-exited-thread", PW_SEV_ERROR,                             \
      "a thread ended while holding a lock",                                                       \
      "unlock on every return path of the thread (use a cleanup handler for cancellation)")        \
    X(LOCK_MISUSE, "lock-misuse", PW_SEV_ERROR,                                                    \
      "unlock of a lock the thread does not hold, destroy of a locked mutex or busy cond, use of " \
      "a destroyed lock, relock of a held rwlock write side, a cond waited with a mutex not held " \
      "or with two mutexes",                                                                       \
      "unlock only what the thread locked, destroy a lock or cond only when nobody uses it, and "  \
      "wait on a cond with the one mutex that guards it, held")                                    \
    X(CHAN_UNREAD, "channel-unread-data", PW_SEV_WARNING,                                          \
      "bytes or messages sent into a channel and never received",                                  \
      "drain the channel before exit, or stop sending when nobody will read")                      \
    X(UNJOINED, "unjoined-thread", PW_SEV_WARNING,                                                 \
      "a joinable thread finished and was never joined", "join the thread, or create it detached") \
    X(FD_LEAK, "fd-leak", PW_SEV_WARNING, "a channel fd still open at exit, nobody parked on it",  \
      "close the channel's fds when done with them")

enum pw_finding_kind {
#define PW_X(e, s, sev, d, h) PW_FK_##e,
    PW_FINDING_KINDS(PW_X)
#undef PW_X
        PW_FK__COUNT
};

const char *pw_finding_kind_name(enum pw_finding_kind k);
enum pw_severity pw_finding_severity(enum pw_finding_kind k);
const char *pw_finding_description(enum pw_finding_kind k);
const char *pw_finding_hint(enum pw_finding_kind k);
/* Kind by name, or -1. */
int pw_finding_kind_parse(const char *name);

/* What a thread does in a finding: X(enum suffix, name in the reports).
 * Writers choose their words by role; JSON prints the name (null for NONE). */
#define PW_ROLES(X)                                                                     \
    X(PARKED, "parked")     /* parked on the finding's object: its park stack */        \
    X(MISUSE, "misuse")     /* closed again, sent into a closed channel, ...: there */  \
    X(EXITED, "exited")     /* ended, holding a lock or never joined: its exit stack */ \
    X(ACQUIRES, "acquires") /* took locks of a lock-order cycle: both stacks */

enum pw_role {
    PW_ROLE_NONE, /* no role: the thread as it is (the live dump) */
#define PW_X(e, s) PW_ROLE_##e,
    PW_ROLES(PW_X)
#undef PW_X
};

/* The role's name; NULL for PW_ROLE_NONE. */
static inline const char *pw_role_name(enum pw_role r)
{
    static const char *const names[] = {NULL,
#define PW_X(e, s) s,
                                        PW_ROLES(PW_X)
#undef PW_X
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : NULL;
}

/* A thread as it appears in a finding. */
struct pw_fthread {
    struct pw_thread *t; /* model thread (name, tid, status, stacks) */
    enum pw_role role;
    uint32_t stack;  /* the stack that matters here (park, misuse, exit site) */
    uint32_t stack2; /* a second stack (e.g. where A was taken), 0 if none */
    /* PW_ROLE_ACQUIRES: the lock taken at STACK while holding LOCK2, taken at
     * STACK2 (one lock-order edge, TSan's "acquired here while holding") */
    struct pw_object *lock, *lock2;
};

/* An object as it appears in a finding. */
struct pw_fobject {
    struct pw_object *o;
    uint32_t stack;          /* creation / first-use / close site, 0 if unknown */
    const char *stack_label; /* "created at", "closed at", ... */
};

/* A lock held in a finding: who holds it and where it took it (lockdep's
 * acquire_ip; JSON's locks_held). */
struct pw_fheld {
    struct pw_object *o;
    struct pw_thread *t;
    uint32_t stack; /* where T took O (whole stack or its call site), 0 unknown */
};

/* Who sent into a channel last, and where (the data never received, the
 * sender a receiver waits for; JSON's last_send). */
struct pw_fsend {
    struct pw_object *o;
    struct pw_thread *t; /* NULL if the trace lost the thread */
    uint32_t stack;
};

/* One link of a blocked chain: THREAD waits on OBJECT (op), which is blocked by
 * the BLOCKED_BY threads.  The last link carries the root cause in TEXT. */
struct pw_link {
    struct pw_thread *t; /* NULL for a root that is not a thread */
    struct pw_object *o;
    int op; /* enum pw_park_op */
    size_t nblocked_by;
    struct pw_thread **blocked_by;
    char *text; /* "worker (pipe-read pipe#3) -> write end held by main, ..." */
};

struct pw_finding {
    enum pw_finding_kind kind;
    enum pw_severity severity; /* the kind's default, or lower where SPEC says so */
    struct pw_process *proc;
    /* 1, 2, ... in report order over the findings that are not suppressed (0
     * for a suppressed one): the same number in every format of one report */
    unsigned id;
    /* findings sharing evidence with this one (a thread, an object), in report
     * order; writers leave out the suppressed ones */
    size_t nrelated;
    struct pw_finding **related;
    /* a finding among related that explains every thread of this one (the
     * channel-never-closed or deadlock behind a thread-leak): the text report
     * names it instead of repeating the stacks it shows; NULL if none */
    struct pw_finding *cause;
    char *note;    /* a remark on the severity or the evidence, NULL if none */
    char *message; /* one-line headline in plain words */
    size_t count;  /* identical occurrences grouped here */
    size_t nthreads, nobjects, nchain, nheld;
    struct pw_fthread *threads;
    struct pw_fobject *objects;
    struct pw_fheld *held; /* locks the finding's threads hold, with their sites */
    size_t nsends;
    struct pw_fsend *sends; /* the last send into the finding's channels */
    struct pw_link *chain;
    char *chain_text;       /* the whole chain on one line, NULL if none */
    char *reason;           /* the root cause as a headline phrase, NULL if none */
    bool suppressed;        /* matched a suppression rule */
    bool abandoned_at_exit; /* parked threads abandoned by an orderly exit */
    bool oom;               /* something could not be stored: the finding is incomplete */
};

struct pw_findings {
    size_t n, cap;
    struct pw_finding **v;
    bool oom; /* a finding could not be added */
};

/* Constructors.  Out-of-memory (diag.h): they return NULL or -1 and mark the
 * list (fs->oom) or the finding (f->oom), which pw_findings_status reports;
 * a caller may stop at the first failure or carry on, the result is the same. */
struct pw_finding *pw_finding_new(struct pw_findings *fs, enum pw_finding_kind kind,
                                  struct pw_process *p);
int pw_finding_add_thread(struct pw_finding *f, struct pw_thread *t, enum pw_role role,
                          uint32_t stack, uint32_t stack2);
int pw_finding_add_object(struct pw_finding *f, struct pw_object *o, uint32_t stack,
                          const char *label);
/* T holds lock O, taken at STACK (0 unknown); once per (O, T). */
int pw_finding_add_held(struct pw_finding *f, struct pw_object *o, struct pw_thread *t,
                        uint32_t stack);
/* The same for lock O as T's held set knows it (its site, if known); nothing
 * if T does not hold O. */
int pw_finding_add_holder(struct pw_finding *f, struct pw_object *o, struct pw_thread *t);
/* The last send into channel O, if the trace knows it; once per channel. */
int pw_finding_add_last_send(struct pw_finding *f, struct pw_object *o);
void pw_finding_set_message(struct pw_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct pw_link *pw_finding_add_link(struct pw_finding *f);
int pw_link_add_blocker(struct pw_finding *f, struct pw_link *l, struct pw_thread *t);
/* 0, or -1 if anything could not be stored (out of memory). */
int pw_findings_status(const struct pw_findings *fs);
void pw_findings_free(struct pw_findings *fs);
/* Drops the most recently added finding. */
void pw_findings_pop(struct pw_findings *fs);

/* Blocked chain of a parked thread (chain.c): fills f->chain and f->chain_text,
 * following who could wake T until a root (an exited, running or externally
 * parked thread, a missing signaller, or a cycle).  Returns the root's reason as
 * a short phrase for headlines ("whose write end was never closed"), owned by F. */
const char *pw_chain_build(struct pw_finding *f, struct pw_thread *t);

/* The headline of a lock-held-by-exited-thread finding F, with the lock's
 * symbol SYM ("&stats_mu") and the site where it was taken SITE
 * ("leaky_update (pool.c:42)"), each NULL when unknown (detect.c). */
void pw_held_exit_message(struct pw_finding *f, const char *sym, const char *site);

void pw_finding_set_note(struct pw_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Links A and B as related (both ways, once). */
int pw_finding_relate(struct pw_finding *a, struct pw_finding *b);
/* Numbers the findings that are not suppressed 1, 2, ... (f->id), after the
 * suppressions were applied. */
void pw_findings_number(struct pw_findings *fs);

/* Runs every detector over the model and appends findings to FS (grouped),
 * then links the findings that share evidence (related, cause).  Returns 0,
 * or -1 when out of memory (FS is then incomplete: write no report). */
int pw_detect_all(struct pw_model *m, struct pw_findings *fs);

#endif
