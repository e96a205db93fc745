/* Offline symbolization of trace stacks with elfutils libdwfl, from the module
 * map recorded in the trace (path, load bias, build-id).  Results are cached
 * per module and per pc, so large reports stay fast. */
#ifndef PW_SYMBOLIZE_H
#define PW_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct pw_trace;
struct pw_module;

/* One symbolized frame.  Strings are owned by the symbolizer (interned) and stay
 * valid until pw_sym_free.  function/file may be NULL (no symbols or no debug
 * info); module is the module's path, or NULL if the pc is in no known module. */
struct pw_frame {
    uint64_t pc;          /* the recorded return address */
    const char *function; /* demangled; for an inlined frame, the inlined function */
    const char *file;     /* source file as recorded in DWARF (may be relative) */
    int line;             /* 0 if unknown */
    int column;           /* 0 if unknown */
    const char *module;
    uint64_t module_offset; /* pc - module load bias */
    int inlined;            /* 1 if this frame was inlined into the next one */
};

struct pw_symbolizer;

/* Creates a symbolizer for the modules of trace T (T must outlive it).  Never
 * fails for lack of debug info: frames then degrade to module+offset. */
struct pw_symbolizer *pw_sym_new(const struct pw_trace *t);
void pw_sym_free(struct pw_symbolizer *s);

/* Same as pw_sym_new, from an explicit module list (copied; unit tests and
 * callers that merge module maps).  Entries with state != 1 are ignored. */
struct pw_symbolizer *pw_sym_new_modules(const struct pw_module *mods, size_t n);

/* Where separate debuginfo and build-id trees are searched, in elfutils'
 * debuginfo_path syntax (colon-separated; default ":.debug:/usr/lib/debug").
 * Call before the first pw_sym_stack.  PATH is copied. */
void pw_sym_set_debug_path(struct pw_symbolizer *s, const char *path);

/* Symbolizes N raw return addresses (innermost first, as stored in the depot):
 * applies "pc - 1" for the line lookup, expands inlined frames (innermost
 * first), hides frames that belong to libparkwatch itself.  Returns the number
 * of frames; *out is a malloc'd array the caller frees with free(). */
size_t pw_sym_stack(struct pw_symbolizer *s, const uint64_t *pcs, unsigned n,
                    struct pw_frame **out);

/* The global or static variable that contains data address ADDR (a lock in
 * .data or .bss), from the ELF symbol table of the module mapped there; *OFFSET
 * gets the byte offset into it.  NULL when ADDR is in no module (heap, stack)
 * or in no sized object symbol.  The string is interned (see pw_frame). */
const char *pw_sym_data(struct pw_symbolizer *s, uint64_t addr, uint64_t *offset);

/* "function (file:line)", "function (module+0xoff)" or "module+0xoff" into BUF. */
const char *pw_frame_format(const struct pw_frame *f, char *buf, size_t len);

#endif
