/* Lock misuse notes.  Each check looks at the other threads' records (held
 * sets, parks) only once the caller already knows something is wrong, or on a
 * cond wait or destroy, which are slow calls anyway: reading another thread's
 * record is racy, and a stale read can only name the wrong other thread, never
 * invent a misuse (the misuse itself comes from the caller's own answer). */
#include <errno.h>

#include "event.h"
#include "lockmisuse.h"
#include "stack.h"
#include "threads.h"
#include "tls.h"
#include "tracefile.h"

/* Another live thread whose held set lists OBJ, or NULL. */
static struct pw_thread_rec *holder_of(uint64_t obj)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (t == pw_tls.rec || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint32_t n = PW_LOAD_RELAXED(&t->nheld);
        for (uint32_t h = 0; h < n && h < PW_HELD_MAX; h++)
            if (t->held[h] == obj)
                return t;
    }
    return NULL;
}

/* Another live thread parked in a cond wait on C whose mutex is not M (any
 * mutex when M is 0), or NULL; its park stack into *STACK. */
static struct pw_thread_rec *cond_waiter(uint64_t c, uint64_t m, uint32_t *stack)
{
    uint32_t used = PW_LOAD(&pw_tf.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (t == pw_tls.rec || PW_LOAD(&t->state) != PW_TS_ALIVE)
            continue;
        uint32_t seq = PW_LOAD(&t->park_seq);
        bool hit = t->park_op == PW_OP_COND_WAIT && t->park_obj == c &&
                   (m == 0 || t->park_obj2 != m);
        uint32_t st = t->park_stack;
        if (hit && (seq & 1) == 0 && PW_LOAD(&t->park_seq) == seq) {
            *stack = st;
            return t;
        }
    }
    return NULL;
}

static void note(uint16_t kind, uint16_t type, uint64_t obj, uint64_t obj2,
                 const struct pw_thread_rec *other, uint32_t stack2)
{
    struct pw_event ev = {.kind = PW_EV_MISUSE,
                          .op = kind,
                          .obj = obj,
                          .obj2 = obj2,
                          .result = type,
                          .stack = pw_stack_capture(),
                          .stack2 = stack2,
                          .arg = other != NULL ? other->serial : 0};
    pw_note(&ev);
}

void pw_lock_misuse(uint16_t kind, uint16_t type, uint64_t obj, uint64_t obj2)
{
    int err = errno;
    pw_tls.guard++;
    if (pw_self() != NULL && pw_tf.hdr != NULL) {
        struct pw_thread_rec *h = holder_of(obj);
        uint32_t stack2 = 0;
        if (h != NULL) {
            uint32_t seq = PW_LOAD(&h->park_seq);
            uint32_t st = h->park_op != PW_OP_NONE ? h->park_stack : 0;
            if ((seq & 1) == 0 && PW_LOAD(&h->park_seq) == seq)
                stack2 = st;
        }
        note(kind, type, obj, obj2, h, stack2);
    }
    pw_tls.guard--;
    errno = err;
}

void pw_cond_wait_check(uint64_t c, uint64_t m)
{
    if (pw_tf.hdr == NULL)
        return;
    uint32_t stack2 = 0;
    struct pw_thread_rec *o = cond_waiter(c, m, &stack2);
    if (o != NULL)
        note(PW_MISUSE_COND_TWO_MUTEXES, PW_OBJ_COND, c, m, o, stack2);
}

void pw_cond_destroy_check(uint64_t c)
{
    int err = errno;
    pw_tls.guard++;
    uint32_t stack2 = 0;
    struct pw_thread_rec *o = pw_self() != NULL && pw_tf.hdr != NULL ? cond_waiter(c, 0, &stack2)
                                                                     : NULL;
    if (o != NULL)
        note(PW_MISUSE_DESTROY_BUSY_COND, PW_OBJ_COND, c, 0, o, stack2);
    pw_tls.guard--;
    errno = err;
}
