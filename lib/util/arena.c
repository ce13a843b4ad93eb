/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arenas: bump allocation out of a chain of blocks, freed in one step.
 *
 * A pattern's syntax tree or a decoded bundle is built once, read many times
 * and dropped whole.  Giving each node its own malloc costs a header and a
 * call per node and makes every error path free a half-built tree; an arena
 * turns both into nothing.  Blocks grow: a request larger than the block size
 * gets a block of its own, so one huge string does not waste a block's tail.
 * The optional cap bounds the bytes a single untrusted input can make us hold.
 */
#include "picket/util.h"

#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_BLOCK (64 * 1024)

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
} block;

#define BLOCK_HDR ((sizeof(block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

struct pk_arena {
    block *head; /* the block being filled; older ones follow */
    size_t block_size;
    size_t cap;  /* 0: none */
    size_t held; /* bytes of all blocks, for the cap */
    size_t used; /* bytes handed out */
};

pk_arena *pk_arena_new(size_t block_size, size_t cap)
{
    pk_arena *a = pk_calloc(1, sizeof *a);
    if (!a) return NULL;
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
    a->cap = cap;
    return a;
}

void pk_arena_free(pk_arena *a)
{
    if (!a) return;
    block *b = a->head;
    while (b) {
        block *next = b->next;
        pk_free(b);
        b = next;
    }
    pk_free(a);
}

static block *new_block(pk_arena *a, size_t need)
{
    size_t size = need > a->block_size ? need : a->block_size;
    if (size > SIZE_MAX - BLOCK_HDR) return NULL;
    if (a->cap && (a->held + size > a->cap || a->held + size < a->held)) return NULL;
    block *b = pk_malloc(BLOCK_HDR + size);
    if (!b) return NULL;
    b->size = size;
    b->used = 0;
    a->held += size;
    return b;
}

void *pk_arena_alloc(pk_arena *a, size_t n)
{
    if (n > SIZE_MAX - ARENA_ALIGN) return NULL;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0) need = ARENA_ALIGN;
    block *b = a->head;
    if (!b || b->size - b->used < need) {
        block *nb = new_block(a, need);
        if (!nb) return NULL;
        if (b && need > a->block_size) {
            /* An outsized request: keep filling the current block after it. */
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            a->used += need;
            return (char *)nb + BLOCK_HDR;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = (char *)b + BLOCK_HDR + b->used;
    b->used += need;
    a->used += need;
    return p;
}

void *pk_arena_calloc(pk_arena *a, size_t n)
{
    void *p = pk_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

char *pk_arena_strndup(pk_arena *a, const char *s, size_t n)
{
    char *p = pk_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *pk_arena_strdup(pk_arena *a, const char *s)
{
    return pk_arena_strndup(a, s, strlen(s));
}

void pk_arena_reset(pk_arena *a)
{
    block *b = a->head;
    if (!b) return;
    /* Keep the oldest block (the first made, normally block-sized). */
    while (b->next) {
        block *next = b->next;
        a->held -= b->size;
        pk_free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->used = 0;
}

size_t pk_arena_used(const pk_arena *a)
{
    return a->used;
}
