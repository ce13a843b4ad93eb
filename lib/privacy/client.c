/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The member's side of anonymous intake: blinding a batch of fresh token
 * inputs, checking the server's answer (the key is the published one for
 * that epoch, the batch proof holds) and unblinding, and the wallet file the
 * tokens wait in until they are spent.
 */
#include "privacy/privacy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

pk_status pk_privacy_token_request(size_t n, json_t **request, json_t **pending, pk_error *err)
{
    *request = *pending = NULL;
    if (n == 0 || n > PK_PRIVACY_MAX_BATCH)
        return pk_error_set(err, PK_EINVAL, "ask for 1 to %d tokens at a time",
                            PK_PRIVACY_MAX_BATCH);
    if (sodium_init() < 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    json_t *blinded = json_array(), *inputs = json_array(), *blinds = json_array();
    json_t *req = json_pack("{s:O}", "blinded", blinded);
    json_t *pend =
        json_pack("{s:o, s:o, s:o}", "inputs", inputs, "blinds", blinds, "blinded", blinded);
    pk_status rc = PK_ENOMEM;
    if (!req || !pend) {
        json_decref(req);
        json_decref(pend);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t x[PK_PRIVACY_TOKEN_INPUT], r[32], c[32];
        char hx[2 * PK_PRIVACY_TOKEN_INPUT + 1], hr[65], hc[65];
        randombytes_buf(x, sizeof x);
        if ((rc = pk_voprf_blind(PK_VOPRF_MODE_VOPRF, x, sizeof x, NULL, r, c, err)) != PK_OK)
            goto fail;
        pk_privacy_hex_encode(x, sizeof x, hx);
        pk_privacy_hex_encode(r, 32, hr);
        pk_privacy_hex_encode(c, 32, hc);
        sodium_memzero(x, sizeof x);
        sodium_memzero(r, sizeof r);
        if (json_array_append_new(inputs, json_string(hx)) ||
            json_array_append_new(blinds, json_string(hr)) ||
            json_array_append_new(blinded, json_string(hc))) {
            rc = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto fail;
        }
    }
    *request = req;
    *pending = pend;
    return PK_OK;
fail:
    json_decref(req);
    json_decref(pend);
    return rc;
}

/* The published public key of `epoch` in a keys document, or NULL. */
static const char *published_key(const json_t *keys, json_int_t epoch)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(keys, "epochs"), i, e)
    {
        if (json_integer_value(json_object_get(e, "epoch")) == epoch)
            return json_string_value(json_object_get(e, "public_key"));
    }
    return NULL;
}

