/* Finding a module's separate debug file for libdwfl.
 *
 * elfutils' standard callback (dwfl_standard_find_debuginfo) looks in the
 * build-id tree, then for the .gnu_debuglink name along the debuginfo path,
 * and last asks debuginfod.  Two of its costs buy nothing on most machines and
 * were paid by every report:
 *   - asking debuginfod dlopens libdebuginfod and with it curl, gnutls,
 *     kerberos, ldap... (about 25 libraries: 13 ms here) only to learn that no
 *     server is configured.  elfutils reaches that step here only when a server
 *     is configured, the user set a debuginfo path, or a debuglink file exists
 *     where the default path would look; otherwise the build-id lookup alone is
 *     the same search.
 *   - Debian's debug packages (libc6-dbg, the -dbgsym packages) ship
 *     compressed DWARF, and libdw inflates every debug section of a file as it
 *     opens it: 60-80 ms for libc's, in every report that prints a libc frame
 *     (every thread's start_thread).  Like perf's build-id cache (~/.debug),
 *     the first report stores a decompressed copy named by the build-id and
 *     later ones open that.  A build-id names one build, so an entry never goes
 *     stale; each is checked against the build-id before use, and written under
 *     a temporary name then renamed, so concurrent reports never see half a
 *     file.  PARKWATCH_CACHE_DIR= (empty) turns the cache off.
 */
#include "debuginfo.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BUILD_ID 64

int pw_open_elf_checked(const char *file, const unsigned char *want, size_t want_len)
{
    /* O_NONBLOCK: a recorded path could name a FIFO, whose open would hang. */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
        if (e && elf_kind(e) == ELF_K_ELF) {
            const void *id = NULL;
            ssize_t len = dwelf_elf_gnu_build_id(e, &id);
            ok = want_len == 0 || (len == (ssize_t)want_len && memcmp(id, want, want_len) == 0);
        }
        elf_end(e);
    }
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

static char *cache_dir_from_env(void)
{
    const char *dir = getenv("PARKWATCH_CACHE_DIR");
    if (dir)
        return *dir ? strdup(dir) : NULL;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char buf[PATH_MAX];
    int n;
    if (xdg && *xdg == '/') /* the XDG spec: a relative value is to be ignored */
        n = snprintf(buf, sizeof(buf), "%s/parkwatch", xdg);
    else if (home && *home == '/')
        n = snprintf(buf, sizeof(buf), "%s/.cache/parkwatch", home);
    else
        return NULL;
    return n > 0 && (size_t)n < sizeof(buf) ? strdup(buf) : NULL;
}

void pw_debuginfo_init(struct pw_debuginfo *d, char *const *debug_path)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    d->debug_path = debug_path;
    d->debuginfod = urls && *urls;
    d->cache_dir = cache_dir_from_env();
}

void pw_debuginfo_fini(struct pw_debuginfo *d)
{
    free(d->cache_dir);
    d->cache_dir = NULL;
}

bool pw_build_id_path(char *buf, size_t size, const char *dir, int dirlen, const char *sub,
                      const unsigned char *id, size_t idlen, const char *suffix)
{
    if (idlen < 2 || idlen > MAX_BUILD_ID)
        return false;
    char hex[2 * MAX_BUILD_ID + 1];
    for (size_t i = 0; i < idlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    int n = snprintf(buf, size, "%.*s/%s/%.2s/%s%s", dirlen, dir, sub, hex, hex + 2, suffix);
    return n > 0 && (size_t)n < size;
}

/* Whether elfutils' path search, on its default path ":.debug:/usr/lib/debug",
 * could find LINK (the .gnu_debuglink name; FILE's basename + ".debug" when
 * none) for FILE: DIR/LINK, DIR/.debug/LINK or /usr/lib/debug/DIR/LINK. */
static bool debuglink_exists(const char *file, const char *link)
{
    if (!file)
        return true; /* nothing to go by: let elfutils search */
    const char *slash = strrchr(file, '/');
    char name[NAME_MAX + 1], p[PATH_MAX];
    if (!link) {
        snprintf(name, sizeof(name), "%s.debug", slash ? slash + 1 : file);
        link = name;
    }
    int dlen = slash ? (int)(slash - file) : 1;
    const char *dir = slash ? file : ".";
    for (int i = 0; i < 3; i++) {
        int n = snprintf(p, sizeof(p), "%s%.*s%s/%s", i == 2 ? PW_DEFAULT_DEBUG_ROOT : "", dlen,
                         dir, i == 1 ? "/.debug" : "", link);
        if (n > 0 && (size_t)n < sizeof(p) && access(p, F_OK) == 0)
            return true;
    }
    return false;
}

static bool has_compressed_debug(int fd)
{
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    bool yes = false;
    for (Elf_Scn *scn = NULL; e && !yes && (scn = elf_nextscn(e, scn)) != NULL;) {
        GElf_Shdr sh;
        yes = gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED);
    }
    elf_end(e);
    return yes;
}

