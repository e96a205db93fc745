/* Built without unwind tables, with frame pointers (see meson.build): a frame
 * as code from a toolchain or an assembler that emits no unwind information
 * leaves it.  noinfo_park.c parks through it. */
#include <pthread.h>

int noinfo_lock(pthread_mutex_t *m);

int noinfo_lock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_lock(m);
    return rc != 0 ? rc : pthread_mutex_unlock(m);
}
