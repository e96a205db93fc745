/* Traced work that wraps the calling thread's event ring many times (the
 * default ring keeps 256 events): 4000 one-byte round trips through a private
 * pipe, each a send and a receive event.  Verdicts must not change with it:
 * the evidence they rely on lives outside the ring (issue 14). */
#ifndef PW_WRAP_BUSY_H
#define PW_WRAP_BUSY_H

#include "victim.h"

static inline void wrap_ring(void)
{
    int q[2];
    if (pipe(q) != 0)
        die("pipe", errno);
    char c = 'x';
    for (int i = 0; i < 4000; i++)
        if (write(q[1], &c, 1) != 1 || read(q[0], &c, 1) != 1)
            die("round trip", errno);
    close(q[0]);
    close(q[1]);
}

#endif
