/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Size-capped growable buffers.  Every buffer fed by untrusted input has a
 * ceiling, so a hostile 10 GB line or request fails cleanly at the cap instead
 * of taking the machine's memory.  A failed append leaves what was there.
 */
#include "picket/util.h"

#include <stdio.h>
#include <string.h>

#define BUF_MIN_ALLOC 64

void pk_buf_init(pk_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : PK_BUF_DEFAULT_MAX;
}

void pk_buf_free(pk_buf *b)
{
    pk_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pk_buf_reset(pk_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the NUL. */
static pk_status reserve(pk_buf *b, size_t extra)
{
    if (extra > b->max - b->len || b->len + extra > b->max) return PK_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return PK_OK;
    size_t cap = b->cap ? b->cap : BUF_MIN_ALLOC;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1) cap = b->max + 1;
    char *p = pk_realloc(b->data, cap);
    if (!p) return PK_ENOMEM;
    b->data = p;
    b->cap = cap;
    return PK_OK;
}

pk_status pk_buf_add(pk_buf *b, const void *p, size_t n)
{
    pk_status s = reserve(b, n);
    if (s) return s;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return PK_OK;
}

pk_status pk_buf_adds(pk_buf *b, const char *s)
{
    return pk_buf_add(b, s, strlen(s));
}

pk_status pk_buf_addc(pk_buf *b, char c)
{
    return pk_buf_add(b, &c, 1);
}

pk_status pk_buf_addv(pk_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return PK_EINVAL;
    if ((size_t)n < sizeof small) return pk_buf_add(b, small, (size_t)n);
    pk_status s = reserve(b, (size_t)n);
    if (s) return s;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return PK_OK;
}

pk_status pk_buf_addf(pk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pk_status s = pk_buf_addv(b, fmt, ap);
    va_end(ap);
    return s;
}

char *pk_buf_detach(pk_buf *b, size_t *len)
{
    char *p = b->data;
    if (!p) p = pk_strdup("");
    if (len) *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
