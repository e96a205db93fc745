/* Three threads meet at a barrier round after round, all participants
 * arrive every time; the barrier is destroyed after the joins. */
#include "victim.h"

#define ROUNDS 50

static pthread_barrier_t round_end;
static long cells[3];

static void *stepper_main(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        cells[id] += r;
        pthread_barrier_wait(&round_end);
    }
    return NULL;
}

int main(void)
{
    int rc = pthread_barrier_init(&round_end, NULL, 3);
    if (rc)
        die("pthread_barrier_init", rc);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        t[i] = start_named(stepper_main, (void *)(intptr_t)i, "stepper");
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&round_end);
    printf("cells %ld %ld %ld\n", cells[0], cells[1], cells[2]);
    return 0;
}
