/* A receiver blocks on a POSIX message queue nobody sends to.  Two opens of
 * the same name (one to receive, one to send) are one channel. */
#include "victim.h"

#include <fcntl.h>
#include <mqueue.h>

static mqd_t rq;
static volatile pid_t receiver_tid;

static void *receiver_main(void *arg)
{
    (void)arg;
    char buf[64];
    receiver_tid = self_tid();
    if (mq_receive(rq, buf, sizeof buf, NULL) < 0) /* nothing is ever sent */
        die("mq_receive", errno);
    return NULL;
}

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/pw-mq-leak-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    rq = mq_open(name, O_RDONLY | O_CREAT | O_EXCL, 0600, &attr);
    if (rq == (mqd_t)-1)
        die("mq_open", errno);
    mqd_t sq = mq_open(name, O_WRONLY);
    if (sq == (mqd_t)-1)
        die("mq_open", errno);
    mq_unlink(name); /* the queue lives on while open; leave nothing behind */
    start_named(receiver_main, NULL, "receiver");
    wait_asleep(&receiver_tid);
    return 0;
}
