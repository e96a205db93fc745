/* Replay model: one process per trace, rebuilt from the current-state area (right
 * even when rings wrapped) and completed with the events still in the rings
 * (who signalled which cond, who sent on which channel, forks) and with the
 * notes (misuse, lock-order edges, lock generations).  Everything the detectors
 * and the report writers judge is here: below the commands, only model.c
 * (through reader.h) reads the trace's records, and what a park op means comes
 * from the columns of PW_PARK_OPS (parkwatch/ops.h).  Above it, dump prints the
 * records raw; run and watch patch a trace's end or probe a live one's thread
 * slots without building a model through probe.h, which sits here beside the
 * reader, so no command reads a trace struct.  The trace handle (struct pw_trace)
 * is kept for what the reader serves opaquely: stacks, the path, argv and
 * event counts. */
#ifndef PW_MODEL_H
#define PW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkwatch/trace.h"

struct pw_trace;
struct pw_process;
struct pw_object;
struct pw_ktask;
struct pw_ktasks;

enum pw_thread_status { PW_THR_RUNNING, PW_THR_PARKED, PW_THR_EXITED };

/* A thread: an entry per claimed thread slot.
 * Invariant: status == PW_THR_PARKED iff op != PW_OP_NONE; waits_on is then the
 * object it parks on (never NULL). */
struct pw_thread {
    struct pw_process *proc;
    uint32_t serial;
    int tid;
    char name[24]; /* pthread name, "main", or "T<serial>" */
    enum pw_thread_status status;
    bool forever; /* parked in an untimed wait at the end of a finished process */
    enum pw_park_op op;
    struct pw_object *waits_on;
    bool waits_read;     /* parked to take waits_on (an rwlock) for reading */
    uint64_t since_ms;   /* how long parked at the end of the trace */
    uint32_t park_flags; /* PW_PARK_* of the park (timed, non-blocking, outside) */
    int park_fd;         /* the fd a channel park waits on, -1 if none (poll sets) */
    uint32_t park_stack;
    uint32_t create_stack;
    uint32_t exit_stack; /* where it exited: pthread_exit's stack, or for a return
                          * (returned) its start routine as one frame; 0 unknown */
    uint64_t parks;      /* number of parks so far (changes while it runs) */
    struct pw_thread *parent;
    size_t nheld;
    struct pw_object **held; /* locks held (only those mirrored in the file) */
    bool *held_read;         /* held[i] is an rwlock held for reading */
    uint32_t *held_site;     /* where held[i] was taken (stack id), 0 unknown: known
                              * for a thread parked or exited at the end */
    uint64_t park_since_ns;  /* when the park began (ns since the process start) */
    uint64_t wait_mutex;     /* a cond wait: the mutex it released (address), 0 if none */
    /* a cond wait woken (a signal or broadcast made under its mutex after the
     * wait began) and still parked: it is re-taking this mutex, so it waits for
     * the mutex's holder like a mutex-lock park; NULL otherwise */
    struct pw_object *reacquires;
    bool joined, detached, is_main, adopted, held_at_exit;
    bool ignored;  /* the program called parkwatch_ignore_current() while it lived */
    bool returned; /* ended by returning from its start routine */
    /* The kernel's view of this thread at the end (the tasks file written at
     * exit, ktasks.h), NULL if none was taken. */
    const struct pw_ktask *ktask;
    /* Alive at the end of a finished process, parked on no object the trace
     * knows, and not the thread that ended it: whatever it waited for was not
     * followed, so no finding can speak for it (see pw_thread_view). */
    bool unfollowed;
};

/* What a thread was doing at the end of the trace, as the reports name it:
 * X(enum suffix, name).  Without the kernel's word a thread that is not
 * parked is UNKNOWN, never "running" by default. */
#define PW_THREAD_STATES(X)                                                               \
    X(PARKED, "parked") /* parked on a known object */                                    \
    X(EXITED, "exited")                                                                   \
    X(RUNNING, "running") /* the kernel said so (running, or the thread that ended it) */ \
    X(BLOCKED, "blocked") /* asleep in a system call the shim does not model */           \
    X(UNKNOWN, "unknown")

