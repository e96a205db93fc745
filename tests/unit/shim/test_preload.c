/* The shim preloaded into a small victim (this same program, re-executed), and
 * the trace it leaves checked field by field: a thread parked forever in a
 * pipe read with a stack inside the victim, a cancelled cond waiter that ended
 * holding its mutex, and a fork child with its own trace that inherited the
 * pipe; the public API answers through the shim (active, a leaked thread found
 * by verify_none).  Usage: test_preload LIBPARKWATCH */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parkwatch.h"
#include "parkwatch/trace.h"

#include "../check.h"

/* ---- the victim */

static int pfd[2];
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cnd = PTHREAD_COND_INITIALIZER;

static void *reader(void *arg)
{
    char c;
    (void)arg;
    return read(pfd[0], &c, 1) < 0 ? NULL : arg; /* never written, never closed */
}

static void *waiter(void *arg)
{
    pthread_mutex_lock(&mtx);
    for (;;)
        pthread_cond_wait(&cnd, &mtx); /* cancelled here: ends holding mtx */
    return arg;
}

static int victim(void)
{
    pthread_t r, w;
    if (pipe(pfd) != 0 || parkwatch_active() != 1 || parkwatch_checkpoint("victim") != 0)
        return 2;
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&w, NULL, waiter, NULL);
    usleep(50000);
    pthread_cancel(w);
    pthread_join(w, NULL);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    usleep(50000);
    /* the reader is still parked: exactly one leak since the checkpoint */
    return parkwatch_verify_none(10) == 1 ? 0 : 3;
}

/* ---- the checker */

struct trace {
    char *base;
    size_t size;
    struct pw_trace_header *h;
};

static int load(const char *path, struct trace *t)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    memset(t, 0, sizeof *t);
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < PW_HEADER_SIZE) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    t->size = (size_t)st.st_size;
    t->base = malloc(t->size);
    size_t n = 0;
    ssize_t r;
    while (n < t->size && (r = read(fd, t->base + n, t->size - n)) > 0)
        n += (size_t)r;
    close(fd);
    t->h = (struct pw_trace_header *)t->base;
    return n == t->size && memcmp(t->h->magic, PW_TRACE_MAGIC, 8) == 0 ? 0 : -1;
}

static const struct pw_stack_rec *stack_of(const struct trace *t, uint32_t id)
{
    if (id == 0)
        return NULL;
    return (const struct pw_stack_rec *)(t->base + t->h->depot_pool.offset + (uint64_t)id * 8);
}

static const struct pw_module *module_of(const struct trace *t, uint64_t pc)
{
    const struct pw_module *m = (const struct pw_module *)(t->base + t->h->modules.offset);
    for (uint32_t i = 0; i < t->h->nmodules; i++)
        if (pc >= m[i].lo && pc < m[i].hi)
            return &m[i];
    return NULL;
}

/* The module of the innermost frame.  Under a sanitizer build (meson test
 * --setup asan) the sanitizer runtime's own interceptor of read() sits between
 * the victim and the shim: its frames are skipped, nothing else is. */
static const struct pw_module *first_user_module(const struct trace *t,
                                                 const struct pw_stack_rec *s)
{
    for (unsigned i = 0; i < s->nframes; i++) {
        const struct pw_module *m = module_of(t, s->pcs[i]);
        if (m == NULL || (!strstr(m->path, "libasan") && !strstr(m->path, "libubsan")))
            return m;
    }
    return NULL;
}

static const struct pw_event *find_event(struct pw_thread_rec *th, uint32_t ring, uint16_t kind)
{
    const struct pw_event *ev = pw_thread_ring(th);
    uint64_t n = th->ring_head < ring ? th->ring_head : ring;
    for (uint64_t i = 0; i < n; i++)
        if (ev[i].kind == kind)
            return &ev[i];
    return NULL;
}

