/* Calls that make an fd but no channel: open, openat, creat, socket, accept.
 * The shim follows them for one reason: a number that was a channel fd,
 * closed by one thread and now given to another thread's new object, must not
 * be closed again by the first thread (fdtab.h, PW_FD_REUSED).  Each is the
 * real call and, when it returned an fd, one load of that fd's word (0 for
 * almost every number); errno, results and fd numbers are the real call's.
 * Not followed: the fortified __open_2 family, memfd_create, signalfd,
 * timerfd, inotify, and fds received over a socket (a reuse by them is missed,
 * never misreported: the number's old word then stays as it was). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtab.h"
#include "init.h"
#include "real.h"
#include "shim.h"

/* ON: pw_on() asked before the real call (it also resolves the real table
 * on a first call); the table may still be empty when the shim itself opens
 * its trace, or a constructor runs before it: then the system call. */
static int made(bool on, int fd)
{
    if (on && fd >= 0)
        pw_fd_created(fd);
    return fd;
}

#define REAL_OR_SYS(name, sys, ...) \
    (PW_REAL(name) ? PW_REAL(name)(__VA_ARGS__) : (int)syscall(sys, __VA_ARGS__))

/* The mode argument exists only with O_CREAT or O_TMPFILE; glibc reads it the
 * same way. */
#define MODE_ARG(flags, mode)                    \
    do {                                         \
        if ((flags) & (O_CREAT | __O_TMPFILE)) { \
            va_list ap;                          \
            va_start(ap, flags);                 \
            mode = (mode_t)va_arg(ap, int);      \
            va_end(ap);                          \
        }                                        \
    } while (0)

/* Both names: with _FILE_OFFSET_BITS=64 the headers redirect open to open64
 * (this file is built that way, hence the asm labels, as for fcntl). */
PW_EXPORT int pw_open(const char *path, int flags, ...) __asm__("open");
PW_EXPORT int pw_open64(const char *path, int flags, ...) __asm__("open64");
PW_EXPORT int pw_openat(int dir, const char *path, int flags, ...) __asm__("openat");
PW_EXPORT int pw_openat64(int dir, const char *path, int flags, ...) __asm__("openat64");
PW_EXPORT int pw_creat(const char *path, mode_t mode) __asm__("creat");
PW_EXPORT int pw_creat64(const char *path, mode_t mode) __asm__("creat64");

/* Before the real table exists (or while the shim calls open for itself) the
 * system call does it. */
#define OPENAT(real, dir, path, flags, mode)                       \
    (PW_REAL(real) ? PW_REAL(real)((dir), (path), (flags), (mode)) \
                   : (int)syscall(SYS_openat, (dir), (path), (flags), (mode)))

PW_EXPORT int pw_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    bool on = pw_on();
    int fd = PW_REAL(open) ? PW_REAL(open)(path, flags, mode)
                           : (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
    return made(on, fd);
}

PW_EXPORT int pw_open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    bool on = pw_on();
    int fd = PW_REAL(open64) ? PW_REAL(open64)(path, flags, mode)
                             : (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
    return made(on, fd);
}

PW_EXPORT int pw_openat(int dir, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    bool on = pw_on();
    return made(on, OPENAT(openat, dir, path, flags, mode));
}

PW_EXPORT int pw_openat64(int dir, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    bool on = pw_on();
    return made(on, OPENAT(openat64, dir, path, flags, mode));
}

PW_EXPORT int pw_creat(const char *path, mode_t mode)
{
    bool on = pw_on();
    return made(on, REAL_OR_SYS(creat, SYS_creat, path, mode));
}

PW_EXPORT int pw_creat64(const char *path, mode_t mode)
{
    bool on = pw_on();
    return made(on, REAL_OR_SYS(creat64, SYS_creat, path, mode));
}

PW_EXPORT int socket(int domain, int type, int protocol)
{
    bool on = pw_on();
    return made(on, REAL_OR_SYS(socket, SYS_socket, domain, type, protocol));
}

PW_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    bool on = pw_on();
    return made(on, REAL_OR_SYS(accept, SYS_accept, fd, addr, len));
}

PW_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    bool on = pw_on();
    return made(on, REAL_OR_SYS(accept4, SYS_accept4, fd, addr, len, flags));
}