enum pw_thread_view {
#define PW_X(e, s) PW_TSTATE_##e,
    PW_THREAD_STATES(PW_X)
#undef PW_X
};

/* The one naming rule for threads, shared by dump and every report: the main
 * thread is "main" (its recorded name is the program's); another thread is its
 * pthread name, unless that is only the program's name it inherited (it then
 * says nothing about the thread); "" when it has none.  EXE is the process's
 * executable path (may be NULL). */
void pw_thread_rec_name(const char *exe, const struct pw_thread_rec *r, char *out, size_t len);
/* "T3 'worker'", or "T3" for a thread without a name: a thread as dump and the
 * text report introduce it (pw_thread.name stays the bare name, or "T3").
 * The _of form takes a name from pw_thread_rec_name. */
const char *pw_thread_label(const struct pw_thread *t, char *buf, size_t len);
const char *pw_thread_label_of(uint32_t serial, const char *name, char *buf, size_t len);

enum pw_thread_view pw_thread_view(const struct pw_thread *t);
const char *pw_thread_state_str(enum pw_thread_view s);
/* "read(fd 7: pipe:[1234])", "futex", "syscall 999" for a thread the kernel saw
 * in a system call, into BUF; NULL if it was not in one (or nobody looked). */
const char *pw_thread_blocked_in(const struct pw_thread *t, char *buf, size_t len);

/* A channel as the model sees it: its record's state at the end of the trace. */
struct pw_channel {
    uint32_t id;
    uint32_t creator;          /* serial of the creating thread */
    int fd[2];                 /* fds at creation, per side (PW_SIDE_*) */
    int open[2];               /* fds of each side still open */
    uint64_t sent, received;   /* bytes (messages for an mqueue or a queue) */
    bool inherited;            /* ends copied from the parent at fork */
    bool send_nonblock;        /* a send-side fd was non-blocking: the self-pipe
                                * convention, a signal handler may write it */
    bool unlinked;             /* an mqueue whose name was removed */
    char name[32];             /* user-given name, "" if none */
    uint32_t last_send_stack;  /* where the last send into it was made, 0 unknown */
    uint32_t last_send_thread; /* and by whom (serial), 0 unknown */
};

/* An object a thread can park on or hold: (type, key) with its generation.
 * A lock address re-initialised or destroyed starts a new generation (LOCK_INIT
 * and LOCK_DESTROY, in the rings and, for locks in a lock-order edge, in the
 * notes); a channel is its id, so a reused fd never merges two channels.
 * The objects of the end state (parked on, held) are the generation alive at
 * the end; lock-order edges carry the generation of each lock when the edge
 * was taken (pw_model_generation), so a reused address never closes a false
 * cycle.  The name (id) stays that of the address: a report names the lock
 * the program knows, gen says which life of it. */
struct pw_object {
    struct pw_process *proc;
    enum pw_obj_type type;
    uint64_t key;                  /* address, channel id or thread serial */
    uint32_t gen;                  /* generation alive at the end (0 for channels, threads) */
    char id[40];                   /* "pipe#2", "mutex#1", "cond#3", "T4" */
    const struct pw_channel *chan; /* channels only (points at channel) */
    struct pw_channel channel;
    struct pw_thread *thread; /* PW_OBJ_THREAD only: the thread joined */
    uint32_t create_stack;    /* channel creation, lock init, or first park stack */
    const char *site_label;   /* what create_stack is: "created at" or "first used at" */
    /* threads that ever signalled this cond / sent or received on this channel,
     * as far as the rings remember */
    size_t nsignallers, nsenders, nreceivers;
    struct pw_thread **signallers, **senders, **receivers;
    bool shared_with_child; /* a fork happened while the channel was open */
    /* sem / barrier (LOCK_INIT): a sem's initial value or a barrier's participant
     * count, valid when init_seen; a sem's posters are its signallers */
    uint64_t init_arg;
    bool init_seen;
    bool outside; /* process-shared or named: another process may act on it */
    /* a cond: the last signal or broadcast made while holding a lock (wake_lock,
     * an address) and when (ns since the process start); wake_all for a broadcast */
    uint64_t wake_ns, wake_lock;
    bool wake_all;
    /* PW_OBJ_POLLSET: the channels of the set as the parked threads list them
     * (send-side waits included); outside when some members are not channels */
    size_t nmembers;
    struct pw_object **members;
    /* the members polled for reading (POLLIN): a thread parked on the set is
     * one of their receivers */
    size_t nrecv_members;
    struct pw_object **recv_members;
    /* PW_OBJ_FUTEX: a priority-inheritance word's owner, the TID a waiter read
     * from it when it parked in FUTEX_LOCK_PI (0: none seen) */
    int pi_owner_tid;
};

