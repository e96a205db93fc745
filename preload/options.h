/* The shim's options: the values of PARKWATCH_OPTIONS, whose keys, defaults,
 * bounds and help are the one list in include/parkwatch/options.h. */
#ifndef PW_OPTIONS_H
#define PW_OPTIONS_H

#include <stdint.h>

#include "parkwatch/options.h"

#define PW_OPT_CTYPE_STR const char *
#define PW_OPT_CTYPE_UINT uint64_t

struct pw_options {
#define PW_X(name, type, def, lo, hi, help) PW_OPT_CTYPE_##type name;
    PW_OPTIONS(PW_X)
#undef PW_X
};

/* Fills OPT from the defaults, then from ENV (may be NULL).  Strings point into
 * a static buffer; unknown keys give one warning line each and are ignored.
 * With help=1 it then prints every option, its value, default and meaning on
 * stderr, and the program runs on. */
void pw_options_parse(struct pw_options *opt, const char *env);

#endif
