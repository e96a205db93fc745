/* parkwatch trace format: the only bridge between the shim (preload/) and the
 * analyzer (analyzer/).
 *
 * A trace is one file per process, mapped MAP_SHARED by the shim, so that every
 * store is in the page cache at once: the file is complete after SIGKILL and can
 * be read while the process runs.  It is a versioned ABI:
 *   - the header carries magic, major/minor version, its own size and the size of
 *     every record type, so an older reader can skip fields it does not know;
 *   - a reader refuses a newer major version with one line;
 *   - every section is located by (offset, size, count, entry size) in the header
 *     and every offset must be bounds-checked: the file is untrusted input.
 *
 * Layout (all section offsets are page aligned):
 *   header | modules | depot index | depot pool | channels | notes | thread slots
 *
 * Concurrency: the writer updates shared fields with __atomic builtins (the types
 * here are plain integers so that both C11 sides can include this header).  A
 * reader of a live process validates what it reads: ring events carry a sequence
 * number written last, park state is covered by a seqlock (park_seq odd while it
 * is being changed), depot records and module/channel entries are published by a
 * final release store of a non-zero state/slot value.
 */
#ifndef PARKWATCH_TRACE_H
#define PARKWATCH_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define PW_TRACE_MAGIC "PWTRACE" /* 8 bytes with the NUL */
#define PW_TRACE_VERSION_MAJOR 1
#define PW_TRACE_VERSION_MINOR 3 /* 2: LOCK_EDGE carries lock classes; 3: park_gen */

#define PW_HEADER_SIZE 8192u
#define PW_EXE_MAX 1024u
#define PW_ARGV_MAX 2048u /* NUL-separated argv, truncated at a whole arg */
#define PW_MODULE_PATH_MAX 512u
#define PW_BUILD_ID_MAX 40u
#define PW_THREAD_NAME_MAX 16u
#define PW_HELD_MAX 32u /* held locks mirrored in the file; more are counted */
#define PW_STACK_MAX_FRAMES 64u
#define PW_PARK_SET_MAX 14u     /* channels of a poll set listed in the thread record */
#define PW_HELD_SITES 4u        /* held locks whose acquisition site the record mirrors */
#define PW_SET_SEND 0x80000000u /* park_set entry: waits for the send side (POLLOUT) */
#define PW_EDGES_PER_CLASS 8u   /* lock-order edges noted per (class pair, thread) */

/* ---- enumerations: one X-macro list each; writer, reader, dump, reports expand them */

