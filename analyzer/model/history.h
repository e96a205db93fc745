/* Per-event history of a process, for timelines (--format perfetto, the HTML
 * report's parks): the parks as spans and the channel acts as points, in time
 * order, with the model's threads and objects.  It comes from the rings only,
 * so it is history, never evidence (STYLE "Evidence is state, history is the
 * ring"): a wrapped ring loses the oldest events, and `lost` says how many.
 * Kept apart from model.c, which it only calls through model.h. */
#ifndef PW_HISTORY_H
#define PW_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_process;
struct pw_thread;
struct pw_object;

/* X(enum suffix, name) */
#define PW_HIST_KINDS(X) \
    X(PARK, "park")      \
    X(SEND, "send")      \
    X(RECV, "recv")      \
    X(CLOSE, "close")    \
    X(START, "start")    \
    X(EXIT, "exit")

enum pw_hist_kind {
#define PW_X(e, s) PW_HIST_##e,
    PW_HIST_KINDS(PW_X)
#undef PW_X
};

const char *pw_hist_kind_name(enum pw_hist_kind k);

/* One span (a park) or point (everything else: end_ns == begin_ns).
 * Invariant: t is never NULL; o is the object parked on or the channel acted
 * on (NULL for START and EXIT). */
struct pw_hist {
    enum pw_hist_kind kind;
    struct pw_thread *t;
    struct pw_object *o;
    int op;                    /* PARK: enum pw_park_op */
    uint64_t begin_ns, end_ns; /* since the process start */
    bool open;                 /* a park still going at the end of the trace */
    bool timed;                /* a park that could time out */
    int64_t result;            /* UNPARK's, SEND's or RECV's return value */
    int err;
    uint64_t bytes; /* SEND, RECV: bytes (messages for an mqueue) */
    int side;       /* CLOSE: PW_SIDE_* */
    uint32_t stack; /* park, close or channel creation stack, 0 if none */
    size_t order;   /* position in the rings' merge: keeps ties in event order */
};

struct pw_history {
    size_t n;
    struct pw_hist *v; /* sorted by (begin_ns, thread serial) */
    uint64_t lost;     /* events of this process the rings overwrote */
};

/* Builds P's history into H (objects it names but the model did not have yet
 * are added to the model, so every report names them alike).  0, or -1 when
 * out of memory (H is then empty). */
int pw_model_history(struct pw_process *p, struct pw_history *h);
void pw_history_free(struct pw_history *h);

#endif
