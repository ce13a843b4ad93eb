/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Corpus replay without a fuzzing engine: feed every file under the given
 * directories to LLVMFuzzerTestOneInput once, so that `make check` proves the
 * seeds and every crash ever found still pass under the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0) break;
        len += r;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int walk(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) return run_file(dir) == 0 ? (++*count, 0) : -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            rc |= walk(path, count);
        else if (run_file(path) == 0)
            ++*count;
        else
            rc = -1;
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0, rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= walk(argv[i], &count);
    if (count == 0) {
        fprintf(stderr, "replay: no corpus files found\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    /* Reaching here means no input crashed or tripped a sanitizer. */
    printf("%d passed, %d failed\n", count, rc ? 1 : 0);
    return rc ? 1 : 0;
}
