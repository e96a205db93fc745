/* The lock-order memo, linked directly: the per-depth memo of the last
 * (held set, B) matches a repeated nested acquisition before the hashed cache
 * is consulted, misses a different held set, and each new edge is one
 * LOCK_EDGE note. */
#include <string.h>

#include "shim_env.h"

#define A 0x1000u
#define B 0x2000u
#define C 0x3000u
#define D 0x4000u

static uint64_t typed(uint64_t lock, uint8_t type)
{
    return lock | (uint64_t)type << 56;
}

static void take(uint64_t lock)
{
    pw_lock_acquired(pw_self(), lock, PW_OBJ_MUTEX, false, 0x400000 + lock);
}

static void drop(uint64_t lock)
{
    pw_held_pop(pw_self(), lock);
}

static bool cache_empty(void)
{
    for (uint32_t i = 0; i < PW_LO_CACHE; i++)
        if (pw_lo.cache[i] != 0)
            return false;
    return true;
}

static uint64_t edges(void)
{
    return PW_LOAD(&pw_tf.hdr->lock_edges);
}

static void test_memo(void)
{
    /* A then B: one edge, remembered at depth 1 */
    take(A);
    CHECK(pw_self()->nheld == 1 && pw_lo.obj[0] == A && pw_lo.pc[0] == 0x400000 + A);
    uint32_t notes = shim_env_notes();
    take(B);
    CHECK(edges() == 1 && shim_env_notes() == notes + 1);
    const struct pw_event *n = shim_env_note(notes);
    CHECK(n->kind == PW_EV_LOCK_EDGE && n->obj == A && n->obj2 == B && n->op == PW_OBJ_MUTEX);
    CHECK(n->stack2 != 0); /* A's one-frame site */
    CHECK(pw_lo.memo[1].b == typed(B, PW_OBJ_MUTEX));
    CHECK(pw_lo.memo[1].held[0] == typed(A, PW_OBJ_MUTEX));
    drop(B);
    drop(A);
    CHECK(pw_self()->nheld == 0);

    /* the same nesting again: the memo answers, the cache is not even hashed
     * into (it was emptied, and stays empty) */
    memset(pw_lo.cache, 0, sizeof pw_lo.cache);
    take(A);
    take(B);
    CHECK(cache_empty());
    CHECK(edges() == 1 && shim_env_notes() == notes + 1);
    drop(B);
    drop(A);

    /* a different held set before the same B: the memo misses, the edge is
     * new (C -> B), and the memo now holds the new set */
    take(C);
    take(B);
    CHECK(!cache_empty());
    CHECK(edges() == 2 && shim_env_notes() == notes + 2);
    CHECK(shim_env_note(notes + 1)->obj == C && shim_env_note(notes + 1)->obj2 == B);
    CHECK(pw_lo.memo[1].held[0] == typed(C, PW_OBJ_MUTEX));
    drop(B);
    drop(C);

    /* back to A -> B: the memo misses (it holds C), the cache hits: no note */
    take(A);
    take(B);
    CHECK(edges() == 2 && shim_env_notes() == notes + 2);
    CHECK(pw_lo.memo[1].held[0] == typed(A, PW_OBJ_MUTEX));
    drop(B);

    /* depth 2 has its own memo: A, B then D gives two edges (A -> D, B -> D) */
    take(B);
    take(D);
    CHECK(edges() == 4);
    CHECK(pw_lo.memo[2].b == typed(D, PW_OBJ_MUTEX));
    CHECK(pw_lo.memo[2].held[0] == typed(A, PW_OBJ_MUTEX) &&
          pw_lo.memo[2].held[1] == typed(B, PW_OBJ_MUTEX));
    CHECK(pw_lo.memo[1].held[0] == typed(A, PW_OBJ_MUTEX)); /* depth 1 untouched */
    drop(D);
    drop(B);
    drop(A);

    /* same B but read-held A is a different typed set: a miss, and an edge */
    pw_lock_acquired(pw_self(), A, PW_OBJ_RWLOCK | PW_HELD_READ, false, 0);
    take(B);
    CHECK(edges() == 5);
    drop(B);
    drop(A);

    /* a trylock records no edge and leaves the memo alone */
    take(A);
    pw_lock_acquired(pw_self(), C, PW_OBJ_MUTEX, true, 0);
    CHECK(edges() == 5 && pw_self()->nheld == 2);
    drop(C);
    drop(A);
}

/* A lock re-initialised at an address that appears in an edge is a new object:
 * its generation changes, every memo and cache is stale, and the same nesting
 * records its edge again. */
static void test_reborn(void)
{
    CHECK(pw_lock_reborn(A, 0));
    CHECK(!pw_lock_reborn(0x9000, 0)); /* never in an edge: nothing to do */
    CHECK(!pw_lock_reborn(0x9000, 7)); /* an init enters the table, not an edge */
    take(A);
    take(B);
    CHECK(edges() == 6);
    drop(B);
    drop(A);
}

int main(void)
{
    if (shim_env_start() != 0) {
        fprintf(stderr, "cannot start a trace in %s\n", shim_env_dir);
        shim_env_end();
        return 1;
    }
    test_memo();
    test_reborn();
    shim_env_end();
    return failures != 0;
}
