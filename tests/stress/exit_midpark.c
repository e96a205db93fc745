/* The process ends while other threads are mid-park: "main" calls exit(3)
 * from main; "worker" has a worker call exit(4) while main is parked in a
 * join.  The parked threads must be in the trace and reported as leaks. */
#include <semaphore.h>

#include "stress.h"

static int never[2];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER, cvm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static volatile pid_t tids[4];

static void *in_read(void *arg)
{
    (void)arg;
    publish_tid(&tids[0]);
    char c;
    return (void *)(long)read(never[0], &c, 1);
}

static void *in_cond(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cvm);
    publish_tid(&tids[1]);
    for (;;)
        pthread_cond_wait(&cv, &cvm);
    return NULL;
}

static void *in_lock(void *arg)
{
    (void)arg;
    publish_tid(&tids[2]);
    pthread_mutex_lock(&held);
    return NULL;
}

static void *in_sem(void *arg)
{
    (void)arg;
    publish_tid(&tids[3]);
    sem_wait(&sem);
    return NULL;
}

static void park_all(void)
{
    static void *(*const fns[])(void *) = {in_read, in_cond, in_lock, in_sem};
    static const long nr[] = {SYS_read, SYS_futex, SYS_futex, SYS_futex};
    for (int i = 0; i < 4; i++)
        spawn(fns[i], NULL);
    for (int i = 0; i < 4; i++)
        await_blocked(await_tid(&tids[i]), nr[i]);
}

static volatile pid_t main_tid;

static void *exiter(void *arg)
{
    (void)arg;
    await_blocked(await_tid(&main_tid), SYS_futex);
    out("worker exits while main is parked in join");
    exit(4);
}

int main(int argc, char **argv)
{
    if (pipe(never))
        die("pipe", errno);
    sem_init(&sem, 0, 0);
    pthread_mutex_lock(&held);
    park_all();
    if (argc == 2 && strcmp(argv[1], "worker") == 0) {
        pthread_t t = spawn(exiter, NULL);
        publish_tid(&main_tid);
        pthread_join(t, NULL);
        out("not reached");
        return 0;
    }
    out("main exits with 4 threads parked");
    exit(3);
}