/* Event kinds.  Field use per kind (obj, obj2, arg, stack, stack2, result, err):
 *   THREAD_CREATE  obj=child serial, arg=pthread_t, stack=creation stack, result=rc
 *   THREAD_START   obj=own serial, obj2=parent serial, arg=tid
 *   THREAD_EXIT    obj=own serial, arg=number of locks held at exit, stack=exit site
 *                  (pthread_exit's stack; for a return from the start routine a
 *                  one-frame stack: start routine + 1; 0 if unknown), op=how (PW_EXIT_*)
 *   THREAD_JOIN    obj=joined serial (0 if unknown), arg=pthread_t, result=rc
 *   THREAD_DETACH  obj=target serial, arg=pthread_t, result=rc
 *   THREAD_NAME    obj=target serial, arg=first 8 bytes of the name
 *   PARK           op=PW_OP_*, obj=object (address, channel id, thread serial, or a
 *                  pollset: (serial << 1 | 1) for poll/select, 1 << 63 | instance for epoll),
 *                  obj2=second object (mutex released by a cond wait, fd; for
 *                  PW_OP_FUTEX_LOCK_PI the owner's TID read from the futex word),
 *                  arg=flags (PW_PARK_*), stack=park stack
 *   UNPARK         op=PW_OP_*, obj=object, result=return value, err=errno,
 *                  arg=bytes for channel ops
 *   LOCK_INIT      obj=address, op=PW_OBJ_* (mutex reinitialised: a new object);
 *                  sem: arg=initial value, obj2=1 if process-shared or named,
 *                  stack=init site; barrier: arg=participant count, obj2 as for
 *                  a sem (sem_open and barrier inits go to the notes)
 *   LOCK_DESTROY   obj=address, op=PW_OBJ_*, result=rc
 *   HELD_AT_EXIT   obj=lock address, op=PW_OBJ_* (one per lock held when the thread ended),
 *                  stack=where the thread took it (its whole stack when one was captured
 *                  then, else the one-frame call site; 0 if unknown)
 *   COND_SIGNAL    obj=cond, arg=1 for broadcast (recorded once per (thread, cond) run,
 *                  and every time the cond has waiters: then it wakes one), obj2=the lock
 *                  the signaller held innermost (0 if none): a waiter of the cond that
 *                  is still parked after a wake-up made under its mutex waits for it;
 *                  op=PW_OBJ_SEM: a sem_post on the semaphore obj (op 0 = a cond);
 *                  op=PW_OBJ_FUTEX: a futex wake of the word at obj, stack=waker's stack,
 *                  arg=1 for a wake of all waiters (INT_MAX), which may end the word's life.
 *                  A thread's first signal / post / wake of an object is a note (so are
 *                  its first CHAN_SEND and CHAN_RECV of a channel): who can wake an
 *                  object is evidence, the ring only history
 *   CHAN_CREATE    obj=channel id, op=PW_OBJ_*, arg=(fd of side 0) | (fd of side 1) << 32,
 *                  stack=creation stack.  A socketpair is two channels (ids n, n+1:
 *                  sv[0] -> sv[1] and back); an eventfd, or an mqueue opened O_RDWR,
 *                  has the same fd on both sides; a side without an fd has -1
 *   CHAN_SEND/RECV on an mqueue count messages (arg=1), elsewhere bytes
 *   CHAN_SEND      obj=channel id, obj2=fd, arg=bytes (or messages), result=rc, err=errno
 *   CHAN_RECV      obj=channel id, obj2=fd, arg=bytes, result=rc (0 = EOF seen), err
 *   CHAN_CLOSE     obj=channel id, obj2=fd, op=side (PW_SIDE_*), arg=fds of that side
 *                  still open after this close, stack=close stack
 *   MISUSE         op=PW_MISUSE_*, obj=channel id, obj2=fd, stack=misuse site,
 *                  stack2=earlier site (close or creation), arg=other thread serial;
 *                  a lock misuse: obj=lock or cond address, result=its PW_OBJ_*,
 *                  obj2=the mutex of a cond misuse (else 0), stack2=the other
 *                  thread's park stack when it is parked (else 0); USE_DESTROYED:
 *                  err=the call (PW_CALL_*), arg=the destroying thread's serial
 *                  and stack2=the destroy's stack (0 when the shim no longer
 *                  knows them)
 *   LOCK_EDGE      (a note) obj=lock held (A), obj2=lock acquired (B), stack=where B was
 *                  taken, stack2=where A was taken (0 if unknown), op=PW_OBJ_* of B,
 *                  PW_EDGE_TYPE_A(arg)=PW_OBJ_* of A, result=class of A, err=class of B
 *                  (a class is the lock's init stack id, 0 when the shim saw no init:
 *                  the lock is then its own class; minor version 1 had result=PW_OBJ_*
 *                  of A and no classes),
 *                  arg=PW_EDGE_GATE(arg) the outermost lock held at the time if not A
 *                  (0 if none) | PW_EDGE_* flags; recorded once per new (A, B, thread)
 *                  (and per gate / read flags); LOCK_INIT and LOCK_DESTROY of an
 *                  address that appears in a LOCK_EDGE are notes too
 *   FORK           arg=child pid (parent side) / parent pid (child side), op=PW_FORK_*
 *                  (history only: header.forks and the channels' PW_CF_FORKED /
 *                  PW_CF_INHERITED flags are the evidence)
 *   EXEC           arg=0; recorded just before the real exec.  As notes: op=1 starts
 *                  the list of channel fds the exec keeps (not FD_CLOEXEC), op=2 is
 *                  one of them: obj2=fd, obj=channel id it receives on, arg=channel
 *                  id it sends on (0 = none); the last list is the one that counted
 *   MODULES        arg=number of modules after a dlopen/dlclose refresh
 *   PROC_END       op=PW_END_*, result=status; written by the exit path / watchdog
 *   DEADLOCK       written by a watchdog: op=PW_END_* decision, arg=number of threads
 */
/* X(name, string, op field, obj field): what the op and obj fields name per
 * kind, the columns `parkwatch dump` expands (the prose above says the rest).
 * An op of PW_OPF_NUM is printed as a number: LOCK_EDGE's op (B's PW_OBJ_*)
 * and EXEC's list markers stay numbers because dump's lines are a contract. */
#define PW_EVENT_KINDS(X)                           \
    X(NONE, "none", NUM, ADDR)                      \
    X(THREAD_CREATE, "thread-create", NUM, THREAD)  \
    X(THREAD_START, "thread-start", NUM, THREAD)    \
    X(THREAD_EXIT, "thread-exit", EXIT, THREAD)     \
    X(THREAD_JOIN, "thread-join", NUM, THREAD)      \
    X(THREAD_DETACH, "thread-detach", NUM, THREAD)  \
    X(THREAD_NAME, "thread-name", NUM, THREAD)      \
    X(PARK, "park", PARK_OP, BY_OP)                 \
    X(UNPARK, "unpark", PARK_OP, BY_OP)             \
    X(LOCK_INIT, "lock-init", OBJ_TYPE, ADDR)       \
    X(LOCK_DESTROY, "lock-destroy", OBJ_TYPE, ADDR) \
    X(HELD_AT_EXIT, "held-at-exit", OBJ_TYPE, ADDR) \
    X(COND_SIGNAL, "cond-signal", SIGNALLED, ADDR)  \
    X(CHAN_CREATE, "chan-create", OBJ_TYPE, CHAN)   \
    X(CHAN_SEND, "chan-send", NUM, CHAN)            \
    X(CHAN_RECV, "chan-recv", NUM, CHAN)            \
    X(CHAN_CLOSE, "chan-close", SIDE, CHAN)         \
    X(MISUSE, "misuse", MISUSE, CHAN)               \
    X(LOCK_EDGE, "lock-edge", NUM, ADDR)            \
    X(FORK, "fork", FORK, ADDR)                     \
    X(EXEC, "exec", NUM, ADDR)                      \
    X(MODULES, "modules", NUM, ADDR)                \
    X(PROC_END, "proc-end", END, ADDR)              \
    X(DEADLOCK, "deadlock", END, ADDR)

