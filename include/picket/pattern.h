/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/pattern.h: STIX patterning.  Parse a pattern into a syntax tree that
 * lives in one arena, print it back in canonical form, list the equality
 * "anchors" a fast matcher can index, and evaluate it over observed-data.
 *
 * Design.  A pattern is parsed once and evaluated many times, often from many
 * threads, so a parsed pk_pattern is immutable: the tree, its constants and
 * its compiled regular expressions are built by pk_pattern_parse() and never
 * written again.  Everything an evaluation needs to write (regex match data,
 * partial matches) belongs to that one call.  The tree is public and read-only
 * (the structs below) so that the match engine can compile it into its own
 * index without a second parser; pk_pattern_walk() visits it in order.
 *
 * AND and OR chains are n-ary nodes (a OR b OR c is one node with three
 * children), and so is a FOLLOWEDBY chain: flat trees keep recursion depth
 * proportional to parenthesis nesting, which is bounded, and not to the
 * number of terms, which may be large.
 */
#ifndef PICKET_PATTERN_H
#define PICKET_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "picket/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t; /* jansson's json_t */

/* ------------------------------------------------------------------------ */
/* Bounds.  Patterns past these fail with PK_ELIMIT and a column.           */
/* ------------------------------------------------------------------------ */

#define PK_PATTERN_MAX_LEN (256 * 1024) /* bytes of pattern text */
#define PK_PATTERN_MAX_DEPTH 64         /* nested '(' and '[' */
#define PK_PATTERN_MAX_TERMS 10000      /* comparison expressions in one pattern */
#define PK_PATTERN_MAX_SET 10000        /* elements of one IN (...) set */
#define PK_PATTERN_MAX_REPEATS 1000000000LL
#define PK_PATTERN_MAX_WITHIN 3.2e10         /* seconds, about 1000 years */
#define PK_PATTERN_REGEX_MATCH_LIMIT 1000000 /* pcre2 match limit per subject */
#define PK_PATTERN_REGEX_DEPTH_LIMIT 10000   /* pcre2 backtracking depth limit */
#define PK_PATTERN_REGEX_HEAP_LIMIT 20000    /* KiB of pcre2 backtracking heap */
#define PK_PATTERN_MAX_BINDINGS 100000       /* partial matches one observation node may hold */

/* ------------------------------------------------------------------------ */
/* The syntax tree (read-only)                                               */
/* ------------------------------------------------------------------------ */

/** Which STIX version's patterning rules (and data layout) to use. */
typedef enum pk_pattern_spec {
    PK_PATTERN_SPEC_AUTO = 0, /* accept both; data layout detected per object */
    PK_PATTERN_SPEC_20 = 1,   /* STIX 2.0: START/STOP take '...' strings, no t'' */
    PK_PATTERN_SPEC_21 = 2,   /* STIX 2.1: START/STOP take t'...' */
} pk_pattern_spec;

/** The kind of a constant. */
typedef enum pk_pattern_value_kind {
    PK_PV_STRING = 1,    /* 'text' (escapes \' and \\ decoded) */
    PK_PV_INT = 2,       /* 42, -7, +3 */
    PK_PV_FLOAT = 3,     /* 1.5, -.25 */
    PK_PV_BOOL = 4,      /* true, false */
    PK_PV_BINARY = 5,    /* b'base64' (bytes decoded) */
    PK_PV_HEX = 6,       /* h'hex' (bytes decoded) */
    PK_PV_TIMESTAMP = 7, /* t'2016-01-01T00:00:00Z' */
} pk_pattern_value_kind;

/** A constant.  For STRING, BINARY and HEX `bytes`/`len` hold the decoded
 * bytes (NUL-terminated as well, but may contain NULs for BINARY/HEX). */
typedef struct pk_pattern_value {
    pk_pattern_value_kind kind;
    const char *bytes; /* STRING, BINARY, HEX; NULL otherwise */
    size_t len;
    int64_t i;          /* INT; BOOL (0/1) */
    double f;           /* FLOAT (also set for INT) */
    pk_time t;          /* TIMESTAMP */
    const char *lexeme; /* the literal as written (numbers print from it) */
    long column;
} pk_pattern_value;

/** One step of an object path after the object type. */
typedef enum pk_pattern_step_kind {
    PK_PSTEP_KEY = 1,   /* .name or .'quoted name' (the first step has no dot) */
    PK_PSTEP_INDEX = 2, /* [3] or [-1] (negative counts from the end) */
    PK_PSTEP_ANY = 3,   /* [*] */
} pk_pattern_step_kind;

typedef struct pk_pattern_step {
    pk_pattern_step_kind kind;
    const char *key; /* KEY: the property name, unquoted */
    int64_t index;   /* INDEX */
} pk_pattern_step;

