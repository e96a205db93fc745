/* A pipeline of stages: main -> doubler -> adder -> main.  Each stage reads
 * until EOF, then closes its output, so the EOF travels down the line in
 * order and every stage ends. */
#include "victim.h"

#include <sys/uio.h>

struct stage {
    int in, out;
    int add, mul;
};

static void *stage_main(void *arg)
{
    struct stage *s = arg;
    int v;
    ssize_t n;
    struct iovec iov = {&v, sizeof v};
    /* the adder moves its items with readv/writev, the doubler with read/write */
    while ((n = s->add ? readv(s->in, &iov, 1) : read(s->in, &v, sizeof v)) == (ssize_t)sizeof v) {
        v = v * s->mul + s->add;
        if (s->add) {
            if (writev(s->out, &iov, 1) != (ssize_t)sizeof v)
                die("writev", errno);
        } else {
            write_all(s->out, &v, sizeof v);
        }
    }
    if (n != 0)
        die("read", n < 0 ? errno : EPROTO);
    close(s->out); /* passes the EOF on */
    close(s->in);
    return NULL;
}

int main(void)
{
    int p1[2], p2[2], p3[2];
    if (pipe(p1) || pipe(p2) || pipe(p3))
        die("pipe", errno);
    struct stage doubler = {p1[0], p2[1], 0, 2}, adder = {p2[0], p3[1], 1, 1};
    pthread_t t1 = start_named(stage_main, &doubler, "doubler");
    pthread_t t2 = start_named(stage_main, &adder, "adder");
    for (int i = 1; i <= 5; i++)
        write_all(p1[1], &i, sizeof i);
    close(p1[1]);
    int v, sum = 0;
    ssize_t n;
    while ((n = read(p3[0], &v, sizeof v)) == (ssize_t)sizeof v)
        sum += v;
    if (n != 0 || sum != 35)
        die("pipeline", n < 0 ? errno : EPROTO);
    close(p3[0]);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    printf("sum %d\n", sum);
    return 0;
}
