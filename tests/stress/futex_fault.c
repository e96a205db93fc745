/* Futex calls through syscall() on words the kernel refuses: an unmapped page,
 * a PROT_NONE page, NULL, a misaligned word, and a valid word with an
 * unmapped timeout.  The shim reads the word of a wait or a PI lock before
 * forwarding the call; that read must never fault in the host: each call
 * returns what it returns natively (rc and errno printed), and a good call
 * right after still works.
 *
 * The shim loads a word directly, without asking the kernel, when it lies in a
 * module's data segment or in the part of the brk heap it knows is mapped; a
 * heap page given back with sbrk() must fall out of that part: a wait on it
 * right after is EFAULT, as natively, and no SIGSEGV. */
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>

#include "stress.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

static void call(const char *what, const char *where, void *word, int op, long val, void *timeout)
{
    errno = 12345; /* a value the shim must not leak or leave */
    /* the last argument is the mask of the BITSET ops (ignored by the others) */
    long rc = syscall(SYS_futex, word, op, val, timeout, NULL, FUTEX_BITSET_MATCH_ANY);
    int err = errno;
    if (rc == -1)
        out("%s %s: rc=-1 errno=%s", what, where, strerrorname_np(err));
    else
        out("%s %s: rc=%ld errno=%d", what, where, rc, err);
}

/* A word on brk heap pages that are mapped, then given back. */
static void trimmed_heap(long page)
{
    static uint32_t prime;
    /* the shim notes the break at its first wait: have one before growing */
    call("WAIT", "before-heap-grows", &prime, FUTEX_WAIT_PRIVATE, 1, NULL);
    char *h = sbrk(2 * page);
    if (h == (void *)-1)
        die("sbrk", errno);
    call("WAIT", "heap-mismatch", h + page + 64, FUTEX_WAIT_PRIVATE, 1, NULL);
    if (sbrk(-2 * page) == (void *)-1)
        die("sbrk", errno);
    call("WAIT", "heap-given-back", h + page + 64, FUTEX_WAIT_PRIVATE, 0, NULL);
    call("WAIT", "heap-given-back-shared", h + page + 64, FUTEX_WAIT, 0, NULL);
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    out("futex calls on bad words"); /* stdio's buffer is allocated before the heap test */
    trimmed_heap(page);
    /* an address that was mapped a moment ago: unmapped, non-NULL, aligned */
    char *gone = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                      0);
    char *none = mmap(NULL, (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gone == MAP_FAILED || none == MAP_FAILED)
        die("mmap", errno);
    if (munmap(gone, (size_t)page))
        die("munmap", errno);
    static uint32_t good; /* 0: a free PI lock, a plain word */
    struct {
        const char *name;
        void *word;
    } words[] = {
        {"unmapped", gone + 64},
        {"prot-none", none + 64},
        {"null", NULL},
        {"misaligned", (char *)&good + 1},
    };
    static const struct {
        const char *name;
        int op;
    } ops[] = {
        {"WAIT", FUTEX_WAIT},
        {"WAIT_PRIVATE", FUTEX_WAIT_PRIVATE},
        {"WAIT_BITSET", FUTEX_WAIT_BITSET},
        {"WAIT_REQUEUE_PI", FUTEX_WAIT_REQUEUE_PI | FUTEX_PRIVATE_FLAG},
        {"LOCK_PI", FUTEX_LOCK_PI},
        {"LOCK_PI_PRIVATE", FUTEX_LOCK_PI_PRIVATE},
        {"LOCK_PI2", FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG},
        {"WAKE", FUTEX_WAKE},
        {"UNLOCK_PI", FUTEX_UNLOCK_PI},
    };
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            /* val 0: what a mapped zero page would hold, so a wait would sleep */
            call(ops[o].name, words[w].name, words[w].word, ops[o].op, 0, NULL);
        }
    /* a good word with a bad timeout: the wait is real up to the kernel */
    call("WAIT", "good-word-bad-timeout", &good, FUTEX_WAIT_PRIVATE, 0, gone);
    /* and the shim still works: a mismatched wait, a PI lock and unlock */
    call("WAIT", "good-word-mismatch", &good, FUTEX_WAIT_PRIVATE, 1, NULL);
    call("LOCK_PI", "good-word", &good, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
    call("UNLOCK_PI", "good-word", &good, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    return 0;
}
