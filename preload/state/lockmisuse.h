/* Lock misuse (lockmisuse.c): what a lock tool is expected to catch (unlock of
 * a lock not held, destroy of a locked mutex or a busy cond, use of a destroyed
 * mutex, relock of a held lock, a cond waited with a mutex not held or with two
 * mutexes), seen from answers the interposers already have: a held-set miss,
 * EBUSY, EINVAL, EDEADLK, a park.  Nothing here runs on the uncontended lock
 * path; a misuse costs a stack and a note (MISUSE, trace.h). */
#ifndef PW_LOCKMISUSE_H
#define PW_LOCKMISUSE_H

#include "shim.h"

/* The calling thread misused OBJ (a lock or cond of PW_OBJ_* TYPE; OBJ2 is a
 * cond misuse's mutex, else 0): a note with its stack and, when another thread
 * holds OBJ, that thread.  Keeps errno; raises the guard itself. */
void pw_lock_misuse(uint16_t kind, uint16_t type, uint64_t obj, uint64_t obj2);
/* Before a cond wait on C with mutex M: another thread parked on C with
 * another mutex is a misuse (POSIX leaves it undefined). */
void pw_cond_wait_check(uint64_t c, uint64_t m);
/* Before pthread_cond_destroy(C): a thread parked on C makes it busy. */
void pw_cond_destroy_check(uint64_t c);

#endif
