/* First acts of a thread on an object, kept in the notes (acts.h).
 *
 * A process-wide lock-free set of fingerprints of (thread serial, kind, op,
 * object) says whether an act was already noted.  Only callers that already
 * write an event reach it (a cond signal run, a post run, a channel I/O, which
 * is a system call anyway): the uncontended lock path never does.
 *
 * Degrading: when a probe finds no room, the act is written to the ring as
 * before and counted in header.dropped_acts, so the report can say that the
 * set of wakers may be incomplete. */
#include "acts.h"

#include <sys/mman.h>

#include "event.h"
#include "shim.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"
#include "util.h"

#define ACT_SLOTS (1u << 15) /* 256 KiB of address space, backed as used */
#define MAX_PROBE 32u

/* Wiped in a fork child (MADV_WIPEONFORK): the child's trace starts empty, so
 * each of its acts is a first one there. */
static uint64_t *acts;

void pw_acts_init(void)
{
    size_t bytes = ACT_SLOTS * sizeof *acts;
    uint64_t *p = pw_anon_map(bytes);
    if (p == NULL)
        return; /* every act stays in the ring, as dropped_acts will not say */
    if (madvise(p, bytes, MADV_WIPEONFORK) != 0) {
        /* an older kernel: a child's first acts on objects its parent's thread
         * of the same serial already noted stay in its ring */
    }
    acts = p;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

/* 1: FP was not in the set (now it is); 0: it was; -1: no room. */
static int act_insert(uint64_t fp)
{
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        uint64_t *e = &acts[(fp + i) & (ACT_SLOTS - 1)];
        uint64_t v = PW_LOAD(e);
        if (v == fp)
            return 0;
        if (v != 0)
            continue;
        if (__atomic_compare_exchange_n(e, &v, fp, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return 1;
        if (v == fp)
            return 0;
    }
    return -1;
}

void pw_act(struct pw_event *ev)
{
    if (acts == NULL || pw_tf.hdr == NULL || pw_self() == NULL) {
        pw_emit(pw_self(), ev);
        return;
    }
    uint64_t fp = mix(mix(mix(0xac75, pw_tls.serial), ((uint64_t)ev->kind << 16) | ev->op),
                      ev->obj);
    fp |= 1; /* 0 marks a free slot */
    int r = act_insert(fp);
    if (r == 1) {
        pw_note(ev);
        return;
    }
    if (r < 0)
        __atomic_add_fetch(&pw_tf.hdr->dropped_acts, 1, __ATOMIC_RELAXED);
    pw_emit(pw_self(), ev);
}
