/* The shim side of include/parkwatch.h: the header looks these up with dlsym
 * ("parkwatch_impl_<name>") and does nothing without the shim.  Channel
 * annotations (parkwatch_chan_*) come with the user-queue channels.
 *
 * verify_none is goleak's VerifyNone: the threads created, directly or
 * through other threads, by the calling thread since its checkpoint must all
 * have ended within the timeout; threads of parallel test cases descend from
 * other threads and are not counted. */
#include <string.h>
#include <time.h>

#include "shim.h"

/* Per-thread checkpoint: serials above cp_serial were created after it. */
static __thread uint32_t pw_cp_serial __attribute__((tls_model("initial-exec")));
static __thread char pw_cp_label[32] __attribute__((tls_model("initial-exec")));

static const char *const pw_op_names[] = {
#define PW_X(name, str) str,
    PW_PARK_OPS(PW_X)
#undef PW_X
};

PW_EXPORT int parkwatch_impl_active(void)
{
    return pw_on() || (pw_tls.guard != 0 && pw_g.hdr != NULL);
}

PW_EXPORT int parkwatch_impl_checkpoint(const char *label)
{
    if (!pw_on())
        return -1;
    pw_cp_serial = PW_LOAD(&pw_g.hdr->next_serial);
    pw_strlcpy(pw_cp_label, label != NULL ? label : "", sizeof pw_cp_label);
    return 0;
}

static struct pw_thread_rec *by_serial(uint32_t serial)
{
    uint32_t used = PW_LOAD(&pw_g.hdr->threads_used);
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
    for (int depth = 0; depth < 1024 && s > cp; depth++) {
        const struct pw_thread_rec *p = by_serial(s);
        if (p == NULL) /* slot recycled: the chain is lost */
            return false;
        s = p->parent_serial;
    }
    return s == me;
}

/* Live descendants; with REPORT, one stderr line each. */
static int leaked(uint32_t me, uint32_t cp, bool report)
{
    int n = 0;
    uint32_t used = PW_LOAD(&pw_g.hdr->threads_used);
    for (uint32_t i = 0; i < used; i++) {
        struct pw_thread_rec *t = pw_slot(i);
        if (PW_LOAD(&t->state) != PW_TS_ALIVE || t->serial <= cp || !descends(t, me, cp))
            continue;
        n++;
        if (!report)
            continue;
        char serial[16], tid[16];
        pw_append_u64(serial, 0, sizeof serial, t->serial);
        pw_append_u64(tid, 0, sizeof tid, (uint64_t)(t->tid > 0 ? t->tid : 0));
        uint16_t op = t->park_op < PW_OP__COUNT ? t->park_op : PW_OP_NONE;
        pw_warn("  leaked thread T", serial, " tid ", tid, " (", t->name, ") ",
                op != PW_OP_NONE ? "parked in " : "running", op != PW_OP_NONE ? pw_op_names[op] : "",
                NULL);
    }
    return n;
}

PW_EXPORT int parkwatch_impl_verify_none(unsigned timeout_ms)
{
    if (!pw_on() || pw_self() == NULL)
        return 0;
    uint32_t me = pw_tls.serial, cp = pw_cp_serial;
    struct timespec step = {0, 5 * 1000 * 1000};
    for (unsigned waited = 0;; waited += 5) {
        if (leaked(me, cp, false) == 0)
            return 0;
        if (waited >= timeout_ms)
            break;
        nanosleep(&step, NULL);
    }
    pw_tls.guard++;
    char count[16];
    pw_append_u64(count, 0, sizeof count, (uint64_t)leaked(me, cp, false));
    pw_warn("verify_none(", pw_cp_label, "): ", count,
            " thread(s) created since the checkpoint are still alive", NULL);
    int n = leaked(me, cp, true);
    pw_tls.guard--;
    return n > 0 ? n : 1;
}
