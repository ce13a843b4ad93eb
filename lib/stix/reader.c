/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The streaming reader: yields the objects of a bundle, a JSON array, one
 * object or JSON lines, one at a time, with the byte span, line and column of
 * each, in memory bounded by the largest object rather than by the file.
 *
 * How.  A sliding buffer is filled in chunks.  A small state machine walks the
 * top level (the bundle's keys, the array's commas) token by token; each
 * element is delimited by a bracket scanner that only tracks depth and string
 * state (resumable across refills), and jansson parses exactly that span.
 * jansson's own streaming (JSON_DISABLE_EOF_CHECK) would parse a whole bundle
 * as one value; scanning first lets us keep the bytes, skip a broken or
 * oversized object and go on with the next one.  Lines are counted lazily with
 * memchr over what was consumed, so the scanner's inner loops stay tight.
 */
#include "picket/stix.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum state {
    ST_TOP,       /* between top-level values */
    ST_OBJ_KEY,   /* in a top-level object: expect a key (or '}' when first) */
    ST_OBJ_COLON, /* expect ':' */
    ST_OBJ_VALUE, /* expect the value of `key` */
    ST_OBJ_AFTER, /* expect ',' or '}' */
    ST_ARR_ELEM,  /* in an objects array: expect an element (or ']' when first) */
    ST_ARR_AFTER, /* expect ',' or ']' */
    ST_DONE,
};

enum { CTX_TOPARRAY, CTX_BUNDLE };

struct pk_stix_reader {
    char name[256];
    int fd, own_fd, mem;
    char *buf;
    size_t cap, len, pos;
    long long base; /* input offset of buf[0] */
    long long size; /* -1 when unknown */
    int eof;
    pk_status fatal; /* what calls return once reading has stopped */
    pk_status now;   /* what the call that stopped it returns */
    /* Lines: everything before line_pos has been counted. */
    size_t line_pos;
    long line;
    long long line_start; /* input offset of the current line's first byte */
    /* The top level. */
    enum state st;
    int ctx, first, top_values, in_bundle, type_seen, type_bundle;
    size_t top_start;
    long long top_off;
    char key[16];
    char bundle_sv[16];
    pk_stix_format fmt;
    /* The value being delimited (resumable). */
    int vactive, vdepth, vstr, vesc, vscalar, skipping;
    size_t vstart, vpos;
    long long voff;
    long vline, vcol;
    /* The item handed out. */
    json_t *cur;
    long index;
    size_t max_object, chunk;
};

/* Byte classes for the scanner's loops. */
static unsigned char is_ws[256], in_str_special[256], out_str_special[256], scalar_end[256];

static void init_tables(void)
{
    static int done;
    if (done) return;
    is_ws[' '] = is_ws['\t'] = is_ws['\n'] = is_ws['\r'] = 1;
    in_str_special['"'] = in_str_special['\\'] = 1;
    out_str_special['"'] = out_str_special['{'] = out_str_special['}'] = 1;
    out_str_special['['] = out_str_special[']'] = 1;
    scalar_end[','] = scalar_end['}'] = scalar_end[']'] = scalar_end[':'] = 1;
    scalar_end[' '] = scalar_end['\t'] = scalar_end['\n'] = scalar_end['\r'] = 1;
    scalar_end['{'] = scalar_end['['] = scalar_end['"'] = 1;
    done = 1;
}

static pk_status reader_new(const char *name, const pk_stix_reader_opts *opts, pk_stix_reader **out)
{
    init_tables();
    pk_stix_reader *r = pk_calloc(1, sizeof *r);
    if (!r) return PK_ENOMEM;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    r->fd = -1;
    r->size = -1;
    r->line = 1;
    r->st = ST_TOP;
    r->max_object = opts && opts->max_object ? opts->max_object : (size_t)64 << 20;
    r->chunk = opts && opts->chunk ? opts->chunk : (size_t)1 << 20;
    *out = r;
    return PK_OK;
}

