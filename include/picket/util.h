/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/util.h: the foundation every other module stands on: status codes and
 * error records, the one allocation hook, arenas, size-capped buffers, a hash
 * map, RFC 3339 time and UUIDs.
 */
#ifndef PICKET_UTIL_H
#define PICKET_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define PK_API __declspec(dllexport)
#elif defined(__GNUC__)
#define PK_API __attribute__((visibility("default")))
#else
#define PK_API
#endif

#if defined(__GNUC__)
#define PK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PK_PRINTF(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/**
 * The result of every fallible library call.  0 is success.  The numbers are
 * part of the ABI: once released they never change, new codes are appended.
 */
typedef enum pk_status {
    PK_OK = 0,
    PK_ENOMEM = 1,        /* an allocation failed */
    PK_EINVAL = 2,        /* a caller passed an invalid argument */
    PK_EPARSE = 3,        /* input is not well formed (JSON, a pattern, a log line) */
    PK_ELIMIT = 4,        /* a size, depth or count cap was reached */
    PK_EIO = 5,           /* reading or writing a file or socket failed */
    PK_ENOTFOUND = 6,     /* the thing asked for does not exist */
    PK_EEXIST = 7,        /* the thing to create exists already */
    PK_ESTORE = 8,        /* the database engine failed */
    PK_EVALIDATE = 9,     /* well formed but breaks a rule of the standard */
    PK_EUNSUPPORTED = 10, /* valid, but this build or version cannot do it */
    PK_EPERM = 11,        /* not allowed for this account */
    PK_EINTERNAL = 12,    /* a bug: an invariant did not hold */
    PK_ENET = 13,         /* a network peer failed or answered badly */
    PK_EAUTH = 14,        /* authentication failed */
    PK_ECRYPTO = 15,      /* a cryptographic check failed */
    PK_ECONFLICT = 16,    /* a concurrent change won */
    PK_EBUSY = 17,        /* try again later */
    PK_ETIMEOUT = 18,     /* a deadline passed */
    PK_ESTATUS_MAX_ = 19  /* one past the last code; not a status */
} pk_status;

/** A short, stable, English description of a status ("out of memory").
 * Never NULL; unknown codes give "unknown status". Thread safe. */
PK_API const char *pk_strstatus(pk_status s);

/**
 * The short title of an HTTP error status (RFC 9110 reason phrase in sentence
 * case), as the "title" of a TAXII error message; "Internal server error" for
 * any code it does not know.
 */
PK_API const char *pk_http_status_title(int status);

/** The stable symbolic name of a status ("PK_ENOMEM"). */
PK_API const char *pk_status_name(pk_status s);

/* ------------------------------------------------------------------------ */
/* Error records                                                             */
/* ------------------------------------------------------------------------ */

#define PK_ERROR_MSG_MAX 512

/**
 * Where and why something failed, for a user to act on.  Functions take an
 * optional `pk_error *err` out-argument (NULL means "don't care").  Unknown
 * fields are 0 (line, column), -1 (offset) or "" (strings).
 */
typedef struct pk_error {
    pk_status code;
    char file[256];      /* input name: a path, "-" or "" */
    long line;           /* 1-based line in `file`, 0 if unknown */
    long column;         /* 1-based column, 0 if unknown */
    long long offset;    /* 0-based byte offset, -1 if unknown */
    char object_id[128]; /* STIX id the problem is in, or "" */
    char property[128];  /* property path within that object, or "" */
    char message[PK_ERROR_MSG_MAX];
} pk_error;

/** Reset every field to "unknown" and code to PK_OK.  err may be NULL. */
PK_API void pk_error_clear(pk_error *err);

/** Set code and message (printf style) and return `code`, so that a caller can
 * write `return pk_error_set(err, PK_EPARSE, "...")`.  Location fields are left
 * as they are.  err may be NULL (then only the code is returned). */
PK_API pk_status pk_error_set(pk_error *err, pk_status code, const char *fmt, ...) PK_PRINTF(3, 4);
PK_API pk_status pk_error_setv(pk_error *err, pk_status code, const char *fmt, va_list ap);

/** Record the location (any of file, line, column may be NULL/0 to leave it). */
PK_API void pk_error_at(pk_error *err, const char *file, long line, long column);

/** Record the object and property the problem is in (either may be NULL). */
PK_API void pk_error_object(pk_error *err, const char *object_id, const char *property);

/**
 * Render as one line, most specific place first:
 * "file:line:column: object-id: property: message".  Parts that are unknown are
 * left out.  Writes at most `n` bytes including the NUL; returns the length the
 * whole line has (like snprintf).
 */
PK_API int pk_error_format(const pk_error *err, char *out, size_t n);

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

/**
 * All of picket's heap memory goes through these, so that one hook can count,
 * cap or fail allocations.  They behave like their libc namesakes (pk_free(NULL)
 * is harmless; pk_realloc(p, 0) frees and returns NULL).  The library never
 * aborts when they fail: callers return PK_ENOMEM.
 */
