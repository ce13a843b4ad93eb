/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/privacy: the RFC 9497 test vectors (OPRF and VOPRF,
 * ristretto255-SHA512), expand_message_xmd, proof tampering, and the
 * scrubbing, token and release rules of the anonymous intake. */
#include "picket/picket.h"
#include "picket/privacy.h"
#include "harness.h"

#include <jansson.h>

#include "privacy/privacy_int.h"

#include <unistd.h>

/* RFC 9497's own vectors, kept in the repository. */
#define RFC_VECTORS PK_SOURCE_DIR "/tests/data/crypto/rfc9497-ristretto255-sha512.json"
/* The shared data set: it is labelled RFC 9497 but its values are those of
 * draft-irtf-cfrg-voprf-09 (another contextString), so it runs with the
 * test-only draft-09 context. */
#define SHARED_VECTORS PK_TEST_DATA "/crypto/rfc9497-ristretto255-sha512.json"

/* Decode hex string `s` into out (exactly n bytes); 0 on success. */
static int hx(const json_t *s, uint8_t *out, size_t n)
{
    const char *t = json_string_value(s);
    return t && pk_privacy_hex_decode(t, strlen(t), out, n) == PK_OK ? 0 : -1;
}

/* A hex value of any length, into a buffer of cap bytes; returns the length or -1. */
static long hxv(const json_t *s, uint8_t *out, size_t cap)
{
    const char *t = json_string_value(s);
    if (!t || strlen(t) % 2 || strlen(t) / 2 > cap) return -1;
    return pk_privacy_hex_decode(t, strlen(t), out, strlen(t) / 2) == PK_OK ? (long)strlen(t) / 2
                                                                            : -1;
}

/* Item i of a field that is a string (one element) or an array (a batch). */
static const json_t *item(const json_t *v, const char *k, size_t i)
{
    const json_t *f = json_object_get(v, k);
    return json_is_array(f) ? json_array_get(f, i) : f;
}