pk_status pk_stix_reader_open_fd(int fd, const char *name, const pk_stix_reader_opts *opts,
                                 pk_stix_reader **out, pk_error *err)
{
    pk_status s = reader_new(name, opts, out);
    if (s) return pk_error_set(err, s, "out of memory");
    (*out)->fd = fd;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) (*out)->size = (long long)st.st_size;
    return PK_OK;
}

pk_status pk_stix_reader_open(const char *path, const pk_stix_reader_opts *opts,
                              pk_stix_reader **out, pk_error *err)
{
    *out = NULL;
    if (!strcmp(path, "-")) return pk_stix_reader_open_fd(0, "-", opts, out, err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot open: %s", strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "is a directory");
    }
    pk_status s = pk_stix_reader_open_fd(fd, path, opts, out, err);
    if (s) {
        close(fd);
        return s;
    }
    (*out)->own_fd = 1;
    return PK_OK;
}

pk_status pk_stix_reader_open_mem(const void *data, size_t len, const char *name,
                                  const pk_stix_reader_opts *opts, pk_stix_reader **out,
                                  pk_error *err)
{
    pk_status s = reader_new(name, opts, out);
    if (s) return pk_error_set(err, s, "out of memory");
    (*out)->mem = 1;
    (*out)->buf = (char *)data; /* never written in memory mode */
    (*out)->len = (*out)->cap = len;
    (*out)->size = (long long)len;
    (*out)->eof = 1;
    return PK_OK;
}

void pk_stix_reader_free(pk_stix_reader *r)
{
    if (!r) return;
    if (r->own_fd && r->fd >= 0) close(r->fd);
    if (!r->mem) pk_free(r->buf);
    json_decref(r->cur);
    pk_free(r);
}

void pk_stix_reader_drop(pk_stix_reader *r)
{
    json_decref(r->cur);
    r->cur = NULL;
}

pk_stix_format pk_stix_reader_format(const pk_stix_reader *r)
{
    return r->fmt;
}

const char *pk_stix_reader_bundle_spec_version(const pk_stix_reader *r)
{
    return r->bundle_sv[0] ? r->bundle_sv : NULL;
}

long long pk_stix_reader_consumed(const pk_stix_reader *r)
{
    return r->base + (long long)r->pos;
}

long long pk_stix_reader_size(const pk_stix_reader *r)
{
    return r->size;
}

/* Count the lines of buf[line_pos, upto) for good. */
static void advance_lines(pk_stix_reader *r, size_t upto)
{
    if (upto <= r->line_pos) return;
    const char *p = r->buf + r->line_pos, *end = r->buf + upto;
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        r->line++;
        p++;
        r->line_start = r->base + (p - r->buf);
    }
    r->line_pos = upto;
}

/* Line and column of buf[at] (at >= line_pos) without moving line_pos. */
static void line_at(const pk_stix_reader *r, size_t at, long *line, long *col)
{
    long l = r->line;
    long long ls = r->line_start;
    if (at > r->line_pos) {
        const char *p = r->buf + r->line_pos, *end = r->buf + at;
        while ((p = memchr(p, '\n', (size_t)(end - p)))) {
            l++;
            p++;
            ls = r->base + (p - r->buf);
        }
    }
    *line = l;
    *col = (long)(r->base + (long long)at - ls) + 1;
}

/* Fill err with the place of buf[at] and a message; returns code. */
static pk_status fail_at(pk_stix_reader *r, pk_error *err, size_t at, pk_status code,
                         const char *msg)
{
    long line, col;
    line_at(r, at, &line, &col);
    pk_error_at(err, r->name, line, col);
    if (err) err->offset = r->base + (long long)at;
    return pk_error_set(err, code, "%s", msg);
}

static pk_status fatal(pk_stix_reader *r, pk_error *err, size_t at, pk_status code, const char *msg)
{
    fail_at(r, err, at, code, msg);
    r->st = ST_DONE;
    r->fatal = code == PK_EPARSE || code == PK_ELIMIT ? PK_ENOTFOUND : code;
    r->now = code;
    return code;
}

