/* Event recording for the calling thread: ring events, notes, park state. */
#include <errno.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "ring.h"
#include "shim.h"
#include "tls.h"
#include "tracefile.h"

void pw_emit(struct pw_thread_rec *t, struct pw_event *ev)
{
    pw_park_flush(); /* a park that ended before this event comes first */
    if (t == NULL) {
        if (pw_tf.hdr != NULL)
            __atomic_add_fetch(&pw_tf.hdr->dropped_events, 1, __ATOMIC_RELAXED);
        return;
    }
    if (ev->time_ns == 0)
        ev->time_ns = pw_now();
    ev->thread = pw_tls.serial;
    /* A fresh slot is backed only as far as its record (most threads write a
     * handful of events: backing the whole ring cost thread churn 4 pages of
     * faults each); the ring's pages are backed as its first lap reaches them.
     * Events are 64-byte aligned, so one starts at every page boundary. */
    uint64_t head = t->ring_head;
    if (PW_UNLIKELY(head < pw_cfg.ring_events)) {
        struct pw_event *next = &pw_thread_ring(t)[head];
        uint64_t left = (pw_cfg.ring_events - head) * sizeof *next; /* to the ring's end */
        if (((uintptr_t)next & (PW_PAGE - 1)) == 0 &&
            !pw_trace_reserve(next, left < PW_PAGE ? left : PW_PAGE))
            return;
    }
    pw_ring_put(t, pw_cfg.ring_events, ev);
}

void pw_note(struct pw_event *ev)
{
    if (pw_tf.hdr == NULL)
        return;
    /* notes fill the section from the front, into holes of the file */
    static struct pw_backing notes;
    struct pw_trace_header *h = pw_tf.hdr;
    if (!pw_trace_back(&notes, pw_tf.base + h->notes.offset, h->notes.size,
                       (PW_LOAD_RELAXED(&h->notes_used) + 1ull) * sizeof *ev))
        return;
    ev->time_ns = pw_now();
    ev->thread = pw_tls.serial;
    pw_notes_put(pw_tf.hdr, pw_tf.base, ev);
}

/* The park fields are covered by park_seq: odd while they change, so that a
 * reader of a live process never pairs one park's op with another's object. */
static void park_write(struct pw_thread_rec *t, uint16_t op, uint16_t flags, uint64_t obj,
                       uint64_t obj2, int32_t fd, uint32_t stack, uint64_t now)
{
    uint32_t s = t->park_seq;
    PW_STORE_RELAXED(&t->park_seq, s + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    t->park_op = op;
    t->park_flags = flags;
    t->park_obj = obj;
    t->park_obj2 = obj2;
    t->park_fd = fd;
    t->park_stack = stack;
    t->park_since_ns = now;
    PW_STORE(&t->park_seq, s + 2);
    pw_trace_park_changed();
}

uint32_t (*pw_held_site)(const struct pw_thread_rec *t, uint32_t i);

void pw_held_sites_mirror(struct pw_thread_rec *t)
{
    uint32_t (*site)(const struct pw_thread_rec *, uint32_t) = pw_held_site;
    uint32_t n = t->nheld < PW_HELD_SITES ? t->nheld : PW_HELD_SITES;
    for (uint32_t i = 0; i < n; i++)
        t->held_site[i] = site != NULL ? site(t, i) : 0;
}

void pw_park_begin(struct pw_thread_rec *t, uint16_t op, uint16_t flags, uint64_t obj,
                   uint64_t obj2, int32_t fd, uint32_t stack)
{
    uint64_t now = pw_now();
    /* a parked holder is the next link of its waiters' chains: say where it
     * took what it holds ("held by T2 since worker_step") */
    if (t->nheld != 0)
        pw_held_sites_mirror(t);
    park_write(t, op, flags, obj, obj2, fd, stack, now);
    t->parks++;
    struct pw_event ev = {.time_ns = now,
                          .kind = PW_EV_PARK,
                          .op = op,
                          .obj = obj,
                          .obj2 = obj2,
                          .arg = flags,
                          .stack = stack};
    pw_emit(t, &ev);
}

void pw_park_end(struct pw_thread_rec *t, uint16_t op, uint64_t obj, int64_t result, int err,
                 uint64_t arg)
{
    uint64_t now = pw_now();
    park_write(t, PW_OP_NONE, 0, 0, 0, -1, 0, now);
    struct pw_event ev = {.time_ns = now,
                          .kind = PW_EV_UNPARK,
                          .op = op,
                          .obj = obj,
                          .arg = arg,
                          .result = (int32_t)result,
                          .err = err};
    pw_emit(t, &ev);
}

void pw_park_after(struct pw_thread_rec *t, uint16_t op, uint64_t obj, uint32_t stack,
                   uint64_t since, uint64_t until, int64_t result)
{
    uint64_t start = pw_tf.start_mono;
    if (t == NULL || since < start)
        return; /* a park of the parent process, pending at a fork */
    t->parks++;
    struct pw_event ev = {.time_ns = since - start,
                          .kind = PW_EV_PARK,
                          .op = op,
                          .obj = obj,
                          .stack = stack};
    pw_emit(t, &ev);
    struct pw_event un = {.time_ns = until - start,
                          .kind = PW_EV_UNPARK,
                          .op = op,
                          .obj = obj,
                          .result = (int32_t)result};
    pw_emit(t, &un);
}

void pw_park_flush_slow(void)
{
    uint64_t obj = pw_tls.pend_obj;
    pw_tls.pend_obj = 0; /* first: the events below go through pw_emit */
    pw_park_after(pw_tls.rec, PW_OP_MUTEX_LOCK, obj, pw_tls.pend_stack, pw_tls.pend_since,
                  pw_tls.pend_until, pw_tls.pend_result);
}

void pw_park_publish(struct pw_thread_rec *t, uint16_t op, uint64_t obj, uint32_t stack,
                     uint64_t since)
{
    if (t->nheld != 0)
        pw_held_sites_mirror(t);
    park_write(t, op, 0, obj, 0, -1, stack, since);
}

void pw_park_clear(struct pw_thread_rec *t)
{
    park_write(t, PW_OP_NONE, 0, 0, 0, -1, 0, 0);
}

void pw_park_confirm(struct pw_thread_rec *t, uint16_t op, uint64_t obj, uint32_t stack,
                     uint64_t since)
{
    park_write(t, op, 0, obj, 0, -1, stack, since);
    t->parks++;
    struct pw_event ev = {.time_ns = since,
                          .kind = PW_EV_PARK,
                          .op = op,
                          .obj = obj,
                          .stack = stack};
    pw_emit(t, &ev);
}

/* Cancellation (or a forced unwind) inside a park skips the code after the real
 * call: this handler, pushed around every cancellable park, closes the park so
 * the record does not show a dead thread parked forever. */
void pw_park_cancelled(void *arg)
{
    struct pw_thread_rec *t = pw_tls.rec;
    if (t == NULL || t->park_op == PW_OP_NONE)
        return;
    pw_tls.guard++;
    pw_park_end(t, (uint16_t)(uintptr_t)arg, t->park_obj, -1, ECANCELED, 0);
    pw_tls.guard--;
}
