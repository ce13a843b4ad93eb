/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the .pki loader.  Any bytes: refused cleanly, or accepted and
 * then safe to match against.  Each input is also tried with its header's
 * checksum made right, as a forger would: random bytes almost never pass
 * the checksum, and only then are the checks behind it (sections, entries,
 * table slots, networks, patterns) reached.  The loader's AVX2 and plain
 * forms, and loading from memory and from a file, must agree on every
 * input. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_match_common.h"
#include "match/match_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char line[] =
    "{\"event_type\":\"dns\",\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"2001:db8::1\",\"dns\":"
    "{\"rrname\":\"a.evil.com\"},\"http\":{\"hostname\":\"evil.com\",\"url\":\"/x\"}}\n";

static void try_load(const uint8_t *data, size_t size)
{
    pk_match_index *ix, *plain = NULL;
    pk_error e1, e2;
    pk_error_clear(&e1);
    pk_error_clear(&e2);
    /* the AVX2 checksum and checks (where the CPU has them) and the plain
     * loops reach the same verdict, for the same reason */
    pki_index_simd(0);
    pk_status rc2 = pk_match_index_from_memory(data, size, &plain, &e2);
    pki_index_simd(1);
    pk_status rc = pk_match_index_from_memory(data, size, &ix, &e1);
    if (rc != rc2 || strcmp(e1.message, e2.message) != 0) abort();
    pk_match_index_free(plain);
    /* and from a file, read as it is validated (as large ones are; here at
     * any size): the same verdict again */
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/picket-fuzz-pki-%ld", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t done = 0;
        while (done < size) {
            ssize_t w = write(fd, data + done, size - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        close(fd);
        if (done == size) {
            pk_match_index *fx = NULL;
            pk_error e3;
            pk_error_clear(&e3);
            pki_index_read_min(0);
            pk_status rc3 = pk_match_index_load(path, &fx, &e3);
            pki_index_read_min((size_t)8 << 20);
            if (rc3 != rc || strcmp(e3.message, e1.message) != 0) abort();
            pk_match_index_free(fx);
        }
        unlink(path);
    }
    if (rc != PK_OK) return;
    pk_match_scanner *s;
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    if (pk_match_scanner_new(ix, &opt, NULL, &s, NULL) != PK_OK) abort();
    pk_match_scanner_feed(s, line, sizeof line - 1, NULL);
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size < sizeof(pki_header)) return 0;
    uint8_t *copy = pk_malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    pki_header h;
    memcpy(&h, copy, sizeof h);
    h.checksum = pki_image_checksum(copy, size);
    memcpy(copy, &h, sizeof h);
    try_load(copy, size);
    pk_free(copy);
    return 0;
}
