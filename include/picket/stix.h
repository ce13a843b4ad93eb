/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/stix.h: STIX 2.1 objects on top of jansson.  A streaming reader that
 * yields one object at a time from a bundle, a JSON array, a single object or
 * JSON lines; validation against the 2.1 rules with messages a user can act
 * on; identifiers (deterministic SCO ids); versions; TLP markings; 2.0 -> 2.1
 * conversion; and the observable values an SCO contributes to indexes.
 *
 * Design.  Objects are jansson values (json_t *): every other module already
 * speaks jansson and a STIX object is a JSON object with rules, not a C struct.
 * The rules live in one table per type (lib/stix/schema.c).  The reader never
 * holds more than the object in hand: a bracket scanner finds each object's
 * byte span in a sliding buffer and jansson parses only that span, so memory
 * does not grow with the file and each object keeps the exact bytes it came
 * with (the store keeps them byte-exact).
 */
#ifndef PICKET_STIX_H
#define PICKET_STIX_H

#include <jansson.h>

#include "picket/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Types and identifiers                                                     */
/* ------------------------------------------------------------------------ */

/** What kind of object a type name is. */
typedef enum pk_stix_kind {
    PK_STIX_UNKNOWN = 0, /* not a STIX 2.1 type and not custom */
    PK_STIX_SDO = 1,     /* domain object: indicator, malware, report... */
    PK_STIX_SRO = 2,     /* relationship, sighting */
    PK_STIX_SCO = 3,     /* cyber observable: ipv4-addr, file, url... */
    PK_STIX_META = 4,    /* marking-definition, language-content, extension-definition */
    PK_STIX_CUSTOM = 5,  /* "x-..." custom object (or any well-formed unknown name) */
    PK_STIX_BUNDLE = 6,  /* the bundle wrapper itself */
} pk_stix_kind;

/** The kind of `type` ("indicator" -> PK_STIX_SDO).  NULL gives UNKNOWN. */
PK_API pk_stix_kind pk_stix_type_kind(const char *type);

/** 1 when `type` is a well-formed type name: 3..250 characters of a-z, 0-9
 * and '-', starting with a letter, no "--". */
PK_API int pk_stix_type_name_ok(const char *type);

/** Longest identifier picket accepts: 250-character type, "--", a UUID. */
#define PK_STIX_ID_MAX 296

/**
 * 1 when `id` is "type--UUID" with a well-formed type and an RFC 4122 UUID,
 * and (when `type` is not NULL) its type part equals `type`.  Upper-case hex is
 * accepted here (the validator warns about it).
 */
PK_API int pk_stix_id_ok(const char *id, const char *type);

/** The type part of an id, copied into out (n bytes).  Returns its length, or
 * -1 when id has no "--". */
PK_API int pk_stix_id_type(const char *id, char *out, size_t n);

/** A new random identifier "type--UUIDv4".  PK_EIO if no randomness. */
PK_API pk_status pk_stix_new_id(const char *type, char out[PK_STIX_ID_MAX]);

/**
 * The deterministic identifier of an SCO: "type--UUIDv5" over the canonical
 * JSON (RFC 8785) of its id-contributing properties in the STIX namespace
 * 00abedb4-aa42-466c-9c01-fed23315a9b7.  For `hashes` one hash is used, by the
 * preference MD5, SHA-1, SHA-256, SHA-512, else the first present.
 * PK_ENOTFOUND when the type has no id-contributing properties or none is
 * present (then the id is a UUIDv4), PK_EINVAL when `sco` has no type.
 */
PK_API pk_status pk_stix_sco_id(const json_t *sco, char out[PK_STIX_ID_MAX], pk_error *err);

/** RFC 8785 canonical JSON of `v` appended to `out` (keys sorted, no
 * whitespace, minimal escapes).  PK_ELIMIT/PK_ENOMEM from the buffer. */
PK_API pk_status pk_stix_canonical(const json_t *v, pk_buf *out);

/* ------------------------------------------------------------------------ */
/* Accessors and versions                                                    */
/* ------------------------------------------------------------------------ */

/** The string value of a top-level property, or NULL when absent or not a
 * string.  Borrowed from `obj`. */
PK_API const char *pk_stix_str(const json_t *obj, const char *prop);

/**
 * The version of an object: `modified`, else `created`, else "" (SCOs and
 * other unversioned objects have one version).  Borrowed from `obj`.
 */
PK_API const char *pk_stix_version(const json_t *obj);

/** Newest-wins: <0, 0, >0 as version a is older than, the same as, newer
 * than b (timestamps compared as instants; "" is oldest). */
PK_API int pk_stix_version_cmp(const char *a, const char *b);

/* ------------------------------------------------------------------------ */
/* TLP                                                                       */
/* ------------------------------------------------------------------------ */

/** Traffic Light Protocol levels, in order of strictness.  WHITE (TLP 1.0)
 * and CLEAR (TLP 2.0) are the same level. */
