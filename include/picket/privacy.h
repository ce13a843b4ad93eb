/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/privacy.h: anonymous incident intake.  A verifiable oblivious PRF
 * (RFC 9497, ristretto255-SHA512) for one-time tokens that the issuer cannot
 * link to their redemption, the scrubbing that strips a report of what could
 * name its submitter, and the k-threshold rule that releases an observable
 * only once k independent reports contain it.
 *
 * Why a VOPRF: a member fetches tokens while authenticated (so the server can
 * enforce a quota per organisation) but spends them later over a connection
 * that carries no account.  The server evaluates only blinded elements, so
 * what it sees at issuance (blind * H(x)) and at redemption (x, F(k, x)) share
 * nothing it can match; the DLEQ proof shows every member was served with the
 * same published epoch key, so a server cannot tag one member with a key of
 * its own.
 */
#ifndef PICKET_PRIVACY_H
#define PICKET_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "picket/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* VOPRF, RFC 9497 suite ristretto255-SHA512                                 */
/* ------------------------------------------------------------------------ */

#define PK_VOPRF_NS 32     /* a serialized scalar */
#define PK_VOPRF_NE 32     /* a serialized group element */
#define PK_VOPRF_NPROOF 64 /* c || s */
#define PK_VOPRF_NH 64     /* the PRF output (SHA-512) */
#define PK_VOPRF_MAX_BATCH 1024

/** Protocol modes of RFC 9497 section 3 (POPRF is not implemented). */
typedef enum pk_voprf_mode {
    PK_VOPRF_MODE_OPRF = 0x00,
    PK_VOPRF_MODE_VOPRF = 0x01,
} pk_voprf_mode;

/**
 * expand_message_xmd of RFC 9380 section 5.3.1 with SHA-512: `out_len` (at
 * most 255 * 64) uniform bytes from `msg` under domain separation tag `dst`
 * (a DST longer than 255 bytes is first hashed as the RFC says).
 * PK_EINVAL for a length out of range.  Thread safe.
 */
PK_API pk_status pk_voprf_expand_xmd(const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                                     size_t dst_len, uint8_t *out, size_t out_len);

/** HashToGroup of the suite: hash_to_ristretto255 with DST
 * "HashToGroup-" || contextString.  `out` is a serialized element. */
PK_API pk_status pk_voprf_hash_to_group(pk_voprf_mode mode, const uint8_t *msg, size_t len,
                                        uint8_t out[PK_VOPRF_NE]);

/** HashToScalar of the suite; `dst` NULL means "HashToScalar-" || contextString. */
PK_API pk_status pk_voprf_hash_to_scalar(pk_voprf_mode mode, const uint8_t *msg, size_t len,
                                         const uint8_t *dst, size_t dst_len,
                                         uint8_t out[PK_VOPRF_NS]);

/**
 * DeriveKeyPair (section 3.2.1): the server key from a seed of at least 32
 * bytes and public `info` (at most 65535 bytes).  `pk` may be NULL.
 * PK_ECRYPTO when no non-zero scalar comes out in 256 tries (never, in
 * practice).
 */
PK_API pk_status pk_voprf_derive_keypair(pk_voprf_mode mode, const uint8_t *seed, size_t seed_len,
                                         const uint8_t *info, size_t info_len,
                                         uint8_t sk[PK_VOPRF_NS], uint8_t pk[PK_VOPRF_NE],
                                         pk_error *err);

/**
 * Blind (client): blinded = blind * HashToGroup(input).  `given_blind` is for
 * test vectors; NULL draws a fresh random non-zero scalar.  The blind used is
 * written to `blind` (keep it secret until Finalize).  PK_EINVAL when the
 * input hashes to the identity.
 */
PK_API pk_status pk_voprf_blind(pk_voprf_mode mode, const uint8_t *input, size_t input_len,
                                const uint8_t *given_blind, uint8_t blind[PK_VOPRF_NS],
                                uint8_t blinded[PK_VOPRF_NE], pk_error *err);

