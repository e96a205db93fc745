/* userchan.c: annotated user queues (include/parkwatch.h).  Between
 * parkwatch_chan_send_begin/_end (recv_begin/_end) the thread is inside an
 * operation on queue ID: a cond wait there is a park on the queue (i_cond.c
 * records op PW_OP_USER_SEND/RECV, obj = channel id, obj2 = the cond). */
#ifndef PW_USERCHAN_H
#define PW_USERCHAN_H

#include "shim.h"

struct pw_uq_cur {
    uint16_t op;                   /* PW_OP_USER_SEND / PW_OP_USER_RECV, PW_OP_NONE outside */
    uint16_t dead;                 /* a send begun after the close: not counted as sent */
    uint32_t id;                   /* channel id */
    uint32_t last_sent, last_recv; /* queue of the thread's last send/recv event */
};
extern __thread struct pw_uq_cur pw_uq_cur __attribute__((tls_model("initial-exec")));

/* A park in *OP on *OBJ (a cond, a sem) that happens inside an annotated queue
 * operation is a park on the queue: the object moves to *OBJ2. */
static inline void pw_uq_park(uint16_t *op, uint64_t *obj, uint64_t *obj2)
{
    if (PW_LIKELY(pw_uq_cur.op == PW_OP_NONE))
        return;
    *op = pw_uq_cur.op;
    *obj2 = *obj;
    *obj = pw_uq_cur.id;
}

#endif