enum pw_event_kind {
#define PW_X(name, str, opf, objf) PW_EV_##name,
    PW_EVENT_KINDS(PW_X)
#undef PW_X
        PW_EV__COUNT
};

/* What an event's op field names (the op column of PW_EVENT_KINDS). */
enum pw_op_field {
    PW_OPF_NUM,       /* a number (or unused) */
    PW_OPF_PARK_OP,   /* enum pw_park_op */
    PW_OPF_OBJ_TYPE,  /* enum pw_obj_type (| 0x80: an rwlock's read side) */
    PW_OPF_SIGNALLED, /* 0 for a cond, else the enum pw_obj_type posted (a sem) */
    PW_OPF_SIDE,      /* enum pw_side */
    PW_OPF_EXIT,      /* enum pw_exit_how */
    PW_OPF_FORK,      /* enum pw_fork_side */
    PW_OPF_MISUSE,    /* enum pw_misuse_kind */
    PW_OPF_END,       /* enum pw_end_kind */
};

/* What an event's obj field names (the obj column of PW_EVENT_KINDS). */
enum pw_obj_field {
    PW_OBJF_ADDR,   /* an address (or unused) */
    PW_OBJF_THREAD, /* a thread serial */
    PW_OBJF_CHAN,   /* a channel id */
    PW_OBJF_BY_OP,  /* what the park op parks on (pw_op_obj_type in ops.h) */
};

/* What a thread parks in: X(name, string, object type, direction, strict).
 *   string     the "op" of SPEC.md's JSON;
 *   object     the PW_OBJ_* its obj field names (channel ops name PIPE: the
 *              channel's own type is in its record);
 *   direction  RECV or SEND for a channel op (a receiver waits for senders or
 *              EOF, a sender for receivers), NONE otherwise;
 *   strict     1 if only the holder (or the joined thread) can end the wait:
 *              an edge of the wait-for graph whose cycles are deadlocks.
 * Whether a wait is timed is not an op: it is PW_PARK_TIMED in the park flags.
 * The predicates over these columns are in parkwatch/ops.h. */
#define PW_PARK_OPS(X)                                \
    X(NONE, "none", NONE, NONE, 0)                    \
    X(MUTEX_LOCK, "mutex-lock", MUTEX, NONE, 1)       \
    X(COND_WAIT, "cond-wait", COND, NONE, 0)          \
    X(JOIN, "join", THREAD, NONE, 1)                  \
    X(RWLOCK_RD, "rwlock-read", RWLOCK, NONE, 1)      \
    X(RWLOCK_WR, "rwlock-write", RWLOCK, NONE, 1)     \
    X(SEM_WAIT, "sem-wait", SEM, NONE, 0)             \
    X(BARRIER_WAIT, "barrier-wait", BARRIER, NONE, 0) \
    X(PIPE_READ, "pipe-read", PIPE, RECV, 0)          \
    X(PIPE_WRITE, "pipe-write", PIPE, SEND, 0)        \
    X(CHAN_READ, "chan-read", PIPE, RECV, 0)          \
    X(CHAN_WRITE, "chan-write", PIPE, SEND, 0)        \
    X(MQ_RECEIVE, "mq-receive", MQUEUE, RECV, 0)      \
    X(MQ_SEND, "mq-send", MQUEUE, SEND, 0)            \
    X(POLL, "poll", POLLSET, NONE, 0)                 \
    X(SPIN_LOCK, "spin-lock", SPIN, NONE, 1)          \
    X(USER_RECV, "queue-recv", USERCHAN, RECV, 0)     \
    X(USER_SEND, "queue-send", USERCHAN, SEND, 0)     \
    X(FUTEX_WAIT, "futex-wait", FUTEX, NONE, 0)       \
    X(FUTEX_LOCK_PI, "futex-lock-pi", FUTEX, NONE, 1) \
    X(COND_DESTROY, "cond-destroy", COND, NONE, 0)

enum pw_park_op {
#define PW_X(name, str, obj, dir, strict) PW_OP_##name,
    PW_PARK_OPS(PW_X)
#undef PW_X
        PW_OP__COUNT
};

/* Direction of a park op (the direction column of PW_PARK_OPS). */
enum pw_dir { PW_DIR_NONE, PW_DIR_RECV, PW_DIR_SEND };

/* Object types: what an obj field names.  X(name, string, lock, channel):
 *   lock     held by a thread (mutex, rwlock, spinlock): its holders block waiters;
 *   channel  a channel record (pipe#N): one object whatever type a park op implied. */
#define PW_OBJ_TYPES(X)               \
    X(NONE, "none", 0, 0)             \
    X(MUTEX, "mutex", 1, 0)           \
    X(RWLOCK, "rwlock", 1, 0)         \
    X(COND, "cond", 0, 0)             \
    X(SEM, "sem", 0, 0)               \
    X(BARRIER, "barrier", 0, 0)       \
    X(SPIN, "spinlock", 1, 0)         \
    X(THREAD, "thread", 0, 0)         \
    X(PIPE, "pipe", 0, 1)             \
    X(SOCKETPAIR, "socketpair", 0, 1) \
    X(EVENTFD, "eventfd", 0, 1)       \
    X(MQUEUE, "mqueue", 0, 1)         \
    X(USERCHAN, "queue", 0, 1)        \
    X(POLLSET, "pollset", 0, 0)       \
    X(FUTEX, "futex", 0, 0)

