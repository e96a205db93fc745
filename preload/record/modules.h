/* The module map in the trace (modules.c), refreshed on dlopen/dlclose. */
#ifndef PW_MODULES_H
#define PW_MODULES_H

void pw_modules_refresh(void);
void pw_modules_lock(void);
void pw_modules_unlock(void);

#include <stdint.h>

/* Where ADDR lies among the loaded modules: nowhere, in a module's writable
 * data segment (mapped and readable for as long as the module is loaded), or
 * elsewhere in its PT_LOAD range (which may hold unmapped or PROT_NONE gaps
 * between segments). */
enum pw_mod_where { PW_MOD_NONE, PW_MOD_DATA, PW_MOD_OTHER };
enum pw_mod_where pw_modules_where(uint64_t addr);

#endif
