/* The shim's per-thread stack cache (preload/stack.c) never hands one call
 * chain the stack of another.  The victim (this program, re-executed under the
 * shim) parks in poll() from one function, wait_once, called in turn from two
 * callers whose frames put wait_once's frame at the same stack address: the
 * capture site and its stack depth are the same, only the return address into
 * the caller differs.  Every park in the trace must carry its own caller.
 * Usage: test_stack_cache LIBPARKWATCH */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parkwatch/trace.h"

#include "../check.h"

#define ROUNDS 60

/* ---- the victim */

static int pfd[2];
static uint64_t ra_seen[2], cfa_seen[2];

/* A 1 ms poll on a pipe nobody writes: a timed park on a channel, recorded
 * with its stack.  pcs[1] of that stack is the return address into the caller. */
static __attribute__((noinline)) int wait_once(int who)
{
    struct pollfd p = {.fd = pfd[0], .events = POLLIN};
    ra_seen[who] = (uint64_t)(uintptr_t)__builtin_return_address(0);
    cfa_seen[who] = (uint64_t)(uintptr_t)__builtin_dwarf_cfa();
    return poll(&p, 1, 1);
}

/* Different bodies, so that the compiler does not fold them into one. */
static __attribute__((noinline)) int from_a(void)
{
    int r = wait_once(0);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

static __attribute__((noinline)) int from_b(void)
{
    int r = wait_once(1);
    __asm__ volatile("" ::: "memory");
    return r - 1;
}

static int victim(const char *out)
{
    if (pipe(pfd) != 0)
        return 2;
    for (int i = 0; i < ROUNDS; i++)
        if (from_a() != 1 || from_b() != -1)
            return 3;
    FILE *f = fopen(out, "w");
    if (f == NULL)
        return 4;
    fprintf(f, "%llx %llx %llx %llx\n", (unsigned long long)ra_seen[0],
            (unsigned long long)ra_seen[1], (unsigned long long)cfa_seen[0],
            (unsigned long long)cfa_seen[1]);
    return fclose(f) == 0 ? 0 : 4;
}

/* ---- the checker */

static char *load(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < PW_HEADER_SIZE) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *base = malloc((size_t)st.st_size);
    size_t n = 0;
    ssize_t r;
    while (n < (size_t)st.st_size && (r = read(fd, base + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)r;
    close(fd);
    *size = n;
    if (n != (size_t)st.st_size || memcmp(base, PW_TRACE_MAGIC, 8) != 0) {
        free(base);
        return NULL;
    }
    return base;
}

static void check_trace(char *base, const uint64_t ra[2])
{
    struct pw_trace_header *h = (struct pw_trace_header *)base;
    struct pw_thread_rec *th = pw_thread_slot(base, h, 0);
    CHECK(th->serial == 1 && th->ring_head <= h->ring_events);
    const struct pw_event *ev = pw_thread_ring(th);
    int parks[2] = {0, 0}, next = 0;
    for (uint64_t i = 0; i < th->ring_head && i < h->ring_events; i++) {
        if (ev[i].kind != PW_EV_PARK || ev[i].op != PW_OP_POLL)
            continue;
        CHECK(ev[i].stack != 0);
        const struct pw_stack_rec *s = (const struct pw_stack_rec *)(base + h->depot_pool.offset +
                                                                     (uint64_t)ev[i].stack * 8);
        CHECK(s->nframes >= 2);
        if (ev[i].stack == 0 || s->nframes < 2)
            continue;
        /* from_a and from_b take turns */
        if (s->pcs[1] != ra[next])
            fprintf(stderr, "park %d: caller %llx, expected %llx\n", parks[0] + parks[1],
                    (unsigned long long)s->pcs[1], (unsigned long long)ra[next]);
        CHECK(s->pcs[1] == ra[next]);
        parks[next]++;
        next ^= 1;
    }
    CHECK(parks[0] == ROUNDS && parks[1] == ROUNDS);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "victim") == 0)
        return victim(argv[2]);
    if (argc < 2)
        return 2;
    const char *tmp = getenv("TMPDIR");
    char dir[512], out[600], opts[700];
    snprintf(dir, sizeof dir, "%s/pw-stack-cache-XXXXXX", tmp != NULL && tmp[0] ? tmp : P_tmpdir);
    if (mkdtemp(dir) == NULL)
        return 2;
    snprintf(out, sizeof out, "%s/callers", dir);
    snprintf(opts, sizeof opts, "trace_dir=%s:ring_events=1024", dir);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LD_PRELOAD", argv[1], 1);
        setenv("PARKWATCH_OPTIONS", opts, 1);
        execl("/proc/self/exe", "test_stack_cache", "victim", out, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unsigned long long v[4] = {0, 0, 0, 0};
    FILE *f = fopen(out, "r");
    CHECK(f != NULL && fscanf(f, "%llx %llx %llx %llx", &v[0], &v[1], &v[2], &v[3]) == 4);
    if (f != NULL)
        fclose(f);
    unlink(out);
    uint64_t ra[2] = {v[0], v[1]};
    CHECK(ra[0] != ra[1]);
    CHECK(v[2] == v[3]); /* the same stack depth: the cache key is the same */
    char path[1024];
    snprintf(path, sizeof path, "%s/parkwatch.%d.trace", dir, (int)pid);
    size_t size = 0;
    char *base = load(path, &size);
    CHECK(base != NULL);
    if (base != NULL)
        check_trace(base, ra);
    free(base);
    unlink(path);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
    if (failures != 0)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
