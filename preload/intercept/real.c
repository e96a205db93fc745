/* Real-function table.  Resolved from ensure_init with the guard raised: dlsym
 * may call calloc, and an interposing allocator may call our pthread_mutex_lock,
 * which then passes through (see the fallbacks in the interposers). */
#include "real.h"

struct pw_real_table pw_real;

static void *resolve(const char *name, const char *version)
{
    void *p = NULL;
    if (version != NULL)
        p = dlvsym(RTLD_NEXT, name, version);
    if (p == NULL) /* architectures whose oldest version is newer than 2.3.2 */
        p = dlsym(RTLD_NEXT, name);
    return p;
}

void pw_real_resolve(void)
{
#define PW_X(name, ver)           \
    if (pw_real.name.obj == NULL) \
        pw_real.name.obj = resolve(#name, ver);
    PW_REAL_FUNCS(PW_X)
#undef PW_X
}
