/* Channels across exec (exec.c). */
#ifndef PW_EXEC_H
#define PW_EXEC_H

#include <stdint.h>

/* exec (i_proc.c): book FD_CLOEXEC closes and list the kept channel fds; undo
 * the closes if the exec returns.  A new image of exec generation GEN > 0
 * inherits the kept channels from the previous image's trace (init.c). */
void pw_chans_exec_before(void);
void pw_chans_exec_failed(void);
void pw_chans_exec_inherit(uint32_t gen);

#endif
