/* Correct: "writer" sends 1 MiB through a pipe shrunk to one page
 * (F_SETPIPE_SZ) and through a socketpair, in 10000-byte writes (more than
 * PIPE_BUF: partial writes the shim must continue exactly as a blocking write
 * does), while "reader" drains both and checks every byte.  Every write
 * returns its full size, errno is left alone, and nothing is reported. */
#include "victim.h"

#include <fcntl.h>
#include <sys/socket.h>

#define TOTAL (1 << 20)
#define CHUNK 10000

static int fds[2][2]; /* [0] pipe, [1] socketpair */
static volatile int bad;

static void *writer_main(void *arg)
{
    (void)arg;
    static unsigned char buf[CHUNK];
    for (int ch = 0; ch < 2; ch++) {
        size_t sent = 0;
        while (sent < TOTAL) {
            size_t n = TOTAL - sent < CHUNK ? TOTAL - sent : CHUNK;
            for (size_t i = 0; i < n; i++)
                buf[i] = (unsigned char)((sent + i) * 7 + ch);
            errno = 12345;
            ssize_t rc = write(fds[ch][1], buf, n);
            if (rc != (ssize_t)n || errno != 12345)
                bad = 1; /* a blocking write writes everything, errno untouched */
            if (rc <= 0)
                break;
            sent += (size_t)rc;
        }
        close(fds[ch][1]);
    }
    return NULL;
}

static void *reader_main(void *arg)
{
    (void)arg;
    static unsigned char buf[4096];
    for (int ch = 0; ch < 2; ch++) {
        size_t got = 0;
        ssize_t rc;
        while ((rc = read(fds[ch][0], buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < rc; i++)
                if (buf[i] != (unsigned char)((got + (size_t)i) * 7 + ch))
                    bad = 1;
            got += (size_t)rc;
        }
        if (got != TOTAL)
            bad = 1;
        close(fds[ch][0]);
    }
    return NULL;
}

int main(void)
{
    if (pipe(fds[0]))
        die("pipe", errno);
    if (fcntl(fds[0][1], F_SETPIPE_SZ, 4096) < 0)
        die("F_SETPIPE_SZ", errno);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[1]))
        die("socketpair", errno);
    pthread_t w = start_named(writer_main, NULL, "writer");
    pthread_t r = start_named(reader_main, NULL, "reader");
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    return bad;
}
