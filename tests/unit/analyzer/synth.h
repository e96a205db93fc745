/* Test-only trace writer: lays out a small trace in memory the way the shim
 * does (page-aligned sections after an 8 KiB header), so reader and dump tests
 * can build exact inputs and then damage them. */
#ifndef PW_SYNTH_H
#define PW_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "parkwatch/trace.h"

struct synth {
    unsigned char *buf;
    size_t len;
    struct pw_trace_header *h;
};

struct synth_cfg {
    uint32_t ring_events, max_threads, max_chans, max_modules, max_notes, depot_bytes;
};

/* Zero fields of CFG take small defaults. Returns 0 or -1 (out of memory). */
int synth_init(struct synth *s, const struct synth_cfg *cfg);
void synth_free(struct synth *s);

/* Claims the next thread slot with SERIAL, NAME and STATE (PW_TS_*). */
struct pw_thread_rec *synth_thread(struct synth *s, uint32_t serial, const char *name,
                                   uint32_t state);
/* Appends E to T's ring (seq, thread filled in).  Returns the stored record. */
struct pw_event *synth_event(struct synth *s, struct pw_thread_rec *t, struct pw_event e);
struct pw_event *synth_note(struct synth *s, struct pw_event e);
/* Stores a stack in the depot pool; returns its id (0 when the pool is full). */
uint32_t synth_stack(struct synth *s, const uint64_t *pcs, unsigned n);
struct pw_chan_rec *synth_chan(struct synth *s, uint32_t id, uint16_t type, int fd0, int fd1);
struct pw_module *synth_module(struct synth *s, const char *path, uint64_t lo, uint64_t hi);

/* A ready-made trace with two threads, a pipe, a module, stacks, events and a
 * note; used by the round-trip test and the dump test. */
int synth_sample(struct synth *s, int32_t pid);

#endif
