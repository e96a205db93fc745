/* Linked into early_ctor: its constructor runs before the shim's (a needed
 * library is initialised before the preloaded one), locks a mutex it leaves
 * held, creates a pipe and starts a thread that parks reading it. */
#include "stress.h"

__attribute__((visibility("default"))) pthread_mutex_t early_lock = PTHREAD_MUTEX_INITIALIZER;
__attribute__((visibility("default"))) int early_pipe[2];
__attribute__((visibility("default"))) pthread_t early_thread;

static void *early_reader(void *arg)
{
    (void)arg;
    char buf[8];
    return (void *)(long)read(early_pipe[0], buf, sizeof buf);
}

__attribute__((constructor(101))) static void early_init(void)
{
    pthread_mutex_lock(&early_lock);
    if (pipe(early_pipe))
        die("pipe", errno);
    pthread_create(&early_thread, NULL, early_reader, NULL);
}
