/* The shim's settings: PARKWATCH_OPTIONS parsed once at init (options.c),
 * and the values derived from them that every module reads. */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include "shim.h"
#include "options.h"

struct pw_config {
    struct pw_options opt;
    uint32_t ring_events; /* opt.ring_events rounded up to a power of two */
    uint32_t max_threads;
    uint32_t stack_depth;
    char trace_dir[PW_EXE_MAX]; /* opt.trace_dir made absolute */
};
extern struct pw_config pw_cfg;

/* Parses PARKWATCH_OPTIONS into pw_cfg (first initialisation only). */
void pw_config_load(void);

#endif
