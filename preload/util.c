/* Small helpers that avoid stdio and malloc: the shim runs inside allocators,
 * signal-unsafe states and half-initialised processes. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

uint64_t pw_mono_abs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t pw_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap == 0)
        return n;
    size_t c = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, c);
    dst[c] = '\0';
    return n;
}

/* Appends SRC at POS, truncating so that DST stays NUL-terminated within CAP;
 * returns the new length. */
size_t pw_append(char *dst, size_t pos, size_t cap, const char *src)
{
    if (cap == 0)
        return 0;
    if (pos >= cap)
        pos = cap - 1;
    size_t n = strlen(src);
    size_t room = cap - 1 - pos;
    if (n > room)
        n = room;
    memcpy(dst + pos, src, n);
    dst[pos + n] = '\0';
    return pos + n;
}

size_t pw_append_u64(char *dst, size_t pos, size_t cap, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp - 1;
    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return pw_append(dst, pos, cap, tmp + i);
}

/* One line on stderr: "parkwatch: " and the NULL-terminated strings.  write(2)
 * straight to the kernel so that it works before the real-function table
 * exists and never re-enters us. */
void pw_warn(const char *first, ...)
{
    char line[512];
    int saved = errno;
    size_t n = pw_append(line, 0, sizeof line - 1, "parkwatch: ");
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        n = pw_append(line, n, sizeof line - 1, s);
    va_end(ap);
    line[n++] = '\n';
    if (syscall(SYS_write, 2, line, n) < 0)
        errno = saved; /* nothing else to do: stderr is gone */
    errno = saved;
}

int pw_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

ssize_t pw_sys_read(int fd, void *buf, size_t n)
{
    return syscall(SYS_read, fd, buf, n);
}

int pw_sys_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

/* Anonymous private memory; untouched pages cost nothing. */
void *pw_anon_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* The pid pw_mem_read names, cached: getpid() is a system call (glibc stopped
 * caching it), and the futex wait path reads a word on every call.  Set by
 * init for every process it starts recording (first init and every fork
 * child, including those that skipped our atfork handlers: init notices them
 * through its wipe-on-fork page before anything records).  A vfork child (or
 * a clone sharing our memory) keeps its parent's pid here, which is right:
 * the kernel lets a process read a pid that shares its address space. */
static int32_t mem_pid;

void pw_mem_self(int32_t pid)
{
    PW_STORE_RELAXED(&mem_pid, pid);
}

/* The kernel does the read (process_vm_readv on our own pid, always allowed):
 * an unmapped address fails with EFAULT instead of a SIGSEGV in the host, and
 * no fd, signal handler or probe mapping is involved.  Costs one system call:
 * for paths that are about to block or that validate a guess. */
bool pw_mem_read(void *dst, uint64_t addr, size_t n)
{
    int err = errno;
    struct iovec to = {.iov_base = dst, .iov_len = n};
    struct iovec from = {.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
    int32_t pid = PW_LOAD_RELAXED(&mem_pid);
    ssize_t got = process_vm_readv(pid != 0 ? pid : getpid(), &to, 1, &from, 1, 0);
    errno = err;
    return got == (ssize_t)n;
}
