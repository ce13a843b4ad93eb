/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl, opened the first time a command needs it.  Only `picket report`
 * speaks HTTP as a client; linking libcurl would load it and the ~30
 * libraries it brings (TLS, Kerberos, LDAP, SSH, HTTP/2...) into every
 * command: about 9 ms of every start, `picket match` and `picket version`
 * included.  The header's types are used as they are; the functions are
 * reached through this table.
 */
#ifndef PICKET_CLI_CURL_DL_H
#define PICKET_CLI_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1 /* its macros would name the functions */
#include <curl/curl.h>
#include <stddef.h>

struct cli_curl {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_global_cleanup) global_cleanup;
    __typeof__(&curl_version_info) version_info;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_setopt) easy_setopt;
    __typeof__(&curl_easy_perform) easy_perform;
    __typeof__(&curl_easy_getinfo) easy_getinfo;
    __typeof__(&curl_easy_strerror) easy_strerror;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_slist_append) slist_append;
    __typeof__(&curl_slist_free_all) slist_free_all;
    __typeof__(&curl_url) url;
    __typeof__(&curl_url_set) url_set;
    __typeof__(&curl_url_get) url_get;
    __typeof__(&curl_url_cleanup) url_cleanup;
    __typeof__(&curl_free) release; /* curl_free: a string libcurl made */
};

/** libcurl's functions, loaded once (not thread-safe: call it from the main
 * thread before any other use); NULL, with why (n bytes) saying what is
 * missing, when libcurl.so.4 cannot be loaded. */
const struct cli_curl *cli_curl_load(char *why, size_t n);

#endif
