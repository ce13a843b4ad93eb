/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The (V)OPRF of RFC 9497 for the ristretto255-SHA512 suite, on libsodium's
 * ristretto255 group: key derivation, blinding, evaluation, the batched DLEQ
 * proof and finalisation, with expand_message_xmd (RFC 9380) underneath.
 */
#include "privacy/privacy_int.h"

#include <sodium.h>
#include <string.h>

#define SUITE_ID "ristretto255-SHA512"
#define CTX_MAX 32

/* contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier. */
static size_t context_string(pk_voprf_mode mode, uint8_t out[CTX_MAX])
{
    if ((unsigned)mode & PKI_VOPRF_DRAFT09) {
        memcpy(out, "VOPRF09-", 8);
        out[8] = (uint8_t)mode;
        out[9] = 0x00;
        out[10] = 0x01;
        return 11;
    }
    static const char pre[] = "OPRFV1-";
    size_t n = sizeof pre - 1;
    memcpy(out, pre, n);
    out[n++] = (uint8_t)mode;
    out[n++] = '-';
    memcpy(out + n, SUITE_ID, sizeof SUITE_ID - 1);
    return n + sizeof SUITE_ID - 1;
}

/* A DST made of an ASCII prefix and the context string. */
static size_t make_dst(pk_voprf_mode mode, const char *prefix, uint8_t out[64])
{
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    return n + context_string(mode, out + n);
}

static void i2osp2(crypto_hash_sha512_state *h, size_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    crypto_hash_sha512_update(h, b, 2);
}

