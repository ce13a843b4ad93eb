/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server side of anonymous intake: epoch keys derived from one stored
 * seed, token issuance under a per-organisation quota, redemption (genuine,
 * unspent, only the spent token's hash kept), the inbox of scrubbed reports,
 * and the k-threshold release of observables as aggregated sightings.
 *
 * What this file writes for a submission is, by construction, only: the
 * scrubbed report with its day, a hash of the spent token with its epoch
 * number, and observable postings.  Tables are WITHOUT ROWID and keyed by
 * random ids or hashes so that not even insertion order survives, and
 * secure_delete is on so that freed pages hold nothing old.
 */
#include "privacy/privacy_int.h"
#include "store/store_impl.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

struct pk_intake {
    pk_store *store; /* the tables are the store's "privacy" module */
    sqlite3 *db;
    pk_intake_config cfg;
    uint8_t seed[32];
};

void pk_intake_config_default(pk_intake_config *c)
{
    memset(c, 0, sizeof *c);
    c->release_k = 3;
    c->quota = 20;
    c->epoch_seconds = 7 * 86400;
    c->grace_epochs = 1;
}

static pk_status db_error(pk_intake *in, pk_error *err, const char *what)
{
    return pk_error_set(err, PK_ESTORE, "%s: %s", what, sqlite3_errmsg(in->db));
}

static pk_status exec(pk_intake *in, const char *sql, pk_error *err)
{
    if (sqlite3_exec(in->db, sql, NULL, NULL, NULL) != SQLITE_OK) return db_error(in, err, sql);
    return PK_OK;
}

static pk_status load_seed(pk_intake *in, pk_error *err)
{
    sqlite3_stmt *st = NULL;
    pk_status rc = PK_ESTORE;
    if (exec(in, "BEGIN IMMEDIATE", err) != PK_OK) return PK_ESTORE;
    if (sqlite3_prepare_v2(in->db, "SELECT value FROM privacy_meta WHERE key = 'seed'", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(in->seed, sqlite3_column_blob(st, 0), 32);
    } else if (r == SQLITE_DONE) {
        sqlite3_finalize(st);
        st = NULL;
        randombytes_buf(in->seed, sizeof in->seed);
        if (sqlite3_prepare_v2(in->db, "INSERT INTO privacy_meta(key, value) VALUES('seed', ?)", -1,
                               &st, NULL) != SQLITE_OK)
            goto fail;
        sqlite3_bind_blob(st, 1, in->seed, 32, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) goto fail;
    } else {
        goto fail;
    }
    sqlite3_finalize(st);
    return exec(in, "COMMIT", err);
fail:
    rc = db_error(in, err, "reading the intake key seed");
    sqlite3_finalize(st);
    sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

pk_status pk_intake_open(const char *path, const pk_intake_config *cfg, pk_intake **out,
                         pk_error *err)
{
    *out = NULL;
    if (sodium_init() < 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    pk_intake *in = pk_calloc(1, sizeof *in);
    if (!in) return pk_error_set(err, PK_ENOMEM, "out of memory");
    if (cfg)
        in->cfg = *cfg;
    else
        pk_intake_config_default(&in->cfg);
    if (in->cfg.release_k < 1) in->cfg.release_k = 1;
    if (in->cfg.epoch_seconds < 1) in->cfg.epoch_seconds = 1;
    pk_status rc;
    if ((rc = pk_store_open(path, 0, &in->store, err)) != PK_OK) goto fail;
    if (!(in->db = pki_store_db(in->store))) {
        rc = pk_error_set(err, PK_EUNSUPPORTED, "the anonymous intake needs the SQLite store");
        goto fail;
    }
    if ((rc = exec(in, "PRAGMA secure_delete=ON", err)) != PK_OK ||
        (rc = load_seed(in, err)) != PK_OK)
        goto fail;
    *out = in;
    return PK_OK;
fail:
    pk_intake_close(in);
    return rc;
}

void pk_intake_close(pk_intake *in)
{
    if (!in) return;
    pk_store_close(in->store);
    sodium_memzero(in->seed, sizeof in->seed);
    pk_free(in);
}

int64_t pk_intake_epoch(const pk_intake *in, int64_t now)
{
    return now >= 0 ? now / in->cfg.epoch_seconds
                    : -((-now + in->cfg.epoch_seconds - 1) / in->cfg.epoch_seconds);
}

/* The key pair of an epoch: DeriveKeyPair(seed, "picket intake epoch N"). */
static pk_status epoch_key(const pk_intake *in, int64_t epoch, uint8_t sk[32], uint8_t pk[32],
                           pk_error *err)
{
    char info[64];
    int n = snprintf(info, sizeof info, "picket intake epoch %lld", (long long)epoch);
    return pk_voprf_derive_keypair(PK_VOPRF_MODE_VOPRF, in->seed, sizeof in->seed,
                                   (const uint8_t *)info, (size_t)n, sk, pk, err);
}

static void day_of(int64_t t, char out[PK_TIME_STRLEN])
{
    pk_time pt = {t - (((t % 86400) + 86400) % 86400), 0, 0};
    pk_time_format(&pt, 3, out);
}

pk_status pk_intake_keys(pk_intake *in, int64_t now, json_t **out, pk_error *err)
{
    *out = NULL;
    int64_t cur = pk_intake_epoch(in, now);
    json_t *arr = json_array();
    json_t *res = json_pack("{s:s, s:I, s:I, s:i, s:o}", "suite", PK_PRIVACY_SUITE, "current",
                            (json_int_t)cur, "epoch_seconds", (json_int_t)in->cfg.epoch_seconds,
                            "quota", (int)in->cfg.quota, "epochs", arr);
    if (!res) return pk_error_set(err, PK_ENOMEM, "out of memory");
    for (int64_t e = cur - (int64_t)in->cfg.grace_epochs; e <= cur + 1; e++) {
        uint8_t sk[32], pk[32];
        char hex[65];
        pk_status rc = epoch_key(in, e, sk, pk, err);
        sodium_memzero(sk, sizeof sk);
        if (rc != PK_OK) {
            json_decref(res);
            return rc;
        }
        pk_privacy_hex_encode(pk, 32, hex);
        /* A token of epoch e is accepted until the end of epoch e + grace. */
        int64_t start = e * in->cfg.epoch_seconds;
        int64_t end = (e + 1 + (int64_t)in->cfg.grace_epochs) * in->cfg.epoch_seconds;
        pk_time ts = {start, 0, 0}, te = {end, 0, 0};
        char s1[PK_TIME_STRLEN], s2[PK_TIME_STRLEN];
        pk_time_format(&ts, 0, s1);
        pk_time_format(&te, 0, s2);
        if (json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}", "epoch", (json_int_t)e,
                                                 "public_key", hex, "issued_from", s1,
                                                 "redeemable_until", s2)) != 0) {
            json_decref(res);
            return pk_error_set(err, PK_ENOMEM, "out of memory");
        }
    }
    *out = res;
    return PK_OK;
}

/* Decode a JSON array of hex elements into a new buffer of m * 32 bytes. */
static pk_status decode_elements(const json_t *arr, uint8_t **out, size_t *m, pk_error *err)
{
    *out = NULL;
    *m = json_array_size(arr);
    if (!json_is_array(arr) || *m == 0)
        return pk_error_set(err, PK_EVALIDATE,
                            "\"blinded\" must be a non-empty array of hex "
                            "strings");
    if (*m > PK_PRIVACY_MAX_BATCH)
        return pk_error_set(err, PK_ELIMIT, "at most %d tokens per request", PK_PRIVACY_MAX_BATCH);
    uint8_t *buf = pk_malloc(*m * 32);
    if (!buf) return pk_error_set(err, PK_ENOMEM, "out of memory");
    for (size_t i = 0; i < *m; i++) {
        const char *h = json_string_value(json_array_get(arr, i));
        if (!h || pk_privacy_hex_decode(h, strlen(h), buf + 32 * i, 32) != PK_OK) {
            pk_free(buf);
            return pk_error_set(err, PK_EPARSE, "blinded element %zu is not 64 hexadecimal digits",
                                i);
        }
    }
    *out = buf;
    return PK_OK;
}

pk_status pk_intake_issue(pk_intake *in, const char *org, int64_t now, const json_t *req,
                          json_t **resp, pk_error *err)
{
    *resp = NULL;
    if (!org || !*org)
        return pk_error_set(err, PK_EAUTH, "token issuance needs an authenticated account");
    int64_t epoch = pk_intake_epoch(in, now);
    const json_t *je = json_object_get(req, "epoch");
    if (je && (!json_is_integer(je) || json_integer_value(je) != epoch))
        return pk_error_set(err, PK_EINVAL, "tokens are issued for the current epoch (%lld) only",
                            (long long)epoch);
    uint8_t *C = NULL, *D = NULL;
    size_t m;
    pk_status rc = decode_elements(json_object_get(req, "blinded"), &C, &m, err);
    if (rc != PK_OK) return rc;
    uint8_t sk[32], pk[32], proof[64];
    sqlite3_stmt *st = NULL;
    json_t *res = NULL;
    int in_tx = 0;
    D = pk_malloc(m * 32);
    if (!D) {
        rc = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = epoch_key(in, epoch, sk, pk, err)) != PK_OK) goto out;
    for (size_t i = 0; i < m; i++)
        if ((rc = pk_voprf_blind_evaluate(sk, C + 32 * i, D + 32 * i, err)) != PK_OK) {
            pk_error_set(err, rc, "blinded element %zu: %s", i, err ? err->message : "");
            goto out;
        }
    if ((rc = pk_voprf_generate_proof(PK_VOPRF_MODE_VOPRF, sk, pk, C, D, m, NULL, proof, err)) !=
        PK_OK)
        goto out;

    /* The quota check and the count update are one transaction. */
    if ((rc = exec(in, "BEGIN IMMEDIATE", err)) != PK_OK) goto out;
    in_tx = 1;
    long long issued = 0;
    if (sqlite3_prepare_v2(in->db, "SELECT issued FROM privacy_quota WHERE org = ? AND epoch = ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, epoch);
    if (sqlite3_step(st) == SQLITE_ROW) issued = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (issued + (long long)m > (long long)in->cfg.quota) {
        char until[PK_TIME_STRLEN];
        pk_time t = {(epoch + 1) * in->cfg.epoch_seconds, 0, 0};
        pk_time_format(&t, 0, until);
        rc = pk_error_set(err, PK_EPERM,
                          "over quota: organisation '%s' may get %u tokens per epoch and has %lld "
                          "left in epoch %lld (asked for %zu); the next epoch starts %s",
                          org, in->cfg.quota,
                          (long long)in->cfg.quota > issued ? (long long)in->cfg.quota - issued : 0,
                          (long long)epoch, m, until);
        goto out;
    }
    if (sqlite3_prepare_v2(in->db,
                           "INSERT INTO privacy_quota(org, epoch, issued) VALUES(?, ?, ?) "
                           "ON CONFLICT(org, epoch) DO UPDATE SET issued = excluded.issued",
                           -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, epoch);
    sqlite3_bind_int64(st, 3, issued + (long long)m);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    st = NULL;
    /* Old quota rows and spent hashes of epochs nobody can redeem any more. */
    if (sqlite3_prepare_v2(in->db, "DELETE FROM privacy_spent WHERE epoch < ?", -1, &st, NULL) !=
        SQLITE_OK)
        goto dberr;
    sqlite3_bind_int64(st, 1, epoch - (int64_t)in->cfg.grace_epochs);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    st = NULL;

    char hex[129];
    json_t *ev = json_array();
    pk_privacy_hex_encode(pk, 32, hex);
    res = json_pack("{s:s, s:I, s:s, s:o, s:I, s:s}", "suite", PK_PRIVACY_SUITE, "epoch",
                    (json_int_t)epoch, "public_key", hex, "evaluated", ev, "remaining",
                    (json_int_t)((long long)in->cfg.quota - issued - (long long)m), "organisation",
                    org);
    if (!res) {
        rc = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        pk_privacy_hex_encode(D + 32 * i, 32, hex);
        if (json_array_append_new(ev, json_string(hex)) != 0) {
            rc = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto out;
        }
    }
    pk_privacy_hex_encode(proof, 64, hex);
    if (json_object_set_new(res, "proof", json_string(hex)) != 0) {
        rc = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = exec(in, "COMMIT", err)) != PK_OK) goto out;
    in_tx = 0;
    *resp = res;
    res = NULL;
    rc = PK_OK;
    goto out;
dberr:
    rc = db_error(in, err, "recording issuance");
out:
    if (st) sqlite3_finalize(st);
    if (in_tx) sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
    json_decref(res);
    sodium_memzero(sk, sizeof sk);
    pk_free(C);
    pk_free(D);
    return rc;
}

/* The hash a spent token leaves behind: BLAKE2b-256 of its input under a
 * fixed key, so that the table holds nothing a token can be rebuilt from. */
static void spent_hash(const uint8_t *x, size_t n, uint8_t out[32])
{
    static const uint8_t key[] = "picket spent token v1";
    crypto_generichash(out, 32, x, n, key, sizeof key - 1);
}

/* Post the report's observables and move releases that reach k. */
static pk_status post_observables(pk_intake *in, const char *report_id, const json_t *bundle,
                                  pk_error *err)
{
    json_t *obs = NULL;
    pk_status rc = pk_privacy_observables(bundle, &obs, err);
    if (rc != PK_OK) return rc;
    sqlite3_stmt *ins = NULL, *cnt = NULL, *rel = NULL;
    if (sqlite3_prepare_v2(in->db, "INSERT OR IGNORE INTO privacy_posting(obs, report) VALUES(?,?)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(in->db, "SELECT count(*) FROM privacy_posting WHERE obs = ?", -1, &cnt,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(in->db,
                           "INSERT INTO privacy_release(obs, count, published) VALUES(?, ?, 0) "
                           "ON CONFLICT(obs) DO UPDATE SET count = excluded.count",
                           -1, &rel, NULL) != SQLITE_OK)
        goto dberr;
    size_t i;
    json_t *o;
    json_array_foreach(obs, i, o)
    {
        const char *key = json_string_value(o);
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, report_id, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) goto dberr;
        sqlite3_reset(cnt);
        sqlite3_bind_text(cnt, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(cnt) != SQLITE_ROW) goto dberr;
        long long n = sqlite3_column_int64(cnt, 0);
        if (n >= (long long)in->cfg.release_k) {
            sqlite3_reset(rel);
            sqlite3_bind_text(rel, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(rel, 2, n);
            if (sqlite3_step(rel) != SQLITE_DONE) goto dberr;
        }
    }
    rc = PK_OK;
    goto out;
dberr:
    rc = db_error(in, err, "posting observables");
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(cnt);
    sqlite3_finalize(rel);
    json_decref(obs);
    return rc;
}

pk_status pk_intake_submit(pk_intake *in, int64_t now, const json_t *req, json_t **resp,
                           pk_error *err)
{
    return pk_intake_submit_redacting(in, now, req, NULL, 0, resp, err);
}

pk_status pk_intake_submit_redacting(pk_intake *in, int64_t now, const json_t *req,
                                     const char *const *names, size_t n_names, json_t **resp,
                                     pk_error *err)
{
    *resp = NULL;
    const json_t *tok = json_object_get(req, "token");
    const json_t *je = json_object_get(tok, "epoch");
    const char *xin = json_string_value(json_object_get(tok, "input"));
    const char *yout = json_string_value(json_object_get(tok, "output"));
    if (!json_is_object(tok) || !json_is_integer(je) || !xin || !yout) {
        pk_error_object(err, NULL, "token");
        return pk_error_set(err, PK_EVALIDATE,
                            "a submission needs \"token\": {\"epoch\", \"input\", \"output\"}");
    }
    uint8_t x[PK_PRIVACY_TOKEN_INPUT], y[PK_VOPRF_NH], want[PK_VOPRF_NH];
    if (pk_privacy_hex_decode(xin, strlen(xin), x, sizeof x) != PK_OK ||
        pk_privacy_hex_decode(yout, strlen(yout), y, sizeof y) != PK_OK) {
        pk_error_object(err, NULL, "token");
        return pk_error_set(err, PK_EPARSE, "token input must be %d and output %d hex bytes",
                            PK_PRIVACY_TOKEN_INPUT, PK_VOPRF_NH);
    }
    int64_t epoch = json_integer_value(je), cur = pk_intake_epoch(in, now);
    if (epoch > cur)
        return pk_error_set(err, PK_ECRYPTO,
                            "token refused: it is for epoch %lld, which has not "
                            "started (current epoch %lld)",
                            (long long)epoch, (long long)cur);
    if (cur - epoch > (int64_t)in->cfg.grace_epochs) {
        char until[PK_TIME_STRLEN];
        pk_time t = {(epoch + 1 + (int64_t)in->cfg.grace_epochs) * in->cfg.epoch_seconds, 0, 0};
        pk_time_format(&t, 0, until);
        return pk_error_set(err, PK_ETIMEOUT,
                            "token refused: its epoch %lld expired at %s (current epoch %lld); "
                            "fetch new tokens",
                            (long long)epoch, until, (long long)cur);
    }
    uint8_t sk[32], pk[32];
    pk_status rc = epoch_key(in, epoch, sk, pk, err);
    if (rc == PK_OK) rc = pk_voprf_evaluate(PK_VOPRF_MODE_VOPRF, sk, x, sizeof x, want, err);
    sodium_memzero(sk, sizeof sk);
    if (rc != PK_OK) return rc;
    if (sodium_memcmp(want, y, sizeof y) != 0)
        return pk_error_set(err, PK_ECRYPTO,
                            "token refused: it is not genuine (not issued by "
                            "this server for epoch %lld)",
                            (long long)epoch);

    /* Scrub before anything is written; a report we cannot use does not
     * spend the token. */
    const json_t *report = json_object_get(req, "report");
    json_t *clean = NULL;
    pk_scrub_stats stats;
    if ((rc = pk_privacy_scrub(report, names, n_names, &clean, &stats, err)) != PK_OK) return rc;
    if (stats.kept == 0) {
        json_decref(clean);
        return pk_error_set(err, PK_EVALIDATE, "nothing is left of the report after scrubbing");
    }
    char *text = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS);
    const char *rid = json_string_value(json_object_get(clean, "id"));
    sqlite3_stmt *st = NULL;
    int in_tx = 0;
    char day[PK_TIME_STRLEN];
    day_of(now, day);
    day[10] = '\0';
    if (!text) {
        rc = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto out;
    }
    uint8_t h[32];
    spent_hash(x, sizeof x, h);
    if ((rc = exec(in, "BEGIN IMMEDIATE", err)) != PK_OK) goto out;
    in_tx = 1;
    if (sqlite3_prepare_v2(in->db, "INSERT INTO privacy_spent(hash, epoch) VALUES(?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, epoch);
    int r = sqlite3_step(st);
    if ((r & 0xff) == SQLITE_CONSTRAINT) {
        rc = pk_error_set(err, PK_EEXIST, "token refused: it has been spent already");
        goto out;
    }
    if (r != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(in->db, "INSERT INTO privacy_inbox(id, day, bundle) VALUES(?, ?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    st = NULL;
    if ((rc = post_observables(in, rid, clean, err)) != PK_OK) goto out;
    if ((rc = exec(in, "COMMIT", err)) != PK_OK) goto out;
    in_tx = 0;
    *resp = json_pack("{s:b, s:s, s:I, s:I, s:I}", "accepted", 1, "day", day, "objects",
                      (json_int_t)stats.kept, "dropped_objects", (json_int_t)stats.dropped_objects,
                      "dropped_properties", (json_int_t)stats.dropped_properties);
    rc = *resp ? PK_OK : pk_error_set(err, PK_ENOMEM, "out of memory");
    goto out;
dberr:
    rc = db_error(in, err, "storing the report");
out:
    if (st) sqlite3_finalize(st);
    if (in_tx) sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
    sodium_memzero(x, sizeof x);
    pk_free(text);
    json_decref(clean);
    return rc;
}

pk_status pk_intake_inbox(pk_intake *in, json_t **out, pk_error *err)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    json_t *arr = json_array();
    if (!arr) return pk_error_set(err, PK_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(in->db, "SELECT day, bundle FROM privacy_inbox ORDER BY day, id", -1,
                           &st, NULL) != SQLITE_OK) {
        json_decref(arr);
        return db_error(in, err, "reading the inbox");
    }
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *b = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (!b || json_array_append_new(arr, json_pack("{s:s, s:o}", "day",
                                                       (const char *)sqlite3_column_text(st, 0),
                                                       "report", b)) != 0) {
            sqlite3_finalize(st);
            json_decref(arr);
            return pk_error_set(err, PK_ENOMEM, "out of memory reading the inbox");
        }
    }
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) {
        json_decref(arr);
        return db_error(in, err, "reading the inbox");
    }
    *out = arr;
    return PK_OK;
}

pk_status pk_intake_inbox_remove(pk_intake *in, const json_t *ids, pk_error *err)
{
    sqlite3_stmt *st = NULL;
    pk_status rc;
    if ((rc = exec(in, "BEGIN IMMEDIATE", err)) != PK_OK) return rc;
    if (sqlite3_prepare_v2(in->db, "DELETE FROM privacy_inbox WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        goto dberr;
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e)
    {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, json_string_value(e), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    }
    sqlite3_finalize(st);
    return exec(in, "COMMIT", err);
dberr:
    rc = db_error(in, err, "removing reports from the inbox");
    if (st) sqlite3_finalize(st);
    sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- release ---- */

/* "user-account:linkedin=jane" -> the SCO and the pattern that match it. */
static pk_status release_objects(const char *key, long long count, const char *first_day,
                                 const char *day, json_t *objs)
{
    const char *eq = strchr(key, '=');
    if (!eq) return PK_EINVAL;
    char path[96];
    size_t pl = (size_t)(eq - key);
    if (pl >= sizeof path) return PK_EINVAL;
    memcpy(path, key, pl);
    path[pl] = '\0';
    const char *value = eq + 1;
    char type[48];
    size_t tl = strcspn(path, ":");
    if (tl >= sizeof type) return PK_EINVAL;
    memcpy(type, path, tl);
    type[tl] = '\0';
    const char *prop = path + tl + 1;

    /* Pattern string with ' and \ escaped. */
    pk_buf esc, pat;
    pk_buf_init(&esc, 1 << 16);
    pk_buf_init(&pat, 1 << 17);
    pk_status rc = PK_OK;
    for (const char *p = value; *p && rc == PK_OK; p++) {
        if (*p == '\'' || *p == '\\') rc = pk_buf_addc(&esc, '\\');
        if (rc == PK_OK) rc = pk_buf_addc(&esc, *p);
    }
    json_t *scoj = json_pack("{s:s, s:s}", "type", type, "spec_version", "2.1");
    if (!scoj) rc = PK_ENOMEM;
    if (rc == PK_OK) {
        if (strcmp(type, "user-account") == 0) {
            rc = pk_buf_addf(&pat,
                             "[user-account:account_type = '%s' AND user-account:user_id = '%s']",
                             prop, esc.data ? esc.data : "");
            json_object_set_new(scoj, "account_type", json_string(prop));
            json_object_set_new(scoj, "user_id", json_string(value));
        } else if (strncmp(prop, "hashes.", 7) == 0) {
            rc = pk_buf_addf(&pat, "[file:hashes.'%s' = '%s']", prop + 7, esc.data ? esc.data : "");
            json_object_set_new(scoj, "hashes", json_pack("{s:s}", prop + 7, value));
        } else {
            rc = pk_buf_addf(&pat, "[%s:%s = '%s']", type, prop, esc.data ? esc.data : "");
            json_object_set_new(scoj, prop, json_string(value));
        }
    }
    /* Deterministic ids: the same observable is the same object everywhere,
     * and a higher count is a new version of the same sighting. */
    static const pk_uuid ns = {{0x7a, 0x3c, 0x51, 0x0e, 0x92, 0x44, 0x4f, 0x1b, 0x8d, 0x61, 0x2e,
                                0x55, 0xc0, 0x19, 0xaa, 0x04}};
    pk_uuid u;
    char us[PK_UUID_STRLEN], sco_id[128], ind_id[128], sig_id[128], ind_name[96];
    pk_uuid_v5(&u, &ns, key, strlen(key));
    pk_uuid_format(&u, us);
    snprintf(sco_id, sizeof sco_id, "%s--%s", type, us);
    snprintf(ind_id, sizeof ind_id, "indicator--%s", us);
    snprintf(sig_id, sizeof sig_id, "sighting--%s", us);
    snprintf(ind_name, sizeof ind_name, "Seen in %lld independent anonymous reports", count);
    /* modified: the day, plus the count in milliseconds so that a higher
     * count on the same day is still a later version. */
    char modified[PK_TIME_STRLEN];
    snprintf(modified, sizeof modified, "%.10sT00:00:%02lld.%03lldZ", day, count / 1000 % 60,
             count % 1000);
    char created[PK_TIME_STRLEN];
    snprintf(created, sizeof created, "%.10sT00:00:00.000Z", first_day);
    if (rc == PK_OK) {
        json_object_set_new(scoj, "id", json_string(sco_id));
        json_t *ind =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s}", "type", "indicator",
                      "spec_version", "2.1", "id", ind_id, "created", created, "modified", modified,
                      "name", ind_name, "indicator_types", "anomalous-activity", "pattern",
                      pat.data, "pattern_type", "stix", "valid_from", created);
        json_t *sig =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "type", "sighting",
                      "spec_version", "2.1", "id", sig_id, "created", created, "modified", modified,
                      "sighting_of_ref", ind_id, "count", (json_int_t)count, "summary", 1);
        /* observed_data_refs must point at observed-data: wrap the SCO. */
        char od_id[128];
        snprintf(od_id, sizeof od_id, "observed-data--%s", us);
        json_t *od =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:[s]}", "type", "observed-data",
                      "spec_version", "2.1", "id", od_id, "created", created, "modified", modified,
                      "first_observed", created, "last_observed", created, "number_observed",
                      (json_int_t)count, "object_refs", sco_id);
        if (sig) json_object_set_new(sig, "observed_data_refs", json_pack("[s]", od_id));
        if (!ind || !sig || !od || json_array_append(objs, scoj) ||
            json_array_append_new(objs, od) || json_array_append_new(objs, ind) ||
            json_array_append_new(objs, sig))
            rc = PK_ENOMEM;
    }
    json_decref(scoj);
    pk_buf_free(&esc);
    pk_buf_free(&pat);
    return rc;
}

