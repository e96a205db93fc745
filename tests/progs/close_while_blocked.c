/* main closes the read end of a pipe while "reader" is blocked reading it.
 * On Linux the close does not wake the reader: it stays parked for good. */
#include "victim.h"

static int fds[2];

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    if (read(fds[0], &c, 1) < 0)
        die("read", errno);
    return NULL;
}

int main(void)
{
    if (pipe(fds))
        die("pipe", errno);
    start_named(reader_main, NULL, "reader");
    settle();
    close(fds[0]); /* bug under test: reader is parked on this fd */
    sleep_ms(50);
    return 0;
}
