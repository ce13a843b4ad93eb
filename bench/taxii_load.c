/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bench loader for picket serve: POST TOTAL generated indicators in envelopes
 * of PER objects over N concurrent connections (libcurl), and print the
 * objects acknowledged per second, and the POSTs' latency (p50, p99, max:
 * a slow commit, e.g. one that merges the store's id index, shows there).
 * Every id is a fresh random UUID, so each object is a new row.  Built by
 * bench/taxii.sh; not part of the library.
 *
 *   taxii_load URL TOKEN TOTAL PER N
 *   URL: http://127.0.0.1:PORT/api/collections/ID/objects/
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char *url, *token;
static long total, per, nthreads;
static long next_batch, acked, failed_posts;
static double *lat; /* seconds per POST, by batch number */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static size_t on_data(char *d, size_t sz, size_t nm, void *ud)
{
    buf *b = ud;
    size_t n = sz * nm;
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

static void uuid4(char out[37])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != sizeof r) abort();
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

static void *worker(void *arg)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Accept: application/taxii+json;version=2.1");
    h = curl_slist_append(h, "Content-Type: application/taxii+json;version=2.1");
    h = curl_slist_append(h, "Expect:");
    size_t cap = (size_t)per * 700 + 64;
    char *body = malloc(cap);
    buf resp = {0};
    static const char *tlp[] = {"94868c89-83c2-464b-929b-a1a8aa3c8487",
                                "bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                                "55d920b0-5e8b-4f79-9ee9-91f868d9b421"};
    for (;;) {
        pthread_mutex_lock(&mu);
        long b = next_batch++;
        pthread_mutex_unlock(&mu);
        if (b * per >= total) break;
        size_t n = (size_t)snprintf(body, cap, "{\"objects\":[");
        for (long i = 0; i < per; i++) {
            char u[37];
            uuid4(u);
            long k = b * per + i;
            n += (size_t)snprintf(
                body + n, cap - n,
                "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
                "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00."
                "000Z\","
                "\"name\":\"bench %ld\",\"pattern\":\"[ipv4-addr:value = '10.%ld.%ld.%ld']\","
                "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\","
                "\"object_marking_refs\":[\"marking-definition--%s\"]}",
                i ? "," : "", u, k, (k >> 16) & 255, (k >> 8) & 255, k & 255, tlp[k % 3]);
        }
        n += (size_t)snprintf(body + n, cap - n, "]}");
        resp.n = 0;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &lat[b]);
        const char *sc = resp.p ? strstr(resp.p, "\"success_count\":") : NULL;
        pthread_mutex_lock(&mu);
        if (code == 202 && sc)
            acked += strtol(sc + 16, NULL, 10);
        else
            failed_posts++;
        pthread_mutex_unlock(&mu);
    }
    free(body);
    free(resp.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return arg;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: taxii_load URL TOKEN TOTAL PER N\n");
        return 2;
    }
    url = argv[1];
    token = argv[2];
    total = strtol(argv[3], NULL, 10);
    per = strtol(argv[4], NULL, 10);
    nthreads = strtol(argv[5], NULL, 10);
    curl_global_init(CURL_GLOBAL_ALL);
    long batches = per > 0 ? (total + per - 1) / per : 0;
    lat = calloc((size_t)batches + 1, sizeof *lat);
    if (!lat) abort();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t th[64];
    for (long i = 0; i < nthreads && i < 64; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (long i = 0; i < nthreads && i < 64; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("posted %ld objects in %.1f s: %.0f objects/s acknowledged (committed), %ld failed "
           "posts\n",
           acked, s, (double)acked / s, failed_posts);
    if (batches > 0) {
        qsort(lat, (size_t)batches, sizeof *lat, cmp_double);
        printf("POST latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%ld POSTs)\n",
               lat[batches / 2] * 1e3, lat[batches * 99 / 100] * 1e3, lat[batches - 1] * 1e3,
               batches);
    }
    free(lat);
    curl_global_cleanup();
    return failed_posts ? 1 : 0;
}
