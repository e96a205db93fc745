/* pthread_cancel of threads parked in cond_wait, read, sem_wait, join and
 * poll: each is cancelled at its park, its cleanup handler runs (the cond
 * wait's with the mutex re-acquired) and its joiner sees PTHREAD_CANCELED. */
#include <poll.h>
#include <semaphore.h>

#include "stress.h"

enum op { OP_COND, OP_READ, OP_SEM, OP_JOIN, OP_POLL, OP__N };
static const char *const names[] = {"cond_wait", "read", "sem_wait", "join", "poll"};
static const long nr[] = {SYS_futex, SYS_read, SYS_futex, SYS_futex, SYS_poll};

static pthread_mutex_t cvm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int p[2], hold[2];
static sem_t sem;
static pthread_t joinee;
static volatile pid_t tid;
static int cleanups, owned_in_cleanup;

static void cleanup(void *arg)
{
    enum op op = (enum op)(long)arg;
    cleanups++;
    if (op == OP_COND) {
        /* cancellation in a cond wait re-acquires the mutex first */
        owned_in_cleanup = pthread_mutex_trylock(&cvm) == EBUSY;
        pthread_mutex_unlock(&cvm);
    }
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
    char c;
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    pthread_cleanup_push(cleanup, arg);
    if (op == OP_COND)
        pthread_mutex_lock(&cvm);
    publish_tid(&tid);
    switch (op) {
    case OP_COND:
        for (;;)
            pthread_cond_wait(&cv, &cvm);
    case OP_READ:
        if (read(p[0], &c, 1) >= 0)
            out("read returned");
        break;
    case OP_SEM:
        sem_wait(&sem);
        break;
    case OP_JOIN:
        pthread_join(joinee, NULL);
        break;
    case OP_POLL:
        poll(&pfd, 1, -1);
        break;
    default:
        break;
    }
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void)
{
    if (pipe(p) || pipe(hold))
        die("pipe", errno);
    sem_init(&sem, 0, 0);
    joinee = spawn(joinee_main, NULL);
    for (int op = 0; op < OP__N; op++) {
        tid = 0;
        cleanups = owned_in_cleanup = 0;
        pthread_t t = spawn(parker, (void *)(long)op);
        await_blocked(await_tid(&tid), nr[op]);
        int rc = pthread_cancel(t);
        void *res;
        pthread_join(t, &res);
        out("%s: cancel=%d canceled=%s cleanups=%d%s", names[op], rc,
            res == PTHREAD_CANCELED ? "yes" : "no", cleanups,
            op == OP_COND ? (owned_in_cleanup ? " mutex-owned" : " mutex-NOT-owned") : "");
    }
    /* the mutex must be free again after the cancelled cond wait */
    out("cvm trylock after: %d", pthread_mutex_trylock(&cvm));
    pthread_mutex_unlock(&cvm);
    if (write(hold[1], "h", 1) != 1)
        die("write", errno);
    pthread_join(joinee, NULL);
    return 0;
}
