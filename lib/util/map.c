/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An open-addressing hash map from byte strings to pointers.
 *
 * Linear probing keeps a lookup to one or two cache lines; the table stays at
 * most 7/8 full and doubles past that.  Deletion shifts later entries of the
 * same run back instead of leaving tombstones, so a map that sees many deletes
 * never degrades.  Each slot caches the key's hash, so a probe compares keys
 * only when 64 bits already agree.  Keys are copied (one allocation per key).
 */
#include "picket/util.h"

#include <string.h>

typedef struct slot {
    uint64_t hash; /* 0 marks an empty slot (real hashes are forced odd) */
    char *key;
    size_t klen;
    void *val;
} slot;

struct pk_map {
    slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
    size_t count;
};

/*
 * A 64-bit hash: eight bytes at a time folded through a 128-bit multiply,
 * which mixes every input bit into the high half cheaply.
 */
static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint64_t pk_hash(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    const uint64_t k1 = 0x9fb21c651e98df25ull, k2 = 0xc2b2ae3d27d4eb4full;
    uint64_t h = seed ^ mix(n ^ k1, k2);
    while (n >= 16) {
        h = mix(load64(p) ^ k1 ^ h, load64(p + 8) ^ k2);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = load64(p);
        b = 0;
        memcpy(&b, p + 8, n - 8);
    } else {
        memcpy(&a, p, n);
    }
    return mix(h ^ a ^ k2, b ^ k1 ^ (uint64_t)n);
}

static inline uint64_t key_hash(const void *key, size_t klen)
{
    return pk_hash(key, klen, 0) | 1;
}

pk_map *pk_map_new(size_t hint)
{
    pk_map *m = pk_calloc(1, sizeof *m);
    if (!m) return NULL;
    size_t cap = 16;
    while (cap - cap / 8 < hint)
        cap *= 2;
    m->slots = pk_calloc(cap, sizeof(slot));
    if (!m->slots) {
        pk_free(m);
        return NULL;
    }
    m->mask = cap - 1;
    return m;
}

void pk_map_free(pk_map *m)
{
    if (!m) return;
    for (size_t i = 0; i <= m->mask; i++)
        pk_free(m->slots[i].key);
    pk_free(m->slots);
    pk_free(m);
}

static slot *lookup(const pk_map *m, uint64_t h, const void *key, size_t klen)
{
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        slot *s = &m->slots[i];
        if (!s->hash) return s;
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
    }
}

static pk_status grow(pk_map *m)
{
    size_t cap = (m->mask + 1) * 2;
    slot *ns = pk_calloc(cap, sizeof(slot));
    if (!ns) return PK_ENOMEM;
    for (size_t i = 0; i <= m->mask; i++) {
        slot *s = &m->slots[i];
        if (!s->hash) continue;
        size_t j = s->hash & (cap - 1);
        while (ns[j].hash)
            j = (j + 1) & (cap - 1);
        ns[j] = *s;
    }
    pk_free(m->slots);
    m->slots = ns;
    m->mask = cap - 1;
    return PK_OK;
}

pk_status pk_map_put(pk_map *m, const void *key, size_t klen, void *val)
{
    uint64_t h = key_hash(key, klen);
    slot *s = lookup(m, h, key, klen);
    if (s->hash) {
        s->val = val;
        return PK_OK;
    }
    size_t cap = m->mask + 1;
    if (m->count + 1 > cap - cap / 8) {
        if (grow(m)) return PK_ENOMEM;
        s = lookup(m, h, key, klen);
    }
    char *k = pk_malloc(klen + 1);
    if (!k) return PK_ENOMEM;
    if (klen) memcpy(k, key, klen);
    k[klen] = '\0';
    s->hash = h;
    s->key = k;
    s->klen = klen;
    s->val = val;
    m->count++;
    return PK_OK;
}

int pk_map_find(const pk_map *m, const void *key, size_t klen, void **val)
{
    slot *s = lookup(m, key_hash(key, klen), key, klen);
    if (!s->hash) return 0;
    if (val) *val = s->val;
    return 1;
}

void *pk_map_get(const pk_map *m, const void *key, size_t klen)
{
    void *v = NULL;
    pk_map_find(m, key, klen, &v);
    return v;
}

int pk_map_del(pk_map *m, const void *key, size_t klen)
{
    slot *s = lookup(m, key_hash(key, klen), key, klen);
    if (!s->hash) return 0;
    pk_free(s->key);
    /* Backward-shift: pull later members of the run into the hole when their
     * home slot is at or before it (cyclically). */
    size_t hole = (size_t)(s - m->slots);
    for (size_t j = (hole + 1) & m->mask; m->slots[j].hash; j = (j + 1) & m->mask) {
        size_t home = m->slots[j].hash & m->mask;
        if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    memset(&m->slots[hole], 0, sizeof(slot));
    m->count--;
    return 1;
}

size_t pk_map_count(const pk_map *m)
{
    return m->count;
}

int pk_map_next(const pk_map *m, size_t *it, const void **key, size_t *klen, void **val)
{
    for (size_t i = *it; i <= m->mask; i++) {
        const slot *s = &m->slots[i];
        if (!s->hash) continue;
        if (key) *key = s->key;
        if (klen) *klen = s->klen;
        if (val) *val = s->val;
        *it = i + 1;
        return 1;
    }
    *it = m->mask + 1;
    return 0;
}
