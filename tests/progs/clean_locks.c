/* Correct lock use that looks like misuse to a careless checker: a mutex held
 * across fork and unlocked on both sides, two waiters on one cond with the same
 * mutex, a trylock back-off, an error-checking mutex, a read lock taken twice,
 * a mutex and a cond destroyed once nobody uses them. */
#include <sys/wait.h>

#include "victim.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, waiting;

static void *waiter_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    waiting++;
    pthread_cond_broadcast(&cv);
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void two_waiters_one_mutex(void)
{
    pthread_t a = start_named(waiter_main, NULL, "waiter"),
              b = start_named(waiter_main, NULL, "waiter");
    pthread_mutex_lock(&mu);
    while (waiting < 2)
        pthread_cond_wait(&cv, &mu);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static void held_across_fork(void)
{
    pthread_mutex_lock(&mu);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", errno);
    pthread_mutex_unlock(&mu); /* both sides: the child's copy is held too */
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
}

static void *trier_main(void *arg)
{
    pthread_mutex_t *m = arg;
    if (pthread_mutex_trylock(m) == 0) /* busy: back off, touch nothing */
        die("trylock of a held mutex succeeded", 0);
    return NULL;
}

static void errorcheck_and_trylock(void)
{
    pthread_mutex_t m;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &a);
    pthread_mutex_lock(&m);
    pthread_join(start_named(trier_main, &m, "trier"), NULL);
    pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
}

static void read_twice(void)
{
    pthread_rwlock_t rw;
    pthread_rwlock_init(&rw, NULL);
    pthread_rwlock_rdlock(&rw);
    pthread_rwlock_rdlock(&rw);
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_destroy(&rw);
}

int main(void)
{
    two_waiters_one_mutex();
    held_across_fork();
    errorcheck_and_trylock();
    read_twice();
    pthread_cond_destroy(&cv);
    pthread_mutex_destroy(&mu);
    return 0;
}
