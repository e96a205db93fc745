/* A real trace for the unit tests that link the shim's recording modules
 * directly (no preload): settings from PARKWATCH_OPTIONS, the trace file in a
 * fresh directory, the calling thread registered as the main thread. */
#ifndef PW_TEST_SHIM_ENV_H
#define PW_TEST_SHIM_ENV_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "config.h"
#include "event.h"
#include "fdtab.h"
#include "lockorder.h"
#include "proc.h"
#include "stack.h"
#include "threads.h"
#include "tracefile.h"

#include "../check.h"

/* Stack capture needs libunwind and the module map: not linked here.  No
 * stack is ever stored, which the modules under test handle as "unknown". */
uint32_t pw_stack_capture(void)
{
    return 0;
}

static char shim_env_dir[64];

static int shim_env_start(void)
{
    strcpy(shim_env_dir, "/tmp/pw-shim-unit-XXXXXX");
    if (mkdtemp(shim_env_dir) == NULL)
        return -1;
    char opts[256];
    snprintf(opts, sizeof opts,
             "trace_dir=%s:max_chans=64:max_threads=8:ring_events=64:max_notes=256:depot_kb=64",
             shim_env_dir);
    setenv("PARKWATCH_OPTIONS", opts, 1);
    pw_config_load();
    pw_pid = (int32_t)getpid();
    pw_proc->pid = pw_pid;
    if (pw_fdtab_init() != 0 || pw_chans_init() != 0 || pw_threads_init() != 0)
        return -1;
    pw_lockorder_init();
    if (pw_trace_create(0) != 0 || pw_register_self(0) < 0)
        return -1;
    PW_STORE(&pw_proc->ready, PW_READY_REC);
    return 0;
}

static void shim_env_end(void)
{
    DIR *d = opendir(shim_env_dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        char path[sizeof shim_env_dir + sizeof de->d_name + 1];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", shim_env_dir, de->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(shim_env_dir);
}

/* The calling thread's last ring event of KIND, or NULL. */
static inline const struct pw_event *shim_env_last(uint16_t kind)
{
    struct pw_thread_rec *t = pw_self();
    const struct pw_event *ring = pw_thread_ring(t);
    for (uint64_t i = t->ring_head; i-- > 0 && t->ring_head - i <= pw_cfg.ring_events;)
        if (ring[i % pw_cfg.ring_events].kind == kind)
            return &ring[i % pw_cfg.ring_events];
    return NULL;
}

static inline uint32_t shim_env_notes(void)
{
    return PW_LOAD(&pw_tf.hdr->notes_used);
}

static inline const struct pw_event *shim_env_note(uint32_t i)
{
    return (const struct pw_event *)(pw_tf.base + pw_tf.hdr->notes.offset) + i;
}

#endif
