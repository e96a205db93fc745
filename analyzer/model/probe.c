/* Trace-file probes (probe.h): header and thread-record peeks and the end
 * patch, for the commands that must not load a whole trace. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"

/* Opens PATH (relative to DIRFD) with FLAGS if it is a file the probes may
 * use (probe.h): never through a symlink, never blocking (a FIFO opens at once
 * and is then refused), a regular file owned by our effective user.  Fills
 * *ST; -1 otherwise. */
static int open_own(int dirfd, const char *path, int flags, struct stat *st)
{
    int fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_uid != geteuid()) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

static bool header_ok(const struct pw_trace_header *h)
{
    return memcmp(h->magic, PW_TRACE_MAGIC, sizeof(h->magic)) == 0 &&
           h->version_major == PW_TRACE_VERSION_MAJOR;
}

static void id_from_header(const struct pw_trace_header *h, struct pw_trace_id *out)
{
    out->pid = h->pid;
    out->ppid = h->ppid;
    out->exec_gen = h->exec_gen;
    out->end = (enum pw_end_kind)h->end_kind;
    out->start_realtime_ns = h->start_realtime_ns;
    out->parked = false;
}

/* A live slot is being written while we look: state and park_op are read with
 * the atomics the shim publishes them with. */
static bool slots_parked(const char *base, size_t size, const struct pw_trace_header *h)
{
    uint64_t slot = h->thread_slot_size, off = h->threads.offset;
    uint32_t used = __atomic_load_n(&h->threads_used, __ATOMIC_ACQUIRE);
    if (slot < sizeof(struct pw_thread_rec) || off > size || used > h->threads.count)
        return false;
    for (uint32_t i = 0; i < used; i++) {
        uint64_t at = off + (uint64_t)i * slot;
        if (at > size || size - at < sizeof(struct pw_thread_rec))
            break;
        const struct pw_thread_rec *r = (const void *)(base + at);
        if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == PW_TS_ALIVE &&
            __atomic_load_n(&r->park_op, __ATOMIC_RELAXED) != PW_OP_NONE)
            return true;
    }
    return false;
}

int pw_trace_peek(const char *path, bool threads, struct pw_trace_id *out)
{
    struct stat st;
    int fd = open_own(AT_FDCWD, path, O_RDONLY, &st);
    if (fd < 0)
        return -1;
    if ((size_t)st.st_size < sizeof(struct pw_trace_header)) {
        close(fd);
        return -1;
    }
    size_t size = threads ? (size_t)st.st_size : sizeof(struct pw_trace_header);
    const char *base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return -1;
    const struct pw_trace_header *h = (const void *)base;
    int rc = -1;
    if (header_ok(h)) {
        id_from_header(h, out);
        if (threads)
            out->parked = slots_parked(base, size, h);
        rc = 0;
    }
    munmap((void *)base, size);
    return rc;
}

struct pw_trace_probe {
    const char *base;
    size_t size;
    bool has_gen; /* format 1.3 or later: header.park_gen is kept */
};

struct pw_trace_probe *pw_probe_open(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct pw_trace_header))
        return NULL;
    size_t size = (size_t)st.st_size;
    const char *base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return NULL;
    const struct pw_trace_header *h = (const void *)base;
    struct pw_trace_probe *p = NULL;
    if (header_ok(h) && h->file_size <= size && (p = malloc(sizeof(*p)))) {
        *p = (struct pw_trace_probe){.base = base, .size = size, .has_gen = h->version_minor >= 3};
        return p;
    }
    munmap((void *)base, size);
    return NULL;
}

void pw_probe_close(struct pw_trace_probe *p)
{
    if (!p)
        return;
    munmap((void *)p->base, p->size);
    free(p);
}

void pw_probe_id(const struct pw_trace_probe *p, struct pw_trace_id *out)
{
    const struct pw_trace_header *h = (const void *)p->base;
    id_from_header(h, out);
    out->end = (enum pw_end_kind)__atomic_load_n(&h->end_kind, __ATOMIC_ACQUIRE);
}

enum pw_look pw_probe_look(struct pw_trace_probe *p, uint64_t *gen)
{
    const struct pw_trace_header *h = (const void *)p->base;
    if (__atomic_load_n(&h->end_kind, __ATOMIC_ACQUIRE) != PW_END_RUNNING)
        return PW_LOOK_ENDED;
    if (p->has_gen) {
        /* read before the thread records: a change after this load shows at
         * the next look */
        uint64_t g = __atomic_load_n(&h->park_gen, __ATOMIC_ACQUIRE);
        if (g == *gen)
            return PW_LOOK_SAME;
        *gen = g;
    }
    return slots_parked(p->base, p->size, h) ? PW_LOOK_PARKED : PW_LOOK_IDLE;
}

