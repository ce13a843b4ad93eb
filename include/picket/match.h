/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/match.h: the match engine.  Compile many indicators into one
 * immutable index, keep it in a file that maps into memory ready to use, and
 * run log records (Suricata EVE, Zeek TSV and JSON, JSON lines, free text)
 * through per-thread scanners that report every hit.
 *
 * Design (yara's compiler -> rules -> scanner split).  A pk_match_compiler
 * collects indicator values; pk_match_compile() turns them into a
 * pk_match_index, one flat block of memory (header, entry table, key pool,
 * blocked Bloom filter, open-addressing table, CIDR range arrays) with no
 * pointers inside, so that the same bytes are the in-memory index and the
 * .pki file.  An index is immutable and reference counted: any number of
 * scanners on any number of threads may share it.  A pk_match_scanner holds
 * everything a scan writes (line buffer, observations, window) and belongs to
 * one thread at a time.
 */
#ifndef PICKET_MATCH_H
#define PICKET_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "picket/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The kinds of indicator value (and of observed value).  Numbers are part of
 * the .pki format: appended, never renumbered. */
typedef enum pk_ioc_type {
    PK_IOC_NONE = 0,
    PK_IOC_IPV4 = 1,
    PK_IOC_IPV6 = 2,
    PK_IOC_CIDR = 3,   /* an IPv4 or IPv6 network; hits every address inside */
    PK_IOC_DOMAIN = 4, /* hits the name itself and every subdomain */
    PK_IOC_URL = 5,
    PK_IOC_EMAIL = 6,
    PK_IOC_MD5 = 7,
    PK_IOC_SHA1 = 8,
    PK_IOC_SHA256 = 9,
    PK_IOC_SHA512 = 10,
    PK_IOC_FILENAME = 11,
    PK_IOC_USER = 12, /* user-account (account_login or user_id) */
    PK_IOC_TYPE_MAX_ = 13
} pk_ioc_type;

/** "ipv4", "cidr", "user-account"...; "" for PK_IOC_NONE or out of range. */
PK_API const char *pk_ioc_type_name(pk_ioc_type t);
/** The type named by s (n bytes), PK_IOC_NONE when unknown.  Accepts the names
 * above and the STIX names (ipv4-addr, domain-name, email-addr...). */
PK_API pk_ioc_type pk_ioc_type_parse(const char *s, size_t n);

/* ------------------------------------------------------------------------ */
/* Compiling                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct pk_match_compiler pk_match_compiler;
typedef struct pk_match_index pk_match_index;

/** A problem with one input line or object, for a caller to print and count;
 * the compiler or scanner skips it and goes on. */
typedef void (*pk_match_bad_fn)(void *ud, const pk_error *err);

PK_API pk_match_compiler *pk_match_compiler_new(void);
PK_API void pk_match_compiler_free(pk_match_compiler *c);

/**
 * Add one indicator value.  `type` PK_IOC_NONE guesses it from the value.  The
 * value is normalised (addresses parsed, names and hashes lower-cased, URLs
 * put in canonical form).  `source`/`line` name where it came from (an IOC
 * list and its 1-based line); `indicator_id`, when not NULL, is the STIX
 * indicator it belongs to and is reported instead.  Errors: PK_EPARSE when
 * the value is not a valid one of its type (err says why), PK_ENOMEM.
 */
PK_API pk_status pk_match_compiler_add(pk_match_compiler *c, pk_ioc_type type, const char *value,
                                       size_t n, const char *source, long line,
                                       const char *indicator_id, pk_error *err);

/**
 * Add an IOC list: one value a line, or `type<TAB>value`; blank lines and
 * lines starting with '#' are skipped.  A bad line is passed to `bad` (may be
 * NULL) with file and line set, counted in *rejected, and skipped.
 * *added (may be NULL) gets the number of values added.  Returns PK_OK unless
 * memory ran out.
 */
PK_API pk_status pk_match_compiler_add_list(pk_match_compiler *c, const char *text, size_t n,
                                            const char *source, pk_match_bad_fn bad, void *ud,
                                            size_t *added, size_t *rejected, pk_error *err);
/** The same, read from a file ("-" is standard input; gzip is read too).
 * PK_EIO when the file cannot be read. */
PK_API pk_status pk_match_compiler_add_list_file(pk_match_compiler *c, const char *path,
                                                 pk_match_bad_fn bad, void *ud, size_t *added,
                                                 size_t *rejected, pk_error *err);

/**
 * Add a STIX indicator by id and pattern text.  Patterns that are ORs of
 * equalities on the observable kinds above go into the index whole; others
 * are found through their equalities and ISSUBSET networks, or, when an
 * observation expression has none, by the object types it names (a record
 * holding a value of such a type triggers an evaluation), and are decided by
 * the pattern evaluator over a window of recent records.  A STIX domain-name
 * equality does not hit subdomains.  PK_EUNSUPPORTED when this build has no
 * pattern support, PK_EPARSE for a bad pattern, PK_ENOTFOUND when the
 * pattern can never match what the logs give (it compares properties such as
 * process:name or file:mime_type that records do not carry; err names it),
 * and the indicator is left out.
 */
PK_API pk_status pk_match_compiler_add_indicator(pk_match_compiler *c, const char *indicator_id,
                                                 const char *pattern, size_t n, pk_error *err);

/** Number of values added so far. */
PK_API size_t pk_match_compiler_count(const pk_match_compiler *c);

/**
 * Build the index.  The values' staging memory becomes the index (peak memory
 * is about the index's size), so the compiler is left without values (count
 * 0); it may be filled again or freed.  The index is independent of it.  Errors: PK_ENOMEM,
 * PK_ELIMIT (more than 2^31 entries or a 4 GiB pool).
 */
PK_API pk_status pk_match_compile(pk_match_compiler *c, pk_match_index **out, pk_error *err);

/* ------------------------------------------------------------------------ */
/* The index                                                                 */
/* ------------------------------------------------------------------------ */

/** Write the index to `path` (written to a temporary name, then renamed). */
PK_API pk_status pk_match_index_save(const pk_match_index *ix, const char *path, pk_error *err);

/**
 * Map a .pki file into memory and validate it: magic, version, byte order,
 * size, checksum, and that every offset and index inside stays in bounds, so
 * that a damaged or hostile file is refused (PK_EPARSE, err says what is
 * wrong) and never read out of bounds.  PK_EIO when it cannot be read.
 */
PK_API pk_status pk_match_index_load(const char *path, pk_match_index **out, pk_error *err);

/** The same over bytes in memory (copied). */
PK_API pk_status pk_match_index_from_memory(const void *data, size_t n, pk_match_index **out,
                                            pk_error *err);

/** Take another reference; the index lives until the last pk_match_index_free. */
PK_API pk_match_index *pk_match_index_ref(pk_match_index *ix);
/** Drop a reference (NULL is harmless). */
PK_API void pk_match_index_free(pk_match_index *ix);

typedef struct pk_match_index_info {
    size_t entries;        /* indicator values */
    size_t keys;           /* distinct exact keys in the hash table */
    size_t cidrs4, cidrs6; /* distinct networks */
    size_t patterns;       /* indicators decided by the pattern evaluator */
    size_t bytes;          /* size of the index image */
    size_t per_type[PK_IOC_TYPE_MAX_];
} pk_match_index_info;
PK_API void pk_match_index_info_get(const pk_match_index *ix, pk_match_index_info *out);

/* ------------------------------------------------------------------------ */
/* Scanning                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum pk_match_format {
    PK_FMT_AUTO = 0,  /* sniffed from the first line of each input */
    PK_FMT_EVE = 1,   /* Suricata EVE JSON */
    PK_FMT_ZEEK = 2,  /* Zeek, TSV (#fields header) or JSON, sniffed */
    PK_FMT_JSONL = 3, /* other JSON lines; fields from the map */
    PK_FMT_TEXT = 4,  /* free text: addresses, names, URLs, e-mail, hashes */
} pk_match_format;

