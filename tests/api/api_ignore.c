/* Victim for verify_none's symbolized report and goleak's ignore list
 * (parkwatch_ignore_top_function, parkwatch_ignore_current).  One mode per
 * run; each prints "case: N" per verify_none call (N is 1 when it failed,
 * 0 when it passed).
 *
 *   leak             a thread parked forever in leaky_worker (1); then
 *                    "host: ..." says whether verify_none (which runs the
 *                    CLI) kept errno, opened no fd, sent no SIGCHLD and left
 *                    no child for wait()
 *   clean            the twin: its thread ends and is joined (0, no report)
 *   ignore-top       logger_loop ignored by name: with a leaky_worker beside
 *                    it only that one counts (1); alone, nothing (0); a
 *                    glob ("logger_*") ignores logger_flush too (0)
 *   ignore-exported  the same with exported_idler, exported from this
 *                    program: the shim matches it without the CLI (1)
 *   ignore-current   a leaked thread counts (1) until ignore_current (0);
 *                    one started after it counts again (1)
 *
 * No sleeps: a thread is known to be parked when main can take the lock the
 * thread released inside pthread_cond_wait after counting itself. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <parkwatch.h>

#include "../progs/victim.h"

#define VERIFY_MS 100

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER, seen = PTHREAD_COND_INITIALIZER;
static int parked;

/* Each thread function waits itself, so that its own name is the park
 * stack's innermost frame; noipa keeps the compiler from folding the
 * identical functions into one. */
#define PARK_FOREVER()                      \
    do {                                    \
        pthread_mutex_lock(&mu);            \
        parked++;                           \
        pthread_cond_broadcast(&seen);      \
        for (;;)                            \
            pthread_cond_wait(&never, &mu); \
    } while (0)

__attribute__((noipa)) static void *leaky_worker(void *arg)
{
    (void)arg;
    PARK_FOREVER();
    return NULL;
}

__attribute__((noipa)) static void *logger_loop(void *arg)
{
    (void)arg;
    PARK_FOREVER();
    return NULL;
}

__attribute__((noipa)) static void *logger_flush(void *arg)
{
    (void)arg;
    PARK_FOREVER();
    return NULL;
}

/* In the dynamic symbol table (meson.build exports it): dladdr names it. */
__attribute__((visibility("default"), noipa)) void *exported_idler(void *arg)
{
    (void)arg;
    PARK_FOREVER();
    return NULL;
}

static void *quick(void *arg)
{
    return arg;
}

static void start(void *(*fn)(void *), const char *name)
{
    pthread_detach(start_named(fn, NULL, name));
}

/* Returns once N threads in all are inside their wait. */
static void wait_parked(int n)
{
    pthread_mutex_lock(&mu);
    while (parked < n)
        pthread_cond_wait(&seen, &mu);
    pthread_mutex_unlock(&mu);
}

static volatile sig_atomic_t sigchlds;

static void on_sigchld(int sig)
{
    (void)sig;
    sigchlds++;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void report(const char *name, int r)
{
    printf("%s: %d\n", name, r != 0);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "leak") == 0) {
        signal(SIGCHLD, on_sigchld);
        parkwatch_checkpoint("leak");
        start(leaky_worker, "leaky");
        wait_parked(1);
        int fds = open_fds();
        errno = 1234;
        int r = parkwatch_verify_none(VERIFY_MS);
        int err = errno, fds_after = open_fds();
        report("leak", r);
        /* the CLI ran as a child nobody here can see */
        int w = waitpid(-1, NULL, WNOHANG);
        printf("host: errno %s, fds %s, sigchld %d, wait %s\n", err == 1234 ? "kept" : "changed",
               fds_after == fds ? "same" : "changed", (int)sigchlds,
               w < 0 && errno == ECHILD ? "none" : "a child");
    } else if (strcmp(mode, "clean") == 0) {
        parkwatch_checkpoint("clean");
        pthread_join(start_named(quick, NULL, "quick"), NULL);
        report("clean", parkwatch_verify_none(VERIFY_MS));
    } else if (strcmp(mode, "ignore-top") == 0) {
        parkwatch_ignore_top_function("logger_loop");
        parkwatch_checkpoint("ignore-top");
        start(logger_loop, "logger");
        start(leaky_worker, "leaky");
        wait_parked(2);
        report("ignore-top", parkwatch_verify_none(VERIFY_MS));
        parkwatch_checkpoint("ignore-top-only");
        start(logger_loop, "logger2");
        wait_parked(3);
        report("ignore-top-only", parkwatch_verify_none(VERIFY_MS));
        parkwatch_ignore_top_function("logger_*");
        parkwatch_checkpoint("ignore-glob");
        start(logger_flush, "flusher");
        wait_parked(4);
        report("ignore-glob", parkwatch_verify_none(VERIFY_MS));
    } else if (strcmp(mode, "ignore-exported") == 0) {
        parkwatch_ignore_top_function("exported_idler");
        parkwatch_checkpoint("ignore-exported");
        start(exported_idler, "idler");
        start(leaky_worker, "leaky");
        wait_parked(2);
        report("ignore-exported", parkwatch_verify_none(VERIFY_MS));
    } else if (strcmp(mode, "ignore-current") == 0) {
        start(leaky_worker, "old");
        wait_parked(1);
        report("before", parkwatch_verify_none(VERIFY_MS));
        parkwatch_ignore_current();
        report("ignored", parkwatch_verify_none(VERIFY_MS));
        start(leaky_worker, "new");
        wait_parked(2);
        report("after", parkwatch_verify_none(VERIFY_MS));
    } else {
        fprintf(stderr, "usage: api_ignore leak|clean|ignore-top|ignore-exported|ignore-current\n");
        return 2;
    }
    return 0;
}
