/* futex_reuse's correct twin: both events set, both threads joined. */
#define PW_SET_ALL 1
#include "futex_reuse.c"