/**
 * BlindEvaluate without the proof (server): evaluated = sk * blinded.
 * PK_ECRYPTO for an element that is not a valid non-identity point.
 */
PK_API pk_status pk_voprf_blind_evaluate(const uint8_t sk[PK_VOPRF_NS],
                                         const uint8_t blinded[PK_VOPRF_NE],
                                         uint8_t evaluated[PK_VOPRF_NE], pk_error *err);

/**
 * GenerateProof (section 2.2.1) of the batch: that D[i] = sk * C[i] for all i
 * with the same sk as pk = sk * G.  C and D are `m` serialized elements back
 * to back.  `given_r` (the ProofRandomScalar) is for test vectors; NULL draws
 * one.  m is 1 .. PK_VOPRF_MAX_BATCH.
 */
PK_API pk_status pk_voprf_generate_proof(pk_voprf_mode mode, const uint8_t sk[PK_VOPRF_NS],
                                         const uint8_t pk[PK_VOPRF_NE], const uint8_t *C,
                                         const uint8_t *D, size_t m, const uint8_t *given_r,
                                         uint8_t proof[PK_VOPRF_NPROOF], pk_error *err);

/** VerifyProof (section 2.2.2).  PK_ECRYPTO with a message when it fails. */
PK_API pk_status pk_voprf_verify_proof(pk_voprf_mode mode, const uint8_t pk[PK_VOPRF_NE],
                                       const uint8_t *C, const uint8_t *D, size_t m,
                                       const uint8_t proof[PK_VOPRF_NPROOF], pk_error *err);

/**
 * Finalize (client): the PRF output of `input` from the blind and the
 * server's evaluated element.  In VOPRF mode verify the batch's proof first
 * with pk_voprf_verify_proof(); this function does the unblinding only.
 */
PK_API pk_status pk_voprf_finalize(const uint8_t *input, size_t input_len,
                                   const uint8_t blind[PK_VOPRF_NS],
                                   const uint8_t evaluated[PK_VOPRF_NE], uint8_t out[PK_VOPRF_NH],
                                   pk_error *err);

/** Evaluate (server, section 3.3.1/3.3.2): the PRF output of `input` under sk
 * directly, to check a redeemed token. */
PK_API pk_status pk_voprf_evaluate(pk_voprf_mode mode, const uint8_t sk[PK_VOPRF_NS],
                                   const uint8_t *input, size_t input_len, uint8_t out[PK_VOPRF_NH],
                                   pk_error *err);

/** Hex helpers shared by the privacy code and its tools: lower-case output
 * (`out` holds 2n+1 bytes); parsing accepts either case and needs exactly
 * `n` bytes' worth of digits.  PK_EPARSE otherwise. */
PK_API void pk_privacy_hex_encode(const uint8_t *p, size_t n, char *out);
PK_API pk_status pk_privacy_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);

/* ------------------------------------------------------------------------ */
/* Scrubbing                                                                 */
/* ------------------------------------------------------------------------ */

#define PK_PRIVACY_MAX_OBJECTS 1000 /* objects in one anonymous report */

/** What pk_privacy_scrub did, for `--dry-run` and the intake's answer. */
typedef struct pk_scrub_stats {
    size_t kept;               /* objects in the result */
    size_t dropped_objects;    /* identities, sightings, unknown types, emptied objects */
    size_t dropped_properties; /* created_by_ref, external_references, custom x_ ... */
    size_t refs_dropped;       /* references to objects not kept */
    size_t timestamps_cut;     /* timestamps that had a time of day */
    size_t redacted;           /* occurrences of a submitter's name replaced */
} pk_scrub_stats;

PK_API void pk_scrub_stats_clear(pk_scrub_stats *st);