/* The lowest buffer index still needed. */
static size_t keep_from(const pk_stix_reader *r)
{
    size_t k = r->pos;
    if (r->vactive && !r->skipping && r->vstart < k) k = r->vstart;
    if ((r->st == ST_OBJ_KEY || r->st == ST_OBJ_COLON || r->st == ST_OBJ_VALUE ||
         r->st == ST_OBJ_AFTER) &&
        !r->in_bundle && r->top_start < k)
        k = r->top_start;
    return k;
}

/* Read more input.  Returns 1 when bytes were added, 0 at end of input, -1 on
 * error (r->fatal set, err filled). */
static int fill(pk_stix_reader *r, pk_error *err)
{
    if (r->eof) return 0;
    size_t keep = keep_from(r);
    if (keep > 0 && (r->len - keep) < r->cap / 2) {
        advance_lines(r, keep);
        memmove(r->buf, r->buf + keep, r->len - keep);
        r->len -= keep;
        r->pos -= keep;
        r->base += (long long)keep;
        r->line_pos -= keep;
        if (r->vstart >= keep) r->vstart -= keep;
        if (r->vpos >= keep) r->vpos -= keep;
        if (r->top_start >= keep) r->top_start -= keep;
    }
    if (r->cap - r->len < r->chunk) {
        if (r->cap > r->max_object + 4 * r->chunk) {
            /* Only a top-level object can get here: elements past the cap are
             * skipped without being kept. */
            pk_error_at(err, r->name, 0, 0);
            if (err) err->offset = r->base + (long long)keep;
            pk_error_set(err, PK_ELIMIT, "object larger than %zu bytes", r->max_object);
            r->st = ST_DONE;
            r->fatal = PK_ENOTFOUND;
            r->now = PK_ELIMIT;
            return -2;
        }
        size_t ncap = r->cap ? r->cap * 2 : r->chunk * 2;
        while (ncap - r->len < r->chunk)
            ncap *= 2;
        char *nb = pk_realloc(r->buf, ncap);
        if (!nb) {
            pk_error_set(err, PK_ENOMEM, "out of memory reading %s", r->name);
            r->st = ST_DONE;
            r->fatal = r->now = PK_ENOMEM;
            return -1;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n > 0) {
            r->len += (size_t)n;
            return 1;
        }
        if (n == 0) {
            r->eof = 1;
            return 0;
        }
        if (errno == EINTR) continue;
        pk_error_at(err, r->name, 0, 0);
        pk_error_set(err, PK_EIO, "read failed: %s", strerror(errno));
        r->st = ST_DONE;
        r->fatal = r->now = PK_EIO;
        return -1;
    }
}

/* Skip whitespace; 1 when a byte is at r->pos, 0 at end of input, -1 error. */
static int skip_ws(pk_stix_reader *r, pk_error *err)
{
    for (;;) {
        while (r->pos < r->len && is_ws[(unsigned char)r->buf[r->pos]])
            r->pos++;
        if (r->pos < r->len) return 1;
        int f = fill(r, err);
        if (f <= 0) return f;
    }
}

static void value_begin(pk_stix_reader *r)
{
    r->vactive = 1;
    r->vstart = r->vpos = r->pos;
    r->voff = r->base + (long long)r->pos;
    r->vdepth = 0;
    r->vstr = 0;
    r->vesc = 0;
    r->skipping = 0;
    char c = r->buf[r->pos];
    r->vscalar = !(c == '{' || c == '[' || c == '"');
    line_at(r, r->pos, &r->vline, &r->vcol);
}

/* Delimit the value begun at vstart.  1: complete (pos is just past it),
 * 0: end of input inside it, -1: error. `cap` enables skip mode past max_object. */