enum pw_obj_type {
#define PW_X(name, str, lock, chan) PW_OBJ_##name,
    PW_OBJ_TYPES(PW_X)
#undef PW_X
        PW_OBJ__COUNT
};

/* Misuse seen by the shim at the moment it happens: channel misuse, then lock
 * misuse (result = PW_OBJ_* of the lock or cond, obj2 = the mutex of a cond
 * misuse or 0, arg = the owner or the other waiter's serial, 0 if none).
 * OWNER_DEAD is no misuse but a lock note of the same shape: a robust mutex
 * taken with EOWNERDEAD, its dead owner's hold taken over.  CLOSE_REUSED is a
 * channel misuse (appended to keep the numbers): a thread closed a channel fd,
 * another thread made a new fd on that number, and the first thread closed
 * the number again, closing the other thread's object (obj = the old channel,
 * obj2 = fd, stack2 = where the channel's side was closed, arg = the serial of
 * the thread that made the new fd, 0 if forgotten, err = 0). */
#define PW_MISUSE_KINDS(X)                        \
    X(NONE, "none")                               \
    X(DOUBLE_CLOSE, "double-close")               \
    X(SEND_ON_CLOSED, "send-on-closed")           \
    X(CLOSE_WHILE_BLOCKED, "close-while-blocked") \
    X(UNLOCK_NOT_HELD, "unlock-not-held")         \
    X(DESTROY_LOCKED, "destroy-locked")           \
    X(DESTROY_BUSY_COND, "destroy-busy-cond")     \
    X(USE_DESTROYED, "use-destroyed")             \
    X(RELOCK, "relock")                           \
    X(COND_TWO_MUTEXES, "cond-two-mutexes")       \
    X(COND_MUTEX_NOT_HELD, "cond-mutex-not-held") \
    X(OWNER_DEAD, "owner-dead")                   \
    X(CLOSE_REUSED, "close-reused")

enum pw_misuse_kind {
#define PW_X(name, str) PW_MISUSE_##name,
    PW_MISUSE_KINDS(PW_X)
#undef PW_X
        PW_MISUSE__COUNT
};

/* The call that used a destroyed lock or cond (the err field of a
 * USE_DESTROYED misuse): X(name, the verb in a report's headline). */
#define PW_LOCK_CALLS(X)          \
    X(NONE, "used")               \
    X(LOCK, "locked")             \
    X(RDLOCK, "read-locked")      \
    X(WRLOCK, "write-locked")     \
    X(UNLOCK, "unlocked")         \
    X(DESTROY, "destroyed again") \
    X(WAIT, "waited on")          \
    X(SIGNAL, "signalled")        \
    X(BROADCAST, "broadcast")

enum pw_lock_call {
#define PW_X(name, str) PW_CALL_##name,
    PW_LOCK_CALLS(PW_X)
#undef PW_X
        PW_CALL__COUNT
};

/* How a process ended, as far as the trace knows. */
#define PW_END_KINDS(X)                 \
    X(RUNNING, "running")               \
    X(EXIT, "exit")                     \
    X(SIGNAL, "signal")                 \
    X(DEADLOCK_ABORT, "deadlock-abort") \
    X(UNKNOWN, "unknown")               \
    X(EXEC, "exec")

enum pw_end_kind {
#define PW_X(name, str) PW_END_##name,
    PW_END_KINDS(PW_X)
#undef PW_X
        PW_END__COUNT
};

/* Channel sides (CHAN_CLOSE op, pw_chan_rec's fd/open/close_* index).  Side 0
 * receives (pipe read end), side 1 sends (pipe write end).  A bidirectional
 * object (socketpair) is two channels, one per direction. */
#define PW_SIDES(X) \
    X(RECV, "recv") \
    X(SEND, "send")

enum pw_side {
#define PW_X(name, str) PW_SIDE_##name,
    PW_SIDES(PW_X)
#undef PW_X
        PW_SIDE__COUNT
};

/* PARK arg flags. */
#define PW_PARK_TIMED 0x1u    /* a timed wait: never "forever" */
#define PW_PARK_NONBLOCK 0x2u /* fd was non-blocking: not a real park */
#define PW_PARK_OUTSIDE \
    0x4u /* a poll set with fds that are not channels: another
                               * process could wake it; also set on a
                               * process-shared or named sem and barrier */

/* LOCK_EDGE arg: flags in the top byte, the gate lock address in the rest. */
#define PW_EDGE_A_READ (1ull << 56)   /* A is held for reading (rwlock) */
#define PW_EDGE_B_READ (1ull << 57)   /* B is taken for reading (rwlock) */
#define PW_EDGE_A_NOINIT (1ull << 58) /* A was never initialised through the shim */
#define PW_EDGE_B_NOINIT (1ull << 59) /* B likewise: in heap memory, its generation is unknown */
#define PW_EDGE_TYPE_SHIFT 60         /* A's PW_OBJ_* (a lock type: 3 bits) */
#define PW_EDGE_TYPE_A(arg) (((arg) >> PW_EDGE_TYPE_SHIFT) & 7u)
#define PW_EDGE_GATE(arg) ((arg) & ((1ull << 56) - 1))