/**
 * Scrub an incident report (a STIX 2.1 bundle) for anonymous submission.
 * The result, a new bundle in `*out` (caller owns it), keeps only the object
 * types and properties on picket's allow-list (see docs/internals/privacy.md):
 * identities, sightings, locations, notes and unknown types go, and with them
 * created_by_ref, external_references, granular markings, extensions,
 * non-TLP markings and custom properties other than x_picket_kind,
 * x_picket_sector and x_picket_date.  Every object and the bundle get fresh
 * random ids and references are rewritten to match (dangling ones dropped,
 * and objects left meaningless by that dropped too); every timestamp is cut
 * to 00:00:00.000Z of its day; each of the `n_names` strings in `names` (the
 * submitter's account, organisation, domains) is replaced by "[redacted]"
 * wherever it occurs in a string, ignoring case.  Objects come out ordered by
 * their new ids.  PK_EPARSE/PK_EVALIDATE when `in` is not a bundle,
 * PK_ELIMIT past PK_PRIVACY_MAX_OBJECTS.  Thread safe.
 */
PK_API pk_status pk_privacy_scrub(const json_t *in, const char *const *names, size_t n_names,
                                  json_t **out, pk_scrub_stats *stats, pk_error *err);

/**
 * The observables of a (scrubbed) report that count towards release, as a
 * new JSON array of distinct strings "path=value" with the value normalised
 * (lower-case domains, e-mail addresses and hashes):
 * "user-account:linkedin=jane.doe", "email-addr:value=a@b.example",
 * "url:value=...", "domain-name:value=...", "ipv4-addr:value=...",
 * "ipv6-addr:value=...", "file:hashes.SHA-256=...".
 */
PK_API pk_status pk_privacy_observables(const json_t *bundle, json_t **out, pk_error *err);

/** A report skeleton for `kind` as a new bundle: an incident with
 * x_picket_kind, x_picket_sector and x_picket_date, an observed-data and the
 * SCOs that kind usually has.  Kinds: "cyber-intrusion",
 * "recruitment-approach", "insider", "theft-of-technology",
 * "suspicious-visit", "other".  NULL for an unknown kind. */
PK_API json_t *pk_privacy_template(const char *kind);

/** The kinds pk_privacy_template knows, NULL-terminated. */
PK_API const char *const *pk_privacy_kinds(void);

/* ------------------------------------------------------------------------ */
/* Tokens: the member's side                                                 */
/* ------------------------------------------------------------------------ */

#define PK_PRIVACY_SUITE "ristretto255-SHA512"
#define PK_PRIVACY_TOKEN_INPUT 32    /* bytes of a token's random input */
#define PK_PRIVACY_MAX_BATCH 100     /* tokens per issuance request */
#define PK_PRIVACY_WALLET_MAX 100000 /* tokens a wallet may hold */

/**
 * Start fetching `n` tokens: fresh random inputs, blinded.  `*request` is
 * the body to send ({"blinded": [hex...]}); `*pending` keeps inputs and
 * blinds secret until pk_privacy_token_finish().  Caller owns both.
 */
PK_API pk_status pk_privacy_token_request(size_t n, json_t **request, json_t **pending,
                                          pk_error *err);

/**
 * Finish: check that the server's `response` used the key that `keys` (the
 * server's published key list, GET /privacy/keys) gives for that epoch and
 * that the batch proof verifies, then unblind.  `*tokens` is a new array of
 * {"epoch", "input", "output"}.  PK_ECRYPTO with a message saying which check
 * failed; nothing is returned then.
 */
PK_API pk_status pk_privacy_token_finish(const json_t *pending, const json_t *response,
                                         const json_t *keys, json_t **tokens, pk_error *err);

/**
 * The wallet: {"picket_wallet": 1, "tokens": [{"server", "epoch", "input",
 * "output"}], "redact": [names]}.  Load gives an empty wallet when the file
 * does not exist; parse/check name the bad place (err->property such as
 * "tokens[3]").  Save writes a new file with mode 0600 and renames it over
 * the old one.  The default path is $XDG_DATA_HOME/picket/wallet.json, else
 * ~/.local/share/picket/wallet.json (pk_free it; NULL when neither is set).
 */
