/* Lock misuse (lockmisuse.c): what a lock tool is expected to catch (unlock of
 * a lock not held, destroy of a locked mutex or a busy cond, use of a destroyed
 * mutex, relock of a held lock, a cond waited with a mutex not held or with two
 * mutexes), seen from answers the interposers already have: a held-set miss,
 * EBUSY, EINVAL, EDEADLK, a park.  Nothing here runs on the uncontended lock
 * path; a misuse costs a stack and a note (MISUSE, trace.h). */
#ifndef PW_LOCKMISUSE_H
#define PW_LOCKMISUSE_H

#include <pthread.h>

#include "shim.h"

/* The calling thread misused OBJ (a lock or cond of PW_OBJ_* TYPE; OBJ2 is a
 * cond misuse's mutex, else 0): a note with its stack and, when another thread
 * holds OBJ, that thread.  Keeps errno; raises the guard itself. */
void pw_lock_misuse(uint16_t kind, uint16_t type, uint64_t obj, uint64_t obj2);
/* Before a cond wait on C with mutex M: another thread parked on C with
 * another mutex is a misuse (POSIX leaves it undefined). */
void pw_cond_wait_check(uint64_t c, uint64_t m);
/* Before pthread_cond_destroy(C): a thread parked on C that no signal or
 * broadcast released makes it busy. */
void pw_cond_destroy_check(uint64_t c);
/* After a signal (or BROADCAST) of C that had waiters returned: the time, for
 * pw_cond_destroy_check (a destroy right after a wake-up is correct). */
void pw_cond_woke(uint64_t c, bool broadcast);

/* ---- use after destroy (lock or wait on a destroyed lock or cond).
 *
 * glibc marks a destroyed mutex (__kind = -1: a lock answers EINVAL) and a
 * destroyed cond (bit 2 of __wrefs, destroy's wake-request flag, cleared only
 * by an init) but leaves a destroyed rwlock as it was.  So the shim marks an
 * rwlock it sees destroyed idle: the lock word says "write-locked" (every try
 * answers EBUSY, which the uncontended path never sees) and the unused
 * __pad3/__pad4 say "destroyed" and what the word was.  The first try that gets
 * EBUSY on a marked lock notes the misuse, restores the word and tries again,
 * so the program gets glibc's own answer.  Nothing is added to the uncontended
 * path: only calls that already failed or do work look. */

/* OBJ (of PW_OBJ_* TYPE; OBJ2 a cond wait's mutex, else 0) was used by CALL
 * (PW_CALL_*) after it was destroyed: a note with the stack of the call and,
 * when still known, who destroyed it and where.  Keeps errno; raises the guard. */
void pw_use_destroyed(uint16_t type, uint64_t obj, uint64_t obj2, uint16_t call);
/* OBJ was destroyed here (successfully): remember who and where (the stack is
 * captured once per call site, pw_stack_capture's cache). */
void pw_lock_destroyed(uint64_t obj);
/* After a successful pthread_rwlock_destroy(RW): remember the site and mark
 * RW if it is idle and private.  Before it: a marked RW is destroyed again. */
void pw_rwlock_destroyed(pthread_rwlock_t *rw);
/* A try on RW answered EBUSY (or an unlock missed the held set): if RW is
 * marked destroyed, note the use by CALL, restore it, and return true (the
 * caller tries again); false if RW is not marked. */
bool pw_rwlock_dead(pthread_rwlock_t *rw, uint16_t call);

#endif