static void check_mode(json_t *root, const char *name, pk_voprf_mode mode, int *nvec)
{
    json_t *m = json_object_get(json_object_get(root, "modes"), name);
    REQUIRE(m != NULL);
    json_t *setup = json_object_get(m, "setup");
    uint8_t seed[32], info[64], sk[32], pk[32], want[64];
    long il = hxv(json_object_get(setup, "KeyInfo"), info, sizeof info);
    REQUIRE(hx(json_object_get(setup, "Seed"), seed, 32) == 0 && il >= 0);
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_voprf_derive_keypair(mode, seed, 32, info, (size_t)il, sk, pk, &err), PK_OK);
    REQUIRE(hx(json_object_get(setup, "skSm"), want, 32) == 0);
    CHECK(memcmp(sk, want, 32) == 0);
    if (json_object_get(setup, "pkSm")) {
        REQUIRE(hx(json_object_get(setup, "pkSm"), want, 32) == 0);
        CHECK(memcmp(pk, want, 32) == 0);
    }
    size_t vi;
    json_t *v;
    json_array_foreach(json_object_get(m, "vectors"), vi, v)
    {
        const json_t *in0 = json_object_get(v, "Input");
        size_t batch = json_is_array(in0) ? json_array_size(in0) : 1;
        uint8_t C[4 * 32], D[4 * 32], blinds[4 * 32];
        uint8_t inputs[4][64];
        long ilen[4];
        REQUIRE(batch <= 4);
        for (size_t i = 0; i < batch; i++) {
            uint8_t b[32], e[32];
            ilen[i] = hxv(item(v, "Input", i), inputs[i], sizeof inputs[i]);
            REQUIRE(ilen[i] >= 0 && hx(item(v, "Blind", i), b, 32) == 0);
            CHECK_INT(pk_voprf_blind(mode, inputs[i], (size_t)ilen[i], b, blinds + 32 * i,
                                     C + 32 * i, &err),
                      PK_OK);
            REQUIRE(hx(item(v, "BlindedElement", i), e, 32) == 0);
            CHECK(memcmp(C + 32 * i, e, 32) == 0);
            CHECK_INT(pk_voprf_blind_evaluate(sk, C + 32 * i, D + 32 * i, &err), PK_OK);
            REQUIRE(hx(item(v, "EvaluationElement", i), e, 32) == 0);
            CHECK(memcmp(D + 32 * i, e, 32) == 0);
        }
        if (mode == PK_VOPRF_MODE_VOPRF) {
            uint8_t r[32], proof[64], wproof[64];
            REQUIRE(hx(json_object_get(v, "ProofRandomScalar"), r, 32) == 0);
            REQUIRE(hx(json_object_get(v, "Proof"), wproof, 64) == 0);
            CHECK_INT(pk_voprf_generate_proof(mode, sk, pk, C, D, batch, r, proof, &err), PK_OK);
            CHECK(memcmp(proof, wproof, 64) == 0);
            CHECK_INT(pk_voprf_verify_proof(mode, pk, C, D, batch, wproof, &err), PK_OK);
            /* A flipped bit anywhere in the proof, or the other key, fails. */
            wproof[5] ^= 1;
            CHECK_INT(pk_voprf_verify_proof(mode, pk, C, D, batch, wproof, NULL), PK_ECRYPTO);
            wproof[5] ^= 1;
            uint8_t other_sk[32], other_pk[32];
            seed[0] ^= 1;
            CHECK_INT(
                pk_voprf_derive_keypair(mode, seed, 32, info, (size_t)il, other_sk, other_pk, NULL),
                PK_OK);
            seed[0] ^= 1;
            CHECK_INT(pk_voprf_verify_proof(mode, other_pk, C, D, batch, wproof, NULL), PK_ECRYPTO);
        }
        for (size_t i = 0; i < batch; i++) {
            uint8_t out[64], direct[64];
            CHECK_INT(pk_voprf_finalize(inputs[i], (size_t)ilen[i], blinds + 32 * i, D + 32 * i,
                                        out, &err),
                      PK_OK);
            REQUIRE(hx(item(v, "Output", i), want, 64) == 0);
            CHECK(memcmp(out, want, 64) == 0);
            CHECK_INT(pk_voprf_evaluate(mode, sk, inputs[i], (size_t)ilen[i], direct, &err), PK_OK);
            CHECK(memcmp(direct, want, 64) == 0);
        }
        ++*nvec;
    }
}

static int run_mode(const char *path, const char *name, pk_voprf_mode mode)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    int n = 0;
    if (!root) {
        PKT_FAIL("%s: %s", path, je.text);
        return 0;
    }
    check_mode(root, name, mode, &n);
    json_decref(root);
    return n;
}

TEST(rfc9497_oprf_vectors)
{
    CHECK_INT(run_mode(RFC_VECTORS, "OPRF", PK_VOPRF_MODE_OPRF), 2);
}

TEST(rfc9497_voprf_vectors)
{
    CHECK_INT(run_mode(RFC_VECTORS, "VOPRF", PK_VOPRF_MODE_VOPRF), 3);
}

TEST(shared_draft09_oprf_vectors)
{
    if (access(SHARED_VECTORS, R_OK) != 0) SKIP("shared vectors absent (%s)", SHARED_VECTORS);
    CHECK_INT(run_mode(SHARED_VECTORS, "OPRF", (pk_voprf_mode)(0 | PKI_VOPRF_DRAFT09)), 2);
}

TEST(shared_draft09_voprf_vectors)
{
    if (access(SHARED_VECTORS, R_OK) != 0) SKIP("shared vectors absent (%s)", SHARED_VECTORS);
    CHECK_INT(run_mode(SHARED_VECTORS, "VOPRF", (pk_voprf_mode)(1 | PKI_VOPRF_DRAFT09)), 3);
}

