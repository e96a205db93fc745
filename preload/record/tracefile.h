/* The trace file of this process image (tracefile.c): its mapping, the clock
 * its times count from, and the backing of its sparse pages. */
#ifndef PW_TRACEFILE_H
#define PW_TRACEFILE_H

#include "shim.h"
#include "depot.h"

struct pw_tracefile {
    struct pw_trace_header *hdr; /* NULL while recording is off */
    char *base;                  /* == (char *)hdr */
    uint64_t size;
    uint64_t start_mono;   /* header.start_mono_ns, kept here for pw_now */
    struct pw_depot depot; /* the depot sections of this mapping */
    char path[1024];
};
extern struct pw_tracefile pw_tf;

uint64_t pw_now(void); /* CLOCK_MONOTONIC ns since header.start_mono_ns */

/* A thread's park state changed (park, unpark, start, exit): tells a watcher
 * this process is worth a look (header.park_gen). */
static inline void pw_trace_park_changed(void)
{
    if (pw_tf.hdr != NULL)
        __atomic_add_fetch(&pw_tf.hdr->park_gen, 1, __ATOMIC_RELEASE);
}

#define PW_PAGE 4096u
int pw_trace_create(int32_t ppid); /* 0 = recording; -1 = off (warned) */
void pw_trace_detach(void);        /* forget the current mapping (fork child) */
bool pw_trace_reserve(void *addr,
                      uint64_t len); /* back pages before use; false = recording stopped */
/* How far a front-filled section is backed (pw_trace_back). */
struct pw_backing {
    char *sec;
    uint64_t to;
};
#define PW_BACK_STEP 16384u
bool pw_trace_back(struct pw_backing *b, char *sec, uint64_t sec_size, uint64_t upto);

/* The trace of the previous image of this process (exec generation GEN - 1),
 * mapped read-only, if it is one this image can read and it ended in an exec;
 * NULL otherwise.  *SIZE is the mapping's size, for pw_trace_unmap. */
struct pw_trace_header *pw_trace_map_previous(uint32_t gen, uint64_t *size);
void pw_trace_unmap(struct pw_trace_header *h, uint64_t size);

#endif