static int ensure_sodium(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

pk_status pk_voprf_expand_xmd(const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                              size_t dst_len, uint8_t *out, size_t out_len)
{
    enum { B = 64, S = 128 };
    uint8_t dst_hashed[B];
    if (ensure_sodium() != 0) return PK_EINTERNAL;
    /* RFC 9380 5.3.3: a DST longer than 255 bytes is replaced by its hash. */
    if (dst_len > 255) {
        crypto_hash_sha512_state h;
        static const char ov[] = "H2C-OVERSIZE-DST-";
        crypto_hash_sha512_init(&h);
        crypto_hash_sha512_update(&h, (const uint8_t *)ov, sizeof ov - 1);
        crypto_hash_sha512_update(&h, dst, dst_len);
        crypto_hash_sha512_final(&h, dst_hashed);
        dst = dst_hashed;
        dst_len = B;
    }
    size_t ell = (out_len + B - 1) / B;
    if (out_len == 0 || ell > 255 || out_len > 65535) return PK_EINVAL;
    uint8_t dst_len_b = (uint8_t)dst_len;
    uint8_t zpad[S] = {0};
    uint8_t b0[B], bi[B];
    crypto_hash_sha512_state h;
    crypto_hash_sha512_init(&h);
    crypto_hash_sha512_update(&h, zpad, S);
    crypto_hash_sha512_update(&h, msg, msg_len);
    i2osp2(&h, out_len);
    uint8_t zero = 0;
    crypto_hash_sha512_update(&h, &zero, 1);
    crypto_hash_sha512_update(&h, dst, dst_len);
    crypto_hash_sha512_update(&h, &dst_len_b, 1);
    crypto_hash_sha512_final(&h, b0);
    for (size_t i = 1; i <= ell; i++) {
        uint8_t in[B];
        for (size_t j = 0; j < B; j++)
            in[j] = i == 1 ? b0[j] : (uint8_t)(b0[j] ^ bi[j]);
        uint8_t ib = (uint8_t)i;
        crypto_hash_sha512_init(&h);
        crypto_hash_sha512_update(&h, in, B);
        crypto_hash_sha512_update(&h, &ib, 1);
        crypto_hash_sha512_update(&h, dst, dst_len);
        crypto_hash_sha512_update(&h, &dst_len_b, 1);
        crypto_hash_sha512_final(&h, bi);
        size_t take = out_len - (i - 1) * B < B ? out_len - (i - 1) * B : B;
        memcpy(out + (i - 1) * B, bi, take);
    }
    sodium_memzero(b0, sizeof b0);
    sodium_memzero(bi, sizeof bi);
    return PK_OK;
}

pk_status pk_voprf_hash_to_group(pk_voprf_mode mode, const uint8_t *msg, size_t len,
                                 uint8_t out[PK_VOPRF_NE])
{
    uint8_t dst[64], u[64];
    size_t dl = make_dst(mode, "HashToGroup-", dst);
    pk_status st = pk_voprf_expand_xmd(msg, len, dst, dl, u, sizeof u);
    if (st != PK_OK) return st;
    /* libsodium's from_hash is RFC 9496's element derivation from 64 bytes. */
    if (crypto_core_ristretto255_from_hash(out, u) != 0) return PK_ECRYPTO;
    return PK_OK;
}

pk_status pk_voprf_hash_to_scalar(pk_voprf_mode mode, const uint8_t *msg, size_t len,
                                  const uint8_t *dst, size_t dst_len, uint8_t out[PK_VOPRF_NS])
{
    uint8_t def[64], u[64];
    if (!dst) {
        dst_len = make_dst(mode, "HashToScalar-", def);
        dst = def;
    }
    pk_status st = pk_voprf_expand_xmd(msg, len, dst, dst_len, u, sizeof u);
    if (st != PK_OK) return st;
    crypto_core_ristretto255_scalar_reduce(out, u);
    return PK_OK;
}

/* DeserializeElement: a canonical encoding of a point other than the
 * identity (libsodium accepts the identity's all-zero encoding). */
static int element_ok(const uint8_t e[PK_VOPRF_NE])
{
    return !sodium_is_zero(e, PK_VOPRF_NE) && crypto_core_ristretto255_is_valid_point(e) == 1;
}

/* A scalar in [0, L) as a canonical encoding: reducing it changes nothing. */
static int scalar_canonical(const uint8_t s[PK_VOPRF_NS])
{
    uint8_t wide[64] = {0}, r[PK_VOPRF_NS];
    memcpy(wide, s, PK_VOPRF_NS);
    crypto_core_ristretto255_scalar_reduce(r, wide);
    return sodium_memcmp(r, s, PK_VOPRF_NS) == 0;
}

/* Non-zero random scalar. */
static void random_scalar(uint8_t out[PK_VOPRF_NS])
{
    do
        crypto_core_ristretto255_scalar_random(out);
    while (sodium_is_zero(out, PK_VOPRF_NS));
}

pk_status pk_voprf_derive_keypair(pk_voprf_mode mode, const uint8_t *seed, size_t seed_len,
                                  const uint8_t *info, size_t info_len, uint8_t sk[PK_VOPRF_NS],
                                  uint8_t pk[PK_VOPRF_NE], pk_error *err)
{
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (!seed || seed_len < 32)
        return pk_error_set(err, PK_EINVAL, "key seed must be at least 32 bytes");
    if (info_len > 65535) return pk_error_set(err, PK_EINVAL, "key info longer than 65535 bytes");
    /* deriveInput = seed || I2OSP(len(info), 2) || info, then a counter byte. */
    size_t n = seed_len + 2 + info_len + 1;
    uint8_t *in = pk_malloc(n);
    if (!in) return pk_error_set(err, PK_ENOMEM, "out of memory deriving a key");
    memcpy(in, seed, seed_len);
    in[seed_len] = (uint8_t)(info_len >> 8);
    in[seed_len + 1] = (uint8_t)info_len;
    if (info_len) memcpy(in + seed_len + 2, info, info_len);
    uint8_t dst[64];
    size_t dl = make_dst(mode, "DeriveKeyPair", dst);
    pk_status st = PK_ECRYPTO;
    for (unsigned counter = 0; counter <= 255; counter++) {
        in[n - 1] = (uint8_t)counter;
        if ((st = pk_voprf_hash_to_scalar(mode, in, n, dst, dl, sk)) != PK_OK) break;
        if (!sodium_is_zero(sk, PK_VOPRF_NS)) break;
        st = PK_ECRYPTO;
    }
    sodium_memzero(in, n);
    pk_free(in);
    if (st != PK_OK) return pk_error_set(err, st, "DeriveKeyPair produced no usable key");
    if (pk && crypto_scalarmult_ristretto255_base(pk, sk) != 0)
        return pk_error_set(err, PK_ECRYPTO, "public key is the identity");
    return PK_OK;
}

pk_status pk_voprf_blind(pk_voprf_mode mode, const uint8_t *input, size_t input_len,
                         const uint8_t *given_blind, uint8_t blind[PK_VOPRF_NS],
                         uint8_t blinded[PK_VOPRF_NE], pk_error *err)
{
    uint8_t p[PK_VOPRF_NE];
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (input_len > 65535) return pk_error_set(err, PK_EINVAL, "input longer than 65535 bytes");
    pk_status st = pk_voprf_hash_to_group(mode, input, input_len, p);
    if (st != PK_OK) return pk_error_set(err, st, "HashToGroup failed");
    if (sodium_is_zero(p, sizeof p))
        return pk_error_set(err, PK_EINVAL, "input maps to the identity element");
    if (given_blind) {
        if (!scalar_canonical(given_blind) || sodium_is_zero(given_blind, PK_VOPRF_NS))
            return pk_error_set(err, PK_EINVAL, "blind is not a non-zero canonical scalar");
        memmove(blind, given_blind, PK_VOPRF_NS);
    } else {
        random_scalar(blind);
    }
    if (crypto_scalarmult_ristretto255(blinded, blind, p) != 0)
        return pk_error_set(err, PK_ECRYPTO, "blinding produced the identity");
    return PK_OK;
}

pk_status pk_voprf_blind_evaluate(const uint8_t sk[PK_VOPRF_NS], const uint8_t blinded[PK_VOPRF_NE],
                                  uint8_t evaluated[PK_VOPRF_NE], pk_error *err)
{
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (!element_ok(blinded))
        return pk_error_set(err, PK_ECRYPTO, "blinded element is not a valid group element");
    if (crypto_scalarmult_ristretto255(evaluated, sk, blinded) != 0)
        return pk_error_set(err, PK_ECRYPTO, "evaluation produced the identity");
    return PK_OK;
}

/* Append I2OSP(len(x), 2) || x to a hash. */
static void put_lv(crypto_hash_sha512_state *h, const uint8_t *x, size_t n)
{
    i2osp2(h, n);
    crypto_hash_sha512_update(h, x, n);
}

/*
 * ComputeComposites: M = sum d_i * C_i and Z = sum d_i * D_i with d_i bound to
 * the public key and every pair.  With sk given (the prover), Z = sk * M: the
 * RFC's ComputeCompositesFast, one multiplication fewer per element.
 */
static pk_status composites(pk_voprf_mode mode, const uint8_t *sk, const uint8_t pk[PK_VOPRF_NE],
                            const uint8_t *C, const uint8_t *D, size_t m, uint8_t M[PK_VOPRF_NE],
                            uint8_t Z[PK_VOPRF_NE])
{
    uint8_t seed_dst[64], seed[PK_VOPRF_NH];
    size_t sdl = make_dst(mode, "Seed-", seed_dst);
    crypto_hash_sha512_state h;
    crypto_hash_sha512_init(&h);
    put_lv(&h, pk, PK_VOPRF_NE);
    put_lv(&h, seed_dst, sdl);
    crypto_hash_sha512_final(&h, seed);

    /* compositeTranscript: len||seed, I2OSP(i,2), len||Ci, len||Di, "Composite" */
    enum { TLEN = 2 + PK_VOPRF_NH + 2 + 2 + PK_VOPRF_NE + 2 + PK_VOPRF_NE + 9 };
    uint8_t t[TLEN];
    size_t off = 0;
    t[off++] = 0;
    t[off++] = PK_VOPRF_NH;
    memcpy(t + off, seed, PK_VOPRF_NH);
    off += PK_VOPRF_NH;
    size_t at_i = off;
    for (size_t i = 0; i < m; i++) {
        const uint8_t *Ci = C + i * PK_VOPRF_NE, *Di = D + i * PK_VOPRF_NE;
        if (!element_ok(Ci) || !element_ok(Di)) return PK_ECRYPTO;
        off = at_i;
        t[off++] = (uint8_t)(i >> 8);
        t[off++] = (uint8_t)i;
        t[off++] = 0;
        t[off++] = PK_VOPRF_NE;
        memcpy(t + off, Ci, PK_VOPRF_NE);
        off += PK_VOPRF_NE;
        t[off++] = 0;
        t[off++] = PK_VOPRF_NE;
        memcpy(t + off, Di, PK_VOPRF_NE);
        off += PK_VOPRF_NE;
        memcpy(t + off, "Composite", 9);
        off += 9;
        uint8_t di[PK_VOPRF_NS], term[PK_VOPRF_NE];
        pk_status st = pk_voprf_hash_to_scalar(mode, t, off, NULL, 0, di);
        if (st != PK_OK) return st;
        if (crypto_scalarmult_ristretto255(term, di, Ci) != 0) return PK_ECRYPTO;
        if (i == 0)
            memcpy(M, term, PK_VOPRF_NE);
        else if (crypto_core_ristretto255_add(M, M, term) != 0)
            return PK_ECRYPTO;
        if (!sk) {
            if (crypto_scalarmult_ristretto255(term, di, Di) != 0) return PK_ECRYPTO;
            if (i == 0)
                memcpy(Z, term, PK_VOPRF_NE);
            else if (crypto_core_ristretto255_add(Z, Z, term) != 0)
                return PK_ECRYPTO;
        }
    }
    if (sk && crypto_scalarmult_ristretto255(Z, sk, M) != 0) return PK_ECRYPTO;
    return PK_OK;
}

/* c = HashToScalar(len||pk, len||M, len||Z, len||t2, len||t3, "Challenge") */
static pk_status challenge(pk_voprf_mode mode, const uint8_t *pk, const uint8_t *M,
                           const uint8_t *Z, const uint8_t *t2, const uint8_t *t3,
                           uint8_t c[PK_VOPRF_NS])
{
    uint8_t t[5 * (2 + PK_VOPRF_NE) + 9];
    const uint8_t *parts[5] = {pk, M, Z, t2, t3};
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
        t[off++] = 0;
        t[off++] = PK_VOPRF_NE;
        memcpy(t + off, parts[i], PK_VOPRF_NE);
        off += PK_VOPRF_NE;
    }
    memcpy(t + off, "Challenge", 9);
    off += 9;
    return pk_voprf_hash_to_scalar(mode, t, off, NULL, 0, c);
}