/** "auto", "eve", ... to the enum; -1 when unknown. */
PK_API int pk_match_format_parse(const char *s);

/** One hit.  Every pointer is valid during the callback only. */
typedef struct pk_match_alert {
    const char *indicator_id; /* the STIX indicator, or NULL for an IOC list entry */
    const char *ioc_source;   /* the IOC list file, or NULL */
    long ioc_line;            /* its 1-based line, or 0 */
    pk_ioc_type type;         /* the indicator value's type */
    const char *value;        /* the indicator value, canonical */
    const char *observed;     /* the value as it appeared in the log */
    size_t observed_len;
    const char *field;  /* the field it was in ("dns.rrname"; "text" for free text) */
    const char *how;    /* "exact", "subdomain", "cidr" or "pattern" */
    const char *source; /* the log file ("-" for standard input) */
    long line;          /* 1-based line in it */
    const char *time;   /* the record's time, RFC 3339 UTC, or NULL */
    int64_t time_ms;    /* the same in ms since 1970 (0 when time is NULL) */
} pk_match_alert;

typedef struct pk_match_callbacks {
    void (*alert)(void *ud, const pk_match_alert *a);
    /* A malformed record: err->file, err->line and err->message say which and why. */
    pk_match_bad_fn malformed;
    void *ud;
} pk_match_callbacks;

