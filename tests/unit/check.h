/* The unit tests' one assertion: a failed CHECK prints where and what, counts,
 * and lets the test go on, so one run shows every failure.  A test's main
 * returns failures != 0. */
#ifndef PW_TEST_CHECK_H
#define PW_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

#endif