typedef enum pk_tlp {
    PK_TLP_NONE = 0,
    PK_TLP_CLEAR = 1,
    PK_TLP_GREEN = 2,
    PK_TLP_AMBER = 3,
    PK_TLP_AMBER_STRICT = 4,
    PK_TLP_RED = 5,
} pk_tlp;

/** The TLP level of a marking-definition id: the four TLP 1.0 ids STIX 2.1
 * predefines and the five TLP 2.0 ids.  PK_TLP_NONE for any other id. */
PK_API pk_tlp pk_stix_tlp_of(const char *marking_id);
/** The strictest TLP among an object's object_marking_refs. */
PK_API pk_tlp pk_stix_object_tlp(const json_t *obj);
/** "clear", "green", "amber", "amber+strict", "red", or "none". */
PK_API const char *pk_tlp_name(pk_tlp t);
/** The TLP 2.0 marking-definition id of a level ("" for NONE). */
PK_API const char *pk_tlp_marking_id(pk_tlp t);

/* ------------------------------------------------------------------------ */
/* Validation                                                                */
/* ------------------------------------------------------------------------ */

/** One problem found in an object.  `err` names object id and property
 * (err.property is a path such as "external_references[2].source_name");
 * the reader's caller fills err.file/line/offset. */
typedef struct pk_stix_issue {
    int warning; /* 0: an error (the object is invalid); 1: a warning */
    pk_error err;
} pk_stix_issue;

/** The issues of one or more validations.  Not thread safe. */
typedef struct pk_stix_report pk_stix_report;

PK_API pk_stix_report *pk_stix_report_new(void);
PK_API void pk_stix_report_free(pk_stix_report *r);
/** Forget every issue (memory kept). */
PK_API void pk_stix_report_clear(pk_stix_report *r);
PK_API size_t pk_stix_report_count(const pk_stix_report *r);
PK_API size_t pk_stix_report_errors(const pk_stix_report *r);
PK_API size_t pk_stix_report_warnings(const pk_stix_report *r);
/** Issue i (0-based), NULL past the end.  Borrowed until the next clear. */
PK_API const pk_stix_issue *pk_stix_report_get(const pk_stix_report *r, size_t i);

/** Validation flags. */
enum {
    PK_STIX_VAL_STRICT_VOCAB = 1u, /* open-vocabulary misses are errors, not warnings */
    PK_STIX_VAL_NO_WARNINGS = 2u,  /* record errors only */
};

/**
 * Validate one STIX 2.1 object against the rules of its type: required
 * properties, property types, identifiers and their target types, timestamp
 * syntax, `modified` >= `created`, closed vocabularies (errors), open
 * vocabularies (warnings), granular-marking selectors, custom properties
 * (x_ names or any well-formed name: kept, no issue), custom objects.
 * Issues are appended to `rep` (which may be NULL when only the verdict is
 * wanted).  Returns PK_OK when no error was found (warnings allowed),
 * PK_EVALIDATE when at least one was, PK_ENOMEM.  Thread safe for distinct
 * reports.
 */
PK_API pk_status pk_stix_validate(const json_t *obj, unsigned flags, pk_stix_report *rep);

/* ------------------------------------------------------------------------ */
/* STIX 2.0 input                                                            */
/* ------------------------------------------------------------------------ */

/** 1 when `obj` is STIX 2.0 content: it has no spec_version although its
 * type requires one in 2.1 (SDO, SRO, marking, custom object), or the bundle
 * that carried it said "spec_version": "2.0". */
PK_API int pk_stix_is_20(const json_t *obj, const char *bundle_spec_version);

/** What pk_stix_upgrade changed (bits). */
enum {
    PK_STIX_UP_SPEC_VERSION = 1u, /* "spec_version": "2.1" added */
    PK_STIX_UP_PATTERN_TYPE = 2u, /* indicator: "pattern_type": "stix" added */
    PK_STIX_UP_IS_FAMILY = 4u,    /* malware: "is_family": true added */
    PK_STIX_UP_TIMESTAMPS = 8u,   /* created/modified padded to milliseconds */
};

/**
 * Convert a STIX 2.0 object to 2.1 in place (see the bits above); `*changes`
 * gets the bits (0 when there was nothing to do).  The properties keep their
 * order; spec_version goes right after type.  PK_ENOMEM.
 */
PK_API pk_status pk_stix_upgrade(json_t *obj, unsigned *changes);

/* ------------------------------------------------------------------------ */
/* Observables                                                               */
/* ------------------------------------------------------------------------ */

/** Called once per indexable value: `path` is an object path like
 * "ipv4-addr:value" or "file:hashes.SHA-256", `value` is normalised.
 * A non-OK return stops the walk and is returned. */
typedef pk_status (*pk_stix_observable_fn)(const char *path, const char *value, void *ud);

/**
 * The values an SCO contributes to the observable index: ipv4-addr, ipv6-addr,
 * domain-name, url, email-addr, mac-addr values, file and artifact hashes,
 * file name, user-account account_login/user_id, mutex name,
 * autonomous-system number, windows-registry-key key.  Values are normalised
 * with pk_stix_normalize.  Objects of other kinds contribute nothing.
 */
