/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/privacy: the RFC 9497 test vectors (OPRF and VOPRF,
 * ristretto255-SHA512), expand_message_xmd, proof tampering, and the
 * scrubbing, token and release rules of the anonymous intake. */
#include "picket/picket.h"
#include "picket/privacy.h"
#include "harness.h"

#include <jansson.h>

#include "privacy/privacy_int.h"

#include <sys/stat.h>
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

/* ---- scrubbing ---- */

static const char *report_json =
    "{\"type\":\"bundle\",\"id\":\"bundle--11111111-1111-4111-8111-111111111111\",\"objects\":["
    "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--22222222-2222-4222-8222-"
    "222222222222\",\"created\":\"2026-03-14T09:26:53.123Z\",\"modified\":\"2026-03-14T09:26:53."
    "123Z\",\"name\":\"Acme Aerospace\",\"identity_class\":\"organization\"},"
    "{\"type\":\"incident\",\"spec_version\":\"2.1\",\"id\":\"incident--33333333-3333-4333-8333-"
    "333333333333\",\"created\":\"2026-03-14T09:26:53.123Z\",\"modified\":\"2026-03-15T17:01:02Z\","
    "\"created_by_ref\":\"identity--22222222-2222-4222-8222-222222222222\",\"name\":\"Recruiter "
    "approached an ACME engineer\",\"description\":\"Contact via alice.smith at 09:26:53 "
    "(2026-03-14T09:26:53Z), port 8080, ratio 1:30, 25:61\","
    "\"x_picket_kind\":\"recruitment-approach\",\"x_internal_ticket\":\"SEC-4711\","
    "\"external_references\":[{\"source_name\":\"acme-jira\",\"url\":\"https://jira.acme/"
    "SEC-4711\"}"
    "],\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\","
    "\"marking-definition--44444444-4444-4444-8444-444444444444\"]},"
    "{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data--55555555-5555-"
    "4555-"
    "8555-555555555555\",\"created\":\"2026-03-14T09:26:53.123Z\",\"modified\":\"2026-03-14T09:26:"
    "53."
    "123Z\",\"first_observed\":\"2026-03-10T08:15:00Z\",\"last_observed\":\"2026-03-12T23:59:59Z\","
    "\"number_observed\":2,\"object_refs\":[\"user-account--66666666-6666-4666-8666-666666666666\","
    "\"identity--22222222-2222-4222-8222-222222222222\"]},"
    "{\"type\":\"user-account\",\"spec_version\":\"2.1\",\"id\":\"user-account--66666666-6666-4666-"
    "8666-666666666666\",\"account_type\":\"linkedin\",\"user_id\":\"Jane-Recruiter\","
    "\"credential\":\"hunter2\"},"
    "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--77777777-7777-4777-"
    "8777-777777777777\",\"created\":\"2026-03-14T09:26:53.123Z\",\"modified\":\"2026-03-14T09:26:"
    "53."
    "123Z\",\"relationship_type\":\"targets\",\"source_ref\":\"incident--33333333-3333-4333-8333-"
    "333333333333\",\"target_ref\":\"identity--22222222-2222-4222-8222-222222222222\"},"
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--88888888-8888-4888-8888-"
    "888888888888\",\"created\":\"2026-03-14T09:26:53.123Z\",\"modified\":\"2026-03-14T09:26:53."
    "123Z\",\"sighting_of_ref\":\"incident--33333333-3333-4333-8333-333333333333\"}"
    "]}";