static void check_parent(const struct trace *t, const char *exe)
{
    const struct pw_trace_header *h = t->h;
    const struct pw_chan_rec *ch = (const struct pw_chan_rec *)(t->base + h->chans.offset);
    CHECK(h->end_kind == PW_END_EXIT);
    CHECK(h->threads_used == 3);
    CHECK(h->chans_used == 1 && ch[0].state == PW_CS_OPEN && ch[0].type == PW_OBJ_PIPE);
    int parked = 0, cancelled = 0;
    for (uint32_t i = 0; i < h->threads_used; i++) {
        struct pw_thread_rec *th = pw_thread_slot(t->base, h, i);
        if (th->park_op == PW_OP_PIPE_READ) {
            parked++;
            CHECK(th->park_obj == ch[0].id && th->park_fd == ch[0].fd[0]);
            const struct pw_stack_rec *s = stack_of(t, th->park_stack);
            const struct pw_module *m = s != NULL ? first_user_module(t, s) : NULL;
            CHECK(m != NULL && strcmp(m->path, exe) == 0); /* pcs[0] is the victim's call */
            CHECK(th->create_stack != 0 && th->parent_serial == 1);
        }
        if (th->flags & PW_TF_HELD_AT_EXIT) {
            cancelled++;
            CHECK(th->state == PW_TS_EXITED && (th->flags & PW_TF_JOINED));
            CHECK(th->park_op == PW_OP_NONE && th->nheld == 1);
            const struct pw_event *ex = find_event(th, h->ring_events, PW_EV_THREAD_EXIT);
            CHECK(ex != NULL && ex->op == PW_EXIT_CANCEL);
            const struct pw_event *note = (const struct pw_event *)(t->base + h->notes.offset);
            CHECK(h->notes_used >= 1 && note[0].kind == PW_EV_HELD_AT_EXIT &&
                  note[0].obj == th->held[0]);
        }
    }
    CHECK(parked == 1);
    CHECK(cancelled == 1);
}

static void check_child(const struct trace *t, pid_t parent)
{
    const struct pw_trace_header *h = t->h;
    const struct pw_chan_rec *ch = (const struct pw_chan_rec *)(t->base + h->chans.offset);
    struct pw_thread_rec *th = pw_thread_slot(t->base, h, 0);
    CHECK(h->ppid == parent);
    CHECK(th->serial == 1 &&
          (th->flags & (PW_TF_FORKED | PW_TF_MAIN)) == (PW_TF_FORKED | PW_TF_MAIN));
    CHECK(ch[0].state == PW_CS_OPEN && (ch[0].flags & PW_CF_INHERITED));
    CHECK(ch[0].open[0] == 1 && ch[0].open[1] == 1);
    const struct pw_event *fk = find_event(th, h->ring_events, PW_EV_FORK);
    CHECK(fk != NULL && fk->op == 1 && fk->arg == (uint64_t)parent);
}

static int run_victim(const char *lib, const char *dir, pid_t *pid)
{
    char opts[600];
    snprintf(opts, sizeof opts, "trace_dir=%s", dir);
    *pid = fork();
    if (*pid == 0) {
        setenv("LD_PRELOAD", lib, 1);
        setenv("PARKWATCH_OPTIONS", opts, 1);
        execl("/proc/self/exe", "test_preload", "victim", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(*pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "victim") == 0)
        return victim();
    if (argc < 2)
        return 2;
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    char exe[1024];
    snprintf(dir, sizeof dir, "%s/pw-shim-test-XXXXXX", tmp != NULL && tmp[0] ? tmp : P_tmpdir);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (mkdtemp(dir) == NULL || n <= 0)
        return 2;
    exe[n] = '\0';
    pid_t pid;
    CHECK(run_victim(argv[1], dir, &pid) == 0);
    DIR *d = opendir(dir);
    struct dirent *de;
    int traces = 0;
    char self[64];
    snprintf(self, sizeof self, "parkwatch.%d.trace", (int)pid);
    while (d != NULL && (de = readdir(d)) != NULL) {
        char path[2048];
        struct trace t;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        traces++;
        int ok = load(path, &t) == 0;
        CHECK(ok);
        if (ok && strcmp(de->d_name, self) == 0)
            check_parent(&t, exe);
        else if (ok)
            check_child(&t, pid);
        free(t.base);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
    CHECK(traces == 2);
    if (failures != 0)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