pk_status pk_voprf_generate_proof(pk_voprf_mode mode, const uint8_t sk[PK_VOPRF_NS],
                                  const uint8_t pk[PK_VOPRF_NE], const uint8_t *C, const uint8_t *D,
                                  size_t m, const uint8_t *given_r, uint8_t proof[PK_VOPRF_NPROOF],
                                  pk_error *err)
{
    uint8_t M[PK_VOPRF_NE], Z[PK_VOPRF_NE], r[PK_VOPRF_NS], t2[PK_VOPRF_NE], t3[PK_VOPRF_NE];
    uint8_t c[PK_VOPRF_NS], cs[PK_VOPRF_NS];
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (m == 0 || m > PK_VOPRF_MAX_BATCH)
        return pk_error_set(err, PK_EINVAL, "batch of %zu elements (1..%d allowed)", m,
                            PK_VOPRF_MAX_BATCH);
    if (composites(mode, sk, pk, C, D, m, M, Z) != PK_OK)
        return pk_error_set(err, PK_ECRYPTO, "invalid element in the batch");
    if (given_r) {
        if (!scalar_canonical(given_r))
            return pk_error_set(err, PK_EINVAL, "proof random scalar is not canonical");
        memcpy(r, given_r, PK_VOPRF_NS);
    } else {
        random_scalar(r);
    }
    pk_status st = PK_ECRYPTO;
    if (crypto_scalarmult_ristretto255_base(t2, r) != 0) goto out;
    if (crypto_scalarmult_ristretto255(t3, r, M) != 0) goto out;
    if ((st = challenge(mode, pk, M, Z, t2, t3, c)) != PK_OK) goto out;
    /* s = r - c * sk */
    crypto_core_ristretto255_scalar_mul(cs, c, sk);
    memcpy(proof, c, PK_VOPRF_NS);
    crypto_core_ristretto255_scalar_sub(proof + PK_VOPRF_NS, r, cs);
    st = PK_OK;
out:
    sodium_memzero(r, sizeof r);
    sodium_memzero(cs, sizeof cs);
    if (st != PK_OK) return pk_error_set(err, st, "proof generation failed");
    return PK_OK;
}