PK_API pk_status pk_stix_observables(const json_t *sco, pk_stix_observable_fn fn, void *ud);

/**
 * Normalise a value for the observable index: domain names and e-mail
 * addresses lower-cased without a trailing dot, hashes lower-cased, IPv6 and
 * MAC lower-cased, the scheme and host of a URL lower-cased; others as given.
 * The result replaces the content of `out`.
 */
PK_API pk_status pk_stix_normalize(const char *path, const char *value, pk_buf *out);

/* ------------------------------------------------------------------------ */
/* The streaming reader                                                      */
/* ------------------------------------------------------------------------ */

/** The shape of the input, as found by the reader. */
typedef enum pk_stix_format {
    PK_STIX_FMT_UNKNOWN = 0, /* nothing read yet, or empty input */
    PK_STIX_FMT_BUNDLE = 1,  /* {"type": "bundle", "objects": [...]} */
    PK_STIX_FMT_ARRAY = 2,   /* [ {...}, {...} ] */
    PK_STIX_FMT_OBJECT = 3,  /* one object */
    PK_STIX_FMT_JSONL = 4,   /* several top-level objects (JSON lines) */
} pk_stix_format;

/** One object from the reader.  Everything in it is borrowed and valid until
 * the next pk_stix_reader_next or pk_stix_reader_free. */
typedef struct pk_stix_item {
    json_t *json;     /* the parsed object (the caller may modify it) */
    const char *raw;  /* its bytes as they were in the input */
    size_t raw_len;   /* (from '{' to '}', whitespace inside included) */
    long line;        /* 1-based line of its '{' */
    long column;      /* 1-based column of its '{' */
    long long offset; /* 0-based byte offset of its '{' */
    long index;       /* 0-based position among the objects of the input */
} pk_stix_item;

typedef struct pk_stix_reader pk_stix_reader;

/** Reader limits; zero fields take the defaults. */
typedef struct pk_stix_reader_opts {
    size_t max_object; /* largest object in bytes (default 64 MiB); larger ones
                          are skipped with PK_ELIMIT and reading goes on */
    size_t chunk;      /* read size (default 1 MiB) */
} pk_stix_reader_opts;

/** Read the file at `path` ("-" is standard input).  `opts` may be NULL.
 * PK_EIO (err says why) when it cannot be opened. */
PK_API pk_status pk_stix_reader_open(const char *path, const pk_stix_reader_opts *opts,
                                     pk_stix_reader **out, pk_error *err);
/** Read from a file descriptor the caller owns (not closed). `name` is the
 * name used in messages. */
PK_API pk_status pk_stix_reader_open_fd(int fd, const char *name, const pk_stix_reader_opts *opts,
                                        pk_stix_reader **out, pk_error *err);
/** Read `len` bytes at `data` (borrowed; must outlive the reader). */
PK_API pk_status pk_stix_reader_open_mem(const void *data, size_t len, const char *name,
                                         const pk_stix_reader_opts *opts, pk_stix_reader **out,
                                         pk_error *err);
PK_API void pk_stix_reader_free(pk_stix_reader *r);

/**
 * The next object.  Returns
 *  - PK_OK: `*item` is filled;
 *  - PK_ENOTFOUND: the input is finished;
 *  - PK_EPARSE: one object (or the input's structure) is not well-formed JSON.
 *    `err` says where (file, line, column, byte).  When the object could be
 *    delimited, it is skipped and the next call goes on with the next one;
 *    when the structure itself is broken (truncated input), the next call
 *    returns PK_ENOTFOUND;
 *  - PK_ELIMIT: an object was larger than max_object; it was skipped;
 *  - PK_EIO, PK_ENOMEM: reading stopped; the next call returns the same.
 * An element of an objects array that is not an object gives PK_EPARSE.
 */
PK_API pk_status pk_stix_reader_next(pk_stix_reader *r, pk_stix_item *item, pk_error *err);

/** Let go of the last object handed out now rather than at the next call
 * (item.json stays valid only if the caller holds a reference).  For callers
 * that free objects in bulk (arena allocators) and must know that the reader
 * keeps nothing. */
PK_API void pk_stix_reader_drop(pk_stix_reader *r);

/** The shape found so far. */
PK_API pk_stix_format pk_stix_reader_format(const pk_stix_reader *r);
/** The bundle's "spec_version" when the bundle had one before its objects
 * (STIX 2.0 bundles do), else NULL. */
PK_API const char *pk_stix_reader_bundle_spec_version(const pk_stix_reader *r);
/** Bytes consumed so far, and the input's size (-1 when unknown). */
PK_API long long pk_stix_reader_consumed(const pk_stix_reader *r);
PK_API long long pk_stix_reader_size(const pk_stix_reader *r);

/**
 * Copy `raw` without the whitespace between tokens into `out` (replacing its
 * content).  Every token keeps its bytes, so the JSON value is byte-exact;
 * the store keeps objects in this form so that JSON lines stay one per line.
 */
PK_API pk_status pk_stix_minify(const char *raw, size_t len, pk_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_STIX_H */