/* Misuse the shim saw when it happened (MISUSE notes), in note order: of a
 * channel, or of a lock or cond (kind UNLOCK_NOT_HELD and after). */
struct pw_misuse {
    enum pw_misuse_kind kind;
    struct pw_thread *t;     /* the thread that misused the channel or lock */
    struct pw_object *o;     /* the channel, lock or cond */
    struct pw_object *o2;    /* a cond misuse's mutex, else NULL */
    long long fd;            /* the fd it used */
    uint32_t stack, stack2;  /* misuse site, earlier site (close or creation) */
    struct pw_thread *other; /* the other thread involved (parked on it, holding
                              * the lock, waiting on the cond), or NULL */
    int err;                 /* a send's errno (EPIPE), 0 when SIGPIPE ended it */
    /* USE_DESTROYED: the call that used the destroyed lock or cond; other and
     * stack2 are then who destroyed it and where (NULL / 0 if unknown) */
    enum pw_lock_call call;
};

/* "B taken while holding A" (LOCK_EDGE notes), once per new (A, B, thread). */
struct pw_lock_edge {
    uint32_t serial;       /* the thread that took B (the model may not know it) */
    uint64_t a, b;         /* lock addresses */
    uint32_t gen_a, gen_b; /* their generations when B was taken */
    enum pw_obj_type type_a, type_b;
    bool a_read, b_read;    /* A held / B taken for reading (rwlock) */
    uint64_t gate;          /* the outermost lock held then if not A, 0 if none */
    uint32_t stack, stack2; /* where B was taken, where A was taken (0 if unknown) */
    /* the lock's life is unknown: never initialised through the shim and not in
     * a module's image (heap memory may be reused without a destroy): the edge is
     * kept apart, never joined with another edge of the same address */
    bool a_unknown, b_unknown;
    /* lock classes (lockdep): the init stack id of A's and B's life, 0 when the
     * shim saw no init (the lock is its own class) or the trace predates classes */
    uint32_t cls_a, cls_b;
};

/* Times an address was (re)initialised or destroyed, sorted by (addr, time). */
struct pw_gen_mark {
    uint64_t addr;
    uint64_t time_ns;
};

