/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The intake's HTTP routes, independent of the HTTP server that carries them:
 * the server asks pk_privacy_route() whether a request is ours and what it
 * needs (an account, silence in the access log), authenticates when asked,
 * and hands the body to pk_privacy_service_handle().  Nothing here sees a
 * client address, a header or the time of day beyond what the intake keeps.
 */
#include "privacy/privacy_int.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

struct pk_privacy_service {
    pk_intake *in;
    pk_privacy_names_fn names_fn;
    void *names_ud;
    pthread_mutex_t mu; /* one SQLite connection, one request at a time */
};

pk_status pk_privacy_service_new(const char *db_path, const pk_intake_config *cfg,
                                 pk_privacy_service **out, pk_error *err)
{
    *out = NULL;
    pk_privacy_service *s = pk_calloc(1, sizeof *s);
    if (!s) return pk_error_set(err, PK_ENOMEM, "out of memory");
    pk_status rc = pk_intake_open(db_path, cfg, &s->in, err);
    if (rc != PK_OK) {
        pk_free(s);
        return rc;
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return PK_OK;
}

void pk_privacy_service_free(pk_privacy_service *s)
{
    if (!s) return;
    pk_intake_close(s->in);
    pthread_mutex_destroy(&s->mu);
    pk_free(s);
}

pk_intake *pk_privacy_service_intake(pk_privacy_service *s)
{
    return s ? s->in : NULL;
}

void pk_privacy_service_set_names(pk_privacy_service *s, pk_privacy_names_fn fn, void *ud)
{
    s->names_fn = fn;
    s->names_ud = ud;
}

/* Submit with the server's list of names to redact. */
static pk_status submit(pk_privacy_service *s, int64_t now, const json_t *req, json_t **out,
                        pk_error *err)
{
    json_t *names = s->names_fn ? s->names_fn(s->names_ud) : NULL;
    size_t n = 0, i;
    const char **v = pk_calloc(json_array_size(names) + 1, sizeof *v);
    if (!v) {
        json_decref(names);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    json_t *e;
    json_array_foreach(names, i, e)
    {
        const char *t = json_string_value(e);
        if (t && strlen(t) >= 3) v[n++] = t;
    }
    pk_status rc = pk_intake_submit_redacting(s->in, now, req, v, n, out, err);
    pk_free(v);
    json_decref(names);
    return rc;
}

void pk_privacy_service_lock(pk_privacy_service *s, int lock)
{
    if (lock)
        pthread_mutex_lock(&s->mu);
    else
        pthread_mutex_unlock(&s->mu);
}

/* Strip one trailing slash for matching. */
static int path_is(const char *path, const char *want)
{
    size_t n = strlen(want);
    return strncmp(path, want, n) == 0 && (path[n] == '\0' || (path[n] == '/' && !path[n + 1]));
}

unsigned pk_privacy_route(const char *method, const char *path)
{
    if (!path || strncmp(path, PK_PRIVACY_PREFIX, sizeof PK_PRIVACY_PREFIX - 1) != 0) return 0;
    (void)method;
    if (path_is(path, PK_PRIVACY_PREFIX "keys")) return PK_PRIVACY_ROUTE | PK_PRIVACY_NO_LOG;
    if (path_is(path, PK_PRIVACY_PREFIX "reports")) return PK_PRIVACY_ROUTE | PK_PRIVACY_NO_LOG;
    if (path_is(path, PK_PRIVACY_PREFIX "tokens")) return PK_PRIVACY_ROUTE | PK_PRIVACY_AUTH;
    if (path_is(path, PK_PRIVACY_PREFIX "inbox"))
        return PK_PRIVACY_ROUTE | PK_PRIVACY_AUTH | PK_PRIVACY_ADMIN;
    /* Anything else under the prefix is ours too (a 404), and silent. */
    return PK_PRIVACY_ROUTE | PK_PRIVACY_NO_LOG;
}

static int http_status(pk_status s)
{
    switch (s) {
    case PK_OK:
        return 200;
    case PK_EPARSE:
    case PK_EINVAL:
    case PK_EVALIDATE:
        return 400;
    case PK_EAUTH:
        return 401;
    case PK_EPERM:
    case PK_ECRYPTO:
    case PK_ETIMEOUT:
        return 403;
    case PK_ENOTFOUND:
        return 404;
    case PK_EEXIST:
        return 409;
    case PK_ELIMIT:
        return 413;
    case PK_EBUSY:
        return 503;
    default:
        return 500;
    }
}

/* A TAXII-style error message. */
static int error_body(int status, const char *msg, char **body, size_t *len)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_t *j = json_pack("{s:s, s:s, s:s}", "title", pk_http_status_title(status), "description",
                          msg, "http_status", code);
    *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    *len = *body ? strlen(*body) : 0;
    return status;
}

int pk_privacy_service_handle(pk_privacy_service *s, const char *method, const char *path,
                              const char *body, size_t body_len, const char *org, int admin,
                              char **resp, size_t *resp_len)
{
    *resp = NULL;
    *resp_len = 0;
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int post = !strcmp(method, "POST");
    int64_t now = (int64_t)time(NULL);
    enum { KEYS, TOKENS, REPORTS, INBOX } which;
    if (path_is(path, PK_PRIVACY_PREFIX "keys"))
        which = KEYS;
    else if (path_is(path, PK_PRIVACY_PREFIX "tokens"))
        which = TOKENS;
    else if (path_is(path, PK_PRIVACY_PREFIX "reports"))
        which = REPORTS;
    else if (path_is(path, PK_PRIVACY_PREFIX "inbox"))
        which = INBOX;
    else
        return error_body(404, "no such resource", resp, resp_len);
    if ((which == KEYS || which == INBOX) ? !get : !post)
        return error_body(405,
                          which == KEYS || which == INBOX ? "this resource allows GET"
                                                          : "this resource allows POST",
                          resp, resp_len);
    if (which == INBOX && !admin)
        return error_body(403, "the intake inbox is for the server's administrators", resp,
                          resp_len);

    json_t *req = NULL, *out = NULL;
    pk_error err;
    pk_error_clear(&err);
    if (post) {
        json_error_t je;
        req = json_loadb(body ? body : "", body_len, 0, &je);
        if (!req || !json_is_object(req)) {
            json_decref(req);
            char msg[300];
            snprintf(msg, sizeof msg, "the body is not a JSON object: %s", je.text);
            return error_body(400, msg, resp, resp_len);
        }
    }
    pk_status rc;
    pthread_mutex_lock(&s->mu);
    switch (which) {
    case KEYS:
        rc = pk_intake_keys(s->in, now, &out, &err);
        break;
    case TOKENS:
        rc = pk_intake_issue(s->in, org, now, req, &out, &err);
        break;
    case REPORTS:
        rc = submit(s, now, req, &out, &err);
        break;
    default:
        rc = pk_intake_inbox(s->in, &out, &err);
        if (rc == PK_OK) {
            json_t *w = json_pack("{s:o}", "reports", out);
            out = w;
            if (!w) rc = pk_error_set(&err, PK_ENOMEM, "out of memory");
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(req);
    if (rc != PK_OK) {
        json_decref(out);
        char line[1200];
        pk_error_format(&err, line, sizeof line);
        return error_body(http_status(rc), line, resp, resp_len);
    }
    *resp = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(out);
    if (!*resp) return error_body(500, "out of memory", resp, resp_len);
    *resp_len = strlen(*resp);
    return which == REPORTS ? 202 : 200;
}
