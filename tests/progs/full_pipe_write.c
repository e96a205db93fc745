/* A writer fills a pipe that nobody reads: once the pipe buffer is full the
 * writer parks in write() forever. */
#include "victim.h"

static int data_pipe[2];

static void *writer_main(void *arg)
{
    (void)arg;
    static char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (;;)
        if (write(data_pipe[1], chunk, sizeof chunk) < 0)
            break;
    return NULL;
}

int main(void)
{
    if (pipe(data_pipe))
        die("pipe", errno);
    start_named(writer_main, NULL, "writer");
    settle();
    return 0;
}
