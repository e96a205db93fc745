#include "depot.h"

#include <string.h>

#include "parkwatch/trace.h"

void pw_depot_bind(struct pw_depot *d, struct pw_trace_header *h, void *base)
{
    d->index = (uint32_t *)((char *)base + h->depot_index.offset);
    d->mask = h->depot_index.count - 1;
    d->pool = (char *)base + h->depot_pool.offset;
    d->pool_size = h->depot_pool.size;
    d->used = &h->depot_used;
    d->dropped = &h->dropped_stacks;
}

static uint32_t stack_hash(const uint64_t *pcs, unsigned n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ n;
    for (unsigned i = 0; i < n; i++) {
        h ^= pcs[i];
        h *= 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    uint32_t r = (uint32_t)(h ^ (h >> 29));
    return r != 0 ? r : 1;
}

const struct pw_stack_rec *pw_depot_get(const struct pw_depot *d, uint32_t id)
{
    uint64_t off = (uint64_t)id * 8;
    if (id == 0 || off + sizeof(struct pw_stack_rec) > d->pool_size)
        return NULL;
    return (const struct pw_stack_rec *)(d->pool + off);
}

static int same_stack(const struct pw_stack_rec *r, uint32_t hash, const uint64_t *pcs, unsigned n)
{
    return r->hash == hash && r->nframes == n && memcmp(r->pcs, pcs, n * sizeof *pcs) == 0;
}

/* Reserves SIZE bytes of pool; 0 when full.  A CAS loop rather than fetch_add
 * so that depot_used never points past the pool. */
static uint64_t pool_alloc(struct pw_depot *d, uint64_t size)
{
    uint64_t cur = __atomic_load_n(d->used, __ATOMIC_RELAXED);
    do {
        if (cur + size > d->pool_size)
            return 0;
    } while (!__atomic_compare_exchange_n(d->used, &cur, cur + size, 1, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    return cur;
}

static uint32_t new_record(struct pw_depot *d, uint32_t hash, const uint64_t *pcs, unsigned n)
{
    uint64_t off = pool_alloc(d, sizeof(struct pw_stack_rec) + (uint64_t)n * 8);
    if (off == 0)
        return 0;
    struct pw_stack_rec *r = (struct pw_stack_rec *)(d->pool + off);
    r->hash = hash;
    r->nframes = (uint16_t)n;
    r->flags = 0;
    memcpy(r->pcs, pcs, n * sizeof *pcs);
    return (uint32_t)(off / 8);
}

uint32_t pw_depot_put(struct pw_depot *d, const uint64_t *pcs, unsigned n)
{
    if (n == 0 || d->index == NULL)
        return 0;
    if (n > PW_STACK_MAX_FRAMES)
        n = PW_STACK_MAX_FRAMES;
    uint32_t hash = stack_hash(pcs, n);
    uint32_t mine = 0; /* our unpublished record, allocated at most once */
    for (uint32_t probe = 0; probe <= d->mask; probe++) {
        uint32_t *slot = &d->index[(hash + probe) & d->mask];
        uint32_t id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (id == 0) {
            if (mine == 0 && (mine = new_record(d, hash, pcs, n)) == 0)
                break;
            if (__atomic_compare_exchange_n(slot, &id, mine, 0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
                return mine;
            /* lost the race: id is the winner's record, compare it below */
        }
        const struct pw_stack_rec *r = pw_depot_get(d, id);
        if (r != NULL && same_stack(r, hash, pcs, n))
            return id;
    }
    __atomic_add_fetch(d->dropped, 1, __ATOMIC_RELAXED);
    return 0;
}