TEST(voprf_roundtrip_with_random_blinds_and_bad_elements)
{
    uint8_t seed[32], sk[32], pk[32];
    memset(seed, 7, sizeof seed);
    REQUIRE(pk_voprf_derive_keypair(PK_VOPRF_MODE_VOPRF, seed, 32, (const uint8_t *)"epoch 1", 7,
                                    sk, pk, NULL) == PK_OK);
    uint8_t in[3][32], blind[3][32], C[3 * 32], D[3 * 32], proof[64];
    for (int i = 0; i < 3; i++) {
        memset(in[i], 'a' + i, 32);
        CHECK_INT(pk_voprf_blind(PK_VOPRF_MODE_VOPRF, in[i], 32, NULL, blind[i], C + 32 * i, NULL),
                  PK_OK);
        CHECK_INT(pk_voprf_blind_evaluate(sk, C + 32 * i, D + 32 * i, NULL), PK_OK);
    }
    CHECK_INT(pk_voprf_generate_proof(PK_VOPRF_MODE_VOPRF, sk, pk, C, D, 3, NULL, proof, NULL),
              PK_OK);
    CHECK_INT(pk_voprf_verify_proof(PK_VOPRF_MODE_VOPRF, pk, C, D, 3, proof, NULL), PK_OK);
    /* Swapping two evaluations breaks the batch proof. */
    uint8_t D2[3 * 32];
    memcpy(D2, D + 32, 32);
    memcpy(D2 + 32, D, 32);
    memcpy(D2 + 64, D + 64, 32);
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_voprf_verify_proof(PK_VOPRF_MODE_VOPRF, pk, C, D2, 3, proof, &err), PK_ECRYPTO);
    CHECK(strstr(err.message, "published key") != NULL);
    for (int i = 0; i < 3; i++) {
        uint8_t out[64], direct[64];
        CHECK_INT(pk_voprf_finalize(in[i], 32, blind[i], D + 32 * i, out, NULL), PK_OK);
        CHECK_INT(pk_voprf_evaluate(PK_VOPRF_MODE_VOPRF, sk, in[i], 32, direct, NULL), PK_OK);
        CHECK(memcmp(out, direct, 64) == 0);
    }
    /* The identity and a non-canonical encoding are refused. */
    uint8_t zero[32] = {0}, ff[32], ev[32];
    memset(ff, 0xff, sizeof ff);
    CHECK_INT(pk_voprf_blind_evaluate(sk, zero, ev, NULL), PK_ECRYPTO);
    CHECK_INT(pk_voprf_blind_evaluate(sk, ff, ev, NULL), PK_ECRYPTO);
    CHECK_INT(pk_voprf_verify_proof(PK_VOPRF_MODE_VOPRF, zero, C, D, 3, proof, NULL), PK_ECRYPTO);
    CHECK_INT(pk_voprf_verify_proof(PK_VOPRF_MODE_VOPRF, pk, C, D, 0, proof, NULL), PK_EINVAL);
    CHECK_INT(pk_voprf_derive_keypair(PK_VOPRF_MODE_VOPRF, seed, 16, NULL, 0, sk, pk, NULL),
              PK_EINVAL);
}

TEST(expand_xmd_lengths)
{
    uint8_t a[200], b[64];
    const uint8_t dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";
    CHECK_INT(pk_voprf_expand_xmd((const uint8_t *)"abc", 3, dst, sizeof dst - 1, a, 200), PK_OK);
    CHECK_INT(pk_voprf_expand_xmd((const uint8_t *)"abc", 3, dst, sizeof dst - 1, b, 64), PK_OK);
    /* Outputs of different lengths are independent (the length is hashed in). */
    CHECK(memcmp(a, b, 64) != 0);
    CHECK_INT(pk_voprf_expand_xmd(NULL, 0, dst, sizeof dst - 1, a, 0), PK_EINVAL);
    uint8_t big[300];
    memset(big, 'D', sizeof big);
    CHECK_INT(pk_voprf_expand_xmd((const uint8_t *)"abc", 3, big, sizeof big, b, 64), PK_OK);
}