PK_API void *pk_malloc(size_t n);
PK_API void *pk_calloc(size_t count, size_t size);
PK_API void *pk_realloc(void *p, size_t n);
PK_API void pk_free(void *p);
PK_API char *pk_strdup(const char *s);
PK_API char *pk_strndup(const char *s, size_t n);
PK_API void *pk_memdup(const void *p, size_t n);

/** A replacement allocator.  `ud` is passed to every call. */
typedef struct pk_allocator {
    void *(*malloc_fn)(size_t n, void *ud);
    void *(*realloc_fn)(void *p, size_t n, void *ud);
    void (*free_fn)(void *p, void *ud);
    void *ud;
} pk_allocator;

/** Install `a` (copied), or the libc allocator when a is NULL.  Not thread
 * safe: call before any other thread uses picket. */
PK_API void pk_set_allocator(const pk_allocator *a);

/**
 * Fault injection for tests: the n-th allocation from now (1 = the next) fails,
 * and only that one.  n <= 0 turns injection off.  Thread safe.
 */
PK_API void pk_alloc_fail_nth(long n);

/** True once the injected failure has fired (and injection is then off). */
PK_API int pk_alloc_fail_fired(void);

/** Number of allocations made through the hook since the process started. */
PK_API unsigned long long pk_alloc_count(void);

/** Make jansson (and other libraries that allow it) allocate through the hook.
 * Idempotent; call once at start-up, before any JSON is parsed. */
PK_API void pk_init(void);

/* ------------------------------------------------------------------------ */
/* Arenas                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * An arena hands out memory from large blocks and frees it all at once: parse
 * trees and decoded bundles have one owner and one lifetime, so freeing them
 * node by node would be slow code and a source of leaks.  Allocations are
 * 16-byte aligned.  An arena is not thread safe.
 */
typedef struct pk_arena pk_arena;

/** New arena.  `block` is the block size (0: 64 KiB); `cap` the most bytes it
 * may hold in all (0: no cap), past which allocation fails with NULL. */
PK_API pk_arena *pk_arena_new(size_t block, size_t cap);
PK_API void pk_arena_free(pk_arena *a);
/** NULL when out of memory or over the cap; n == 0 gives a valid unique pointer. */
PK_API void *pk_arena_alloc(pk_arena *a, size_t n);
PK_API void *pk_arena_calloc(pk_arena *a, size_t n);
PK_API char *pk_arena_strndup(pk_arena *a, const char *s, size_t n);
PK_API char *pk_arena_strdup(pk_arena *a, const char *s);
/** Forget every allocation but keep the first block for reuse. */
PK_API void pk_arena_reset(pk_arena *a);
/** Bytes handed out since creation or the last reset. */
PK_API size_t pk_arena_used(const pk_arena *a);

/**
 * Make jansson's allocations on the calling thread come from arena `a`, with
 * jansson's frees no-ops, until called again with NULL: a tree of thousands
 * of small values (a parsed envelope) is then dropped in one step with the
 * arena instead of node by node.  JSON values made while an arena is set must
 * never be released after it is unset (drop them with the arena, not
 * json_decref), and must not take values made outside it.  Returns 1 when in
 * effect; 0 when jansson does not allocate through pk_init's functions
 * (another allocator was given to jansson), and then values are freed as
 * usual.  Thread-local; the arena itself is not thread safe.
 */
PK_API int pk_json_arena(pk_arena *a);

/* ------------------------------------------------------------------------ */
/* Size-capped buffers                                                       */
/* ------------------------------------------------------------------------ */

/**
 * A growable byte buffer with a hard cap.  `data` is NUL-terminated whenever it
 * is non-NULL, so text can be used as a C string.  When an append would pass
 * `max` or memory runs out, the append fails and the buffer keeps what it had.
 */
typedef struct pk_buf {
    char *data;
    size_t len;
    size_t cap; /* allocated bytes */
    size_t max; /* most bytes `len` may reach */
} pk_buf;

#define PK_BUF_DEFAULT_MAX ((size_t)1 << 30)

PK_API void pk_buf_init(pk_buf *b, size_t max); /* max 0: PK_BUF_DEFAULT_MAX */
PK_API void pk_buf_free(pk_buf *b);             /* back to empty; reusable */
PK_API void pk_buf_reset(pk_buf *b);            /* len = 0, memory kept */
PK_API pk_status pk_buf_add(pk_buf *b, const void *p, size_t n);
PK_API pk_status pk_buf_adds(pk_buf *b, const char *s);
PK_API pk_status pk_buf_addc(pk_buf *b, char c);
PK_API pk_status pk_buf_addf(pk_buf *b, const char *fmt, ...) PK_PRINTF(2, 3);
PK_API pk_status pk_buf_addv(pk_buf *b, const char *fmt, va_list ap);
/** Hand the bytes to the caller (free with pk_free); the buffer is empty after.
 * Returns an empty string, not NULL, for an empty buffer (NULL only on ENOMEM). */