struct pw_process {
    const struct pw_trace *trace;
    int pid, ppid;
    uint32_t exec_gen;      /* 0 for the first image of this pid, +1 per exec */
    uint64_t start_mono_ns; /* absolute CLOCK_MONOTONIC at start: compares processes */
    const char *exe;
    enum pw_end_kind end;
    int end_status;
    bool finished;      /* end is not RUNNING: parks can be "forever" */
    uint64_t end_ms;    /* time of the end (or of the snapshot), ms since start */
    bool end_estimated; /* killed without a recorded end: end_ms is the last sign of
                         * life (last event, last seen alive, the file's mtime) */
    size_t nthreads;
    struct pw_thread *threads;
    size_t nobjects, cap_objects;
    struct pw_object **objects;
    size_t index_cap; /* open-addressing index over objects (power of two) */
    uint32_t *index;  /* object position + 1, 0 = empty */
    unsigned type_count[PW_OBJ__COUNT];
    uint32_t max_serial;
    uint32_t *by_serial; /* serial -> thread position + 1 */
    uint32_t forks;      /* children forked or spawned (the header's count) */
    size_t nforks;
    int *fork_children; /* pids of children known: ring fork events, the latest
                         * child, the traced children */
    /* the traced children among them (first image of each), in the same model */
    size_t nchildren;
    struct pw_process **children;
    struct pw_process *parent_proc; /* the traced parent that forked this one, if any */
    size_t nmisuses;
    struct pw_misuse *misuses;
    size_t nlock_edges;
    struct pw_lock_edge *lock_edges;
    size_t nmarks;
    struct pw_gen_mark *marks;
    /* what the trace could not keep (header counters): the report says what each
     * loss means for its findings */
    struct {
        uint64_t notes;     /* notes refused: the log was full */
        uint64_t edges;     /* lock-order edges not recorded */
        uint64_t folded;    /* instance edges folded into a recorded class pair */
        uint64_t acts;      /* first signals/posts/sends/receives not noted */
        uint32_t per_class; /* instance edges kept per (class pair, thread) */
    } lost;
    /* What the trace did not see (SPEC "Unknown is a state"): threads that got
     * no slot, and whether the shim still records.  A verdict that needs every
     * waker is uncertain while any of these is set. */
    uint64_t threads_without_slot;
    uint64_t dropped_chans; /* channels created without a record */
    bool not_recording;     /* the shim gave up recording (trace full, error) */
    /* Timers armed at the end of the trace (or now): a signal or a SIGEV_THREAD
     * call they deliver may still wake a parked thread. */
    size_t ntimers;
    struct pw_timer_rec timers[PW_TIMERS_MAX];
    uint32_t timers_unknown; /* timers created without a record */
    /* The kernel's view of every task at the end (the tasks file next to the
     * trace), NULL if none; tasks the shim never saw (a raw clone, a task
     * started before the shim) are STRAY. */
    struct pw_ktasks *ktasks;
    size_t nstray;
    const struct pw_ktask **stray;
    uint32_t exit_serial; /* the thread that called exit (PROC_END note), 0 if unknown */
    size_t nunfollowed;   /* threads with unfollowed set, plus the stray tasks */
};

struct pw_model {
    size_t nprocs;
    struct pw_process *procs;
};

/* Builds the model of N traces (one process each).  Returns NULL on out-of-memory. */
struct pw_model *pw_model_build(struct pw_trace **traces, size_t n);
void pw_model_free(struct pw_model *m);

struct pw_thread *pw_model_thread(struct pw_process *p, uint32_t serial);
/* The object for (type, key), created on first use. */
struct pw_object *pw_model_object(struct pw_process *p, enum pw_obj_type type, uint64_t key);
/* Child processes (fork, posix_spawn) whose inherited copy of channel O still
 * had SIDE open at their end (or now, if running), into OUT (up to MAX);
 * returns the count. */
size_t pw_model_child_holders(const struct pw_object *o, int side, struct pw_process **out,
                              size_t max);
/* The traced parent of O's process, if O was inherited from it and the
 * parent's copy still had SIDE open at its end (or now); else NULL. */
struct pw_process *pw_model_parent_holder(const struct pw_object *o, int side);
/* Generation of the lock at ADDR at TIME_NS (since the process start): how
 * many times it was initialised or destroyed before. */
uint32_t pw_model_generation(const struct pw_process *p, uint64_t addr, uint64_t time_ns);
/* The thread of P whose kernel TID is TID (alive at the end first), or NULL. */
struct pw_thread *pw_model_thread_by_tid(struct pw_process *p, int tid);
/* Gives P the kernel's view KT of its tasks (taken now, for a running
 * process), unless it already has one; takes KT's contents.  0, or -1 when
 * out of memory. */
int pw_model_set_ktasks(struct pw_process *p, struct pw_ktasks *kt);
/* RANGES holds the N private anonymous mappings of live process P (lo, hi
 * pairs; the caller read its mappings): futex waits on words there that the
 * shim marked external become waits only P can end.  RANGES stays the
 * caller's. */
void pw_model_set_private(struct pw_process *p, uint64_t *ranges, size_t n);
/* Threads that hold lock OBJ (mutex/rwlock/spin), into OUT (up to MAX); returns the count. */
size_t pw_model_holders(struct pw_process *p, const struct pw_object *obj, struct pw_thread **out,
                        size_t max);

#endif