/** An object path: `type:step.step[*].step`.  `text` is its canonical form
 * ("file:hashes.'SHA-256'"), `prop` the part after the colon ("hashes.'SHA-256'"). */
typedef struct pk_pattern_path {
    const char *type;
    const pk_pattern_step *steps;
    size_t nsteps; /* >= 1 */
    const char *text;
    const char *prop;
    int simple; /* 1 when every step is a KEY and none ends in _ref/_refs before the last */
    long column;
} pk_pattern_path;

/** Comparison operators.  NOT is the `negated` flag of a comparison. */
typedef enum pk_pattern_op {
    PK_POP_EQ = 1,
    PK_POP_NE = 2,
    PK_POP_LT = 3,
    PK_POP_LE = 4,
    PK_POP_GT = 5,
    PK_POP_GE = 6,
    PK_POP_IN = 7,
    PK_POP_LIKE = 8,
    PK_POP_MATCHES = 9,
    PK_POP_ISSUBSET = 10,
    PK_POP_ISSUPERSET = 11,
    PK_POP_EXISTS = 12,
} pk_pattern_op;

typedef enum pk_pattern_node_kind {
    /* inside [ ]: */
    PK_PN_COMPARE = 1, /* path op value(s) */
    PK_PN_CAND = 2,    /* comparison AND: children all true for one object */
    PK_PN_COR = 3,     /* comparison OR */
    /* between observation expressions: */
    PK_PN_OBSERVE = 4,    /* [ comparison ]; child[0] is the comparison tree */
    PK_PN_OAND = 5,       /* observation AND */
    PK_PN_OOR = 6,        /* observation OR */
    PK_PN_FOLLOWEDBY = 7, /* children in time order */
    PK_PN_WITHIN = 8,     /* child[0] WITHIN seconds SECONDS */
    PK_PN_REPEATS = 9,    /* child[0] REPEATS count TIMES */
    PK_PN_STARTSTOP = 10, /* child[0] START start STOP stop */
} pk_pattern_node_kind;

typedef struct pk_pattern_node pk_pattern_node;
struct pk_pattern_node {
    pk_pattern_node_kind kind;
    long column; /* 1-based byte column where the node starts */
    const pk_pattern_node *const *child;
    size_t nchild;
    /* PK_PN_COMPARE */
    pk_pattern_op op;
    int negated; /* NOT before the operator */
    const pk_pattern_path *path;
    const pk_pattern_value *values; /* 1 value; IN: the set (may be 0); EXISTS: none */
    size_t nvalues;
    /* qualifiers */
    double within;   /* PK_PN_WITHIN, seconds > 0 */
    int64_t repeats; /* PK_PN_REPEATS, >= 1 */
    pk_time start, stop;
    /* PK_PN_OBSERVE: the one object type every comparison names, or NULL when
     * an OR inside names several. */
    const char *type;
    size_t term;      /* PK_PN_COMPARE: its 0-based position among the pattern's comparisons */
    const void *impl; /* internal (the compiled regex of MATCHES) */
};

/* ------------------------------------------------------------------------ */
/* Parsing and printing                                                      */
/* ------------------------------------------------------------------------ */

/** A parsed pattern: the tree, its arena and its compiled regexes. */
typedef struct pk_pattern pk_pattern;

/**
 * Parse `text` (`len` bytes; it need not be NUL-terminated).  On success
 * *out owns everything; free it with pk_pattern_free().  On failure *out is
 * NULL and `err` holds the code (PK_EPARSE for syntax, PK_EVALIDATE for a rule
 * of the specification, PK_ELIMIT past a bound, PK_ENOMEM) and `err->column`
 * the 1-based byte column; err->message says why, without the column.
 * Thread safe (no shared state).
 */
PK_API pk_status pk_pattern_parse(const char *text, size_t len, pk_pattern_spec spec,
                                  pk_pattern **out, pk_error *err);
PK_API void pk_pattern_free(pk_pattern *p);

/** The root node (an observation-level node).  Valid while p lives. */
PK_API const pk_pattern_node *pk_pattern_root(const pk_pattern *p);

/**
 * The canonical text: keywords upper case, one space around operators,
 * constants in their shortest exact form, parentheses only where needed.
 * Parsing it again gives the same tree.  Owned by p; valid while p lives.
 */
PK_API const char *pk_pattern_canonical(const pk_pattern *p);

/**
 * Visit every node, parents before children, left to right.  `fn` returns 0 to
 * go on, anything else to stop (that value is returned).  depth is 0 at root.
 */
PK_API int pk_pattern_walk(const pk_pattern *p,
                           int (*fn)(const pk_pattern_node *n, int depth, void *ud), void *ud);

/** Name of a comparison operator as written ("=", "LIKE", "ISSUBSET"). */
PK_API const char *pk_pattern_op_name(pk_pattern_op op);

