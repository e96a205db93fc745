/* ABBA through two GMutexes (futex words inside GLib, no pthread mutex):
 * main joins "left", so every thread waits forever and `parkwatch run` must
 * stop the process.  alarm() bounds the run when nobody watches. */
#include <glib.h>

#include "victim.h"

static GMutex a, b;
static gint stage; /* 1 once left holds a, 2 once right also holds b */

static void wait_stage(gint want)
{
    while (g_atomic_int_get(&stage) < want)
        sleep_ms(1);
}

static gpointer left_main(gpointer arg)
{
    (void)arg;
    g_mutex_lock(&a);
    g_atomic_int_set(&stage, 1);
    wait_stage(2);
    g_mutex_lock(&b);
    return NULL;
}

static gpointer right_main(gpointer arg)
{
    (void)arg;
    wait_stage(1);
    g_mutex_lock(&b);
    g_atomic_int_set(&stage, 2);
    g_mutex_lock(&a);
    return NULL;
}

int main(void)
{
    alarm(20);
    pthread_setname_np(pthread_self(), "main");
    GThread *l = g_thread_new("left", left_main, NULL);
    g_thread_unref(g_thread_new("right", right_main, NULL));
    g_thread_join(l);
    return 1; /* unreachable */
}
