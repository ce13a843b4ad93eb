/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Status codes to text, and the pk_error record: where a problem is (file,
 * line, column, byte, object, property) and a message a user can act on.
 */
#include "picket/util.h"

#include <stdio.h>
#include <string.h>

/* Indexed by pk_status; a released entry never changes meaning. */
static const struct {
    const char *name;
    const char *text;
} status_table[PK_ESTATUS_MAX_] = {
    [PK_OK] = {"PK_OK", "success"},
    [PK_ENOMEM] = {"PK_ENOMEM", "out of memory"},
    [PK_EINVAL] = {"PK_EINVAL", "invalid argument"},
    [PK_EPARSE] = {"PK_EPARSE", "malformed input"},
    [PK_ELIMIT] = {"PK_ELIMIT", "limit exceeded"},
    [PK_EIO] = {"PK_EIO", "input/output error"},
    [PK_ENOTFOUND] = {"PK_ENOTFOUND", "not found"},
    [PK_EEXIST] = {"PK_EEXIST", "already exists"},
    [PK_ESTORE] = {"PK_ESTORE", "store failure"},
    [PK_EVALIDATE] = {"PK_EVALIDATE", "invalid by the standard"},
    [PK_EUNSUPPORTED] = {"PK_EUNSUPPORTED", "not supported"},
    [PK_EPERM] = {"PK_EPERM", "permission denied"},
    [PK_EINTERNAL] = {"PK_EINTERNAL", "internal error"},
    [PK_ENET] = {"PK_ENET", "network error"},
    [PK_EAUTH] = {"PK_EAUTH", "authentication failed"},
    [PK_ECRYPTO] = {"PK_ECRYPTO", "cryptographic check failed"},
    [PK_ECONFLICT] = {"PK_ECONFLICT", "conflicting change"},
    [PK_EBUSY] = {"PK_EBUSY", "busy, try again"},
    [PK_ETIMEOUT] = {"PK_ETIMEOUT", "timed out"},
};

const char *pk_strstatus(pk_status s)
{
    if ((unsigned)s >= PK_ESTATUS_MAX_ || !status_table[s].text) return "unknown status";
    return status_table[s].text;
}

const char *pk_status_name(pk_status s)
{
    if ((unsigned)s >= PK_ESTATUS_MAX_ || !status_table[s].name) return "PK_E?";
    return status_table[s].name;
}

void pk_error_clear(pk_error *err)
{
    if (!err) return;
    memset(err, 0, sizeof *err);
    err->offset = -1;
}

pk_status pk_error_setv(pk_error *err, pk_status code, const char *fmt, va_list ap)
{
    if (!err) return code;
    err->code = code;
    if (fmt)
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    else
        snprintf(err->message, sizeof err->message, "%s", pk_strstatus(code));
    return code;
}

pk_status pk_error_set(pk_error *err, pk_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pk_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void pk_error_at(pk_error *err, const char *file, long line, long column)
{
    if (!err) return;
    if (file) snprintf(err->file, sizeof err->file, "%s", file);
    if (line > 0) err->line = line;
    if (column > 0) err->column = column;
}

void pk_error_object(pk_error *err, const char *object_id, const char *property)
{
    if (!err) return;
    if (object_id) snprintf(err->object_id, sizeof err->object_id, "%s", object_id);
    if (property) snprintf(err->property, sizeof err->property, "%s", property);
}

int pk_error_format(const pk_error *err, char *out, size_t n)
{
    char loc[320] = "";
    int k = 0;
    if (!err) return snprintf(out, n, "no error");
    if (err->file[0]) k = snprintf(loc, sizeof loc, "%s:", err->file);
    if (err->line > 0) k += snprintf(loc + k, sizeof loc - (size_t)k, "%ld:", err->line);
    if (err->column > 0)
        k += snprintf(loc + k, sizeof loc - (size_t)k, "%ld:", err->column);
    else if (err->line <= 0 && err->offset >= 0)
        k += snprintf(loc + k, sizeof loc - (size_t)k, "byte %lld:", err->offset);
    (void)k;
    return snprintf(out, n, "%s%s%s%s%s%s%s", loc, loc[0] ? " " : "", err->object_id,
                    err->object_id[0] ? ": " : "", err->property, err->property[0] ? ": " : "",
                    err->message[0] ? err->message : pk_strstatus(err->code));
}

const char *pk_http_status_title(int status)
{
    switch (status) {
    case 400:
        return "Bad request";
    case 401:
        return "Authentication required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not found";
    case 405:
        return "Method not allowed";
    case 406:
        return "Not acceptable";
    case 408:
        return "Request timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload too large";
    case 415:
        return "Unsupported media type";
    case 422:
        return "Unprocessable entity";
    case 429:
        return "Too many requests";
    case 431:
        return "Request header fields too large";
    case 503:
        return "Service unavailable";
    default:
        return "Internal server error";
    }
}
