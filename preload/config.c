/* The shim's settings, parsed once at the first initialisation. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "util.h"

struct pw_config pw_cfg;

static uint32_t pow2_up(uint64_t x)
{
    uint32_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

/* The trace directory is made absolute once, so that a later chdir does not
 * scatter the traces of forked children. */
static void set_trace_dir(const char *dir)
{
    size_t n = 0;
    if (dir[0] != '/' && getcwd(pw_cfg.trace_dir, sizeof pw_cfg.trace_dir) != NULL) {
        n = strlen(pw_cfg.trace_dir);
        n = pw_append(pw_cfg.trace_dir, n, sizeof pw_cfg.trace_dir, "/");
    }
    pw_append(pw_cfg.trace_dir, n, sizeof pw_cfg.trace_dir, dir);
}

void pw_config_load(void)
{
    pw_options_parse(&pw_cfg.opt, getenv("PARKWATCH_OPTIONS"));
    pw_cfg.ring_events = pow2_up(pw_cfg.opt.ring_events);
    pw_cfg.opt.ring_events = pw_cfg.ring_events;
    pw_cfg.max_threads = (uint32_t)pw_cfg.opt.max_threads;
    pw_cfg.stack_depth = (uint32_t)pw_cfg.opt.stack_depth;
    set_trace_dir(pw_cfg.opt.trace_dir);
}