/* How a thread ended (THREAD_EXIT op). */
#define PW_EXIT_HOWS(X)             \
    X(RETURN, "return")             \
    X(PTHREAD_EXIT, "pthread-exit") \
    X(CANCEL, "cancel")

enum pw_exit_how {
#define PW_X(name, str) PW_EXIT_##name,
    PW_EXIT_HOWS(PW_X)
#undef PW_X
        PW_EXIT__COUNT
};

/* Which side of a fork recorded a FORK event (its op). */
#define PW_FORK_SIDES(X) \
    X(PARENT, "parent")  \
    X(CHILD, "child")

enum pw_fork_side {
#define PW_X(name, str) PW_FORK_##name,
    PW_FORK_SIDES(PW_X)
#undef PW_X
        PW_FORK__COUNT
};

/* ---- records */

/* Fixed-size event record (64 bytes).  In a ring, seq is written last with a
 * release store and equals the event's index + 1, so a reader can tell a
 * complete record from one being overwritten. */
struct pw_event {
    uint64_t seq;
    uint64_t time_ns; /* CLOCK_MONOTONIC, nanoseconds since header.start_mono_ns */
    uint16_t kind;    /* enum pw_event_kind */
    uint16_t op;      /* enum pw_park_op / pw_obj_type / side / misuse, per kind */
    uint32_t thread;  /* serial of the recording thread */
    uint64_t obj;
    uint64_t obj2;
    uint64_t arg;
    uint32_t stack; /* stack depot id, 0 = none */
    uint32_t stack2;
    int32_t result;
    int32_t err;
};

/* Section locator. */
struct pw_section {
    uint64_t offset;     /* from the start of the file */
    uint64_t size;       /* bytes reserved */
    uint32_t count;      /* entries reserved (capacity) */
    uint32_t entry_size; /* bytes per entry (0 for byte pools) */
};

/* Thread slot lifecycle. */
enum pw_thread_state { PW_TS_FREE = 0, PW_TS_ALIVE = 1, PW_TS_EXITED = 2 };

/* Thread flags. */
#define PW_TF_MAIN 0x01u /* the process's initial thread */
#define PW_TF_DETACHED 0x02u
#define PW_TF_JOINED 0x04u
#define PW_TF_ADOPTED 0x08u      /* created before the shim saw it: no creation stack */
#define PW_TF_HELD_AT_EXIT 0x10u /* ended holding locks: slot is never recycled */
#define PW_TF_FORKED 0x20u       /* the thread that called fork, continuing in the child */
#define PW_TF_RETURNED 0x40u     /* ended by returning from its start routine */
/* alive at a parkwatch_ignore_current() call: not a leak (goleak's
 * IgnoreCurrent); an older reader only sees an unknown flag */
#define PW_TF_IGNORED 0x80u

/* One thread's current state: right even when its ring has wrapped.
 * Invariants: state/serial are published last when a slot is claimed; park_* are
 * valid only while park_seq is even and park_op != PW_OP_NONE; held[0..nheld) are
 * the locks the thread holds, in acquisition order (nheld may exceed PW_HELD_MAX:
 * then only the first PW_HELD_MAX are listed and held_overflow counts the rest). */
struct pw_thread_rec {
    uint32_t state;  /* enum pw_thread_state */
    uint32_t serial; /* 1 = main thread; never reused within a trace */
    int32_t tid;
    uint32_t parent_serial; /* 0 if unknown */
    uint64_t pthread;       /* pthread_t, to resolve joins */
    char name[PW_THREAD_NAME_MAX];
    uint32_t create_stack; /* stack in the parent at pthread_create */
    uint32_t flags;        /* PW_TF_* */
    uint32_t joined_by;    /* serial */
    uint32_t exit_stack;   /* exit site (THREAD_EXIT's stack), 0 if unknown */
    uint64_t start_ns;
    uint64_t exit_ns;
    uint64_t start_routine; /* address of the start routine */

    uint32_t park_seq;   /* seqlock: odd while park_* change */
    uint16_t park_op;    /* enum pw_park_op, PW_OP_NONE when running */
    uint16_t park_flags; /* PW_PARK_* */
    uint64_t park_obj;
    uint64_t park_obj2;
    uint64_t park_since_ns;
    uint32_t park_stack;
    int32_t park_fd;
    uint64_t parks; /* number of parks so far */

    uint32_t nheld;
    uint32_t held_overflow;
    uint64_t held[PW_HELD_MAX];
    uint8_t held_type[PW_HELD_MAX]; /* enum pw_obj_type; rwlock read side = PW_OBJ_RWLOCK|0x80 */