/* a*P + b*Q, each product allowed to be the identity (a zero scalar). */
static int lincomb(uint8_t out[PK_VOPRF_NE], const uint8_t *a, const uint8_t *P, const uint8_t *b,
                   const uint8_t *Q)
{
    uint8_t x[PK_VOPRF_NE], y[PK_VOPRF_NE];
    int xz = P ? crypto_scalarmult_ristretto255(x, a, P) != 0
               : crypto_scalarmult_ristretto255_base(x, a) != 0;
    int yz = crypto_scalarmult_ristretto255(y, b, Q) != 0;
    if (xz && yz) return -1;
    if (xz)
        memcpy(out, y, PK_VOPRF_NE);
    else if (yz)
        memcpy(out, x, PK_VOPRF_NE);
    else if (crypto_core_ristretto255_add(out, x, y) != 0)
        return -1;
    return 0;
}

pk_status pk_voprf_verify_proof(pk_voprf_mode mode, const uint8_t pk[PK_VOPRF_NE], const uint8_t *C,
                                const uint8_t *D, size_t m, const uint8_t proof[PK_VOPRF_NPROOF],
                                pk_error *err)
{
    uint8_t M[PK_VOPRF_NE], Z[PK_VOPRF_NE], t2[PK_VOPRF_NE], t3[PK_VOPRF_NE], c[PK_VOPRF_NS];
    const uint8_t *pc = proof, *ps = proof + PK_VOPRF_NS;
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (m == 0 || m > PK_VOPRF_MAX_BATCH)
        return pk_error_set(err, PK_EINVAL, "batch of %zu elements (1..%d allowed)", m,
                            PK_VOPRF_MAX_BATCH);
    if (!element_ok(pk)) return pk_error_set(err, PK_ECRYPTO, "public key is not a valid element");
    if (!scalar_canonical(pc) || !scalar_canonical(ps))
        return pk_error_set(err, PK_ECRYPTO, "proof scalars are not canonical");
    if (composites(mode, NULL, pk, C, D, m, M, Z) != PK_OK)
        return pk_error_set(err, PK_ECRYPTO, "invalid element in the batch");
    /* t2 = s*G + c*pk, t3 = s*M + c*Z */
    if (lincomb(t2, ps, NULL, pc, pk) != 0 || lincomb(t3, ps, M, pc, Z) != 0)
        return pk_error_set(err, PK_ECRYPTO, "proof does not verify");
    pk_status st = challenge(mode, pk, M, Z, t2, t3, c);
    if (st != PK_OK) return pk_error_set(err, st, "proof challenge failed");
    if (sodium_memcmp(c, pc, PK_VOPRF_NS) != 0)
        return pk_error_set(err, PK_ECRYPTO,
                            "proof does not verify: the server did not evaluate with the "
                            "published key");
    return PK_OK;
}

