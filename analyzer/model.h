/* Replay model: one process per trace, rebuilt from the current-state area (right
 * even when rings wrapped) and completed with the events still in the rings
 * (who signalled which cond, who sent on which channel, forks).  Everything the
 * detectors judge is here; nothing below reads the trace format directly. */
#ifndef PW_MODEL_H
#define PW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkwatch/trace.h"

struct pw_trace;
struct pw_process;
struct pw_object;

enum pw_thread_status { PW_THR_RUNNING, PW_THR_PARKED, PW_THR_EXITED };

/* A thread: an entry per claimed thread slot.
 * Invariant: status == PW_THR_PARKED iff op != PW_OP_NONE; waits_on is then the
 * object it parks on (never NULL). */
struct pw_thread {
    struct pw_process *proc;
    const struct pw_thread_rec *rec;
    uint32_t serial;
    int tid;
    char name[24];             /* pthread name, "main", or "T<serial>" */
    enum pw_thread_status status;
    bool forever;              /* parked in an untimed wait at the end of a finished process */
    enum pw_park_op op;
    struct pw_object *waits_on;
    uint64_t since_ms;         /* how long parked at the end of the trace */
    uint32_t park_stack;
    uint32_t create_stack;
    struct pw_thread *parent;
    size_t nheld;
    struct pw_object **held;   /* locks held (only those mirrored in the file) */
    bool *held_read;           /* held[i] is an rwlock held for reading */
    bool joined, detached, is_main, adopted, held_at_exit;
    bool claimed;              /* already explained by a deadlock finding: not reported again */
};

/* An object a thread can park on or hold.  Identity is (type, key, generation):
 * a lock address re-initialised or destroyed starts a new generation, and a
 * channel is its id, so a reused address or fd never merges two objects. */
struct pw_object {
    struct pw_process *proc;
    enum pw_obj_type type;
    uint64_t key;              /* address, channel id or thread serial */
    uint32_t gen;
    char id[40];               /* "pipe#2", "mutex#1", "cond#3", "T4" */
    const struct pw_chan_rec *chan; /* channels only */
    struct pw_thread *thread;  /* PW_OBJ_THREAD only: the thread joined */
    uint32_t create_stack;     /* channel creation, lock init, or first park stack */
    const char *site_label;    /* what create_stack is: "created at" or "first used at" */
    /* threads that ever signalled this cond / sent or received on this channel,
     * as far as the rings remember */
    size_t nsignallers, nsenders, nreceivers;
    struct pw_thread **signallers, **senders, **receivers;
    bool shared_with_child;    /* a fork happened while the channel was open */
    /* sem / barrier (LOCK_INIT): a sem's initial value or a barrier's participant
     * count, valid when init_seen; a sem's posters are its signallers */
    uint64_t init_arg;
    bool init_seen;
    bool outside;              /* process-shared or named: another process may act on it */
    /* PW_OBJ_POLLSET: the channels of the set as the parked threads list them
     * (send-side waits included); outside when some members are not channels */
    size_t nmembers;
    struct pw_object **members;
};

struct pw_process {
    const struct pw_trace *trace;
    const struct pw_trace_header *hdr;
    int pid, ppid;
    const char *exe;
    enum pw_end_kind end;
    int end_status;
    bool finished;             /* end is not RUNNING: parks can be "forever" */
    uint64_t end_ms;           /* time of the end (or of the snapshot), ms since start */
    bool end_estimated;        /* killed without a recorded end: end_ms is the file's mtime */
    size_t nthreads;
    struct pw_thread *threads;
    size_t nobjects, cap_objects;
    struct pw_object **objects;
    size_t index_cap;          /* open-addressing index over objects (power of two) */
    uint32_t *index;           /* object position + 1, 0 = empty */
    unsigned type_count[PW_OBJ__COUNT];
    uint32_t max_serial;
    uint32_t *by_serial;       /* serial -> thread position + 1 */
    size_t nforks;
    int *fork_children;        /* pids of children forked */
    /* the traced children among them (first image of each), in the same model */
    size_t nchildren;
    struct pw_process **children;
    struct pw_process *parent_proc; /* the traced parent that forked this one, if any */
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
/* Threads that hold lock OBJ (mutex/rwlock/spin), into OUT (up to MAX); returns the count. */
size_t pw_model_holders(struct pw_process *p, const struct pw_object *obj, struct pw_thread **out,
                        size_t max);

#endif
