#ifndef PW_TEST_NODEBUG_H
#define PW_TEST_NODEBUG_H

/* Calls FN and returns its result: FN's return address lies in this library. */
void *pw_nodebug_trampoline(void *(*fn)(void));

#endif
