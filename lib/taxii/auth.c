/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Authorization header: HTTP Basic (account name and token as password)
 * and Bearer tokens.  Only splitting and decoding happens here; the check of
 * the token against its stored hash is in db.c.
 */
#include "taxii_int.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Copy [s, s+n) into out when it fits and holds no control characters. */
static int copy_clean(const char *s, size_t n, char *out, size_t out_n)
{
    if (n == 0 || n >= out_n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

int pki_tx_auth_parse(const char *header, char *user, size_t user_n, char *token, size_t token_n)
{
    if (!header) return PKI_TX_AUTH_NONE;
    const char *p = skip_ws(header);
    if (!strncasecmp(p, "Bearer ", 7)) {
        p = skip_ws(p + 7);
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (!copy_clean(p, n, token, token_n)) return PKI_TX_AUTH_NONE;
        if (user_n) user[0] = '\0';
        return PKI_TX_AUTH_BEARER;
    }
    if (!strncasecmp(p, "Basic ", 6)) {
        p = skip_ws(p + 6);
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        unsigned char dec[512];
        size_t dn = 0;
        if (n == 0 || n > 680) return PKI_TX_AUTH_NONE;
        if (sodium_base642bin(dec, sizeof dec - 1, p, n, NULL, &dn, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return PKI_TX_AUTH_NONE;
        dec[dn] = '\0';
        unsigned char *colon = memchr(dec, ':', dn);
        if (!colon) return PKI_TX_AUTH_NONE;
        size_t un = (size_t)(colon - dec);
        if (!copy_clean((const char *)dec, un, user, user_n)) return PKI_TX_AUTH_NONE;
        if (!copy_clean((const char *)colon + 1, dn - un - 1, token, token_n))
            return PKI_TX_AUTH_NONE;
        return PKI_TX_AUTH_BASIC;
    }
    return PKI_TX_AUTH_NONE;
}