PK_API json_t *pk_privacy_wallet_new(void);
PK_API pk_status pk_privacy_wallet_check(const json_t *wallet, pk_error *err);
PK_API pk_status pk_privacy_wallet_parse(const char *text, size_t len, json_t **wallet,
                                         pk_error *err);
PK_API pk_status pk_privacy_wallet_load(const char *path, json_t **wallet, pk_error *err);
PK_API pk_status pk_privacy_wallet_save(const json_t *wallet, const char *path, pk_error *err);
PK_API char *pk_privacy_wallet_default_path(void);

/* ------------------------------------------------------------------------ */
/* Intake: the server's side                                                 */
/* ------------------------------------------------------------------------ */

/**
 * The intake's tables live in the store's SQLite file, beside the store's own
 * (privacy_*).  One pk_intake per thread; SQLite serialises the writers.
 */
typedef struct pk_intake pk_intake;

typedef struct pk_intake_config {
    unsigned release_k;    /* reports that must share an observable before release (3) */
    unsigned quota;        /* tokens per organisation per epoch (20) */
    int64_t epoch_seconds; /* key lifetime (7 days) */
    unsigned grace_epochs; /* a token stays redeemable this many epochs after its own (1) */
} pk_intake_config;

PK_API void pk_intake_config_default(pk_intake_config *cfg);

/** Open (creating the tables and, the first time, the random key seed).
 * `cfg` NULL: the defaults. */
PK_API pk_status pk_intake_open(const char *db_path, const pk_intake_config *cfg, pk_intake **out,
                                pk_error *err);
PK_API void pk_intake_close(pk_intake *in);

/** The epoch number at `now` (seconds since 1970). */
PK_API int64_t pk_intake_epoch(const pk_intake *in, int64_t now);

/** The published key list: {"suite", "current", "epoch_seconds", "quota",
 * "epochs": [{"epoch", "public_key", "issued_from", "redeemable_until"}]},
 * from the oldest still-redeemable epoch to the next one. */
PK_API pk_status pk_intake_keys(pk_intake *in, int64_t now, json_t **out, pk_error *err);

/**
 * Issue tokens to organisation `org` (authenticated by the caller):
 * `req` is {"blinded": [hex...], "epoch"?}; the answer {"suite", "epoch",
 * "public_key", "evaluated": [hex...], "proof", "remaining"}.  PK_EPERM when
 * the organisation's quota for the epoch would be passed (nothing issued),
 * PK_EAUTH without an org, PK_EPARSE/PK_ECRYPTO for bad elements.
 */
PK_API pk_status pk_intake_issue(pk_intake *in, const char *org, int64_t now, const json_t *req,
                                 json_t **resp, pk_error *err);

/**
 * Redeem a token with a report: `req` is {"token": {"epoch", "input",
 * "output"}, "report": bundle}.  Refusals, each with its message: PK_ETIMEOUT
 * for an expired epoch, PK_ECRYPTO for a token that is not genuine (or from a
 * future epoch), PK_EEXIST for one spent already; a report that is not a
 * bundle is refused before the token is spent.  On success the scrubbed
 * report is in the inbox under the day only, the token's hash is spent and
 * the report's observables are posted towards release.  Writes nothing about
 * the caller: no address, account, token, user agent or time of day.
 */
PK_API pk_status pk_intake_submit(pk_intake *in, int64_t now, const json_t *req, json_t **resp,
                                  pk_error *err);
/** The same, also replacing each of `names` (the members' account and
 * organisation names, say) with "[redacted]" wherever the report has it. */
PK_API pk_status pk_intake_submit_redacting(pk_intake *in, int64_t now, const json_t *req,
                                            const char *const *names, size_t n_names, json_t **resp,
                                            pk_error *err);

/** The inbox, for the hosting organisation's analysts: a new array of
 * {"day", "report"} ordered by day, then by the reports' random ids. */
