/* The shim owns no fd the host can see, and its stack capture never makes a
 * system call on the host's fds, even through frames without unwind
 * information (where libunwind 1.6 falls back to validating memory through a
 * private pipe whose fd numbers it remembers).  The host closes every fd from
 * 3 up, re-creates pipes on the same numbers, fills them with known bytes,
 * takes many stacks through a frame without unwind information (noinfo.c)
 * and reads the bytes back: they must be intact.  Its fd numbers (dup, the
 * set of open fds) are printed and must match the native run. */
#include <sys/resource.h>

#include "noinfo.h"
#include "stress.h"

#define NPIPES 6
#define PATTERN "0123456789abcdef"

static int pipes[NPIPES][2];

/* The capture key is the depth of the stack: vary it, so that stacks are
 * unwound afresh rather than found in a per-site cache. */
static __attribute__((noinline)) void pipe_at_depth(int depth, int p[2])
{
    if (depth > 0) {
        pipe_at_depth(depth - 1, p);
        __asm__ volatile("" ::: "memory"); /* not a tail call */
        return;
    }
    if (noinfo_pipe(p))
        die("pipe", errno);
}

/* Many stacks through the frame without unwind information; the pipes they
 * create are closed at once. */
static void stacks(int n)
{
    for (int i = 0; i < n; i++) {
        int p[2];
        pipe_at_depth(i % 24, p);
        close(p[0]);
        close(p[1]);
    }
}

/* A thread parked in a frame without unwind information, released by main. */
static struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    volatile int go;
    volatile pid_t tid;
} park = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *parker(void *arg)
{
    (void)arg;
    publish_tid(&park.tid);
    stacks(16);
    int rc = noinfo_wait(&park.m, &park.cv, &park.go);
    stacks(16);
    return (void *)(long)rc;
}

static void open_fds(const char *when)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    char line[512];
    int len = 0, count = 0;
    for (int fd = 0; fd < 1024 && (rlim_t)fd < rl.rlim_cur; fd++)
        if (fcntl(fd, F_GETFD) != -1) {
            count++;
            if (len < (int)sizeof line - 16)
                len += snprintf(line + len, sizeof line - (size_t)len, " %d", fd);
        }
    int d = dup(0);
    out("%s: %d open fds:%s; dup gives %d", when, count, line, d);
    close(d);
}

static void fill(void)
{
    for (int i = 0; i < NPIPES; i++) {
        if (pipe(pipes[i]))
            die("pipe", errno);
        if (write(pipes[i][1], PATTERN, sizeof PATTERN - 1) != sizeof PATTERN - 1)
            die("write", errno);
    }
}

/* Every pipe holds exactly the pattern: no byte eaten, none added. */
static int drain(void)
{
    int bad = 0;
    for (int i = 0; i < NPIPES; i++) {
        char buf[64];
        int fl = fcntl(pipes[i][0], F_GETFL);
        fcntl(pipes[i][0], F_SETFL, fl | O_NONBLOCK);
        ssize_t n = read(pipes[i][0], buf, sizeof buf);
        if (n != sizeof PATTERN - 1 || memcmp(buf, PATTERN, sizeof PATTERN - 1) != 0) {
            out("pipe %d (fds %d %d): %zd bytes, not the pattern", i, pipes[i][0], pipes[i][1], n);
            bad++;
        }
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    return bad;
}

int main(void)
{
    /* stacks before any purge: an unwinder that opens fds has them now */
    stacks(64);
    open_fds("after 64 stacks");
    fill();
    if (close_range(3, ~0u, 0))
        die("close_range", errno);
    fill(); /* the same numbers, now the host's pipes */
    pthread_t t = spawn(parker, NULL);
    stacks(64);
    await_blocked(await_tid(&park.tid), SYS_futex);
    pthread_mutex_lock(&park.m);
    park.go = 1;
    pthread_cond_signal(&park.cv);
    pthread_mutex_unlock(&park.m);
    void *rc;
    pthread_join(t, &rc);
    out("parked thread: %ld", (long)rc);
    int bad = drain();
    out("pipes intact: %s", bad ? "no" : "yes");
    open_fds("at the end");
    /* the same again without a purge: fd numbers as native */
    fill();
    stacks(64);
    bad += drain();
    open_fds("after reuse");
    return bad ? 1 : 0;
}