pk_status pk_privacy_token_finish(const json_t *pending, const json_t *response, const json_t *keys,
                                  json_t **tokens, pk_error *err)
{
    *tokens = NULL;
    const json_t *inputs = json_object_get(pending, "inputs");
    const json_t *blinds = json_object_get(pending, "blinds");
    const json_t *blinded = json_object_get(pending, "blinded");
    const json_t *ev = json_object_get(response, "evaluated");
    const json_t *je = json_object_get(response, "epoch");
    const char *pkh = json_string_value(json_object_get(response, "public_key"));
    const char *prh = json_string_value(json_object_get(response, "proof"));
    size_t m = json_array_size(blinded);
    if (!json_is_integer(je) || !pkh || !prh || !json_is_array(ev) || json_array_size(ev) != m ||
        m == 0 || m > PK_PRIVACY_MAX_BATCH || json_array_size(inputs) != m ||
        json_array_size(blinds) != m)
        return pk_error_set(err, PK_EPARSE,
                            "the server's answer is not a token batch for this request "
                            "(epoch, public_key, proof and %zu evaluated elements expected)",
                            m);
    json_int_t epoch = json_integer_value(je);
    const char *pub = published_key(keys, epoch);
    if (!pub)
        return pk_error_set(err, PK_ECRYPTO,
                            "the server issued tokens for epoch %lld, which its published key "
                            "list does not have",
                            (long long)epoch);
    if (strcmp(pub, pkh) != 0)
        return pk_error_set(err, PK_ECRYPTO,
                            "the server used a key for epoch %lld that is not the one it publishes "
                            "(%s instead of %s): tokens from it could single you out",
                            (long long)epoch, pkh, pub);
    uint8_t pk[32], proof[64];
    if (pk_privacy_hex_decode(pkh, strlen(pkh), pk, 32) != PK_OK ||
        pk_privacy_hex_decode(prh, strlen(prh), proof, 64) != PK_OK)
        return pk_error_set(err, PK_EPARSE, "public_key or proof is not hexadecimal");
    uint8_t *C = pk_malloc(m * 32), *D = pk_malloc(m * 32);
    json_t *out = json_array();
    pk_status rc = PK_ENOMEM;
    if (!C || !D || !out) {
        rc = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++) {
        const char *c = json_string_value(json_array_get(blinded, i));
        const char *d = json_string_value(json_array_get(ev, i));
        if (!c || !d || pk_privacy_hex_decode(c, strlen(c), C + 32 * i, 32) != PK_OK ||
            pk_privacy_hex_decode(d, strlen(d), D + 32 * i, 32) != PK_OK) {
            rc = pk_error_set(err, PK_EPARSE, "evaluated element %zu is not 64 hex digits", i);
            goto done;
        }
    }
    if ((rc = pk_voprf_verify_proof(PK_VOPRF_MODE_VOPRF, pk, C, D, m, proof, err)) != PK_OK)
        goto done;
    for (size_t i = 0; i < m; i++) {
        const char *xh = json_string_value(json_array_get(inputs, i));
        const char *rh = json_string_value(json_array_get(blinds, i));
        uint8_t x[PK_PRIVACY_TOKEN_INPUT], r[32], y[PK_VOPRF_NH];
        char yh[2 * PK_VOPRF_NH + 1];
        if (!xh || !rh || pk_privacy_hex_decode(xh, strlen(xh), x, sizeof x) != PK_OK ||
            pk_privacy_hex_decode(rh, strlen(rh), r, 32) != PK_OK) {
            rc = pk_error_set(err, PK_EPARSE, "pending token %zu is damaged", i);
            goto done;
        }
        rc = pk_voprf_finalize(x, sizeof x, r, D + 32 * i, y, err);
        sodium_memzero(r, sizeof r);
        if (rc != PK_OK) goto done;
        pk_privacy_hex_encode(y, sizeof y, yh);
        if (json_array_append_new(out, json_pack("{s:I, s:s, s:s}", "epoch", epoch, "input", xh,
                                                 "output", yh)) != 0) {
            rc = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto done;
        }
    }
    *tokens = out;
    out = NULL;
    rc = PK_OK;
done:
    pk_free(C);
    pk_free(D);
    json_decref(out);
    return rc;
}

/* ---- the wallet ---- */

static pk_status wallet_bad(pk_error *err, const char *where, const char *why)
{
    pk_error_object(err, NULL, where);
    return pk_error_set(err, PK_EPARSE, "%s", why);
}

