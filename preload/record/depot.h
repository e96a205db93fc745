/* Stack depot: identical stacks are stored once in the trace.
 *
 * The index (in the file) is an open-addressing table of uint32_t ids; the pool
 * (in the file) is bump-allocated, records 8-byte aligned; id = pool offset / 8,
 * offset 0 reserved so id 0 means "no stack".  Lock-free: a record is written
 * completely, then published by a release CAS of its id into an empty index
 * slot.  A writer that loses the CAS to an equal stack abandons its record (a
 * few wasted pool bytes, never a wrong answer). */
#ifndef PW_DEPOT_H
#define PW_DEPOT_H

#include <stdint.h>

#include "parkwatch/trace.h"

struct pw_depot {
    uint32_t *index; /* mask + 1 slots */
    uint32_t mask;
    char *pool;
    uint64_t pool_size;
    uint64_t *used;    /* bytes used in the pool (header.depot_used) */
    uint64_t *dropped; /* stacks not stored (header.dropped_stacks) */
};

/* Points D at the depot sections of the trace H mapped at BASE. */
void pw_depot_bind(struct pw_depot *d, struct pw_trace_header *h, void *base);

/* Returns the id of the stack PCS[0..N), storing it if new; 0 if it could not be
 * stored (pool or index full: *dropped is incremented) or N == 0. */
uint32_t pw_depot_put(struct pw_depot *d, const uint64_t *pcs, unsigned n);

/* The record of ID, or NULL if ID is 0 or out of range. */
const struct pw_stack_rec *pw_depot_get(const struct pw_depot *d, uint32_t id);

#endif
