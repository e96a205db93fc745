/* A thread whose name is markup: `<i>"&lt;</i>` parks forever reading a pipe
 * nobody closes.  The reports must show the name as it is: the HTML report
 * escapes it (no <i> element, the text "&lt;" not decoded), DOT and JSON
 * quote it. */
#include "victim.h"

static int chan[2];

static void *reader_main(void *arg)
{
    (void)arg;
    char c;
    /* blocks for good: the write end stays open and nothing is written */
    while (read(chan[0], &c, 1) == 1)
        ;
    return NULL;
}

int main(void)
{
    if (pipe(chan))
        die("pipe", errno);
    start_named(reader_main, NULL, "<i>\"&lt;</i>");
    settle();
    return 0;
}