PK_API char *pk_buf_detach(pk_buf *b, size_t *len);

/* ------------------------------------------------------------------------ */
/* Hash map                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Byte-string keys to pointer values, open addressing with linear probing.
 * Keys are copied in; values are borrowed.  Not thread safe for writers; many
 * readers may share a map nobody writes.
 */
typedef struct pk_map pk_map;

/** A fast 64-bit hash of bytes; stable for the life of the process. */
PK_API uint64_t pk_hash(const void *p, size_t n, uint64_t seed);

PK_API pk_map *pk_map_new(size_t hint);
PK_API void pk_map_free(pk_map *m);
/** Insert or replace.  PK_ENOMEM leaves the map as it was. */
PK_API pk_status pk_map_put(pk_map *m, const void *key, size_t klen, void *val);
/** The value, or NULL when absent (store non-NULL values to tell them apart,
 * or use pk_map_find). */
PK_API void *pk_map_get(const pk_map *m, const void *key, size_t klen);
/** 1 and *val set when present, else 0. */
PK_API int pk_map_find(const pk_map *m, const void *key, size_t klen, void **val);
/** 1 when removed, 0 when absent. */
PK_API int pk_map_del(pk_map *m, const void *key, size_t klen);
PK_API size_t pk_map_count(const pk_map *m);
/** Iterate: start with *it = 0; returns 0 at the end.  Order is unspecified;
 * do not insert while iterating. */
PK_API int pk_map_next(const pk_map *m, size_t *it, const void **key, size_t *klen, void **val);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */
/* ------------------------------------------------------------------------ */

/** An instant in UTC with nanoseconds, and the fractional digits it was
 * written with (0..9), so that a timestamp can be printed back as it came. */
typedef struct pk_time {
    int64_t sec;   /* seconds since 1970-01-01T00:00:00Z */
    int32_t nsec;  /* 0..999999999 */
    int8_t digits; /* fractional digits written, 0..9 (more are truncated) */
} pk_time;

/** Parsing rules. */
enum {
    PK_TIME_STIX = 0,    /* YYYY-MM-DDTHH:MM:SS[.s+]Z, upper-case T and Z only */
    PK_TIME_RFC3339 = 1, /* also lower-case t/z and numeric offsets */
};

/** Parse `s` (n bytes, not necessarily NUL-terminated).  On error `err` says
 * which byte is wrong and why (column is 1-based within s). */
PK_API pk_status pk_time_parse(const char *s, size_t n, int rules, pk_time *out, pk_error *err);

#define PK_TIME_STRLEN 40
/** Format as YYYY-MM-DDTHH:MM:SS[.fff]Z with `digits` fractional digits
 * (0..9), or those the time was parsed with when digits < 0.  `out` holds
 * PK_TIME_STRLEN bytes; returns the length. */
PK_API int pk_time_format(const pk_time *t, int digits, char out[PK_TIME_STRLEN]);
/** <0, 0, >0 as a is before, equal to, after b (digits are ignored). */
PK_API int pk_time_cmp(const pk_time *a, const pk_time *b);
PK_API pk_time pk_time_now(void);
PK_API int64_t pk_time_to_ms(const pk_time *t);
PK_API pk_time pk_time_from_ms(int64_t ms);
/** Civil date to days since 1970-01-01 (proleptic Gregorian). */
PK_API int64_t pk_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ------------------------------------------------------------------------ */
/* UUID                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct pk_uuid {
    uint8_t b[16];
} pk_uuid;

#define PK_UUID_STRLEN 37 /* 36 characters and the NUL */

/** A random (version 4) UUID from the kernel's CSPRNG.  PK_EIO if it fails. */
PK_API pk_status pk_uuid_v4(pk_uuid *out);
/** A name-based (version 5, SHA-1) UUID of `name` in namespace `ns`. */
PK_API void pk_uuid_v5(pk_uuid *out, const pk_uuid *ns, const void *name, size_t n);
/** Lower-case 8-4-4-4-12 form. */
PK_API void pk_uuid_format(const pk_uuid *u, char out[PK_UUID_STRLEN]);
/** Parse the 36-character form (either case).  PK_EPARSE otherwise. */
PK_API pk_status pk_uuid_parse(const char *s, size_t n, pk_uuid *out);
/** The version nibble (1..8), 0 for the nil UUID. */
PK_API int pk_uuid_version(const pk_uuid *u);
/** 1 when the variant bits are RFC 4122's (10xx). */
PK_API int pk_uuid_is_rfc4122(const pk_uuid *u);

/** SHA-1 (needed by UUID v5 only; not for security). */
PK_API void pk_sha1(const void *p, size_t n, uint8_t out[20]);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_UTIL_H */
