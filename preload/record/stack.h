/* Stack capture into the trace's depot (stack.c). */
#ifndef PW_STACK_H
#define PW_STACK_H

#include "shim.h"

uint32_t pw_stack_capture(void);
/* The stack PCS[0..N) (return addresses, innermost first) stored as is. */
uint32_t pw_stack_of_pcs(const uint64_t *pcs, unsigned n);
void pw_stack_warmup(void);
void pw_stack_after_fork(void); /* fork child: backtrace() only */
/* True while this thread runs libunwind: the pipe interposers refuse to
 * create a pipe for it (the shim owns no fd; see stack.c). */
bool pw_stack_refuses_fds(void);

/* The shim's own code: frames in [pw_self_lo, pw_self_hi) are skipped (set by
 * modules.c when it finds our module). */
extern uint64_t pw_self_lo, pw_self_hi;

#endif
