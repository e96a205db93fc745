/* One thread takes A then B (in deposit), and later B then A (in audit).  It
 * never hangs alone, but two threads running these two paths at once can
 * deadlock: lock-order-inversion, saying both orders came from one thread. */
#include "victim.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static volatile long balance;

static __attribute__((noinline)) void deposit(void)
{
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    balance++;
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
}

static __attribute__((noinline)) void audit(void)
{
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    balance--;
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
}

static void *solo_main(void *arg)
{
    (void)arg;
    deposit();
    audit();
    return NULL;
}

int main(void)
{
    pthread_join(start_named(solo_main, NULL, "solo"), NULL);
    return balance == 0 ? 0 : 1;
}