typedef struct pk_match_options {
    pk_match_format format;
    /* JSON-lines field map, "path=type[,path=type...]" (may be NULL).  With
     * PK_FMT_JSONL only these fields are read; with AUTO they are added to
     * what the sniffed format reads. */
    const char *map;
    /* Records a non-exact pattern looks back over, per input (0: 64). */
    unsigned window;
} pk_match_options;

typedef struct pk_match_scanner pk_match_scanner;

/**
 * A scanner over `ix` (it takes a reference).  Errors: PK_EINVAL for a bad
 * map (err says which item), PK_ENOMEM.  A scanner is for one thread at a
 * time; make one per thread.
 */
PK_API pk_status pk_match_scanner_new(pk_match_index *ix, const pk_match_options *opt,
                                      const pk_match_callbacks *cb, pk_match_scanner **out,
                                      pk_error *err);
PK_API void pk_match_scanner_free(pk_match_scanner *s);

/** Start a new input named `source`: line numbers restart at 1 and the format
 * is sniffed again. */
PK_API pk_status pk_match_scanner_begin(pk_match_scanner *s, const char *source, pk_error *err);
/** Feed bytes in any chunking; complete lines are matched at once. */
PK_API pk_status pk_match_scanner_feed(pk_match_scanner *s, const void *data, size_t n,
                                       pk_error *err);
/** End the input: a last line without a newline is matched now. */
PK_API pk_status pk_match_scanner_end(pk_match_scanner *s, pk_error *err);

/**
 * Scan a whole file ("-" for standard input), gzip or plain.  With `follow`,
 * keep reading as the file grows until *stop becomes non-zero (checked a few
 * times a second).  PK_EIO when it cannot be opened or read (err names it).
 */
PK_API pk_status pk_match_scan_file(pk_match_scanner *s, const char *path, int follow,
                                    volatile int *stop, pk_error *err);

typedef struct pk_match_stats {
    unsigned long long bytes, lines, records, observations, alerts, malformed;
} pk_match_stats;
/** Totals since the scanner was made. */
PK_API void pk_match_scanner_stats(const pk_match_scanner *s, pk_match_stats *out);

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/** Append one alert as a JSON line (with its newline) to `b`. */
PK_API pk_status pk_match_alert_json(const pk_match_alert *a, pk_buf *b);

/**
 * Sightings: counts per indicator, merged across scanners, written as a STIX
 * 2.1 bundle of `sighting` objects (count, first_seen, last_seen,
 * sighting_of_ref, where_sighted_refs to the sensor's identity).  Entries of
 * IOC lists have no STIX indicator, so the bundle carries one for each of them
 * (a deterministic id derived from the list line and the value).
 */
typedef struct pk_match_sightings pk_match_sightings;
PK_API pk_match_sightings *pk_match_sightings_new(void);
PK_API void pk_match_sightings_free(pk_match_sightings *g);
/** Count one alert.  Not thread safe: one per thread, then merge. */
PK_API pk_status pk_match_sightings_add(pk_match_sightings *g, const pk_match_alert *a);
PK_API pk_status pk_match_sightings_merge(pk_match_sightings *into, const pk_match_sightings *from);
PK_API size_t pk_match_sightings_count(const pk_match_sightings *g);
/** The bundle as JSON text (with a newline).  `sensor` names the identity. */
PK_API pk_status pk_match_sightings_json(const pk_match_sightings *g, const char *sensor,
                                         pk_buf *out, pk_error *err);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_MATCH_H */
