/* Correct: one thread nests A then B at two call sites (deposit, withdraw),
 * always in that order; it also backs off from the opposite order with a
 * trylock (refund), and moves money between two accounts with one function
 * that nests its arguments in the order given (transfer(x, y), then
 * transfer(y, x): the same two call sites nested the same way, one fixed
 * class order).  No lock-order inversion. */
#include "victim.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t x = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t y = PTHREAD_MUTEX_INITIALIZER;
static volatile long balance;

static __attribute__((noinline)) void deposit(void)
{
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    balance++;
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
}

static __attribute__((noinline)) void withdraw(void)
{
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    balance--;
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
}

/* B, then only try A: a trylock orders nothing */
static __attribute__((noinline)) void refund(void)
{
    pthread_mutex_lock(&b);
    if (pthread_mutex_trylock(&a) == 0) {
        balance += 0;
        pthread_mutex_unlock(&a);
    }
    pthread_mutex_unlock(&b);
}

static __attribute__((noinline)) void transfer(pthread_mutex_t *from, pthread_mutex_t *to)
{
    pthread_mutex_lock(from);
    pthread_mutex_lock(to);
    balance += 0;
    pthread_mutex_unlock(to);
    pthread_mutex_unlock(from);
}

static void *solo_main(void *arg)
{
    (void)arg;
    deposit();
    withdraw();
    refund();
    transfer(&x, &y);
    transfer(&y, &x);
    return NULL;
}

int main(void)
{
    pthread_join(start_named(solo_main, NULL, "solo"), NULL);
    return balance == 0 ? 0 : 1;
}
