/* The module map in the trace (modules.c), refreshed on dlopen/dlclose. */
#ifndef PW_MODULES_H
#define PW_MODULES_H

void pw_modules_refresh(void);
void pw_modules_lock(void);
void pw_modules_unlock(void);

#endif
