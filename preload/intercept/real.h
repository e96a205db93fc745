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

/* Channels beyond pipes (the fortified forms are declared here for the same reason). */
#include <mqueue.h>
#include <poll.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
                       socklen_t *alen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *ts, const sigset_t *ss,
                size_t fdslen);
mqd_t __mq_open_2(const char *name, int oflag);

/* X(name, version): version is the symbol version to ask dlvsym for first
 * (NULL: plain dlsym).  pthread_cond_* exist twice in glibc; the 2.3.2 ones are
 * what every program built since 2003 calls. */
#define PW_REAL_FUNCS(X)                     \
    X(pthread_create, NULL)                  \
    X(pthread_exit, NULL)                    \
    X(pthread_join, NULL)                    \
    X(pthread_detach, NULL)                  \
    X(pthread_setname_np, NULL)              \
    X(pthread_mutex_init, NULL)              \
    X(pthread_mutex_lock, NULL)              \
    X(pthread_mutex_trylock, NULL)           \
    X(pthread_mutex_timedlock, NULL)         \
    X(pthread_mutex_clocklock, NULL)         \
    X(pthread_mutex_unlock, NULL)            \
    X(pthread_mutex_destroy, NULL)           \
    X(pthread_cond_wait, "GLIBC_2.3.2")      \
    X(pthread_cond_timedwait, "GLIBC_2.3.2") \
    X(pthread_cond_signal, "GLIBC_2.3.2")    \
    X(pthread_cond_broadcast, "GLIBC_2.3.2") \
    X(pthread_cond_destroy, "GLIBC_2.3.2")   \
    X(pthread_timedjoin_np, NULL)            \
    X(pthread_tryjoin_np, NULL)              \
    X(pthread_clockjoin_np, NULL)            \
    X(pthread_rwlock_init, NULL)             \
    X(pthread_rwlock_destroy, NULL)          \
    X(pthread_rwlock_rdlock, NULL)           \
    X(pthread_rwlock_wrlock, NULL)           \
    X(pthread_rwlock_tryrdlock, NULL)        \
    X(pthread_rwlock_trywrlock, NULL)        \
    X(pthread_rwlock_timedrdlock, NULL)      \
    X(pthread_rwlock_timedwrlock, NULL)      \
    X(pthread_rwlock_clockrdlock, NULL)      \
    X(pthread_rwlock_clockwrlock, NULL)      \
    X(pthread_rwlock_unlock, NULL)           \
    X(pthread_spin_lock, NULL)               \
    X(pthread_spin_trylock, NULL)            \
    X(pthread_spin_unlock, NULL)             \
    X(pthread_barrier_init, NULL)            \
    X(pthread_barrier_destroy, NULL)         \
    X(pthread_barrier_wait, NULL)            \
    X(sem_init, NULL)                        \
    X(sem_destroy, NULL)                     \
    X(sem_open, NULL)                        \
    X(sem_close, NULL)                       \
    X(sem_wait, NULL)                        \
    X(sem_trywait, NULL)                     \
    X(sem_timedwait, NULL)                   \
    X(sem_clockwait, NULL)                   \
    X(sem_post, NULL)                        \
    X(pipe, NULL)                            \
    X(pipe2, NULL)                           \
    X(read, NULL)                            \
    X(__read_chk, NULL)                      \
    X(write, NULL)                           \
    X(close, NULL)                           \
    X(dup, NULL)                             \
    X(dup2, NULL)                            \
    X(dup3, NULL)                            \
    X(fcntl, NULL)                           \
    X(close_range, NULL)                     \
    X(closefrom, NULL)                       \
    X(fclose, NULL)                          \
    X(fork, NULL)                            \
    X(_exit, NULL)                           \
    X(execve, NULL)                          \
    X(execv, NULL)                           \
    X(execvp, NULL)                          \
    X(execvpe, NULL)                         \
    X(fexecve, NULL)                         \
    X(dlopen, NULL)                          \
    X(dlclose, NULL)                         \
    X(readv, NULL)                           \
    X(writev, NULL)                          \
    X(recv, NULL)                            \
    X(__recv_chk, NULL)                      \
    X(recvfrom, NULL)                        \
    X(__recvfrom_chk, NULL)                  \
    X(recvmsg, NULL)                         \
    X(send, NULL)                            \
    X(sendto, NULL)                          \
    X(sendmsg, NULL)                         \
    X(socketpair, NULL)                      \
    X(shutdown, NULL)                        \
    X(eventfd, NULL)                         \
    X(eventfd_read, NULL)                    \
    X(eventfd_write, NULL)                   \
    X(poll, NULL)                            \
    X(__poll_chk, NULL)                      \
    X(ppoll, NULL)                           \
    X(__ppoll_chk, NULL)                     \
    X(select, NULL)                          \
    X(pselect, NULL)                         \
    X(epoll_create, NULL)                    \
    X(epoll_create1, NULL)                   \
    X(epoll_ctl, NULL)                       \
    X(epoll_wait, NULL)                      \
    X(epoll_pwait, NULL)                     \
    X(epoll_pwait2, NULL)                    \
    X(mq_open, NULL)                         \
    X(__mq_open_2, NULL)                     \
    X(mq_close, NULL)                        \
    X(mq_unlink, NULL)                       \
    X(mq_send, NULL)                         \
    X(mq_timedsend, NULL)                    \
    X(mq_receive, NULL)                      \
    X(mq_timedreceive, NULL)                 \
    X(posix_spawn, NULL)                     \
    X(posix_spawnp, NULL)                    \
    X(syscall, NULL)                         \
    X(alarm, NULL)                           \
    X(setitimer, NULL)                       \
    X(timer_create, NULL)                    \
    X(timer_settime, NULL)                   \
    X(timer_delete, NULL)                    \
    X(open, NULL)                            \
    X(open64, NULL)                          \
    X(openat, NULL)                          \
    X(openat64, NULL)                        \
    X(creat, NULL)                           \
    X(creat64, NULL)                         \
    X(socket, NULL)                          \
    X(accept, NULL)                          \
    X(accept4, NULL)

struct pw_real_table {
#define PW_X(name, ver)       \
    union {                   \
        void *obj;            \
        __typeof__(&name) fn; \
    } name;
    PW_REAL_FUNCS(PW_X)
#undef PW_X
};

extern struct pw_real_table pw_real;

#define PW_REAL(name) (pw_real.name.fn)

/* Resolves the whole table (idempotent). */
void pw_real_resolve(void);

#endif