    uint64_t ring_head; /* events ever written into this slot's ring */
    /* PW_OP_POLL parks (poll, select, epoll): the channels of the set, covered by
     * park_seq like park_*.  park_set_n may exceed PW_PARK_SET_MAX (only the first
     * ones are listed); park_set_other counts members that are not channels. */
    uint16_t park_set_n;
    uint16_t park_set_other;
    uint32_t park_set[PW_PARK_SET_MAX]; /* channel id | PW_SET_SEND for a send-side wait */
    /* Where held[i] was taken (stack id: the whole stack when one was captured
     * then, else the one-frame call site; 0 unknown), for i < PW_HELD_SITES.
     * The lock path only remembers the caller's pc in the thread's own memory;
     * these are written when the thread parks (before park_seq moves) and when
     * it ends, so they are valid while the thread is parked or exited, stale
     * while it runs.  Zero in traces of older shims. */
    uint32_t held_site[PW_HELD_SITES];
    uint8_t reserved[4]; /* pads the record to PW_THREAD_REC_SIZE */
    /* followed by header.ring_events struct pw_event */
};

#define PW_THREAD_REC_SIZE 512u

/* Channel state (current state area).  open[side] counts the fds of that side
 * open in this process; a side is closed when it reaches 0 after having been
 * non-zero.  state is published last. */
enum pw_chan_state { PW_CS_FREE = 0, PW_CS_OPEN = 1, PW_CS_CLOSED = 2 };

#define PW_CF_INHERITED 0x1u  /* ends copied from the parent at fork */
#define PW_CF_NAMED 0x2u      /* has a user-given name (annotated queue, mq name) */
#define PW_CF_FORKED 0x4u     /* a child (fork, posix_spawn) got copies of its ends */
#define PW_CF_SHUT_RECV 0x8u  /* receive side shut down (shutdown(SHUT_RD) / peer SHUT_WR) */
#define PW_CF_SHUT_SEND 0x10u /* send side shut down: receivers see EOF */
#define PW_CF_UNLINKED 0x20u  /* mqueue name removed: a new mq_open is a new channel */
#define PW_CF_SEND_NONBLOCK \
    0x40u /* a send-side fd was non-blocking: the self-pipe
                                   * convention, so a signal handler (a wake-up from
                                   * outside the process) may write it */

struct pw_chan_rec {
    uint32_t state;   /* enum pw_chan_state */
    uint32_t id;      /* "pipe#<id>" */
    uint16_t type;    /* enum pw_obj_type */
    uint16_t flags;   /* PW_CF_* */
    uint32_t creator; /* serial of the creating thread */
    uint64_t create_ns;
    uint32_t create_stack;
    uint32_t close_stack[2]; /* last close of each side */
    uint32_t close_thread[2];
    int32_t fd[2];     /* fds at creation (side 0, side 1) */
    int32_t open[2];   /* fds of each side still open */
    uint64_t sent;     /* bytes (or messages) sent */
    uint64_t received; /* bytes (or messages) received */
    uint64_t eofs;     /* reads that returned 0 */
    uint64_t capacity; /* buffer size (pipe) or queue capacity, 0 unknown */
    uint64_t close_ns[2];
    uint64_t user_addr; /* annotated queue address */
    char name[32];
    /* The last send: its stack (cached per call site, so a send loop costs no
     * unwinding) and thread serial; 0 when unknown or from an older shim. */
    uint32_t last_send_stack;
    uint32_t last_send_thread;
    uint8_t reserved[32];
};

#define PW_CHAN_REC_SIZE 192u

/* A loaded module.  state is written last (1 = valid). */
struct pw_module {
    uint32_t state;
    uint32_t build_id_len;
    uint64_t base;   /* load bias (dlpi_addr) */
    uint64_t lo, hi; /* lowest and highest address covered by PT_LOAD */
    uint64_t load_ns;
    uint64_t unload_ns; /* 0 while loaded */
    uint8_t build_id[PW_BUILD_ID_MAX];
    char path[PW_MODULE_PATH_MAX];
    uint8_t reserved[8];
};

#define PW_MODULE_SIZE 608u

/* Stack depot record in the pool, 8-byte aligned.  A stack id is the record's
 * offset in the pool divided by 8 (offset 0 is reserved: id 0 = no stack).  The
 * index is an open-addressing table of uint32_t ids; a slot is published with a
 * release CAS after the record is complete.  pcs[0] is the innermost frame (the
 * caller of the interposed function); frames of the shim itself are skipped. */
struct pw_stack_rec {
    uint32_t hash;
    uint16_t nframes;
    uint16_t flags;
    uint64_t pcs[]; /* nframes return addresses (pcs[0] is a call site too) */
};

/* A timer of the process (header.timers).  The shim writes deadline_ns and
 * interval_ns with relaxed atomic stores; a reader takes them as a snapshot. */
#define PW_TIMERS_MAX 16u
#define PW_TIMER_NOTIFY_SIGNAL 0u /* SIGEV_SIGNAL (alarm and setitimer too) */
#define PW_TIMER_NOTIFY_THREAD 1u /* SIGEV_THREAD: a new thread calls the function */
#define PW_TIMER_NOTIFY_NONE 2u   /* SIGEV_NONE: nothing happens at expiry */

struct pw_timer_rec {
    uint32_t state;       /* 0 free, 1 in use (claimed with a CAS) */
    int32_t signo;        /* PW_TIMER_NOTIFY_SIGNAL: the signal sent at expiry */
    uint32_t notify;      /* PW_TIMER_NOTIFY_* */
    int32_t clock;        /* clockid_t of a POSIX timer (TIMER_ABSTIME times count on it) */
    uint64_t id;          /* timer_t of a POSIX timer; 0 for timers[0] */
    uint64_t deadline_ns; /* next expiry, absolute CLOCK_MONOTONIC; 0 = disarmed */
    uint64_t interval_ns; /* period, 0 for a one-shot */
};

