/* Built with -fno-asynchronous-unwind-tables -fno-unwind-tables (see
 * meson.build): these frames have no unwind information at all, as in code
 * from a toolchain or an assembler that emits none.  An unwinder that meets
 * one must either stop or guess (libunwind guesses from the frame pointer and
 * validates the guess), never touch the host's file descriptors. */
#include <pthread.h>
#include <unistd.h>

#include "noinfo.h"

int noinfo_pipe(int p[2])
{
    return pipe(p);
}

int noinfo_wait(pthread_mutex_t *m, pthread_cond_t *cv, volatile int *flag)
{
    int rc = pthread_mutex_lock(m);
    while (rc == 0 && !*flag)
        rc = pthread_cond_wait(cv, m);
    return rc != 0 ? rc : pthread_mutex_unlock(m);
}
