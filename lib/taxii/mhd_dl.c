/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd opened at run time: see mhd_dl.h for why. */
#include "taxii/mhd_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "picket/taxii.h"

/* The soname of the ABI the header describes (Debian 12: libmicrohttpd12). */
#define MHD_SONAME "libmicrohttpd.so.12"

struct pki_mhd pki_mhd;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[256]; /* empty once loaded */

static void load(void)
{
    void *h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, sizeof why, "cannot load libmicrohttpd (Debian package libmicrohttpd12): %s",
                 dlerror());
        return;
    }
    static const struct {
        size_t off;
        const char *name;
    } syms[] = {
#define SYM(field) {offsetof(struct pki_mhd, field), "MHD_" #field}
        SYM(start_daemon),
        SYM(stop_daemon),
        SYM(quiesce_daemon),
        SYM(get_daemon_info),
        SYM(get_connection_info),
        SYM(get_connection_values),
        SYM(lookup_connection_value),
        SYM(create_response_from_buffer_with_free_callback),
        SYM(create_response_from_buffer_with_free_callback_cls),
        SYM(add_response_header),
        SYM(queue_response),
        SYM(destroy_response),
        SYM(suspend_connection),
        SYM(resume_connection),
        SYM(is_feature_supported),
        SYM(get_version),
#undef SYM
    };
    struct pki_mhd t;
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(why, sizeof why, "%s has no %s (libmicrohttpd 0.9.73 or later is needed)",
                     MHD_SONAME, syms[i].name);
            dlclose(h);
            return;
        }
        memcpy((char *)&t + syms[i].off, &f, sizeof f);
    }
    pki_mhd = t;
}

pk_status pki_mhd_load(pk_error *err)
{
    pthread_once(&once, load);
    if (pki_mhd.start_daemon) return PK_OK;
    return pk_error_set(err, PK_EIO, "%s", why);
}

const char *pk_taxii_httpd_version(void)
{
    return pki_mhd_load(NULL) == PK_OK ? MHD_get_version() : NULL;
}
