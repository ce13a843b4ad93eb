/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which fields of which log format hold which kind of value, and the small
 * table the JSON scanner looks a key path up in.
 *
 * A path is hashed segment by segment as the scanner walks into objects, so a
 * key costs one short hash and one probe of a 512-slot table whatever its
 * depth.  Zeek writes some paths flat ("id.orig_h" is one key), users write
 * maps with dots for nesting, and EVE nests: every way of reading the dots of
 * a registered path (separator or part of a key) is entered, so both spellings
 * find the same slot.
 */
#include "scan_int.h"

#include <stdio.h>

static const pki_fieldspec eve_fields[] = {
    {"timestamp", R_TIME},
    {"event_type", R_EVENT},
    {"src_ip", R_IP},
    {"dest_ip", R_IP},
    {"dns.rrname", R_DOMAIN},
    {"dns.rdata", R_HOST},
    {"dns.queries.rrname", R_DOMAIN},
    {"dns.answers.rrname", R_DOMAIN},
    {"dns.answers.rdata", R_HOST},
    {"dns.authorities.rrname", R_DOMAIN},
    {"dns.grouped.A", R_IP},
    {"dns.grouped.AAAA", R_IP},
    {"dns.grouped.CNAME", R_DOMAIN},
    {"dns.grouped.MX", R_HOST},
    {"dns.grouped.NS", R_HOST},
    {"dns.grouped.PTR", R_HOST},
    {"http.hostname", R_HTTP_HOST},
    {"http.url", R_HTTP_PATH},
    {"http.http_refer", R_URL},
    {"http.redirect", R_URL},
    {"tls.sni", R_DOMAIN},
    {"tls.subject", R_DN},
    {"tls.issuerdn", R_DN},
    {"tls.fingerprint", R_HASH},
    {"quic.sni", R_DOMAIN},
    {"fileinfo.filename", R_FILENAME},
    {"fileinfo.md5", R_HASH},
    {"fileinfo.sha1", R_HASH},
    {"fileinfo.sha256", R_HASH},
    {"smtp.helo", R_HOST},
    {"smtp.mail_from", R_EMAIL},
    {"smtp.rcpt_to", R_EMAIL},
    {"email.from", R_EMAIL},
    {"email.to", R_EMAIL},
    {"email.cc", R_EMAIL},
    {"email.attachment", R_FILENAME},
    {"email.url", R_URL},
    {"krb5.cname", R_USER},
    {"ftp.command_data", R_NONE},
    {NULL, 0},
};

static const pki_fieldspec zeek_fields[] = {
    {"ts", R_TIME},
    {"id.orig_h", R_IP},
    {"id.resp_h", R_IP},
    {"query", R_DOMAIN},
    {"answers", R_HOST},
    {"host", R_HTTP_HOST},
    {"uri", R_HTTP_PATH},
    {"referrer", R_URL},
    {"server_name", R_DOMAIN},
    {"subject", R_DN},
    {"issuer", R_DN},
    {"certificate.subject", R_DN},
    {"certificate.issuer", R_DN},
    {"san.dns", R_DOMAIN},
    {"san.uri", R_URL},
    {"san.email", R_EMAIL},
    {"san.ip", R_IP},
    {"fingerprint", R_HASH},
    {"md5", R_HASH},
    {"sha1", R_HASH},
    {"sha256", R_HASH},
    {"filename", R_FILENAME},
    {"tx_hosts", R_IP},
    {"rx_hosts", R_IP},
    {"mailfrom", R_EMAIL},
    {"rcptto", R_EMAIL},
    {"from", R_EMAIL},
    {"to", R_EMAIL},
    {"cc", R_EMAIL},
    {"reply_to", R_EMAIL},
    {"helo", R_HOST},
    {"x_originating_ip", R_IP},
    {"path", R_IP},
    {"src", R_IP},
    {"dst", R_IP},
    {"username", R_USER},
    {"client_addr", R_IP},
    {"server_addr", R_IP},
    {"assigned_addr", R_IP},
    {NULL, 0},
};

/* Connections and file sizes, for patterns on network-traffic and file:size
 * only: scanners of other indexes never read them. */
static const pki_fieldspec eve_net_fields[] = {
    {"src_ip", R_SRC_IP},
    {"dest_ip", R_DST_IP},
    {"src_port", R_SRC_PORT},
    {"dest_port", R_DST_PORT},
    {"proto", R_PROTO},
    {"fileinfo.size", R_SIZE},
    {NULL, 0},
};

static const pki_fieldspec zeek_net_fields[] = {
    {"id.orig_h", R_SRC_IP},
    {"id.resp_h", R_DST_IP},
    {"id.orig_p", R_SRC_PORT},
    {"id.resp_p", R_DST_PORT},
    {"proto", R_PROTO},
    {"total_bytes", R_SIZE},
    {NULL, 0},
};

/* Keys of the record time in JSON lines without a known format. */
static const pki_fieldspec time_fields[] = {
    {"timestamp", R_TIME}, {"ts", R_TIME}, {"time", R_TIME}, {"@timestamp", R_TIME}, {NULL, 0}};

