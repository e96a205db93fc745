/* threads.c internals shared with the thread interposers and init. */
#ifndef PW_THREADS_H
#define PW_THREADS_H

#include <stdint.h>

/* Start routine hand-over from pthread_create to the trampoline, per slot: the
 * child's slot is claimed in the parent, so no allocation is needed. */
struct pw_slot_priv {
    void *(*fn)(void *);
    void *arg;
};

int pw_threads_init(void);
uint32_t pw_new_serial(void);
struct pw_thread_rec *pw_slot_publish(uint32_t slot, uint32_t serial, uint32_t parent,
                                      uint32_t flags, uint32_t create_stack, uint64_t routine);
int pw_register_self(uint32_t flags);
void pw_thread_name_self(struct pw_thread_rec *t);

#endif