_Static_assert(sizeof(struct pw_timer_rec) == 40, "timer record size");

/* Trace header. Fields after the fixed part may be added in minor versions. */
struct pw_trace_header {
    char magic[8];
    uint16_t version_major;
    uint16_t version_minor;
    uint32_t header_size; /* PW_HEADER_SIZE */
    uint32_t event_size;  /* sizeof(struct pw_event) */
    uint32_t thread_rec_size;
    uint32_t chan_rec_size;
    uint32_t module_size;
    uint64_t file_size;

    int32_t pid;
    int32_t ppid;
    uint32_t clock_id; /* CLOCK_MONOTONIC */
    uint32_t exec_gen; /* 0 for the first image of this pid, +1 per exec */
    uint64_t start_realtime_ns;
    uint64_t start_mono_ns;    /* absolute CLOCK_MONOTONIC at start; event times are relative */
    uint64_t proc_start_ticks; /* /proc/<pid>/stat starttime, to tell a live pid from reuse */

    struct pw_section modules;
    struct pw_section depot_index; /* count = slots (power of two), entry_size 4 */
    struct pw_section depot_pool;  /* bytes */
    struct pw_section chans;
    struct pw_section notes;   /* struct pw_event, never overwritten */
    struct pw_section threads; /* count slots of thread_slot_size bytes */
    uint32_t ring_events;      /* events per thread ring */
    uint32_t thread_slot_size; /* PW_THREAD_REC_SIZE + ring_events * event_size */

    /* counters, updated atomically by the shim */
    uint64_t depot_used;   /* bytes used in the pool */
    uint32_t nmodules;     /* module entries used */
    uint32_t next_serial;  /* last thread serial handed out */
    uint32_t threads_used; /* slots claimed at least once */
    uint32_t next_chan_id; /* last channel id handed out */
    uint32_t chans_used;
    uint32_t notes_used;
    uint64_t dropped_events;  /* events not recorded (no slot, guard, full) */
    uint64_t dropped_stacks;  /* stacks not stored (depot full) */
    uint64_t dropped_threads; /* threads without a slot */
    uint64_t dropped_chans;
    uint64_t dropped_notes;
    uint64_t recycled_threads; /* slots of finished threads reused */
    uint32_t recording;        /* 1 while the shim records; 0 after it gave up */
    uint32_t options_flags;

    /* how the process ended: set by the shim's exit path, by a watchdog, or
     * patched by `parkwatch run` after waitpid */
    uint32_t end_kind;  /* enum pw_end_kind */
    int32_t end_status; /* exit status or signal number; -1 unknown */
    uint64_t end_ns;    /* while end_kind is RUNNING: the last time a reader saw the
                      * process alive (analyzer/model/probe.c), 0 if none did */

    uint32_t argc;
    uint32_t argv_len; /* bytes used in argv */
    char exe[PW_EXE_MAX];
    char argv[PW_ARGV_MAX];
    char options[512];      /* PARKWATCH_OPTIONS as seen by the shim */
    uint64_t lock_edges;    /* LOCK_EDGE notes written */
    uint64_t dropped_edges; /* lock-order edges not recorded (edge set full, or
                                  taken while holding more than PW_HELD_MAX locks) */
    /* minor 1: evidence that never wraps.  A 1.0 trace reads these as 0. */
    uint32_t forks;           /* children forked or spawned by this image */
    int32_t last_child_pid;   /* the latest of them (0 if none) */
    uint32_t notes_reserve;   /* the last notes of the log, kept from lock-order
                              * edges: exits, held-at-exit, lock lives, process
                              * end and first acts always find room */
    uint32_t edges_per_class; /* instance edges kept per (class pair, thread) */
    uint64_t dropped_acts;    /* first acts not noted (their set was full): the
                               * wakers of an object may be incomplete */
    uint64_t folded_edges;    /* lock-order edges not written: their (class of A,
                               * class of B, thread) already had edges_per_class */
    /* minor 1 too.  Armed timers (alarm, setitimer, timer_create/timer_settime), so that a
     * watcher knows a signal or a SIGEV_THREAD call can still come: a thread
     * parked while a timer is armed is not parked forever.  timers[0] is the
     * process's ITIMER_REAL (alarm and setitimer share it); the others are
     * POSIX timers.  timers_overflow counts timers created without a free
     * entry: their state is unknown. */
    uint32_t timers_overflow;
    uint32_t timers_reserved;
    struct pw_timer_rec timers[PW_TIMERS_MAX];
    /* minor 3.  Bumped (atomically) by every park, unpark, thread start and
     * thread exit, the moments that already write a record; never on the
     * uncontended lock path.  A watcher that finds it unchanged since its last
     * look knows no thread's park state changed, and skips the process. */
    uint64_t park_gen;
    /* reserved up to PW_HEADER_SIZE */
};