static int value_scan(pk_stix_reader *r, int cap, pk_error *err)
{
    for (;;) {
        const unsigned char *b = (const unsigned char *)r->buf;
        size_t p = r->vpos, end = r->len;
        if (r->vscalar) {
            while (p < end && !scalar_end[b[p]])
                p++;
            r->vpos = p;
            if (p < end || r->eof) {
                r->pos = p;
                r->vactive = 0;
                return 1;
            }
        } else {
            while (p < end) {
                if (r->vstr) {
                    if (r->vesc) {
                        r->vesc = 0;
                        p++;
                        continue;
                    }
                    while (p < end && !in_str_special[b[p]])
                        p++;
                    if (p >= end) break;
                    if (b[p] == '\\') {
                        r->vesc = 1;
                        p++;
                        continue;
                    }
                    r->vstr = 0;
                    p++;
                    if (r->vdepth == 0) { /* a top-level string value ends */
                        r->pos = r->vpos = p;
                        r->vactive = 0;
                        if (cap && p - r->vstart > r->max_object) r->skipping = 1;
                        return 1;
                    }
                    continue;
                }
                while (p < end && !out_str_special[b[p]])
                    p++;
                if (p >= end) break;
                unsigned char c = b[p++];
                if (c == '"')
                    r->vstr = 1;
                else if (c == '{' || c == '[')
                    r->vdepth++;
                else if (--r->vdepth == 0) {
                    r->pos = r->vpos = p;
                    r->vactive = 0;
                    if (cap && !r->skipping && p - r->vstart > r->max_object) r->skipping = 1;
                    return 1;
                } else if (r->vdepth < 0) {
                    r->vpos = p;
                    return -1;
                }
            }
            r->vpos = p;
        }
        if (cap && !r->skipping && r->vpos - r->vstart > r->max_object) {
            /* Too big to keep: remember where it began, then drop its bytes. */
            r->skipping = 1;
            advance_lines(r, r->vstart);
        }
        if (r->skipping) {
            advance_lines(r, r->vpos);
            r->pos = r->vpos;
        }
        int f = fill(r, err);
        if (f < 0) return -1;
        if (f == 0) return 0;
    }
}

/* Parse buf[vstart, pos) with jansson into r->cur and fill the item. */
static pk_status parse_span(pk_stix_reader *r, pk_stix_item *item, pk_error *err)
{
    json_error_t je;
    size_t n = r->pos - r->vstart;
    json_decref(r->cur);
    advance_lines(r, r->vstart);
    r->cur = json_loadb(r->buf + r->vstart, n, JSON_REJECT_DUPLICATES, &je);
    long idx = r->index++;
    if (!r->cur) {
        long line = r->vline + (je.line > 0 ? je.line - 1 : 0);
        long col = je.line <= 1 ? r->vcol + (je.column > 0 ? je.column - 1 : 0) : je.column;
        pk_error_at(err, r->name, line, col > 0 ? col : 1);
        if (err) err->offset = r->voff + (je.position > 0 ? je.position : 0);
        if (json_error_code(&je) == json_error_out_of_memory)
            return pk_error_set(err, PK_ENOMEM, "out of memory parsing object %ld", idx + 1);
        return pk_error_set(err, PK_EPARSE, "object %ld is not valid JSON: %s", idx + 1, je.text);
    }
    item->json = r->cur;
    item->raw = r->buf + r->vstart;
    item->raw_len = n;
    item->line = r->vline;
    item->column = r->vcol;
    item->offset = r->voff;
    item->index = idx;
    return PK_OK;
}

static void describe(char *out, size_t n, const char *expected, char found)
{
    if ((unsigned char)found >= 0x20 && (unsigned char)found < 0x7f)
        snprintf(out, n, "expected %s, found '%c'", expected, found);
    else
        snprintf(out, n, "expected %s, found byte 0x%02x", expected, (unsigned char)found);
}

static void top_value_seen(pk_stix_reader *r, pk_stix_format f)
{
    r->top_values++;
    if (r->top_values == 1)
        r->fmt = f;
    else
        r->fmt = PK_STIX_FMT_JSONL;
}

