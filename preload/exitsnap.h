/* exitsnap.c: the kernel's view of unfollowed threads at an orderly exit. */
#ifndef PW_EXITSNAP_H
#define PW_EXITSNAP_H

/* Called from the exit path with the guard held. */
void pw_exit_snapshot(void);

#endif
