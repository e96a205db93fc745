#ifndef PW_STRESS_NOINFO_H
#define PW_STRESS_NOINFO_H

#include <pthread.h>

/* pipe(P), called from a frame without unwind information */
int noinfo_pipe(int p[2]);
/* waits on CV under M until *FLAG, in a frame without unwind information */
int noinfo_wait(pthread_mutex_t *m, pthread_cond_t *cv, volatile int *flag);

#endif