TEST(scrub_drops_identity_custom_and_times)
{
    json_error_t je;
    json_t *in = json_loads(report_json, 0, &je);
    REQUIRE(in != NULL);
    const char *names[] = {"acme", "alice.smith"};
    json_t *out = NULL;
    pk_scrub_stats st;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_privacy_scrub(in, names, 2, &out, &st, &err), PK_OK);
    json_decref(in);
    REQUIRE(out != NULL);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    REQUIRE(text != NULL);
    /* Exactly incident, observed-data, user-account remain. */
    CHECK_INT(json_array_size(json_object_get(out, "objects")), 3);
    CHECK_INT(st.kept, 3);
    CHECK_INT(st.dropped_objects, 3); /* identity, sighting, relationship to the identity */
    const char *gone[] = {
        "identity", "created_by_ref", "x_internal_ticket", "SEC-4711", "acme",
        "ACME",     "Acme",           "alice.smith",       "09:26",    "17:01",
        "08:15",    "23:59",          "hunter2",           "44444444", "11111111",
        "33333333", "66666666",       "55555555",          "jira",     "sighting"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        if (strstr(text, gone[i])) PKT_FAIL("scrubbed report still contains \"%s\"", gone[i]);
    CHECK(strstr(text, "\"2026-03-14T00:00:00.000Z\"") != NULL);
    CHECK(strstr(text, "\"2026-03-15T00:00:00.000Z\"") != NULL);
    CHECK(strstr(text, "Recruiter approached an [redacted] engineer") != NULL);
    CHECK(strstr(text, "Contact via [redacted] at [time] (2026-03-14T[time]Z), port 8080, ratio "
                       "[time], 25:61") != NULL);
    CHECK(strstr(text, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb") != NULL);
    CHECK(strstr(text, "\"x_picket_kind\":\"recruitment-approach\"") != NULL);
    /* The observed-data points at the user-account's new id, and only at it. */
    json_t *objs = json_object_get(out, "objects"), *o, *od = NULL, *ua = NULL;
    size_t i;
    json_array_foreach(objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        if (strcmp(t, "observed-data") == 0) od = o;
        if (strcmp(t, "user-account") == 0) ua = o;
    }
    REQUIRE(od && ua);
    json_t *refs = json_object_get(od, "object_refs");
    CHECK_INT(json_array_size(refs), 1);
    CHECK_STR(json_string_value(json_array_get(refs, 0)),
              json_string_value(json_object_get(ua, "id")));
    json_t *obs = NULL;
    CHECK_INT(pk_privacy_observables(out, &obs, NULL), PK_OK);
    CHECK_INT(json_array_size(obs), 1);
    CHECK_STR(json_string_value(json_array_get(obs, 0)), "user-account:linkedin=jane-recruiter");
    json_decref(obs);
    /* Two scrubs of the same report share no id. */
    json_t *in2 = json_loads(report_json, 0, &je), *out2 = NULL;
    CHECK_INT(pk_privacy_scrub(in2, NULL, 0, &out2, NULL, NULL), PK_OK);
    CHECK(strcmp(json_string_value(json_object_get(out, "id")),
                 json_string_value(json_object_get(out2, "id"))) != 0);
    json_decref(in2);
    json_decref(out2);
    free(text);
    json_decref(out);
}

TEST(scrub_refuses_what_is_not_a_bundle)
{
    json_t *a = json_pack("{s:s}", "type", "incident"), *out = NULL;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_privacy_scrub(a, NULL, 0, &out, NULL, &err), PK_EVALIDATE);
    CHECK_STR(err.message, "a report must be a STIX bundle (type \"bundle\")");
    json_decref(a);
    a = json_pack("{s:s, s:s}", "type", "bundle", "objects", "x");
    CHECK_INT(pk_privacy_scrub(a, NULL, 0, &out, NULL, &err), PK_EVALIDATE);
    CHECK_STR(err.message, "the bundle has no \"objects\" array");
    json_decref(a);
    CHECK(out == NULL);
}

static void scrub_under_failure(void *ctx)
{
    json_t *out = NULL;
    const char *names[] = {"acme"};
    pk_status rc = pk_privacy_scrub((const json_t *)ctx, names, 1, &out, NULL, NULL);
    if (rc == PK_OK) {
        CHECK(out != NULL);
        json_decref(out);
    } else {
        CHECK_INT(rc, PK_ENOMEM);
        CHECK(out == NULL);
    }
}

TEST(scrub_survives_every_allocation_failure)
{
    pk_init();
    json_error_t je;
    json_t *in = json_loads(report_json, 0, &je);
    REQUIRE(in != NULL);
    long n = pkt_each_alloc_failure(scrub_under_failure, in);
    CHECK(n > 20);
    json_decref(in);
}

TEST(templates_scrub_cleanly_for_every_kind)
{
    for (const char *const *k = pk_privacy_kinds(); *k; k++) {
        json_t *t = pk_privacy_template(*k), *out = NULL, *obs = NULL;
        REQUIRE(t != NULL);
        pk_scrub_stats st;
        CHECK_INT(pk_privacy_scrub(t, NULL, 0, &out, &st, NULL), PK_OK);
        CHECK_INT(st.dropped_objects, 0);
        CHECK_INT(st.dropped_properties, 0);
        CHECK_INT(st.kept, json_array_size(json_object_get(t, "objects")));
        CHECK_INT(pk_privacy_observables(out, &obs, NULL), PK_OK);
        CHECK(json_array_size(obs) >= 1);
        json_decref(obs);
        json_decref(out);
        json_decref(t);
    }
    CHECK(pk_privacy_template("espionage-by-pigeon") == NULL);
}

/* ---- tokens, intake and release, in process ---- */

static void temp_db(char *path, size_t n)
{
    snprintf(path, n, "%s/picket-privacy-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
}

static void remove_db(const char *path)
{
    char p[600];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* Fetch n tokens for org at time now; returns the token array or NULL. */
static json_t *fetch_tokens(pk_intake *in, const char *org, int64_t now, size_t n, pk_status *st,
                            pk_error *err)
{
    json_t *req = NULL, *pend = NULL, *resp = NULL, *keys = NULL, *toks = NULL;
    *st = pk_privacy_token_request(n, &req, &pend, err);
    if (*st == PK_OK) *st = pk_intake_issue(in, org, now, req, &resp, err);
    if (*st == PK_OK) *st = pk_intake_keys(in, now, &keys, err);
    if (*st == PK_OK) *st = pk_privacy_token_finish(pend, resp, keys, &toks, err);
    json_decref(req);
    json_decref(pend);
    json_decref(resp);
    json_decref(keys);
    return toks;
}

static json_t *submission(const json_t *token, const char *recruiter)
{
    json_t *t = pk_privacy_template("recruitment-approach");
    json_t *objs = json_object_get(t, "objects"), *o;
    static int serial;
    char other[64];
    size_t i;
    serial++;
    json_array_foreach(objs, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        if (strcmp(type, "user-account") == 0)
            json_object_set_new(o, "user_id", json_string(recruiter));
        else if (strcmp(type, "email-addr") == 0 || strcmp(type, "url") == 0) {
            /* Only the recruiter's profile is shared between reports. */
            snprintf(other, sizeof other, "https://x%d.example/%s", serial, type);
            json_object_set_new(o, "value", json_string(other));
        }
    }
    return json_pack("{s:O, s:o}", "token", token, "report", t);
}

TEST(intake_issue_redeem_and_refusals)
{
    char db[512];
    temp_db(db, sizeof db);
    pk_intake_config cfg;
    pk_intake_config_default(&cfg);
    cfg.quota = 5;
    cfg.epoch_seconds = 1000;
    pk_intake *in = NULL;
    pk_error err;
    pk_error_clear(&err);
    REQUIRE(pk_intake_open(db, &cfg, &in, &err) == PK_OK);
    const int64_t now = 1000000; /* epoch 1000 */
    pk_status st;
    json_t *toks = fetch_tokens(in, "Acme", now, 4, &st, &err);
    CHECK_INT(st, PK_OK);
    REQUIRE(toks && json_array_size(toks) == 4);

    /* Over quota: 4 of 5 used, 2 more refused, nothing issued. */
    json_t *more = fetch_tokens(in, "Acme", now, 2, &st, &err);
    CHECK_INT(st, PK_EPERM);
    CHECK(more == NULL);
    CHECK(strstr(err.message, "over quota: organisation 'Acme' may get 5 tokens per epoch and has "
                              "1 left in epoch 1000") != NULL);
    /* Another organisation has its own quota. */
    more = fetch_tokens(in, "Globex", now, 5, &st, &err);
    CHECK_INT(st, PK_OK);
    json_decref(more);

    /* Redeem one; the second time it is spent. */
    json_t *resp = NULL, *req = submission(json_array_get(toks, 0), "jane-recruiter");
    CHECK_INT(pk_intake_submit(in, now + 10, req, &resp, &err), PK_OK);
    CHECK(json_is_true(json_object_get(resp, "accepted")));
    json_decref(resp);
    resp = NULL;
    CHECK_INT(pk_intake_submit(in, now + 20, req, &resp, &err), PK_EEXIST);
    CHECK_STR(err.message, "token refused: it has been spent already");
    json_decref(req);

    /* Forged: a right-looking output that the server never made. */
    json_t *forged = json_deep_copy(json_array_get(toks, 1));
    char *out = pk_strdup(json_string_value(json_object_get(forged, "output")));
    out[0] = out[0] == '0' ? '1' : '0';
    json_object_set_new(forged, "output", json_string(out));
    pk_free(out);
    req = submission(forged, "x");
    json_decref(forged);
    CHECK_INT(pk_intake_submit(in, now, req, &resp, &err), PK_ECRYPTO);
    CHECK_STR(err.message, "token refused: it is not genuine (not issued by this server for epoch "
                           "1000)");
    json_decref(req);

    /* Expired: epoch 1000 with one grace epoch is fine in 1001, not in 1002. */
    req = submission(json_array_get(toks, 2), "y");
    CHECK_INT(pk_intake_submit(in, 1002 * 1000, req, &resp, &err), PK_ETIMEOUT);
    CHECK_STR(err.message, "token refused: its epoch 1000 expired at 1970-01-12T14:20:00Z (current "
                           "epoch 1002); fetch new tokens");
    CHECK_INT(pk_intake_submit(in, 1001 * 1000 + 5, req, &resp, &err), PK_OK);
    json_decref(resp);
    json_decref(req);

    /* A report that is not a bundle does not spend the token. */
    req =
        json_pack("{s:O, s:{s:s}}", "token", json_array_get(toks, 3), "report", "type", "incident");
    CHECK_INT(pk_intake_submit(in, now, req, &resp, &err), PK_EVALIDATE);
    json_object_set_new(req, "report", pk_privacy_template("insider"));
    CHECK_INT(pk_intake_submit(in, now, req, &resp, &err), PK_OK);
    json_decref(resp);
    json_decref(req);

    /* A server that singles a member out with a key of its own is caught. */
    json_t *rq = NULL, *pend = NULL, *keys = NULL, *tk = NULL;
    CHECK_INT(pk_privacy_token_request(2, &rq, &pend, NULL), PK_OK);
    CHECK_INT(pk_intake_issue(in, "Globex2", now, rq, &resp, NULL), PK_OK);
    CHECK_INT(pk_intake_keys(in, now + 1000 * 5, &keys, NULL), PK_OK); /* other epochs */
    CHECK_INT(pk_privacy_token_finish(pend, resp, keys, &tk, &err), PK_ECRYPTO);
    CHECK(strstr(err.message, "which its published key list does not have") != NULL);
    json_decref(keys);
    CHECK_INT(pk_intake_keys(in, now, &keys, NULL), PK_OK);
    json_object_set_new(resp, "public_key",
                        json_string(json_string_value(json_object_get(
                            json_array_get(json_object_get(keys, "epochs"), 0), "public_key"))));
    CHECK_INT(pk_privacy_token_finish(pend, resp, keys, &tk, &err), PK_ECRYPTO);
    CHECK(strstr(err.message, "not the one it publishes") != NULL);
    json_decref(keys);
    json_decref(resp);
    json_decref(rq);
    json_decref(pend);

    json_t *inbox = NULL;
    CHECK_INT(pk_intake_inbox(in, &inbox, NULL), PK_OK);
    CHECK_INT(json_array_size(inbox), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(inbox, 0), "day")), "1970-01-12");
    json_decref(inbox);
    json_decref(toks);
    pk_intake_close(in);
    remove_db(db);
}

TEST(release_only_at_k_as_one_aggregated_sighting)
{
    char db[512];
    temp_db(db, sizeof db);
    pk_intake *in = NULL;
    pk_error err;
    pk_error_clear(&err);
    REQUIRE(pk_intake_open(db, NULL, &in, &err) == PK_OK); /* k = 3 */
    const int64_t now = 1764374400 + 3600 * 13 + 17;       /* 2025-11-29T13:00:17Z */
    pk_status st;
    json_t *toks = fetch_tokens(in, "Acme", now, 4, &st, &err);
    REQUIRE(st == PK_OK);
    json_t *rel = NULL, *resp = NULL;
    for (int i = 0; i < 4; i++) {
        /* Reports 0-2 share the recruiter (written differently); 3 does not. */
        static const char *const who[] = {"Jane-Recruiter", "jane-recruiter", "JANE-RECRUITER",
                                          "someone-else"};
        json_t *req = submission(json_array_get(toks, (size_t)i), who[i]);
        CHECK_INT(pk_intake_submit(in, now, req, &resp, &err), PK_OK);
        json_decref(req);
        json_decref(resp);
        CHECK_INT(pk_intake_release(in, now, &rel, &err), PK_OK);
        json_t *objs = json_object_get(rel, "objects");
        if (i < 2) {
            CHECK_INT(json_array_size(objs), 0);
        } else if (i == 2) {
            /* The SCO, its observed-data, the indicator and one sighting. */
            CHECK_INT(json_array_size(objs), 4);
            json_t *sig = json_array_get(objs, 3);
            CHECK_STR(json_string_value(json_object_get(sig, "type")), "sighting");
            CHECK_INT(json_integer_value(json_object_get(sig, "count")), 3);
            CHECK(json_object_get(sig, "where_sighted_refs") == NULL);
            CHECK_STR(json_string_value(json_object_get(sig, "created")),
                      "2025-11-29T00:00:00.000Z");
            CHECK_STR(json_string_value(json_object_get(json_array_get(objs, 2), "pattern")),
                      "[user-account:account_type = 'linkedin' AND user-account:user_id = "
                      "'jane-recruiter']");
            CHECK_INT(pk_intake_release_done(in, rel, &err), PK_OK);
        } else {
            /* Nothing new crossed k: the fourth report shares nothing. */
            CHECK_INT(json_array_size(objs), 0);
        }
        json_decref(rel);
        rel = NULL;
    }
    json_decref(toks);
    pk_intake_close(in);
    remove_db(db);
}

TEST(wallet_roundtrip_mode_and_errors)
{
    char path[512];
    temp_db(path, sizeof path);
    unlink(path);
    json_t *w = NULL;
    pk_error err;
    pk_error_clear(&err);
    /* A missing wallet is an empty one. */
    CHECK_INT(pk_privacy_wallet_load(path, &w, &err), PK_OK);
    REQUIRE(w != NULL);
    CHECK_INT(json_array_size(json_object_get(w, "tokens")), 0);
    char in[65], out[129];
    memset(in, 'a', 64);
    in[64] = '\0';
    memset(out, 'b', 128);
    out[128] = '\0';
    json_array_append_new(json_object_get(w, "tokens"),
                          json_pack("{s:s, s:i, s:s, s:s}", "server", "http://x", "epoch", 7,
                                    "input", in, "output", out));
    CHECK_INT(pk_privacy_wallet_save(w, path, &err), PK_OK);
    struct stat stt;
    CHECK(stat(path, &stt) == 0 && (stt.st_mode & 0777) == 0600);
    json_t *back = NULL;
    CHECK_INT(pk_privacy_wallet_load(path, &back, &err), PK_OK);
    CHECK(json_equal(w, back));
    json_decref(back);
    json_decref(w);
    unlink(path);
    const char *bad = "{\"picket_wallet\":1,\"tokens\":[{\"server\":\"s\",\"epoch\":1,"
                      "\"input\":\"zz\",\"output\":\"00\"}]}";
    CHECK_INT(pk_privacy_wallet_parse(bad, strlen(bad), &w, &err), PK_EPARSE);
    CHECK_STR(err.property, "tokens[0]");
    CHECK_STR(err.message, "\"input\" is not 64 lower-case hexadecimal digits");
}