/* mkdir -p of PATH's directory. */
static bool make_parents(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return true;
}

static bool copy_file(int src, int dst)
{
    off_t off = 0;
    for (;;) {
        ssize_t n = copy_file_range(src, &off, dst, NULL, 1 << 30, 0);
        if (n == 0)
            return true;
        if (n < 0)
            break;
    }
    /* no copy_file_range here (old kernel, some filesystems): plain copy */
    if (ftruncate(dst, 0) < 0 || lseek(dst, 0, SEEK_SET) < 0)
        return false;
    char buf[1 << 16];
    for (off = 0;;) {
        ssize_t n = pread(src, buf, sizeof(buf), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0;
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(dst, buf + w, (size_t)(n - w));
            if (k < 0 && errno != EINTR)
                return false;
            w += k > 0 ? k : 0;
        }
        off += n;
    }
}

/* Inflates every compressed section of the ELF file open read-write as FD,
 * in place; libelf lays the sections out again. */
static bool decompress_in_place(int fd)
{
    Elf *e = elf_begin(fd, ELF_C_RDWR, NULL);
    bool ok = e != NULL;
    for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(e, scn)) != NULL;) {
        GElf_Shdr sh;
        ok = gelf_getshdr(scn, &sh) != NULL;
        if (ok && (sh.sh_flags & SHF_COMPRESSED))
            ok = elf_compress(scn, 0, 0) >= 0;
    }
    ok = ok && elf_update(e, ELF_C_WRITE) >= 0;
    elf_end(e);
    return ok;
}

/* Stores a decompressed copy of the debug file SRC as DEST; returns DEST
 * opened read-only, or -1 (the caller goes on with SRC). */
static int store_decompressed(int src, const char *dest)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dest);
    if (n < 0 || (size_t)n >= sizeof(tmp) || !make_parents(dest))
        return -1;
    int out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0)
        return -1;
    bool ok = copy_file(src, out) && decompress_in_place(out) && fchmod(out, 0644) == 0;
    close(out);
    if (!ok || rename(tmp, dest) < 0) {
        unlink(tmp);
        return -1;
    }
    return open(dest, O_RDONLY | O_CLOEXEC);
}

int pw_debuginfo_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                      char **debuginfo_file_name)
{
    const struct pw_debuginfo *d = userdata ? *userdata : NULL;
    const char *debug_open = NULL;
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debug_open);
    /* With the debug file already open, libdw asks for its dwz alt file:
     * another file, which elfutils finds by the alt build-id. */
    if (!d || debug_open)
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                            debuglink_crc, debuginfo_file_name);
    const unsigned char *id = NULL;
    GElf_Addr id_vaddr;
    int idlen = dwfl_module_build_id(mod, &id, &id_vaddr);
    char cached[PATH_MAX];
    bool cache = d->cache_dir && idlen > 0 &&
                 pw_build_id_path(cached, sizeof(cached), d->cache_dir, (int)strlen(d->cache_dir),
                                  "debug", id, (size_t)idlen, ".debug");
    if (cache) {
        int fd = pw_open_elf_checked(cached, id, (size_t)idlen);
        if (fd >= 0) {
            *debuginfo_file_name = strdup(cached);
            return fd;
        }
    }
    /* Without a build-id elfutils never asks debuginfod. */
    int fd;
    bool custom_path = d->debug_path && *d->debug_path;
    if (d->debuginfod || custom_path || idlen <= 0 || debuglink_exists(file_name, debuglink_file))
        fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    else
        fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    if (fd < 0 || !cache || !has_compressed_debug(fd))
        return fd;
    int cfd = store_decompressed(fd, cached);
    if (cfd < 0)
        return fd;
    close(fd);
    free(*debuginfo_file_name);
    *debuginfo_file_name = strdup(cached);
    return cfd;
}