PK_API pk_status pk_intake_inbox(pk_intake *in, json_t **out, pk_error *err);
/** Remove the reports with these bundle ids (a JSON array of strings) from
 * the inbox, once they are in the intake collection.  secure_delete is on:
 * the freed pages are zeroed. */
PK_API pk_status pk_intake_inbox_remove(pk_intake *in, const json_t *ids, pk_error *err);

/**
 * What is due for release: {"objects": [...], "released": [...]}.  For each
 * observable that k or more distinct reports contain and whose count changed
 * since it was last published: the SCO, an observed-data wrapping it, an
 * indicator matching it and an aggregated sighting of that indicator with
 * "count" and no where_sighted_refs, with deterministic ids (a higher count
 * is a new version).  Put the objects in the sharing collection, then call
 * pk_intake_release_done() with the same document.  The server does this on
 * a timer, not when a report arrives, so that no stored time says when the
 * k-th report came.
 */
PK_API pk_status pk_intake_release(pk_intake *in, int64_t now, json_t **out, pk_error *err);
PK_API pk_status pk_intake_release_done(pk_intake *in, const json_t *release, pk_error *err);

/* ------------------------------------------------------------------------ */
/* The intake's HTTP routes, for whichever server carries them               */
/* ------------------------------------------------------------------------ */

#define PK_PRIVACY_PREFIX "/privacy/"

/** What pk_privacy_route() says about a request. */
enum {
    PK_PRIVACY_ROUTE = 1u,  /* the path is ours: hand it to pk_privacy_service_handle */
    PK_PRIVACY_AUTH = 2u,   /* authenticate first and pass the account's organisation */
    PK_PRIVACY_ADMIN = 4u,  /* and only an administrator may */
    PK_PRIVACY_NO_LOG = 8u, /* write no access-log line, keep no address or time for it */
};

/**
 * Routes: GET /privacy/keys (published epoch keys, no account),
 * POST /privacy/tokens (issuance, authenticated), POST /privacy/reports
 * (a token and a report, no account, never logged), GET /privacy/inbox
 * (the scrubbed reports, administrators).  0 when `path` is not under
 * PK_PRIVACY_PREFIX.
 */
PK_API unsigned pk_privacy_route(const char *method, const char *path);

typedef struct pk_privacy_service pk_privacy_service;

/** One intake for a whole server; its calls are serialised by a mutex. */
PK_API pk_status pk_privacy_service_new(const char *db_path, const pk_intake_config *cfg,
                                        pk_privacy_service **out, pk_error *err);
PK_API void pk_privacy_service_free(pk_privacy_service *s);
/** The intake inside, for the release job; hold the lock around its use. */
PK_API pk_intake *pk_privacy_service_intake(pk_privacy_service *s);
PK_API void pk_privacy_service_lock(pk_privacy_service *s, int lock);

/**
 * Names the server scrubs from every anonymous report on top of what the
 * client did (so that a report sent without picket's client is scrubbed
 * too): `fn` returns a new JSON array of strings, e.g. every member
 * organisation and account name; names shorter than 3 characters are
 * ignored.  Called once per submission, under the service's lock.
 */
typedef json_t *(*pk_privacy_names_fn)(void *ud);
PK_API void pk_privacy_service_set_names(pk_privacy_service *s, pk_privacy_names_fn fn, void *ud);

/**
 * Answer one request: returns the HTTP status and sets `*resp` (JSON text,
 * pk_free it) to the answer or to a TAXII-style error message {"title",
 * "description", "http_status"}.  `org` is the authenticated account's
 * organisation (NULL when none), `admin` whether it is an administrator.
 * Thread safe.
 */
PK_API int pk_privacy_service_handle(pk_privacy_service *s, const char *method, const char *path,
                                     const char *body, size_t body_len, const char *org, int admin,
                                     char **resp, size_t *resp_len);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_PRIVACY_H */