pk_status pk_intake_release(pk_intake *in, int64_t now, json_t **out, pk_error *err)
{
    *out = NULL;
    json_t *objs = json_array(), *marks = json_array();
    json_t *res = json_pack("{s:o, s:o}", "objects", objs, "released", marks);
    sqlite3_stmt *st = NULL;
    pk_status rc;
    char day[PK_TIME_STRLEN];
    day_of(now, day);
    if (!res) return pk_error_set(err, PK_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(in->db,
                           "SELECT obs, count, coalesce(first_day, ?) FROM privacy_release "
                           "WHERE count != published ORDER BY obs",
                           -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, day, 10, SQLITE_STATIC);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *obs = (const char *)sqlite3_column_text(st, 0);
        long long count = sqlite3_column_int64(st, 1);
        rc = release_objects(obs, count, (const char *)sqlite3_column_text(st, 2), day, objs);
        if (rc == PK_OK &&
            json_array_append_new(marks, json_pack("{s:s, s:I, s:s}", "obs", obs, "count",
                                                   (json_int_t)count, "first_day",
                                                   (const char *)sqlite3_column_text(st, 2))))
            rc = PK_ENOMEM;
        if (rc != PK_OK) {
            pk_error_set(err, rc, "building the release of '%s'", obs);
            goto out;
        }
    }
    if (r != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    *out = res;
    return PK_OK;
dberr:
    rc = db_error(in, err, "reading releases");
out:
    if (st) sqlite3_finalize(st);
    json_decref(res);
    return rc;
}

pk_status pk_intake_release_done(pk_intake *in, const json_t *release, pk_error *err)
{
    sqlite3_stmt *st = NULL;
    pk_status rc;
    if ((rc = exec(in, "BEGIN IMMEDIATE", err)) != PK_OK) return rc;
    if (sqlite3_prepare_v2(in->db,
                           "UPDATE privacy_release SET published = ?, first_day = ? WHERE obs = ?",
                           -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(release, "released"), i, m)
    {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(m, "count")));
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(m, "first_day")), -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 3, json_string_value(json_object_get(m, "obs")), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    }
    sqlite3_finalize(st);
    return exec(in, "COMMIT", err);
dberr:
    rc = db_error(in, err, "marking releases published");
    if (st) sqlite3_finalize(st);
    sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
