/* Process-wide recording state (proc.h): its storage only; init.c moves it. */
#include "proc.h"

struct pw_proc pw_proc_boot;
struct pw_proc *pw_proc = &pw_proc_boot;
int32_t pw_pid;
