/* main closes the read end of a pipe while "reader" is blocked reading it.
 * On Linux the close does not wake the reader: it stays parked for good. */
#include "victim.h"

static int fds[2];
static volatile pid_t reader_tid;

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    reader_tid = self_tid();
    if (read(fds[0], &c, 1) < 0)
        die("read", errno);
    return NULL;
}

int main(void)
{
    if (pipe(fds))
        die("pipe", errno);
    start_named(reader_main, NULL, "reader");
    wait_asleep(&reader_tid);
    close(fds[0]); /* bug under test: reader is parked on this fd */
    return 0;
}