void pw_trace_id_of(const struct pw_trace *t, struct pw_trace_id *out)
{
    id_from_header(pw_trace_header(t), out);
    for (size_t i = 0, n = pw_trace_nthreads(t); i < n && !out->parked; i++) {
        const struct pw_thread_rec *r = pw_trace_thread(t, i);
        out->parked = r->state == PW_TS_ALIVE && r->park_op != PW_OP_NONE;
    }
}

static int read_header(int fd, struct pw_trace_header *h)
{
    return pread(fd, h, sizeof(*h), 0) == (ssize_t)sizeof(*h) && header_ok(h) ? 0 : -1;
}

int pw_trace_find_last_image(const char *dir, int pid, char *path, size_t len)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int found = -1;
    uint32_t best_gen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!pw_trace_file_name_matches(de->d_name))
            continue;
        struct stat st;
        int fd = open_own(dirfd(d), de->d_name, O_RDONLY, &st);
        if (fd < 0)
            continue;
        struct pw_trace_header h;
        bool better = read_header(fd, &h) == 0 && h.pid == pid &&
                      (found < 0 || h.exec_gen >= best_gen);
        close(fd);
        if (!better)
            continue;
        snprintf(path, len, "%s/%s", dir, de->d_name);
        found = 0;
        best_gen = h.exec_gen;
    }
    closedir(d);
    return found;
}

static uint64_t mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void pw_trace_mark_seen(const char *path, uint64_t seen_ns)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return;
    struct stat st;
    uint32_t kind;
    uint64_t had;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        pread(fd, &kind, sizeof(kind), offsetof(struct pw_trace_header, end_kind)) ==
            sizeof(kind) &&
        kind == PW_END_RUNNING &&
        pread(fd, &had, sizeof(had), offsetof(struct pw_trace_header, end_ns)) == sizeof(had) &&
        had < seen_ns &&
        pwrite(fd, &seen_ns, sizeof(seen_ns), offsetof(struct pw_trace_header, end_ns)) !=
            sizeof(seen_ns)) {
        /* best effort: nothing to do */
    }
    close(fd);
}

int pw_trace_mark_end(const char *path, enum pw_end_kind kind, int status, uint64_t end_ns,
                      bool keep_deadlock)
{
    struct stat st;
    int fd = open_own(AT_FDCWD, path, O_RDWR, &st);
    if (fd < 0)
        return -1;
    uint32_t k = kind, old;
    int32_t code = status;
    int rc = 0;
    if (keep_deadlock &&
        pread(fd, &old, sizeof(old), offsetof(struct pw_trace_header, end_kind)) == sizeof(old) &&
        old == PW_END_DEADLOCK_ABORT)
        goto out;
    if (end_ns == PW_END_NS_NOW) {
        /* a trace still "running" has at most a reader's last-seen-alive time
         * in end_ns (pw_trace_mark_seen): the end is now */
        uint64_t had = 0, start = 0;
        uint32_t was = PW_END_RUNNING;
        end_ns = 0;
        if (pread(fd, &was, sizeof(was), offsetof(struct pw_trace_header, end_kind)) ==
                sizeof(was) &&
            pread(fd, &had, sizeof(had), offsetof(struct pw_trace_header, end_ns)) == sizeof(had) &&
            (had == 0 || was == PW_END_RUNNING) &&
            pread(fd, &start, sizeof(start), offsetof(struct pw_trace_header, start_mono_ns)) ==
                sizeof(start)) {
            uint64_t now = mono_now_ns();
            end_ns = now > start ? now - start : 0;
        }
    }
    /* the status first: a reader that sees the end kind sees its status too */
    if (pwrite(fd, &code, sizeof(code), offsetof(struct pw_trace_header, end_status)) !=
            sizeof(code) ||
        pwrite(fd, &k, sizeof(k), offsetof(struct pw_trace_header, end_kind)) != sizeof(k) ||
        (end_ns && pwrite(fd, &end_ns, sizeof(end_ns), offsetof(struct pw_trace_header, end_ns)) !=
                       sizeof(end_ns)))
        rc = -1;
out:
    if (rc < 0 && errno == 0)
        errno = EIO;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}