_Static_assert(sizeof(struct pw_event) == 64, "event record is 64 bytes");
_Static_assert(sizeof(struct pw_thread_rec) <= PW_THREAD_REC_SIZE, "thread record fits");
_Static_assert(sizeof(struct pw_chan_rec) == PW_CHAN_REC_SIZE, "channel record size");
_Static_assert(sizeof(struct pw_module) == PW_MODULE_SIZE, "module record size");
_Static_assert(sizeof(struct pw_trace_header) <= PW_HEADER_SIZE, "header fits");

/* Module slots in the trace.  Not an option: the other section sizes are
 * (parkwatch/options.h holds their defaults and bounds). */
#define PW_DEFAULT_MAX_MODULES 512u

/* Thread slot address helper. */
static inline struct pw_thread_rec *pw_thread_slot(void *base, const struct pw_trace_header *h,
                                                   uint32_t i)
{
    return (struct pw_thread_rec *)((char *)base + h->threads.offset +
                                    (uint64_t)i * h->thread_slot_size);
}

static inline struct pw_event *pw_thread_ring(struct pw_thread_rec *t)
{
    return (struct pw_event *)((char *)t + PW_THREAD_REC_SIZE);
}

/* ---- Naming and starting a trace, shared by the shim (which must not use
 * stdio: these are plain loops) and the analyzer's readers and tests. */

/* A trace file is "parkwatch.<pid>.trace" for a process's first image and
 * "parkwatch.<pid>.<gen>.trace" for image GEN > 0 started by an exec (the pid
 * stays, so the first free suffix is the exec generation). */
#define PW_TRACE_FILE_PREFIX "parkwatch."
#define PW_TRACE_FILE_SUFFIX ".trace"

/* Appends S at *POS of BUF (CAP bytes), truncating so that BUF stays
 * NUL-terminated. */
static inline void pw_trace_name_put(char *buf, size_t cap, size_t *pos, const char *s)
{
    for (; *s != '\0' && *pos + 1 < cap; s++)
        buf[(*pos)++] = *s;
    if (cap != 0)
        buf[*pos < cap ? *pos : cap - 1] = '\0';
}

static inline void pw_trace_name_put_u64(char *buf, size_t cap, size_t *pos, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp - 1;
    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    pw_trace_name_put(buf, cap, pos, tmp + i);
}

/* Writes DIR "/" name-of(PID, GEN) into BUF (CAP bytes, truncated, always
 * NUL-terminated when CAP > 0); DIR NULL gives the bare name.  Returns the
 * length written. */
static inline size_t pw_trace_file_name(char *buf, size_t cap, const char *dir, uint64_t pid,
                                        uint32_t gen)
{
    size_t n = 0;
    if (cap != 0)
        buf[0] = '\0';
    if (dir != NULL) {
        pw_trace_name_put(buf, cap, &n, dir);
        pw_trace_name_put(buf, cap, &n, "/");
    }
    pw_trace_name_put(buf, cap, &n, PW_TRACE_FILE_PREFIX);
    pw_trace_name_put_u64(buf, cap, &n, pid);
    if (gen != 0) {
        pw_trace_name_put(buf, cap, &n, ".");
        pw_trace_name_put_u64(buf, cap, &n, gen);
    }
    pw_trace_name_put(buf, cap, &n, PW_TRACE_FILE_SUFFIX);
    return n;
}

/* True when NAME (a directory entry) has the form of a trace file name:
 * PW_TRACE_FILE_PREFIX, anything, PW_TRACE_FILE_SUFFIX, not overlapping. */
static inline int pw_trace_file_name_matches(const char *name)
{
    static const char pre[] = PW_TRACE_FILE_PREFIX, suf[] = PW_TRACE_FILE_SUFFIX;
    size_t len = 0, i;
    while (name[len] != '\0')
        len++;
    if (len < sizeof pre - 1 + sizeof suf - 1)
        return 0;
    for (i = 0; i < sizeof pre - 1; i++)
        if (name[i] != pre[i])
            return 0;
    for (i = 0; i < sizeof suf - 1; i++)
        if (name[len - (sizeof suf - 1) + i] != suf[i])
            return 0;
    return 1;
}

/* The fields every trace starts with: identity and record sizes, the ring
 * length (RING_EVENTS per thread slot) and the state of a trace still being
 * recorded.  The writer fills in the rest (sections, process, clock). */
static inline void pw_trace_header_init(struct pw_trace_header *h, uint32_t ring_events)
{
    static const char magic[] = PW_TRACE_MAGIC;
    for (size_t i = 0; i < sizeof h->magic; i++)
        h->magic[i] = magic[i];
    h->version_major = PW_TRACE_VERSION_MAJOR;
    h->version_minor = PW_TRACE_VERSION_MINOR;
    h->header_size = PW_HEADER_SIZE;
    h->event_size = sizeof(struct pw_event);
    h->thread_rec_size = PW_THREAD_REC_SIZE;
    h->chan_rec_size = PW_CHAN_REC_SIZE;
    h->module_size = PW_MODULE_SIZE;
    h->ring_events = ring_events;
    h->thread_slot_size = PW_THREAD_REC_SIZE + ring_events * (uint32_t)sizeof(struct pw_event);
    h->recording = 1;
    h->end_kind = PW_END_RUNNING;
    h->end_status = -1;
}

#endif
