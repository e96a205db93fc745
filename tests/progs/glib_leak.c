/* GLib waits on the raw futex (GMutex, GCond and so GAsyncQueue use
 * syscall(SYS_futex, ..., FUTEX_WAIT_PRIVATE) on Linux): "consumer" pops from
 * a GAsyncQueue nobody pushes to, "sleeper" waits on a GCond nobody signals.
 * main leaves once both sleep: two thread-leaks. */
#include <glib.h>

#include "victim.h"

static GAsyncQueue *jobs;
static GMutex lock;
static GCond never;
static gboolean ready;
static volatile pid_t tids[2];

static gpointer consumer_main(gpointer arg)
{
    (void)arg;
    tids[0] = self_tid();
    gpointer job = g_async_queue_pop(jobs);
    tids[0] = 0; /* not a tail call: consumer_main stays on the stack */
    return job;
}

static gpointer sleeper_main(gpointer arg)
{
    (void)arg;
    tids[1] = self_tid();
    g_mutex_lock(&lock);
    while (!ready)
        g_cond_wait(&never, &lock);
    g_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    jobs = g_async_queue_new();
    g_thread_unref(g_thread_new("consumer", consumer_main, NULL));
    g_thread_unref(g_thread_new("sleeper", sleeper_main, NULL));
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
    return 0;
}
