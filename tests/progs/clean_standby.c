/* Standby channels never used: a wake-up pipe whose write end the program
 * hands away and closes, kept for a wake-up that never comes, and an eventfd
 * kept by an event loop.  Neither is an fd-leak. */
#include <sys/eventfd.h>

#include "victim.h"

int main(void)
{
    int wake[2];
    if (pipe(wake))
        die("pipe", errno);
    close(wake[1]); /* nobody will ever wake us: the read end stays, unused */
    int ev = eventfd(0, EFD_CLOEXEC);
    if (ev < 0)
        die("eventfd", errno);
    return 0; /* both kept for the process's life, never used */
}
