/* Stack depot: dedup, distinct stacks, concurrent inserts, a full pool. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot.h"

#include "../check.h"

struct fixture {
    struct pw_depot d;
    uint64_t used, dropped;
};

static void setup(struct fixture *f, uint32_t slots, uint64_t pool)
{
    memset(f, 0, sizeof *f);
    f->d.index = calloc(slots, sizeof(uint32_t));
    f->d.mask = slots - 1;
    f->d.pool = calloc(1, pool);
    f->d.pool_size = pool;
    f->used = 8; /* id 0 reserved, as in a trace */
    f->d.used = &f->used;
    f->d.dropped = &f->dropped;
}

static void teardown(struct fixture *f)
{
    free(f->d.index);
    free(f->d.pool);
}

/* A stack that differs from stack(k2) for k != k2, some of different depths. */
static unsigned make_stack(unsigned k, uint64_t *pcs)
{
    unsigned n = 3 + k % 7;
    for (unsigned i = 0; i < n; i++)
        pcs[i] = 0x400000 + k * 0x100 + i * 8;
    return n;
}

static void test_dedup(void)
{
    struct fixture f;
    setup(&f, 64, 4096);
    uint64_t a[] = {0x401000, 0x402000, 0x403000};
    uint64_t b[] = {0x401000, 0x402000, 0x403008};
    uint32_t ia = pw_depot_put(&f.d, a, 3);
    uint32_t ia2 = pw_depot_put(&f.d, a, 3);
    uint32_t ib = pw_depot_put(&f.d, b, 3);
    uint32_t ishort = pw_depot_put(&f.d, a, 2);
    CHECK(ia != 0 && ia == ia2);
    CHECK(ib != 0 && ib != ia);
    CHECK(ishort != 0 && ishort != ia);
    CHECK(pw_depot_put(&f.d, a, 0) == 0);
    const struct pw_stack_rec *r = pw_depot_get(&f.d, ib);
    CHECK(r != NULL && r->nframes == 3 && r->pcs[2] == 0x403008);
    CHECK(pw_depot_get(&f.d, 0) == NULL);
    /* three records of 8 + 8n bytes after the reserved 8 */
    CHECK(f.used == 8 + 32 + 32 + 24);
    CHECK(f.dropped == 0);
    teardown(&f);
}

enum { THREADS = 4, DISTINCT = 1000, ROUNDS = 3 };
static struct fixture shared;
static uint32_t ids[THREADS][DISTINCT];

static void *inserter(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    uint64_t pcs[16];
    for (unsigned r = 0; r < ROUNDS; r++)
        for (unsigned j = 0; j < DISTINCT; j++) {
            unsigned k = (j * 7 + me * 131) % DISTINCT; /* different orders */
            unsigned n = make_stack(k, pcs);
            uint32_t id = pw_depot_put(&shared.d, pcs, n);
            CHECK(id != 0);
            CHECK(ids[me][k] == 0 || ids[me][k] == id);
            ids[me][k] = id;
        }
    return NULL;
}

static void test_threads(void)
{
    setup(&shared, 4096, 1 << 20);
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, inserter, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    unsigned published = 0;
    for (uint32_t s = 0; s <= shared.d.mask; s++)
        published += shared.d.index[s] != 0;
    CHECK(published == DISTINCT); /* each stack stored once */
    uint64_t pcs[16];
    for (unsigned k = 0; k < DISTINCT; k++) {
        for (unsigned i = 1; i < THREADS; i++)
            CHECK(ids[i][k] == ids[0][k]);
        unsigned n = make_stack(k, pcs);
        const struct pw_stack_rec *r = pw_depot_get(&shared.d, ids[0][k]);
        CHECK(r != NULL && r->nframes == n && memcmp(r->pcs, pcs, n * 8) == 0);
    }
    CHECK(shared.dropped == 0);
    teardown(&shared);
}

static void test_full_pool(void)
{
    struct fixture f;
    setup(&f, 1024, 512);
    uint64_t pcs[16];
    unsigned stored = 0, failed = 0;
    for (unsigned k = 0; k < 100; k++) {
        unsigned n = make_stack(k, pcs);
        if (pw_depot_put(&f.d, pcs, n) != 0)
            stored++;
        else
            failed++;
    }
    CHECK(stored > 0 && failed > 0);
    CHECK(f.dropped == failed);
    CHECK(f.used <= f.d.pool_size);
    teardown(&f);

    setup(&f, 4, 1 << 16); /* full index this time */
    for (unsigned k = 0; k < 6; k++) {
        unsigned n = make_stack(k, pcs);
        pw_depot_put(&f.d, pcs, n);
    }
    CHECK(f.dropped == 2);
    teardown(&f);
}

int main(void)
{
    test_dedup();
    test_threads();
    test_full_pool();
    if (failures != 0)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
