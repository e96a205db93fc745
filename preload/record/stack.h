/* Stack capture into the trace's depot (stack.c). */
#ifndef PW_STACK_H
#define PW_STACK_H

#include "shim.h"

uint32_t pw_stack_capture(void);
void pw_stack_warmup(void);
void pw_stack_after_fork(void); /* fork child: backtrace() only */

/* The shim's own code: frames in [pw_self_lo, pw_self_hi) are skipped (set by
 * modules.c when it finds our module). */
extern uint64_t pw_self_lo, pw_self_hi;

#endif
