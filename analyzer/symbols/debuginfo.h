/* Finding a module's separate debug file for libdwfl: elfutils' standard
 * search, without its two costs that buy nothing on most machines (see
 * debuginfo.c). */
#ifndef PW_DEBUGINFO_H
#define PW_DEBUGINFO_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>

#define PW_DEFAULT_DEBUG_ROOT "/usr/lib/debug"

struct pw_debuginfo {
    char *const *debug_path; /* the Dwfl_Callbacks' debuginfo_path: set by the
                              * user, elfutils searches it all */
    bool debuginfod;         /* a debuginfod server is configured (DEBUGINFOD_URLS) */
    char *cache_dir;         /* decompressed debug files by build-id; NULL = no cache */
};

/* Reads the environment: DEBUGINFOD_URLS, and PARKWATCH_CACHE_DIR (empty: no
 * cache), else $XDG_CACHE_HOME/parkwatch, else $HOME/.cache/parkwatch.
 * DEBUG_PATH points at the debuginfo path the callbacks use (NULL inside:
 * elfutils' default). */
void pw_debuginfo_init(struct pw_debuginfo *d, char *const *debug_path);
void pw_debuginfo_fini(struct pw_debuginfo *d);

/* A Dwfl_Callbacks.find_debuginfo.  The module's userdata slot must hold the
 * struct pw_debuginfo (set it with dwfl_module_info after dwfl_report_elf);
 * without it, this is dwfl_standard_find_debuginfo. */
int pw_debuginfo_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                      char **debuginfo_file_name);

/* DIR (its first DIRLEN bytes)/SUB/xx/rest SUFFIX for build-id ID, the layout
 * of a build-id tree (SUB is ".build-id" under /usr/lib/debug).  False when ID
 * is too short or too long, or the path does not fit in SIZE. */
bool pw_build_id_path(char *buf, size_t size, const char *dir, int dirlen, const char *sub,
                      const unsigned char *id, size_t idlen, const char *suffix);

/* Opens FILE read-only if it is a regular ELF file whose GNU build-id equals
 * WANT (any build-id if WANT_LEN is 0).  Returns the fd or -1. */
int pw_open_elf_checked(const char *file, const unsigned char *want, size_t want_len);

#endif
