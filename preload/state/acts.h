/* First acts (acts.c): the first time a thread signals or broadcasts a cond,
 * posts a semaphore, or sends or receives on a channel, the event goes to the
 * notes instead of the ring.  Detectors and the watchdog rely on who could wake
 * an object (its signallers, posters, senders and receivers); the ring wraps,
 * the notes do not, so that set survives any amount of later work.  Later acts
 * of the same thread on the same object stay ring history. */
#ifndef PW_ACTS_H
#define PW_ACTS_H

#include "parkwatch/trace.h"

void pw_acts_init(void);
/* Records EV (COND_SIGNAL, CHAN_SEND or CHAN_RECV of the calling thread): as a
 * note if it is the thread's first such act on EV's object, else in the ring. */
void pw_act(struct pw_event *ev);

#endif
