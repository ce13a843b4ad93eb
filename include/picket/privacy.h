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

#ifdef __cplusplus
}
#endif
#endif /* PICKET_PRIVACY_H */