pk_status pk_stix_reader_next(pk_stix_reader *r, pk_stix_item *item, pk_error *err)
{
    char msg[160];
    memset(item, 0, sizeof *item);
    if (r->st == ST_DONE) return r->fatal ? r->fatal : PK_ENOTFOUND;
    for (;;) {
        int w;
        switch (r->st) {
        case ST_TOP:
            /* A byte-order mark is allowed at the very start. */
            if (r->base == 0 && r->pos == 0 && r->len < 3 && !r->eof) {
                while (r->len < 3 && fill(r, err) > 0) {
                }
            }
            if (r->base == 0 && r->pos == 0 && r->len >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3))
                r->pos = 3;
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) {
                r->st = ST_DONE;
                return PK_ENOTFOUND;
            }
            if (r->buf[r->pos] == '{') {
                r->top_start = r->pos;
                r->top_off = r->base + (long long)r->pos;
                r->in_bundle = r->type_seen = r->type_bundle = 0;
                r->first = 1;
                r->pos++;
                r->st = ST_OBJ_KEY;
            } else if (r->buf[r->pos] == '[') {
                top_value_seen(r, PK_STIX_FMT_ARRAY);
                r->ctx = CTX_TOPARRAY;
                r->first = 1;
                r->pos++;
                r->st = ST_ARR_ELEM;
            } else {
                describe(msg, sizeof msg, "'{' or '[' (a bundle, an object or an array)",
                         r->buf[r->pos]);
                return fatal(r, err, r->pos, PK_EPARSE, msg);
            }
            break;

        case ST_OBJ_KEY:
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) goto truncated;
            if (r->buf[r->pos] == '}' && r->first) {
                r->pos++;
                goto top_object_end;
            }
            if (r->buf[r->pos] != '"') {
                describe(msg, sizeof msg, "a property name", r->buf[r->pos]);
                return fatal(r, err, r->pos, PK_EPARSE, msg);
            }
            value_begin(r);
            w = value_scan(r, 0, err);
            if (w < 0) return r->now ? r->now : fatal(r, err, r->pos, PK_EPARSE, "bad key");
            if (w == 0) goto truncated;
            {
                size_t kl = r->pos - r->vstart - 2;
                if (kl >= sizeof r->key) kl = sizeof r->key - 1;
                memcpy(r->key, r->buf + r->vstart + 1, kl);
                r->key[kl] = '\0';
            }
            r->first = 0;
            r->st = ST_OBJ_COLON;
            break;

        case ST_OBJ_COLON:
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) goto truncated;
            if (r->buf[r->pos] != ':') {
                describe(msg, sizeof msg, "':'", r->buf[r->pos]);
                return fatal(r, err, r->pos, PK_EPARSE, msg);
            }
            r->pos++;
            r->st = ST_OBJ_VALUE;
            break;

        case ST_OBJ_VALUE:
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) goto truncated;
            if (!r->in_bundle && !strcmp(r->key, "objects") && r->buf[r->pos] == '[' &&
                (!r->type_seen || r->type_bundle)) {
                /* A bundle: its objects are streamed, its other keys skipped. */
                r->in_bundle = 1;
                top_value_seen(r, PK_STIX_FMT_BUNDLE);
                r->ctx = CTX_BUNDLE;
                r->first = 1;
                r->pos++;
                r->st = ST_ARR_ELEM;
                break;
            }
            value_begin(r);
            w = value_scan(r, 0, err);
            if (w < 0)
                return r->now ? r->now
                              : fatal(r, err, r->vpos ? r->vpos - 1 : 0, PK_EPARSE,
                                      "unbalanced brackets");
            if (w == 0) goto truncated;
            if (r->buf[r->vstart] == '"') {
                const char *v = r->buf + r->vstart + 1;
                size_t vl = r->pos - r->vstart - 2;
                if (!strcmp(r->key, "type")) {
                    r->type_seen = 1;
                    r->type_bundle = vl == 6 && !memcmp(v, "bundle", 6);
                } else if (!strcmp(r->key, "spec_version") && vl < sizeof r->bundle_sv) {
                    memcpy(r->bundle_sv, v, vl);
                    r->bundle_sv[vl] = '\0';
                }
            }
            if (!r->in_bundle && r->pos - r->top_start > r->max_object)
                return fatal(r, err, r->top_start, PK_ELIMIT, "object larger than the limit");
            r->st = ST_OBJ_AFTER;
            break;

        case ST_OBJ_AFTER:
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) goto truncated;
            if (r->buf[r->pos] == ',') {
                r->pos++;
                r->st = ST_OBJ_KEY;
                break;
            }
            if (r->buf[r->pos] != '}') {
                describe(msg, sizeof msg, "',' or '}'", r->buf[r->pos]);
                return fatal(r, err, r->pos, PK_EPARSE, msg);
            }
            r->pos++;
        top_object_end:
            r->st = ST_TOP;
            if (r->in_bundle) {
                r->in_bundle = 0;
                break;
            }
            /* A single object (or one of JSON lines): hand out its whole span. */
            top_value_seen(r, PK_STIX_FMT_OBJECT);
            r->vstart = r->top_start;
            r->voff = r->top_off;
            line_at(r, r->vstart, &r->vline, &r->vcol);
            return parse_span(r, item, err);

        case ST_ARR_ELEM:
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) goto truncated;
            if (r->buf[r->pos] == ']' && r->first) {
                r->pos++;
                goto array_end;
            }
            r->first = 0;
            {
                char c = r->buf[r->pos];
                if (c == ',' || c == ']' || c == '}' || c == ':') {
                    describe(msg, sizeof msg, "an object", c);
                    return fatal(r, err, r->pos, PK_EPARSE, msg);
                }
                value_begin(r);
                w = value_scan(r, 1, err);
                if (w < 0)
                    return r->now ? r->now
                                  : fatal(r, err, r->vpos ? r->vpos - 1 : 0, PK_EPARSE,
                                          "unbalanced brackets");
                if (w == 0) goto truncated;
                r->st = ST_ARR_AFTER;
                if (r->skipping) {
                    long idx = r->index++;
                    r->skipping = 0;
                    pk_error_at(err, r->name, r->vline, r->vcol);
                    if (err) err->offset = r->voff;
                    return pk_error_set(err, PK_ELIMIT,
                                        "object %ld is larger than %zu bytes; skipped", idx + 1,
                                        r->max_object);
                }
                if (c != '{') {
                    r->index++;
                    describe(msg, sizeof msg, "an object", c);
                    return fail_at(r, err, r->vstart, PK_EPARSE, msg);
                }
                return parse_span(r, item, err);
            }

        case ST_ARR_AFTER:
            w = skip_ws(r, err);
            if (w < 0) return r->now;
            if (w == 0) goto truncated;
            if (r->buf[r->pos] == ',') {
                r->pos++;
                r->st = ST_ARR_ELEM;
                break;
            }
            if (r->buf[r->pos] != ']') {
                describe(msg, sizeof msg, "',' or ']'", r->buf[r->pos]);
                return fatal(r, err, r->pos, PK_EPARSE, msg);
            }
            r->pos++;
        array_end:
            r->st = r->ctx == CTX_BUNDLE ? ST_OBJ_AFTER : ST_TOP;
            break;

        case ST_DONE:
            return r->fatal ? r->fatal : PK_ENOTFOUND;
        }
    }
truncated:
    if (r->now) return r->now;
    return fatal(r, err, r->len, PK_EPARSE, "truncated: the input ends inside a JSON value");
}

pk_status pk_stix_minify(const char *raw, size_t len, pk_buf *out)
{
    pk_buf_reset(out);
    /* Reserve once: the result is never longer than the input. */
    pk_status s = pk_buf_add(out, raw, 0);
    if (s) return s;
    if (out->cap < len + 1) {
        s = pk_buf_add(out, raw, len);
        if (s) return s;
        pk_buf_reset(out);
    }
    char *o = out->data;
    size_t k = 0;
    int str = 0, esc = 0;
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                str = 0;
        } else if (c == '"') {
            str = 1;
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        }
        o[k++] = c;
    }
    o[k] = '\0';
    out->len = k;
    return PK_OK;
}
