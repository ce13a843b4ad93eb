/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one allocation hook.  Every heap allocation in picket passes through
 * here so that tests can make the n-th one fail (and prove that no path
 * crashes or leaks when memory runs out) and an embedder can bring its own.
 */
#include "picket/util.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t n, void *ud)
{
    (void)ud;
    return malloc(n);
}

static void *libc_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return realloc(p, n);
}

static void libc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static pk_allocator hook = {libc_malloc, libc_realloc, libc_free, NULL};

/* Fault injection: `countdown` > 0 counts allocations down to the failing one. */
static atomic_long countdown;
static atomic_int fired;
static atomic_ullong total;

void pk_set_allocator(const pk_allocator *a)
{
    if (a)
        hook = *a;
    else
        hook = (pk_allocator){libc_malloc, libc_realloc, libc_free, NULL};
}

void pk_alloc_fail_nth(long n)
{
    atomic_store(&fired, 0);
    atomic_store(&countdown, n > 0 ? n : 0);
}

int pk_alloc_fail_fired(void)
{
    return atomic_load(&fired);
}

unsigned long long pk_alloc_count(void)
{
    return atomic_load(&total);
}

/* True when this allocation is the one chosen to fail. */
static int should_fail(void)
{
    atomic_fetch_add(&total, 1);
    if (atomic_load_explicit(&countdown, memory_order_relaxed) <= 0) return 0;
    if (atomic_fetch_sub(&countdown, 1) == 1) {
        atomic_store(&fired, 1);
        return 1;
    }
    return 0;
}

void *pk_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return hook.malloc_fn(n ? n : 1, hook.ud);
}

/* With libc's allocator, calloc: memory fresh from the kernel is zero
 * already, and libc knows when it is (a large block is mapped for it), so
 * the block's pages are not all written, and faulted in, up front. */
void *pk_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    if (hook.malloc_fn == libc_malloc) {
        if (should_fail()) return NULL;
        return calloc(count ? count : 1, size ? size : 1);
    }
    void *p = pk_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *pk_realloc(void *p, size_t n)
{
    if (n == 0) {
        pk_free(p);
        return NULL;
    }
    if (should_fail()) return NULL;
    return hook.realloc_fn(p, n, hook.ud);
}

void pk_free(void *p)
{
    if (p) hook.free_fn(p, hook.ud);
}

void *pk_memdup(const void *p, size_t n)
{
    void *q = pk_malloc(n);
    if (q && n) memcpy(q, p, n);
    return q;
}

char *pk_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *q = pk_malloc(len + 1);
    if (!q) return NULL;
    memcpy(q, s, len);
    q[len] = '\0';
    return q;
}

char *pk_strdup(const char *s)
{
    return pk_memdup(s, strlen(s) + 1);
}

static __thread pk_arena *json_arena; /* pk_json_arena: jansson allocates here */

static void *json_alloc(size_t n)
{
    return json_arena ? pk_arena_alloc(json_arena, n) : pk_malloc(n);
}

static void json_release(void *p)
{
    if (!json_arena) pk_free(p);
}

int pk_json_arena(pk_arena *a)
{
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    if (m != json_alloc) {
        json_arena = NULL;
        return 0;
    }
    json_arena = a;
    return 1;
}

void pk_init(void)
{
    json_set_alloc_funcs(json_alloc, json_release);
}
