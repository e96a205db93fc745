/* Small helpers that avoid stdio and malloc (util.c). */
#ifndef PW_UTIL_H
#define PW_UTIL_H

#include "shim.h"
#include <sys/types.h>

uint64_t pw_mono_abs(void);
void pw_warn(const char *first, ...) __attribute__((sentinel));
size_t pw_strlcpy(char *dst, const char *src, size_t cap);
size_t pw_append(char *dst, size_t pos, size_t cap, const char *src);
size_t pw_append_u64(char *dst, size_t pos, size_t cap, uint64_t v);
int pw_gettid(void);
ssize_t pw_sys_read(int fd, void *buf, size_t n);
int pw_sys_close(int fd);
void *pw_anon_map(size_t bytes);
/* Copies N bytes of this process's memory at ADDR into DST without faulting:
 * false (DST unspecified) when any of it is unmapped or unreadable.  errno is
 * kept. */
bool pw_mem_read(void *dst, uint64_t addr, size_t n);
/* The pid pw_mem_read reads from (init sets it for each process it records). */
void pw_mem_self(int32_t pid);

#endif
