/* The real functions behind our interposers: one X-macro list, resolved once
 * with dlsym(RTLD_NEXT) (dlvsym for the versioned cond family), stored through a
 * union of function and object pointer so no cast between the two is needed. */
#ifndef PW_REAL_H
#define PW_REAL_H

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <unistd.h>

/* Not declared unless _FORTIFY_SOURCE is on. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);

/* X(name, version): version is the symbol version to ask dlvsym for first
 * (NULL: plain dlsym).  pthread_cond_* exist twice in glibc; the 2.3.2 ones are
 * what every program built since 2003 calls. */
#define PW_REAL_FUNCS(X)                          \
    X(pthread_create, NULL)                       \
    X(pthread_exit, NULL)                         \
    X(pthread_join, NULL)                         \
    X(pthread_detach, NULL)                       \
    X(pthread_setname_np, NULL)                   \
    X(pthread_mutex_init, NULL)                   \
    X(pthread_mutex_lock, NULL)                   \
    X(pthread_mutex_trylock, NULL)                \
    X(pthread_mutex_timedlock, NULL)              \
    X(pthread_mutex_unlock, NULL)                 \
    X(pthread_mutex_destroy, NULL)                \
    X(pthread_cond_wait, "GLIBC_2.3.2")           \
    X(pthread_cond_timedwait, "GLIBC_2.3.2")      \
    X(pthread_cond_signal, "GLIBC_2.3.2")         \
    X(pthread_cond_broadcast, "GLIBC_2.3.2")      \
    X(pthread_timedjoin_np, NULL)                 \
    X(pthread_tryjoin_np, NULL)                   \
    X(pthread_clockjoin_np, NULL)                 \
    X(pthread_rwlock_init, NULL)                  \
    X(pthread_rwlock_destroy, NULL)               \
    X(pthread_rwlock_rdlock, NULL)                \
    X(pthread_rwlock_wrlock, NULL)                \
    X(pthread_rwlock_tryrdlock, NULL)             \
    X(pthread_rwlock_trywrlock, NULL)             \
    X(pthread_rwlock_timedrdlock, NULL)           \
    X(pthread_rwlock_timedwrlock, NULL)           \
    X(pthread_rwlock_clockrdlock, NULL)           \
    X(pthread_rwlock_clockwrlock, NULL)           \
    X(pthread_rwlock_unlock, NULL)                \
    X(pthread_spin_lock, NULL)                    \
    X(pthread_spin_trylock, NULL)                 \
    X(pthread_spin_unlock, NULL)                  \
    X(pthread_barrier_init, NULL)                 \
    X(pthread_barrier_destroy, NULL)              \
    X(pthread_barrier_wait, NULL)                 \
    X(sem_init, NULL)                             \
    X(sem_destroy, NULL)                          \
    X(sem_open, NULL)                             \
    X(sem_close, NULL)                            \
    X(sem_wait, NULL)                             \
    X(sem_trywait, NULL)                          \
    X(sem_timedwait, NULL)                        \
    X(sem_clockwait, NULL)                        \
    X(sem_post, NULL)                             \
    X(pipe, NULL)                                 \
    X(pipe2, NULL)                                \
    X(read, NULL)                                 \
    X(__read_chk, NULL)                           \
    X(write, NULL)                                \
    X(close, NULL)                                \
    X(dup, NULL)                                  \
    X(dup2, NULL)                                 \
    X(dup3, NULL)                                 \
    X(fcntl, NULL)                                \
    X(close_range, NULL)                          \
    X(closefrom, NULL)                            \
    X(fclose, NULL)                               \
    X(fork, NULL)                                 \
    X(execve, NULL)                               \
    X(execv, NULL)                                \
    X(execvp, NULL)                               \
    X(execvpe, NULL)                              \
    X(fexecve, NULL)                              \
    X(dlopen, NULL)                               \
    X(dlclose, NULL)

struct pw_real_table {
#define PW_X(name, ver) union { void *obj; __typeof__(&name) fn; } name;
    PW_REAL_FUNCS(PW_X)
#undef PW_X
};

extern struct pw_real_table pw_real;

#define PW_REAL(name) (pw_real.name.fn)

/* Resolves the whole table (idempotent). */
void pw_real_resolve(void);

#endif
