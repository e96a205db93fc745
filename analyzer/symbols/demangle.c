/* Demangling, one place for every language a stack can hold.
 *
 * C++ goes through the C++ runtime's own demangler (libstdc++'s
 * __cxa_demangle, which elfutils' tools use too): "pool::Worker::run()".
 *
 * Rust goes through libiberty's rust_demangle (binutils' and GDB's demangler,
 * shipped as a static library by Debian's libiberty-dev), which reads both
 * manglings rustc emits:
 *   - v0, "_R...", the default for generic code instantiated in a crate built
 *     with -C symbol-mangling-version=v0 (and for every crate in newer Rust);
 *   - legacy, "_ZN...17h<16 hex digits>E": valid C++ mangling, so
 *     __cxa_demangle would accept it but leave the hash and the "$LT$" / ".."
 *     escapes in ("_$LT$alloc..boxed..Box$LT$F$GT$...::call_once::h1a2b...").
 * rust_demangle returns NULL for a C++ symbol, so Rust is asked first.  The
 * hash is dropped (DMGL_VERBOSE would keep it), as Rust's own backtraces do. */
#include <libiberty/demangle.h>
#include <stdlib.h>

#include "demangle.h"

extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static char *demangle_cxx(const char *name)
{
    int status = -1;
    char *out = __cxa_demangle(name, NULL, NULL, &status);
    if (status != 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *pw_demangle(const char *name)
{
    if (!name || name[0] != '_')
        return NULL;
    if (name[1] == 'R' || (name[1] == 'Z' && name[2] == 'N')) {
        char *rust = rust_demangle(name, DMGL_PARAMS | DMGL_ANSI);
        if (rust)
            return rust;
    }
    return name[1] == 'Z' ? demangle_cxx(name) : NULL;
}