static int is_hex_of(const char *s, size_t bytes)
{
    if (!s || strlen(s) != 2 * bytes) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

pk_status pk_privacy_wallet_check(const json_t *w, pk_error *err)
{
    if (!json_is_object(w)) return wallet_bad(err, "", "a wallet is a JSON object");
    if (json_integer_value(json_object_get(w, "picket_wallet")) != 1)
        return wallet_bad(err, "picket_wallet", "not a picket wallet (version 1)");
    const json_t *toks = json_object_get(w, "tokens");
    if (!json_is_array(toks)) return wallet_bad(err, "tokens", "\"tokens\" must be an array");
    if (json_array_size(toks) > PK_PRIVACY_WALLET_MAX)
        return wallet_bad(err, "tokens", "more tokens than a wallet may hold");
    size_t i;
    json_t *t;
    char where[64];
    json_array_foreach(toks, i, t)
    {
        snprintf(where, sizeof where, "tokens[%zu]", i);
        if (!json_is_object(t) || !json_is_string(json_object_get(t, "server")) ||
            !json_is_integer(json_object_get(t, "epoch")))
            return wallet_bad(err, where, "a token needs \"server\" and \"epoch\"");
        if (!is_hex_of(json_string_value(json_object_get(t, "input")), PK_PRIVACY_TOKEN_INPUT))
            return wallet_bad(err, where, "\"input\" is not 64 lower-case hexadecimal digits");
        if (!is_hex_of(json_string_value(json_object_get(t, "output")), PK_VOPRF_NH))
            return wallet_bad(err, where, "\"output\" is not 128 lower-case hexadecimal digits");
    }
    const json_t *red = json_object_get(w, "redact");
    if (red) {
        if (!json_is_array(red)) return wallet_bad(err, "redact", "\"redact\" must be an array");
        json_array_foreach(red, i, t) if (!json_is_string(t))
        {
            snprintf(where, sizeof where, "redact[%zu]", i);
            return wallet_bad(err, where, "a name to redact must be a string");
        }
    }
    return PK_OK;
}

pk_status pk_privacy_wallet_parse(const char *text, size_t len, json_t **out, pk_error *err)
{
    *out = NULL;
    json_error_t je;
    json_t *w = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!w) {
        pk_error_at(err, NULL, je.line, je.column);
        return pk_error_set(err, PK_EPARSE, "%s", je.text);
    }
    pk_status rc = pk_privacy_wallet_check(w, err);
    if (rc != PK_OK) {
        json_decref(w);
        return rc;
    }
    *out = w;
    return PK_OK;
}

json_t *pk_privacy_wallet_new(void)
{
    return json_pack("{s:i, s:[], s:[]}", "picket_wallet", 1, "tokens", "redact");
}

pk_status pk_privacy_wallet_load(const char *path, json_t **out, pk_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            *out = pk_privacy_wallet_new();
            return *out ? PK_OK : pk_error_set(err, PK_ENOMEM, "out of memory");
        }
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "%s", strerror(errno));
    }
    pk_buf b;
    pk_buf_init(&b, 64u << 20);
    char chunk[8192];
    size_t n;
    pk_status rc = PK_OK;
    while (rc == PK_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = pk_buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (rc != PK_OK || bad) {
        pk_buf_free(&b);
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, rc != PK_OK ? rc : PK_EIO, "cannot read the wallet");
    }
    rc = pk_privacy_wallet_parse(b.data ? b.data : "", b.len, out, err);
    pk_buf_free(&b);
    if (rc != PK_OK) pk_error_at(err, path, 0, 0);
    return rc;
}

pk_status pk_privacy_wallet_save(const json_t *w, const char *path, pk_error *err)
{
    pk_status rc = pk_privacy_wallet_check(w, err);
    if (rc != PK_OK) return rc;
    char *text = json_dumps(w, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text) return pk_error_set(err, PK_ENOMEM, "out of memory");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    /* Created 0600 from the start: never readable by others, not even
     * briefly; replaced atomically so a crash leaves the old wallet. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        pk_free(text);
        pk_error_at(err, tmp, 0, 0);
        return pk_error_set(err, PK_EIO, "%s", strerror(errno));
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w2 = write(fd, text + off, len - off);
        if (w2 < 0) {
            if (errno == EINTR) continue;
            break;
        }
        off += (size_t)w2;
    }
    int ok = off == len && write(fd, "\n", 1) == 1 && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    sodium_memzero(text, len);
    pk_free(text);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot write the wallet: %s", strerror(errno));
    }
    return PK_OK;
}

char *pk_privacy_wallet_default_path(void)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    pk_buf b;
    pk_buf_init(&b, 8192);
    pk_status rc;
    if (xdg && *xdg == '/')
        rc = pk_buf_addf(&b, "%s/picket/wallet.json", xdg);
    else if (home && *home)
        rc = pk_buf_addf(&b, "%s/.local/share/picket/wallet.json", home);
    else
        rc = PK_ENOTFOUND;
    if (rc != PK_OK) {
        pk_buf_free(&b);
        return NULL;
    }
    return pk_buf_detach(&b, NULL);
}
