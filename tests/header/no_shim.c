/* include/parkwatch.h without the shim: every call must be a harmless no-op
 * that reports "inactive" (SPEC "The public header"), so programs can keep the
 * calls in every build.  Run directly, never under LD_PRELOAD. */
#include <errno.h>
#include <stdio.h>

#include <parkwatch.h>

static int failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

int main(void)
{
    int queue = 0; /* any address names a channel */
    errno = 1234;  /* no call may touch errno */

    CHECK(parkwatch_active() == 0);
    CHECK(parkwatch_checkpoint("no-shim") == -1);
    CHECK(parkwatch_checkpoint(NULL) == -1);
    CHECK(parkwatch_verify_none(0) == 0);
    CHECK(parkwatch_verify_none(1000) == 0); /* inactive: returns at once */
    CHECK(parkwatch_ignore_top_function("worker_main") == -1);
    CHECK(parkwatch_ignore_top_function(NULL) == -1);
    CHECK(parkwatch_ignore_current() == -1);

    CHECK(parkwatch_chan_make(&queue, 4, "jobs") == -1);
    CHECK(parkwatch_chan_send_begin(&queue) == -1);
    CHECK(parkwatch_chan_send_end(&queue) == -1);
    CHECK(parkwatch_chan_recv_begin(&queue) == -1);
    CHECK(parkwatch_chan_recv_end(&queue, 1) == -1);
    CHECK(parkwatch_chan_close(&queue) == -1);
    CHECK(parkwatch_chan_destroy(&queue) == -1);
    CHECK(parkwatch_chan_make(NULL, 0, NULL) == -1);

    /* a second round uses the cached lookups */
    CHECK(parkwatch_active() == 0);
    CHECK(parkwatch_chan_close(&queue) == -1);

    CHECK(errno == 1234);
    CHECK(queue == 0);
    if (failures)
        return 1;
    puts("parkwatch.h without the shim: every call is a no-op");
    return 0;
}
