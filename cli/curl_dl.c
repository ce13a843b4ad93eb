/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl opened at run time: see curl_dl.h for why. */
#include "curl_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

const struct cli_curl *cli_curl_load(char *why, size_t n)
{
    static struct cli_curl c;
    static int loaded;
    if (loaded) return &c;
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, n, "cannot load libcurl (Debian package libcurl4): %s", dlerror());
        return NULL;
    }
    static const struct {
        size_t off;
        const char *name;
    } syms[] = {
#define SYM(field, name) {offsetof(struct cli_curl, field), name}
        SYM(global_init, "curl_global_init"),
        SYM(global_cleanup, "curl_global_cleanup"),
        SYM(version_info, "curl_version_info"),
        SYM(easy_init, "curl_easy_init"),
        SYM(easy_setopt, "curl_easy_setopt"),
        SYM(easy_perform, "curl_easy_perform"),
        SYM(easy_getinfo, "curl_easy_getinfo"),
        SYM(easy_strerror, "curl_easy_strerror"),
        SYM(easy_cleanup, "curl_easy_cleanup"),
        SYM(slist_append, "curl_slist_append"),
        SYM(slist_free_all, "curl_slist_free_all"),
        SYM(url, "curl_url"),
        SYM(url_set, "curl_url_set"),
        SYM(url_get, "curl_url_get"),
        SYM(url_cleanup, "curl_url_cleanup"),
        SYM(release, "curl_free"),
#undef SYM
    };
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(why, n, "libcurl.so.4 has no %s (libcurl 7.62 or later is needed)",
                     syms[i].name);
            dlclose(h);
            return NULL;
        }
        memcpy((char *)&c + syms[i].off, &f, sizeof f);
    }
    loaded = 1;
    return &c;
}
