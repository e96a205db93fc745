/* Readable names for mangled symbols (demangle.c): C++ and Rust, both of
 * Rust's manglings (legacy "_ZN...17h<hash>E" and v0 "_R..."). */
#ifndef PW_DEMANGLE_H
#define PW_DEMANGLE_H

/* A malloc'd readable name for NAME, or NULL when NAME is not a mangled name
 * this knows (a C function, a symbol too damaged to read). */
char *pw_demangle(const char *name);

#endif