/* Hash(len||input, len||element, "Finalize") */
static void finalize_hash(const uint8_t *input, size_t input_len, const uint8_t e[PK_VOPRF_NE],
                          uint8_t out[PK_VOPRF_NH])
{
    crypto_hash_sha512_state h;
    crypto_hash_sha512_init(&h);
    put_lv(&h, input, input_len);
    put_lv(&h, e, PK_VOPRF_NE);
    crypto_hash_sha512_update(&h, (const uint8_t *)"Finalize", 8);
    crypto_hash_sha512_final(&h, out);
}

pk_status pk_voprf_finalize(const uint8_t *input, size_t input_len,
                            const uint8_t blind[PK_VOPRF_NS], const uint8_t evaluated[PK_VOPRF_NE],
                            uint8_t out[PK_VOPRF_NH], pk_error *err)
{
    uint8_t inv[PK_VOPRF_NS], N[PK_VOPRF_NE];
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (input_len > 65535) return pk_error_set(err, PK_EINVAL, "input longer than 65535 bytes");
    if (!element_ok(evaluated))
        return pk_error_set(err, PK_ECRYPTO, "evaluated element is not a valid group element");
    if (crypto_core_ristretto255_scalar_invert(inv, blind) != 0)
        return pk_error_set(err, PK_EINVAL, "blind is zero");
    int rc = crypto_scalarmult_ristretto255(N, inv, evaluated);
    sodium_memzero(inv, sizeof inv);
    if (rc != 0) return pk_error_set(err, PK_ECRYPTO, "unblinding produced the identity");
    finalize_hash(input, input_len, N, out);
    return PK_OK;
}

pk_status pk_voprf_evaluate(pk_voprf_mode mode, const uint8_t sk[PK_VOPRF_NS], const uint8_t *input,
                            size_t input_len, uint8_t out[PK_VOPRF_NH], pk_error *err)
{
    uint8_t p[PK_VOPRF_NE], N[PK_VOPRF_NE];
    if (ensure_sodium() != 0) return pk_error_set(err, PK_EINTERNAL, "libsodium failed to start");
    if (input_len > 65535) return pk_error_set(err, PK_EINVAL, "input longer than 65535 bytes");
    pk_status st = pk_voprf_hash_to_group(mode, input, input_len, p);
    if (st != PK_OK) return pk_error_set(err, st, "HashToGroup failed");
    if (sodium_is_zero(p, sizeof p))
        return pk_error_set(err, PK_EINVAL, "input maps to the identity element");
    if (crypto_scalarmult_ristretto255(N, sk, p) != 0)
        return pk_error_set(err, PK_ECRYPTO, "evaluation produced the identity");
    finalize_hash(input, input_len, N, out);
    return PK_OK;
}

void pk_privacy_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

pk_status pk_privacy_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (!s || slen != 2 * n) return PK_EPARSE;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return PK_EPARSE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return PK_OK;
}
