/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 3339 timestamps with fractional seconds, and STIX's stricter profile
 * (UTC with an upper-case 'Z').  Days are counted with the proleptic
 * Gregorian calendar, so any year 0000..9999 converts exactly, without the
 * C library's time zone state.
 */
#include "picket/util.h"

#include <string.h>
#include <time.h>

int64_t pk_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Shift the year to start in March so that the leap day is last. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly `k` digits at s[*i]; -1 if they are not all digits. */
static int digits(const char *s, size_t n, size_t *i, int k)
{
    int v = 0;
    for (int j = 0; j < k; j++, (*i)++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9') return -1;
        v = v * 10 + (s[*i] - '0');
    }
    return v;
}

#define FAIL(pos, ...)                                                                             \
    do {                                                                                           \
        pk_error_set(err, PK_EPARSE, __VA_ARGS__);                                                 \
        if (err) err->column = (long)(pos) + 1;                                                    \
        return PK_EPARSE;                                                                          \
    } while (0)

static pk_status expect(const char *s, size_t n, size_t *i, char c, pk_error *err, const char *what)
{
    if (*i >= n) FAIL(*i, "timestamp ends early: expected '%c' %s", c, what);
    if (s[*i] != c) FAIL(*i, "expected '%c' %s, found '%c'", c, what, s[*i]);
    (*i)++;
    return PK_OK;
}

pk_status pk_time_parse(const char *s, size_t n, int rules, pk_time *out, pk_error *err)
{
    size_t i = 0, at;
    int y, mo, d, h, mi, se;
    pk_status st;

    at = i;
    if ((y = digits(s, n, &i, 4)) < 0)
        FAIL(at, "expected a four-digit year (YYYY-MM-DDTHH:MM:SSZ)");
    if ((st = expect(s, n, &i, '-', err, "after the year"))) return st;
    at = i;
    if ((mo = digits(s, n, &i, 2)) < 0) FAIL(at, "expected a two-digit month");
    if (mo < 1 || mo > 12) FAIL(at, "month %02d is out of range 01..12", mo);
    if ((st = expect(s, n, &i, '-', err, "after the month"))) return st;
    at = i;
    if ((d = digits(s, n, &i, 2)) < 0) FAIL(at, "expected a two-digit day");
    if (d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
        FAIL(at, "day %02d does not exist in %04d-%02d", d, y, mo);
    if (i >= n) FAIL(i, "timestamp ends after the date: a time is required ('T' HH:MM:SS 'Z')");
    if (s[i] != 'T' && !(rules == PK_TIME_RFC3339 && s[i] == 't'))
        FAIL(i, "expected 'T' between date and time, found '%c'", s[i]);
    i++;
    at = i;
    if ((h = digits(s, n, &i, 2)) < 0) FAIL(at, "expected a two-digit hour");
    if (h > 23) FAIL(at, "hour %02d is out of range 00..23", h);
    if ((st = expect(s, n, &i, ':', err, "after the hour"))) return st;
    at = i;
    if ((mi = digits(s, n, &i, 2)) < 0) FAIL(at, "expected two-digit minutes");
    if (mi > 59) FAIL(at, "minute %02d is out of range 00..59", mi);
    if ((st = expect(s, n, &i, ':', err, "after the minutes"))) return st;
    at = i;
    if ((se = digits(s, n, &i, 2)) < 0) FAIL(at, "expected two-digit seconds");
    /* RFC 3339 allows a leap second (60); it then counts into the next minute. */
    if (se > 60) FAIL(at, "second %02d is out of range 00..60", se);

    int32_t nsec = 0;
    int nd = 0;
    if (i < n && s[i] == '.') {
        i++;
        at = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) nsec = nsec * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0) FAIL(at, "expected digits after the decimal point");
        for (int k = nd; k < 9; k++)
            nsec *= 10;
    }

    int64_t offset = 0;
    if (i >= n) FAIL(i, "timestamp ends without a time zone: STIX requires 'Z' (UTC)");
    if (s[i] == 'Z' || (rules == PK_TIME_RFC3339 && s[i] == 'z')) {
        i++;
    } else if (rules == PK_TIME_RFC3339 && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        at = i;
        int oh = digits(s, n, &i, 2);
        if (oh < 0 || oh > 23) FAIL(at, "expected a time zone offset hour 00..23");
        if ((st = expect(s, n, &i, ':', err, "in the time zone offset"))) return st;
        at = i;
        int om = digits(s, n, &i, 2);
        if (om < 0 || om > 59) FAIL(at, "expected time zone offset minutes 00..59");
        offset = sign * (oh * 3600 + om * 60);
    } else if (s[i] == '+' || s[i] == '-' || s[i] == 'z') {
        FAIL(i, "STIX timestamps must be in UTC and end in upper-case 'Z', found '%c'", s[i]);
    } else {
        FAIL(i, "unexpected '%c': expected fractional seconds or 'Z'", s[i]);
    }
    if (i != n) FAIL(i, "unexpected text after the timestamp");

    out->sec =
        pk_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - offset;
    out->nsec = nsec;
    out->digits = (int8_t)(nd > 9 ? 9 : nd);
    return PK_OK;
}

int pk_time_format(const pk_time *t, int dig, char out[PK_TIME_STRLEN])
{
    int64_t days = t->sec / 86400, rem = t->sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (dig < 0) dig = t->digits;
    if (dig > 9) dig = 9;
    char *p = out;
    /* Hand-rolled digits: this is on the alert writer's path. */
    static const char hex[] = "0123456789";
    unsigned uy = (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y);
    *p++ = hex[uy / 1000];
    *p++ = hex[uy / 100 % 10];
    *p++ = hex[uy / 10 % 10];
    *p++ = hex[uy % 10];
    *p++ = '-';
    *p++ = hex[m / 10];
    *p++ = hex[m % 10];
    *p++ = '-';
    *p++ = hex[d / 10];
    *p++ = hex[d % 10];
    *p++ = 'T';
    unsigned hh = (unsigned)(rem / 3600), mm = (unsigned)(rem / 60 % 60), ss = (unsigned)(rem % 60);
    *p++ = hex[hh / 10];
    *p++ = hex[hh % 10];
    *p++ = ':';
    *p++ = hex[mm / 10];
    *p++ = hex[mm % 10];
    *p++ = ':';
    *p++ = hex[ss / 10];
    *p++ = hex[ss % 10];
    if (dig > 0) {
        *p++ = '.';
        uint32_t ns = (uint32_t)t->nsec;
        char frac[9];
        for (int k = 8; k >= 0; k--) {
            frac[k] = hex[ns % 10];
            ns /= 10;
        }
        memcpy(p, frac, (size_t)dig);
        p += dig;
    }
    *p++ = 'Z';
    *p = '\0';
    return (int)(p - out);
}

int pk_time_cmp(const pk_time *a, const pk_time *b)
{
    if (a->sec != b->sec) return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec) return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

pk_time pk_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (pk_time){(int64_t)ts.tv_sec, (int32_t)ts.tv_nsec, 3};
}

int64_t pk_time_to_ms(const pk_time *t)
{
    return t->sec * 1000 + t->nsec / 1000000;
}

pk_time pk_time_from_ms(int64_t ms)
{
    int64_t s = ms / 1000, r = ms % 1000;
    if (r < 0) {
        r += 1000;
        s--;
    }
    return (pk_time){s, (int32_t)(r * 1000000), 3};
}