/* ------------------------------------------------------------------------ */
/* Anchors                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * An equality term: a comparison `type:path = value` without NOT (an IN set
 * gives one anchor per element).
 */
typedef struct pk_pattern_anchor {
    const pk_pattern_path *path; /* path->type, path->prop, path->simple */
    const pk_pattern_value *value;
    const pk_pattern_node *compare; /* the comparison it comes from */
} pk_pattern_anchor;

/**
 * The anchors of a pattern: a set of equality terms such that any set of
 * observations that matches the pattern contains an object satisfying at least
 * one of them.  An engine that indexes the anchors only needs to evaluate the
 * pattern when one of them hits.
 *
 * `count` is 0 when no such set exists (the pattern can match without any
 * equality, e.g. [file:size > 10]): such a pattern must be evaluated against
 * every observation.
 *
 * `exact` is 1 when the pattern is nothing but an OR (at either level) of
 * single equality comparisons without NOT and without qualifiers, on simple
 * paths (no list steps, no references, not _bin/_hex) with text, number or
 * boolean constants, such as [a:x = 1] OR [b:y IN ('p', 'q')]: then an
 * observed-data matches exactly when one anchor holds for one of its objects,
 * comparing as the evaluator does (text byte for byte, integers and floats
 * numerically, no text/number coercion), and the engine may decide alone.
 * The anchors array is owned by p.
 */
typedef struct pk_pattern_anchors {
    const pk_pattern_anchor *anchor;
    size_t count;
    int exact;
} pk_pattern_anchors;

PK_API const pk_pattern_anchors *pk_pattern_get_anchors(const pk_pattern *p);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------ */

/**
 * A set of observations to evaluate patterns against: observed-data objects
 * and the SCOs they refer to.  Build it once, evaluate many patterns.  It
 * keeps references to the JSON it was given (json_incref) and indexes of its
 * own; after the last add it is read-only and may be shared by threads.
 */
typedef struct pk_pattern_obs pk_pattern_obs;

PK_API pk_status pk_pattern_obs_new(pk_pattern_obs **out, pk_error *err);
PK_API void pk_pattern_obs_free(pk_pattern_obs *s);

/**
 * Add a document: a bundle ({"objects": [...]}), a JSON array of objects or one
 * object.  STIX 2.1 observed-data refers to SCOs through object_refs (they may
 * be in any document added to the set); STIX 2.0 observed-data embeds them in
 * "objects".  spec AUTO detects per object: object_refs means 2.1 (even beside
 * a deprecated "objects"), an "objects" dictionary alone means 2.0.
 * Objects that are neither observed-data nor SCOs are kept for references only.
 * Errors (an observed-data without a valid first_observed, a non-object)
 * name the object id and property; nothing is added then.
 */
PK_API pk_status pk_pattern_obs_add(pk_pattern_obs *s, const struct json_t *doc,
                                    pk_pattern_spec spec, pk_error *err);

/** Number of observed-data objects in the set, and the id of the i-th. */
PK_API size_t pk_pattern_obs_count(const pk_pattern_obs *s);
PK_API const char *pk_pattern_obs_id(const pk_pattern_obs *s, size_t i);

/** Which observed-data satisfied a pattern: indexes into the set, ascending. */
typedef struct pk_pattern_result {
    size_t *index; /* pk_free'd by pk_pattern_result_free */
    size_t count;
} pk_pattern_result;

/**
 * Evaluate `p` over `s`.  out->count is 0 when it does not match; otherwise
 * out->index lists every observed-data that takes part in at least one
 * combination that satisfies the pattern.  Errors: PK_ELIMIT when a regex hits
 * its match limits or a node would hold more than PK_PATTERN_MAX_BINDINGS
 * partial matches (err names the column), PK_ENOMEM.  Thread safe: any number
 * of calls may share p and s.
 */
PK_API pk_status pk_pattern_eval(const pk_pattern *p, const pk_pattern_obs *s,
                                 pk_pattern_result *out, pk_error *err);
PK_API void pk_pattern_result_free(pk_pattern_result *r);

/**
 * Decide one observation expression over a handful of objects, without an
 * observation set: *matched is 1 when one of `objects` satisfies the
 * comparison expression of `node` (a PK_PN_OBSERVE node of a parsed pattern,
 * or a comparison node under one).  References (`*_ref`, `*_refs`) resolve
 * by "id" among the same objects.  For a match engine that turns each log
 * record into SCOs and keeps its own time windows.  Errors: PK_EINVAL for an
 * observation-level operator node, PK_ELIMIT when a regex hits its limits,
 * PK_ENOMEM.  Thread safe.
 */
PK_API pk_status pk_pattern_match_objects(const pk_pattern_node *node,
                                          const struct json_t *const *objects, size_t n,
                                          int *matched, pk_error *err);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_PATTERN_H */
