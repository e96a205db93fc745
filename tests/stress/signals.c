/* A signal arrives during every kind of park, with and without SA_RESTART.
 * What the interrupted call returns (EINTR or a restart) must be what it is
 * without the shim.  The handler itself calls write(2) on a pipe, so the shim
 * is re-entered from a signal handler in the middle of a park. */
#include <poll.h>
#include <semaphore.h>
#include <signal.h>

#include "stress.h"

enum op { OP_READ, OP_POLL, OP_SEM, OP_COND, OP_MUTEX, OP_RWLOCK, OP_JOIN, OP_BARRIER, OP__N };
static const char *const names[] = {"read",       "poll",          "sem_wait", "cond_wait",
                                    "mutex_lock", "rwlock_wrlock", "join",     "barrier_wait"};
/* Every park sleeps in one of these system calls. */
static const long nr[] = {SYS_read,  SYS_poll,  SYS_futex, SYS_futex,
                          SYS_futex, SYS_futex, SYS_futex, SYS_futex};

static int data[2], note[2], hold[2];
static sem_t sem;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, cvm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t bar;
static pthread_t joinee;
static int flag;
static volatile pid_t tid;
static volatile int handled;

static void on_usr1(int sig)
{
    (void)sig;
    int e = errno;
    handled++;
    if (write(note[1], "s", 1) != 1)
        _exit(98);
    errno = e;
}

static void *joinee_main(void *arg)
{
    (void)arg;
    char c;
    if (read(hold[0], &c, 1) != 1)
        die("read", errno);
    return NULL;
}

static void *parker(void *arg)
{
    enum op op = (enum op)(long)arg;
    long rc = 0;
    int err = 0;
    char c;
    struct pollfd pfd = {.fd = data[0], .events = POLLIN};
    if (op == OP_COND)
        pthread_mutex_lock(&cvm);
    publish_tid(&tid);
    errno = 0;
    switch (op) {
    case OP_READ:
        rc = read(data[0], &c, 1);
        break;
    case OP_POLL:
        rc = poll(&pfd, 1, -1);
        break;
    case OP_SEM:
        rc = sem_wait(&sem);
        break;
    case OP_COND:
        while (!flag && rc == 0)
            rc = pthread_cond_wait(&cv, &cvm);
        pthread_mutex_unlock(&cvm);
        break;
    case OP_MUTEX:
        rc = pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        break;
    case OP_RWLOCK:
        rc = pthread_rwlock_wrlock(&rw);
        pthread_rwlock_unlock(&rw);
        break;
    case OP_JOIN:
        rc = pthread_join(joinee, NULL);
        break;
    case OP_BARRIER:
        rc = pthread_barrier_wait(&bar);
        rc = rc == PTHREAD_BARRIER_SERIAL_THREAD ? 0 : rc;
        break;
    default:
        break;
    }
    err = rc < 0 ? errno : 0;
    out("  %s: rc=%ld%s%s", names[op], rc, err ? " errno=" : "", err ? strerrorname_np(err) : "");
    return NULL;
}

/* Lets the parked thread go, whatever its call did with the signal. */
static void release(enum op op)
{
    switch (op) {
    case OP_READ:
    case OP_POLL:
        if (write(data[1], "d", 1) != 1)
            die("write", errno);
        break;
    case OP_SEM:
        sem_post(&sem);
        break;
    case OP_COND:
        pthread_mutex_lock(&cvm);
        flag = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&cvm);
        break;
    case OP_MUTEX:
        pthread_mutex_unlock(&m);
        break;
    case OP_RWLOCK:
        pthread_rwlock_unlock(&rw);
        break;
    case OP_JOIN:
        if (write(hold[1], "h", 1) != 1)
            die("write", errno);
        break;
    case OP_BARRIER:
        pthread_barrier_wait(&bar);
        break;
    default:
        break;
    }
}

static void one(enum op op, int restart)
{
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    flag = 0;
    tid = 0;
    if (pipe(data) || pipe(hold))
        die("pipe", errno);
    sem_init(&sem, 0, 0);
    pthread_barrier_init(&bar, NULL, 2);
    if (op == OP_MUTEX)
        pthread_mutex_lock(&m);
    if (op == OP_RWLOCK)
        pthread_rwlock_rdlock(&rw);
    if (op == OP_JOIN)
        joinee = spawn(joinee_main, NULL);
    int before = handled;
    pthread_t t = spawn(parker, (void *)(long)op);
    await_blocked(await_tid(&tid), nr[op]);
    pthread_kill(t, SIGUSR1);
    char c;
    if (read(note[0], &c, 1) != 1) /* the handler has run */
        die("read", errno);
    release(op);
    pthread_join(t, NULL);
    out("%s %s: handler ran %d time(s)", names[op], restart ? "SA_RESTART" : "no-restart",
        handled - before);
    close(data[0]);
    close(data[1]);
    close(hold[0]);
    close(hold[1]);
    sem_destroy(&sem);
    pthread_barrier_destroy(&bar);
}

int main(void)
{
    if (pipe(note))
        die("pipe", errno);
    for (int restart = 0; restart < 2; restart++)
        for (int op = 0; op < OP__N; op++)
            one((enum op)op, restart);
    return 0;
}
