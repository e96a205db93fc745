/* Uses what early_lib's constructor set up before the shim's constructor
 * ran: unlocks the mutex it left held, feeds the pipe, joins the thread. */
#include "stress.h"

extern pthread_mutex_t early_lock;
extern int early_pipe[2];
extern pthread_t early_thread;

int main(void)
{
    out("early lock trylock: %s", pthread_mutex_trylock(&early_lock) == EBUSY ? "EBUSY" : "free");
    out("unlock: %d", pthread_mutex_unlock(&early_lock));
    if (write(early_pipe[1], "early", 5) != 5)
        die("write", errno);
    void *r;
    pthread_join(early_thread, &r);
    out("early thread read %ld", (long)r);
    close(early_pipe[0]);
    close(early_pipe[1]);
    return 0;
}