static int ftab_put(pki_ftab *t, uint64_t h, const char *leaf, size_t leaf_len, uint8_t role,
                    const char *name)
{
    if (leaf_len) {
        unsigned b = pki_kf_bit(leaf, leaf_len);
        t->kf[b >> 6] |= 1ull << (b & 63);
    }
    uint32_t i = (uint32_t)h & (PKI_FTAB_SLOTS - 1);
    for (uint32_t n = 0; n < PKI_FTAB_SLOTS; n++, i = (i + 1) & (PKI_FTAB_SLOTS - 1)) {
        pki_fslot *s = &t->slot[i];
        if (s->used && s->h == h) { /* a later spec for the same path wins */
            if (role == R_NONE) {   /* marking a prefix */
                s->prefix = 1;
                return 1;
            }
            s->role = role;
            s->name = name;
            return 1;
        }
        if (!s->used) {
            if (t->count + 1 >= PKI_FTAB_SLOTS / 2) return 0;
            s->used = 1;
            s->h = h;
            t->tag[i] = h | 1;
            s->role = role;
            s->prefix = role == R_NONE;
            s->name = role == R_NONE ? NULL : name;
            s->leaf_len = (uint8_t)leaf_len;
            memcpy(s->leaf, leaf, leaf_len < sizeof s->leaf ? leaf_len : sizeof s->leaf);
            t->count++;
            return 1;
        }
    }
    return 0;
}

/* Enter every reading of the dots of `path`. */
static int ftab_add(pki_ftab *t, const char *path, uint8_t role, const char *name)
{
    size_t n = strlen(path);
    size_t dots[8], nd = 0;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '.' && nd < 8) dots[nd++] = i;
    if (n == 0 || n > 200) return 0;
    for (uint32_t mask = 0; mask < (1u << nd); mask++) {
        /* bit set: that dot separates segments */
        uint64_t h = PKI_PATH_ROOT;
        size_t start = 0;
        for (size_t d = 0; d <= nd; d++) {
            size_t end = d < nd ? dots[d] : n;
            if (d < nd && !(mask & (1u << d))) continue;
            char seg[256];
            memset(seg, 0, sizeof seg);
            memcpy(seg, path + start, end - start);
            h = pki_path_hash(h, seg, end - start);
            if (d < nd && !ftab_put(t, h, path + start, end - start, R_NONE, NULL)) return 0;
            if (d == nd) {
                if (end - start > sizeof t->slot[0].leaf) return 0;
                if (!ftab_put(t, h, path + start, end - start, role, name)) return 0;
            }
            start = end + 1;
        }
    }
    return 1;
}

static int ftab_add_specs(pki_ftab *t, const pki_fieldspec *f)
{
    for (; f->path; f++)
        if (f->role != R_NONE && !ftab_add(t, f->path, f->role, f->path)) return 0;
    return 1;
}

uint8_t pki_role_of_type(const char *s, size_t n)
{
    static const struct {
        const char *name;
        uint8_t role;
    } m[] = {{"ipv4", R_IP},
             {"ipv6", R_IP},
             {"ip", R_IP},
             {"ipv4-addr", R_IP},
             {"ipv6-addr", R_IP},
             {"host", R_HOST},
             {"domain", R_DOMAIN},
             {"domain-name", R_DOMAIN},
             {"url", R_URL},
             {"email", R_EMAIL},
             {"email-addr", R_EMAIL},
             {"md5", R_HASH},
             {"sha1", R_HASH},
             {"sha256", R_HASH},
             {"sha512", R_HASH},
             {"hash", R_HASH},
             {"filename", R_FILENAME},
             {"user-account", R_USER},
             {"user", R_USER},
             {"text", R_TEXT},
             {"time", R_TIME}};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (strlen(m[i].name) == n && strncasecmp(m[i].name, s, n) == 0) return m[i].role;
    return R_NONE;
}

pk_status pki_fields_build(pki_fields *f, const char *map, pk_error *err)
{
    memset(f, 0, sizeof *f);
    if (!ftab_add_specs(&f->eve, eve_fields) || !ftab_add_specs(&f->zeek, zeek_fields) ||
        !ftab_add_specs(&f->jsonl, time_fields) || !ftab_add_specs(&f->any, eve_fields) ||
        !ftab_add_specs(&f->any, zeek_fields))
        return pk_error_set(err, PK_EINTERNAL, "field table overflow");
    if (!map || !*map) return PK_OK;
    /* the tables point into this copy of the map for field names */
    size_t need = strlen(map) + 1;
    char *store = pk_malloc(need);
    if (!store) return pk_error_set(err, PK_ENOMEM, "out of memory");
    f->map_store = store;
    memcpy(store, map, need - 1);
    store[need - 1] = '\0';
    char *p = store;
    while (*p) {
        char *item = p;
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
            p = comma + 1;
        } else {
            p += strlen(p);
        }
        while (*item == ' ')
            item++;
        if (!*item) continue;
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            return pk_error_set(err, PK_EINVAL, "map item '%s' is not path=type", item);
        *eq = '\0';
        uint8_t role = pki_role_of_type(eq + 1, strlen(eq + 1));
        if (role == R_NONE)
            return pk_error_set(err, PK_EINVAL,
                                "map item '%s=%s': unknown type (ipv4 ipv6 ip domain url email "
                                "md5 sha1 sha256 sha512 hash filename user-account text time)",
                                item, eq + 1);
        if (!ftab_add(&f->jsonl, item, role, item) || !ftab_add(&f->any, item, role, item) ||
            !ftab_add(&f->eve, item, role, item) || !ftab_add(&f->zeek, item, role, item))
            return pk_error_set(err, PK_ELIMIT, "map item '%s': path too long or too many items",
                                item);
    }
    return PK_OK;
}

int pki_fields_add_net(pki_fields *f)
{
    return ftab_add_specs(&f->eve, eve_net_fields) && ftab_add_specs(&f->zeek, zeek_net_fields) &&
           ftab_add_specs(&f->any, eve_net_fields) && ftab_add_specs(&f->any, zeek_net_fields);
}

void pki_fields_free(pki_fields *f)
{
    pk_free(f->map_store);
    f->map_store = NULL;
}
