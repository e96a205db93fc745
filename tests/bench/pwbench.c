/* parkwatch overhead benchmarks: one program, one mode per benchmark.
 *
 *   pwbench MODE [SCALE]
 *
 * prints "MODE <seconds> <ops> <ns/op>" with the time measured around the
 * work only (CLOCK_MONOTONIC), so process start-up and the shim's init are
 * not counted.  SCALE multiplies the iteration counts (default 1). */
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BENCHMARKS(X)                                                                 \
    X(uncontended, 20000000L, "uncontended mutex lock+unlock pairs")                  \
    X(contended, 4000000L, "mutex lock+unlock pairs per thread, 2 threads")           \
    X(nogap, 5000000L, "the same, nothing between unlock and lock (5M pairs each)")   \
    X(condq, 1000000L, "items through a bounded cond queue, 1 producer 1 consumer")   \
    X(pipe, 20000L, "pipe ping-pong round trips between 2 threads")                   \
    X(churn, 3000L, "pthread_create + pthread_join")                                  \
    X(parkonce, 2000L, "threads that wait on a cond once, then exit")                 \
    X(nested, 5000000L, "4-deep nested lock/unlock rounds")                           \
    X(futex, 50000L, "raw futex ping-pong round trips between 2 threads (syscall())") \
    X(syscall, 2000000L, "syscall(SYS_getppid): a number the shim passes straight through")

static void fail(const char *what, int err)
{
    fprintf(stderr, "pwbench: %s: %s\n", what, strerror(err));
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc)
        fail(what, rc);
}

/* Keeps the compiler from dropping the critical sections. */
static volatile long sink;

/* ---- uncontended: the fast path every program pays for */

static void bench_uncontended(long n)
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        sink++;
        pthread_mutex_unlock(&m);
    }
}

/* ---- contended: two threads hammer one mutex */

static pthread_mutex_t cont_m = PTHREAD_MUTEX_INITIALIZER;

static void *contender(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&cont_m);
        sink++;
        pthread_mutex_unlock(&cont_m);
    }
    return NULL;
}

static void run_pair(void *(*fn)(void *), void *a, void *(*fn2)(void *), void *b)
{
    pthread_t t1, t2;
    check(pthread_create(&t1, NULL, fn, a), "pthread_create");
    check(pthread_create(&t2, NULL, fn2, b), "pthread_create");
    check(pthread_join(t1, NULL), "pthread_join");
    check(pthread_join(t2, NULL), "pthread_join");
}

static void bench_contended(long n)
{
    run_pair(contender, &n, contender, &n);
}

/* ---- nogap: the same with nothing at all between unlock and the next lock
 * (the shape of most independent lock benchmarks).  The lock word is free
 * only for the few instructions between a holder's unlock and its own next
 * lock, so the other thread's lock nearly always finds it taken: every
 * instruction a tool adds between a failed attempt and the real lock widens
 * the window in which both threads fight over it. */

static pthread_mutex_t nogap_m = PTHREAD_MUTEX_INITIALIZER;
static long nogap_count; /* only touched under nogap_m */

static void *nogap_loop(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&nogap_m);
        nogap_count++;
        pthread_mutex_unlock(&nogap_m);
    }
    return NULL;
}

static void bench_nogap(long n)
{
    run_pair(nogap_loop, &n, nogap_loop, &n);
    sink = nogap_count;
}

/* ---- condq: bounded queue, producer and consumer park on conds when it is
 * full or empty */

#define QCAP 64
static struct {
    pthread_mutex_t m;
    pthread_cond_t nonempty, nonfull;
    long items[QCAP];
    int head, count;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static void *producer(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&q.m);
        while (q.count == QCAP)
            pthread_cond_wait(&q.nonfull, &q.m);
        q.items[(q.head + q.count) % QCAP] = i;
        q.count++;
        pthread_cond_signal(&q.nonempty);
        pthread_mutex_unlock(&q.m);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&q.m);
        while (q.count == 0)
            pthread_cond_wait(&q.nonempty, &q.m);
        sink += q.items[q.head];
        q.head = (q.head + 1) % QCAP;
        q.count--;
        pthread_cond_signal(&q.nonfull);
        pthread_mutex_unlock(&q.m);
    }
    return NULL;
}

static void bench_condq(long n)
{
    run_pair(producer, &n, consumer, &n);
}

/* ---- pipe: every round trip is two blocking reads */

static int ping[2], pong[2];

