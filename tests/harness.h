/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket's test harness: TEST() registers a case, CHECK*() records failures
 * without stopping the case, SKIP() says by name why a case cannot run here.
 * main() runs every case (or those whose name contains argv[1]) and ends with
 * "N passed, N failed[, N skipped]", exit 1 if anything failed.
 */
#ifndef PK_HARNESS_H
#define PK_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pkt_case {
    const char *name;
    void (*fn)(void);
    struct pkt_case *next;
} pkt_case;

static pkt_case *pkt_head, **pkt_tail = &pkt_head;
static int pkt_failed_now, pkt_skipped_now, pkt_checks;

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    static pkt_case case_##name = {#name, test_##name, NULL};                                      \
    __attribute__((constructor)) static void reg_##name(void)                                      \
    {                                                                                              \
        *pkt_tail = &case_##name;                                                                  \
        pkt_tail = &case_##name.next;                                                              \
    }                                                                                              \
    static void test_##name(void)

#define PKT_FAIL(...)                                                                              \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        pkt_failed_now = 1;                                                                        \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        pkt_checks++;                                                                              \
        if (!(cond)) PKT_FAIL("CHECK(%s) failed", #cond);                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        pkt_checks++;                                                                              \
        if (va_ != vb_) PKT_FAIL("%s == %lld, expected %s == %lld", #a, va_, #b, vb_);             \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        pkt_checks++;                                                                              \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                                 \
            PKT_FAIL("%s is \"%s\", expected \"%s\"", #a, sa_ ? sa_ : "(null)",                    \
                     sb_ ? sb_ : "(null)");                                                        \
    } while (0)

/* Stop the current case when a check it depends on failed. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        CHECK(cond);                                                                               \
        if (pkt_failed_now) return;                                                                \
    } while (0)

#define SKIP(...)                                                                                  \
    do {                                                                                           \
        fprintf(stdout, "SKIP %s: ", pkt_current);                                                 \
        fprintf(stdout, __VA_ARGS__);                                                              \
        fputc('\n', stdout);                                                                       \
        pkt_skipped_now = 1;                                                                       \
        return;                                                                                    \
    } while (0)

static const char *pkt_current = "";

#ifdef PICKET_UTIL_H
/* Run fn(ctx) with the 1st, 2nd, 3rd... allocation failing until a run makes
 * no failing allocation; fn must check its own outcome and clean up.  Returns
 * how many failure points were exercised. */
static inline long pkt_each_alloc_failure(void (*fn)(void *), void *ctx)
{
    long n;
    for (n = 1;; n++) {
        pk_alloc_fail_nth(n);
        fn(ctx);
        int fired = pk_alloc_fail_fired();
        pk_alloc_fail_nth(0);
        if (!fired) break;
    }
    return n - 1;
}
#endif

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (pkt_case *c = pkt_head; c; c = c->next) {
        if (argc > 1 && !strstr(c->name, argv[1])) continue;
        pkt_current = c->name;
        pkt_failed_now = pkt_skipped_now = 0;
        c->fn();
        if (pkt_failed_now) {
            printf("FAIL %s\n", c->name);
            failed++;
        } else if (pkt_skipped_now) {
            skipped++;
        } else {
            printf("ok   %s\n", c->name);
            passed++;
        }
        fflush(stdout);
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif /* PK_HARNESS_H */