static void xread(int fd, char *c)
{
    ssize_t r;
    while ((r = read(fd, c, 1)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        fail("read", r < 0 ? errno : EPIPE);
}

static void xwrite(int fd, char c)
{
    ssize_t r;
    while ((r = write(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        fail("write", r < 0 ? errno : EPIPE);
}

static void *ponger(void *arg)
{
    long n = *(long *)arg;
    char c;
    for (long i = 0; i < n; i++) {
        xread(ping[0], &c);
        xwrite(pong[1], c);
    }
    return NULL;
}

static void bench_pipe(long n)
{
    pthread_t t;
    char c = 'x';
    if (pipe(ping) || pipe(pong))
        fail("pipe", errno);
    check(pthread_create(&t, NULL, ponger, &n), "pthread_create");
    for (long i = 0; i < n; i++) {
        xwrite(ping[1], c);
        xread(pong[0], &c);
    }
    check(pthread_join(t, NULL), "pthread_join");
    close(ping[0]), close(ping[1]), close(pong[0]), close(pong[1]);
}

/* ---- futex: a ping-pong on one word through syscall(SYS_futex), as Rust's
 * std, GLib and libstdc++ wait; every turn is a wake and (usually) a wait.
 *
 * Both threads run on one CPU.  On two, how many waits really sleep depends on
 * how long each side takes between handing the turn over and its own wait: a
 * slower side (a shim that records the wait first) finds the turn already back
 * more often, gets EAGAIN instead of a sleep and a context switch, and the run
 * got faster than native (0.68x) while measuring something else.  On one CPU
 * the order of stores, waits, wakes and switches is the scheduler's, not a
 * race: native and shim make the same futex calls and context switches
 * (perf stat: about 158k futex calls and 100k switches for 50k round trips,
 * both ways), so the ratio is what the shim adds to each. */

static uint32_t turn;

static void futex_play(uint32_t me, long n)
{
    for (long i = 0; i < n; i++) {
        uint32_t t;
        while ((t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) != me)
            syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, t, NULL, NULL, 0);
        __atomic_store_n(&turn, 1 - me, __ATOMIC_RELEASE);
        syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

static void *futex_partner(void *arg)
{
    futex_play(1, *(long *)arg);
    return NULL;
}

static void bench_futex(long n)
{
    int cpu = sched_getcpu();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu < 0 ? 0 : cpu, &one);
    /* the partner inherits the mask; a failure leaves the old, racy measure */
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        fprintf(stderr, "pwbench: futex: cannot pin to one CPU: %s\n", strerror(errno));
    pthread_t t;
    check(pthread_create(&t, NULL, futex_partner, &n), "pthread_create");
    futex_play(0, n);
    check(pthread_join(t, NULL), "pthread_join");
}

/* ---- syscall: what every other number pays for the syscall() wrapper */

static void bench_syscall(long n)
{
    for (long i = 0; i < n; i++)
        sink += syscall(SYS_getppid);
}

/* ---- churn: thread creation and join, nothing else */

static void *nothing(void *arg)
{
    return arg;
}

static void bench_churn(long n)
{
    for (long i = 0; i < n; i++) {
        pthread_t t;
        check(pthread_create(&t, NULL, nothing, NULL), "pthread_create");
        check(pthread_join(t, NULL), "pthread_join");
    }
}

/* ---- parkonce: a new thread parks once right after it starts, which is the
 * worst case for a tool that captures a stack per park (first unwind in a
 * thread is the expensive one) */

static struct {
    pthread_mutex_t m;
    pthread_cond_t started_cv, go_cv;
    int started, go;
} po = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *park_once(void *arg)
{
    pthread_mutex_lock(&po.m);
    po.started = 1;
    pthread_cond_signal(&po.started_cv);
    while (!po.go)
        pthread_cond_wait(&po.go_cv, &po.m);
    pthread_mutex_unlock(&po.m);
    return arg;
}

static void bench_parkonce(long n)
{
    for (long i = 0; i < n; i++) {
        pthread_t t;
        po.started = po.go = 0;
        check(pthread_create(&t, NULL, park_once, NULL), "pthread_create");
        pthread_mutex_lock(&po.m);
        /* Holding the mutex after "started" means the thread is inside its
         * cond wait: the signal below always wakes a real park. */
        while (!po.started)
            pthread_cond_wait(&po.started_cv, &po.m);
        po.go = 1;
        pthread_cond_signal(&po.go_cv);
        pthread_mutex_unlock(&po.m);
        check(pthread_join(t, NULL), "pthread_join");
    }
}

/* ---- nested: lock-order tracking cost with a 4-deep held set */

static void bench_nested(long n)
{
    static pthread_mutex_t l[4] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                   PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            pthread_mutex_lock(&l[k]);
        sink++;
        for (int k = 3; k >= 0; k--)
            pthread_mutex_unlock(&l[k]);
    }
}

/* ---- driver */

struct bench {
    const char *name;
    long iters;
    const char *what;
    void (*fn)(long);
};

static const struct bench benches[] = {
#define B(name, iters, what) {#name, iters, what, bench_##name},
    BENCHMARKS(B)
#undef B
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: pwbench MODE [SCALE]\nmodes:\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(stderr, "  %-12s %ld %s\n", benches[i].name, benches[i].iters, benches[i].what);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return usage();
    double scale = argc == 3 ? atof(argv[2]) : 1.0;
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        const struct bench *b = &benches[i];
        if (strcmp(argv[1], b->name) != 0)
            continue;
        long n = (long)((double)b->iters * scale);
        if (n < 1)
            n = 1;
        double t0 = now_s();
        b->fn(n);
        double dt = now_s() - t0;
        printf("%s %.6f %ld %.1f\n", b->name, dt, n, dt * 1e9 / (double)n);
        return 0;
    }
    return usage();
}
